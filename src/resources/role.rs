//! IAM roles with one inline policy: the forwarder's role (`ForwarderRole`) and the Firehose
//! stream's role (`FirehoseRole`) are the same resource with different desired values.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::Value;

use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{is_already_there, is_not_found};
use crate::aws::{tags, Clients};
use crate::desired::{Desired, DesiredRole, Names};
use crate::plan::{Action, Change, Kind};
use crate::policy;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateRole {
        role: DesiredRole,
    },
    UpdateTrust {
        role: String,
        trust: Value,
    },
    PutRolePolicy {
        role: String,
        policy_name: String,
        policy: Value,
    },
    TagRole {
        role: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    DeleteRole {
        role: String,
    },
}

type Plan = crate::plan::Plan<Op>;

/// The forwarder's execution role.
pub struct ForwarderRole;
/// The Firehose stream's role.
pub struct FirehoseRole;

macro_rules! role_resource {
    ($resource:ident, $kind:expr, $name:ident, $desired:ident) => {
        impl Resource for $resource {
            const KIND: Kind = $kind;
            type Desired = DesiredRole;
            type Observed = Option<ObservedRole>;
            type Op = Op;

            fn desired(stack: &Desired) -> Option<&DesiredRole> {
                $desired(stack)
            }

            async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedRole>> {
                observe(cx.clients, &cx.names.$name).await
            }

            fn plan(names: &Names, desired: &DesiredRole, observed: &Option<ObservedRole>) -> Plan {
                plan(Self::KIND, names, desired, observed.as_ref())
            }

            fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedRole>) -> Plan {
                plan_teardown(Self::KIND, cx.names, &cx.names.$name, observed.as_ref())
            }

            async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
                apply(cx, op).await
            }
        }
    };
}

fn forwarder_role(stack: &Desired) -> Option<&DesiredRole> {
    stack.forwarder.as_ref().map(|f| &f.role)
}

fn firehose_role(stack: &Desired) -> Option<&DesiredRole> {
    stack.firehose.as_ref().map(|f| &f.role)
}

role_resource!(ForwarderRole, Kind::Role, role, forwarder_role);
role_resource!(
    FirehoseRole,
    Kind::FirehoseRole,
    firehose_role,
    firehose_role
);

