//! The whole pipeline on the local stack: `setup` builds the real forwarder, deploys it, and its
//! verify puts a canary object that S3 triggers the function (run by cargo-lambda) for, to a real
//! collector (rotel), proved by the forwarder's report in its log group. Then each broken link makes
//! `verify` fail with the matching ✗ line and its fix, and `verify --wait` proves an object
//! delivered as AWS would from the forwarder's report, without invoking the function again.

use std::time::Duration;

use crate::support::config::StackConfig;
use crate::support::{
    gzip, printed, refusing_endpoint, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};
use serde_json::Value;

const BUCKET: &str = "e2e-flowlogs-123456789012-us-east-1";
const FUNCTION: &str = "flowlogs-e2e-forwarder";

fn config(vpc: &str, endpoint: &str) -> StackConfig {
    StackConfig::lambda("e2e", vpc, endpoint)
        .format("all")
        .header("x-team", "network")
}

/// Two records in the default format, as a flow log writes them.
fn sample_flow_log() -> String {
    format!(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 10.9.0.5 10.9.0.6 49152 22 6 10 840 1764410400 1764410460 ACCEPT OK\n\
         2 {ACCOUNT_ID} eni-0a1b2c3d4e5f60718 203.0.113.9 10.9.0.6 51234 3389 6 3 180 1764410400 1764410460 REJECT OK\n"
    )
}

