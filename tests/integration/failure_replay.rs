//! Nothing lost: on the local stack (behaviour `lambda-async-failures`: retries and the S3
//! on-failure destination as Lambda has them; `lambda-destination-check`: Lambda refuses a
//! destination the role may not write every key of), a collector that refuses everything makes
//! each flow-log object's event fail its configured attempts and land, with the reason, in the
//! stack's failure bucket under `aws/lambda/async/<function>/`, never in the log bucket; `status`
//! counts them; once the endpoint
//! works, `replay` sends them, every record arrives once (counted by `log.record.uid`), and the
//! destination is empty again.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::config::StackConfig;
use crate::support::{
    gzip, printed, refusing_endpoint, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};
use serde_json::Value;

const STACK: &str = "fr";
const BUCKET: &str = "fr-flowlogs-123456789012-us-east-1";
const FAILURE_BUCKET: &str = "fr-failures-123456789012-us-east-1";
const FUNCTION: &str = "flowlogs-fr-forwarder";
const OBJECTS: usize = 3;
const RECORDS_PER_OBJECT: usize = 2;

fn config(vpc: &str, endpoint: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, endpoint).lambda_setting(
        "on_failure",
        "{ max_retry_attempts: 1, max_event_age_s: 600 }",
    )
}

/// Two records in the default format, distinct per object.
fn flow_log(n: usize) -> Vec<u8> {
    let text = format!(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 10.9.0.{n} 10.9.0.200 49152 22 6 10 840 1764410400 1764410460 ACCEPT OK\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 203.0.113.{n} 10.9.0.200 51234 3389 6 3 180 1764410400 1764410460 REJECT OK\n"
    );
    gzip(text.as_bytes())
}

fn object_key(n: usize) -> String {
    format!(
        "AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/2026/11/20/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0abc_20261120T0{n}05Z_a1b2c3d4.log.gz"
    )
}

async fn failure_records(s3: &aws_sdk_s3::Client) -> Vec<String> {
    records_in(s3, FAILURE_BUCKET).await
}

async fn records_in(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    crate::support::keys_under(s3, bucket, &format!("aws/lambda/async/{FUNCTION}/")).await
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", printed(out)))
}

