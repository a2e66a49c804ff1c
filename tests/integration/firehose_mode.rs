//! Firehose mode against moto: setup makes the stream, its role and the flow log as configured and
//! verify's canary reaches the HTTP endpoint (a receiver this test runs, answering as Firehose
//! requires; with the stack's `firehose-http-delivery` the stream posts what AWS posts) as a
//! flow-log record in a stream, `{"message":"<line>"}`; a second setup makes no change, a changed field is an in-place update that
//! keeps AWS's `LogDeliveryEnabled` tag, switching to lambda mode plans the stream's removal, and
//! teardown removes what is ours and keeps the bucket.

use std::net::TcpListener;
use std::time::Duration;

use crate::support::config::StackConfig;
use crate::support::firehose_endpoint::{Answer, FirehoseEndpoint};
use crate::support::{assert_exit, printed, Service, Stack, ACCOUNT_ID, REGION};
use serde_json::Value;

const STACK: &str = "fh";
const BUCKET: &str = "fh-flowlogs-123456789012-us-east-1";
const STREAM: &str = "flowlogs-fh";
const ROLE: &str = "flowlogs-fh-firehose";
const LOG_GROUP: &str = "/aws/kinesisfirehose/flowlogs-fh";
const KEY: &str = "o2-secret-access-key";
const FORMAT: &str = "${version} ${account-id} ${srcaddr} ${dstaddr} ${action} ${end}";

fn config(vpc: &str, url: &str, interval_s: u32) -> StackConfig {
    config_retrying(vpc, url, interval_s, 60)
}

fn config_retrying(vpc: &str, url: &str, interval_s: u32, retry_s: u32) -> StackConfig {
    StackConfig::firehose(STACK, vpc, url, "FH_ACCESS_KEY")
        .format(FORMAT)
        .flow_log("max_aggregation_interval", 60)
        .firehose_setting("content_encoding", "gzip")
        .firehose_setting("buffering.size_mb", 1)
        .firehose_setting("buffering.interval_s", interval_s)
        .firehose_setting("retry_duration_s", retry_s)
        .firehose_setting("common_attributes.env", "test")
        .env("FH_ACCESS_KEY", KEY)
}

fn lambda_config(vpc: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, "http://127.0.0.1:4318")
        .format(FORMAT)
        .flow_log("max_aggregation_interval", 60)
        .env("FH_ACCESS_KEY", KEY)
}

