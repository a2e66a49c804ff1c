//! The forwarder Lambda function, and the permission that lets S3 invoke it from our bucket.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};
use serde_json::Value;

use crate::aws::Clients;
use crate::config::Architecture;
use crate::desired::{Desired, DesiredFunction, DesiredPermission, Names, TAG_CODE};
use crate::package::CodeSource;
use crate::plan::{Action, Change, Kind, Op, Plan};
use crate::retry;
use crate::ui::Progress;

#[derive(Debug, Clone, PartialEq)]
pub struct ObservedFunction {
    pub arn: String,
    pub role: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: String,
    pub environment: BTreeMap<String, String>,
    pub state: String,
    pub last_update_status: String,
    pub tags: BTreeMap<String, String>,
    /// The function's resource policy.
    pub policy: Option<Value>,
}

pub async fn observe(clients: &Clients, name: &str) -> Result<Option<ObservedFunction>> {
    let out = match clients
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e).with_context(|| format!("reading Lambda function {name}")),
    };
    let c = out
        .configuration()
        .context("lambda:GetFunction returned no configuration")?;
    let policy = match clients.lambda.get_policy().function_name(name).send().await {
        Ok(p) => p.policy().and_then(|p| serde_json::from_str(p).ok()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the resource policy of Lambda function {name}"))
        }
    };
    Ok(Some(ObservedFunction {
        arn: c.function_arn().unwrap_or_default().to_string(),
        role: c.role().unwrap_or_default().to_string(),
        runtime: c
            .runtime()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        handler: c.handler().unwrap_or_default().to_string(),
        memory_mb: c.memory_size().unwrap_or_default(),
        timeout_s: c.timeout().unwrap_or_default(),
        architecture: c
            .architectures()
            .first()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| "x86_64".into()),
        environment: c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        state: c
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        last_update_status: c
            .last_update_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        tags: out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        policy,
    }))
}

/// Configuration fields that differ, with secrets shown as `<redacted>`.
pub fn config_differences(d: &DesiredFunction, o: &ObservedFunction) -> Vec<Change> {
    let mut changes = Vec::new();
    if o.role != d.role_arn {
        changes.push(Change::new("role", &o.role, &d.role_arn));
    }
    if o.runtime != d.runtime {
        changes.push(Change::new("runtime", &o.runtime, &d.runtime));
    }
    if o.handler != d.handler {
        changes.push(Change::new("handler", &o.handler, &d.handler));
    }
    if o.memory_mb != d.memory_mb as i32 {
        changes.push(Change::new("memory_mb", o.memory_mb, d.memory_mb));
    }
    if o.timeout_s != d.timeout_s as i32 {
        changes.push(Change::new("timeout_s", o.timeout_s, d.timeout_s));
    }
    let keys: std::collections::BTreeSet<&String> =
        o.environment.keys().chain(d.environment.keys()).collect();
    for key in keys {
        let wanted = d.environment.get(key);
        let current = o.environment.get(key);
        if wanted.map(|w| &w.value) != current {
            let secret = wanted.is_some_and(|w| w.secret);
            let shown = |v: Option<&String>| match v {
                None => "(unset)".to_string(),
                Some(_) if secret => crate::config::REDACTED.to_string(),
                Some(v) => v.clone(),
            };
            changes.push(Change::new(
                &format!("environment {key}"),
                shown(current),
                shown(wanted.map(|w| &w.value)),
            ));
        }
    }
    changes
}

