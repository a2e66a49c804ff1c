//! The local stack behaves like AWS where the product depends on it (`devstack/behaviours.py`,
//! `devstack/README.md`). Each test starts a stack with the behaviour it shows switched on and
//! asserts AWS's answer through the AWS SDK; against moto's permissive answer (the behaviour
//! off) each assertion fails.

use std::time::{Duration, Instant};

use crate::support::{fake_zip_bytes, Behaviours, Service, Stack, ACCOUNT_ID};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter,
};
use serde_json::json;

const BUCKET: &str = "flows-under-test";
/// How long the eventual-consistency errors last in these tests.
const WINDOW: f64 = 3.0;

fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{name}")
}

/// The error code and HTTP status of a failed call, and the raw body AWS sent.
fn failure<E: ProvideErrorMetadata, R: std::fmt::Debug>(
    result: Result<R, aws_sdk_s3::error::SdkError<E>>,
) -> (String, u16, String) {
    match result {
        Ok(ok) => panic!("expected AWS to refuse the call, it answered {ok:?}"),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
            let body = e
                .raw_response()
                .and_then(|r| r.body().bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let code = e.code().unwrap_or_default().to_string();
            (code, status, body)
        }
    }
}

/// Repeats `call` until it succeeds; the eventual-consistency window must pass within 30 s.
async fn eventually<F, Fut, T, E>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
{
    let started = Instant::now();
    loop {
        match call().await {
            Ok(v) => return v,
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                panic!("{what} still fails after 30 s: {e:?}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

async fn create_role(stack: &Stack, name: &str) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": ["lambda.amazonaws.com", "firehose.amazonaws.com"]},
        "Action": "sts:AssumeRole"}]});
    aws_sdk_iam::Client::new(&stack.sdk_config().await)
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole")
        .role()
        .unwrap()
        .arn()
        .to_string()
}

fn create_function_request(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role_arn: &str,
    env: &[(&str, &str)],
) -> aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder {
    let mut vars = aws_sdk_lambda::types::Environment::builder();
    for (k, v) in env {
        vars = vars.variables(*k, *v);
    }
    lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .timeout(30)
        .role(role_arn)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(fake_zip_bytes(b"the router runs the local build").into())
                .build(),
        )
        .environment(vars.build())
}

async fn create_function(stack: &Stack, name: &str, role_arn: &str, env: &[(&str, &str)]) {
    let lambda = aws_sdk_lambda::Client::new(&stack.sdk_config().await);
    create_function_request(&lambda, name, role_arn, env)
        .send()
        .await
        .expect("CreateFunction");
}

async fn allow_s3(stack: &Stack, function: &str, bucket: &str) {
    aws_sdk_lambda::Client::new(&stack.sdk_config().await)
        .add_permission()
        .function_name(function)
        .statement_id(format!("s3-{bucket}"))
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn(format!("arn:aws:s3:::{bucket}"))
        .source_account(ACCOUNT_ID)
        .send()
        .await
        .expect("AddPermission");
}

fn lambda_entry(
    id: &str,
    function: &str,
    prefix: &str,
    suffix: &str,
) -> LambdaFunctionConfiguration {
    let mut rules = S3KeyFilter::builder();
    if !prefix.is_empty() {
        rules = rules.filter_rules(
            FilterRule::builder()
                .name(FilterRuleName::Prefix)
                .value(prefix)
                .build(),
        );
    }
    if !suffix.is_empty() {
        rules = rules.filter_rules(
            FilterRule::builder()
                .name(FilterRuleName::Suffix)
                .value(suffix)
                .build(),
        );
    }
    LambdaFunctionConfiguration::builder()
        .id(id)
        .lambda_function_arn(function_arn(function))
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(
            NotificationConfigurationFilter::builder()
                .key(rules.build())
                .build(),
        )
        .build()
        .unwrap()
}

async fn put_notification(
    s3: &aws_sdk_s3::Client,
    entries: Vec<LambdaFunctionConfiguration>,
) -> Result<
    aws_sdk_s3::operation::put_bucket_notification_configuration::PutBucketNotificationConfigurationOutput,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::put_bucket_notification_configuration::PutBucketNotificationConfigurationError,
    >,