async fn stream_tags(fh: &aws_sdk_firehose::Client) -> Vec<(String, String)> {
    fh.list_tags_for_delivery_stream()
        .delivery_stream_name(STREAM)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn firehose_mode_setup_delivers_the_canary_then_changes_nothing_and_teardown_keeps_the_bucket(
) {
    let stack = Stack::start(&[Service::Moto]);
    let receiver = FirehoseEndpoint::start(Answer::Firehose);
    let sdk = stack.sdk_config().await;
    let (ec2, fh, iam, logs, s3) = (
        flowlogs_aws_lite::ec2::Ec2::new(&sdk),
        aws_sdk_firehose::Client::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_cloudwatchlogs::Client::new(&sdk),
        aws_sdk_s3::Client::new(&sdk),
    );
    let vpc = stack.create_vpc("10.2.0.0/16").await;
    let cfg = config(&vpc, &receiver.url, 60).write(stack.dir());

    let plan = cfg.run(&stack, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    let shown = printed(&plan);
    assert!(shown.contains("+ firehose stream flowlogs-fh"), "{shown}");
    assert!(
        shown.contains("+ firehose iam role flowlogs-fh-firehose"),
        "{shown}"
    );
    assert!(
        shown.contains("access_key: secret flowlogs/fh/endpoint-credentials"),
        "{shown}"
    );
    assert!(!shown.contains(KEY), "the access key is never printed");

    // setup, with verify: the canary goes through the stream to the receiver
    let setup = cfg.run(&stack, &["setup", "--yes"]);
    assert_exit(&setup, 0);
    assert!(!printed(&setup).contains(KEY));
    // The role was made in the same setup: Firehose could not assume it yet, and setup waited.
    if stack
        .aws_behaviours()
        .iter()
        .any(|b| b == "consistency-role-firehose")
    {
        assert!(
            stack.was_injected("400 CreateDeliveryStream"),
            "consistency-role-firehose fired: {:?}",
            stack.injected()
        );
    }
    assert!(
        printed(&setup).contains("✓ test delivery"),
        "{}",
        printed(&setup)
    );

    let got = receiver.wait_for(1, Duration::from_secs(10));
    assert_eq!(got.len(), 1, "one canary record posted: {got:?}");
    assert_eq!(got[0].path, "/aws/default/vpcflowlog/_kinesis_firehose");
    if stack
        .aws_behaviours()
        .iter()
        .any(|b| b == "firehose-http-delivery")
    {
        // what AWS posts: gzip as configured, the key from the stack's secret, the attributes
        assert_eq!(got[0].header("content-encoding"), Some("gzip"));
        assert_eq!(got[0].header("x-amz-firehose-access-key"), Some(KEY));
        assert_eq!(
            got[0].header("x-amz-firehose-common-attributes"),
            Some(r#"{"commonAttributes":{"env":"test"}}"#)
        );
    }
    let records = got[0].records();
    assert_eq!(records.len(), 1);
    // a flow-log record as a flow log puts it into a stream: {"message":"<line>"}, no newline
    let record = &records[0];
    assert!(!record.ends_with('\n'), "{record:?}");
    let record: Value = serde_json::from_str(record).expect("the record is JSON");
    let line = record["message"]
        .as_str()
        .expect("its line is in `message`");
    assert_eq!(record.as_object().unwrap().len(), 1, "{record}");
    assert_eq!(line.lines().count(), 1, "{line:?}");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        fields[..5],
        ["5", ACCOUNT_ID, "192.0.2.10", "198.51.100.20", "ACCEPT"]
    );
    let end: u64 = fields[5].parse().expect("the canary's end time");
    assert!(end > 1_700_000_000);

    // the stream, as configured
    let described = fh
        .describe_delivery_stream()
        .delivery_stream_name(STREAM)
        .send()
        .await
        .unwrap();
    let d = described.delivery_stream_description().unwrap();
    assert_eq!(d.delivery_stream_status().as_str(), "ACTIVE");
    assert_eq!(d.delivery_stream_type().as_str(), "DirectPut");
    let stream_arn = d.delivery_stream_arn().to_string();
    assert_eq!(
        stream_arn,
        format!("arn:aws:firehose:{REGION}:{ACCOUNT_ID}:deliverystream/{STREAM}")
    );
    let h = d.destinations()[0]
        .http_endpoint_destination_description()
        .unwrap();
    assert_eq!(
        h.endpoint_configuration().unwrap().url(),
        Some(receiver.url.as_str())
    );
    assert_eq!(h.buffering_hints().unwrap().size_in_mbs(), Some(1));
    assert_eq!(h.buffering_hints().unwrap().interval_in_seconds(), Some(60));
    assert_eq!(h.retry_options().unwrap().duration_in_seconds(), Some(60));
    let request = h.request_configuration().unwrap();
    assert_eq!(request.content_encoding().unwrap().as_str(), "GZIP");
    assert_eq!(request.common_attributes()[0].attribute_name(), "env");
    assert_eq!(request.common_attributes()[0].attribute_value(), "test");
    let role_arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/{ROLE}");
    assert_eq!(h.role_arn(), Some(role_arn.as_str()));
    assert_eq!(h.s3_backup_mode().unwrap().as_str(), "FailedDataOnly");
    let backup = h.s3_destination_description().unwrap();
    assert_eq!(backup.bucket_arn(), format!("arn:aws:s3:::{BUCKET}"));
    assert_eq!(backup.prefix(), Some("firehose-failed/"));
    let logging = h.cloud_watch_logging_options().unwrap();
    assert_eq!(logging.enabled(), Some(true));
    assert_eq!(logging.log_group_name(), Some(LOG_GROUP));
    let tags = stream_tags(&fh).await;
    assert!(
        tags.contains(&("flowlogs:stack".into(), STACK.into())),
        "{tags:?}"
    );
    assert!(tags.contains(&("managed-by".into(), "flowlogs".into())));
    // the key is read by Firehose from the stack's secret, in no tag
    assert!(
        !tags.iter().any(|(k, _)| k == "flowlogs:access-key-hash"),
        "{tags:?}"
    );
    let secrets = h.secrets_manager_configuration().unwrap();
    assert!(secrets.enabled());
    assert!(
        secrets
            .secret_arn()
            .unwrap()
            .contains(":secret:flowlogs/fh/endpoint-credentials-"),
        "{secrets:?}"
    );

    // its error log group
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(LOG_GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups().len(), 1);

    // its role: trusted by Firehose for this account only, writing the backup prefix only
    let role = iam.get_role().role_name(ROLE).send().await.unwrap();
    let trust = role.role().unwrap().assume_role_policy_document().unwrap();
    let trust: Value = serde_json::from_str(&percent_decode(trust)).unwrap();
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "firehose.amazonaws.com");
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"],
        ACCOUNT_ID
    );
    let policy = iam
        .get_role_policy()
        .role_name(ROLE)
        .policy_name("flowlogs-firehose")
        .send()
        .await
        .unwrap();
    let policy = percent_decode(policy.policy_document());
    assert!(
        policy.contains(&format!("arn:aws:s3:::{BUCKET}/firehose-failed/*")),
        "{policy}"
    );
    assert!(!policy.contains("\"*\""), "{policy}");

    // the flow log: to the stream, no role passed
    let flow_logs = ec2
        .describe_flow_logs(
            &[],
            &[flowlogs_aws_lite::ec2::Filter::new("resource-id", [&vpc])],
        )
        .await
        .unwrap();
    let flow_log = &flow_logs[0];
    assert_eq!(flow_logs.len(), 1);
    assert_eq!(
        flow_log.log_destination_type.as_deref(),
        Some("kinesis-data-firehose")
    );
    assert_eq!(
        flow_log.log_destination.as_deref(),
        Some(stream_arn.as_str())
    );
    assert_eq!(flow_log.deliver_logs_permission_arn, None);
    assert_eq!(flow_log.log_format.as_deref(), Some(FORMAT));
    let flow_log_id = flow_log.id.clone();

    // AWS tags the stream for the flow log's delivery role; flowlogs must leave that tag alone
    fh.tag_delivery_stream()
        .delivery_stream_name(STREAM)
        .tags(
            aws_sdk_firehose::types::Tag::builder()
                .key("LogDeliveryEnabled")
                .value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // setup again: nothing to do
    let again = cfg.run(&stack, &["plan", "--detailed-exitcode"]);
    assert_exit(&again, 0);
    assert!(
        printed(&again).contains("No changes"),
        "{}",
        printed(&again)
    );
    crate::support::recorder::start(&stack.moto_endpoint);
    let again = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_exit(&again, 0);
    assert!(!printed(&again).contains("Applied"), "{}", printed(&again));
    assert_eq!(
        crate::support::recorder::writes(&stack.moto_endpoint),
        Vec::<String>::new(),
        "second setup must not write"
    );

    // a changed field is an update of the destination, naming the field; the flow log stays
    let changed = config(&vpc, &receiver.url, 120).write(stack.dir());
    let plan = changed.run(&stack, &["plan", "--detailed-exitcode"]);
    assert_exit(&plan, 2);
    assert!(
        printed(&plan).contains("buffering.interval_s: 60 -> 120"),
        "{}",
        printed(&plan)
    );
    assert!(printed(&plan).contains("Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."));
    let update = changed.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_exit(&update, 0);
    let described = fh
        .describe_delivery_stream()
        .delivery_stream_name(STREAM)
        .send()
        .await
        .unwrap();
    let h = described
        .delivery_stream_description()
        .unwrap()
        .destinations()[0]
        .http_endpoint_destination_description()
        .unwrap()
        .clone();
    assert_eq!(
        h.buffering_hints().unwrap().interval_in_seconds(),
        Some(120)
    );
    assert_eq!(
        h.endpoint_configuration().unwrap().url(),
        Some(receiver.url.as_str())
    );
    assert!(stream_tags(&fh)
        .await
        .contains(&("LogDeliveryEnabled".into(), "true".into())));
    let settled = changed.run(&stack, &["plan", "--detailed-exitcode"]);
    assert_exit(&settled, 0);

    // a new access key is a new value of the secret; the stream is not touched
    let rotated = stack
        .flowlogs()
        .args(["plan", "--detailed-exitcode", "-c"])
        .arg(&changed)
        .env("FH_ACCESS_KEY", "another-key")
        .output()
        .unwrap();
    assert_eq!(rotated.status.code(), Some(2), "{}", printed(&rotated));
    assert!(
        printed(&rotated).contains("~ secret flowlogs/fh/endpoint-credentials")
            && printed(&rotated).contains("value: changed")
            && !printed(&rotated).contains("firehose stream")
            && !printed(&rotated).contains("another-key"),
        "{}",
        printed(&rotated)
    );

    // switching to lambda mode plans the stream and its role away
    let to_lambda = lambda_config(&vpc).write_as(stack.dir(), "lambda.yaml");
    let zip = stack.dir().join("unused.zip");
    std::fs::write(&zip, b"plan does not read it").unwrap();
    let switch = to_lambda.plan_zip(&stack, &zip);
    assert_exit(&switch, 2);
    assert!(
        printed(&switch).contains("- firehose stream flowlogs-fh"),
        "{}",
        printed(&switch)
    );
    assert!(printed(&switch).contains("- firehose iam role flowlogs-fh-firehose"));
    assert!(
        printed(&switch).contains("-/+ flow log"),
        "{}",
        printed(&switch)
    );

    // teardown: stream, role, log group and flow log go; the bucket stays
    let teardown = changed.run(&stack, &["teardown", "--yes"]);
    assert_exit(&teardown, 0);
    let gone = fh
        .describe_delivery_stream()
        .delivery_stream_name(STREAM)
        .send()
        .await
        .expect_err("the stream is deleted");
    assert!(gone
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception()));
    assert!(iam.get_role().role_name(ROLE).send().await.is_err());
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(LOG_GROUP)
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty());
    let remaining = ec2
        .describe_flow_logs(std::slice::from_ref(&flow_log_id), &[])
        .await
        .unwrap();
    assert!(remaining.is_empty());
    s3.head_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("teardown keeps the bucket");
    let after = changed.run(&stack, &["teardown", "--yes"]);
    assert_exit(&after, 0);
    assert!(
        printed(&after).contains("Nothing to delete"),
        "{}",
        printed(&after)
    );
}

