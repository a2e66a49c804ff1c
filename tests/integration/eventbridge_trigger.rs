//! Issue 26, "Done when": a bucket another consumer already reads through a notification on the
//! same prefix and suffix is shared with `delivery.lambda.trigger: eventbridge`. Setup keeps the
//! foreign entry, turns the bucket's EventBridge delivery on and makes the rule; the canary and a
//! flow-log object reach the collector through EventBridge (the forwarder's report names the
//! trigger); a second setup writes nothing; backfill works as ever; switching to
//! `s3-notification` is the conflict that suggests `eventbridge`; teardown leaves the foreign
//! entry and the EventBridge setting as they were, and a delivery that was on before flowlogs stays
//! on. Behaviour `s3-eventbridge` of the stack delivers the events. An event EventBridge could
//! not get through is kept by Lambda's on-failure destination and `replay` sends it, as with the
//! S3 notification.

use std::time::Duration;

use aws_sdk_s3::types::{
    Event, EventBridgeConfiguration, FilterRule, FilterRuleName, NotificationConfiguration,
    NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
};
use serde_json::Value;

use crate::support::config::StackConfig;
use crate::support::{
    gzip, printed, recorder, refusing_endpoint, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};

const STACK: &str = "shared";
const BUCKET: &str = "shared-flow-logs";
const FUNCTION: &str = "flowlogs-shared-forwarder";
const RULE: &str = "flowlogs-shared-objects";
const FOREIGN: &str = "siem-reader";

/// The SIEM's entry: every created `.log.gz` under `AWSLogs/`, to its queue.
fn foreign_entry() -> QueueConfiguration {
    QueueConfiguration::builder()
        .id(FOREIGN)
        .queue_arn(format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:siem"))
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Prefix)
                                .value("AWSLogs/")
                                .build(),
                        )
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Suffix)
                                .value(".log.gz")
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
        .unwrap()
}

/// The bucket's notification configuration: (queue entry ids, EventBridge on, Lambda entry ids).
async fn notifications(s3: &aws_sdk_s3::Client) -> (Vec<String>, bool, Vec<String>) {
    let c = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    (
        c.queue_configurations()
            .iter()
            .filter_map(|q| q.id().map(str::to_string))
            .collect(),
        c.event_bridge_configuration().is_some(),
        c.lambda_function_configurations()
            .iter()
            .filter_map(|l| l.id().map(str::to_string))
            .collect(),
    )
}

/// Two records in the default format, as a flow log writes them.
fn sample_flow_log() -> Vec<u8> {
    gzip(format!(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 10.9.0.5 10.9.0.6 49152 22 6 10 840 1764410400 1764410460 ACCEPT OK\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 203.0.113.9 10.9.0.6 51234 3389 6 3 180 1764410400 1764410460 REJECT OK\n"
    ).as_bytes())
}

