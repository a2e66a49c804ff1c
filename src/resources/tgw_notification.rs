//! The bucket's second notification entry of a stack that logs transit gateways: it triggers the
//! forwarder for the transit gateway folder's keys (`<prefix>tgw/AWSLogs/...`), which the first
//! entry's prefix does not cover. Planned, written and removed exactly as the first entry (by its
//! own id, `flowlogs-<stack>-tgw`, in the same read-merge-write of the bucket's configuration).

use anyhow::Result;

use super::notification::{self, NotificationEntry, Op};
use super::{Apply, Observe, Resource, Teardown};
use crate::desired::{Desired, DesiredNotification, Names};
use crate::plan::{Action, Kind};

type Plan = crate::plan::Plan<Op>;

pub struct TgwNotification;

impl Resource for TgwNotification {
    const KIND: Kind = Kind::TgwNotification;
    type Desired = DesiredNotification;
    type Observed = Vec<NotificationEntry>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredNotification> {
        stack
            .forwarder
            .as_ref()
            .filter(|f| f.trigger == crate::config::Trigger::S3Notification)
            .and_then(|f| f.tgw_notification.as_ref())
    }

    async fn observe(cx: &Observe<'_>) -> Result<Vec<NotificationEntry>> {
        notification::observe(cx.clients, &cx.names.bucket).await
    }

    fn plan(
        _names: &Names,
        desired: &DesiredNotification,
        observed: &Vec<NotificationEntry>,
    ) -> Plan {
        relabel(notification::plan(desired, observed))
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Vec<NotificationEntry>) -> Plan {
        plan_teardown(cx.names, observed)
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        <notification::Notification as Resource>::apply(cx, op).await
    }
}

/// The first entry's plan, under this entry's kind.
fn relabel(mut plan: Plan) -> Plan {
    for step in &mut plan.steps {
        step.kind = Kind::TgwNotification;
    }
    for conflict in &mut plan.conflicts {
        conflict.kind = Kind::TgwNotification;
    }
    for kept in &mut plan.in_sync {
        kept.kind = Kind::TgwNotification;
    }
    plan
}

/// Our transit gateway entry (by id) taken out, whether or not the config still logs transit
/// gateways; every other entry stays.
pub fn plan_teardown(names: &Names, current: &[NotificationEntry]) -> Plan {
    let mut plan = Plan::default();
    let id = names.tgw_notification_id();
    if current.iter().any(|e| e.id == id) {
        plan.step(
            Kind::TgwNotification,
            &format!("{id} on {}", names.bucket),
            Action::Delete,
            Vec::new(),
            vec![Op::RemoveNotification {
                bucket: names.bucket.clone(),
                id,
            }],
        );
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, prefix: &str) -> NotificationEntry {
        NotificationEntry {
            id: id.into(),
            kind: "lambda",
            target: "arn:aws:lambda:us-east-1:123456789012:function:flowlogs-s-forwarder".into(),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: prefix.into(),
            suffix: ".log.gz".into(),
        }
    }

    fn names() -> Names {
        crate::resources::flow_log::tests::desired("").names
    }

    #[test]
    fn teardown_removes_only_the_transit_gateway_entry() {
        let current = [
            entry("flowlogs-s", "AWSLogs/"),
            entry("flowlogs-s-tgw", "tgw/AWSLogs/"),
            entry("theirs", "other/"),
        ];
        let plan = plan_teardown(&names(), &current);
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].kind, Kind::TgwNotification);
        assert!(matches!(
            &plan.steps[0].ops[0],
            Op::RemoveNotification { id, .. } if id == "flowlogs-s-tgw"
        ));
        assert!(plan_teardown(&names(), &current[..1]).steps.is_empty());
    }
}
