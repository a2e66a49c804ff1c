//! The forwarder Lambda function: code (uploaded only when it differs, by Lambda's own
//! `CodeSha256`), configuration, tags. The permission that lets S3 invoke it is `permission`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};

use serde::Serialize;

use super::{Apply, Made, Observe, Resource, Teardown};
use crate::aws::errors::{self, is_already_there, is_not_found};
use crate::aws::states;
use crate::aws::wait::{self, Patience};
use crate::aws::{tags, Clients};
use crate::config::Architecture;
use crate::desired::{
    secret, Desired, DesiredFunction, EnvVar, Names, WantedCode, TAG_CODE, TAG_CODE_SHA256,
};
use crate::package::{code_sha256, CodeSource};
use crate::plan::{Action, Change, Kind};
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateFunction {
        function: DesiredFunction,
    },
    UpdateFunctionCode {
        function: DesiredFunction,
    },
    UpdateFunctionConfiguration {
        function: DesiredFunction,
    },
    TagFunction {
        arn: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    DeleteFunction {
        function: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct Function;

impl Resource for Function {
    const KIND: Kind = Kind::Function;
    type Desired = DesiredFunction;
    type Observed = Option<ObservedFunction>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredFunction> {
        stack.forwarder.as_ref().map(|f| &f.function)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedFunction>> {
        observe(cx.clients, &cx.names.function).await
    }

    fn plan(names: &Names, desired: &DesiredFunction, observed: &Option<ObservedFunction>) -> Plan {
        plan(names, desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedFunction>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        let (c, p) = (cx.clients, cx.progress);
        match op {
            Op::CreateFunction { function } => create(c, &cx.made, function, cx.code, p).await,
            Op::UpdateFunctionCode { function } => update_code(c, function, cx.code, p).await,
            Op::UpdateFunctionConfiguration { function } => {
                update_configuration(c, &cx.made, function, p).await
            }
            Op::TagFunction { arn, tags } => tag(c, arn, tags).await,
            Op::DeleteFunction { function } => delete(c, function).await,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObservedFunction {
    pub arn: String,
    pub role: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: String,
    /// Lambda's identity of the code it runs: base64 SHA-256 of the zip.
    pub code_sha256: String,
    pub environment: BTreeMap<String, String>,
    pub state: Option<State>,
    pub last_update_status: Option<LastUpdateStatus>,
    pub tags: BTreeMap<String, String>,
}

/// The function as `lambda:GetFunction` answers (configuration, code location, tags); `None` when
/// there is none of that name.
pub async fn get(clients: &Clients, name: &str) -> Result<Option<GetFunctionOutput>> {
    match clients
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(Some(out)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading Lambda function {name}")),
    }
}

pub async fn observe(clients: &Clients, name: &str) -> Result<Option<ObservedFunction>> {
    let Some(out) = get(clients, name).await? else {
        return Ok(None);
    };
    let c = out
        .configuration()
        .context("lambda:GetFunction returned no configuration")?;
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
        code_sha256: c.code_sha256().unwrap_or_default().to_string(),
        environment: c
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        state: c.state().cloned(),
        last_update_status: c.last_update_status().cloned(),
        tags: out.tags().map(tags::from_pairs).unwrap_or_default(),
    }))
}

/// Configuration fields that differ, with secrets shown as `<redacted>`.
pub fn config_differences(d: &DesiredFunction, o: &ObservedFunction) -> Vec<Change> {
    let mut changes: Vec<Change> = [
        Change::differs("role", &o.role, &d.role_arn),
        Change::differs("runtime", &o.runtime, &d.runtime),
        Change::differs("handler", &o.handler, &d.handler),
        Change::differs("memory_mb", o.memory_mb, d.memory_mb as i32),
        Change::differs("timeout_s", o.timeout_s, d.timeout_s as i32),
    ]
    .into_iter()
    .flatten()
    .collect();
    let environment = wanted_environment(d);
    let keys: std::collections::BTreeSet<&String> =
        o.environment.keys().chain(environment.keys()).collect();
    for key in keys {
        let wanted = environment.get(key);
        // A variable we no longer set, or the headers as an older flowlogs wrote them (with
        // secret values), may hold a secret: never shown.
        let secret = wanted.is_none_or(|w| w.secret) || key == "OTEL_EXPORTER_OTLP_HEADERS";
        changes.extend(Change::differs_shown(
            &format!("environment {key}"),
            o.environment.get(key),
            wanted.map(|w| &w.value),
            |v| crate::config::shown_value(*v, secret),
        ));
    }
    changes
}

/// Create the function, or bring its code, configuration and tags back to the config; a
/// same-named function that is not ours is a conflict.
pub fn plan(names: &Names, d: &DesiredFunction, observed: Option<&ObservedFunction>) -> Plan {
    let mut plan = Plan::default();
    let Some(o) = observed else {
        plan.step(
            Kind::Function,
            &d.name,
            Action::Create,
            vec![
                Change::new("code", "", d.code.describe()),
                Change::new("architecture", "", d.architecture.as_aws()),
                Change::new("memory_mb", "", d.memory_mb),
                Change::new("timeout_s", "", d.timeout_s),
            ],
            vec![Op::CreateFunction {
                function: d.clone(),
            }],
        );
        return plan;
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
        return plan;
    }
    let mut changes = Vec::new();
    let mut ops = Vec::new();
    if let Some(change) = code_difference(d, o) {
        changes.push(change);
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
    let tags = wanted_tags(d);
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
    plan
}

/// The code change, when the function does not run the code wanted: compared by Lambda's
/// `CodeSha256` with a known zip; by the sources' hash (and the code still being what setup
/// uploaded) when built from source; with no forwarder at hand, only with what setup uploaded.
pub fn code_difference(d: &DesiredFunction, o: &ObservedFunction) -> Option<Change> {
    let uploaded = o.tags.get(TAG_CODE_SHA256);
    let changed_since_upload = uploaded.is_some_and(|sha| *sha != o.code_sha256);
    let arch_changed = o.architecture != d.architecture.as_aws();
    let differs = arch_changed
        || match &d.code {
            WantedCode::Zip { sha256 } => o.code_sha256 != *sha256,
            WantedCode::Source { source_hash } => {
                o.tags.get(TAG_CODE) != Some(source_hash) || changed_since_upload
            }
            WantedCode::Deployed => changed_since_upload,
        };
    if !differs {
        return None;
    }
    let to = match (&d.code, uploaded) {
        (WantedCode::Deployed, Some(sha)) if !arch_changed => {
            format!("{sha} (what setup uploaded last)")
        }
        (code, _) => code.describe(),
    };
    let from = if arch_changed {
        format!("{} for {}", o.code_sha256, o.architecture)
    } else {
        o.code_sha256.clone()
    };
    Some(Change::new("code", from, to))
}

/// The tags the function should carry: the stack's, and the identity of wanted code known before
/// the upload (the `CodeSha256` of what is uploaded is tagged by the upload itself).
pub fn wanted_tags(d: &DesiredFunction) -> BTreeMap<String, String> {
    let mut tags = d.tags.clone();
    match &d.code {
        WantedCode::Zip { sha256 } => {
            tags.insert(TAG_CODE_SHA256.into(), sha256.clone());
        }
        WantedCode::Source { source_hash } => {
            tags.insert(TAG_CODE.into(), source_hash.clone());
        }
        WantedCode::Deployed => {}
    }
    tags
}

/// The function goes when it carries our tag; its resource policy (our permission) goes with it.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedFunction>) -> Plan {
    let mut plan = Plan::default();
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
    plan
}

fn architecture(a: Architecture) -> LambdaArchitecture {
    match a {
        Architecture::X86_64 => LambdaArchitecture::X8664,
        Architecture::Arm64 => LambdaArchitecture::Arm64,
    }
}

/// The environment the function should have: the config's variables, and the secret it reads
/// its header values from with the version setup leaves current. A secret that this setup makes
/// has no ARN yet: `NEW_SECRET_ARN` stands in for it until apply looks it up.
pub fn wanted_environment(d: &DesiredFunction) -> BTreeMap<String, EnvVar> {
    let mut env = d.environment.clone();
    if let Some(r) = &d.secret {
        let plain = |v: &str| EnvVar {
            value: v.to_string(),
            secret: false,
        };
        env.insert(
            secret::ENV_SECRET_ARN.into(),
            plain(r.arn.as_deref().unwrap_or(NEW_SECRET_ARN)),
        );
        if let Some(version) = &r.version {
            env.insert(secret::ENV_SECRET_VERSION.into(), plain(version));
        }
    }
    env
}

/// Shown in a plan for the ARN of a secret this setup makes.
pub const NEW_SECRET_ARN: &str = "(ARN of the secret made by this setup)";

/// The environment as Lambda takes it. The secret's ARN, when the plan did not know it: from the
/// step that made the secret in this run, else (a secret made by someone since the plan) asked.
async fn environment(clients: &Clients, made: &Made, d: &DesiredFunction) -> Result<Environment> {
    let mut vars: HashMap<String, String> = wanted_environment(d)
        .into_iter()
        .map(|(k, v)| (k, v.value))
        .collect();
    if let Some(r) = d.secret.as_ref().filter(|r| r.arn.is_none()) {
        let arn = match made.secret_arn(&r.name) {
            Some(arn) => arn,
            None => super::secret::arn_of(clients, &r.name).await?,
        };
        vars.insert(secret::ENV_SECRET_ARN.into(), arn);
    }
    Ok(Environment::builder().set_variables(Some(vars)).build())
}

pub async fn create(
    clients: &Clients,
    made: &Made,
    d: &DesiredFunction,
    code: &CodeSource,
    progress: &Progress,
) -> Result<()> {
    let zip = code.zip(d.architecture, progress).await?;
    let env = environment(clients, made, d).await?;
    let mut wanted = wanted_tags(d);
    wanted.insert(TAG_CODE_SHA256.into(), code_sha256(&zip));
    let wanted = tags::to_map(&wanted);
    let created = wait::retry(
        progress,
        Patience::iam(&format!(
            "IAM role {} to be assumable by Lambda",
            d.role_arn
        )),
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
                .environment(env.clone())
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(zip.clone()))
                        .build(),
                )
                .set_tags(Some(wanted.clone()))
                .send()
        },
        errors::is_role_not_yet_assumable_by_lambda,
    )
    .await;
    match created {
        Ok(_) => {}
        Err(e) if is_already_there(&e) => {}
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
    let mut uploaded = wanted_tags(d);
    uploaded.insert(TAG_CODE_SHA256.into(), code_sha256(&zip));
    wait_until_ready(clients, &d.name, progress).await?;
    let out = clients
        .lambda
        .update_function_code()
        .function_name(&d.name)
        .zip_file(Blob::new(zip))
        .architectures(architecture(d.architecture))
        .send()
        .await
        .with_context(|| format!("uploading new code to Lambda function {}", d.name))?;
    // The CodeSha256 of what was uploaded: what status compares with when it has no forwarder.
    let arn = out
        .function_arn()
        .context("lambda:UpdateFunctionCode returned no FunctionArn")?;
    tag(clients, arn, &uploaded).await?;
    wait_until_ready(clients, &d.name, progress).await
}

pub async fn update_configuration(
    clients: &Clients,
    made: &Made,
    d: &DesiredFunction,
    progress: &Progress,
) -> Result<()> {
    wait_until_ready(clients, &d.name, progress).await?;
    let env = environment(clients, made, d).await?;
    wait::retry(
        progress,
        Patience::iam(&format!(
            "IAM role {} to be assumable by Lambda",
            d.role_arn
        )),
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
                .environment(env.clone())
                .send()
        },
        errors::is_role_not_yet_assumable_by_lambda,
    )
    .await
    .with_context(|| format!("updating the configuration of Lambda function {}", d.name))?;
    wait_until_ready(clients, &d.name, progress).await
}

pub async fn tag(clients: &Clients, arn: &str, wanted: &BTreeMap<String, String>) -> Result<()> {
    clients
        .lambda
        .tag_resource()
        .resource(arn)
        .set_tags(Some(tags::to_map(wanted)))
        .send()
        .await
        .with_context(|| format!("tagging Lambda function {arn}"))?;
    Ok(())
}

/// Waits, with a bound and a visible line, until the function is Active and not mid-update.
pub async fn wait_until_ready(clients: &Clients, name: &str, progress: &Progress) -> Result<()> {
    let what = format!("Lambda function {name} to be ready");
    let patience = Patience {
        what: &what,
        limit: wait::FUNCTION_READY,
    };
    wait::until(progress, patience, Duration::from_secs(2), || async {
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
        Ok(if states::function_busy(state.as_ref(), update.as_ref()) {
            let state = state.as_ref().map_or("unknown", |s| s.as_str());
            let update = update.as_ref().map_or("none", |u| u.as_str());
            wait::Look::Pending(format!("{state}, last update {update}"))
        } else {
            wait::Look::Ready(())
        })
    })
    .await
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
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting Lambda function {name}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::desired;

    fn desired() -> Desired {
        let text = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x, headers: { k: \"${env:K}\" } } }\n";
        let c =
            crate::config::parse(text, Path::new("t.yaml"), &|_| Some("secret".into())).unwrap();
        let d = desired::build(&c, "123456789012", "us-east-1", "h").unwrap();
        let state = secret::SecretState {
            arn: Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf".into()),
            version: "flowlogs-version-0000000000000002".into(),
            writes: false,
        };
        secret::with_state(&d, Some(&state))
    }

    fn observed_from(d: &DesiredFunction) -> ObservedFunction {
        let mut tags = wanted_tags(d);
        let code_sha256 = match &d.code {
            WantedCode::Zip { sha256 } => sha256.clone(),
            _ => "deployed-sha".into(),
        };
        tags.insert(TAG_CODE_SHA256.into(), code_sha256.clone());
        ObservedFunction {
            code_sha256,
            arn: "arn:aws:lambda:us-east-1:123456789012:function:flowlogs-s-forwarder".into(),
            role: d.role_arn.clone(),
            runtime: d.runtime.clone(),
            handler: d.handler.clone(),
            memory_mb: d.memory_mb as i32,
            timeout_s: d.timeout_s as i32,
            architecture: d.architecture.as_aws().into(),
            environment: wanted_environment(d)
                .into_iter()
                .map(|(k, v)| (k, v.value))
                .collect(),
            state: Some(State::Active),
            last_update_status: Some(LastUpdateStatus::Successful),
            tags,
        }
    }

    #[test]
    fn a_secret_header_left_in_the_environment_is_removed_without_being_shown() {
        let d = desired();
        let f = &d.forwarder.as_ref().unwrap().function;
        let mut o = observed_from(f);
        // as an older flowlogs wrote it
        o.environment
            .insert("OTEL_EXPORTER_OTLP_HEADERS".into(), "k=old-secret".into());
        let changes = config_differences(f, &o);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "environment OTEL_EXPORTER_OTLP_HEADERS");
        assert_eq!(
            (changes[0].from.as_str(), changes[0].to.as_str()),
            ("<redacted>", "(unset)")
        );
        assert!(!wanted_environment(f)
            .values()
            .any(|v| v.value.contains("secret") && !v.value.starts_with("arn:")));
    }

    #[test]
    fn a_new_secret_version_changes_only_the_version_variable() {
        let d = desired();
        let f = &d.forwarder.as_ref().unwrap().function;
        let mut o = observed_from(f);
        o.environment.insert(
            secret::ENV_SECRET_VERSION.into(),
            "flowlogs-version-0000000000000001".into(),
        );
        let changes = config_differences(f, &o);
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (
                changes[0].field.as_str(),
                changes[0].from.as_str(),
                changes[0].to.as_str()
            ),
            (
                "environment FLOWLOGS_HEADERS_SECRET_VERSION",
                "flowlogs-version-0000000000000001",
                "flowlogs-version-0000000000000002"
            )
        );
    }

    #[test]
    fn new_code_and_memory_are_an_update_with_both_fields() {
        let d = desired();
        let f = &d.forwarder.as_ref().unwrap().function;
        let mut o = observed_from(f);
        o.code_sha256 = "old".into();
        o.memory_mb = 128;
        let plan = super::plan(&d.names, f, Some(&o));
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
        let f = &d.forwarder.as_ref().unwrap().function;
        let mut o = observed_from(f);
        o.tags.clear();
        let plan = super::plan(&d.names, f, Some(&o));
        assert!(plan.steps.is_empty());
        assert_eq!(plan.conflicts[0].kind, Kind::Function);
    }
}
