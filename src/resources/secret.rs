//! The stack's secret in AWS Secrets Manager (`crate::desired::secret` says what it holds). Made
//! before the roles, the function and the stream that name it; removed after them.
//!
//! - **Change detection**: `observe` reads the current value (GetSecretValue, only of a secret
//!   of ours) and the plan compares it in memory with the config's; nothing stores the value or
//!   a hash of it, and the plan says only `value: changed`. An unchanged value makes no write.
//! - **Versions**: each write names its version (`ClientRequestToken`, a counter), so the plan
//!   knows the version the forwarder must read before it is written.
//! - **Teardown** deletes with `ForceDeleteWithoutRecovery`: the value is a copy of what the user
//!   keeps in their environment (setup writes it again from there), nothing of the stack is left
//!   to read it, and a recovery window would hold the name for 7 to 30 days, in which a setup
//!   would have to restore the old secret. A secret of ours found scheduled for deletion (deleted
//!   by hand, or a deletion that has not finished) is restored and its value written again.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_secretsmanager::types::Tag;

use super::{not_mine, Apply, Observe, Resource, Teardown};
use crate::aws::errors::{self, is_not_found};
use crate::aws::wait::{self, Patience};
use crate::aws::Clients;
use crate::desired::secret::{self, DesiredSecret, SecretState, SecretValue};
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind, Op, Plan};
use crate::ui::Progress;

/// How long a name stays taken after ForceDeleteWithoutRecovery (AWS deletes asynchronously).
const NAME_RELEASE: Duration = Duration::from_secs(120);

pub struct Secret;

impl Resource for Secret {
    const KIND: Kind = Kind::Secret;
    type Desired = DesiredSecret;
    type Observed = Option<ObservedSecret>;

