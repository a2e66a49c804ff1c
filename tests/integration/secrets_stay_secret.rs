//! Issue 17: secret values stay secret. The whole lifecycle runs in both modes with recognisable
//! secret values (an `${env:...}` OTLP header in lambda mode, the HTTP endpoint's access key in
//! firehose mode), and every place flowlogs writes or prints is searched for them: each command's
//! stdout and stderr, every request moto recorded (the deployer's and the forwarder's) except
//! the CreateSecret / PutSecretValue that store the value, the stack's logs, the forwarder's log
//! group, what the collector received, and every resource's tags, description and environment.
//!
//! And the value works: the header arrives at the OTLP endpoint (a front that records request
//! headers, the stack's `otlp-headers` service), rotating the environment variable with a second
//! `setup` writes only the secret (and, in lambda mode, the function's version variable, which
//! makes Lambda start new instances) and the next delivery carries the new value; a third setup
//! writes nothing.

use std::path::Path;
use std::process::Output;

use crate::support::config::StackConfig;
use crate::support::{assert_exit, printed, recorder, Service, Stack, REGION};
use serde_json::Value;

const STACK: &str = "hush";
const SECRET_NAME: &str = "flowlogs/hush/endpoint-credentials";
/// Every secret value of this test starts with this, and nothing else does.
const MARK: &str = "FLOWLOGS-SECRET-5f3a";
const HEADER_1: &str = "FLOWLOGS-SECRET-5f3a91c2-header-one";
const HEADER_2: &str = "FLOWLOGS-SECRET-5f3a91c2-header-two";
const KEY_1: &str = "FLOWLOGS-SECRET-5f3a91c2-access-key-one";
const KEY_2: &str = "FLOWLOGS-SECRET-5f3a91c2-access-key-two";

/// Everything a run left to search, and what moto recorded.
#[derive(Default)]
struct Evidence {
    /// `(what, text)`: outputs, logs, resource descriptions.
    texts: Vec<(String, String)>,
    /// Every request moto recorded.
    requests: Vec<Value>,
}

impl Evidence {
    fn output(&mut self, what: &str, out: &Output) {
        self.texts.push((what.to_string(), printed(out)));
    }

    /// Stops moto's recording, keeps what it recorded, and starts again.
    fn take_requests(&mut self, stack: &Stack) -> Vec<Value> {
        let entries = recorder::entries(&stack.moto_endpoint);
        self.requests.extend(entries.iter().cloned());
        recorder::start(&stack.moto_endpoint);
        entries
    }

    /// No text and no request but the ones that store the secret holds a secret value; those
    /// do hold it (so the search would have found it elsewhere).
    fn assert_clean(&self) {
        for (what, text) in &self.texts {
            assert!(!text.contains(MARK), "a secret value in {what}:\n{text}");
        }
        let mut stored = 0;
        for entry in &self.requests {
            let target = target(entry);
            let body = body(entry);
            if matches!(
                target.as_deref(),
                Some("secretsmanager.CreateSecret" | "secretsmanager.PutSecretValue")
            ) {
                assert!(body.contains(MARK), "{target:?} stores the value: {body}");
                stored += 1;
                continue;
            }
            let url = entry["url"].as_str().unwrap_or_default();
            let headers = entry["headers"].to_string();
            assert!(
                !body.contains(MARK) && !url.contains(MARK) && !headers.contains(MARK),
                "a secret value in a recorded request {} {url} ({target:?}):\n{body}",
                entry["method"]
            );
        }
        assert!(stored >= 2, "the secret was written (and searched around)");
    }
}

fn target(entry: &Value) -> Option<String> {
    entry["headers"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Target"))
        .and_then(|(_, v)| v.as_str().map(str::to_string))
}

fn body(entry: &Value) -> String {
    match entry["body_encoded"].as_bool() {
        Some(true) => {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(entry["body"].as_str().unwrap_or_default())
                .unwrap_or_default();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => entry["body"].as_str().unwrap_or_default().to_string(),
    }
}

/// The write calls among recorded requests, without the forwarder's and the router's own.
fn writes(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| !e["headers"].to_string().contains("devstack-forwarder"))
        .filter_map(recorder::classify)
        .collect()
}

fn run(stack: &Stack, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    stack.run(config, args, env)
}

/// Every request the OTLP front recorded: `(path, headers)`.
fn otlp_requests(stack: &Stack) -> Vec<(String, Value)> {
    let file = stack.state()["otlp_requests_file"]
        .as_str()
        .expect("the otlp-headers service records requests");
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            (
                v["path"].as_str().unwrap_or_default().into(),
                v["headers"].clone(),
            )
        })
        .collect()
}

