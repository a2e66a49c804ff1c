//! The bucket's event notification entry that triggers the forwarder. S3 replaces the whole
//! configuration on every write, so we read it, change only our entry (by id) and write it back.

use anyhow::{Context, Result};
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter,
};
use serde::Serialize;

use crate::aws::Clients;
use crate::desired::{Desired, DesiredNotification, Names};
use crate::plan::{Action, Change, Kind, Op, Plan};

/// One entry of a bucket's notification configuration, of any kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationEntry {
    pub id: String,
    /// lambda | queue | topic
    pub kind: &'static str,
    pub target: String,
    pub events: Vec<String>,
    pub prefix: String,
    pub suffix: String,
}

fn filter_value(filter: Option<&NotificationConfigurationFilter>, name: FilterRuleName) -> String {
    filter
        .and_then(|f| f.key())
        .map(|k| k.filter_rules())
        .unwrap_or_default()
        .iter()
        .find(|r| r.name() == Some(&name))
        .and_then(|r| r.value())
        .unwrap_or_default()
        .to_string()
}

fn events(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.as_str().to_string()).collect()
}

pub async fn observe(clients: &Clients, bucket: &str) -> Result<Vec<NotificationEntry>> {
    let out = clients
        .s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .with_context(|| format!("reading the event notifications of bucket {bucket}"))?;
    let mut entries = Vec::new();
    for c in out.lambda_function_configurations() {
        entries.push(NotificationEntry {
            id: c.id().unwrap_or_default().to_string(),
            kind: "lambda",
            target: c.lambda_function_arn().to_string(),
            events: events(c.events()),
            prefix: filter_value(c.filter(), FilterRuleName::Prefix),
            suffix: filter_value(c.filter(), FilterRuleName::Suffix),
        });
    }
    for c in out.queue_configurations() {
        entries.push(NotificationEntry {
            id: c.id().unwrap_or_default().to_string(),
            kind: "queue",
            target: c.queue_arn().to_string(),
            events: events(c.events()),
            prefix: filter_value(c.filter(), FilterRuleName::Prefix),
            suffix: filter_value(c.filter(), FilterRuleName::Suffix),
        });
    }
    for c in out.topic_configurations() {
        entries.push(NotificationEntry {
            id: c.id().unwrap_or_default().to_string(),
            kind: "topic",
            target: c.topic_arn().to_string(),
            events: events(c.events()),
            prefix: filter_value(c.filter(), FilterRuleName::Prefix),
            suffix: filter_value(c.filter(), FilterRuleName::Suffix),
        });
    }
    Ok(entries)
}

/// `s3:ObjectCreated:*` covers `s3:ObjectCreated:Put`, and so on.
fn events_overlap(a: &[String], b: &[String]) -> bool {
    let covers = |wide: &str, narrow: &str| {
        wide == narrow
            || wide
                .strip_suffix('*')
                .is_some_and(|p| narrow.starts_with(p))
    };
    a.iter()
        .any(|x| b.iter().any(|y| covers(x, y) || covers(y, x)))
}

/// S3 refuses two entries whose event types overlap and whose prefix and suffix filters could match the
/// same key: one prefix starts the other, and one suffix ends the other.
pub fn collides(ours: &DesiredNotification, other: &NotificationEntry) -> bool {
    events_overlap(&ours.events, &other.events)
        && (ours.prefix.starts_with(&other.prefix) || other.prefix.starts_with(&ours.prefix))
        && (ours.suffix.ends_with(&other.suffix) || other.suffix.ends_with(&ours.suffix))
}

