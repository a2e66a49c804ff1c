//! The forwarder against the local stack: objects in a moto S3 bucket, records read back from
//! a real rotel collector. The handler runs in process for every input shape and both
//! protocols; the release `bootstrap` runs behind a Lambda Invoke for the deployer's path.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::support::settle::{bucket_usable, settled};
use crate::support::{gzip, Service, Stack};
use flowlogs_forwarder::export::{ExportConfig, Exporter};
use flowlogs_forwarder::handler::{self, Margins, S3Source};
use serde_json::{json, Value};

const BUCKET: &str = "flow-logs";
const PREFIX: &str = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/19/";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        crate::support::workspace_root()
            .join("lambda/tests/fixtures")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// One gzip member per line: the shape of a concatenated upload.
fn multi_member_gzip(data: &[u8]) -> Vec<u8> {
    data.split_inclusive(|&b| b == b'\n')
        .flat_map(gzip)
        .collect()
}

fn s3_event(objects: &[(&str, usize)]) -> Value {
    let records: Vec<Value> = objects
        .iter()
        .map(|(key, size)| {
            // As S3 sends them: URL-encoded, `+` for a space.
            let encoded: String = key
                .chars()
                .map(|c| match c {
                    ' ' => "+".to_string(),
                    '+' => "%2B".to_string(),
                    '=' => "%3D".to_string(),
                    c => c.to_string(),
                })
                .collect();
            json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                   "eventTime": "2024-06-19T14:05:00.000Z", "eventName": "ObjectCreated:Put",
                   "userIdentity": {"principalId": "AWS:EXAMPLE"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                   "responseElements": {}, "s3": {"s3SchemaVersion": "1.0", "configurationId": "flowlogs",
                   "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
                   "object": {"key": encoded, "size": size}}})
        })
        .collect();
    json!({ "Records": records })
}

struct Case {
    key: String,
    data: Vec<u8>,
    records: usize,
    skipped: u64,
}

fn cases() -> Vec<Case> {
    let bad = b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
        2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 51000 6 10 8400 1718806700 1718806760 ACCEPT OK\n\
        2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 51000 6 10\n\
        2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 5x000 6 10 8400 1718806700 1718806760 ACCEPT OK\n\
        2 123456789012 eni-1 10.0.0.3 10.0.0.2 443 51001 6 10 8400 1718806700 1718806760 REJECT OK\n";
    let custom = fixture("custom-v5.log");
    let custom_records = custom
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count()
        - 1;
    let all = fixture("all-fields-v8.log");
    let all_records = all.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count() - 1;
    let case = |name: &str, data: Vec<u8>, records, skipped| Case {
        key: format!("{PREFIX}{name}"),
        data,
        records,
        skipped,
    };
    vec![
        case("plain default.log", fixture("default-v2.log"), 7, 0),
        case("default-1k.log.gz", fixture("default-1k.log.gz"), 1000, 0),
        case(
            "custom multi=member.log.gz",
            multi_member_gzip(&custom),
            custom_records,
            0,
        ),
        case(
            "all-fields.log.parquet",
            flowlogs_forwarder::convert::text_to_parquet(&all).unwrap(),
            all_records,
            0,
        ),
        case("empty.log.gz", Vec::new(), 0, 0),
        case("bad-lines.log", bad.to_vec(), 2, 2),
    ]
}

async fn put_all(stack: &Stack, cases: &[Case]) {
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    bucket_usable(&s3, BUCKET).await;
    for c in cases {
        s3.put_object()
            .bucket(BUCKET)
            .key(&c.key)
            .body(c.data.clone().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {}: {e:?}", c.key));
    }
}

/// Runs the handler in process on one S3 event for `cases`, exporting with the `OTEL_*`/`FLOWLOGS_*`
/// settings of `env` in batches of at most `max_batch_bytes`: the report, the lines it logged and
/// the exporter's concurrency.
async fn forward(
    stack: &Stack,
    cases: &[Case],
    env: &[(&str, String)],
    max_batch_bytes: usize,
) -> (flowlogs_forwarder::report::Report, Vec<String>, usize) {
    let mut config =
        ExportConfig::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    config.max_batch_bytes = max_batch_bytes;
    let concurrency = config.concurrency;
    let exporter = Exporter::new(config, None).unwrap();
    let source = S3Source(aws_sdk_s3::Client::new(&stack.sdk_config().await));
    let event = s3_event(
        &cases
            .iter()
            .map(|c| (c.key.as_str(), c.data.len()))
            .collect::<Vec<_>>(),
    );
    let mut lines_logged = Vec::new();
    let report = handler::handle_logged(
        &source,
        &exporter,
        event,
        Some(Instant::now() + Duration::from_secs(60)),
        Margins::default(),
        &mut |l| lines_logged.push(l.to_string()),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.log_tails()));
    (report, lines_logged, concurrency)
}

