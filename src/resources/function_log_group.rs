//! The forwarder's log group, `/aws/lambda/<function>`: where Lambda writes the function's output,
//! and where verify reads the forwarder's report about the canary. flowlogs makes it (tagged, with
//! the bucket's retention rounded up to a period CloudWatch Logs accepts) before the function, so
//! the function's role needs no `logs:CreateLogGroup`; teardown removes it after the function. A
//! group of that name without our tag (Lambda makes one itself when a role may create it) is a
//! conflict: reported, never changed.

use anyhow::{Context, Result};

use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::is_already_there;
pub use crate::aws::log_groups::ObservedLogGroup as ObservedFunctionLogGroup;
use crate::aws::{log_groups, tags, Clients};
use crate::desired::{Desired, DesiredLogGroup, Names};
use crate::plan::{Action, Change, Kind};

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[allow(clippy::enum_variant_names)] // the names are the plan's JSON (`"op"`)
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Creates the forwarder's log group with its tags and retention.
    CreateFunctionLogGroup {
        log_group: DesiredLogGroup,
    },
    /// Sets the retention (or removes it: `None` keeps events forever) and adds missing tags.
    UpdateFunctionLogGroup {
        log_group: DesiredLogGroup,
    },
    DeleteFunctionLogGroup {
        log_group: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct FunctionLogGroup;

impl Resource for FunctionLogGroup {
    const KIND: Kind = Kind::FunctionLogGroup;
    type Desired = DesiredLogGroup;
    type Observed = Option<ObservedFunctionLogGroup>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredLogGroup> {
        stack.forwarder.as_ref().map(|f| &f.log_group)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedFunctionLogGroup>> {
        log_groups::observe(cx.clients, &cx.names.log_group).await
    }

    fn plan(
        _names: &Names,
        desired: &DesiredLogGroup,
        observed: &Option<ObservedFunctionLogGroup>,
    ) -> Plan {
        plan(desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedFunctionLogGroup>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::CreateFunctionLogGroup { log_group } => create(cx.clients, log_group).await,
            Op::UpdateFunctionLogGroup { log_group } => update(cx.clients, log_group).await,
            Op::DeleteFunctionLogGroup { log_group } => {
                log_groups::delete(cx.clients, log_group).await
            }
        }
    }
}

fn shown(days: Option<i32>) -> String {
    match days {
        Some(d) => format!("{d} days"),
        None => "never expire".into(),
    }
}

/// Missing: created. Ours: its retention and tags follow the config. Not ours: a conflict.
pub fn plan(d: &DesiredLogGroup, observed: Option<&ObservedFunctionLogGroup>) -> Plan {
    let mut plan = Plan::default();
    let kind = Kind::FunctionLogGroup;
    let Some(o) = observed else {
        plan.step(
            kind,
            &d.name,
            Action::Create,
            vec![Change::new("retention", "", shown(d.retention_days))],
            vec![Op::CreateFunctionLogGroup {
                log_group: d.clone(),
            }],
        );
        return plan;
    };
    let stack = d.tags.get(crate::desired::TAG_STACK);
    if o.tags.get(crate::desired::TAG_STACK) != stack {
        plan.conflict(
            kind,
            &d.name,
            "exists without the stack's tag (Lambda makes it by itself when the function's role may create log groups)",
            format!(
                "keep what you need from it, delete it (`aws logs delete-log-group --log-group-name {}`), then run `flowlogs setup`",
                d.name
            ),
        );
        return plan;
    }
    let mut changes: Vec<Change> =
        Change::differs_shown("retention", o.retention_days, d.retention_days, |d| {
            shown(*d)
        })
        .into_iter()
        .collect();
    let missing: Vec<String> = d
        .tags
        .iter()
        .filter(|(k, v)| o.tags.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !missing.is_empty() {
        changes.push(Change::new("tags", "", missing.join(", ")));
    }
    if changes.is_empty() {
        plan.in_sync(kind, &d.name);
    } else {
        plan.step(
            kind,
            &d.name,
            Action::Update,
            changes,
            vec![Op::UpdateFunctionLogGroup {
                log_group: d.clone(),
            }],
        );
    }
    plan
}

/// The log group goes when it carries our tag.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedFunctionLogGroup>) -> Plan {
    let mut plan = Plan::default();
    if let Some(g) = observed.filter(|g| names.is_ours(&g.tags)) {
        plan.step(
            Kind::FunctionLogGroup,
            &g.name,
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteFunctionLogGroup {
                log_group: g.name.clone(),
            }],
        );
    }
    plan
}

async fn create(clients: &Clients, d: &DesiredLogGroup) -> Result<()> {
    match clients
        .logs
        .create_log_group()
        .log_group_name(&d.name)
        .set_tags(Some(tags::to_map(&d.tags)))
        .send()
        .await
    {
        Ok(_) => {}
        // A retried create: the group is there; its retention is set below either way.
        Err(e) if is_already_there(&e) => {}
        Err(e) => return Err(e).with_context(|| format!("creating log group {}", d.name)),
    }
    set_retention(clients, d).await
}

async fn update(clients: &Clients, d: &DesiredLogGroup) -> Result<()> {
    let arn = log_groups::arn(clients, &d.name).await?;
    clients
        .logs
        .tag_resource()
        .resource_arn(&arn)
        .set_tags(Some(tags::to_map(&d.tags)))
        .send()
        .await
        .with_context(|| format!("tagging log group {}", d.name))?;
    set_retention(clients, d).await
}

async fn set_retention(clients: &Clients, d: &DesiredLogGroup) -> Result<()> {
    match d.retention_days {
        Some(days) => clients
            .logs
            .put_retention_policy()
            .log_group_name(&d.name)
            .retention_in_days(days)
            .send()
            .await
            .map(|_| ())
            .with_context(|| format!("setting the retention of log group {}", d.name)),
        None => clients
            .logs
            .delete_retention_policy()
            .log_group_name(&d.name)
            .send()
            .await
            .map(|_| ())
            .with_context(|| format!("removing the retention of log group {}", d.name)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn desired(retention: Option<i32>) -> DesiredLogGroup {
        DesiredLogGroup {
            name: "/aws/lambda/flowlogs-s-forwarder".into(),
            retention_days: retention,
            tags: BTreeMap::from([
                ("flowlogs:stack".into(), "s".into()),
                ("managed-by".into(), "flowlogs".into()),
            ]),
        }
    }

    fn observed(d: &DesiredLogGroup) -> ObservedFunctionLogGroup {
        ObservedFunctionLogGroup {
            name: d.name.clone(),
            retention_days: d.retention_days,
            tags: d.tags.clone(),
        }
    }

    #[test]
    fn a_missing_group_is_created_with_its_retention() {
        let d = desired(Some(90));
        let plan = plan(&d, None);
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].action, Action::Create);
        assert_eq!(plan.steps[0].changes[0].to, "90 days");
        assert!(matches!(
            plan.steps[0].ops[..],
            [Op::CreateFunctionLogGroup { .. }]
        ));
    }

    #[test]
    fn ours_as_wanted_is_in_sync_and_a_retention_change_is_an_update() {
        let d = desired(Some(90));
        let same = plan(&d, Some(&observed(&d)));
        assert!(same.steps.is_empty() && same.conflicts.is_empty());
        assert_eq!(same.in_sync.len(), 1);

        let mut o = observed(&d);
        o.retention_days = None;
        let changed = plan(&d, Some(&o));
        assert_eq!(changed.steps[0].action, Action::Update);
        assert_eq!(
            (
                changed.steps[0].changes[0].from.as_str(),
                changed.steps[0].changes[0].to.as_str()
            ),
            ("never expire", "90 days")
        );
    }

    #[test]
    fn a_group_without_our_tag_is_a_conflict_never_changed_or_deleted() {
        let d = desired(Some(90));
        let mut o = observed(&d);
        o.tags.clear();
        let plan = plan(&d, Some(&o));
        assert!(plan.steps.is_empty());
        assert_eq!(plan.conflicts.len(), 1);
        assert!(plan.conflicts[0].fix.contains("delete-log-group"));
        let names_of = crate::resources::stream::tests::desired().names;
        assert!(plan_teardown(&names_of, Some(&o)).steps.is_empty());
    }
}