>{
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(
            NotificationConfiguration::builder()
                .set_lambda_function_configurations(Some(entries))
                .build(),
        )
        .send()
        .await
}

#[test]
fn the_fronts_pure_rules_follow_s3_and_lambda() {
    let out = std::process::Command::new(crate::support::python())
        .arg(crate::support::workspace_root().join("devstack/selftest.py"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run devstack/selftest.py");
    assert!(out.status.success(), "{}", crate::support::printed(&out));
}

#[tokio::test]
async fn filter_rules_come_back_named_as_s3_names_them() {
    let stack = Stack::start_with(&[Service::Moto], Behaviours::only(&["filter-rule-case"]));
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();

    let empty = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .expect("an empty configuration is an empty <NotificationConfiguration/>");
    assert!(empty.lambda_function_configurations().is_empty());

    // Written in lower case, as the SDK writes them.
    put_notification(&s3, vec![lambda_entry("ours", "fwd", "AWSLogs/", ".gz")])
        .await
        .unwrap();
    let read = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let rules = read.lambda_function_configurations()[0]
        .filter()
        .and_then(|f| f.key())
        .map(|k| k.filter_rules())
        .unwrap_or_default();
    let names: Vec<&str> = rules
        .iter()
        .filter_map(|r| r.name().map(FilterRuleName::as_str))
        .collect();
    assert_eq!(names, ["Prefix", "Suffix"]);
    // ... which the SDK does not map to its enum: the product must compare names itself.
    assert!(rules
        .iter()
        .all(|r| r.name() != Some(&FilterRuleName::Prefix)
            && r.name() != Some(&FilterRuleName::Suffix)));
}

#[tokio::test]
async fn notification_writes_are_validated_for_every_lambda_destination() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["notification-validation"]),
    );
    let config = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let role = create_role(&stack, "fn-role").await;
    create_function(&stack, "ours", &role, &[]).await;
    create_function(&stack, "foreign", &role, &[]).await;
    allow_s3(&stack, "ours", BUCKET).await;
    allow_s3(&stack, "foreign", "another-bucket").await;

    put_notification(&s3, vec![lambda_entry("ours", "ours", "a/", "")])
        .await
        .expect("a destination with its permission is accepted");

    // A permission for another bucket does not count; the error names that destination only.
    let (code, status, body) = failure(
        put_notification(
            &s3,
            vec![
                lambda_entry("ours", "ours", "a/", ""),
                lambda_entry("theirs", "foreign", "b/", ""),
            ],
        )
        .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidArgument", 400), "{body}");
    assert!(
        body.contains("Unable to validate the following destination configurations"),
        "{body}"
    );
    assert!(body.contains(&function_arn("foreign")), "{body}");
    assert!(
        !body.contains(&format!("[{}]", function_arn("ours"))),
        "{body}"
    );

    // A function that does not exist.
    let (code, _, body) = failure(
        put_notification(
            &s3,
            vec![
                lambda_entry("ours", "ours", "a/", ""),
                lambda_entry("gone", "deleted-long-ago", "c/", ""),
            ],
        )
        .await,
    );
    assert_eq!(code, "InvalidArgument", "{body}");
    assert!(body.contains(&function_arn("deleted-long-ago")), "{body}");

    // Overlapping prefixes for the same event type.
    let (code, status, body) = failure(
        put_notification(
            &s3,
            vec![
                lambda_entry("one", "ours", "a/", ""),
                lambda_entry("two", "ours", "a/b/", ""),
            ],
        )
        .await,
    );
    assert_eq!((code.as_str(), status), ("InvalidArgument", 400), "{body}");
    assert!(body.contains("Configurations overlap"), "{body}");

    // What was accepted first is still there.
    let read = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = read
        .lambda_function_configurations()
        .iter()
        .filter_map(|c| c.id())
        .collect();
    assert_eq!(ids, ["ours"]);
}

