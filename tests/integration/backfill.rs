//! Nothing missed: flow-log objects that were in the bucket before the pipeline existed are sent by
//! `flowlogs backfill`, exactly those of the window (hive layout with hourly folders), chosen by the
//! time in their names (a file delivered after midnight sits in the next folder), none of the
//! objects outside it or the bucket's other keys; `--dry-run` sends nothing; a bad window is refused
//! before any AWS call.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::config::StackConfig;
use crate::support::{gzip, printed, Service, Stack, ACCOUNT_ID, REGION};
use serde_json::Value;

const BUCKET: &str = "older-flow-logs";
const RECORDS_PER_OBJECT: usize = 2;

fn flow_log(n: usize) -> Vec<u8> {
    let text = format!(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 10.9.1.{n} 10.9.0.200 49152 22 6 10 840 1764410400 1764410460 ACCEPT OK\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 203.0.113.{n} 10.9.0.200 51234 3389 6 3 180 1764410400 1764410460 REJECT OK\n"
    );
    gzip(text.as_bytes())
}

/// A flow-log object's key in the hive layout with hourly folders, for `yyyymmddThh` and minute.
fn key(day: &str, hour: &str, minute: &str) -> String {
    delivered_in(day, hour, day, hour, minute)
}

/// A flow-log object named for `yyyymmddThhmm`, filed by AWS in the folder of its delivery.
fn delivered_in(
    folder_day: &str,
    folder_hour: &str,
    day: &str,
    hour: &str,
    minute: &str,
) -> String {
    let (y, m, d) = (&folder_day[0..4], &folder_day[4..6], &folder_day[6..8]);
    format!(
        "AWSLogs/aws-account-id={ACCOUNT_ID}/aws-service=vpcflowlogs/aws-region={REGION}/year={y}/month={m}/day={d}/hour={folder_hour}/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0abc_{day}T{hour}{minute}Z_a1b2c3d4.log.gz"
    )
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", printed(out)))
}

#[tokio::test(flavor = "multi_thread")]
async fn backfill_sends_exactly_the_windows_objects_that_were_there_before_setup() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.9.0.0/16").await;

    // Weeks of flow logs in a bucket that exists before flowlogs does.
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    crate::support::settle::bucket_usable(&s3, BUCKET).await;
    let inside = [
        key("20261120", "00", "00"),
        key("20261120", "05", "05"),
        key("20261120", "05", "55"),
        key("20261120", "23", "50"),
        key("20261121", "00", "05"),
        key("20261121", "13", "30"),
        // Named before the window's end, delivered after midnight: in the next day's folder.
        delivered_in("20261122", "00", "20261121", "23", "55"),
    ];
    let outside = [
        key("20261119", "23", "55"),
        key("20261122", "00", "00"),
        key("20261122", "01", "05"),
        // Named before the window, delivered after its start: in its first folder.
        delivered_in("20261120", "00", "20261119", "23", "55"),
    ];
    let foreign = [
        "notes/readme.txt".to_string(),
        key("20261120", "05", "05").replace(".log.gz", ".txt"),
        format!("AWSLogs/aws-account-id={ACCOUNT_ID}/aws-service=vpcflowlogs/aws-region={REGION}/year=2026/month=11/day=20/hour=05/summary.log.gz"),
    ];
    for (n, k) in inside.iter().chain(&outside).chain(&foreign).enumerate() {
        s3.put_object()
            .bucket(BUCKET)
            .key(k)
            .body(flow_log(n + 1).into())
            .send()
            .await
            .unwrap();
    }

    let cfg = StackConfig::lambda("bf", &vpc, &stack.otlp_endpoint)
        .hourly_hive()
        .existing_bucket(BUCKET)
        .write(stack.dir());
    cfg.setup(&stack, &["--no-verify"]);
    let invoked_before = stack.invocations();

    let window = ["--since", "2026-11-20", "--until", "2026-11-22T00:00:00Z"];
    let dry = cfg.run(
        &stack,
        &[
            &["backfill", "--dry-run", "--output", "json"][..],
            &window[..],
        ]
        .concat(),
    );
    assert_eq!(dry.status.code(), Some(0), "{}", printed(&dry));
    let dry_json = json_of(&dry);
    assert_eq!(dry_json["objects"], inside.len(), "{dry_json}");
    assert_eq!(
        dry_json["folders"], 49,
        "two days of hourly folders and the hour after them"
    );
    assert!(dry_json["estimate"]["usd"].as_f64().unwrap() > 0.0);
    assert!(
        printed(&dry).contains("log.record.uid"),
        "says re-running is safe"
    );
    // backfill invokes the function synchronously: what a dry run invoked has ended by now.
    assert_eq!(
        stack.invocations(),
        invoked_before,
        "a dry run invokes nothing"
    );
    assert!(stack.captured().is_empty(), "a dry run sends nothing");

    let run = cfg.run(
        &stack,
        &[
            &[
                "backfill",
                "--yes",
                "--concurrency",
                "3",
                "--output",
                "json",
            ][..],
            &window[..],
        ]
        .concat(),
    );
    assert_eq!(run.status.code(), Some(0), "{}", printed(&run));
    let outcome = json_of(&run);
    assert_eq!(outcome["ok"], true, "{outcome}");
    assert_eq!(outcome["sent"], inside.len(), "{outcome}");
    assert_eq!(outcome["failed"], 0, "{outcome}");
    assert_eq!(
        outcome["forwarded"],
        inside.len() * RECORDS_PER_OBJECT,
        "{outcome}"
    );

    let records =
        stack.wait_for_exactly(inside.len() * RECORDS_PER_OBJECT, Duration::from_secs(30));
    let keys: BTreeSet<&str> = records
        .iter()
        .map(|r| r["resource"]["aws.s3.key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        inside.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    let uids: BTreeSet<&str> = records
        .iter()
        .map(|r| r["attributes"]["log.record.uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), records.len(), "each record once");
}

#[test]
fn a_bad_window_is_refused_before_anything_else() {
    // No stack and no config file: the window is checked first.
    let missing = std::path::Path::new("/nonexistent/flowlogs.yaml");
    for (args, says) in [
        (
            vec!["--since", "2026-11-22", "--until", "2026-11-21"],
            "is not before --until",
        ),
        (vec!["--since", "2999-01-01"], "is in the future"),
        (vec!["--since", "last tuesday"], "is not a time"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowlogs"))
            .arg("backfill")
            .args(&args)
            .arg("-c")
            .arg(missing)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !err.contains("nonexistent"),
            "before reading the config: {err}"
        );
    }
}
