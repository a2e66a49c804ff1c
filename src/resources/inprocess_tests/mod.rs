//! In-process tests of each resource's AWS edge: its observe function and the helpers that call
//! AWS, run against canned AWS answers (`aws-smithy-mocks`, from the SDK's own project) instead of
//! the devstack. Here go the corner cases of one resource that moto does not show or that would
//! need an emulator patch: not-found answers of every shape, paging, throttling, access denied,
//! AWS's odd answers (AWS-FACTS.md). One file per resource.
//!
//! Answers are given as AWS sends them on the wire (`http`: status, headers, XML or JSON body)
//! where the product reads the raw answer or an error code the SDK does not model; otherwise as
//! the SDK's modelled outputs and errors. EC2's and Glue's are always on the wire (`ec2_wire`,
//! `glue_wire`): flowlogs reaches them through its own clients (`flowlogs_aws_lite`), not SDK
//! crates.

mod bucket;
mod bucket_policy;
pub mod ec2_wire;
mod event_invoke_config;
mod event_rule;
mod failure_bucket;
mod flow_log;
mod function;
mod glue_database;
mod glue_table;
pub mod glue_wire;
mod log_group;
mod named_queries;
mod notification;
mod permission;
mod role;
mod secret;
mod stream;
mod tgw_flow_log;
mod wire;

use std::path::Path;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

use crate::aws::Clients;
use crate::desired::{self, Desired};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// The SDK config every mocked client starts from: the product's retry mode (standard, 3 attempts,
/// what `aws_config::defaults` gives `crate::aws::sdk_config`) with a 1 ms first backoff so a
/// throttled call is retried without seconds of waiting; test credentials; no network (the mock
/// HTTP client answers everything).
pub fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDINPROCESSTEST",
            "not-a-secret",
            None,
            None,
            "inprocess-tests",
        )))
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .build()
}

/// The interceptor that answers a client's calls from `rules`, in any order; a call no rule
/// matches panics (naming the request), so a test sees every call it did not expect.
pub fn answers(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |interceptor, rule| interceptor.with_rule(rule),
    )
}

/// One SDK client of crate `$sdk` answering from `$rules` (a slice of `&Rule`).
macro_rules! client {
    ($sdk:ident, $rules:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from(&$crate::resources::inprocess_tests::sdk_config())
                .interceptor($crate::resources::inprocess_tests::answers($rules))
                .build(),
        )
    };
}
pub(crate) use client;

/// Clients of which every one panics on any call: start from these and replace the one the test
/// gives answers to, `Clients { s3: client!(aws_sdk_s3, &[..]), ..no_calls() }`.
pub fn no_calls() -> Clients {
    Clients {
        s3: client!(aws_sdk_s3, &[]),
        ec2: ec2_wire::client(&[], None),
        iam: client!(aws_sdk_iam, &[]),
        lambda: client!(aws_sdk_lambda, &[]),
        sts: client!(aws_sdk_sts, &[]),
        firehose: client!(aws_sdk_firehose, &[]),
        logs: client!(aws_sdk_cloudwatchlogs, &[]),
        glue: glue_wire::client(&[]),
        athena: client!(aws_sdk_athena, &[]),
        secrets: client!(aws_sdk_secretsmanager, &[]),
        events: client!(aws_sdk_eventbridge, &[]),
        region: REGION.to_string(),
    }
}

/// A raw HTTP answer, as AWS puts it on the wire.
pub fn http(status: u16, headers: &[(&'static str, &str)], body: &str) -> Response {
    let mut response = Response::new(
        StatusCode::try_from(status).expect("an HTTP status"),
        SdkBody::from(body.to_string()),
    );
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.to_string());
    }
    response
}

/// S3's XML error document (S3 REST error responses).
pub fn s3_error(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>"
    )
}

/// The EC2 query protocol's error document.
pub fn ec2_error(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>"
    )
}

/// The IAM (AWS query protocol) error document.
pub fn iam_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req</RequestId></ErrorResponse>"
    )
}

/// A stack's desired values (and its names) from a minimal config: stack `s`, two VPCs, OTLP.
pub fn desired() -> Desired {
    let text = "version: 1\nstack: s\nflow_log:\n  resources: { vpc_ids: [vpc-1, vpc-2] }\ndelivery: { otlp: { endpoint: http://x } }\n";
    let c = crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
    desired::build(&c, ACCOUNT, REGION, "h").unwrap()
}

/// The whole chain of an error, as the user reads it (`{:#}`).
pub fn said(err: &anyhow::Error) -> String {
    format!("{err:#}")
}