/// Every file the stack's services logged to.
fn stack_logs(stack: &Stack) -> Vec<(String, String)> {
    let dir = Path::new(stack.state()["logs_dir"].as_str().unwrap());
    let mut out = Vec::new();
    for entry in walk(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap_or_default()).into_owned();
        out.push((entry.display().to_string(), text));
    }
    out.push((
        "collector capture".into(),
        std::fs::read_to_string(&stack.capture_file).unwrap_or_default(),
    ));
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// What every resource of the stack says about itself: tags, descriptions, environment, the
/// stream's destination, the forwarder's log group.
async fn resource_descriptions(stack: &Stack) -> Vec<(String, String)> {
    let config = stack.sdk_config().await;
    let mut out = Vec::new();
    let lambda = aws_sdk_lambda::Client::new(&config);
    if let Ok(f) = lambda
        .get_function()
        .function_name(format!("flowlogs-{STACK}-forwarder"))
        .send()
        .await
    {
        out.push(("lambda function".into(), format!("{f:?}")));
    }
    let iam = aws_sdk_iam::Client::new(&config);
    for role in [
        format!("flowlogs-{STACK}-forwarder"),
        format!("flowlogs-{STACK}-firehose"),
    ] {
        if let Ok(r) = iam.get_role().role_name(&role).send().await {
            out.push((format!("role {role}"), format!("{r:?}")));
        }
        if let Ok(p) = iam.list_role_policies().role_name(&role).send().await {
            for name in p.policy_names() {
                let doc = iam
                    .get_role_policy()
                    .role_name(&role)
                    .policy_name(name)
                    .send()
                    .await
                    .unwrap();
                out.push((format!("role policy {role}/{name}"), format!("{doc:?}")));
            }
        }
    }
    let fh = aws_sdk_firehose::Client::new(&config);
    if let Ok(d) = fh
        .describe_delivery_stream()
        .delivery_stream_name(format!("flowlogs-{STACK}"))
        .send()
        .await
    {
        out.push(("firehose stream".into(), format!("{d:?}")));
        let tags = fh
            .list_tags_for_delivery_stream()
            .delivery_stream_name(format!("flowlogs-{STACK}"))
            .send()
            .await
            .unwrap();
        out.push(("firehose stream tags".into(), format!("{tags:?}")));
    }
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    if let Ok(d) = sm.describe_secret().secret_id(SECRET_NAME).send().await {
        out.push(("secret description and tags".into(), format!("{d:?}")));
    }
    let ec2 = flowlogs_aws_lite::ec2::Ec2::new(&config);
    let flow_logs = ec2.describe_flow_logs(&[], &[]).await.unwrap();
    out.push(("flow logs".into(), format!("{flow_logs:?}")));
    let s3 = aws_sdk_s3::Client::new(&config);
    let bucket = format!("{STACK}-flowlogs-123456789012-{REGION}");
    if let Ok(t) = s3.get_bucket_tagging().bucket(&bucket).send().await {
        out.push(("bucket tags".into(), format!("{t:?}")));
    }
    if let Ok(p) = s3.get_bucket_policy().bucket(&bucket).send().await {
        out.push(("bucket policy".into(), format!("{p:?}")));
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    for group in [
        format!("/aws/lambda/flowlogs-{STACK}-forwarder"),
        format!("/aws/kinesisfirehose/flowlogs-{STACK}"),
    ] {
        if let Ok(events) = logs.filter_log_events().log_group_name(&group).send().await {
            out.push((format!("log group {group}"), format!("{events:?}")));
        }
    }
    out
}

async fn secret_string(stack: &Stack) -> String {
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk_config().await);
    sm.get_secret_value()
        .secret_id(SECRET_NAME)
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_string()
}

fn lambda_config(vpc: &str, otlp: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, otlp)
        .header("signoz-ingestion-key", "${env:HUSH_HEADER}")
        .header("x-team", "net")
}

