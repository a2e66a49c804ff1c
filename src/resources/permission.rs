//! The forwarder's permission: the statement in the function's resource policy that lets S3 invoke
//! it from our bucket and account. It lives and dies with the function. The functions below serve
//! the EventBridge trigger's permission too (`crate::resources::event_permission`): the caller is
//! the statement's principal.

use anyhow::{Context, Result};
use serde_json::Value;

use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{self, is_not_found};
use crate::aws::wait::{self, Patience};
use crate::aws::Clients;
use crate::desired::{Desired, DesiredPermission, Names};
use crate::plan::{Action, Change, Kind};
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    AddPermission {
        permission: DesiredPermission,
    },
    RemovePermission {
        function: String,
        statement_id: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct Permission;

impl Resource for Permission {
    const KIND: Kind = Kind::Permission;
    type Desired = DesiredPermission;
    /// The function's resource policy; `None` without one (or without the function).
    type Observed = Option<Value>;
    type Op = Op;

    /// Only with the S3 notification trigger (`delivery.lambda.trigger: s3-notification`).
    fn desired(stack: &Desired) -> Option<&DesiredPermission> {
        stack
            .forwarder
            .as_ref()
            .filter(|f| f.trigger == crate::config::Trigger::S3Notification)
            .map(|f| &f.permission)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<Value>> {
        observe(cx.clients, &cx.names.function).await
    }

    fn plan(_names: &Names, desired: &DesiredPermission, observed: &Option<Value>) -> Plan {
        plan(desired, observed.as_ref())
    }

    /// Nothing of its own: deleting the function deletes its resource policy.
    fn plan_teardown(_cx: Teardown<'_>, _observed: &Option<Value>) -> Plan {
        Plan::default()
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::AddPermission { permission } => {
                add_permission(cx.clients, permission, cx.progress).await
            }
            Op::RemovePermission {
                function,
                statement_id,
            } => remove_permission(cx.clients, function, statement_id).await,
        }
    }
}

/// The function's resource policy, as a document.
pub async fn observe(clients: &Clients, function: &str) -> Result<Option<Value>> {
    match clients
        .lambda
        .get_policy()
        .function_name(function)
        .send()
        .await
    {
        Ok(p) => Ok(p.policy().and_then(|p| serde_json::from_str(p).ok())),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e)
            .with_context(|| format!("reading the resource policy of Lambda function {function}")),
    }
}

/// The statement with our id in the function's resource policy, if it says what ours says.
pub fn permission_matches(d: &DesiredPermission, policy: Option<&Value>) -> Option<bool> {
    let statement = policy
        .map(crate::policy::statements)
        .unwrap_or_default()
        .into_iter()
        .find(|s| s["Sid"] == d.statement_id.as_str())?;
    let text = statement.to_string();
    let principal_ok = statement["Principal"]["Service"] == d.principal.as_str()
        || statement["Principal"] == d.principal.as_str();
    Some(
        principal_ok
            && text.contains(&format!("\"{}\"", d.source_arn))
            && text.contains(&format!("\"{}\"", d.source_account))
            && text.contains("lambda:InvokeFunction"),
    )
}

/// The service a principal names, as messages say it.
pub fn caller(principal: &str) -> &str {
    match principal {
        "s3.amazonaws.com" => "S3",
        "events.amazonaws.com" => "EventBridge",
        other => other,
    }
}

/// Our statement added; one that says something else is replaced (same statement id: the old one
/// has to go first).
pub fn plan(d: &DesiredPermission, policy: Option<&Value>) -> Plan {
    plan_as(Kind::Permission, d, policy)
}

/// The statement with our id taken out of the function's policy when the config no longer
/// wants it (the function stays).
pub fn plan_removal(
    kind: Kind,
    function: &str,
    statement_id: &str,
    policy: Option<&Value>,
) -> Plan {
    let mut plan = Plan::default();
    let ours = policy
        .map(crate::policy::statements)
        .unwrap_or_default()
        .into_iter()
        .any(|s| s["Sid"] == statement_id);
    if ours {
        plan.step(
            kind,
            &format!("{statement_id} on {function}"),
            Action::Delete,
            Vec::new(),
            vec![Op::RemovePermission {
                function: function.to_string(),
                statement_id: statement_id.to_string(),
            }],
        );
    }
    plan
}

/// [`plan`] for a statement shown as `kind`.
pub fn plan_as(kind: Kind, d: &DesiredPermission, policy: Option<&Value>) -> Plan {
    let mut plan = Plan::default();
    let label = format!("{} on {}", d.statement_id, d.function);
    let add = Op::AddPermission {
        permission: d.clone(),
    };
    match permission_matches(d, policy) {
        Some(true) => plan.in_sync(kind, &label),
        Some(false) => plan.replace(
            kind,
            &label,
            vec![Change::new(
                "statement",
                "differs",
                format!(
                    "{} from {} in {}",
                    d.principal, d.source_arn, d.source_account
                ),
            )],
            vec![Op::RemovePermission {
                function: d.function.clone(),
                statement_id: d.statement_id.clone(),
            }],
            vec![add],
        ),
        None => plan.step(
            kind,
            &label,
            Action::Create,
            vec![Change::new(
                "allow",
                "",
                format!(
                    "{} from {} in {}",
                    d.principal, d.source_arn, d.source_account
                ),
            )],
            vec![add],
        ),
    }
    plan
}

