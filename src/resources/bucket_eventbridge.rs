//! The bucket's EventBridge delivery: `EventBridgeConfiguration` in its notification
//! configuration, which makes S3 send every event of the bucket to the default event bus. It is
//! one document with the Lambda, queue and topic entries, so it is read, merged and written back
//! like the notification entry (`crate::resources::notification`), keeping every other entry.
//!
//! The delivery may have been on before flowlogs came (another consumer's rules use it): then
//! setup leaves it as it is and teardown never turns it off. When setup turns it on, it says so
//! with a tag on our rule (`flowlogs:bucket-eventbridge`), written before the delivery, and only
//! then teardown (or a switch back to `s3-notification`) turns it off again.

use anyhow::{Context, Result};
use aws_sdk_s3::types::{EventBridgeConfiguration, NotificationConfiguration};
use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::is_no_such_bucket;
use crate::aws::Clients;
use crate::desired::eventbridge::{DesiredDelivery, DELIVERY_TURNED_ON, TAG_DELIVERY_TURNED_ON};
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind};
use crate::resources::notification;
use crate::ui::Progress;

/// This resource's AWS writes; in the plan's `ops` as `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Tags our rule (setup turned the delivery on), then adds `EventBridgeConfiguration` to the
    /// bucket's notification configuration.
    EnableEventBridge { delivery: DesiredDelivery },
    /// Takes `EventBridgeConfiguration` out, every other entry kept.
    DisableEventBridge { bucket: String },
}

type Plan = crate::plan::Plan<Op>;

/// Whether the bucket sends its events to EventBridge, and whether flowlogs turned that on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ObservedDelivery {
    pub on: bool,
    /// Our rule carries the tag that says setup turned the delivery on.
    pub turned_on_by_us: bool,
}

pub struct BucketEventBridge;

impl Resource for BucketEventBridge {
    const KIND: Kind = Kind::BucketEventBridge;
    type Desired = DesiredDelivery;
    type Observed = ObservedDelivery;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredDelivery> {
        stack
            .forwarder
            .as_ref()
            .and_then(|f| f.eventbridge.as_ref())
            .map(|e| &e.delivery)
    }

    async fn observe(cx: &Observe<'_>) -> Result<ObservedDelivery> {
        observe(cx.clients, cx.names).await
    }

    fn plan(_names: &Names, desired: &DesiredDelivery, observed: &ObservedDelivery) -> Plan {
        plan(desired, *observed)
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &ObservedDelivery) -> Plan {
        plan_teardown(cx.names, *observed)
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::EnableEventBridge { delivery } => {
                super::event_rule::tag_rule(
                    cx.clients,
                    &delivery.rule_arn,
                    &crate::aws::tags::from_pairs([(TAG_DELIVERY_TURNED_ON, DELIVERY_TURNED_ON)]),
                )
                .await?;
                write(cx.clients, &delivery.bucket, true, cx.progress).await
            }
            Op::DisableEventBridge { bucket } => {
                write(cx.clients, bucket, false, cx.progress).await
            }
        }
    }
}

/// The delivery's state: off when there is no bucket yet; "ours" from our rule's tag.
pub async fn observe(clients: &Clients, names: &Names) -> Result<ObservedDelivery> {
    let bucket = &names.bucket;
    let on = match clients
        .s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out.event_bridge_configuration().is_some(),
        Err(e) if is_no_such_bucket(&e) => false,
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the event notifications of bucket {bucket}"))
        }
    };
    let rule = super::event_rule::observe(clients, &names.event_rule()).await?;
    let turned_on_by_us = rule.is_some_and(|r| {
        names.is_ours(&r.tags)
            && r.tags.get(TAG_DELIVERY_TURNED_ON).map(String::as_str) == Some(DELIVERY_TURNED_ON)
    });
    Ok(ObservedDelivery {
        on,
        turned_on_by_us,
    })
}

fn label(bucket: &str) -> String {
    format!("eventbridge delivery of {bucket}")
}

/// Turned on when off; when it was on before us, left as it is, and said so.
pub fn plan(d: &DesiredDelivery, observed: ObservedDelivery) -> Plan {
    let mut plan = Plan::default();
    let label = label(&d.bucket);
    if observed.on {
        plan.in_sync(Kind::BucketEventBridge, &label);
        if !observed.turned_on_by_us {
            plan.note(
                Kind::BucketEventBridge,
                &label,
                "was on before flowlogs (other consumers may use it): teardown leaves it on",
            );
        }
    } else {
        plan.step(
            Kind::BucketEventBridge,
            &label,
            Action::Create,
            vec![Change::new(
                "send events to",
                "",
                "EventBridge (default bus)",
            )],
            vec![Op::EnableEventBridge {
                delivery: d.clone(),
            }],
        );
    }
    plan
}