/// The forwarder's report line about `key` in its log group, waited for.
async fn report_about(logs: &aws_sdk_cloudwatchlogs::Client, key: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let out = logs
            .filter_log_events()
            .log_group_name(format!("/aws/lambda/{FUNCTION}"))
            .filter_pattern(format!("\"{key}\""))
            .send()
            .await
            .unwrap();
        let found = out.events().iter().find_map(|e| {
            let v: Value = serde_json::from_str(e.message()?.trim()).ok()?;
            (v["flowlogs"] == "object" && v["key"] == key).then_some(v)
        });
        if let Some(v) = found {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no report about {key} in the forwarder's log group"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_read_by_another_consumer_is_shared_through_eventbridge() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let vpc = stack.create_vpc("10.9.0.0/16").await;

    // A bucket a SIEM already reads: its notification takes AWSLogs/ and .log.gz.
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    crate::support::settle::bucket_usable(&s3, BUCKET).await;
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(foreign_entry())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let before = notifications(&s3).await;
    assert_eq!(before, (vec![FOREIGN.to_string()], false, vec![]));

    let shared = StackConfig::lambda(STACK, &vpc, &stack.otlp_endpoint)
        .existing_bucket(BUCKET)
        .lambda_setting("trigger", "eventbridge");
    let cfg = shared.write(stack.dir());

    // Setup succeeds beside the foreign entry; its canary goes through the rule.
    let setup = cfg.run(&stack, &["setup", "--yes"]);
    let text = printed(&setup);
    assert_eq!(setup.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "its report in /aws/lambda/{FUNCTION}: 3 canary records parsed and accepted"
        )) && text.contains(&format!(
            "delivered through the EventBridge rule {RULE} (trigger eventbridge), the trigger the report names"
        )),
        "{text}"
    );
    stack.wait_for_exactly(3, Duration::from_secs(30));
    assert_eq!(
        notifications(&s3).await,
        (vec![FOREIGN.to_string()], true, vec![]),
        "the foreign entry kept, EventBridge delivery on, no notification of ours"
    );
    let rule = events.describe_rule().name(RULE).send().await.unwrap();
    let pattern: Value = serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
    assert_eq!(pattern["detail"]["bucket"]["name"][0], BUCKET, "{pattern}");
    let tags = events
        .list_tags_for_resource()
        .resource_arn(rule.arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "flowlogs:stack" && t.value() == STACK),
        "the rule is tagged as ours"
    );

    // A flow-log object, with a space in its key, reaches the collector through EventBridge.
    let key = format!(
        "AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/2026/11/29/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0aaa_20261129T1000Z_01 23.log.gz"
    );
    s3.put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(sample_flow_log().into())
        .send()
        .await
        .unwrap();
    let records = stack.wait_for_exactly(5, Duration::from_secs(60));
    let from_object: Vec<&Value> = records
        .iter()
        .filter(|r| r["resource"]["aws.s3.key"] == key.as_str())
        .collect();
    assert_eq!(from_object.len(), 2, "the object's records, once each");
    let report = report_about(&logs, &key).await;
    assert_eq!(report["trigger"], "eventbridge", "{report}");
    assert_eq!(report["forwarded"], 2, "{report}");

    // A second setup writes nothing.
    recorder::start(&stack.moto_endpoint);
    let again = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_eq!(again.status.code(), Some(0), "{}", printed(&again));
    assert_eq!(
        recorder::writes(&stack.moto_endpoint),
        Vec::<String>::new(),
        "{}",
        printed(&again)
    );

    // Backfill sends the object again through the function directly: same records, same uids.
    let backfill = cfg.run(
        &stack,
        &[
            "backfill",
            "--yes",
            "--since",
            "2026-11-29",
            "--until",
            "2026-11-30",
        ],
    );
    assert_eq!(backfill.status.code(), Some(0), "{}", printed(&backfill));
    let records = stack.wait_for_exactly(7, Duration::from_secs(60));
    let mut uids: Vec<&str> = records
        .iter()
        .filter(|r| r["resource"]["aws.s3.key"] == key.as_str())
        .map(|r| r["attributes"]["log.record.uid"].as_str().unwrap())
        .collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 2, "sent twice, recognisable by log.record.uid");

    // Switching to the S3 notification: the foreign entry takes the prefix; the conflict says
    // which and suggests the EventBridge trigger; nothing is changed.
    let notification_cfg = StackConfig::lambda(STACK, &vpc, &stack.otlp_endpoint)
        .existing_bucket(BUCKET)
        .write_as(stack.dir(), "notification.yaml");
    let switch = notification_cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    let text = printed(&switch);
    assert_eq!(switch.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("`{FOREIGN}`")), "{text}");
    assert!(
        text.contains("set `delivery.lambda.trigger: eventbridge`"),
        "{text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    assert_eq!(
        notifications(&s3).await,
        (vec![FOREIGN.to_string()], true, vec![])
    );

    // Teardown: the foreign entry and the EventBridge setting as they were before flowlogs.
    let teardown = cfg.run(&stack, &["teardown", "--yes"]);
    assert_eq!(teardown.status.code(), Some(0), "{}", printed(&teardown));
    assert_eq!(notifications(&s3).await, before);
    assert!(events.describe_rule().name(RULE).send().await.is_err());

    // A bucket whose EventBridge delivery was on before flowlogs keeps it on after teardown.
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(foreign_entry())
                .event_bridge_configuration(EventBridgeConfiguration::builder().build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let setup = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    let text = printed(&setup);
    assert_eq!(setup.status.code(), Some(0), "{text}");
    assert!(text.contains("was on before flowlogs"), "{text}");
    let teardown = cfg.run(&stack, &["teardown", "--yes"]);
    let text = printed(&teardown);
    assert_eq!(teardown.status.code(), Some(0), "{text}");
    assert!(
        text.contains("left on: it was on before flowlogs"),
        "{text}"
    );
    assert_eq!(
        notifications(&s3).await,
        (vec![FOREIGN.to_string()], true, vec![])
    );
}

