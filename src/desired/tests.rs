use std::path::Path;

use serde_json::json;

use super::*;
use crate::config;

fn config(extra_flow_log: &str, bucket: &str) -> Config {
    let text = format!(
        "version: 1\nstack: prod-vpc\nflow_log:\n  resources: {{ vpc_ids: [vpc-0abc, vpc-0def] }}\n{extra_flow_log}bucket:\n{bucket}delivery:\n  otlp:\n    endpoint: http://127.0.0.1:4318\n    headers: {{ x-key: \"${{env:KEY}}\", team: net }}\n"
    );
    config::parse(&text, Path::new("t.yaml"), &|n| {
        (n == "KEY").then(|| "a,b=c".into())
    })
    .unwrap()
}

fn desired(extra_flow_log: &str, bucket: &str) -> Desired {
    build(
        &config(extra_flow_log, bucket),
        "123456789012",
        "eu-west-1",
        "abc",
    )
    .unwrap()
}

fn statement<'a>(d: &'a Desired, sid: &str) -> &'a Value {
    d.bucket
        .policy_statements
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap()
}

#[test]
fn default_names_derive_from_stack_account_and_region() {
    let d = desired("", "  retention_days: 30\n");
    assert_eq!(d.names.bucket, "prod-vpc-flowlogs-123456789012-eu-west-1");
    assert_eq!(d.names.function, "flowlogs-prod-vpc-forwarder");
    assert_eq!(d.names.role, "flowlogs-prod-vpc-forwarder");
    assert_eq!(d.names.notification_id, "flowlogs-prod-vpc");
    assert_eq!(
        d.names.log_key_prefix,
        "AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
    );
    assert_eq!(d.bucket.tags[TAG_STACK], "prod-vpc");
    assert_eq!(d.bucket.tags[TAG_MANAGED_BY], "flowlogs");
}

#[test]
fn delivery_policy_follows_the_aws_documented_shape() {
    let d = desired("", "  prefix: team\n");
    let write = statement(&d, "FlowlogsDeliveryWriteProdVpc");
    assert_eq!(
        write["Principal"],
        json!({"Service": "delivery.logs.amazonaws.com"})
    );
    assert_eq!(write["Action"], "s3:PutObject");
    assert_eq!(
        write["Resource"],
        "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1/team/AWSLogs/123456789012/*"
    );
    assert_eq!(
        write["Condition"]["StringEquals"]["aws:SourceAccount"],
        "123456789012"
    );
    assert_eq!(
        write["Condition"]["StringEquals"]["s3:x-amz-acl"],
        "bucket-owner-full-control"
    );
    assert_eq!(
        write["Condition"]["ArnLike"]["aws:SourceArn"],
        "arn:aws:logs:eu-west-1:123456789012:*"
    );
    let acl = statement(&d, "FlowlogsDeliveryAclCheckProdVpc");
    assert_eq!(
        acl["Resource"],
        "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1"
    );
    let tls = statement(&d, "FlowlogsDenyInsecureTransportProdVpc");
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
}

#[test]
fn hive_partitions_change_the_key_prefix_and_policy() {
    let d = desired("  hive_compatible_partitions: true\n", "  prefix: logs/\n");
    assert_eq!(
        d.names.log_key_prefix,
        "logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
    );
    let write = statement(&d, "FlowlogsDeliveryWriteProdVpc");
    assert!(write["Resource"]
        .as_str()
        .unwrap()
        .ends_with("/logs/AWSLogs/aws-account-id=123456789012/*"));
    let n = &d.forwarder.as_ref().unwrap().notification;
    // The filter is written in the URL-encoded form S3 matches keys in; the policy keeps `=`.
    assert_eq!(
        n.prefix,
        d.names
            .log_key_prefix
            .replace("aws-account-id=", "aws-account-id%3D")
            .replace("aws-service=", "aws-service%3D")
            .replace("aws-region=", "aws-region%3D")
    );
    assert!(n.prefix.contains("aws-account-id%3D") && !n.prefix.contains('='));
}

#[test]
fn flow_log_destination_carries_the_prefix() {
    let d = desired("", "  prefix: team\n");
    assert_eq!(d.flow_logs.len(), 2);
    assert_eq!(
        d.flow_logs[0].destination, "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1/team/",
        "a folder destination ends in `/` (EC2 API reference, LogDestination)"
    );
    let plain = desired("", "  retention_days: 9\n");
    assert_eq!(
        plain.flow_logs[0].destination,
        "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1"
    );
}