/// IAM returns policy documents URL-encoded.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_fails_when_firehose_cannot_deliver_the_canary() {
    let stack = Stack::start(&[Service::Moto]);
    let vpc = stack.create_vpc("10.3.0.0/16").await;
    // Nothing listens there. With `firehose-http-delivery` (no retry configured) the stream backs
    // the canary up to the bucket at once and verify finds it there; moto alone fails the PutRecord.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/firehose", closed.local_addr().unwrap());
    drop(closed);
    let cfg = config_retrying(&vpc, &url, 60, 0).write(stack.dir());
    let setup = cfg.run(&stack, &["setup", "--yes"]);
    assert_exit(&setup, 1);
    let shown = printed(&setup);
    assert!(
        shown.contains("✓ firehose stream flowlogs-fh: ACTIVE"),
        "{shown}"
    );
    assert!(shown.contains("✗ test delivery"), "{shown}");
    assert!(shown.contains("verify failed"), "{shown}");
    if stack
        .aws_behaviours()
        .iter()
        .any(|b| b == "firehose-http-delivery")
    {
        assert!(
            shown.contains("Firehose gave up on the canary")
                && shown.contains("HttpEndpoint.ConnectionFailed")
                && shown.contains("could not reach the endpoint"),
            "{shown}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_fails_when_the_endpoint_does_not_acknowledge_as_firehose_requires() {
    let stack = Stack::start(&[Service::Moto]);
    if !stack
        .aws_behaviours()
        .iter()
        .any(|b| b == "firehose-http-delivery")
    {
        return; // moto counts any answer as delivered
    }
    let vpc = stack.create_vpc("10.4.0.0/16").await;
    // an endpoint that answers 200 without echoing the request id: Firehose does not count it
    let careless = FirehoseEndpoint::start(Answer::Fixed(200, "{}".into()));
    let cfg = config_retrying(&vpc, &careless.url, 60, 0).write(stack.dir());
    let setup = cfg.run(&stack, &["setup", "--yes"]);
    assert_exit(&setup, 1);
    let shown = printed(&setup);
    assert!(shown.contains("✗ test delivery"), "{shown}");
    assert!(
        shown.contains("HttpEndpoint.InvalidResponseFromDestination")
            && shown.contains("echoes the request's requestId"),
        "{shown}"
    );
    assert_eq!(
        careless.received().len(),
        1,
        "posted once, not retried (retry_duration_s: 0)"
    );
}