/// EventBridge invokes the forwarder asynchronously: an event it still fails on after Lambda's
/// retries lands in the failure bucket as the EventBridge event it was, and `replay` sends it.
#[tokio::test(flavor = "multi_thread")]
async fn an_eventbridge_event_the_forwarder_failed_on_is_kept_and_replayed() {
    let stack = Stack::start_with(
        &[Service::Moto, Service::Rotel, Service::Lambda],
        Behaviours::from_env().retry_delays(&[0.2, 0.2]),
    );
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.9.0.0/16").await;
    let bucket = "eb-replay-flowlogs-123456789012-us-east-1";
    let failures = "eb-replay-failures-123456789012-us-east-1";
    let config = |endpoint: &str| {
        StackConfig::lambda("eb-replay", &vpc, endpoint)
            .lambda_setting(
                "on_failure",
                "{ max_retry_attempts: 1, max_event_age_s: 600 }",
            )
            .lambda_setting("trigger", "eventbridge")
    };
    let cfg = config(&refusing_endpoint()).write(stack.dir());
    let setup = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_eq!(setup.status.code(), Some(0), "{}", printed(&setup));

    let key = format!(
        "AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/2026/11/20/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0abc_20261120T0105Z_a1b2c3d4.log.gz"
    );
    crate::support::settle::settled("putting a flow-log object", || {
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .body(sample_flow_log().into())
            .send()
    })
    .await;

    let prefix = "aws/lambda/async/flowlogs-eb-replay-forwarder/";
    let started = std::time::Instant::now();
    let kept = loop {
        let kept = crate::support::keys_under(&s3, failures, prefix).await;
        if !kept.is_empty() {
            break kept;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no failure record\n{}",
            stack.log_tails()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let body = crate::support::object_bytes(&s3, failures, &kept[0]).await;
    let record: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        record["requestPayload"]["detail-type"], "Object Created",
        "{record}"
    );
    assert_eq!(
        record["requestPayload"]["detail"]["object"]["key"],
        key.as_str()
    );

    // The endpoint works again: replay sends the EventBridge event, every record once.
    config(&stack.otlp_endpoint).write(stack.dir());
    let fixed = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_eq!(fixed.status.code(), Some(0), "{}", printed(&fixed));
    let replay = cfg.run(&stack, &["replay", "--output", "json"]);
    let text = printed(&replay);
    assert_eq!(replay.status.code(), Some(0), "{text}");
    let report: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(
        (report["replayed"].as_u64(), report["records"].as_u64()),
        (Some(1), Some(2)),
        "{report}"
    );
    let records = stack.wait_for_exactly(2, Duration::from_secs(30));
    assert!(records
        .iter()
        .all(|r| r["resource"]["aws.s3.key"] == key.as_str()));
}
