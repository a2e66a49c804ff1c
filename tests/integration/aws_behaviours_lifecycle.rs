//! Issue 12's "Done when": a full lifecycle with every AWS behaviour of the local stack switched on
//! (eventual consistency after each call that causes it, notification validation, S3 events,
//! Lambda's logs, capitalised filter names). Setup with its verify, a second setup that writes
//! nothing, a file delivered under the hive layout reaching the collector through the S3 trigger
//! (every record, once), then teardown with the data. The router's log shows that each injected
//! error fired: the product got past each one.

use std::time::{Duration, Instant};

use crate::support::config::StackConfig;
use crate::support::settle::settled;
use crate::support::{gzip, printed, recorder, Behaviours, Service, Stack, ACCOUNT_ID, REGION};
use serde_json::Value;

const STACK: &str = "hive";
const BUCKET: &str = "hive-flowlogs-123456789012-us-east-1";
const FUNCTION: &str = "flowlogs-hive-forwarder";
const PREFIX: &str = "team-a/vpc/";

fn config(vpc: &str, endpoint: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, endpoint)
        .hourly_hive()
        .bucket("prefix", "team-a/vpc")
}

/// A flow-log file in the default format, gzipped as AWS writes it, one record per source address.
fn flow_log_file(sources: &[String]) -> Vec<u8> {
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    for (n, source) in sources.iter().enumerate() {
        text.push_str(&format!(
            "2 {ACCOUNT_ID} eni-0a1b2c3d4e5f {source} 10.0.1.5 {} 22 6 10 840 1718806800 1718806860 REJECT OK\n",
            40000 + n
        ));
    }
    gzip(text.as_bytes())
}

fn source_address(record: &Value) -> &str {
    record["attributes"]["source.address"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_lifecycle_passes_with_every_aws_behaviour_on() {
    let stack = Stack::start_with(
        &[Service::Moto, Service::Rotel, Service::Lambda],
        Behaviours::all(),
    );
    let sdk = stack.sdk_config().await;
    let (s3, ec2, lambda) = (
        aws_sdk_s3::Client::new(&sdk),
        flowlogs_aws_lite::ec2::Ec2::new(&sdk),
        aws_sdk_lambda::Client::new(&sdk),
    );
    let vpc = stack.create_vpc("10.7.0.0/16").await;
    let cfg = config(&vpc, &stack.otlp_endpoint).write(stack.dir());

    // Setup, with its verify.
    let setup = cfg.run(&stack, &["setup", "--yes"]);
    assert_eq!(
        setup.status.code(),
        Some(0),
        "{}\n{}",
        printed(&setup),
        stack.log_tails()
    );
    assert!(printed(&setup).contains("Verified"), "{}", printed(&setup));
    // Each eventual-consistency behaviour fired during setup, and setup got past it. (Not
    // `consistency-role-lambda`: uploading the real package takes longer than its window here.)
    for (prefix, behaviour) in [
        ("404 ".to_string(), "consistency-bucket"),
        (
            "409 AddPermission".to_string(),
            "consistency-function-update",
        ),
        (
            "400 PutBucketNotificationConfiguration".to_string(),
            "consistency-notification",
        ),
    ] {
        assert!(
            stack.was_injected(&prefix),
            "{behaviour}: expected an injected `{prefix} ...`, got {:?}",
            stack.injected()
        );
    }

    // A second setup makes no write call.
    recorder::start(&stack.moto_endpoint);
    let again = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_eq!(again.status.code(), Some(0), "{}", printed(&again));
    assert_eq!(
        recorder::writes(&stack.moto_endpoint),
        Vec::<String>::new(),
        "{}",
        printed(&again)
    );

    // A file where AWS writes it under the hive layout reaches the collector through the trigger.
    let flow_log_id = ec2
        .describe_flow_logs(&[], &[])
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.resource_id == vpc)
        .map(|f| f.id)
        .expect("our flow log");
    let key = format!(
        "{PREFIX}AWSLogs/aws-account-id={ACCOUNT_ID}/aws-service=vpcflowlogs/aws-region={REGION}/year=2024/month=06/day=19/hour=14/{ACCOUNT_ID}_vpcflowlogs_{REGION}_{flow_log_id}_20240619T1405Z_5f1a2b3c.log.gz"
    );
    let sources: Vec<String> = (1..=4).map(|n| format!("203.0.113.{n}")).collect();
    let file = flow_log_file(&sources);
    settled("PutObject of the hive-layout file", || {
        s3.put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(file.clone().into())
            .send()
    })
    .await;
    let ours = |records: Vec<Value>| -> Vec<String> {
        let mut found: Vec<String> = records
            .iter()
            .map(source_address)
            .filter(|a| a.starts_with("203.0.113."))
            .map(str::to_string)
            .collect();
        found.sort();
        found
    };
    let started = Instant::now();
    while ours(stack.captured()).len() < sources.len() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the hive-layout file was not forwarded through the S3 trigger: {:?}\n{}",
            ours(stack.captured()),
            stack.log_tails()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // Once, never twice: the invocation (and any retry of it) has finished.
    stack.wait_until_idle(Duration::from_secs(60));
    stack.wait_for_collector(Duration::from_secs(30));
    assert_eq!(ours(stack.captured()), sources, "every record, once");

    // Teardown with the data.
    let teardown = cfg.run(&stack, &["teardown", "--yes", "--delete-data"]);
    assert_eq!(teardown.status.code(), Some(0), "{}", printed(&teardown));
    assert!(s3.head_bucket().bucket(BUCKET).send().await.is_err());
    assert!(lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .is_err());
}
