//! The bucket's event notification entry that triggers the forwarder. S3 replaces the whole
//! configuration on every write, so we read it, change only our entry (by id) and write it back.
//!
//! Two things AWS does that the API model does not say: filter rule names come back as `Prefix` /
//! `Suffix` (the SDK knows only the lower-case names, so they arrive as `Unknown`): names are
//! compared case-insensitively. Filter values are matched against the URL-encoded key: the desired
//! values are encoded (`crate::aws::keys`) and compared in that form.

use anyhow::{Context, Result};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::operation::put_bucket_notification_configuration::{
    PutBucketNotificationConfigurationError, PutBucketNotificationConfigurationOutput,
};
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{is_destination_not_yet_valid, is_no_such_bucket};
use crate::aws::wait::{self, Patience};
use crate::aws::Clients;
use crate::desired::{Desired, DesiredNotification, Names};
use crate::plan::{Action, Change, Kind};
use crate::resources::bucket::after_create;
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Read the bucket's notification configuration, replace only our entry, write it back.
    PutNotification {
        notification: DesiredNotification,
    },
    RemoveNotification {
        bucket: String,
        id: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct Notification;

impl Resource for Notification {
    const KIND: Kind = Kind::Notification;
    type Desired = DesiredNotification;
    /// Every entry of the bucket's configuration, ours and others'.
    type Observed = Vec<NotificationEntry>;
    type Op = Op;

    /// Only with the S3 notification trigger (`delivery.lambda.trigger: s3-notification`).
    fn desired(stack: &Desired) -> Option<&DesiredNotification> {
        stack
            .forwarder
            .as_ref()
            .filter(|f| f.trigger == crate::config::Trigger::S3Notification)
            .map(|f| &f.notification)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Vec<NotificationEntry>> {
        observe(cx.clients, &cx.names.bucket).await
    }

    fn plan(
        _names: &Names,
        desired: &DesiredNotification,
        observed: &Vec<NotificationEntry>,
    ) -> Plan {
        plan(desired, observed)
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Vec<NotificationEntry>) -> Plan {
        plan_teardown(cx.names, observed)
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::PutNotification { notification: n } => {
                write(cx.clients, &n.bucket, &n.id, Some(n), cx.progress).await
            }
            Op::RemoveNotification { bucket, id } => {
                write(cx.clients, bucket, id, None, cx.progress).await
            }
        }
    }
}

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

/// The value of the filter rule named `name` (`prefix` or `suffix`), whatever its case: S3 answers
/// `Prefix`, which the SDK reads as `FilterRuleName::Unknown("Prefix")`.
pub fn filter_value(filter: Option<&NotificationConfigurationFilter>, name: &str) -> String {
    filter
        .and_then(|f| f.key())
        .map(|k| k.filter_rules())
        .unwrap_or_default()
        .iter()
        .find(|r| {
            r.name()
                .is_some_and(|n| n.as_str().eq_ignore_ascii_case(name))
        })
        .and_then(|r| r.value())
        .unwrap_or_default()
        .to_string()
}

fn events(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.as_str().to_string()).collect()
}

