//! The EventBridge trigger's permission: the statement in the forwarder's resource policy that lets
//! `events.amazonaws.com` invoke it from our rule only (`AWS:SourceArn` the rule's ARN). Planned
//! and written as the S3 trigger's permission is (`crate::resources::permission`); removed when
//! the config no longer wants the EventBridge trigger, and with the function at teardown.

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use super::{permission, Apply, Observe, Resource, Teardown};
use crate::desired::{Desired, DesiredPermission, Names};
use crate::plan::Kind;

/// This resource's AWS writes; in the plan's `ops` as `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    AddEventPermission {
        permission: DesiredPermission,
    },
    RemoveEventPermission {
        function: String,
        statement_id: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct EventPermission;

impl From<permission::Op> for Op {
    fn from(op: permission::Op) -> Op {
        match op {
            permission::Op::AddPermission { permission } => Op::AddEventPermission { permission },
            permission::Op::RemovePermission {
                function,
                statement_id,
            } => Op::RemoveEventPermission {
                function,
                statement_id,
            },
        }
    }
}

impl Resource for EventPermission {
    const KIND: Kind = Kind::EventPermission;
    type Desired = DesiredPermission;
    /// The function's resource policy (read once, shared with `Permission`).
    type Observed = Option<Value>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredPermission> {
        stack
            .forwarder
            .as_ref()
            .and_then(|f| f.eventbridge.as_ref())
            .map(|e| &e.permission)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<Value>> {
        permission::observe(cx.clients, &cx.names.function).await
    }

    fn plan(_names: &Names, desired: &DesiredPermission, observed: &Option<Value>) -> Plan {
        permission::plan_as(Kind::EventPermission, desired, observed.as_ref()).map_ops(Op::from)
    }

    /// Nothing of its own: deleting the function deletes its resource policy.
    fn plan_teardown(_cx: Teardown<'_>, _observed: &Option<Value>) -> Plan {
        Plan::default()
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::AddEventPermission { permission: p } => {
                permission::add_permission(cx.clients, p, cx.progress).await
            }
            Op::RemoveEventPermission {
                function,
                statement_id,
            } => permission::remove_permission(cx.clients, function, statement_id).await,
        }
    }
}

/// The statement taken out when the config no longer wants the EventBridge trigger (switching
/// to `s3-notification`): the function stays, so its policy must not keep allowing the rule.
pub fn plan_unwanted(names: &Names, policy: Option<&Value>) -> Plan {
    permission::plan_removal(
        Kind::EventPermission,
        &names.function,
        &names.event_permission_sid(),
        policy,
    )
    .map_ops(Op::from)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::Action;

    fn names() -> Names {
        let text = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x }, lambda: { trigger: eventbridge } }\n";
        let c = crate::config::parse(text, std::path::Path::new("t.yaml"), &|_| None).unwrap();
        crate::desired::build(&c, "123456789012", "us-east-1", "h")
            .unwrap()
            .names
    }

    #[test]
    fn an_unwanted_statement_of_ours_is_removed_and_a_foreign_one_left() {
        let n = names();
        let policy = json!({"Statement": [{"Sid": n.event_permission_sid()}, {"Sid": "theirs"}]});
        let plan = plan_unwanted(&n, Some(&policy));
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].action, Action::Delete);
        assert!(matches!(
            &plan.steps[0].ops[..],
            [Op::RemoveEventPermission { statement_id, .. }] if *statement_id == n.event_permission_sid()
        ));
        let foreign = json!({"Statement": [{"Sid": "theirs"}]});
        assert!(plan_unwanted(&n, Some(&foreign)).steps.is_empty());
        assert!(plan_unwanted(&n, None).steps.is_empty());
    }
}