fn status(stack: &Stack, cfg: &Path) -> Value {
    let out = stack.run(cfg, &["status", "--output", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
    json_of(&out)
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_deliveries_are_kept_with_their_reason_and_replay_sends_each_record_once() {
    let stack = Stack::start_with(
        &[Service::Moto, Service::Rotel, Service::Lambda],
        Behaviours::from_env().retry_delays(&[0.2, 0.2]),
    );
    for needed in ["lambda-async-failures", "lambda-destination-check"] {
        assert!(
            stack.aws_behaviours().iter().any(|b| b == needed),
            "this test needs the behaviour {needed}: {:?}",
            stack.aws_behaviours()
        );
    }
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.9.0.0/16").await;

    // The collector refuses everything.
    let cfg = config(&vpc, &refusing_endpoint()).write(stack.dir());
    let setup = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_eq!(setup.status.code(), Some(0), "{}", printed(&setup));
    assert!(
        printed(&setup).contains("lambda async config")
            && printed(&setup).contains(&format!("s3 failure bucket {FAILURE_BUCKET}")),
        "the plan shows the new resources: {}",
        printed(&setup)
    );
    let before = status(&stack, &cfg);
    assert_eq!(before["in_sync"], true, "{before}");
    assert_eq!(before["failures_waiting"], 0, "{before}");

    for n in 1..=OBJECTS {
        crate::support::settle::settled("putting a flow-log object", || {
            s3.put_object()
                .bucket(BUCKET)
                .key(object_key(n))
                .body(flow_log(n).into())
                .send()
        })
        .await;
    }

    // Each event fails its two attempts (1 retry) and its invocation record lands in the bucket.
    let started = Instant::now();
    let kept = loop {
        let kept = failure_records(&s3).await;
        if kept.len() >= OBJECTS {
            break kept;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "expected {OBJECTS} failure records, got {kept:?}\n{}",
            stack.log_tails()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(kept.len(), OBJECTS, "{kept:?}");
    let mut named = Vec::new();
    for key in &kept {
        assert!(
            key.starts_with(&format!("aws/lambda/async/{FUNCTION}/")),
            "{key}"
        );
        let body = crate::support::object_bytes(&s3, FAILURE_BUCKET, key).await;
        let record: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(
            record["requestContext"]["approximateInvokeCount"], 2,
            "max_retry_attempts: 1 means two attempts: {record}"
        );
        assert_eq!(record["responsePayload"]["errorType"], "ExportFailed");
        named.push(
            record["requestPayload"]["Records"][0]["s3"]["object"]["key"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    named.sort();
    assert_eq!(named, (1..=OBJECTS).map(object_key).collect::<Vec<_>>());
    assert!(stack.captured().is_empty(), "nothing reached the collector");
    assert!(
        records_in(&s3, BUCKET).await.is_empty(),
        "nothing written into the log bucket"
    );

    let waiting = status(&stack, &cfg);
    assert_eq!(waiting["failures_waiting"], OBJECTS, "{waiting}");

    // A dry run lists them and sends nothing.
    let dry = cfg.run(&stack, &["replay", "--dry-run", "--output", "json"]);
    assert_eq!(dry.status.code(), Some(0), "{}", printed(&dry));
    let dry = json_of(&dry);
    assert_eq!(dry["waiting"], OBJECTS, "{dry}");
    assert!(dry["items"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("ExportFailed"));
    assert_eq!(failure_records(&s3).await.len(), OBJECTS);

    // Replay while the endpoint still refuses: every record fails again and stays.
    let again = cfg.run(&stack, &["replay", "--output", "json"]);
    assert_eq!(again.status.code(), Some(1), "{}", printed(&again));
    assert_eq!(json_of(&again)["still_failing"], OBJECTS);
    assert_eq!(failure_records(&s3).await.len(), OBJECTS);

    // The endpoint recovers (the function now points at the collector), and replay sends them.
    config(&vpc, &stack.otlp_endpoint).write(stack.dir());
    let fixed = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_eq!(fixed.status.code(), Some(0), "{}", printed(&fixed));
    let replay = cfg.run(&stack, &["replay", "--output", "json"]);
    assert_eq!(replay.status.code(), Some(0), "{}", printed(&replay));
    let replay = json_of(&replay);
    assert_eq!(replay["ok"], true, "{replay}");
    assert_eq!(replay["replayed"], OBJECTS, "{replay}");
    assert_eq!(replay["still_failing"], 0, "{replay}");
    assert_eq!(replay["records"], OBJECTS * RECORDS_PER_OBJECT, "{replay}");

    // Every record arrived, none twice.
    let records = stack.wait_for_exactly(OBJECTS * RECORDS_PER_OBJECT, Duration::from_secs(30));
    let mut by_uid: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        let uid = r["attributes"]["log.record.uid"]
            .as_str()
            .unwrap_or_else(|| panic!("no log.record.uid: {r}"));
        *by_uid.entry(uid.to_string()).or_default() += 1;
    }
    assert_eq!(by_uid.len(), OBJECTS * RECORDS_PER_OBJECT, "{by_uid:?}");
    assert!(by_uid.values().all(|&n| n == 1), "{by_uid:?}");

    assert!(failure_records(&s3).await.is_empty());
    let after = status(&stack, &cfg);
    assert_eq!(after["failures_waiting"], 0, "{after}");
    let nothing = cfg.run(&stack, &["replay"]);
    assert_eq!(nothing.status.code(), Some(0), "{}", printed(&nothing));
    assert!(printed(&nothing).contains("No failed deliveries wait"));
}