pub fn plan(desired: &Desired, observed: Option<&ObservedFunction>, plan: &mut Plan) {
    let Some(forwarder) = &desired.forwarder else {
        return;
    };
    let d = &forwarder.function;
    let names = &desired.names;
    let Some(o) = observed else {
        plan.step(
            Kind::Function,
            &d.name,
            Action::Create,
            vec![
                Change::new("code", "", &d.code_hash),
                Change::new("architecture", "", d.architecture.as_aws()),
                Change::new("memory_mb", "", d.memory_mb),
                Change::new("timeout_s", "", d.timeout_s),
            ],
            vec![Op::CreateFunction {
                function: d.clone(),
            }],
        );
        permission_plan(&forwarder.permission, None, plan);
        return;
    };
    if !names.is_ours(&o.tags) {
        plan.conflict(
            Kind::Function,
            &d.name,
            format!(
                "a Lambda function with this name exists and is not tagged {}={}",
                crate::desired::TAG_STACK,
                names.stack
            ),
            "delete or rename that function, or choose another `stack` name",
        );
        return;
    }
    let mut changes = Vec::new();
    let mut ops = Vec::new();
    let code_tag = o
        .tags
        .get(TAG_CODE)
        .map(String::as_str)
        .unwrap_or("unknown");
    if code_tag != d.code_hash || o.architecture != d.architecture.as_aws() {
        changes.push(Change::new("code", code_tag, &d.code_hash));
        ops.push(Op::UpdateFunctionCode {
            function: d.clone(),
        });
    }
    let config_changes = config_differences(d, o);
    if !config_changes.is_empty() {
        changes.extend(config_changes);
        ops.push(Op::UpdateFunctionConfiguration {
            function: d.clone(),
        });
    }
    let mut tags = d.tags.clone();
    tags.insert(TAG_CODE.into(), d.code_hash.clone());
    if tags.iter().any(|(k, v)| o.tags.get(k) != Some(v))
        && !ops
            .iter()
            .any(|op| matches!(op, Op::UpdateFunctionCode { .. }))
    {
        changes.push(Change::new("tags", "incomplete", "flowlogs tags"));
    }
    if tags.iter().any(|(k, v)| o.tags.get(k) != Some(v)) {
        ops.push(Op::TagFunction {
            arn: o.arn.clone(),
            tags,
        });
    }
    if ops.is_empty() {
        plan.in_sync(Kind::Function, &d.name);
    } else {
        plan.step(Kind::Function, &d.name, Action::Update, changes, ops);
    }
    permission_plan(&forwarder.permission, o.policy.as_ref(), plan);
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

fn permission_plan(d: &DesiredPermission, policy: Option<&Value>, plan: &mut Plan) {
    let label = format!("{} on {}", d.statement_id, d.function);
    let add = Op::AddPermission {
        permission: d.clone(),
    };
    match permission_matches(d, policy) {
        Some(true) => plan.in_sync(Kind::Permission, &label),
        Some(false) => plan.step(
            Kind::Permission,
            &label,
            Action::Replace,
            vec![Change::new(
                "statement",
                "differs",
                format!(
                    "s3.amazonaws.com from {} in {}",
                    d.source_arn, d.source_account
                ),
            )],
            vec![
                Op::RemovePermission {
                    function: d.function.clone(),
                    statement_id: d.statement_id.clone(),
                },
                add,
            ],
        ),
        None => plan.step(
            Kind::Permission,
            &label,
            Action::Create,
            vec![Change::new(
                "allow",
                "",
                format!(
                    "s3.amazonaws.com from {} in {}",
                    d.source_arn, d.source_account
                ),
            )],
            vec![add],
        ),
    }
}

pub fn plan_teardown(names: &Names, observed: Option<&ObservedFunction>, plan: &mut Plan) {
    if let Some(f) = observed {
        if names.is_ours(&f.tags) {
            plan.step(
                Kind::Function,
                &names.function,
                Action::Delete,
                vec![Change::new("permission", "", "deleted with the function")],
                vec![Op::DeleteFunction {
                    function: names.function.clone(),
                }],
            );
        }
    }
}

fn architecture(a: Architecture) -> LambdaArchitecture {
    match a {
        Architecture::X86_64 => LambdaArchitecture::X8664,
        Architecture::Arm64 => LambdaArchitecture::Arm64,
    }
}

fn environment(d: &DesiredFunction) -> Environment {
    let vars: HashMap<String, String> = d
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    Environment::builder().set_variables(Some(vars)).build()
}

/// IAM is eventually consistent: a role made a moment ago may not be assumable by Lambda yet.
/// AWS says so only in the message, so this is the one place that reads it.
pub fn is_role_not_ready(message: &str) -> bool {
    message.contains("cannot be assumed by Lambda")
        || message.contains("The role defined for the function")
}

pub async fn create(
    clients: &Clients,
    d: &DesiredFunction,
    code: &CodeSource,
    progress: &Progress,
) -> Result<()> {
    let zip = code.zip(d.architecture, progress).await?;
    let mut tags: HashMap<String, String> = d.tags.clone().into_iter().collect();
    tags.insert(TAG_CODE.into(), d.code_hash.clone());
    let created = retry::while_iam_propagates(
        progress,
        &format!("IAM role {} to be assumable by Lambda", d.role_arn),
        || {
            clients
                .lambda
                .create_function()
                .function_name(&d.name)
                .description("VPC flow logs to OpenTelemetry; made by flowlogs")
                .runtime(Runtime::from(d.runtime.as_str()))
                .handler(&d.handler)
                .role(&d.role_arn)
                .memory_size(d.memory_mb as i32)
                .timeout(d.timeout_s as i32)
                .architectures(architecture(d.architecture))
                .environment(environment(d))
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(zip.clone()))
                        .build(),
                )
                .set_tags(Some(tags.clone()))
                .send()
        },
        |e| {
            e.as_service_error().is_some_and(|s| {
                s.is_invalid_parameter_value_exception()
                    && is_role_not_ready(s.message().unwrap_or_default())
            })
        },
    )
    .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_conflict_exception()) => {}
        Err(e) => return Err(e).with_context(|| format!("creating Lambda function {}", d.name)),
    }
    wait_until_ready(clients, &d.name, progress).await
}