#[tokio::test]
async fn a_new_bucket_answers_no_such_bucket_for_a_short_time_and_the_failures_are_recorded() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["consistency-bucket"]).window(WINDOW),
    );
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    crate::support::recorder::start(&stack.moto_endpoint);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();

    let (code, status, body) = failure(
        s3.put_object()
            .bucket(BUCKET)
            .key("canary")
            .body(b"x".to_vec().into())
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NoSuchBucket", 404), "{body}");
    let head = s3.head_bucket().bucket(BUCKET).send().await;
    let head_error = head.expect_err("HeadBucket right after CreateBucket");
    assert!(
        head_error
            .as_service_error()
            .is_some_and(|e| e.is_not_found()),
        "{head_error:?}"
    );

    eventually("PutObject after the window", || {
        s3.put_object()
            .bucket(BUCKET)
            .key("canary")
            .body(b"x".to_vec().into())
            .send()
    })
    .await;

    // Every call is recorded, the refused ones included (a deployer-policy test needs them).
    let writes = crate::support::recorder::writes(&stack.moto_endpoint);
    let puts = writes
        .iter()
        .filter(|w| w.starts_with("PUT ") && w.contains(&format!("/{BUCKET}/canary")))
        .count();
    assert!(
        puts >= 2,
        "the refused and the accepted PutObject: {writes:?}"
    );
    assert!(
        writes
            .iter()
            .any(|w| w.trim_end_matches('/').ends_with(&format!("/{BUCKET}"))),
        "{writes:?}"
    );
}

#[tokio::test]
async fn a_new_role_cannot_be_assumed_by_lambda_or_firehose_at_once() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["consistency-role-lambda", "consistency-role-firehose"]).window(WINDOW),
    );
    let config = stack.sdk_config().await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let firehose = aws_sdk_firehose::Client::new(&config);
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let role = create_role(&stack, "new-role").await;

    let error = create_function_request(&lambda, "fwd", &role, &[])
        .send()
        .await
        .expect_err("CreateFunction with a role created just now");
    let service_error = error.as_service_error().expect("a service error");
    assert!(
        service_error.is_invalid_parameter_value_exception(),
        "{service_error:?}"
    );
    assert_eq!(
        service_error.meta().message(),
        Some("The role defined for the function cannot be assumed by Lambda.")
    );

    let stream = || {
        firehose
            .create_delivery_stream()
            .delivery_stream_name("flows")
            .extended_s3_destination_configuration(
                aws_sdk_firehose::types::ExtendedS3DestinationConfiguration::builder()
                    .role_arn(&role)
                    .bucket_arn(format!("arn:aws:s3:::{BUCKET}"))
                    .build()
                    .unwrap(),
            )
            .send()
    };
    let error = stream()
        .await
        .expect_err("CreateDeliveryStream with a new role");
    let service_error = error.as_service_error().expect("a service error");
    assert!(
        service_error.is_invalid_argument_exception(),
        "{service_error:?}"
    );
    assert!(
        service_error
            .meta()
            .message()
            .unwrap_or_default()
            .contains("Firehose is unable to assume role"),
        "{service_error:?}"
    );

    eventually("CreateFunction after the window", || {
        create_function_request(&lambda, "fwd", &role, &[]).send()
    })
    .await;
    eventually("CreateDeliveryStream after the window", stream).await;

    // Switching the function to a role created just now fails the same way.
    let other = create_role(&stack, "newer-role").await;
    let error = lambda
        .update_function_configuration()
        .function_name("fwd")
        .role(&other)
        .send()
        .await
        .expect_err("UpdateFunctionConfiguration to a role created just now");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_invalid_parameter_value_exception()),
        "{error:?}"
    );
}

#[tokio::test]
async fn permission_and_notification_writes_right_after_their_cause_fail_for_a_short_time() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["consistency-function-update", "consistency-notification"])
            .window(WINDOW),
    );
    let config = stack.sdk_config().await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let role = create_role(&stack, "fn-role").await;
    create_function(&stack, "fwd", &role, &[]).await;

    let add_permission = || {
        lambda
            .add_permission()
            .function_name("fwd")
            .statement_id("s3")
            .action("lambda:InvokeFunction")
            .principal("s3.amazonaws.com")
            .source_arn(format!("arn:aws:s3:::{BUCKET}"))
            .send()
    };
    let error = add_permission()
        .await
        .expect_err("AddPermission right after CreateFunction");
    let service_error = error.as_service_error().expect("a service error");
    assert!(
        service_error.is_resource_conflict_exception(),
        "{service_error:?}"
    );
    assert!(
        service_error
            .meta()
            .message()
            .unwrap_or_default()
            .contains("An update is in progress for resource"),
        "{service_error:?}"
    );
    eventually("AddPermission after the window", add_permission).await;

    let (code, status, body) =
        failure(put_notification(&s3, vec![lambda_entry("ours", "fwd", "a/", "")]).await);
    assert_eq!((code.as_str(), status), ("InvalidArgument", 400), "{body}");
    assert!(
        body.contains("Unable to validate the following destination configurations"),
        "{body}"
    );
    assert!(body.contains(&function_arn("fwd")), "{body}");
    eventually(
        "PutBucketNotificationConfiguration after the window",
        || put_notification(&s3, vec![lambda_entry("ours", "fwd", "a/", "")]),
    )
    .await;
}

