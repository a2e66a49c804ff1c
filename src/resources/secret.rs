//! The stack's secret in AWS Secrets Manager (`crate::desired::secret` says what it holds). Made
//! before the roles, the function and the stream that name it; removed after them.
//!
//! - **Change detection**: `observe` reads the current value (GetSecretValue, only of a secret
//!   of ours) and the plan compares it in memory with the config's; nothing stores the value or
//!   a hash of it, and the plan says only `value: changed`. An unchanged value makes no write.
//! - **Versions**: each write names its version (`ClientRequestToken`, a counter), so the plan
//!   knows the version the forwarder must read before it is written. The counter counts past
//!   every version AWS still holds, unlabelled ones included (ListSecretVersionIds with
//!   `IncludeDeprecated`; DescribeSecret lists labelled versions only): reusing the id of an
//!   unlabelled version with another value is refused (`ResourceExistsException`).
//! - **Teardown** deletes with `ForceDeleteWithoutRecovery`: the value is a copy of what the user
//!   keeps in their environment (setup writes it again from there), nothing of the stack is left
//!   to read it, and a recovery window would hold the name for 7 to 30 days, in which a setup
//!   would have to restore the old secret.
//! - **After a delete**: AWS finishes a forced delete in the background; meanwhile DescribeSecret
//!   still returns the secret with `DeletedDate`, CreateSecret of the name is refused with one of
//!   two messages and RestoreSecret with the second (AWS-FACTS.md "Secrets Manager";
//!   terraform-provider-aws does the same). A secret with `DeletedDate` is therefore gone to the
//!   plan: it is created again, the create retried while the name is released, and never
//!   restored. One deleted by hand with a recovery window holds the name longer than the retry:
//!   the error then says how to restore it or delete it for good.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_secretsmanager::types::Tag;

use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{self, is_not_found};
use crate::aws::wait::{self, Patience};
use crate::aws::Clients;
use crate::desired::secret::{self, DesiredSecret, SecretState, SecretValue};
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind};
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Creates the stack's secret with its value (as version `version`) and tags.
    CreateSecret {
        secret: DesiredSecret,
        version: String,
    },
    /// Writes a new value as version `version` (the current one after the call).
    PutSecretValue {
        secret: DesiredSecret,
        version: String,
    },
    TagSecret {
        name: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    /// Deletes without a recovery window (see `resources::secret`).
    DeleteSecret { name: String },
}

type Plan = crate::plan::Plan<Op>;

/// How long a name stays taken after ForceDeleteWithoutRecovery (AWS deletes asynchronously).
const NAME_RELEASE: Duration = Duration::from_secs(120);

pub struct Secret;

impl Resource for Secret {
    const KIND: Kind = Kind::Secret;
    type Desired = DesiredSecret;
    type Observed = Option<ObservedSecret>;
    type Op = Op;

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
            Op::CreateSecret { secret, version } => {
                if let Some(arn) = create(c, secret, version, cx.progress).await? {
                    cx.made.secret_made(&secret.name, arn);
                }
                Ok(())
            }
            Op::PutSecretValue { secret, version } => put_value(c, secret, version).await,
            Op::TagSecret { name, tags } => tag(c, name, tags).await,
            Op::DeleteSecret { name } => delete(c, name).await,
        }
    }
}

/// The secret as Secrets Manager holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedSecret {
    pub name: String,
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    /// The version labelled `AWSCURRENT`.
    pub current_version: Option<String>,
    /// Every version id AWS holds, labelled or not (of a secret of ours; else the labelled ones).
    pub versions: Vec<String>,
    /// The current value, read only from a secret of ours; `None` when it is not a JSON object
    /// of strings.
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
    if out.deleted_date().is_some() {
        // Deleted (by our teardown, or by hand): gone, whatever AWS still shows of it.
        return Ok(None);
    }
    let stages = out.version_ids_to_stages().cloned().unwrap_or_default();
    let current_version = stages
        .iter()
        .find(|(_, labels)| labels.iter().any(|l| l == "AWSCURRENT"))
        .map(|(id, _)| id.clone());
    let ours = names.is_ours(&tags);
    let mut versions: Vec<String> = if ours {
        all_version_ids(clients, name).await?
    } else {
        stages.into_keys().collect()
    };
    versions.sort();
    let value = if ours {
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
        current_version,
        versions,
        value,
    }))
}

/// Every version id of the secret, unlabelled (deprecated) ones included.
async fn all_version_ids(clients: &Clients, name: &str) -> Result<Vec<String>> {
    let mut pages = clients
        .secrets
        .list_secret_version_ids()
        .secret_id(name)
        .include_deprecated(true)
        .into_paginator()
        .send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing the versions of secret {name}"))?;
        ids.extend(
            page.versions()
                .iter()
                .filter_map(|v| v.version_id().map(str::to_string)),
        );
    }
    Ok(ids)
}

/// The secret as setup leaves it: what the function's environment and the stream name.
pub fn state(desired: &DesiredSecret, observed: Option<&ObservedSecret>) -> SecretState {
    match observed {
        None => secret::state_after_setup(desired, None, None, None, &[]),
        Some(o) => secret::state_after_setup(
            desired,
            Some(&o.arn),
            o.value.as_ref(),
            o.current_version.as_deref(),
            &o.versions,
        ),
    }
}

fn entry_names(value: &SecretValue) -> String {
    value.names().join(", ")
}

/// Missing (or deleted): created. Ours: its value written when it differs, its tags completed.
/// Not ours: a conflict, never read or changed.
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
    if after.writes {
        let wanted = entry_names(&d.value);
        let had = o.value.as_ref().map(entry_names);
        changes.extend(Change::differs_shown(
            "entries",
            had.as_deref(),
            Some(wanted.as_str()),
            |entries| entries.unwrap_or("(unreadable)").to_string(),
        ));
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

/// The secret goes when it carries our tag (one already deleted is not observed).
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
) -> Result<Option<String>> {
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
    if let Err(e) = &created {
        if errors::is_secret_name_being_deleted(e) {
            return Err(anyhow::anyhow!("{}", errors::message(e).unwrap_or_default())).with_context(|| format!(
                "creating secret {name}: after {} s the name is still held by a deleted secret. If it was deleted with a recovery window, restore it (`aws secretsmanager restore-secret --secret-id {name}`) or delete it for good (`aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery`), then run `flowlogs setup` again",
                NAME_RELEASE.as_secs(),
                name = d.name
            ));
        }
    }
    match created {
        Ok(out) => Ok(out.arn().map(str::to_string)),
        // The name is taken: by a retried create of ours (same token, same value: fine), or by
        // a secret that appeared since the plan; write the value as the next version either way.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_exists_exception()) =>
        {
            put_value(clients, d, version).await.map(|()| None)
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
    fn the_next_version_counts_past_an_unlabelled_one() {
        let d = desired("one");
        let mut o = observed(&d);
        // version 2 lost its labels (AWS keeps it, DescribeSecret does not list it)
        o.versions.push("flowlogs-version-0000000000000002".into());
        let p = plan(&names(), &desired("two"), Some(&o));
        assert!(matches!(
            &p.steps[0].ops[..],
            [Op::PutSecretValue { version, .. }] if version == "flowlogs-version-0000000000000003"
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