pub async fn update_code(
    clients: &Clients,
    d: &DesiredFunction,
    code: &CodeSource,
    progress: &Progress,
) -> Result<()> {
    let zip = code.zip(d.architecture, progress).await?;
    wait_until_ready(clients, &d.name, progress).await?;
    clients
        .lambda
        .update_function_code()
        .function_name(&d.name)
        .zip_file(Blob::new(zip))
        .architectures(architecture(d.architecture))
        .send()
        .await
        .with_context(|| format!("uploading new code to Lambda function {}", d.name))?;
    wait_until_ready(clients, &d.name, progress).await
}

pub async fn update_configuration(
    clients: &Clients,
    d: &DesiredFunction,
    progress: &Progress,
) -> Result<()> {
    wait_until_ready(clients, &d.name, progress).await?;
    retry::while_iam_propagates(
        progress,
        &format!("IAM role {} to be assumable by Lambda", d.role_arn),
        || {
            clients
                .lambda
                .update_function_configuration()
                .function_name(&d.name)
                .role(&d.role_arn)
                .runtime(Runtime::from(d.runtime.as_str()))
                .handler(&d.handler)
                .memory_size(d.memory_mb as i32)
                .timeout(d.timeout_s as i32)
                .environment(environment(d))
                .send()
        },
        |e| {
            e.as_service_error().is_some_and(|s| {
                s.is_invalid_parameter_value_exception()
                    && is_role_not_ready(s.message().unwrap_or_default())
            })
        },
    )
    .await
    .with_context(|| format!("updating the configuration of Lambda function {}", d.name))?;
    wait_until_ready(clients, &d.name, progress).await
}

pub async fn tag(clients: &Clients, arn: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    clients
        .lambda
        .tag_resource()
        .resource(arn)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .with_context(|| format!("tagging Lambda function {arn}"))?;
    Ok(())
}

/// Waits, with a bound and a visible line, until the function is Active and not mid-update.
pub async fn wait_until_ready(clients: &Clients, name: &str, progress: &Progress) -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let mut shown = false;
    loop {
        let c = clients
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .with_context(|| format!("reading the state of Lambda function {name}"))?;
        let state = c.state().cloned();
        let update = c.last_update_status().cloned();
        if state == Some(State::Failed) {
            anyhow::bail!(
                "Lambda function {name} failed to start: {}",
                c.state_reason().unwrap_or_default()
            );
        }
        if update == Some(LastUpdateStatus::Failed) {
            anyhow::bail!(
                "the last update of Lambda function {name} failed: {}",
                c.last_update_status_reason().unwrap_or_default()
            );
        }
        let busy = state == Some(State::Pending) || update == Some(LastUpdateStatus::InProgress);
        if !busy {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("Lambda function {name} was still not ready after 5 minutes");
        }
        if !shown {
            progress.detail(&format!("waiting for Lambda function {name} to be ready"));
            shown = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

pub async fn delete(clients: &Clients, name: &str) -> Result<()> {
    match clients
        .lambda
        .delete_function()
        .function_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("deleting Lambda function {name}")),
    }
}