#[test]
fn spec_tag_changes_with_any_flow_log_setting() {
    let base = desired("", "  retention_days: 9\n");
    for change in [
        "  traffic_type: REJECT\n",
        "  max_aggregation_interval: 60\n",
        "  format: all\n",
        "  file_format: parquet\n",
        "  per_hour_partition: true\n",
    ] {
        let other = desired(change, "  retention_days: 9\n");
        assert_ne!(
            other.flow_logs[0].tags[TAG_SPEC], base.flow_logs[0].tags[TAG_SPEC],
            "{change}"
        );
    }
    assert_eq!(
        base.flow_logs[0].options_tag(),
        "file-format=plain-text;hive=false;per-hour=false"
    );
}

#[test]
fn forwarder_role_reads_only_the_flow_log_prefix() {
    let d = desired("", "  retention_days: 9\n");
    let role = &d.forwarder.as_ref().unwrap().role;
    let statements = policy::statements(&role.policy);
    assert_eq!(
        statements[0]["Resource"],
        "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1/AWSLogs/123456789012/vpcflowlogs/eu-west-1/*"
    );
    // Lambda writes the events the function failed on with the function's role: any key of the
    // stack's failure bucket (whatever Lambda checks), and nothing in the log bucket.
    assert_eq!(
        statements[1]["Resource"],
        "arn:aws:s3:::prod-vpc-failures-123456789012-eu-west-1/*"
    );
    assert_eq!(statements[1]["Action"], "s3:PutObject");
    assert_eq!(statements[2]["Action"], "s3:ListBucket");
    assert_eq!(
        statements[2]["Resource"],
        "arn:aws:s3:::prod-vpc-failures-123456789012-eu-west-1"
    );
    let writes_on_log_bucket: Vec<&serde_json::Value> = statements
        .iter()
        .filter(|s| s["Action"] != "s3:GetObject")
        .filter(|s| s.to_string().contains("prod-vpc-flowlogs-"))
        .collect();
    assert!(writes_on_log_bucket.is_empty(), "{writes_on_log_bucket:?}");
    assert_eq!(
        statements[3]["Resource"],
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/flowlogs-prod-vpc-forwarder:*"
    );
    let text = role.policy.to_string();
    assert!(!text.contains("\"*\""), "no wildcard resource: {text}");
    assert_eq!(
        role.trust["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
}

#[test]
fn failure_capture_is_on_by_default_in_a_bucket_of_its_own_and_off_leaves_the_role_without_bucket_writes(
) {
    let on = desired("", "  retention_days: 9\n");
    let e = on
        .forwarder
        .as_ref()
        .unwrap()
        .event_invoke
        .as_ref()
        .unwrap();
    assert_eq!((e.max_retry_attempts, e.max_event_age_s), (2, 21600));
    assert_eq!(
        e.on_failure_destination,
        "arn:aws:s3:::prod-vpc-failures-123456789012-eu-west-1"
    );
    let bucket = on.failure_bucket.as_ref().expect("a failure bucket");
    assert_eq!(bucket.name, "prod-vpc-failures-123456789012-eu-west-1");
    assert_eq!(bucket.retention_days, 9);
    assert_eq!(bucket.tags, on.names.tags());
    let text = "version: 1\nstack: prod-vpc\nflow_log:\n  resources: { vpc_ids: [vpc-0abc] }\ndelivery:\n  lambda: { on_failure: { enabled: false } }\n  otlp: { endpoint: http://127.0.0.1:4318 }\n";
    let c = config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
    let off = build(&c, "123456789012", "eu-west-1", "h").unwrap();
    let forwarder = off.forwarder.as_ref().unwrap();
    assert!(forwarder.event_invoke.is_none());
    assert!(off.failure_bucket.is_none());
    let text = forwarder.role.policy.to_string();
    assert!(
        !text.contains("s3:PutObject") && !text.contains("aws/lambda/async"),
        "{text}"
    );
}

#[test]
fn function_environment_is_standard_otel_with_secret_headers_encoded() {
    let d = desired("", "  retention_days: 9\n");
    let f = &d.forwarder.as_ref().unwrap().function;
    assert_eq!(
        f.environment["OTEL_EXPORTER_OTLP_ENDPOINT"].value,
        "http://127.0.0.1:4318"
    );
    assert_eq!(
        f.environment["OTEL_EXPORTER_OTLP_PROTOCOL"].value,
        "http/protobuf"
    );
    assert_eq!(f.environment["OTEL_SERVICE_NAME"].value, "vpc-flow-logs");
    assert_eq!(
        f.environment["OTEL_EXPORTER_OTLP_COMPRESSION"].value,
        "gzip"
    );
    assert_eq!(f.environment["FLOWLOGS_OTLP_BODY"].value, "summary");
    assert!(
        !f.environment.contains_key("FLOWLOGS_FILTER"),
        "no filter, no variable"
    );
    // plain headers stay in the environment; `${env:...}` ones go to the stack's secret
    let headers = &f.environment["OTEL_EXPORTER_OTLP_HEADERS"];
    assert_eq!(headers.value, "team=net");
    assert!(!headers.secret);
    let secret = d.secret.as_ref().unwrap();
    assert_eq!(secret.name, "flowlogs/prod-vpc/endpoint-credentials");
    assert_eq!(secret.value.expose_json(), r#"{"x-key":"a,b=c"}"#);
    assert_eq!(
        serde_json::to_value(&secret.value).unwrap(),
        json!(config::REDACTED)
    );
    assert_eq!(
        f.secret.as_ref().map(|r| r.name.as_str()),
        Some("flowlogs/prod-vpc/endpoint-credentials")
    );
    let role = &d.forwarder.as_ref().unwrap().role;
    let read = policy::statements(&role.policy)
        .into_iter()
        .find(|s| s["Action"] == "secretsmanager:GetSecretValue")
        .unwrap();
    assert_eq!(
        read["Resource"],
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:flowlogs/prod-vpc/endpoint-credentials-??????"
    );
    assert_eq!(f.runtime, "provided.al2023");
    assert_eq!(
        f.code,
        WantedCode::Zip {
            sha256: "abc".into()
        }
    );
}

#[test]
fn notification_filters_by_prefix_and_file_suffix() {
    let d = desired("  file_format: parquet\n", "  retention_days: 9\n");
    let n = &d.forwarder.as_ref().unwrap().notification;
    assert_eq!(n.suffix, ".log.parquet");
    assert_eq!(
        n.function_arn,
        "arn:aws:lambda:eu-west-1:123456789012:function:flowlogs-prod-vpc-forwarder"
    );
    let p = &d.forwarder.as_ref().unwrap().permission;
    assert_eq!(
        p.source_arn,
        "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1"
    );
    assert_eq!(p.source_account, "123456789012");
}

#[test]
fn missing_secret_fails_the_build_with_the_key() {
    let c = config::parse(
        "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x, headers: { k: \"${env:NOPE}\" } } }\n",
        Path::new("t.yaml"),
        &|_| None,
    )
    .unwrap();
    let err = build(&c, "123456789012", "us-east-1", "h")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("NOPE") && err.contains("delivery.otlp.headers.k"),
        "{err}"
    );
    assert!(Names::new(&c, "123456789012", "us-east-1").is_ok());
}

#[test]
fn log_retention_rounds_up_to_a_period_cloudwatch_accepts() {
    let cases = [
        (1, Some(1)),
        (2, Some(3)),
        (7, Some(7)),
        (9, Some(14)),
        (90, Some(90)),
        (91, Some(120)),
        (366, Some(400)),
        (730, Some(731)),
        (3653, Some(3653)),
        (3654, None),
        (u32::MAX, None),
    ];
    for (bucket_days, expected) in cases {
        assert_eq!(log_retention(bucket_days), expected, "{bucket_days} days");
    }
    for pair in LOG_RETENTION_DAYS.windows(2) {
        assert!(pair[0] < pair[1], "the periods are sorted: {pair:?}");
    }
}

#[test]
fn the_forwarder_log_group_is_ours_and_the_role_cannot_create_log_groups() {
    let d = desired("", "  retention_days: 9\n");
    let forwarder = d.forwarder.as_ref().unwrap();
    assert_eq!(
        forwarder.log_group.name,
        "/aws/lambda/flowlogs-prod-vpc-forwarder"
    );
    assert_eq!(forwarder.log_group.retention_days, Some(14));
    assert_eq!(forwarder.log_group.tags, d.names.tags());
    let text = forwarder.role.policy.to_string();
    assert!(!text.contains("CreateLogGroup"), "{text}");
    assert!(
        text.contains("logs:CreateLogStream") && text.contains("logs:PutLogEvents"),
        "{text}"
    );
}

#[test]
fn a_folder_destination_made_before_the_trailing_slash_is_the_same_destination() {
    use crate::desired::{s3_destination, same_destination};
    assert_eq!(s3_destination("arn:aws:s3:::b", ""), "arn:aws:s3:::b");
    assert_eq!(
        s3_destination("arn:aws:s3:::b", "a/b/"),
        "arn:aws:s3:::b/a/b/"
    );
    assert!(same_destination(
        "arn:aws:s3:::b/team",
        "arn:aws:s3:::b/team/"
    ));
    assert!(!same_destination(
        "arn:aws:s3:::b/team",
        "arn:aws:s3:::b/other/"
    ));
}

#[test]
fn the_failure_bucket_name_fits_s3_for_the_longest_stack_and_region() {
    let stack = "a".repeat(24);
    let text = format!("version: 1\nstack: {stack}\nflow_log:\n  resources: {{ vpc_ids: [vpc-0abc] }}\ndelivery:\n  otlp: {{ endpoint: http://127.0.0.1:4318 }}\n");
    let c = config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
    let d = build(&c, "123456789012", "ap-southeast-100", "h").unwrap();
    assert_eq!(d.names.failure_bucket.len(), 63);
    assert!(config::check_bucket_name(&d.names.failure_bucket).is_ok());
}

fn hub(prefix: &str) -> Desired {
    let text = format!(
        "version: 1\nstack: hub\nflow_log:\n  resources: {{ vpc_ids: [vpc-0abc], transit_gateway_ids: [tgw-0abc], transit_gateway_attachment_ids: [tgw-attach-0def] }}\n  max_aggregation_interval: 60\nbucket: {{ prefix: \"{prefix}\" }}\ndelivery: {{ otlp: {{ endpoint: http://127.0.0.1:4318 }} }}\n"
    );
    let c = config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
    build(&c, "123456789012", "eu-west-1", "abc").unwrap()
}

#[test]
fn transit_gateway_flow_logs_go_to_their_own_folder_in_their_own_format() {
    let d = hub("team/");
    let kinds: Vec<_> = d
        .flow_logs
        .iter()
        .map(|f| (f.resource_id.as_str(), f.resource_type))
        .collect();
    assert_eq!(
        kinds,
        [
            ("vpc-0abc", ResourceType::Vpc),
            ("tgw-0abc", ResourceType::TransitGateway),
            ("tgw-attach-0def", ResourceType::TransitGatewayAttachment)
        ]
    );
    let (vpc, tgw) = (&d.flow_logs[0], &d.flow_logs[1]);
    assert_eq!(vpc.traffic_type_sent(), Some("ALL"));
    assert_eq!(tgw.traffic_type_sent(), None);
    assert_eq!(tgw.max_aggregation_interval, 60);
    assert_eq!(tgw.log_format, config::transit_gateway::all_format());
    assert_eq!(
        vpc.destination,
        "arn:aws:s3:::hub-flowlogs-123456789012-eu-west-1/team/"
    );
    assert_eq!(
        tgw.destination,
        "arn:aws:s3:::hub-flowlogs-123456789012-eu-west-1/team/tgw/"
    );
    assert_ne!(tgw.tags[TAG_SPEC], d.flow_logs[2].tags[TAG_SPEC]);
    assert_eq!(
        d.names.tgw_log_key_prefix.as_deref(),
        Some("team/tgw/AWSLogs/123456789012/vpcflowlogs/eu-west-1/")
    );
}

#[test]
fn the_bucket_policy_the_role_and_a_second_notification_cover_the_transit_gateway_folder() {
    let d = hub("");
    let bucket = "arn:aws:s3:::hub-flowlogs-123456789012-eu-west-1";
    assert_eq!(
        statement(&d, "FlowlogsDeliveryWriteHub")["Resource"],
        json!([
            format!("{bucket}/AWSLogs/123456789012/*"),
            format!("{bucket}/tgw/AWSLogs/123456789012/*")
        ])
    );
    let forwarder = d.forwarder.as_ref().unwrap();
    let read = forwarder.role.policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "ReadFlowLogObjects")
        .unwrap();
    assert_eq!(
        read["Resource"],
        json!([
            format!("{bucket}/AWSLogs/123456789012/vpcflowlogs/eu-west-1/*"),
            format!("{bucket}/tgw/AWSLogs/123456789012/vpcflowlogs/eu-west-1/*")
        ])
    );
    let tgw = forwarder.tgw_notification.as_ref().unwrap();
    assert_eq!(tgw.id, "flowlogs-hub-tgw");
    assert_eq!(
        tgw.prefix,
        "tgw/AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
    );
    assert_eq!(tgw.suffix, forwarder.notification.suffix);
    assert!(!crate::resources::notification::collides(
        tgw,
        &crate::resources::notification::NotificationEntry {
            id: forwarder.notification.id.clone(),
            kind: "lambda",
            target: forwarder.notification.function_arn.clone(),
            events: forwarder.notification.events.clone(),
            prefix: forwarder.notification.prefix.clone(),
            suffix: forwarder.notification.suffix.clone(),
        }
    ));
}

#[test]
fn a_stack_without_transit_gateways_has_none_of_their_parts() {
    let d = desired("", "");
    assert!(d.names.tgw_log_key_prefix.is_none());
    assert!(d.forwarder.unwrap().tgw_notification.is_none());
}

#[test]
fn athena_has_a_second_table_over_the_transit_gateway_folder_and_its_queries() {
    let text = "version: 1\nstack: hub\nflow_log:\n  resources: { vpc_ids: [vpc-0abc], transit_gateway_ids: [tgw-0abc] }\n  max_aggregation_interval: 60\ndelivery: { otlp: { endpoint: http://127.0.0.1:4318 } }\nathena: {}\n";
    let c = config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
    let d = build(&c, "123456789012", "eu-west-1", "abc").unwrap();
    let a = d.athena.as_ref().unwrap();
    let t = a.tgw_table.as_ref().expect("the transit gateway table");
    assert_eq!(t.name, "hub_flow_logs_tgw");
    assert_eq!(
        t.location,
        "s3://hub-flowlogs-123456789012-eu-west-1/tgw/AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
    );
    assert_eq!(t.columns.len(), 36);
    assert!(t.columns.iter().any(|c| c.name == "tgw_attachment_id"));
    assert_eq!(
        a.table.columns.len(),
        14,
        "the VPC table keeps its own columns"
    );
    assert!(a.queries.iter().any(|q| q
        .name
        .ends_with("transit gateway drops by reason and attachment")));
    let dated = athena::with_tgw_since(d.athena.clone(), None, athena::Day::today());
    let t = dated.unwrap().tgw_table.unwrap();
    assert!(t.parameters().contains_key("projection.enabled"));
    assert!(
        t.ddl().contains("`tgw_attachment_id` string"),
        "{}",
        t.ddl()
    );
}

#[test]
fn the_eventbridge_trigger_takes_the_transit_gateway_folder_in_its_rule_instead_of_a_second_entry()
{
    let text = "version: 1\nstack: hub\nflow_log:\n  resources: { vpc_ids: [vpc-0abc], transit_gateway_ids: [tgw-0abc] }\n  max_aggregation_interval: 60\ndelivery:\n  otlp: { endpoint: http://127.0.0.1:4318 }\n  lambda: { trigger: eventbridge }\n";
    let c = config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
    let d = build(&c, "123456789012", "eu-west-1", "abc").unwrap();
    let forwarder = d.forwarder.as_ref().unwrap();
    let rule = &forwarder.eventbridge.as_ref().unwrap().rule;
    assert_eq!(
        rule.pattern["detail"]["object"]["key"],
        json!([
            {"wildcard": "AWSLogs/123456789012/vpcflowlogs/eu-west-1/*.log.gz"},
            {"wildcard": "tgw/AWSLogs/123456789012/vpcflowlogs/eu-west-1/*.log.gz"}
        ])
    );
    use crate::resources::Resource;
    assert!(crate::resources::tgw_notification::TgwNotification::desired(&d).is_none());
    assert!(crate::resources::notification::Notification::desired(&d).is_none());
}