fn attr<'a>(record: &'a Value, key: &str) -> &'a Value {
    &record["attributes"][key]
}

async fn every_record_arrives_exactly_once(protocol: &str) {
    let stack = Stack::start(&[Service::Moto, Service::Rotel]);
    let cases = cases();
    put_all(&stack, &cases).await;

    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", stack.otlp_endpoint.clone()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_string()),
        ("OTEL_SERVICE_NAME", "flows-under-test".to_string()),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=ci".to_string(),
        ),
    ];
    // several batches for the 1k file
    let (report, _, _) = forward(&stack, &cases, &env, 100 * 1024).await;

    let total: usize = cases.iter().map(|c| c.records).sum();
    assert_eq!(report.objects, 5, "the zero-byte object is skipped");
    assert_eq!(report.records, total as u64);
    assert_eq!(report.forwarded, total as u64);
    assert_eq!(report.rejected, 0);
    assert_eq!(
        report.skipped_lines,
        cases.iter().map(|c| c.skipped).sum::<u64>()
    );
    assert_eq!(report.retries, 0);
    assert!(report.batches >= 6, "{report:?}");

    let captured = stack.wait_for_exactly(total, Duration::from_secs(60));
    let uids: BTreeSet<&str> = captured
        .iter()
        .map(|r| attr(r, "log.record.uid").as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), total, "every record has its own log.record.uid");

    let mut per_key: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &captured {
        let res = &r["resource"];
        assert_eq!(res["cloud.provider"], "aws");
        assert_eq!(res["service.name"], "flows-under-test");
        assert_eq!(res["deployment.environment"], "ci");
        assert_eq!(res["aws.s3.bucket"], BUCKET);
        assert_eq!(r["scope"], "flowlogs-forwarder");
        assert!(r["observed_time_unix_nano"].as_u64().unwrap() > 0);
        *per_key
            .entry(res["aws.s3.key"].as_str().unwrap())
            .or_default() += 1;
    }
    for c in &cases {
        assert_eq!(
            per_key.get(c.key.as_str()).copied().unwrap_or(0),
            c.records,
            "{}",
            c.key
        );
    }

    // The first record of the default fixture, attribute by attribute.
    let first = captured
        .iter()
        .find(|r| r["body"] == "REJECT udp 74.82.47.48:34888 -> 10.0.12.216:123 1 packets 40 bytes")
        .expect("the first default record");
    assert_eq!(first["resource"]["cloud.account.id"], "901660615925");
    assert_eq!(first["resource"]["cloud.region"], "us-east-1");
    assert_eq!(
        first["resource"]["aws.s3.key"],
        format!("{PREFIX}plain default.log")
    );
    assert_eq!(first["time_unix_nano"], 1_718_806_806_000_000_000u64);
    for (k, v) in [
        ("source.address", json!("74.82.47.48")),
        ("destination.address", json!("10.0.12.216")),
        ("source.port", json!(34888)),
        ("destination.port", json!(123)),
        ("network.protocol.name", json!("udp")),
        ("aws.vpc.flow.protocol", json!(17)),
        ("network.interface.name", json!("eni-00257d510cfc77a72")),
        ("aws.vpc.flow.packets", json!(1)),
        ("aws.vpc.flow.bytes", json!(40)),
        ("aws.vpc.flow.start", json!(1718806751)),
        ("aws.vpc.flow.action", json!("REJECT")),
        ("aws.vpc.flow.status", json!("OK")),
    ] {
        assert_eq!(attr(first, k), &v, "{k}");
    }
    // The same for the whole object: on the resource.
    assert_eq!(first["resource"]["aws.vpc.flow.log.version"], json!(2));

    // NODATA / SKIPDATA are kept with their status and no traffic attributes.
    let nodata: Vec<&Value> = captured
        .iter()
        .filter(|r| attr(r, "aws.vpc.flow.status") == "NODATA")
        .collect();
    assert!(!nodata.is_empty());
    assert!(nodata.iter().all(|r| attr(r, "source.address").is_null()));
    assert!(captured
        .iter()
        .any(|r| attr(r, "aws.vpc.flow.status") == "SKIPDATA"));

    // Parquet records carry the v3..v8 fields, typed as in text.
    let parquet: Vec<&Value> = captured
        .iter()
        .filter(|r| {
            r["resource"]["aws.s3.key"]
                .as_str()
                .unwrap()
                .ends_with(".parquet")
        })
        .collect();
    let ecs = parquet
        .iter()
        .find(|r| attr(r, "aws.ecs.service.name") == "checkout")
        .expect("an ECS record");
    assert!(attr(ecs, "aws.ecs.task.id").is_string());
    assert!(attr(ecs, "aws.vpc.id")
        .as_str()
        .unwrap()
        .starts_with("vpc-"));
    assert!(attr(ecs, "source.port").is_i64());
    assert!(parquet
        .iter()
        .any(|r| attr(r, "network.io.direction") == "receive"));
    assert!(parquet.iter().any(|r| attr(r, "network.type") == "ipv4"));

    // Custom order (multi-member gzip): fields found by name, not position.
    let custom: Vec<&Value> = captured
        .iter()
        .filter(|r| {
            r["resource"]["aws.s3.key"]
                .as_str()
                .unwrap()
                .contains("multi=member")
        })
        .collect();
    assert!(custom
        .iter()
        .all(|r| r["resource"]["aws.vpc.flow.log.version"] == 5));
    assert!(custom
        .iter()
        .any(|r| attr(r, "aws.vpc.flow.destination.service") == "DYNAMODB"));
}