/// The principal S3 may be reported invalid just after the function is made; retried like IAM.
pub async fn add_permission(
    clients: &Clients,
    d: &DesiredPermission,
    progress: &Progress,
) -> Result<()> {
    let result = retry::while_iam_propagates(
        progress,
        &format!("Lambda to accept S3 as the caller of {}", d.function),
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
        |e| {
            e.as_service_error().is_some_and(|s| {
                s.is_invalid_parameter_value_exception()
                    && s.message().unwrap_or_default().contains("principal")
            })
        },
    )
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_conflict_exception()) =>
        {
            Ok(())
        }
        Err(e) => {
            Err(e).with_context(|| format!("allowing S3 to invoke Lambda function {}", d.function))
        }
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
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
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
        let text = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x, headers: { k: \"${env:K}\" } } }\n";
        let c =
            crate::config::parse(text, Path::new("t.yaml"), &|_| Some("secret".into())).unwrap();
        desired::build(&c, "123456789012", "us-east-1", "h").unwrap()
    }

    fn observed_from(d: &DesiredFunction) -> ObservedFunction {
        let mut tags = d.tags.clone();
        tags.insert(TAG_CODE.into(), d.code_hash.clone());
        ObservedFunction {
            arn: "arn:aws:lambda:us-east-1:123456789012:function:flowlogs-s-forwarder".into(),
            role: d.role_arn.clone(),
            runtime: d.runtime.clone(),
            handler: d.handler.clone(),
            memory_mb: d.memory_mb as i32,
            timeout_s: d.timeout_s as i32,
            architecture: d.architecture.as_aws().into(),
            environment: d
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect(),
            state: "Active".into(),
            last_update_status: "Successful".into(),
            tags,
            policy: None,
        }
    }

    #[test]
    fn a_changed_secret_is_named_but_not_shown() {
        let d = desired();
        let f = &d.forwarder.as_ref().unwrap().function;
        let mut o = observed_from(f);
        o.environment
            .insert("OTEL_EXPORTER_OTLP_HEADERS".into(), "k=old-secret".into());
        let changes = config_differences(f, &o);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "environment OTEL_EXPORTER_OTLP_HEADERS");
        assert_eq!(
            (changes[0].from.as_str(), changes[0].to.as_str()),
            ("<redacted>", "<redacted>")
        );
    }

    #[test]
    fn new_code_and_memory_are_an_update_with_both_fields() {
        let d = desired();
        let f = &d.forwarder.as_ref().unwrap().function;
        let mut o = observed_from(f);
        o.tags.insert(TAG_CODE.into(), "old-x86_64".into());
        o.memory_mb = 128;
        let mut plan = Plan::default();
        super::plan(&d, Some(&o), &mut plan);
        let step = plan
            .steps
            .iter()
            .find(|s| s.kind == Kind::Function)
            .unwrap();
        assert_eq!(step.action, Action::Update);
        let fields: Vec<&str> = step.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["code", "memory_mb"]);
        assert!(matches!(step.ops[0], Op::UpdateFunctionCode { .. }));
        assert!(matches!(
            step.ops[1],
            Op::UpdateFunctionConfiguration { .. }
        ));
    }

    #[test]
    fn a_function_without_our_tag_is_a_conflict() {
        let d = desired();
        let mut o = observed_from(&d.forwarder.as_ref().unwrap().function);
        o.tags.clear();
        let mut plan = Plan::default();
        super::plan(&d, Some(&o), &mut plan);
        assert!(plan.steps.is_empty());
        assert_eq!(plan.conflicts[0].kind, Kind::Function);
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
    fn role_propagation_is_recognised_by_its_message_only() {
        assert!(is_role_not_ready(
            "The role defined for the function cannot be assumed by Lambda."
        ));
        assert!(!is_role_not_ready("Memory size must be a multiple of 1 MB"));
    }
}