async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
    let c = cx.clients;
    match op {
        Op::CreateRole { role } => create(c, role).await,
        Op::UpdateTrust { role, trust } => update_trust(c, role, trust).await,
        Op::PutRolePolicy {
            role,
            policy_name,
            policy,
        } => put_policy(c, role, policy_name, policy).await,
        Op::TagRole { role, tags } => tag(c, role, tags).await,
        Op::DeleteRole { role } => delete(c, role).await,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRole {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    pub trust: Value,
    /// Inline policies by name.
    pub policies: BTreeMap<String, Value>,
}

pub async fn observe(clients: &Clients, name: &str) -> Result<Option<ObservedRole>> {
    let iam = &clients.iam;
    let role = match iam.get_role().role_name(name).send().await {
        Ok(out) => out.role.context("iam:GetRole returned no role")?,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading IAM role {name}")),
    };
    let mut policies = BTreeMap::new();
    let names = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .with_context(|| format!("listing the inline policies of IAM role {name}"))?;
    for policy_name in names.policy_names() {
        let doc = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .send()
            .await
            .with_context(|| format!("reading policy {policy_name} of IAM role {name}"))?;
        policies.insert(
            policy_name.clone(),
            policy::decode_iam_document(doc.policy_document()),
        );
    }
    Ok(Some(ObservedRole {
        arn: role.arn().to_string(),
        tags: tags::from_pairs(role.tags().iter().map(|t| (t.key(), t.value()))),
        trust: role
            .assume_role_policy_document()
            .map(policy::decode_iam_document)
            .unwrap_or(Value::Null),
        policies,
    }))
}

/// Create the role, or restore its trust, inline policy and tags; a same-named role that is not
/// ours is a conflict.
pub fn plan(
    kind: Kind,
    names: &Names,
    desired: &DesiredRole,
    observed: Option<&ObservedRole>,
) -> Plan {
    let mut plan = Plan::default();
    let name = &desired.name;
    let Some(current) = observed else {
        plan.step(
            kind,
            name,
            Action::Create,
            vec![
                Change::new("trust", "", principal_of(&desired.trust)),
                Change::new("inline policy", "", &desired.policy_name),
            ],
            vec![Op::CreateRole {
                role: desired.clone(),
            }],
        );
        return plan;
    };
    if !names.is_ours(&current.tags) {
        plan.conflict(
            kind,
            name,
            format!(
                "an IAM role with this name exists and is not tagged {}={}",
                crate::desired::TAG_STACK,
                names.stack
            ),
            "delete or rename that role, or choose another `stack` name",
        );
        return plan;
    }
    let mut changes = Vec::new();
    let mut ops = Vec::new();
    if !policy::same_document(&current.trust, &desired.trust) {
        changes.push(Change::new("trust policy", "differs", "ours"));
        ops.push(Op::UpdateTrust {
            role: name.clone(),
            trust: desired.trust.clone(),
        });
    }
    match current.policies.get(&desired.policy_name) {
        Some(p) if policy::same_document(p, &desired.policy) => {}
        found => {
            changes.push(Change::new(
                &format!("inline policy {}", desired.policy_name),
                match found {
                    Some(p) => policy::difference(p, &desired.policy),
                    None => "missing".to_string(),
                },
                "ours",
            ));
            ops.push(Op::PutRolePolicy {
                role: name.clone(),
                policy_name: desired.policy_name.clone(),
                policy: desired.policy.clone(),
            });
        }
    }
    if desired
        .tags
        .iter()
        .any(|(k, v)| current.tags.get(k) != Some(v))
    {
        changes.push(Change::new("tags", "incomplete", "flowlogs tags"));
        ops.push(Op::TagRole {
            role: name.clone(),
            tags: desired.tags.clone(),
        });
    }
    if ops.is_empty() {
        plan.in_sync(kind, name);
    } else {
        plan.step(kind, name, Action::Update, changes, ops);
    }
    plan
}

/// The role goes when it carries our tag.
pub fn plan_teardown(
    kind: Kind,
    names: &Names,
    name: &str,
    observed: Option<&ObservedRole>,
) -> Plan {
    let mut plan = Plan::default();
    if let Some(role) = observed {
        if names.is_ours(&role.tags) {
            plan.step(
                kind,
                name,
                Action::Delete,
                Vec::new(),
                vec![Op::DeleteRole {
                    role: name.to_string(),
                }],
            );
        }
    }
    plan
}

fn principal_of(trust: &Value) -> String {
    policy::statements(trust)
        .first()
        .and_then(|s| s["Principal"]["Service"].as_str().map(str::to_string))
        .unwrap_or_default()
}

pub async fn create(clients: &Clients, role: &DesiredRole) -> Result<()> {
    let created = clients
        .iam
        .create_role()
        .role_name(&role.name)
        .assume_role_policy_document(role.trust.to_string())
        .description("Made by flowlogs; removed by `flowlogs teardown`")
        .set_tags(Some(tags::to_iam(&role.tags)?))
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if is_already_there(&e) => {}
        Err(e) => return Err(e).with_context(|| format!("creating IAM role {}", role.name)),
    }
    put_policy(clients, &role.name, &role.policy_name, &role.policy).await
}

pub async fn update_trust(clients: &Clients, role: &str, trust: &Value) -> Result<()> {
    clients
        .iam
        .update_assume_role_policy()
        .role_name(role)
        .policy_document(trust.to_string())
        .send()
        .await
        .with_context(|| format!("updating the trust policy of IAM role {role}"))?;
    Ok(())
}

pub async fn put_policy(
    clients: &Clients,
    role: &str,
    policy_name: &str,
    policy: &Value,
) -> Result<()> {
    clients
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(policy_name)
        .policy_document(policy.to_string())
        .send()
        .await
        .with_context(|| format!("writing inline policy {policy_name} of IAM role {role}"))?;
    Ok(())
}

pub async fn tag(clients: &Clients, role: &str, wanted: &BTreeMap<String, String>) -> Result<()> {
    clients
        .iam
        .tag_role()
        .role_name(role)
        .set_tags(Some(tags::to_iam(wanted)?))
        .send()
        .await
        .with_context(|| format!("tagging IAM role {role}"))?;
    Ok(())
}

/// Deletes the inline policies, detaches managed ones, then the role. A role already gone is fine.
pub async fn delete(clients: &Clients, role: &str) -> Result<()> {
    let iam = &clients.iam;
    let policies = match iam.list_role_policies().role_name(role).send().await {
        Ok(out) => out.policy_names().to_vec(),
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("listing the inline policies of IAM role {role}"))
        }
    };
    for name in policies {
        iam.delete_role_policy()
            .role_name(role)
            .policy_name(&name)
            .send()
            .await
            .with_context(|| format!("deleting inline policy {name} of IAM role {role}"))?;
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .with_context(|| format!("listing the managed policies attached to IAM role {role}"))?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            iam.detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .with_context(|| format!("detaching {arn} from IAM role {role}"))?;
        }
    }
    match iam.delete_role().role_name(role).send().await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting IAM role {role}")),
    }
}