#[tokio::test]
async fn every_record_arrives_exactly_once_over_protobuf() {
    every_record_arrives_exactly_once("http/protobuf").await;
}

#[tokio::test]
async fn every_record_arrives_exactly_once_over_json() {
    every_record_arrives_exactly_once("http/json").await;
}

async fn create_function(stack: &Stack, name: &str, env: &[(&str, &str)]) {
    let config = stack.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole");
    let mut zip_bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut zip_bytes));
        zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"the router runs the local build").unwrap();
        zip.finish().unwrap();
    }
    let mut vars = aws_sdk_lambda::types::Environment::builder();
    for (k, v) in env {
        vars = vars.variables(*k, *v);
    }
    let vars = vars.build();
    let lambda = aws_sdk_lambda::Client::new(&config);
    settled("CreateFunction", || {
        lambda
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .handler("bootstrap")
            .timeout(60)
            .role(role.role().unwrap().arn())
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(zip_bytes.clone().into())
                    .build(),
            )
            .environment(vars.clone())
            .send()
    })
    .await;
}

async fn invoke(stack: &Stack, name: &str, event: &Value) -> (Option<String>, Value) {
    let out = aws_sdk_lambda::Client::new(&stack.sdk_config().await)
        .invoke()
        .function_name(name)
        .payload(aws_smithy_types::Blob::new(event.to_string().into_bytes()))
        .send()
        .await
        .expect("Invoke");
    let payload =
        serde_json::from_slice(out.payload().map(|p| p.as_ref()).unwrap_or(b"null")).unwrap();
    (out.function_error().map(str::to_string), payload)
}

#[tokio::test]
async fn bootstrap_returns_the_report_and_fails_when_delivery_fails() {
    let stack = Stack::start(&[Service::Lambda, Service::Rotel]);
    let key = format!("{PREFIX}123456789012_vpcflowlogs_us-east-1_fl-1_20240619T1405Z_abc.log.gz");
    let data = fixture("default-1k.log.gz");
    let size = data.len();
    put_all(
        &stack,
        &[Case {
            key: key.clone(),
            data,
            records: 1000,
            skipped: 0,
        }],
    )
    .await;
    let event = s3_event(&[(key.as_str(), size)]);

    create_function(
        &stack,
        "forwarder",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &stack.otlp_endpoint)],
    )
    .await;
    let (error, payload) = invoke(&stack, "forwarder", &event).await;
    assert_eq!(error, None, "{payload}\n{}", stack.log_tails());
    assert_eq!(payload["objects"], 1);
    assert_eq!(payload["records"], 1000);
    assert_eq!(payload["forwarded"], 1000);
    assert_eq!(payload["rejected"], 0);
    assert_eq!(payload["skipped_lines"], 0);
    assert!(payload["batches"].as_u64().unwrap() >= 1);
    let report: flowlogs_forwarder::report::Report = serde_json::from_value(payload).unwrap();
    assert_eq!(report.forwarded, 1000);
    stack.wait_for_exactly(1000, Duration::from_secs(60));

    // A test event is answered with an empty report.
    let (error, payload) = invoke(
        &stack,
        "forwarder",
        &json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
    )
    .await;
    assert_eq!((error, &payload["records"]), (None, &json!(0)));

    // An endpoint that refuses the records: a function error that says how much was sent.
    let refusing = format!("{}/v1/not-logs", stack.otlp_endpoint);
    create_function(
        &stack,
        "refused",
        &[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &refusing)],
    )
    .await;
    let (error, payload) = invoke(&stack, "refused", &event).await;
    assert!(error.is_some(), "expected a function error, got {payload}");
    let message = payload["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("forwarded 0 of"), "{payload}");
}

