//! The deployer against a real AWS API emulator (moto): setup makes every resource as configured,
//! a second setup makes no write call, a changed field is a replace, and teardown removes exactly
//! what carries our tag while what others made stays untouched.

use std::time::Duration;

use crate::support::config::StackConfig;
use crate::support::settle::{bucket_usable, settled};
use crate::support::{
    assert_exit, fake_zip, printed, recorder, write, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use serde_json::Value;

const STACK: &str = "life";
const BUCKET: &str = "life-flowlogs-123456789012-us-east-1";
const FAILURE_BUCKET: &str = "life-failures-123456789012-us-east-1";
const FUNCTION: &str = "flowlogs-life-forwarder";

const FORMAT: &str = "${version} ${srcaddr} ${dstaddr} ${action} ${flow-direction} ${end}";

fn config(vpc: &str, traffic_type: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, "http://127.0.0.1:4318")
        .flow_log("traffic_type", traffic_type)
        .format(FORMAT)
        .flow_log("max_aggregation_interval", 60)
        .bucket("retention_days", 30)
        .otlp("protocol", "http/json")
        .header("x-api-key", "${env:LIFE_KEY}")
        .otlp("service_name", "life-flows")
        .lambda_setting("memory_mb", "256")
        .lambda_setting("timeout_s", "60")
        .env("LIFE_KEY", "s3cret-key")
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_converges_then_changes_nothing_and_teardown_removes_only_ours() {
    let stack = Stack::start_with(&[Service::Moto], Behaviours::all());
    let sdk = stack.sdk_config().await;
    let (s3, ec2, iam, lambda) = (
        aws_sdk_s3::Client::new(&sdk),
        flowlogs_aws_lite::ec2::Ec2::new(&sdk),
        aws_sdk_iam::Client::new(&sdk),
        aws_sdk_lambda::Client::new(&sdk),
    );
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let zip = fake_zip(stack.dir());
    let zip_arg = zip.to_str().unwrap();
    let cfg = config(&vpc, "ALL").write(stack.dir());

    // Someone else's role and flow log on the same VPC (another destination): never touched.
    iam.create_role()
        .role_name("someone-elses-role")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("someone-elses-logs")
        .send()
        .await
        .unwrap();
    let foreign_flow_log = ec2
        .create_flow_logs(&crate::support::s3_flow_log(
            &vpc,
            "REJECT",
            "arn:aws:s3:::someone-elses-logs",
        ))
        .await
        .unwrap()
        .flow_log_ids[0]
        .clone();

    let plan = cfg.plan_zip(&stack, zip_arg);
    assert_exit(&plan, 2);
    assert!(
        printed(&plan).contains("Plan: 11 to create"),
        "{}",
        printed(&plan)
    );
    assert!(
        !printed(&plan).contains("s3cret-key"),
        "secrets never printed"
    );

    let setup = cfg.setup_zip(&stack, zip_arg);
    assert_exit(&setup, 0);

    // The bucket: hardened and tagged, our statements in its policy.
    let tags = s3.get_bucket_tagging().bucket(BUCKET).send().await.unwrap();
    let tag = |k: &str| {
        tags.tag_set()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_string())
    };
    assert_eq!(tag("flowlogs:stack").as_deref(), Some(STACK));
    assert_eq!(tag("managed-by").as_deref(), Some("flowlogs"));
    let pab = s3
        .get_public_access_block()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let ours = lifecycle
        .rules()
        .iter()
        .find(|r| r.id() == Some("flowlogs-retention"))
        .unwrap();
    assert_eq!(ours.expiration().unwrap().days(), Some(30));
    assert_eq!(
        ours.abort_incomplete_multipart_upload()
            .unwrap()
            .days_after_initiation(),
        Some(7)
    );
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
    let statements = policy["Statement"].as_array().unwrap();
    let write_statement = statements
        .iter()
        .find(|s| s["Sid"] == "FlowlogsDeliveryWriteLife")
        .unwrap();
    assert_eq!(
        write_statement["Principal"]["Service"],
        "delivery.logs.amazonaws.com"
    );
    assert_eq!(
        write_statement["Resource"],
        format!("arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT_ID}/*")
    );
    assert!(statements
        .iter()
        .any(|s| s["Sid"] == "FlowlogsDenyInsecureTransportLife" && s["Effect"] == "Deny"));

    // The failure bucket: the stack's own, hardened as the log bucket; failed events go there.
    failure_bucket_is_hardened(&s3).await;
    let invoke_config = lambda
        .get_function_event_invoke_config()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(
        invoke_config
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some(format!("arn:aws:s3:::{FAILURE_BUCKET}").as_str())
    );

    // The flow log: as configured, tagged, delivering to the bucket.
    let ours_filter = [flowlogs_aws_lite::ec2::Filter::new(
        "tag:flowlogs:stack",
        [STACK],
    )];
    let flow_logs = ec2.describe_flow_logs(&[], &ours_filter).await.unwrap();
    let [flow_log] = &flow_logs[..] else {
        panic!("one flow log of ours: {flow_logs:?}")
    };
    assert_eq!(flow_log.resource_id, vpc);
    assert_eq!(flow_log.traffic_type.as_deref(), Some("ALL"));
    assert_eq!(
        flow_log.log_format.as_deref(),
        Some("${version} ${srcaddr} ${dstaddr} ${action} ${flow-direction} ${end}")
    );
    assert_eq!(flow_log.max_aggregation_interval, Some(60));
    assert_eq!(
        flow_log.log_destination.as_deref(),
        Some(format!("arn:aws:s3:::{BUCKET}").as_str())
    );
    let first_flow_log = flow_log.id.clone();

    // The role: Lambda trust, reads only the flow-log prefix.
    let role = iam.get_role().role_name(FUNCTION).send().await.unwrap();
    let trust = percent_encoding::percent_decode_str(
        role.role().unwrap().assume_role_policy_document().unwrap(),
    )
    .decode_utf8_lossy()
    .to_string();
    assert!(trust.contains("lambda.amazonaws.com"), "{trust}");
    let inline = iam
        .get_role_policy()
        .role_name(FUNCTION)
        .policy_name("flowlogs-forwarder")
        .send()
        .await
        .unwrap();
    let inline = percent_encoding::percent_decode_str(inline.policy_document())
        .decode_utf8_lossy()
        .to_string();
    assert!(
        inline.contains(&format!(
            "arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/*"
        )),
        "{inline}"
    );
    assert!(!inline.contains("\"*\""), "{inline}");

    // The function: configuration and the standard OTel environment, secret resolved.
    let function = lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let c = function.configuration().unwrap();
    assert_eq!(c.runtime().unwrap().as_str(), "provided.al2023");
    assert_eq!(c.handler(), Some("bootstrap"));
    assert_eq!((c.memory_size(), c.timeout()), (Some(256), Some(60)));
    let env = c.environment().unwrap().variables().unwrap();
    assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://127.0.0.1:4318");
    assert_eq!(env["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/json");
    assert_eq!(env["OTEL_SERVICE_NAME"], "life-flows");
    // the `${env:...}` header is in the stack's secret, which the environment names
    assert!(!env.contains_key("OTEL_EXPORTER_OTLP_HEADERS"), "{env:?}");
    assert!(
        env["FLOWLOGS_HEADERS_SECRET_ARN"].contains(":secret:flowlogs/life/endpoint-credentials-"),
        "{env:?}"
    );
    assert!(!format!("{env:?}").contains("s3cret-key"));
    assert_eq!(function.tags().unwrap()["flowlogs:stack"], STACK);
    let permission = lambda
        .get_policy()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let permission = permission.policy().unwrap();
    assert!(
        permission.contains("s3.amazonaws.com")
            && permission.contains(&format!("arn:aws:s3:::{BUCKET}")),
        "{permission}"
    );

    // The notification: ours, filtered to the flow-log prefix.
    let notifications = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let entry = notifications
        .lambda_function_configurations()
        .iter()
        .find(|c| c.id() == Some("flowlogs-life"))
        .unwrap();
    assert!(entry
        .lambda_function_arn()
        .ends_with(&format!(":function:{FUNCTION}")));
    let rules = entry.filter().unwrap().key().unwrap().filter_rules();
    assert!(rules
        .iter()
        .any(|r| r.value() == Some(&*format!("AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/"))));
    assert!(rules.iter().any(|r| r.value() == Some(".log.gz")));

    // Someone adds their own notification entry on another prefix: flowlogs must keep it.
    let mut notification_config = NotificationConfiguration::builder()
        .set_lambda_function_configurations(Some(
            notifications.lambda_function_configurations().to_vec(),
        ))
        .queue_configurations(
            QueueConfiguration::builder()
                .id("someone-elses-queue")
                .queue_arn("arn:aws:sqs:us-east-1:123456789012:theirs")
                .events(Event::from("s3:ObjectCreated:*"))
                .filter(
                    NotificationConfigurationFilter::builder()
                        .key(
                            S3KeyFilter::builder()
                                .filter_rules(
                                    FilterRule::builder()
                                        .name(FilterRuleName::Prefix)
                                        .value("exports/")
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        );
    notification_config = notification_config.set_topic_configurations(None);
    let notification_config = notification_config.build();
    settled("adding a foreign notification entry", || {
        s3.put_bucket_notification_configuration()
            .bucket(BUCKET)
            .notification_configuration(notification_config.clone())
            .send()
    })
    .await;

    // A second setup plans nothing and makes no write call.
    recorder::start(&stack.moto_endpoint);
    let again = cfg.setup_zip(&stack, zip_arg);
    assert_exit(&again, 0);
    assert_eq!(
        recorder::writes(&stack.moto_endpoint),
        Vec::<String>::new(),
        "second setup must not write"
    );
    assert!(
        printed(&again).contains("No changes"),
        "{}",
        printed(&again)
    );
    assert_exit(&cfg.plan_zip(&stack, zip_arg), 0);

    // One changed field: plan names it and the replace; setup replaces the flow log.
    let cfg = config(&vpc, "REJECT").write(stack.dir());
    let plan = cfg.plan_zip(&stack, zip_arg);
    assert_exit(&plan, 2);
    let shown = printed(&plan);
    assert!(
        shown.contains("-/+ flow log") && shown.contains("traffic_type: ALL -> REJECT"),
        "{shown}"
    );
    assert!(
        shown.contains("Plan: 0 to create, 0 to update, 1 to replace, 0 to delete."),
        "{shown}"
    );
    recorder::start(&stack.moto_endpoint);
    assert_exit(&cfg.setup_zip(&stack, zip_arg), 0);
    // The recorder sees writes: the replace tries the new flow log first; moto (unlike AWS for a
    // different configuration) refuses a second one on the same resource and destination, so the
    // old one is deleted and the new one created.
    assert_eq!(
        recorder::writes(&stack.moto_endpoint),
        ["CreateFlowLogs", "DeleteFlowLogs", "CreateFlowLogs"]
    );
    let flow_logs = ec2.describe_flow_logs(&[], &ours_filter).await.unwrap();
    let [replaced] = &flow_logs[..] else {
        panic!("one flow log of ours after the replace")
    };
    assert_eq!(replaced.traffic_type.as_deref(), Some("REJECT"));
    assert_ne!(replaced.id, first_flow_log);

    // Teardown: ours gone, the bucket and its logs kept, everything else untouched.
    s3.put_object()
        .bucket(BUCKET)
        .key(format!(
            "AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/x.log.gz"
        ))
        .body(b"log".to_vec().into())
        .send()
        .await
        .unwrap();
    let teardown = cfg.run(&stack, &["teardown", "--yes"]);
    assert_exit(&teardown, 0);
    assert!(ec2
        .describe_flow_logs(&[], &ours_filter)
        .await
        .unwrap()
        .is_empty());
    assert!(
        lambda
            .get_function()
            .function_name(FUNCTION)
            .send()
            .await
            .is_err(),
        "function deleted"
    );
    assert!(
        iam.get_role().role_name(FUNCTION).send().await.is_err(),
        "role deleted"
    );
    let notifications = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(
        notifications.lambda_function_configurations().is_empty(),
        "our entry removed"
    );
    assert_eq!(
        notifications.queue_configurations()[0].id(),
        Some("someone-elses-queue"),
        "their entry kept"
    );
    assert_eq!(
        s3.list_objects_v2()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap()
            .key_count(),
        Some(1),
        "logs kept"
    );
    assert!(
        s3.head_bucket()
            .bucket(FAILURE_BUCKET)
            .send()
            .await
            .is_err(),
        "the failure bucket, flowlogs' own, deleted with its records"
    );
    assert!(iam
        .get_role()
        .role_name("someone-elses-role")
        .send()
        .await
        .is_ok());
    let all = ec2.describe_flow_logs(&[], &[]).await.unwrap();
    assert!(
        all.iter().any(|f| f.id == foreign_flow_log),
        "their flow log kept"
    );

    // A setup right after the teardown: AWS is still deleting the secret (its name held, with
    // `secrets-deletion-window` DescribeSecret shows it with DeletedDate and CreateSecret is
    // refused with both of AWS's messages); setup waits for the name and creates it anew.
    let secret_name = format!("flowlogs/{STACK}/endpoint-credentials");
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let again = cfg.setup_zip(&stack, zip_arg);
    assert_exit(&again, 0);
    assert!(!printed(&again).contains("s3cret-key"));
    let described = sm
        .describe_secret()
        .secret_id(&secret_name)
        .send()
        .await
        .unwrap();
    assert!(described.deleted_date().is_none(), "{described:?}");
    let value = sm
        .get_secret_value()
        .secret_id(&secret_name)
        .send()
        .await
        .unwrap();
    assert_eq!(value.secret_string(), Some(r#"{"x-api-key":"s3cret-key"}"#));
    let settled = cfg.plan_zip(&stack, zip_arg);
    assert_exit(&settled, 0);
    assert_exit(&cfg.run(&stack, &["teardown", "--yes"]), 0);

    // A second teardown has nothing to do (the secret AWS is still deleting is gone to it);
    // --delete-data removes the bucket with its objects.
    let again = cfg.run(&stack, &["teardown", "--yes"]);
    assert_exit(&again, 0);
    assert!(
        printed(&again).contains("Nothing to delete"),
        "{}",
        printed(&again)
    );
    assert_exit(&cfg.run(&stack, &["teardown", "--yes", "--delete-data"]), 0);
    assert!(
        s3.head_bucket().bucket(BUCKET).send().await.is_err(),
        "bucket deleted with --delete-data"
    );
    assert!(s3
        .head_bucket()
        .bucket("someone-elses-logs")
        .send()
        .await
        .is_ok());
}

fn firehose_config(vpc: &str, url: &str) -> StackConfig {
    StackConfig::firehose(STACK, vpc, url, "LIFE_KEY")
        .format("${version} ${srcaddr} ${dstaddr} ${action} ${end}")
        .flow_log("max_aggregation_interval", 60)
        .firehose_setting("content_encoding", "gzip")
        .set_yaml(
            "delivery.firehose.buffering",
            "{ size_mb: 1, interval_s: 60 }",
        )
        .firehose_setting("retry_duration_s", 60)
        .env("LIFE_KEY", "s3cret-key")
}

/// Firehose mode with every behaviour of the stack on: setup (with verify's canary through the
/// stream to an endpoint that answers as Firehose requires), teardown, and a setup at once
/// while AWS is still deleting the secret that holds the access key.
#[tokio::test(flavor = "multi_thread")]
async fn firehose_mode_setup_teardown_then_setup_at_once_with_every_behaviour() {
    use crate::support::firehose_endpoint::{Answer, FirehoseEndpoint};
    let stack = Stack::start_with(&[Service::Moto], Behaviours::all());
    let sdk = stack.sdk_config().await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let endpoint = FirehoseEndpoint::start(Answer::Firehose);
    let vpc = stack.create_vpc("10.5.0.0/16").await;
    let cfg = firehose_config(&vpc, &endpoint.url).write(stack.dir());
    let secret_name = format!("flowlogs/{STACK}/endpoint-credentials");

    for round in 1..=2 {
        let setup = cfg.run(&stack, &["setup", "--yes"]);
        assert_exit(&setup, 0);
        let shown = printed(&setup);
        assert!(shown.contains("✓ test delivery"), "round {round}: {shown}");
        assert!(!shown.contains("s3cret-key"), "{shown}");
        let posts = endpoint.wait_for(round, Duration::from_secs(20));
        assert_eq!(posts.len(), round, "one canary per setup: {posts:?}");
        let post = &posts[round - 1];
        assert_eq!(post.header("x-amz-firehose-access-key"), Some("s3cret-key"));
        let records = post.records();
        let record: Value = serde_json::from_str(&records[0]).unwrap();
        assert!(
            record["message"]
                .as_str()
                .unwrap()
                .starts_with("5 192.0.2.10 198.51.100.20 ACCEPT "),
            "{record}"
        );
        let described = sm
            .describe_secret()
            .secret_id(&secret_name)
            .send()
            .await
            .unwrap();
        assert!(described.deleted_date().is_none(), "{described:?}");
        let in_sync = cfg.run(&stack, &["plan", "--detailed-exitcode"]);
        assert_exit(&in_sync, 0);

        if round == 1 {
            // A version that lost its labels keeps its id (DescribeSecret lists it no more, with
            // `secrets-labelled-versions`): a new access key is written under another id.
            let unlabelled = "flowlogs-version-0000000000000002";
            sm.put_secret_value()
                .secret_id(&secret_name)
                .secret_string(r#"{"api_key":"staged-by-hand"}"#)
                .client_request_token(unlabelled)
                .version_stages("STAGED")
                .send()
                .await
                .unwrap();
            sm.update_secret_version_stage()
                .secret_id(&secret_name)
                .version_stage("STAGED")
                .remove_from_version_id(unlabelled)
                .send()
                .await
                .unwrap();
            let rotated = stack.run(
                &cfg,
                &["setup", "--yes", "--no-verify"],
                &[("LIFE_KEY", "another-key")],
            );
            assert_exit(&rotated, 0);
            let current = sm
                .get_secret_value()
                .secret_id(&secret_name)
                .send()
                .await
                .unwrap();
            assert_eq!(
                current.secret_string(),
                Some(r#"{"api_key":"another-key"}"#)
            );
            assert_ne!(current.version_id(), Some(unlabelled));
            assert_exit(&cfg.run(&stack, &["setup", "--yes", "--no-verify"]), 0);
        }

        let teardown = cfg.run(&stack, &["teardown", "--yes"]);
        assert_exit(&teardown, 0);
    }
    // the secret AWS is still deleting is gone to a second teardown
    let again = cfg.run(&stack, &["teardown", "--yes"]);
    assert_exit(&again, 0);
    assert!(
        printed(&again).contains("Nothing to delete"),
        "{}",
        printed(&again)
    );
}

/// Tagged, public access blocked, SSE-S3, expiring as the log bucket, TLS only.
async fn failure_bucket_is_hardened(s3: &aws_sdk_s3::Client) {
    let tags = s3
        .get_bucket_tagging()
        .bucket(FAILURE_BUCKET)
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "flowlogs:stack" && t.value() == STACK));
    let pab = s3
        .get_public_access_block()
        .bucket(FAILURE_BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .unwrap()
            .restrict_public_buckets(),
        Some(true)
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(FAILURE_BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(
        enc.server_side_encryption_configuration().unwrap().rules()[0]
            .apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(FAILURE_BUCKET)
        .send()
        .await
        .unwrap();
    let expiry = lifecycle
        .rules()
        .iter()
        .find(|r| r.id() == Some("flowlogs-retention"))
        .and_then(|r| r.expiration())
        .and_then(|e| e.days());
    assert_eq!(expiry, Some(30));
    let policy: Value = serde_json::from_str(
        s3.get_bucket_policy()
            .bucket(FAILURE_BUCKET)
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{policy}");
    assert_eq!(statements[0]["Effect"], "Deny");
    assert_eq!(
        statements[0]["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_that_is_not_ours_is_a_conflict_and_nothing_changes() {
    let stack = Stack::start(&[Service::Moto]);
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    bucket_usable(&s3, BUCKET).await;
    let cfg = config(&vpc, "ALL").write(stack.dir());
    let zip = fake_zip(stack.dir());

    let plan = cfg.run(&stack, &["plan", "--forwarder-zip", zip.to_str().unwrap()]);
    assert_exit(&plan, 1);
    assert!(
        printed(&plan).contains(&format!(
            "! s3 bucket {BUCKET}: the bucket exists and is not tagged flowlogs:stack=life"
        )),
        "{}",
        printed(&plan)
    );
    assert!(
        printed(&plan).contains("bucket.create: false"),
        "the fix is named: {}",
        printed(&plan)
    );

    let setup = cfg.setup_zip(&stack, &zip);
    assert_exit(&setup, 1);
    assert!(
        printed(&setup).contains("nothing was changed"),
        "{}",
        printed(&setup)
    );
    let iam = aws_sdk_iam::Client::new(&sdk);
    assert!(
        iam.get_role().role_name(FUNCTION).send().await.is_err(),
        "no role made"
    );
    assert!(
        s3.get_bucket_policy().bucket(BUCKET).send().await.is_err(),
        "their bucket untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_adopted_bucket_gets_our_statements_and_entry_merged_and_taken_back() {
    let stack = Stack::start(&[Service::Moto]);
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    s3.create_bucket()
        .bucket("shared-audit-logs")
        .send()
        .await
        .unwrap();
    let theirs = r#"{"Version":"2012-10-17","Statement":[{"Sid":"TheirReader","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-audit-logs/*"}]}"#;
    settled("their bucket policy", || {
        s3.put_bucket_policy()
            .bucket("shared-audit-logs")
            .policy(theirs)
            .send()
    })
    .await;
    let cfg = config(&vpc, "ALL")
        .without("bucket.retention_days")
        .existing_bucket("shared-audit-logs")
        .write(stack.dir());
    let zip = fake_zip(stack.dir());
    assert_exit(&cfg.setup_zip(&stack, &zip), 0);

    let policy = s3
        .get_bucket_policy()
        .bucket("shared-audit-logs")
        .send()
        .await
        .unwrap();
    let sids: Vec<String> = serde_json::from_str::<Value>(policy.policy().unwrap()).unwrap()
        ["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        sids,
        [
            "TheirReader",
            "FlowlogsDeliveryWriteLife",
            "FlowlogsDeliveryAclCheckLife",
            "FlowlogsDenyInsecureTransportLife"
        ]
    );
    assert!(
        s3.get_bucket_tagging()
            .bucket("shared-audit-logs")
            .send()
            .await
            .is_err(),
        "an adopted bucket is not tagged"
    );

    assert_exit(&cfg.run(&stack, &["teardown", "--yes", "--delete-data"]), 0);
    assert!(
        s3.head_bucket()
            .bucket("shared-audit-logs")
            .send()
            .await
            .is_ok(),
        "an adopted bucket is never deleted"
    );
    let policy = s3
        .get_bucket_policy()
        .bucket("shared-audit-logs")
        .send()
        .await
        .unwrap();
    let left: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    assert_eq!(left["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(left["Statement"][0]["Sid"], "TheirReader");
}

#[test]
fn a_bad_config_fails_before_any_aws_call_naming_line_key_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "flowlogs.yaml",
        "version: 1\nstack: life\nregion: us-east-1\nflow_log:\n  resources: { vpc_ids: [vpc-0abc] }\n  traffic_type: ALL\n  format: \"${version} ${srcaddr} ${dstaddr} ${action} ${flow-direction} ${end}\"\n  max_aggregation_interval: 300\ndelivery:\n  otlp: { endpoint: \"http://127.0.0.1:4318\" }\n",
    );
    // Nothing listens on port 9: any AWS call would fail with a connection error instead.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowlogs"))
        .args(["plan", "-c"])
        .arg(&cfg)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let shown = printed(&out);
    assert!(
        shown.contains("flowlogs.yaml:8: flow_log.max_aggregation_interval"),
        "{shown}"
    );
    assert!(shown.contains("fix: use 60 or 600"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_without_a_terminal_or_yes_refuses_and_changes_nothing() {
    let stack = Stack::start(&[Service::Moto]);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let cfg = config(&vpc, "ALL").write(stack.dir());
    let zip = fake_zip(stack.dir());
    let out = cfg.run(&stack, &["setup", "--forwarder-zip", zip.to_str().unwrap()]);
    assert_exit(&out, 1);
    assert!(
        printed(&out).contains("no terminal to ask on") && printed(&out).contains("--yes"),
        "{}",
        printed(&out)
    );
    let s3 = aws_sdk_s3::Client::new(&stack.sdk_config().await);
    assert!(
        s3.head_bucket().bucket(BUCKET).send().await.is_err(),
        "nothing was created"
    );
}
