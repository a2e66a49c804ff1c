//! `templates/policies/deployer-policy.json` allows every AWS call the deployer makes: a full
//! lifecycle (setup with verify, plan, status, verify, replay, backfill, teardown with data) in lambda mode and in
//! firehose mode runs on the local stack while moto records every request; each request the
//! `flowlogs` binary signed is mapped to the IAM action AWS authorises it with, and the test fails
//! naming any action the policy does not allow. The lambda-mode run uses an adopted SSE-KMS bucket
//! (issue 22 item 6), so the actions AWS authorises inside those requests count too: the KMS key
//! for every object read and write (S3 user guide, "Using server-side encryption with AWS KMS
//! keys": `kms:GenerateDataKey` to upload, `kms:Decrypt` to download and for multipart uploads),
//! and Athena's writes of the query results, made with the caller's permissions (Athena user
//! guide, "AWS managed policies for Amazon Athena": the results location's multipart actions).
//! The policy also passes parliament.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::support::config::StackConfig;
use crate::support::{assert_exit, recorder, Service, Stack};
use serde_json::Value;

/// The deployer signs with this key id, so its requests stand apart from the stack's own
/// (the router reading the function's configuration, the forwarder reading objects).
const DEPLOYER_KEY_ID: &str = "AKIDFLOWLOGSDEPLOYER";