/// Retried while Lambda is not ready for it: the principal reported invalid just after the function
/// was made (IAM propagation), or an update of the function still in progress. A statement id
/// that is taken is fine when the statement there is ours, unchanged (a re-run, or a concurrent
/// setup); anything else under our id is named.
pub async fn add_permission(
    clients: &Clients,
    d: &DesiredPermission,
    progress: &Progress,
) -> Result<()> {
    let result = wait::retry(
        progress,
        Patience::iam(&format!(
            "Lambda to accept {} as the caller of {} (IAM propagation, or an update of the function in progress)",
            caller(&d.principal),
            d.function
        )),
        || {
            clients
                .lambda
                .add_permission()
                .function_name(&d.function)
                .statement_id(&d.statement_id)
                .action("lambda:InvokeFunction")
                .principal(&d.principal)
                .source_arn(&d.source_arn)
                .source_account(&d.source_account)
                .send()
        },
        |e| errors::is_principal_not_yet_valid(e) || errors::is_update_in_progress(e),
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if errors::is_statement_id_taken(&e) => {
            let policy = observe(clients, &d.function).await?;
            taken_statement_outcome(d, policy.as_ref())
        }
        Err(e) => Err(e).with_context(|| {
            format!(
                "allowing {} to invoke Lambda function {}",
                caller(&d.principal),
                d.function
            )
        }),
    }
}

/// AddPermission answered that our statement id exists: fine when it says what ours says.
pub fn taken_statement_outcome(d: &DesiredPermission, policy: Option<&Value>) -> Result<()> {
    match permission_matches(d, policy) {
        Some(true) => Ok(()),
        _ => anyhow::bail!(
            "allowing {} to invoke Lambda function {}: statement {} exists already and does not \
             allow {} from {} in {}; remove it (`aws lambda remove-permission \
             --function-name {} --statement-id {}`) and run setup again",
            caller(&d.principal),
            d.function,
            d.statement_id,
            d.principal,
            d.source_arn,
            d.source_account,
            d.function,
            d.statement_id
        ),
    }
}

pub async fn remove_permission(
    clients: &Clients,
    function: &str,
    statement_id: &str,
) -> Result<()> {
    match clients
        .lambda
        .remove_permission()
        .function_name(function)
        .statement_id(statement_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| {
            format!("removing permission {statement_id} from Lambda function {function}")
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::desired;

    fn desired() -> Desired {
        let text = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x } }\n";
        let c = crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
        desired::build(&c, "123456789012", "us-east-1", "h").unwrap()
    }

    #[test]
    fn permission_must_name_s3_the_bucket_and_the_account() {
        let d = desired();
        let p = &d.forwarder.as_ref().unwrap().permission;
        let statement = json!({"Sid": p.statement_id, "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": "arn:f",
            "Condition": {"StringEquals": {"AWS:SourceAccount": p.source_account}, "ArnLike": {"AWS:SourceArn": p.source_arn}}});
        assert_eq!(
            permission_matches(p, Some(&json!({"Statement": [statement.clone()]}))),
            Some(true)
        );
        let mut other_bucket = statement.clone();
        other_bucket["Condition"]["ArnLike"]["AWS:SourceArn"] = json!("arn:aws:s3:::elsewhere");
        assert_eq!(
            permission_matches(p, Some(&json!({"Statement": [other_bucket]}))),
            Some(false)
        );
        assert_eq!(permission_matches(p, None), None);
    }

    #[test]
    fn a_taken_statement_id_is_fine_only_when_the_statement_is_ours_unchanged() {
        let d = desired();
        let p = &d.forwarder.as_ref().unwrap().permission;
        let ours = json!({"Statement": [{"Sid": p.statement_id, "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": "arn:f",
            "Condition": {"StringEquals": {"AWS:SourceAccount": p.source_account}, "ArnLike": {"AWS:SourceArn": p.source_arn}}}]});
        assert!(taken_statement_outcome(p, Some(&ours)).is_ok());
        let mut other = ours.clone();
        other["Statement"][0]["Condition"]["ArnLike"]["AWS:SourceArn"] =
            json!("arn:aws:s3:::elsewhere");
        let err = taken_statement_outcome(p, Some(&other))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&p.statement_id) && err.contains("remove-permission"),
            "{err}"
        );
        assert!(taken_statement_outcome(p, None).is_err());
    }

    #[test]
    fn a_differing_statement_is_replaced_removing_the_old_one_first() {
        let d = desired();
        let p = &d.forwarder.as_ref().unwrap().permission;
        let other = json!({"Statement": [{"Sid": p.statement_id, "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::elsewhere"}}}]});
        let plan = plan(p, Some(&other));
        let step = &plan.steps[0];
        assert_eq!(step.action, Action::Replace);
        assert!(matches!(step.retire[..], [Op::RemovePermission { .. }]));
        assert!(matches!(step.ops[..], [Op::AddPermission { .. }]));
    }
}