/// Every entry of the bucket's configuration; none when there is no bucket yet.
pub async fn observe(clients: &Clients, bucket: &str) -> Result<Vec<NotificationEntry>> {
    let out = match clients
        .s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_no_such_bucket(&e) => return Ok(Vec::new()),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the event notifications of bucket {bucket}"))
        }
    };
    let mut entries = Vec::new();
    for c in out.lambda_function_configurations() {
        entries.push(NotificationEntry {
            id: c.id().unwrap_or_default().to_string(),
            kind: "lambda",
            target: c.lambda_function_arn().to_string(),
            events: events(c.events()),
            prefix: filter_value(c.filter(), "prefix"),
            suffix: filter_value(c.filter(), "suffix"),
        });
    }
    for c in out.queue_configurations() {
        entries.push(NotificationEntry {
            id: c.id().unwrap_or_default().to_string(),
            kind: "queue",
            target: c.queue_arn().to_string(),
            events: events(c.events()),
            prefix: filter_value(c.filter(), "prefix"),
            suffix: filter_value(c.filter(), "suffix"),
        });
    }
    for c in out.topic_configurations() {
        entries.push(NotificationEntry {
            id: c.id().unwrap_or_default().to_string(),
            kind: "topic",
            target: c.topic_arn().to_string(),
            events: events(c.events()),
            prefix: filter_value(c.filter(), "prefix"),
            suffix: filter_value(c.filter(), "suffix"),
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
/// same key: one prefix starts the other, and one suffix ends the other. Both sides are compared in
/// the encoded form S3 holds them in.
pub fn collides(ours: &DesiredNotification, other: &NotificationEntry) -> bool {
    events_overlap(&ours.events, &other.events)
        && (ours.prefix.starts_with(&other.prefix) || other.prefix.starts_with(&ours.prefix))
        && (ours.suffix.ends_with(&other.suffix) || other.suffix.ends_with(&ours.suffix))
}

/// Our entry added or restored; an entry of someone else's that overlaps ours is a conflict.
pub fn plan(d: &DesiredNotification, current: &[NotificationEntry]) -> Plan {
    let mut plan = Plan::default();
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
                format!(
                    "set `delivery.lambda.trigger: eventbridge` so flowlogs reads the prefix through an EventBridge rule beside `{}`; or narrow or remove `{}`, or use another bucket or `bucket.prefix`",
                    other.id, other.id
                ),
            );
            return plan;
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
            let changes: Vec<Change> = [
                Change::differs_shown(
                    "function",
                    (existing.target.as_str(), existing.kind),
                    (d.function_arn.as_str(), "lambda"),
                    |(target, _)| target.to_string(),
                ),
                Change::differs_shown("events", &existing.events, &d.events, |e| e.join(",")),
                Change::differs_shown(
                    "filter",
                    (&existing.prefix, &existing.suffix),
                    (&d.prefix, &d.suffix),
                    |(prefix, suffix)| format!("{prefix}*{suffix}"),
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
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
    plan
}

/// Our entry (by id) taken out; every other entry stays.
pub fn plan_teardown(names: &Names, current: &[NotificationEntry]) -> Plan {
    let mut plan = Plan::default();
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
    plan
}

/// The bucket's whole notification configuration, read as the next write will replace it (a new
/// bucket's `NoSuchBucket` waited out).
pub async fn read_configuration(
    clients: &Clients,
    bucket: &str,
    progress: &Progress,
) -> Result<GetBucketNotificationConfigurationOutput> {
    after_create(progress, bucket, || {
        clients
            .s3
            .get_bucket_notification_configuration()
            .bucket(bucket)
            .send()
    })
    .await
    .with_context(|| format!("reading the event notifications of bucket {bucket}"))
}

/// Writes the bucket's whole notification configuration. S3 test-sends to every destination on
/// each write: retried while it cannot validate them yet (a new permission, a new bucket).
pub async fn put_configuration(
    clients: &Clients,
    bucket: &str,
    config: &NotificationConfiguration,
    progress: &Progress,
) -> Result<
    PutBucketNotificationConfigurationOutput,
    SdkError<PutBucketNotificationConfigurationError, HttpResponse>,
> {
    wait::retry(
        progress,
        Patience {
            what: &format!("S3 to validate the notification destinations of bucket {bucket}"),
            limit: wait::DESTINATION_VALIDATION,
        },
        || {
            clients
                .s3
                .put_bucket_notification_configuration()
                .bucket(bucket)
                .notification_configuration(config.clone())
                .send()
        },
        |e| is_destination_not_yet_valid(e) || is_no_such_bucket(e),
    )
    .await
}

/// Reads the configuration, replaces or removes our entry, keeps everything else, writes it back.
pub async fn write(
    clients: &Clients,
    bucket: &str,
    id: &str,
    ours: Option<&DesiredNotification>,
    progress: &Progress,
) -> Result<()> {
    let current = read_configuration(clients, bucket, progress).await?;
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
    match put_configuration(clients, bucket, &config, progress).await {
        Ok(_) => Ok(()),
        Err(e) if is_destination_not_yet_valid(&e) => Err(e).with_context(|| {
            format!(
                "writing the event notifications of bucket {bucket}: S3 test-sends to every destination of the configuration and could not validate them within {} s; one of these does not exist or does not allow S3 to use it: {}. Fix or remove the broken one, then run setup again",
                wait::DESTINATION_VALIDATION.as_secs(),
                destinations(&config, id).join(", ")
            )
        }),
        Err(e) => {
            Err(e).with_context(|| format!("writing the event notifications of bucket {bucket}"))
        }
    }
}

/// Every destination of a configuration, ours marked, as the give-up message lists them.
pub fn destinations(config: &NotificationConfiguration, our_id: &str) -> Vec<String> {
    let whose = |id: Option<&str>| {
        if id == Some(our_id) {
            "ours".to_string()
        } else {
            format!("entry `{}`", id.unwrap_or("(no id)"))
        }
    };
    let mut all = Vec::new();
    for c in config.lambda_function_configurations() {
        all.push(format!(
            "function {} ({})",
            c.lambda_function_arn(),
            whose(c.id())
        ));
    }
    for c in config.queue_configurations() {
        all.push(format!("queue {} ({})", c.queue_arn(), whose(c.id())));
    }
    for c in config.topic_configurations() {
        all.push(format!("topic {} ({})", c.topic_arn(), whose(c.id())));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GetBucketNotificationConfiguration answer as S3 sends it: capitalised filter names, encoded
    /// values, a foreign queue entry.
    const S3_ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CloudFunctionConfiguration><Id>flowlogs-s</Id><CloudFunction>arn:aws:lambda:us-east-1:123456789012:function:flowlogs-s-forwarder</CloudFunction><Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>Prefix</Name><Value>AWSLogs/aws-account-id%3D123456789012/</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>.log.gz</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration><QueueConfiguration><Id>theirs</Id><Queue>arn:aws:sqs:us-east-1:123456789012:q</Queue><Event>s3:ObjectRemoved:*</Event><Filter><S3Key><FilterRule><Name>Suffix</Name><Value>.json</Value></FilterRule></S3Key></Filter></QueueConfiguration></NotificationConfiguration>"#;

    /// Serves one HTTP answer on loopback and returns its address.
    async fn serve_once(body: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buffer).await.unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        format!("http://{address}")
    }

    fn clients_at(endpoint: &str) -> Clients {
        use aws_sdk_s3::config::{Credentials, Region, SharedCredentialsProvider};
        let sdk = aws_config::SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "test", "test", None, None, "test",
            )))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .http_client(flowlogs_forwarder::aws_http::client())
            .build();
        Clients::new(&sdk)
    }

    #[tokio::test]
    async fn capitalised_filter_names_from_s3_are_read_through_the_sdk() {
        let endpoint = serve_once(S3_ANSWER).await;
        let entries = observe(&clients_at(&endpoint), "b").await.unwrap();
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0].id, "flowlogs-s");
        assert_eq!(entries[0].prefix, "AWSLogs/aws-account-id%3D123456789012/");
        assert_eq!(entries[0].suffix, ".log.gz");
        assert_eq!(
            (entries[1].kind, entries[1].suffix.as_str()),
            ("queue", ".json")
        );

        // Our entry, read back as S3 returns it, is in sync: no update on every run.
        let mut d = ours();
        d.id = "flowlogs-s".into();
        d.function_arn = entries[0].target.clone();
        d.prefix = "AWSLogs/aws-account-id%3D123456789012/".into();
        let plan = plan(&d, &entries);
        assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
        assert_eq!(plan.in_sync.len(), 1);
    }

    #[test]
    fn a_filter_rule_named_as_s3_names_it_is_found() {
        let filter = NotificationConfigurationFilter::builder()
            .key(
                S3KeyFilter::builder()
                    .filter_rules(
                        FilterRule::builder()
                            .name(FilterRuleName::from("Prefix"))
                            .value("AWSLogs/")
                            .build(),
                    )
                    .filter_rules(
                        FilterRule::builder()
                            .name(FilterRuleName::from("suffix"))
                            .value(".gz")
                            .build(),
                    )
                    .build(),
            )
            .build();
        // What the SDK makes of S3's answer: not the modelled variant.
        assert_ne!(FilterRuleName::from("Prefix"), FilterRuleName::Prefix);
        assert_eq!(filter_value(Some(&filter), "prefix"), "AWSLogs/");
        assert_eq!(filter_value(Some(&filter), "suffix"), ".gz");
    }

    #[test]
    fn a_giving_up_message_names_every_destination() {
        let config = NotificationConfiguration::builder()
            .lambda_function_configurations(
                LambdaFunctionConfiguration::builder()
                    .id("flowlogs-s")
                    .lambda_function_arn("arn:f")
                    .events(Event::from("s3:ObjectCreated:*"))
                    .build()
                    .unwrap(),
            )
            .queue_configurations(
                aws_sdk_s3::types::QueueConfiguration::builder()
                    .id("theirs")
                    .queue_arn("arn:q")
                    .events(Event::from("s3:ObjectRemoved:*"))
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(
            destinations(&config, "flowlogs-s"),
            ["function arn:f (ours)", "queue arn:q (entry `theirs`)"]
        );
    }

    #[test]
    fn an_encoded_hive_prefix_collides_with_an_encoded_foreign_filter_only() {
        let mut d = ours();
        d.prefix = crate::aws::keys::encode("AWSLogs/aws-account-id=1/");
        assert!(collides(
            &d,
            &other("AWSLogs/aws-account-id%3D1/", "", "s3:ObjectCreated:*")
        ));
        assert!(!collides(
            &d,
            &other("AWSLogs/aws-account-id%3D2/", "", "s3:ObjectCreated:*")
        ));
    }

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
    fn an_overlapping_foreign_entry_suggests_the_eventbridge_trigger() {
        let p = plan(&ours(), &[other("AWSLogs/", ".gz", "s3:ObjectCreated:*")]);
        let c = &p.conflicts[0];
        assert!(c.problem.contains("`theirs`"), "{}", c.problem);
        assert!(
            c.fix.contains("delivery.lambda.trigger: eventbridge") && c.fix.contains("`theirs`"),
            "{}",
            c.fix
        );
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