/// A collector behind a company's own certificate authority (issue 22, item 7): the function
/// trusts the platform's certificate store, so the authority named by `SSL_CERT_FILE` makes
/// delivery work, and without it the function fails at once, naming the certificate and the fix,
/// rather than retrying a handshake that cannot succeed.
#[tokio::test]
async fn the_function_trusts_the_platforms_certificate_store_for_the_endpoint() {
    let stack = Stack::start(&[Service::Lambda, Service::Rotel, Service::OtlpTls]);
    let endpoint = stack.state()["otlp_tls_endpoint"]
        .as_str()
        .expect("otlp_tls_endpoint")
        .to_string();
    let ca_file = stack.state()["otlp_tls_ca_file"]
        .as_str()
        .expect("otlp_tls_ca_file")
        .to_string();
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    let key = format!("{PREFIX}123456789012_vpcflowlogs_us-east-1_fl-1_20240619T1405Z_tls.log.gz");
    let data = fixture("default-1k.log.gz");
    let size = data.len();
    put_all(
        &stack,
        &[Case {
            key: key.clone(),
            data,
            records: 1000,
            skipped: 0,
        }],
    )
    .await;
    let event = s3_event(&[(key.as_str(), size)]);

    create_function(
        &stack,
        "untrusting",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
    )
    .await;
    let started = Instant::now();
    let (error, payload) = invoke(&stack, "untrusting", &event).await;
    assert!(error.is_some(), "expected a function error, got {payload}");
    let message = payload["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("UnknownIssuer")
            && message.contains("does not trust")
            && message.contains("SSL_CERT_FILE"),
        "the error names the certificate and the fix: {payload}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "an untrusted certificate is not retried for a minute: {:?}",
        started.elapsed()
    );

    create_function(
        &stack,
        "trusting",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("SSL_CERT_FILE", &ca_file),
        ],
    )
    .await;
    let (error, payload) = invoke(&stack, "trusting", &event).await;
    assert_eq!(error, None, "{payload}\n{}", stack.log_tails());
    assert_eq!(payload["records"], 1000);
    assert_eq!(payload["forwarded"], 1000);
    stack.wait_for_exactly(1000, Duration::from_secs(60));
}

/// What the test's filter should drop, decided here independently of the forwarder's filter:
/// NODATA and SKIPDATA, ACCEPTs between two private ranges, REJECTs to port 123.
fn dropped_by_test_filter(line: &str) -> bool {
    let f: Vec<&str> = line.split_whitespace().collect();
    let (src, dst, dport, action, status) = (f[3], f[4], f[6], f[12], f[13]);
    let private = |a: &str| match a.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => ip.octets()[0] == 10 || (ip.octets()[0] == 172 && ip.octets()[1] & 0xf0 == 16),
        Err(_) => false,
    };
    status == "NODATA"
        || status == "SKIPDATA"
        || (action == "ACCEPT" && private(src) && private(dst))
        || (action == "REJECT" && dport == "123")
}

const TEST_FILTER: &str = r#"[{"log_status":["NODATA","SKIPDATA"]},
    {"action":["ACCEPT"],"source":["10.0.0.0/8","172.16.0.0/12"],"destination":["10.0.0.0/8","172.16.0.0/12"]},
    {"action":["REJECT"],"destination_port":[123]}]"#;