/// Turned off only when flowlogs turned it on.
pub fn plan_teardown(names: &Names, observed: ObservedDelivery) -> Plan {
    let mut plan = Plan::default();
    if !observed.on {
        return plan;
    }
    let label = label(&names.bucket);
    if observed.turned_on_by_us {
        plan.step(
            Kind::BucketEventBridge,
            &label,
            Action::Delete,
            Vec::new(),
            vec![Op::DisableEventBridge {
                bucket: names.bucket.clone(),
            }],
        );
    } else {
        plan.note(
            Kind::BucketEventBridge,
            &label,
            "left on: it was on before flowlogs",
        );
    }
    plan
}

/// The configuration as it is, with EventBridge delivery on or off.
pub fn with_delivery(current: &NotificationConfiguration, on: bool) -> NotificationConfiguration {
    NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(current.lambda_function_configurations().to_vec()))
        .set_queue_configurations(Some(current.queue_configurations().to_vec()))
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_event_bridge_configuration(on.then(|| EventBridgeConfiguration::builder().build()))
        .build()
}

/// Reads the configuration, sets the delivery, keeps everything else, writes it back (S3
/// test-sends to every destination on each write: retried while it cannot validate them yet).
pub async fn write(clients: &Clients, bucket: &str, on: bool, progress: &Progress) -> Result<()> {
    let current = notification::read_configuration(clients, bucket, progress).await?;
    let now = NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(current.lambda_function_configurations().to_vec()))
        .set_queue_configurations(Some(current.queue_configurations().to_vec()))
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_event_bridge_configuration(current.event_bridge_configuration().cloned())
        .build();
    let verb = if on { "turning on" } else { "turning off" };
    notification::put_configuration(clients, bucket, &with_delivery(&now, on), progress)
        .await
        .with_context(|| {
            format!(
                "{verb} the EventBridge delivery of bucket {bucket} (its notification configuration)"
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, QueueConfiguration};

    use super::*;

    fn delivery() -> DesiredDelivery {
        DesiredDelivery {
            bucket: "b".into(),
            rule_name: "flowlogs-s-objects".into(),
            rule_arn: "arn:aws:events:us-east-1:1:rule/flowlogs-s-objects".into(),
        }
    }

    #[test]
    fn off_is_turned_on_and_on_before_us_is_left_and_said() {
        let p = plan(&delivery(), ObservedDelivery::default());
        assert!(matches!(
            &p.steps[0].ops[..],
            [Op::EnableEventBridge { .. }]
        ));
        let before = ObservedDelivery {
            on: true,
            turned_on_by_us: false,
        };
        let p = plan(&delivery(), before);
        assert!(p.steps.is_empty());
        assert!(p.notes[0].note.contains("before flowlogs"), "{p}");
    }

    #[test]
    fn teardown_turns_off_only_what_flowlogs_turned_on() {
        let text = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x } }\n";
        let c = crate::config::parse(text, std::path::Path::new("t.yaml"), &|_| None).unwrap();
        let names = crate::desired::build(&c, "1", "us-east-1", "h")
            .unwrap()
            .names;
        let ours = ObservedDelivery {
            on: true,
            turned_on_by_us: true,
        };
        assert!(matches!(
            &plan_teardown(&names, ours).steps[0].ops[..],
            [Op::DisableEventBridge { .. }]
        ));
        let theirs = ObservedDelivery {
            on: true,
            turned_on_by_us: false,
        };
        let p = plan_teardown(&names, theirs);
        assert!(p.steps.is_empty() && p.notes.len() == 1);
        assert!(plan_teardown(&names, ObservedDelivery::default())
            .notes
            .is_empty());
    }

    #[test]
    fn turning_it_on_or_off_keeps_every_other_entry() {
        let current = NotificationConfiguration::builder()
            .lambda_function_configurations(
                LambdaFunctionConfiguration::builder()
                    .id("theirs")
                    .lambda_function_arn("arn:f")
                    .events(Event::from("s3:ObjectCreated:*"))
                    .build()
                    .unwrap(),
            )
            .queue_configurations(
                QueueConfiguration::builder()
                    .id("q")
                    .queue_arn("arn:q")
                    .events(Event::from("s3:ObjectRemoved:*"))
                    .build()
                    .unwrap(),
            )
            .build();
        let on = with_delivery(&current, true);
        assert!(on.event_bridge_configuration().is_some());
        assert_eq!(on.lambda_function_configurations()[0].id(), Some("theirs"));
        assert_eq!(on.queue_configurations()[0].id(), Some("q"));
        let off = with_delivery(&on, false);
        assert!(off.event_bridge_configuration().is_none());
        assert_eq!(off.lambda_function_configurations().len(), 1);
    }
}
