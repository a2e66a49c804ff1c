//! The whole pipeline on the local stack: `setup` builds the real forwarder, deploys it, and its
//! verify sends a canary through the function (run by cargo-lambda) to a real collector (rotel).
//! Then each broken link makes `verify` fail with the matching ✗ line and its fix.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use support::{printed, write, Service, Stack, ACCOUNT_ID, REGION};

const BUCKET: &str = "e2e-flowlogs-123456789012-us-east-1";
const FUNCTION: &str = "flowlogs-e2e-forwarder";

fn config(vpc: &str, endpoint: &str) -> String {
    format!(
        "version: 1\nstack: e2e\nregion: {REGION}\nflow_log:\n  resources: {{ vpc_ids: [{vpc}] }}\n  format: all\ndelivery:\n  otlp:\n    endpoint: {endpoint}\n    headers: {{ x-team: network }}\n"
    )
}

fn write_config(stack: &Stack, text: &str) -> PathBuf {
    write(stack.dir(), "flowlogs.yaml", text)
}

fn attribute<'a>(record: &'a Value, key: &str) -> &'a Value {
    &record["attributes"][key]
}

/// An OTLP endpoint that refuses everything with 400 (a bad request is never retried).
fn refusing_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(50) {
            let mut stream = stream;
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut buffer = [0u8; 65536];
            let _ = stream.read(&mut buffer);
            let body = "{\"message\":\"refused by test\"}";
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_proves_delivery_to_the_collector_and_verify_names_each_broken_link() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let sdk = stack.sdk_config().await;
    let (s3, ec2, lambda) = (
        aws_sdk_s3::Client::new(&sdk),
        aws_sdk_ec2::Client::new(&sdk),
        aws_sdk_lambda::Client::new(&sdk),
    );
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let cfg = write_config(&stack, &config(&vpc, &stack.otlp_endpoint));

    // setup builds the forwarder with cargo-lambda, deploys it, and verifies with a canary.
    let setup = stack.run(&cfg, &["setup", "--yes"], &[]);
    assert_eq!(setup.status.code(), Some(0), "{}", printed(&setup));
    let text = printed(&setup);
    assert!(
        text.contains("✓ test delivery: 3 canary records parsed and accepted"),
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

    // A healthy pipeline verifies again.
    let verify = stack.run(&cfg, &["verify"], &[]);
    assert_eq!(verify.status.code(), Some(0), "{}", printed(&verify));

    // A missing notification entry.
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(aws_sdk_s3::types::NotificationConfiguration::builder().build())
        .send()
        .await
        .unwrap();
    let verify = stack.run(&cfg, &["verify"], &[]);
    assert_eq!(verify.status.code(), Some(1));
    let text = printed(&verify);
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
    let verify = stack.run(&cfg, &["verify"], &[]);
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
    let verify = stack.run(&cfg, &["verify"], &[]);
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
    let cfg = write_config(&stack, &config(&vpc, &refusing_endpoint()));
    let setup = stack.run(&cfg, &["setup", "--yes"], &[]);
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
    let teardown = stack.run(&cfg, &["teardown", "--yes", "--delete-data"], &[]);
    assert_eq!(teardown.status.code(), Some(0), "{}", printed(&teardown));
    assert!(s3.head_bucket().bucket(BUCKET).send().await.is_err());
    assert!(lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .is_err());
    let ours = aws_sdk_ec2::types::Filter::builder()
        .name("tag:flowlogs:stack")
        .values("e2e")
        .build();
    assert!(ec2
        .describe_flow_logs()
        .filter(ours)
        .send()
        .await
        .unwrap()
        .flow_logs()
        .is_empty());
}