/// `delivery.filter` (issue 27): the filtered records never reach the collector, every other one
/// does exactly once, and the report accounts for each record read: records = forwarded +
/// filtered (+ rejected, none here).
#[tokio::test]
async fn the_filter_drops_what_it_says_and_the_report_counts_every_record() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel]);
    let plain = fixture("default-v2.log");
    let gz = fixture("default-1k.log.gz");
    let cases = vec![
        Case {
            key: format!("{PREFIX}filter-plain.log"),
            data: plain.clone(),
            records: 7,
            skipped: 0,
        },
        Case {
            key: format!("{PREFIX}filter-1k.log.gz"),
            data: gz.clone(),
            records: 1000,
            skipped: 0,
        },
    ];
    put_all(&stack, &cases).await;
    let mut text = String::from_utf8(plain).unwrap();
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
        .unwrap();
    text.push_str(&unzipped);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("version") && !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1007);
    let expected_filtered = lines.iter().filter(|l| dropped_by_test_filter(l)).count() as u64;
    assert!(
        expected_filtered > 200 && expected_filtered < 1007,
        "{expected_filtered}"
    );

    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", stack.otlp_endpoint.clone()),
        ("FLOWLOGS_FILTER", TEST_FILTER.to_string()),
    ];
    let (report, lines_logged, _) = forward(&stack, &cases, &env, 64 * 1024).await;

    assert_eq!(report.records, 1007);
    assert_eq!(report.filtered, expected_filtered);
    assert_eq!(report.rejected, 0);
    assert_eq!(
        report.records,
        report.forwarded + report.filtered + report.rejected
    );
    // Each object's line says the same, and calls the object delivered.
    let objects: Vec<_> = lines_logged
        .iter()
        .filter_map(|l| flowlogs_forwarder::report::parse_object_line(l))
        .collect();
    assert_eq!(objects.len(), 2);
    assert!(objects
        .iter()
        .all(|o| o.ok && o.records == o.forwarded + o.filtered && o.filtered > 0));

    let captured =
        stack.wait_for_exactly((1007 - expected_filtered) as usize, Duration::from_secs(60));
    for r in &captured {
        let a = |k: &str| attr(r, k).clone();
        let status = a("aws.vpc.flow.status");
        assert!(status == "OK", "a {status} record was sent: {r}");
        let private = |v: Value| match v.as_str().unwrap().parse::<std::net::Ipv4Addr>() {
            Ok(ip) => {
                ip.octets()[0] == 10 || (ip.octets()[0] == 172 && ip.octets()[1] & 0xf0 == 16)
            }
            Err(_) => false,
        };
        if a("aws.vpc.flow.action") == "ACCEPT" {
            assert!(
                !(private(a("source.address")) && private(a("destination.address"))),
                "an internal ACCEPT was sent: {r}"
            );
        } else {
            assert_ne!(a("destination.port"), json!(123), "{r}");
        }
    }
}

/// `compression: zstd` against an endpoint that answers 415 to it (issue 27): the forwarder
/// sends the same records with gzip, once it knows for the rest of the invocation, loses none,
/// and its report says so.
#[tokio::test]
async fn a_415_to_zstd_falls_back_to_gzip_with_nothing_lost() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::OtlpNoZstd]);
    let endpoint = stack.state()["otlp_no_zstd_endpoint"]
        .as_str()
        .expect("otlp_no_zstd_endpoint")
        .to_string();
    let requests_file = stack.state()["otlp_no_zstd_requests_file"]
        .as_str()
        .expect("otlp_no_zstd_requests_file")
        .to_string();
    let cases = vec![
        Case {
            key: format!("{PREFIX}zstd-a.log.gz"),
            data: fixture("default-1k.log.gz"),
            records: 1000,
            skipped: 0,
        },
        Case {
            key: format!("{PREFIX}zstd-b.log"),
            data: fixture("default-v2.log"),
            records: 7,
            skipped: 0,
        },
    ];
    put_all(&stack, &cases).await;
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd".to_string()),
    ];
    // many batches, several in flight at the first 415
    let (report, lines_logged, concurrency) = forward(&stack, &cases, &env, 32 * 1024).await;
    assert_eq!(
        (report.records, report.forwarded, report.rejected),
        (1007, 1007, 0)
    );
    assert!(report.gzip_fallback, "the report says so: {report:?}");
    assert_eq!(report.retries, 0, "a fallback is not a retry");
    let invocation = lines_logged.last().unwrap();
    assert!(
        invocation.contains(r#""gzip_fallback":true"#),
        "{invocation}"
    );
    stack.wait_for_exactly(1007, Duration::from_secs(60));

    // The exporter's requests (the stack's readiness probe sends one without an encoding).
    let requests: Vec<Value> = std::fs::read_to_string(&requests_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["headers"]["content-encoding"].is_string())
        .collect();
    let encoding = |r: &Value| {
        r["headers"]["content-encoding"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let refused: Vec<&Value> = requests.iter().filter(|r| r["status"] == 415).collect();
    assert!(
        !refused.is_empty() && refused.len() <= concurrency,
        "the first zstd requests (at most those in flight at once) are refused: {requests:?}"
    );
    assert!(refused.iter().all(|r| encoding(r) == "zstd"));
    // Only the requests already on their way when the first 415 came back were zstd; every
    // other one, and each of those again, went as gzip and was accepted.
    assert!(
        requests
            .iter()
            .all(|r| (encoding(r) == "zstd" && r["status"] == 415)
                || (encoding(r) == "gzip" && r["status"] == 200)),
        "{requests:?}"
    );
    assert_eq!(
        requests.iter().filter(|r| r["status"] == 200).count() as u64,
        report.batches
    );
}