fn attribute<'a>(record: &'a Value, key: &str) -> &'a Value {
    &record["attributes"][key]
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_proves_delivery_to_the_collector_and_verify_names_each_broken_link() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let sdk = stack.sdk_config().await;
    let (s3, ec2, lambda) = (
        aws_sdk_s3::Client::new(&sdk),
        flowlogs_aws_lite::ec2::Ec2::new(&sdk),
        aws_sdk_lambda::Client::new(&sdk),
    );
    let vpc = stack.create_vpc("10.9.0.0/16").await;
    let cfg = config(&vpc, &stack.otlp_endpoint).write(stack.dir());

    // setup builds the forwarder with cargo-lambda, deploys it, and verifies with a canary.
    let setup = cfg.run(&stack, &["setup", "--yes"]);
    assert_eq!(setup.status.code(), Some(0), "{}", printed(&setup));
    let text = printed(&setup);
    assert!(
        text.contains(&format!(
            "✓ test delivery: S3 triggered {FUNCTION} for the canary"
        )),
        "the canary goes through the trigger: {text}"
    );
    assert!(
        text.contains(&format!(
            "its report in /aws/lambda/{FUNCTION}: 3 canary records parsed and accepted"
        )),
        "{text}"
    );
    assert!(
        text.contains("Verified: the pipeline of stack e2e works end to end."),
        "{text}"
    );

    // Exactly the canary's records arrived, with the standard attributes.
    let records = stack.wait_for_exactly(3, Duration::from_secs(30));
    let mut uids: Vec<&str> = Vec::new();
    for r in &records {
        assert_eq!(attribute(r, "source.address"), "192.0.2.10", "{r}");
        assert_eq!(attribute(r, "destination.address"), "198.51.100.20", "{r}");
        assert_eq!(attribute(r, "destination.port"), 443, "{r}");
        assert_eq!(attribute(r, "network.protocol.name"), "tcp", "{r}");
        assert_eq!(attribute(r, "aws.vpc.flow.action"), "ACCEPT", "{r}");
        assert_eq!(r["resource"]["cloud.provider"], "aws", "{r}");
        assert_eq!(r["resource"]["cloud.account.id"], ACCOUNT_ID, "{r}");
        assert_eq!(r["resource"]["cloud.region"], REGION, "{r}");
        assert_eq!(r["resource"]["service.name"], "vpc-flow-logs", "{r}");
        assert_eq!(r["resource"]["aws.s3.bucket"], BUCKET, "{r}");
        uids.push(
            attribute(r, "log.record.uid")
                .as_str()
                .expect("a record uid"),
        );
    }
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 3, "every record has its own uid");
    let left = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    assert_eq!(
        left.key_count(),
        Some(0),
        "the canary is removed: {:?}",
        left.contents()
    );

    // A healthy pipeline verifies again; each canary record reaches the collector exactly once.
    let verify = cfg.run(&stack, &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", printed(&verify));
    let records = stack.wait_for_exactly(6, Duration::from_secs(30));
    let mut uids: Vec<&str> = records
        .iter()
        .map(|r| attribute(r, "log.record.uid").as_str().unwrap())
        .collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 6, "no canary record forwarded twice");

    // `verify --wait`: an object delivered as AWS would is proved from the forwarder's report.
    let delivered = format!(
        "AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/2026/11/29/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0aaa_20261129T1000Z_0123abcd.log.gz"
    );
    let waiter = {
        let cfg = cfg.clone();
        let stack_run = stack.flowlogs();
        std::thread::spawn(move || {
            let mut command = stack_run;
            command.args(["verify", "--wait", "90s", "-c", cfg.to_str().unwrap()]);
            command.output().unwrap()
        })
    };
    // verify lists the prefix before it puts its canary: once the canary shows (in the bucket, or
    // its records in the collector), a new object counts.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let listing = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
        if stack.captured().len() > 6
            || listing
                .contents()
                .iter()
                .any(|o| o.key().unwrap_or_default().contains("/flowlogs-verify/"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "verify never put its canary"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s3.put_object()
        .bucket(BUCKET)
        .key(&delivered)
        .body(gzip(sample_flow_log().as_bytes()).into())
        .send()
        .await
        .unwrap();
    let waited = waiter.join().unwrap();
    let text = printed(&waited);
    assert_eq!(waited.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "✓ first real flow-log object: AWS delivered {delivered}; S3 triggered {FUNCTION} and its report in /aws/lambda/{FUNCTION} says 2 records forwarded"
        )),
        "{text}"
    );
    // 3 more canary records and the object's 2, each once: the object was not invoked a second time.
    let records = stack.wait_for_exactly(11, Duration::from_secs(30));
    let from_object: Vec<&Value> = records
        .iter()
        .filter(|r| r["resource"]["aws.s3.key"] == delivered.as_str())
        .collect();
    assert_eq!(
        from_object.len(),
        2,
        "the delivered object's records once each"
    );
    s3.delete_object()
        .bucket(BUCKET)
        .key(&delivered)
        .send()
        .await
        .unwrap();

    // A missing notification entry.
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(aws_sdk_s3::types::NotificationConfiguration::builder().build())
        .send()
        .await
        .unwrap();
    let verify = cfg.run(&stack, &["verify"]);
    assert_eq!(verify.status.code(), Some(1));
    let text = printed(&verify);
    // The canary is not triggered; the direct invoke shows the function itself works.
    assert!(
        text.contains("✗ test delivery: the function forwards when invoked directly, but S3 did not trigger it: the notification entry flowlogs-e2e on e2e-flowlogs-123456789012-us-east-1 is missing"),
        "{text}"
    );
    // verify is the plan plus live checks: the failed check is the plan's pending step.
    assert!(
        text.contains(
            "✗ s3 notification flowlogs-e2e on e2e-flowlogs-123456789012-us-east-1: missing"
        ),
        "{text}"
    );
    assert!(
        text.contains("fix: run `flowlogs setup` to create it"),
        "{text}"
    );
    assert_eq!(
        stack
            .run(&cfg, &["setup", "--yes", "--no-verify"], &[])
            .status
            .code(),
        Some(0)
    );

    // A function that S3 may not invoke.
    lambda
        .remove_permission()
        .function_name(FUNCTION)
        .statement_id("flowlogs-e2e-s3")
        .send()
        .await
        .unwrap();
    let verify = cfg.run(&stack, &["verify"]);
    assert_eq!(verify.status.code(), Some(1));
    let text = printed(&verify);
    assert!(
        text.contains("✗ lambda permission flowlogs-e2e-s3 on "),
        "{text}"
    );
    assert!(
        text.contains(": missing (allow: s3.amazonaws.com from arn:aws:s3:::e2e-flowlogs-123456789012-us-east-1 in 123456789012)"),
        "{text}"
    );
    assert!(
        text.contains("fix: run `flowlogs setup` to create it"),
        "{text}"
    );
    assert_eq!(
        stack
            .run(&cfg, &["setup", "--yes", "--no-verify"], &[])
            .status
            .code(),
        Some(0)
    );

    // A removed bucket policy statement.
    let policy: Value = serde_json::from_str(
        s3.get_bucket_policy()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    let mut trimmed = policy.clone();
    trimmed["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Sid"] != "FlowlogsDeliveryWriteE2e");
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(trimmed.to_string())
        .send()
        .await
        .unwrap();
    let verify = cfg.run(&stack, &["verify"]);
    assert_eq!(verify.status.code(), Some(1));
    let text = printed(&verify);
    assert!(text.contains("✗ bucket policy e2e-flowlogs-123456789012-us-east-1: differs from the config (statement FlowlogsDeliveryWriteE2e: added)"), "{text}");
    assert_eq!(
        stack
            .run(&cfg, &["setup", "--yes", "--no-verify"], &[])
            .status
            .code(),
        Some(0)
    );

    // An endpoint that refuses the records: setup itself fails at verify.
    let arrived = stack.captured().len();
    let cfg = config(&vpc, &refusing_endpoint()).write(stack.dir());
    let setup = cfg.run(&stack, &["setup", "--yes"]);
    assert_eq!(setup.status.code(), Some(1), "{}", printed(&setup));
    let text = printed(&setup);
    assert!(text.contains("✗ test delivery"), "{text}");
    assert!(text.contains("verify failed"), "{text}");
    assert_eq!(
        stack.captured().len(),
        arrived,
        "nothing more reached the collector"
    );
    let left = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    assert_eq!(
        left.key_count(),
        Some(0),
        "the canary is removed after a failure too"
    );

    // Teardown leaves nothing of ours.
    let teardown = cfg.run(&stack, &["teardown", "--yes", "--delete-data"]);
    assert_eq!(teardown.status.code(), Some(0), "{}", printed(&teardown));
    assert!(s3.head_bucket().bucket(BUCKET).send().await.is_err());
    assert!(lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .is_err());
    let ours = flowlogs_aws_lite::ec2::Filter::new("tag:flowlogs:stack", ["e2e"]);
    assert!(ec2
        .describe_flow_logs(&[], &[ours])
        .await
        .unwrap()
        .is_empty());
}