pub fn plan(desired: &Desired, current: &[NotificationEntry], plan: &mut Plan) {
    let Some(forwarder) = &desired.forwarder else {
        return;
    };
    let d = &forwarder.notification;
    let label = format!("{} on {}", d.id, d.bucket);
    for other in current.iter().filter(|e| e.id != d.id) {
        if collides(d, other) {
            plan.conflict(
                Kind::Notification,
                &label,
                format!(
                    "the bucket's {} notification `{}` (prefix `{}`, suffix `{}`, events {}) overlaps ours (prefix `{}`, suffix `{}`); S3 refuses overlapping entries",
                    other.kind,
                    other.id,
                    other.prefix,
                    other.suffix,
                    other.events.join(","),
                    d.prefix,
                    d.suffix
                ),
                format!("narrow or remove `{}`, or use another bucket or `bucket.prefix`", other.id),
            );
            return;
        }
    }
    let op = Op::PutNotification {
        notification: d.clone(),
    };
    match current.iter().find(|e| e.id == d.id) {
        None => plan.step(
            Kind::Notification,
            &label,
            Action::Create,
            vec![
                Change::new("function", "", &d.function_arn),
                Change::new("filter", "", format!("{}*{}", d.prefix, d.suffix)),
            ],
            vec![op],
        ),
        Some(existing) => {
            let mut changes = Vec::new();
            if existing.target != d.function_arn || existing.kind != "lambda" {
                changes.push(Change::new("function", &existing.target, &d.function_arn));
            }
            if existing.events != d.events {
                changes.push(Change::new(
                    "events",
                    existing.events.join(","),
                    d.events.join(","),
                ));
            }
            if existing.prefix != d.prefix || existing.suffix != d.suffix {
                changes.push(Change::new(
                    "filter",
                    format!("{}*{}", existing.prefix, existing.suffix),
                    format!("{}*{}", d.prefix, d.suffix),
                ));
            }
            if changes.is_empty() {
                plan.in_sync(Kind::Notification, &label);
            } else {
                plan.step(
                    Kind::Notification,
                    &label,
                    Action::Update,
                    changes,
                    vec![op],
                );
            }
        }
    }
}

pub fn plan_teardown(names: &Names, current: &[NotificationEntry], plan: &mut Plan) {
    if current.iter().any(|e| e.id == names.notification_id) {
        plan.step(
            Kind::Notification,
            &format!("{} on {}", names.notification_id, names.bucket),
            Action::Delete,
            Vec::new(),
            vec![Op::RemoveNotification {
                bucket: names.bucket.clone(),
                id: names.notification_id.clone(),
            }],
        );
    }
}

/// Reads the configuration, replaces or removes our entry, keeps everything else, writes it back.
pub async fn write(
    clients: &Clients,
    bucket: &str,
    id: &str,
    ours: Option<&DesiredNotification>,
) -> Result<()> {
    let current = clients
        .s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .with_context(|| format!("reading the event notifications of bucket {bucket}"))?;
    let mut lambdas: Vec<LambdaFunctionConfiguration> = current
        .lambda_function_configurations()
        .iter()
        .filter(|c| c.id() != Some(id))
        .cloned()
        .collect();
    if let Some(d) = ours {
        let rules = vec![
            FilterRule::builder()
                .name(FilterRuleName::Prefix)
                .value(&d.prefix)
                .build(),
            FilterRule::builder()
                .name(FilterRuleName::Suffix)
                .value(&d.suffix)
                .build(),
        ];
        lambdas.push(
            LambdaFunctionConfiguration::builder()
                .id(id)
                .lambda_function_arn(&d.function_arn)
                .set_events(Some(
                    d.events.iter().map(|e| Event::from(e.as_str())).collect(),
                ))
                .filter(
                    NotificationConfigurationFilter::builder()
                        .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                        .build(),
                )
                .build()?,
        );
    }
    let config = NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(lambdas))
        .set_queue_configurations(Some(current.queue_configurations().to_vec()))
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_event_bridge_configuration(current.event_bridge_configuration().cloned())
        .build();
    clients
        .s3
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(config)
        .send()
        .await
        .with_context(|| format!("writing the event notifications of bucket {bucket}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> DesiredNotification {
        DesiredNotification {
            bucket: "b".into(),
            id: "flowlogs-s".into(),
            function_arn: "arn:f".into(),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: "AWSLogs/1/vpcflowlogs/r/".into(),
            suffix: ".log.gz".into(),
        }
    }

    fn other(prefix: &str, suffix: &str, event: &str) -> NotificationEntry {
        NotificationEntry {
            id: "theirs".into(),
            kind: "queue",
            target: "arn:q".into(),
            events: vec![event.into()],
            prefix: prefix.into(),
            suffix: suffix.into(),
        }
    }

    #[test]
    fn overlapping_filters_collide() {
        assert!(collides(&ours(), &other("", "", "s3:ObjectCreated:Put")));
        assert!(collides(
            &ours(),
            &other("AWSLogs/", ".gz", "s3:ObjectCreated:*")
        ));
        assert!(collides(
            &ours(),
            &other("AWSLogs/1/vpcflowlogs/r/2024/", "", "s3:ObjectCreated:*")
        ));
    }

    #[test]
    fn disjoint_filters_or_events_do_not_collide() {
        assert!(!collides(
            &ours(),
            &other("other/", "", "s3:ObjectCreated:*")
        ));
        assert!(!collides(
            &ours(),
            &other("", ".json", "s3:ObjectCreated:*")
        ));
        assert!(!collides(&ours(), &other("", "", "s3:ObjectRemoved:*")));
    }
}