    fn desired(stack: &Desired) -> Option<&DesiredSecret> {
        stack.secret.as_ref()
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedSecret>> {
        observe(cx.clients, cx.names).await
    }

    fn plan(names: &Names, desired: &DesiredSecret, observed: &Option<ObservedSecret>) -> Plan {
        plan(names, desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedSecret>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        let c = cx.clients;
        match op {
            Op::CreateSecret { secret, version } => create(c, secret, version, cx.progress).await,
            Op::PutSecretValue { secret, version } => put_value(c, secret, version).await,
            Op::RestoreSecret { name } => restore(c, name).await,
            Op::TagSecret { name, tags } => tag(c, name, tags).await,
            Op::DeleteSecret { name } => delete(c, name).await,
            other => Err(not_mine(Self::KIND, other)),
        }
    }
}

/// The secret as Secrets Manager holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedSecret {
    pub name: String,
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    /// Deleted with a recovery window that has not ended (DescribeSecret `DeletedDate`).
    pub scheduled_for_deletion: bool,
    /// The version labelled `AWSCURRENT`.
    pub current_version: Option<String>,
    /// Every version with a label.
    pub versions: Vec<String>,
    /// The current value, read only from a secret of ours that is not scheduled for deletion;
    /// `None` when it is not a JSON object of strings.
    pub value: Option<SecretValue>,
}

pub async fn observe(clients: &Clients, names: &Names) -> Result<Option<ObservedSecret>> {
    let name = &names.secret;
    let sm = &clients.secrets;
    let out = match sm.describe_secret().secret_id(name).send().await {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading secret {name}")),
    };
    let tags: BTreeMap<String, String> = out
        .tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect();
    let stages = out.version_ids_to_stages().cloned().unwrap_or_default();
    let current_version = stages
        .iter()
        .find(|(_, labels)| labels.iter().any(|l| l == "AWSCURRENT"))
        .map(|(id, _)| id.clone());
    let mut versions: Vec<String> = stages.into_keys().collect();
    versions.sort();
    let scheduled_for_deletion = out.deleted_date().is_some();
    let value = if names.is_ours(&tags) && !scheduled_for_deletion {
        let read = sm
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .with_context(|| format!("reading the value of secret {name} (to compare it with the config's; it is never shown)"))?;
        read.secret_string().and_then(SecretValue::parse)
    } else {
        None
    };
    Ok(Some(ObservedSecret {
        name: name.clone(),
        arn: out.arn().unwrap_or_default().to_string(),
        tags,
        scheduled_for_deletion,
        current_version,
        versions,
        value,
    }))
}

/// The secret as setup leaves it: what the function's environment and the stream name.
pub fn state(desired: &DesiredSecret, observed: Option<&ObservedSecret>) -> SecretState {
    match observed {
        None => secret::state_after_setup(desired, None, None, None, &[], false),
        Some(o) => secret::state_after_setup(
            desired,
            Some(&o.arn),
            o.value.as_ref(),
            o.current_version.as_deref(),
            &o.versions,
            o.scheduled_for_deletion,
        ),
    }
}

fn entry_names(value: &SecretValue) -> String {
    value.names().join(", ")
}

/// Missing: created. Ours: restored when scheduled for deletion, its value written when it
/// differs, its tags completed. Not ours: a conflict, never read or changed.
pub fn plan(names: &Names, d: &DesiredSecret, observed: Option<&ObservedSecret>) -> Plan {
    let mut plan = Plan::default();
    let kind = Kind::Secret;
    let after = state(d, observed);
    let Some(o) = observed else {
        plan.step(
            kind,
            &d.name,
            Action::Create,
            vec![
                Change::new("entries", "", entry_names(&d.value)),
                Change::new("value", "", "set"),
            ],
            vec![Op::CreateSecret {
                secret: d.clone(),
                version: after.version,
            }],
        );
        return plan;
    };
    if !names.is_ours(&o.tags) {
        plan.conflict(
            kind,
            &d.name,
            format!(
                "a secret with this name exists and is not tagged {}={}",
                crate::desired::TAG_STACK,
                names.stack
            ),
            format!(
                "delete or rename that secret (`aws secretsmanager delete-secret --secret-id {} --force-delete-without-recovery`), or choose another `stack` name",
                d.name
            ),
        );
        return plan;
    }
    let mut changes = Vec::new();
    let mut ops = Vec::new();
    if o.scheduled_for_deletion {
        changes.push(Change::new("state", "scheduled for deletion", "restored"));
        ops.push(Op::RestoreSecret {
            name: d.name.clone(),
        });
    }
    if after.writes {
        let wanted = entry_names(&d.value);
        let had = o.value.as_ref().map(entry_names);
        if had.as_deref() != Some(wanted.as_str()) {
            changes.push(Change::new(
                "entries",
                had.unwrap_or_else(|| "(unreadable)".into()),
                wanted,
            ));
        }
        changes.push(Change::new("value", "", "changed"));
        ops.push(Op::PutSecretValue {
            secret: d.clone(),
            version: after.version,
        });
    }
    if d.tags.iter().any(|(k, v)| o.tags.get(k) != Some(v)) {
        changes.push(Change::new("tags", "incomplete", "flowlogs tags"));
        ops.push(Op::TagSecret {
            name: d.name.clone(),
            tags: d.tags.clone(),
        });
    }
    if ops.is_empty() {
        plan.in_sync(kind, &d.name);
    } else {
        plan.step(kind, &d.name, Action::Update, changes, ops);
    }
    plan
}

/// The secret goes when it carries our tag and is not already on its way out.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedSecret>) -> Plan {
    let mut plan = Plan::default();
    if let Some(s) = observed.filter(|s| names.is_ours(&s.tags)) {
        plan.step(
            Kind::Secret,
            &s.name,
            Action::Delete,
            vec![Change::new(
                "recovery window",
                "",
                "none (the value is yours to keep in your environment)",
            )],
            vec![Op::DeleteSecret {
                name: s.name.clone(),
            }],
        );
    }
    plan
}

fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

async fn create(
    clients: &Clients,
    d: &DesiredSecret,
    version: &str,
    progress: &Progress,
) -> Result<()> {
    let created = wait::retry(
        progress,
        Patience {
            what: &format!("the name {} to be released by its deletion", d.name),
            limit: NAME_RELEASE,
        },
        || {
            clients
                .secrets
                .create_secret()
                .name(&d.name)
                .description(&d.description)
                .secret_string(d.value.expose_json())
                .client_request_token(version)
                .set_tags(Some(to_tags(&d.tags)))
                .send()
        },
        errors::is_secret_name_being_deleted,
    )
    .await;
    match created {
        Ok(_) => Ok(()),
        // The name is taken: by a retried create of ours (same token, same value: fine), or by
        // a secret that appeared since the plan; write the value as the next version either way.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_exists_exception()) =>
        {
            put_value(clients, d, version).await
        }
        Err(e) => Err(e).with_context(|| format!("creating secret {}", d.name)),
    }
}

async fn put_value(clients: &Clients, d: &DesiredSecret, version: &str) -> Result<()> {
    clients
        .secrets
        .put_secret_value()
        .secret_id(&d.name)
        .secret_string(d.value.expose_json())
        .client_request_token(version)
        .send()
        .await
        .map(|_| ())
        .with_context(|| format!("writing the value of secret {} (version {version})", d.name))
}