/// On AWS, a role's new policy reaches S3 after a while: the forwarder's first read of the canary,
/// seconds after setup wrote that policy, can be denied, and Lambda retries the event a minute
/// later. setup's verify waits for the retry and judges by it, instead of failing on the first
/// report. The stack denies the forwarder's reads for 30 s after PutRolePolicy and retries a failed
/// event after 40 s. A first setup builds and deploys everything (its build may take longer than
/// the window); the role's policy is then removed out of band, so the second setup rewrites it and
/// verifies straight after.
#[tokio::test(flavor = "multi_thread")]
async fn verify_waits_for_lambdas_retry_when_the_roles_new_policy_has_not_reached_s3() {
    let stack = Stack::start_with(
        &[Service::Moto, Service::Rotel, Service::Lambda],
        Behaviours::only(&["s3-events", "lambda-logs", "consistency-policy"])
            .window(30.0)
            .retry_delays(&[40.0, 40.0]),
    );
    let sdk = stack.sdk_config().await;
    let vpc = stack.create_vpc("10.9.0.0/16").await;
    let cfg = config(&vpc, &stack.otlp_endpoint).write(stack.dir());
    let first = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_eq!(first.status.code(), Some(0), "{}", printed(&first));
    aws_sdk_iam::Client::new(&sdk)
        .delete_role_policy()
        .role_name(FUNCTION)
        .policy_name("flowlogs-forwarder")
        .send()
        .await
        .unwrap();

    let setup = cfg.run(&stack, &["setup", "--yes"]);
    let text = printed(&setup);
    assert_eq!(setup.status.code(), Some(0), "{text}");
    assert!(
        text.contains("inline policy flowlogs-forwarder: missing -> ours"),
        "the second setup rewrites the policy: {text}"
    );
    assert!(
        text.contains("the forwarder could not read s3://e2e-flowlogs-123456789012-us-east-1/")
            && text.contains("AccessDenied"),
        "the denied first read is said, with AWS's code: {text}"
    );
    assert!(
        text.contains(&format!(
            "✓ test delivery: S3 triggered {FUNCTION} for the canary"
        )) && text.contains("3 canary records parsed and accepted"),
        "judged by the retry that succeeded: {text}"
    );
    // The denied attempt sent nothing; the retry sent the canary once.
    stack.wait_for_exactly(3, Duration::from_secs(30));
}