fn policy() -> Value {
    let path = crate::support::workspace_root().join("templates/policies/deployer-policy.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `pattern` with `*` wildcards matches `action`, case-insensitively as IAM matches actions.
fn glob(pattern: &str, action: &str) -> bool {
    let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match pattern.split_once('*') {
        None => pattern == action,
        Some((head, tail)) => {
            action.starts_with(head)
                && (0..=action.len() - head.len())
                    .any(|skip| glob(tail, &action[head.len() + skip..]))
        }
    }
}

fn allowed_actions(policy: &Value) -> Vec<String> {
    let mut actions = Vec::new();
    for statement in policy["Statement"].as_array().expect("Statement list") {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        match &statement["Action"] {
            Value::String(a) => actions.push(a.clone()),
            Value::Array(list) => {
                actions.extend(list.iter().map(|a| a.as_str().unwrap().to_string()))
            }
            other => panic!("Action must be a string or a list: {other}"),
        }
    }
    actions
}

fn header<'a>(entry: &'a Value, name: &str) -> Option<&'a str> {
    entry["headers"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// `(key id, service)` from a SigV4 `Authorization` header's credential scope.
fn signer(entry: &Value) -> Option<(String, String)> {
    let auth = header(entry, "Authorization")?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    Some((parts.first()?.to_string(), parts.get(3)?.to_string()))
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

/// The S3 action of a path-style REST request, from its method, path and query.
fn s3_action(method: &str, path: &str, query: &str) -> String {
    let has = |key: &str| {
        query
            .split('&')
            .any(|kv| kv == key || kv.starts_with(&format!("{key}=")))
    };
    let is_object = path.trim_matches('/').contains('/');
    let sub = [
        ("tagging", "BucketTagging"),
        ("policy", "BucketPolicy"),
        ("publicAccessBlock", "BucketPublicAccessBlock"),
        ("encryption", "EncryptionConfiguration"),
        ("lifecycle", "LifecycleConfiguration"),
        ("notification", "BucketNotification"),
    ];
    if !is_object {
        if path.trim_matches('/').is_empty() {
            return "s3:ListAllMyBuckets".into();
        }
        for (key, name) in sub {
            if has(key) {
                return match method {
                    "GET" => format!("s3:Get{name}"),
                    "PUT" => format!("s3:Put{name}"),
                    "DELETE" => format!("s3:Delete{name}"),
                    _ => format!("s3:?{method}{name}"),
                };
            }
        }
        if has("location") {
            return "s3:GetBucketLocation".into();
        }
        if has("versions") {
            return "s3:ListBucketVersions".into();
        }
        if has("delete") {
            return "s3:DeleteObject".into();
        }
        return match method {
            "PUT" => "s3:CreateBucket".into(),
            "DELETE" => "s3:DeleteBucket".into(),
            _ => "s3:ListBucket".into(),
        };
    }
    match method {
        "PUT" | "POST" => "s3:PutObject".into(),
        "DELETE" if has("versionId") => "s3:DeleteObjectVersion".into(),
        "DELETE" => "s3:DeleteObject".into(),
        _ => "s3:GetObject".into(),
    }
}

/// The Lambda action of a REST request (API version prefix, then the resource path).
fn lambda_action(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = &segments[1.min(segments.len())..];
    let action = match (method, rest) {
        ("POST", ["functions"]) => "CreateFunction",
        ("GET", ["functions", _]) => "GetFunction",
        ("DELETE", ["functions", _]) => "DeleteFunction",
        ("GET", ["functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("PUT", ["functions", _, "configuration"]) => "UpdateFunctionConfiguration",
        ("PUT", ["functions", _, "code"]) => "UpdateFunctionCode",
        ("POST", ["functions", _, "policy"]) => "AddPermission",
        ("GET", ["functions", _, "policy"]) => "GetPolicy",
        ("DELETE", ["functions", _, "policy", _]) => "RemovePermission",
        ("POST", ["functions", _, "invocations"]) => "InvokeFunction",
        ("PUT", ["functions", _, "event-invoke-config"]) => "PutFunctionEventInvokeConfig",
        ("GET", ["functions", _, "event-invoke-config"]) => "GetFunctionEventInvokeConfig",
        ("DELETE", ["functions", _, "event-invoke-config"]) => "DeleteFunctionEventInvokeConfig",
        ("POST", ["tags", ..]) => "TagResource",
        ("GET", ["tags", ..]) => "ListTags",
        ("DELETE", ["tags", ..]) => "UntagResource",
        _ => return format!("lambda:?{method} {path}"),
    };
    format!("lambda:{action}")
}

/// The IAM action AWS authorises a recorded request with, or `None` for a request the deployer
/// did not sign. STS GetCallerIdentity needs no permission and is left out.
fn action(entry: &Value) -> Option<String> {
    let (key_id, service) = signer(entry)?;
    if key_id != DEPLOYER_KEY_ID {
        return None;
    }
    let method = entry["method"].as_str().unwrap_or_default();
    let url = entry["url"].as_str().unwrap_or_default();
    let after_host = url.split("://").nth(1).unwrap_or(url);
    let path_and_query = after_host.find('/').map_or("/", |i| &after_host[i..]);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let named = if let Some(target) = header(entry, "X-Amz-Target") {
        target.rsplit('.').next().unwrap_or_default().to_string()
    } else if let Some(name) = body(entry)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
    {
        name.to_string()
    } else {
        String::new()
    };
    let action = match service.as_str() {
        "s3" => s3_action(method, path, query),
        "lambda" => lambda_action(method, path),
        "sts" if named == "GetCallerIdentity" => return None,
        // The signing names of these services are their IAM prefixes.
        _ if !named.is_empty() => format!("{service}:{named}"),
        _ => format!("{service}:?{method} {path}"),
    };
    Some(action)
}

fn run_as_deployer(stack: &Stack, config: &Path, args: &[&str], code: i32) {
    let out = stack.run(
        config,
        args,
        &[
            ("AWS_ACCESS_KEY_ID", DEPLOYER_KEY_ID),
            ("FH_KEY", "not-a-real-key"),
        ],
    );
    assert_exit(&out, code);
}

/// Athena writes a query's results to its output location, and reads them back for
/// GetQueryResults, with the caller's permissions: these are the actions it needs there.
const ATHENA_RESULT_WRITES: [&str; 5] = [
    "s3:GetBucketLocation",
    "s3:PutObject",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
];

/// The actions AWS authorises inside a request of the deployer's, besides the request's own:
/// the bucket's KMS key for objects of `kms_bucket` (SSE-KMS by default), and Athena's reads and
/// writes of the query results (in `kms_bucket` too, by the output location).
fn implied(entry: &Value, kms_bucket: &str) -> Vec<String> {
    let Some(own) = action(entry) else {
        return Vec::new();
    };
    let url = entry["url"].as_str().unwrap_or_default();
    let path = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let path = path.split('?').next().unwrap_or_default();
    let in_kms_bucket = path.trim_start_matches('/').split('/').next() == Some(kms_bucket);
    let is_object = path.trim_matches('/').contains('/');
    let mut out: Vec<String> = Vec::new();
    match own.as_str() {
        "s3:GetObject" if in_kms_bucket && is_object => out.push("kms:Decrypt".into()),
        "s3:PutObject" if in_kms_bucket && is_object => out.push("kms:GenerateDataKey".into()),
        "athena:StartQueryExecution" if body(entry).contains(&format!("s3://{kms_bucket}/")) => {
            out.extend(ATHENA_RESULT_WRITES.iter().map(|a| a.to_string()));
            // A multipart upload under SSE-KMS needs both.
            out.extend(["kms:GenerateDataKey".into(), "kms:Decrypt".into()]);
        }
        "athena:GetQueryResults" => {
            out.extend(["s3:GetObject".into(), "kms:Decrypt".into()]);
        }
        _ => {}
    }
    out
}

/// Every action the deployer's requests needed during the commands, sorted: their own, and those
/// AWS authorises inside them (`implied`).
fn recorded_actions(stack: &Stack, kms_bucket: &str) -> BTreeSet<String> {
    let entries = recorder::entries(&stack.moto_endpoint);
    let own = entries.iter().filter_map(action);
    let inside = entries.iter().flat_map(|e| implied(e, kms_bucket));
    own.chain(inside).collect()
}

/// The bucket the lambda-mode run adopts, and its key.
const KMS_BUCKET: &str = "perm-kms-logs";
const KMS_KEY_ARN: &str =
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

async fn sse_kms_bucket(stack: &Stack) {
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    s3.create_bucket().bucket(KMS_BUCKET).send().await.unwrap();
    crate::support::settle::bucket_usable(&s3, KMS_BUCKET).await;
    crate::support::encrypt_with_kms(&s3, KMS_BUCKET, KMS_KEY_ARN).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deployer_policy_allows_every_call_of_a_full_lifecycle_in_both_modes() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    sse_kms_bucket(&stack).await;
    recorder::start(&stack.moto_endpoint);

    let lambda = StackConfig::lambda("perm", &vpc, &stack.otlp_endpoint)
        .hourly_hive()
        .existing_bucket(KMS_BUCKET)
        .header("x-key", "${env:FH_KEY}")
        .athena()
        .write_as(stack.dir(), "lambda.yaml");
    run_as_deployer(&stack, &lambda, &["setup", "--yes"], 0);
    run_as_deployer(&stack, &lambda, &["plan", "--detailed-exitcode"], 0);
    run_as_deployer(&stack, &lambda, &["status"], 0);
    run_as_deployer(&stack, &lambda, &["verify"], 0);
    run_as_deployer(&stack, &lambda, &["replay"], 0);
    // Two days of hourly folders: every call backfill makes, without listing a year of folders.
    let since = (time::OffsetDateTime::now_utc() - time::Duration::days(2)).date();
    let since = format!(
        "{:04}-{:02}-{:02}",
        since.year(),
        u8::from(since.month()),
        since.day()
    );
    run_as_deployer(
        &stack,
        &lambda,
        &["backfill", "--since", &since, "--yes"],
        0,
    );
    // moto runs no SQL: the query reads nothing, and verify says so (exit 1); the calls are made.
    run_as_deployer(&stack, &lambda, &["verify", "--athena"], 1);
    run_as_deployer(&stack, &lambda, &["teardown", "--yes", "--delete-data"], 0);

    let firehose = StackConfig::firehose("perm", &vpc, "http://127.0.0.1:9/firehose", "FH_KEY")
        .write_as(stack.dir(), "firehose.yaml");
    run_as_deployer(&stack, &firehose, &["setup", "--yes", "--no-verify"], 0);
    run_as_deployer(&stack, &firehose, &["status"], 0);
    run_as_deployer(
        &stack,
        &firehose,
        &["teardown", "--yes", "--delete-data"],
        0,
    );

    let recorded = recorded_actions(&stack, KMS_BUCKET);
    // The lifecycle really ran through the services the policy is about.
    for expected in [
        "s3:CreateBucket",
        "s3:PutBucketNotification",
        "ec2:CreateFlowLogs",
        "iam:CreateRole",
        "lambda:CreateFunction",
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig",
        "firehose:CreateDeliveryStream",
        "s3:DeleteBucket",
        "glue:CreateTable",
        "athena:CreateNamedQuery",
        "athena:StartQueryExecution",
        "athena:DeleteNamedQuery",
        "secretsmanager:CreateSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:DeleteSecret",
        // The SSE-KMS bucket's key, and Athena's result writes there.
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "s3:AbortMultipartUpload",
    ] {
        assert!(
            recorded.contains(expected),
            "{expected} not recorded: {recorded:?}"
        );
    }
    let allowed = allowed_actions(&policy());
    let missing: Vec<&String> = recorded
        .iter()
        .filter(|action| !allowed.iter().any(|pattern| glob(pattern, action)))
        .collect();
    assert!(
        missing.is_empty(),
        "templates/policies/deployer-policy.json does not allow {missing:?} (all recorded: {recorded:?})"
    );
    kms_statement_covers(&policy(), KMS_KEY_ARN, "s3.us-east-1.amazonaws.com");
}

/// The KMS statement grants on the bucket's key, for requests S3 makes on the deployer's behalf.
fn kms_statement_covers(policy: &Value, key_arn: &str, via: &str) {
    let statements = policy["Statement"].as_array().unwrap();
    let kms = statements
        .iter()
        .find(|s| s.to_string().contains("kms:Decrypt"))
        .expect("a statement granting kms:Decrypt");
    assert!(
        glob(kms["Resource"].as_str().unwrap(), key_arn),
        "{kms:#} does not cover {key_arn}"
    );
    let vias = kms["Condition"]["StringLike"]["kms:ViaService"]
        .as_array()
        .expect("kms:ViaService list");
    assert!(
        vias.iter().any(|v| glob(v.as_str().unwrap(), via)),
        "{kms:#} does not admit {via}"
    );
}

#[test]
fn the_deployer_policy_names_the_permissions_aws_checks_without_a_request_of_their_own() {
    // AWS authorises these inside other calls: CreateFlowLogs to S3 or Firehose needs the log
    // delivery actions, handing a role to Lambda or Firehose needs PassRole, and the first
    // flow log to a Firehose stream creates the log-delivery service-linked role.
    let allowed = allowed_actions(&policy());
    for implicit in [
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "iam:PassRole",
        "iam:CreateServiceLinkedRole",
    ] {
        assert!(
            allowed.iter().any(|pattern| glob(pattern, implicit)),
            "{implicit} missing from the deployer policy"
        );
    }
}

#[test]
fn the_deployer_policy_passes_parliament() {
    let path = crate::support::workspace_root().join("templates/policies/deployer-policy.json");
    let out = Command::new(crate::support::venv().join("bin/parliament"))
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .expect("parliament from the venv (.ci/install)");
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "parliament on the deployer policy:\n{findings}"
    );
}

#[test]
fn requests_map_to_the_actions_iam_checks() {
    assert_eq!(s3_action("PUT", "/b", ""), "s3:CreateBucket");
    assert_eq!(s3_action("PUT", "/b", "policy"), "s3:PutBucketPolicy");
    assert_eq!(
        s3_action("GET", "/b", "notification"),
        "s3:GetBucketNotification"
    );
    assert_eq!(
        s3_action("PUT", "/b", "publicAccessBlock"),
        "s3:PutBucketPublicAccessBlock"
    );
    assert_eq!(s3_action("POST", "/b", "delete"), "s3:DeleteObject");
    assert_eq!(
        s3_action("GET", "/b", "list-type=2&prefix=a"),
        "s3:ListBucket"
    );
    assert_eq!(s3_action("PUT", "/b/AWSLogs/x.log.gz", ""), "s3:PutObject");
    assert_eq!(s3_action("GET", "/", ""), "s3:ListAllMyBuckets");
    assert_eq!(
        lambda_action("POST", "/2015-03-31/functions/f/policy"),
        "lambda:AddPermission"
    );
    assert_eq!(
        lambda_action("DELETE", "/2015-03-31/functions/f/policy/sid"),
        "lambda:RemovePermission"
    );
    assert_eq!(
        lambda_action("POST", "/2017-03-31/tags/arn:aws:lambda:r:1:function:f"),
        "lambda:TagResource"
    );
    assert!(glob("s3:Get*", "s3:GetObject"));
    assert!(glob("logs:*", "logs:CreateLogDelivery"));
    assert!(!glob("s3:Get*", "s3:PutObject"));
}

#[test]
fn a_request_signed_by_someone_else_is_not_the_deployers() {
    let entry = |key: &str| -> Value {
        serde_json::json!({
            "method": "GET",
            "url": "http://127.0.0.1:5000/b?policy",
            "headers": {"Authorization": format!("AWS4-HMAC-SHA256 Credential={key}/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")},
            "body": ""
        })
    };
    assert_eq!(
        action(&entry(DEPLOYER_KEY_ID)).as_deref(),
        Some("s3:GetBucketPolicy")
    );
    assert_eq!(action(&entry("test")), None);
}
