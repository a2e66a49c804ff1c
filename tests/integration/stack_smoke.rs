//! Proves the local-stack harness itself: moto answers the SDK, rotel's capture records what
//! arrives over OTLP/HTTP (JSON and gzip protobuf), and a Lambda Invoke through the router
//! reaches the forwarder binary.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::settle::settled;
use crate::support::{Behaviours, Service, Stack};
use serde_json::{json, Value};

/// POST `body` to `url` (http://host:port/path) with std only; returns the status code.
fn post(url: &str, content_type: &str, body: &[u8]) -> u16 {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(host).expect("connect to the collector");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line")
}

#[tokio::test]
async fn moto_answers_the_sdk_and_rotel_captures_otlp_logs() {
    // moto as it is: no AWS behaviour puts the router in front of it.
    let stack = Stack::start_with(&[Service::Moto, Service::Rotel], Behaviours::none());
    assert_eq!(stack.aws_endpoint, stack.moto_endpoint);

    // moto, through the same SDK configuration the tests read back with
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    s3.create_bucket()
        .bucket("smoke-bucket")
        .send()
        .await
        .expect("CreateBucket on moto");
    let buckets = s3.list_buckets().send().await.expect("ListBuckets on moto");
    assert!(buckets
        .buckets()
        .iter()
        .any(|b| b.name() == Some("smoke-bucket")));

    // OTLP/HTTP JSON
    let request = json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "cloud.provider", "value": {"stringValue": "aws"}}]},
        "scopeLogs": [{"scope": {"name": "smoke"}, "logRecords": [{
            "timeUnixNano": "1718806806000000000",
            "body": {"stringValue": "REJECT tcp 203.0.113.9:51234 -> 10.0.1.5:22"},
            "attributes": [
                {"key": "source.port", "value": {"intValue": "51234"}},
                {"key": "aws.vpc.flow.action", "value": {"stringValue": "REJECT"}}
            ]
        }]}]
    }]});
    let status = post(
        &format!("{}/v1/logs", stack.otlp_endpoint),
        "application/json",
        request.to_string().as_bytes(),
    );
    assert_eq!(status, 200);

    // OTLP/HTTP protobuf, gzip
    let out = std::process::Command::new(crate::support::python())
        .arg(crate::support::workspace_root().join("devstack/otlp_send.py"))
        .args([
            "--endpoint",
            &stack.otlp_endpoint,
            "--protocol",
            "protobuf",
            "--gzip",
        ])
        .args(["--body", "from protobuf", "--attr", "destination.port=443"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "otlp_send.py: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let records = stack.wait_for_exactly(2, Duration::from_secs(20));
    let json_record = records
        .iter()
        .find(|r| r["scope"] == "smoke")
        .expect("the JSON record");
    assert_eq!(json_record["resource"]["cloud.provider"], "aws");
    assert_eq!(json_record["attributes"]["source.port"], 51234);
    assert_eq!(json_record["attributes"]["aws.vpc.flow.action"], "REJECT");
    assert_eq!(
        json_record["body"],
        "REJECT tcp 203.0.113.9:51234 -> 10.0.1.5:22"
    );
    assert_eq!(json_record["time_unix_nano"], 1718806806000000000u64);
    let pb_record = records
        .iter()
        .find(|r| r["body"] == "from protobuf")
        .expect("the protobuf record");
    assert_eq!(pb_record["attributes"]["destination.port"], 443);
}

#[tokio::test]
async fn lambda_invoke_goes_through_the_router_to_the_forwarder() {
    let stack = Stack::start(&[Service::Lambda]);
    assert_ne!(
        stack.aws_endpoint, stack.moto_endpoint,
        "the router fronts moto"
    );
    let config = stack.sdk_config().await;

    let iam = aws_sdk_iam::Client::new(&config);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = iam
        .create_role()
        .role_name("smoke-forwarder")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole through the router");
    let role_arn = role.role().map(|r| r.arn().to_string()).unwrap();

    let lambda = aws_sdk_lambda::Client::new(&config);
    let mut zip_bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut zip_bytes));
        zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"the router runs the local build, not this")
            .unwrap();
        zip.finish().unwrap();
    }
    // A role just made: Lambda may not assume it yet (the stack's consistency-role-lambda).
    settled("CreateFunction on moto", || {
        lambda
            .create_function()
            .function_name("smoke-forwarder")
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .handler("bootstrap")
            .role(&role_arn)
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(zip_bytes.clone().into())
                    .build(),
            )
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .variables("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
                    .build(),
            )
            .send()
    })
    .await;

    // Not an S3 event: the forwarder may answer with a report or a function error; either way
    // the answer comes from the real binary, the AWS way (200, X-Amz-Function-Error).
    let out = lambda
        .invoke()
        .function_name("smoke-forwarder")
        .payload(aws_smithy_types::Blob::new(br#"{"Records": []}"#.to_vec()))
        .send()
        .await
        .expect("Invoke through the router");
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    let payload: Value =
        serde_json::from_slice(out.payload().map(|p| p.as_ref()).unwrap_or(b"null"))
            .expect("a JSON payload");
    eprintln!(
        "forwarder answered {payload} (function error: {:?})",
        out.function_error()
    );
    let forwarder_log = std::fs::read_to_string(stack.dir().join("logs/forwarder.log")).unwrap();
    assert!(
        forwarder_log.contains("starting"),
        "the router started the forwarder:\n{forwarder_log}"
    );

    let missing = lambda
        .invoke()
        .function_name("no-such-function")
        .send()
        .await;
    let err = missing.expect_err("Invoke of a missing function");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "expected ResourceNotFoundException, got {err:?}"
    );
}