/// A hand-made S3 event for one object, as a user would replay it.
fn replay_event(key: &str, size: usize) -> serde_json::Value {
    json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3",
        "awsRegion": "us-east-1", "eventTime": "2024-06-19T14:05:00.000Z",
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "AWS:replay"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"}, "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "replay",
               "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
               "object": {"key": key, "size": size}}}]})
}

#[tokio::test]
async fn s3_invokes_the_function_asynchronously_and_lambda_writes_its_output_to_its_log_group() {
    let stack = Stack::start_with(
        &[Service::Lambda, Service::Rotel],
        Behaviours::only(&["s3-events", "lambda-logs", "consistency-policy"])
            .window(WINDOW)
            .retry_delays(&[WINDOW, WINDOW]),
    );
    let config = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let flows = std::fs::read(
        crate::support::workspace_root().join("lambda/tests/fixtures/default-v2.log"),
    )
    .expect("fixture default-v2.log");
    const RECORDS: usize = 7;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let role = create_role(&stack, "fwd-role").await;
    create_function(
        &stack,
        "fwd",
        &role,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &stack.otlp_endpoint)],
    )
    .await;
    allow_s3(&stack, "fwd", BUCKET).await;
    let key = "AWSLogs/aws-account-id=123456789012/region=us-east-1/a b.log";
    let put = |key: &'static str| {
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .body(flows.clone().into())
            .send()
    };
    put(key).await.unwrap(); // no notification yet: nothing is invoked

    // consistency-policy: right after the role's policy changed, the forwarder cannot read.
    let read_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{BUCKET}/*")}]});
    let put_role_policy = || {
        iam.put_role_policy()
            .role_name("fwd-role")
            .policy_name("read")
            .policy_document(read_only.to_string())
            .send()
    };
    put_role_policy().await.unwrap();
    let invoked = lambda
        .invoke()
        .function_name("fwd")
        .payload(aws_smithy_types::Blob::new(
            replay_event(
                "AWSLogs/aws-account-id%3D123456789012/region%3Dus-east-1/a+b.log",
                flows.len(),
            )
            .to_string(),
        ))
        .send()
        .await
        .expect("Invoke");
    let payload =
        String::from_utf8_lossy(invoked.payload().map(|p| p.as_ref()).unwrap_or_default())
            .into_owned();
    assert!(invoked.function_error().is_some(), "{payload}");
    assert!(
        router_log(&stack).contains("injected 403 for GetObject"),
        "the forwarder's read was refused: {}",
        router_log(&stack)
    );
    assert!(stack.captured().is_empty());

    // s3-events: only the entry whose prefix matches the URL-encoded key fires, once.
    tokio::time::sleep(Duration::from_secs_f64(WINDOW)).await;
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(lambda_entry(
                    "hive",
                    "fwd",
                    "AWSLogs/aws-account-id%3D123456789012/",
                    ".log",
                ))
                .lambda_function_configurations(lambda_entry(
                    "unencoded-never-fires",
                    "fwd",
                    "other/aws-account-id=123456789012/",
                    "",
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    put("other/aws-account-id=123456789012/x.log")
        .await
        .unwrap();
    put(key).await.unwrap();
    put("AWSLogs/aws-account-id=123456789012/region=us-east-1/x.txt")
        .await
        .unwrap();
    stack.wait_for_exactly(RECORDS, Duration::from_secs(60));

    // lambda-logs: no log group and a role without logs:CreateLogGroup: Lambda writes nothing.
    let group = "/aws/lambda/fwd";
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "{groups:?}");

    // With the group there, each invocation's output lands in it, framed as Lambda frames it.
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    put(key).await.unwrap();
    stack.wait_for_exactly(2 * RECORDS, Duration::from_secs(60));
    let messages = eventually("the invocation's log events", || async {
        let streams = logs
            .describe_log_streams()
            .log_group_name(group)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let Some(stream) = streams
            .log_streams()
            .first()
            .and_then(|s| s.log_stream_name())
        else {
            return Err("no stream yet".to_string());
        };
        let events = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let messages: Vec<String> = events
            .events()
            .iter()
            .filter_map(|e| e.message().map(str::to_string))
            .collect();
        if messages.iter().any(|m| m.starts_with("REPORT RequestId: ")) {
            Ok((stream.to_string(), messages))
        } else {
            Err(format!("no REPORT line yet in {messages:?}"))
        }
    })
    .await;
    let (stream, messages) = messages;
    let (date, rest) = stream.split_at(11);
    assert!(
        date.len() == 11
            && date.chars().filter(|c| *c == '/').count() == 3
            && rest.starts_with("[$LATEST]")
            && rest["[$LATEST]".len()..].len() == 32,
        "Lambda's stream name YYYY/MM/DD/[$LATEST]<32 hex>: {stream}"
    );
    assert!(messages[0].starts_with("START RequestId: "), "{messages:?}");
    assert!(
        messages.iter().any(|m| m.contains("\"forwarded\":7")),
        "the forwarder's report line: {messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("END RequestId: ")),
        "{messages:?}"
    );

    // A failed asynchronous invocation is retried: the first attempt falls in the policy
    // window (AccessDenied), a retry after it forwards the object, once.
    put_role_policy().await.unwrap();
    put(key).await.unwrap();
    stack.wait_for_exactly(3 * RECORDS, Duration::from_secs(60));
    let log = router_log(&stack);
    assert!(
        log.contains("async invoke of fwd failed (attempt 1): retrying"),
        "{log}"
    );
}

fn router_log(stack: &Stack) -> String {
    std::fs::read_to_string(stack.dir().join("logs/router.log")).unwrap_or_default()
}

/// CloudWatch Logs returns each event as it was written. moto rewrote every `<RequestId>` span of
/// any response body, greedily, so two events that each carry an S3 error document (as the
/// forwarder's report of a denied read does) came back spliced into one message, and verify
/// could not read the first (moto wrapper fix 10).
#[tokio::test]
async fn log_events_holding_xml_request_ids_come_back_as_written() {
    let stack = Stack::start_with(&[Service::Moto], Behaviours::none());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&stack.sdk_config().await);
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let written = [
        r#"{"flowlogs":"object","error":"AccessDenied: <Error><RequestId>A1</RequestId></Error>"}"#,
        r#"{"level":"ERROR","message":"<Error><RequestId>B2</RequestId></Error>"}"#,
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut put = logs
        .put_log_events()
        .log_group_name("g")
        .log_stream_name("s");
    for (i, message) in written.iter().enumerate() {
        put = put.log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now + i as i64)
                .message(*message)
                .build()
                .unwrap(),
        );
    }
    put.send().await.unwrap();
    let found = logs
        .filter_log_events()
        .log_group_name("g")
        .filter_pattern("\"RequestId\"")
        .send()
        .await
        .unwrap();
    let messages: Vec<&str> = found.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(messages, written);
}

/// `flow-log-kms-key-id`: a bucket whose default encryption names its KMS key by id cannot
/// receive flow logs (VPC user guide, flow-log troubleshooting); by ARN it can. moto takes both.
#[tokio::test]
async fn a_flow_log_to_a_bucket_whose_kms_key_is_named_by_id_is_undeliverable() {
    const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let key_arn = format!("arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/{KEY_ID}");
    for (behaviours, on) in [
        (Behaviours::only(&["flow-log-kms-key-id"]), true),
        (Behaviours::none(), false),
    ] {
        let stack = Stack::start_with(&[Service::Moto], behaviours);
        let sdk = stack.sdk_config().await;
        let s3 = aws_sdk_s3::Client::new(&sdk);
        let ec2 = flowlogs_aws_lite::ec2::Ec2::new(&sdk);
        for (bucket, key) in [("by-key-id", KEY_ID), ("by-key-arn", key_arn.as_str())] {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
            crate::support::encrypt_with_kms(&s3, bucket, key).await;
        }
        let vpc = stack.create_vpc("10.0.0.0/16").await;
        let create = |bucket: &str| {
            let request =
                crate::support::s3_flow_log(&vpc, "ALL", &format!("arn:aws:s3:::{bucket}"));
            let ec2 = ec2.clone();
            async move { ec2.create_flow_logs(&request).await }
        };
        let by_id = create("by-key-id").await.unwrap();
        if on {
            assert!(by_id.flow_log_ids.is_empty(), "{by_id:?}");
            let failed = &by_id.unsuccessful[0];
            assert_eq!(failed.resource_id.as_deref(), Some(vpc.as_str()));
            assert_eq!(failed.code, "400");
            assert_eq!(failed.message, "LogDestination: by-key-id is undeliverable");
        } else {
            assert!(by_id.unsuccessful.is_empty(), "{by_id:?}");
        }
        let by_arn = create("by-key-arn").await.unwrap();
        assert!(by_arn.unsuccessful.is_empty(), "{by_arn:?}");
        assert_eq!(by_arn.flow_log_ids.len(), 1);
    }
}

/// A stream to `url` that gzips its posts, sends an access key and a common attribute, retries
/// for `retry_s` seconds and backs failed data up to `BUCKET` under `failed/`.
async fn http_stream(firehose: &aws_sdk_firehose::Client, name: &str, url: &str, retry_s: i32) {
    use aws_sdk_firehose::types::{
        ContentEncoding, HttpEndpointCommonAttribute, HttpEndpointConfiguration,
        HttpEndpointDestinationConfiguration, HttpEndpointRequestConfiguration,
        HttpEndpointRetryOptions, HttpEndpointS3BackupMode, S3DestinationConfiguration,
    };
    let role = format!("arn:aws:iam::{ACCOUNT_ID}:role/firehose");
    firehose
        .create_delivery_stream()
        .delivery_stream_name(name)
        .http_endpoint_destination_configuration(
            HttpEndpointDestinationConfiguration::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url(url)
                        .access_key("test-access-key")
                        .build()
                        .unwrap(),
                )
                .request_configuration(
                    HttpEndpointRequestConfiguration::builder()
                        .content_encoding(ContentEncoding::Gzip)
                        .common_attributes(
                            HttpEndpointCommonAttribute::builder()
                                .attribute_name("env")
                                .attribute_value("test")
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .retry_options(
                    HttpEndpointRetryOptions::builder()
                        .duration_in_seconds(retry_s)
                        .build(),
                )
                .s3_backup_mode(HttpEndpointS3BackupMode::FailedDataOnly)
                .s3_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn(&role)
                        .bucket_arn(format!("arn:aws:s3:::{BUCKET}"))
                        .prefix("failed/")
                        .build()
                        .unwrap(),
                )
                .role_arn(&role)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn put(firehose: &aws_sdk_firehose::Client, stream: &str, data: &str) {
    firehose
        .put_record()
        .delivery_stream_name(stream)
        .record(
            aws_sdk_firehose::types::Record::builder()
                .data(aws_sdk_firehose::primitives::Blob::new(data.as_bytes()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// The keys under `prefix`, waiting up to `timeout` for at least one.
async fn wait_for_keys(s3: &aws_sdk_s3::Client, prefix: &str, timeout: Duration) -> Vec<String> {
    let started = Instant::now();
    loop {
        let keys = crate::support::keys_under(s3, BUCKET, prefix).await;
        if !keys.is_empty() || started.elapsed() > timeout {
            return keys;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn firehose_posts_what_aws_posts_and_backs_up_a_batch_the_endpoint_did_not_acknowledge() {
    use crate::support::firehose_endpoint::{Answer, FirehoseEndpoint};
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["firehose-http-delivery"]),
    );
    let config = stack.sdk_config().await;
    let firehose = aws_sdk_firehose::Client::new(&config);
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();

    // An endpoint that answers as Firehose requires: the batch is delivered, nothing backed up.
    let good = FirehoseEndpoint::start(Answer::Firehose);
    http_stream(&firehose, "good", &good.url, 0).await;
    put(&firehose, "good", r#"{"message":"2 1 eni-1 ACCEPT OK"}"#).await;
    let got = good.wait_for(1, Duration::from_secs(20));
    assert_eq!(got.len(), 1, "one post: {got:?}");
    let post = &got[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.path, "/aws/default/vpcflowlog/_kinesis_firehose");
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("content-encoding"), Some("gzip"));
    assert!(post.raw_body.starts_with(&[0x1f, 0x8b]), "gzipped body");
    assert_eq!(post.header("x-amz-firehose-protocol-version"), Some("1.0"));
    assert_eq!(
        post.header("x-amz-firehose-access-key"),
        Some("test-access-key")
    );
    assert_eq!(
        post.header("x-amz-firehose-source-arn"),
        Some(format!("arn:aws:firehose:us-east-1:{ACCOUNT_ID}:deliverystream/good").as_str())
    );
    let attributes: serde_json::Value =
        serde_json::from_str(post.header("x-amz-firehose-common-attributes").unwrap()).unwrap();
    assert_eq!(attributes, json!({"commonAttributes": {"env": "test"}}));
    let body = post.json();
    assert_eq!(
        body["requestId"].as_str(),
        post.header("x-amz-firehose-request-id")
    );
    assert!(body["timestamp"].is_u64(), "{body}");
    assert_eq!(post.records(), [r#"{"message":"2 1 eni-1 ACCEPT OK"}"#]);

    // A 200 that does not echo the request id is no delivery: retried, then backed up to S3.
    let careless = FirehoseEndpoint::start(Answer::Fixed(200, r#"{"ok":true}"#.into()));
    http_stream(&firehose, "careless", &careless.url, 2).await;
    put(&firehose, "careless", "the record").await;
    let keys = wait_for_keys(&s3, "failed/http-endpoint-failed/", Duration::from_secs(30)).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let posts = careless.received();
    assert!(posts.len() >= 2, "retried with the same request: {posts:?}");
    let ids: std::collections::BTreeSet<_> = posts
        .iter()
        .map(|p| p.header("x-amz-firehose-request-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one request id over the retries: {ids:?}");
    let object = crate::support::object_bytes(&s3, BUCKET, &keys[0]).await;
    let line: serde_json::Value =
        serde_json::from_slice(object.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        line["errorCode"],
        "HttpEndpoint.InvalidResponseFromDestination"
    );
    assert_eq!(line["rawData"], "dGhlIHJlY29yZA==");
    assert!(line["attemptsMade"].as_u64().unwrap() >= 2, "{line}");
    // the good stream backed nothing up
    assert!(good.received().len() == 1);
}

fn code_and_message<E: ProvideErrorMetadata, R>(
    e: &aws_sdk_s3::error::SdkError<E, R>,
) -> (String, String) {
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_force_deleted_secret_lingers_with_deleted_date_and_refuses_create_and_restore() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["secrets-deletion-window"]).secret_deletion_window(4.0),
    );
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk_config().await);
    let name = "flowlogs/t/endpoint-credentials";
    let create = || {
        sm.create_secret()
            .name(name)
            .secret_string(r#"{"k":"v"}"#)
            .send()
    };
    create().await.unwrap();
    sm.delete_secret()
        .secret_id(name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let described = sm.describe_secret().secret_id(name).send().await.unwrap();
    assert!(described.deleted_date().is_some(), "{described:?}");

    let first = create().await.expect_err("the name is still held");
    let second = create().await.expect_err("the name is still held");
    assert_eq!(
        code_and_message(&first),
        (
            "InvalidRequestException".to_string(),
            "You can't create this secret because a secret with this name is already scheduled for deletion.".to_string()
        )
    );
    assert_eq!(
        code_and_message(&second),
        (
            "InvalidRequestException".to_string(),
            "You can\u{2019}t perform this operation on the secret because it was deleted."
                .to_string()
        )
    );
    let restore = sm
        .restore_secret()
        .secret_id(name)
        .send()
        .await
        .expect_err("a force-deleted secret cannot be restored");
    assert_eq!(restore.code(), Some("InvalidRequestException"));
    assert_eq!(
        restore.message(),
        Some("You can\u{2019}t perform this operation on the secret because it was deleted.")
    );

    // after the window the name is free
    eventually("CreateSecret after the deletion window", create).await;
}

#[tokio::test]
async fn describe_secret_lists_labelled_versions_only() {
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["secrets-labelled-versions"]),
    );
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk_config().await);
    let name = "flowlogs/t/endpoint-credentials";
    let v1 = "flowlogs-version-0000000000000001";
    let v2 = "flowlogs-version-0000000000000002";
    sm.create_secret()
        .name(name)
        .secret_string("one")
        .client_request_token(v1)
        .send()
        .await
        .unwrap();
    sm.put_secret_value()
        .secret_id(name)
        .secret_string("two")
        .client_request_token(v2)
        .version_stages("STAGED")
        .send()
        .await
        .unwrap();
    sm.update_secret_version_stage()
        .secret_id(name)
        .version_stage("STAGED")
        .remove_from_version_id(v2)
        .send()
        .await
        .unwrap();
    let described = sm.describe_secret().secret_id(name).send().await.unwrap();
    let listed: Vec<&String> = described.version_ids_to_stages().unwrap().keys().collect();
    assert_eq!(listed, [v1], "only the labelled version");
    let ids = |deprecated: bool| {
        let sm = sm.clone();
        async move {
            let out = sm
                .list_secret_version_ids()
                .secret_id(name)
                .include_deprecated(deprecated)
                .send()
                .await
                .unwrap();
            let mut ids: Vec<String> = out
                .versions()
                .iter()
                .filter_map(|v| v.version_id().map(str::to_string))
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(ids(false).await, [v1]);
    assert_eq!(ids(true).await, [v1, v2]);
    // the unlabelled version is still there: its id cannot be reused for another value
    let reused = sm
        .put_secret_value()
        .secret_id(name)
        .secret_string("three")
        .client_request_token(v2)
        .send()
        .await
        .expect_err("a version id in use");
    assert_eq!(reused.code(), Some("ResourceExistsException"));
}

#[tokio::test]
async fn an_s3_failure_destination_needs_put_object_on_every_key_and_list_bucket() {
    use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
    let stack = Stack::start_with(
        &[Service::Moto],
        Behaviours::only(&["lambda-destination-check"]),
    );
    let config = stack.sdk_config().await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    aws_sdk_s3::Client::new(&config)
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let role = create_role(&stack, "fwd-role").await;
    create_function(&stack, "fwd", &role, &[]).await;
    let destination = format!("arn:aws:s3:::{BUCKET}");
    let grant = |put_on: String| {
        let document = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": put_on},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{BUCKET}")},
        ]});
        iam.put_role_policy()
            .role_name("fwd-role")
            .policy_name("failures")
            .policy_document(document.to_string())
            .send()
    };
    let put_config = || {
        lambda
            .put_function_event_invoke_config()
            .function_name("fwd")
            .maximum_retry_attempts(0)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(OnFailure::builder().destination(&destination).build())
                    .build(),
            )
            .send()
    };

    // PutObject scoped to the prefix Lambda writes under: refused, as two public projects saw.
    grant(format!("arn:aws:s3:::{BUCKET}/aws/lambda/async/fwd/*"))
        .await
        .expect("PutRolePolicy");
    let error = put_config()
        .await
        .expect_err("a destination the role may write only a prefix of");
    let service_error = error.as_service_error().expect("a service error");
    assert!(
        service_error.is_invalid_parameter_value_exception(),
        "{service_error:?}"
    );
    assert_eq!(
        service_error.meta().message(),
        Some(
            format!(
                "The function execution role does not have permissions to call PutObject on arn:aws:s3:::{BUCKET}"
            )
            .as_str()
        )
    );
    assert!(lambda
        .get_function_event_invoke_config()
        .function_name("fwd")
        .send()
        .await
        .is_err());

    // Every key of the bucket: accepted.
    grant(format!("arn:aws:s3:::{BUCKET}/*"))
        .await
        .expect("PutRolePolicy");
    put_config()
        .await
        .expect("a destination the role may write every key of and list");
    let kept = lambda
        .get_function_event_invoke_config()
        .function_name("fwd")
        .send()
        .await
        .expect("GetFunctionEventInvokeConfig");
    assert_eq!(
        kept.destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some(destination.as_str())
    );
}
