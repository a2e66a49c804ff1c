//! The bill before it is spent (issue 27): `flowlogs plan` on a stack whose bucket already holds
//! flow-log objects estimates the month from those objects (the last 7 days' folders only, one
//! object sampled for its records), in text and in JSON alike; with none it says how to get an
//! estimate (`--records-per-day`) instead of printing zeros; `status` carries the same estimate.

use std::process::Output;

use crate::support::config::StackConfig;
use crate::support::{gzip, printed, Service, Stack, ACCOUNT_ID, REGION};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

const BUCKET: &str = "cost-flow-logs";
const RECORDS_PER_OBJECT: usize = 50;
/// Days in a month as the estimate counts them (730 hours).
const DAYS_PER_MONTH: f64 = 730.0 / 24.0;

/// One default-format flow-log object: the header, then `RECORDS_PER_OBJECT` records.
fn flow_log() -> Vec<u8> {
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for n in 0..RECORDS_PER_OBJECT {
        text.push_str(&format!(
            "2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 10.9.1.{n} 10.9.0.200 {} 443 6 10 840 1764410400 1764410460 ACCEPT OK\n",
            49152 + n
        ));
    }
    gzip(text.as_bytes())
}

/// The key AWS would give an object delivered at `t`: in its day's folder, the time in its name.
fn key(t: OffsetDateTime) -> String {
    let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
    let (h, min) = (t.hour(), t.minute());
    format!(
        "AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/{y:04}/{m:02}/{d:02}/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0abc_{y:04}{m:02}{d:02}T{h:02}{min:02}Z_a1b2c3d4.log.gz"
    )
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", printed(out)))
}

fn line<'a>(estimate: &'a Value, item: &str) -> &'a Value {
    estimate["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == item)
        .unwrap_or_else(|| panic!("no line {item} in {estimate:#}"))
}

fn close(got: &Value, want: f64) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {got}"));
    assert!(
        (got - want).abs() <= want.abs() * 1e-9,
        "got {got}, want {want}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_estimates_the_month_from_the_objects_already_in_the_bucket() {
    let stack = Stack::start(&[Service::Moto]);
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.9.0.0/16").await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    crate::support::settle::bucket_usable(&s3, BUCKET).await;
    let cfg = StackConfig::lambda("cost", &vpc, "https://collector.example.com:4318")
        .existing_bucket(BUCKET)
        .lambda_setting("memory_mb", "512")
        .lambda_setting("architecture", "arm64")
        .write(stack.dir());

    // An empty bucket: no zeros, but how to get an estimate.
    let empty = cfg.run(&stack, &["plan"]);
    assert_eq!(empty.status.code(), Some(0), "{}", printed(&empty));
    let text = String::from_utf8_lossy(&empty.stdout);
    assert!(text.contains("--records-per-day"), "{text}");
    assert!(
        !text.contains("Total"),
        "no table without a volume:\n{text}"
    );
    let empty_json = json_of(&cfg.run(&stack, &["plan", "--output", "json"]));
    assert_eq!(empty_json["estimate"]["volume"], Value::Null);
    assert_eq!(empty_json["estimate"]["usd_per_month"], Value::Null);
    assert!(empty_json["estimate"]["hint"]
        .as_str()
        .unwrap()
        .contains("--records-per-day"));

    // ... or the flag's volume: one flow log, one object per 5 minutes.
    let flagged = json_of(&cfg.run(
        &stack,
        &["plan", "--output", "json", "--records-per-day", "1000000"],
    ));
    let estimate = &flagged["estimate"];
    assert_eq!(
        estimate["volume"]["source"], "records_per_day",
        "{estimate:#}"
    );
    close(&estimate["volume"]["records_per_day"], 1_000_000.0);
    close(
        &line(estimate, "Lambda requests")["quantity"],
        288.0 * DAYS_PER_MONTH,
    );

    // Three objects delivered in the last hour, one from 8 days ago (outside the 7 days), and a
    // file in the same folder that is not a flow log.
    let now = OffsetDateTime::now_utc();
    let body = flow_log();
    let recent: Vec<String> = [10, 20, 30]
        .iter()
        .map(|m| key(now - Duration::minutes(*m)))
        .collect();
    let old = key(now - Duration::days(8));
    let foreign = recent[0].replace(".log.gz", ".txt");
    for k in recent.iter().chain([&old, &foreign]) {
        s3.put_object()
            .bucket(BUCKET)
            .key(k)
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
    }

    let out = cfg.run(
        &stack,
        &["plan", "--output", "json", "--records-per-day", "1000000"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
    let estimate = &json_of(&out)["estimate"];
    let volume = &estimate["volume"];
    assert_eq!(volume["source"], "bucket", "{estimate:#}");
    assert_eq!(volume["objects"], 3, "{estimate:#}");
    assert_eq!(volume["bytes"], 3 * body.len(), "{estimate:#}");
    // All within the last day: one day's worth. The newest object, sampled, holds 50 records in
    // body.len() bytes, so the 3 objects' bytes hold 150 records.
    close(&volume["days"], 1.0);
    close(&volume["records_per_day"], 3.0 * RECORDS_PER_OBJECT as f64);
    close(&volume["objects_per_day"], 3.0);
    close(
        &volume["bytes_per_record"],
        body.len() as f64 / RECORDS_PER_OBJECT as f64,
    );
    assert!(
        volume["bytes_per_record_from"]
            .as_str()
            .unwrap()
            .contains(&recent[0]),
        "the newest object is the sample: {estimate:#}"
    );
    // Derived figures: 3 objects a day = 91.25 invocations, PUTs and GETs a month; the objects
    // kept 90 days; arm64's price per GB-second.
    close(
        &line(estimate, "Lambda requests")["quantity"],
        3.0 * DAYS_PER_MONTH,
    );
    close(
        &line(estimate, "S3 GET (forwarder)")["quantity"],
        3.0 * DAYS_PER_MONTH,
    );
    close(
        &line(estimate, "S3 storage until retention expires")["quantity"],
        3.0 * body.len() as f64 * 90.0 / 1_073_741_824.0,
    );
    close(
        &line(estimate, "Lambda duration")["usd_per_unit"],
        0.000_013_333_4,
    );
    let sum: f64 = estimate["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["usd"].as_f64().unwrap())
        .sum();
    close(&estimate["usd_per_month"], sum);
    assert!(estimate["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a.as_str().unwrap().contains("--records-per-day not used")));

    // The text shows the same: where the volume comes from, the table and its total.
    let text_out = cfg.run(&stack, &["plan"]);
    let text = String::from_utf8_lossy(&text_out.stdout);
    assert!(
        text.contains("150 records a day from 3 objects") && text.contains("of the last 7 days"),
        "{text}"
    );
    assert!(
        text.contains("Lambda duration") && text.contains("Total"),
        "{text}"
    );

    // status carries the same estimate.
    let status = json_of(&cfg.run(&stack, &["status", "--output", "json"]));
    assert_eq!(status["estimate"]["volume"]["objects"], 3, "{status:#}");
    assert_eq!(
        status["estimate"]["usd_per_month"],
        estimate["usd_per_month"]
    );
}