fn firehose_config(vpc: &str, url: &str) -> StackConfig {
    StackConfig::firehose(STACK, vpc, url, "HUSH_KEY")
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_values_reach_the_endpoint_and_nothing_else_in_both_modes() {
    let stack = Stack::start(&[Service::Moto, Service::Lambda, Service::OtlpHeaders]);
    let vpc = stack.create_vpc("10.7.0.0/16").await;
    let mut evidence = Evidence::default();
    recorder::start(&stack.moto_endpoint);

    // ---- lambda mode ----
    let cfg = lambda_config(&vpc, &stack.otlp_endpoint).write_as(stack.dir(), "lambda.yaml");
    let first = [("HUSH_HEADER", HEADER_1)];
    let plan = run(&stack, &cfg, &["plan", "--output", "json"], &first);
    evidence.output("plan (lambda, new)", &plan);
    let setup = run(&stack, &cfg, &["setup", "--yes"], &first);
    assert_exit(&setup, 0);
    evidence.output("setup (lambda)", &setup);
    assert!(
        printed(&setup).contains(&format!("secret {SECRET_NAME}")),
        "{}",
        printed(&setup)
    );
    evidence.take_requests(&stack);

    // the canary's export carried the header from the secret, beside the plain one
    let sent = otlp_requests(&stack);
    let exports: Vec<&Value> = sent
        .iter()
        .filter(|(path, h)| path == "/v1/logs" && h.get("x-team").is_some())
        .map(|(_, h)| h)
        .collect();
    assert!(
        !exports.is_empty(),
        "no export reached the endpoint: {sent:?}"
    );
    assert!(
        exports
            .iter()
            .all(|h| h["signoz-ingestion-key"] == HEADER_1 && h["x-team"] == "net"),
        "{exports:?}"
    );

    // the function names the secret and holds no value
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk_config().await);
    let c = lambda
        .get_function_configuration()
        .function_name(format!("flowlogs-{STACK}-forwarder"))
        .send()
        .await
        .unwrap();
    let env = c.environment().unwrap().variables().unwrap().clone();
    assert!(
        env["FLOWLOGS_HEADERS_SECRET_ARN"].contains(&format!(":secret:{SECRET_NAME}-")),
        "{env:?}"
    );
    assert_eq!(env["OTEL_EXPORTER_OTLP_HEADERS"], "x-team=net");
    let version_1 = env["FLOWLOGS_HEADERS_SECRET_VERSION"].clone();
    assert!(secret_string(&stack).await.contains(HEADER_1));

    for args in [&["status", "--output", "json"][..], &["verify"], &["plan"]] {
        let out = run(&stack, &cfg, args, &first);
        assert_exit(&out, 0);
        evidence.output(&format!("{args:?} (lambda)"), &out);
    }
    evidence.take_requests(&stack);
    // what reached the endpoint before the rotation (verify's canary too) carried the first value
    let exports_before_rotation = otlp_requests(&stack)
        .iter()
        .filter(|(path, h)| {
            path == "/v1/logs" && h.get("x-team").is_some() && h["signoz-ingestion-key"] == HEADER_1
        })
        .count();

    // rotate: the plan says the value changed, never what it is; setup writes the secret and the
    // function's version variable only
    let second = [("HUSH_HEADER", HEADER_2)];
    let plan = run(&stack, &cfg, &["plan", "--detailed-exitcode"], &second);
    assert_exit(&plan, 2);
    evidence.output("plan (lambda, rotated)", &plan);
    assert!(
        printed(&plan).contains("value: changed"),
        "{}",
        printed(&plan)
    );
    evidence.take_requests(&stack);
    let rotate = run(&stack, &cfg, &["setup", "--yes", "--no-verify"], &second);
    assert_exit(&rotate, 0);
    evidence.output("setup (lambda, rotated)", &rotate);
    let rotated = evidence.take_requests(&stack);
    let written = writes(&rotated);
    assert_eq!(
        written.len(),
        2,
        "only the secret and the function's configuration: {written:?}"
    );
    assert!(
        written.iter().any(|w| w == "secretsmanager.PutSecretValue"),
        "{written:?}"
    );
    assert!(
        written
            .iter()
            .any(|w| w.starts_with("PUT") && w.ends_with("/configuration")),
        "{written:?}"
    );
    let env = lambda
        .get_function_configuration()
        .function_name(format!("flowlogs-{STACK}-forwarder"))
        .send()
        .await
        .unwrap()
        .environment()
        .unwrap()
        .variables()
        .unwrap()
        .clone();
    assert_ne!(env["FLOWLOGS_HEADERS_SECRET_VERSION"], version_1);
    assert!(secret_string(&stack).await.contains(HEADER_2));

    // the next delivery carries the new value (a new instance read the new version)
    let verify = run(&stack, &cfg, &["verify"], &second);
    assert_exit(&verify, 0);
    evidence.output("verify (lambda, rotated)", &verify);
    // verify's canary writes (PutObject, DeleteObject) are not setup's
    evidence.take_requests(&stack);
    let sent = otlp_requests(&stack);
    let after: Vec<&Value> = sent
        .iter()
        .filter(|(path, h)| path == "/v1/logs" && h.get("x-team").is_some())
        .map(|(_, h)| h)
        .skip(exports_before_rotation)
        .collect();
    assert!(!after.is_empty(), "no export after the rotation: {sent:?}");
    assert!(
        after.iter().all(|h| h["signoz-ingestion-key"] == HEADER_2),
        "{after:?}"
    );

    // unchanged: no write
    let again = run(&stack, &cfg, &["setup", "--yes", "--no-verify"], &second);
    assert_exit(&again, 0);
    evidence.output("setup (lambda, unchanged)", &again);
    let unchanged = evidence.take_requests(&stack);
    assert_eq!(writes(&unchanged), Vec::<String>::new());

    evidence.texts.extend(resource_descriptions(&stack).await);
    let teardown = run(
        &stack,
        &cfg,
        &["teardown", "--yes", "--delete-data"],
        &second,
    );
    assert_exit(&teardown, 0);
    evidence.output("teardown (lambda)", &teardown);
    evidence.take_requests(&stack);

    // ---- firehose mode, same stack name: the secret's name is free again at once ----
    let url = format!("{}/firehose", stack.otlp_endpoint);
    let cfg = firehose_config(&vpc, &url).write_as(stack.dir(), "firehose.yaml");
    let first = [("HUSH_KEY", KEY_1)];
    let setup = run(&stack, &cfg, &["setup", "--yes", "--no-verify"], &first);
    assert_exit(&setup, 0);
    evidence.output("setup (firehose)", &setup);
    assert!(secret_string(&stack)
        .await
        .contains(&format!("{{\"api_key\":\"{KEY_1}\"}}")));
    let fh = aws_sdk_firehose::Client::new(&stack.sdk_config().await);
    let d = fh
        .describe_delivery_stream()
        .delivery_stream_name(format!("flowlogs-{STACK}"))
        .send()
        .await
        .unwrap();
    let h = d.delivery_stream_description().unwrap().destinations()[0]
        .http_endpoint_destination_description()
        .unwrap()
        .clone();
    let sm = h.secrets_manager_configuration().unwrap();
    assert!(sm.enabled());
    assert!(sm
        .secret_arn()
        .unwrap()
        .contains(&format!(":secret:{SECRET_NAME}-")));
    assert_eq!(
        sm.role_arn(),
        Some(format!("arn:aws:iam::123456789012:role/flowlogs-{STACK}-firehose").as_str())
    );
    for args in [
        &["status", "--output", "json"][..],
        &["plan", "--output", "json"],
    ] {
        let out = run(&stack, &cfg, args, &first);
        assert_exit(&out, 0);
        evidence.output(&format!("{args:?} (firehose)"), &out);
    }
    evidence.take_requests(&stack);

    let second = [("HUSH_KEY", KEY_2)];
    let rotate = run(&stack, &cfg, &["setup", "--yes", "--no-verify"], &second);
    assert_exit(&rotate, 0);
    evidence.output("setup (firehose, rotated)", &rotate);
    let rotated = evidence.take_requests(&stack);
    assert_eq!(
        writes(&rotated),
        ["secretsmanager.PutSecretValue"],
        "a new key is a new value of the secret, nothing else"
    );
    assert!(secret_string(&stack).await.contains(KEY_2));

    evidence.texts.extend(resource_descriptions(&stack).await);
    let teardown = run(
        &stack,
        &cfg,
        &["teardown", "--yes", "--delete-data"],
        &second,
    );
    assert_exit(&teardown, 0);
    evidence.output("teardown (firehose)", &teardown);
    evidence.take_requests(&stack);
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk_config().await);
    // Gone, or (AWS finishing the forced delete in the background, `secrets-deletion-window`)
    // still described with its DeletedDate.
    match sm.describe_secret().secret_id(SECRET_NAME).send().await {
        Err(_) => {}
        Ok(d) => assert!(
            d.deleted_date().is_some(),
            "teardown deletes the secret without a recovery window: {d:?}"
        ),
    }

    evidence.texts.extend(stack_logs(&stack));
    evidence.assert_clean();
}