async fn restore(clients: &Clients, name: &str) -> Result<()> {
    clients
        .secrets
        .restore_secret()
        .secret_id(name)
        .send()
        .await
        .map(|_| ())
        .with_context(|| format!("restoring secret {name}, which is scheduled for deletion"))
}

async fn tag(clients: &Clients, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    clients
        .secrets
        .tag_resource()
        .secret_id(name)
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map(|_| ())
        .with_context(|| format!("tagging secret {name}"))
}

async fn delete(clients: &Clients, name: &str) -> Result<()> {
    match clients
        .secrets
        .delete_secret()
        .secret_id(name)
        .force_delete_without_recovery(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting secret {name}")),
    }
}

/// The ARN of the secret named `name`, for a function or stream planned before it existed.
pub async fn arn_of(clients: &Clients, name: &str) -> Result<String> {
    let out = clients
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .with_context(|| format!("looking up the ARN of secret {name}"))?;
    out.arn()
        .map(str::to_string)
        .with_context(|| format!("secretsmanager:DescribeSecret gave no ARN for {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        crate::resources::stream::tests::desired().names
    }

    fn desired(value: &str) -> DesiredSecret {
        secret::secret(
            &names(),
            "test",
            SecretValue::new(BTreeMap::from([("x-key".to_string(), value.to_string())])),
        )
    }

    fn observed(d: &DesiredSecret) -> ObservedSecret {
        ObservedSecret {
            name: d.name.clone(),
            arn: format!(
                "arn:aws:secretsmanager:us-east-1:1:secret:{}-AbCdEf",
                d.name
            ),
            tags: d.tags.clone(),
            scheduled_for_deletion: false,
            current_version: Some("flowlogs-version-0000000000000001".into()),
            versions: vec!["flowlogs-version-0000000000000001".into()],
            value: Some(d.value.clone()),
        }
    }

    fn printed(plan: &Plan) -> String {
        format!("{plan}\n{}", serde_json::to_string(plan).unwrap())
    }

    #[test]
    fn a_missing_secret_is_created_and_the_plan_never_shows_its_value() {
        let d = desired("FLOWLOGS-SECRET-plan");
        let plan = plan(&names(), &d, None);
        assert_eq!(plan.steps[0].action, Action::Create);
        assert!(matches!(
            &plan.steps[0].ops[..],
            [Op::CreateSecret { version, .. }] if version == "flowlogs-version-0000000000000001"
        ));
        let shown = printed(&plan);
        assert!(!shown.contains("FLOWLOGS-SECRET-plan"), "{shown}");
        assert!(shown.contains("x-key"));
    }

    #[test]
    fn an_unchanged_value_is_in_sync_and_a_changed_one_is_written_as_the_next_version() {
        let d = desired("one");
        let same = plan(&names(), &d, Some(&observed(&d)));
        assert!(same.steps.is_empty() && same.conflicts.is_empty());
        let changed = plan(&names(), &desired("two"), Some(&observed(&d)));
        let step = &changed.steps[0];
        assert_eq!(step.action, Action::Update);
        assert!(step
            .changes
            .iter()
            .any(|c| c.field == "value" && c.to == "changed"));
        assert!(matches!(
            &step.ops[..],
            [Op::PutSecretValue { version, .. }] if version == "flowlogs-version-0000000000000002"
        ));
        assert!(!printed(&changed).contains("two\""));
    }

    #[test]
    fn a_secret_of_ours_scheduled_for_deletion_is_restored_and_written() {
        let d = desired("one");
        let mut o = observed(&d);
        o.scheduled_for_deletion = true;
        o.value = None;
        let plan = plan(&names(), &d, Some(&o));
        assert!(matches!(
            &plan.steps[0].ops[..],
            [Op::RestoreSecret { .. }, Op::PutSecretValue { .. }]
        ));
    }

    #[test]
    fn a_foreign_secret_is_a_conflict_never_written_or_deleted() {
        let d = desired("one");
        let mut o = observed(&d);
        o.tags.clear();
        o.value = None;
        let p = plan(&names(), &d, Some(&o));
        assert!(p.steps.is_empty());
        assert_eq!(p.conflicts.len(), 1);
        assert!(plan_teardown(&names(), Some(&o)).steps.is_empty());
        let ours = plan_teardown(&names(), Some(&observed(&d)));
        assert!(matches!(&ours.steps[0].ops[..], [Op::DeleteSecret { .. }]));
    }
}
