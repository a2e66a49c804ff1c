use std::path::Path;

use super::*;

const GOOD: &str = r#"
version: 1
stack: prod-vpc
region: us-east-1
flow_log:
  resources: { vpc_ids: [vpc-0abc1234] }
  traffic_type: ALL
  format: default
  max_aggregation_interval: 600
bucket:
  prefix: "team/"
delivery:
  mode: lambda
  otlp:
    endpoint: https://collector.example.com:4318/
    headers: { x-key: "${env:KEY}" }
"#;

fn env(name: &str) -> Option<String> {
    (name == "KEY").then(|| "secret-value".to_string())
}

fn check(text: &str) -> Result<Config, ConfigError> {
    parse(text, Path::new("flowlogs.yaml"), &env)
}

fn error(text: &str) -> ConfigError {
    check(text).expect_err("config should be refused")
}

#[test]
fn a_good_config_is_accepted_with_defaults() {
    let c = check(GOOD).unwrap();
    assert_eq!(c.stack, "prod-vpc");
    assert_eq!(c.flow_log.resource_type, ResourceType::Vpc);
    assert_eq!(c.flow_log.format.fields.len(), 14);
    assert_eq!(c.bucket.prefix, "team/");
    assert_eq!(c.bucket.retention_days, 90);
    let Delivery::Lambda { otlp, lambda } = &c.delivery else {
        panic!("lambda mode")
    };
    assert_eq!(otlp.endpoint, "https://collector.example.com:4318");
    assert_eq!(otlp.headers["x-key"].resolve("k").unwrap(), "secret-value");
    assert_eq!(lambda.memory_mb, 512);
    assert_eq!(lambda.trigger, Trigger::S3Notification);
}

#[test]
fn the_trigger_is_eventbridge_or_the_s3_notification() {
    let with = |t: &str| {
        GOOD.replace(
            "  mode: lambda\n",
            &format!("  mode: lambda\n  lambda: {{ trigger: {t} }}\n"),
        )
    };
    let c = check(&with("eventbridge")).unwrap();
    let Delivery::Lambda { lambda, .. } = &c.delivery else {
        panic!("lambda mode")
    };
    assert_eq!(lambda.trigger, Trigger::EventBridge);
    let e = error(&with("event-bridge"));
    assert!(e.to_string().contains("trigger"), "{e}");
    assert!(e.fix.contains("eventbridge"), "{e}");
}

#[test]
fn the_annotated_template_validates() {
    let text = include_str!("../../templates/flowlogs.yaml");
    let c = parse(text, Path::new("templates/flowlogs.yaml"), &|_| None).unwrap();
    assert_eq!(c.stack, "prod-vpc");
}

#[test]
fn secrets_are_redacted_when_serialized() {
    let c = check(GOOD).unwrap();
    let json = serde_json::to_string(&c).unwrap();
    assert!(!json.contains("secret-value"), "{json}");
    assert!(json.contains(REDACTED));
}

#[test]
fn unknown_key_names_line_and_closest_key() {
    let e = error(&GOOD.replace("traffic_type: ALL", "trafic_type: ALL"));
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.key.contains("flow_log"), "{e}");
    assert!(e.fix.contains("traffic_type"), "{e}");
}

#[test]
fn wrong_type_names_the_key() {
    let e = error(&GOOD.replace(
        "max_aggregation_interval: 600",
        "max_aggregation_interval: often",
    ));
    assert!(e.key.contains("max_aggregation_interval"), "{e}");
    assert_eq!(e.line, Some(9), "{e}");
}

#[test]
fn bad_enum_value_suggests_the_closest() {
    let e = error(&GOOD.replace("traffic_type: ALL", "traffic_type: REJCT"));
    assert!(e.fix.contains("REJECT"), "{e}");
}

#[test]
fn interval_other_than_60_or_600_is_refused() {
    let e = error(&GOOD.replace(
        "max_aggregation_interval: 600",
        "max_aggregation_interval: 300",
    ));
    assert_eq!(e.key, "flow_log.max_aggregation_interval");
    assert_eq!(e.line, Some(9));
    assert!(e.fix.contains("60 or 600"), "{e}");
}

#[test]
fn custom_format_with_unknown_field_suggests_the_closest() {
    let e = error(&GOOD.replace(
        "format: default",
        "format: \"${version} ${srcadr} ${dstaddr}\"",
    ));
    assert_eq!(e.key, "flow_log.format");
    assert_eq!(e.line, Some(8));
    assert!(e.problem.contains("srcadr"), "{e}");
    assert!(e.fix.contains("${srcaddr}"), "{e}");
}

#[test]
fn custom_format_keeps_the_users_order() {
    let c = check(&GOOD.replace(
        "format: default",
        "format: \"${dstaddr} ${srcaddr} ${action}\"",
    ))
    .unwrap();
    assert_eq!(c.flow_log.format.fields, ["dstaddr", "srcaddr", "action"]);
    assert_eq!(c.flow_log.format.kind, "custom");
}

#[test]
fn invalid_bucket_name_is_refused() {
    let e = error(&GOOD.replace("  prefix: \"team/\"", "  name: My_Bucket"));
    assert_eq!(e.key, "bucket.name");
    assert_eq!(e.line, Some(11));
    assert!(e.problem.contains("My_Bucket"), "{e}");
}

#[test]
fn adopting_a_bucket_needs_its_name() {
    let e = error(&GOOD.replace("  prefix: \"team/\"", "  create: false"));
    assert_eq!(e.key, "bucket.name");
}

#[test]
fn bad_stack_name_is_refused() {
    let e = error(&GOOD.replace("stack: prod-vpc", "stack: Prod_VPC"));
    assert_eq!(e.key, "stack");
    assert_eq!(e.line, Some(3));
}

#[test]
fn two_kinds_of_resource_are_refused() {
    let e = error(&GOOD.replace(
        "{ vpc_ids: [vpc-0abc1234] }",
        "{ vpc_ids: [vpc-0abc1234], subnet_ids: [subnet-1] }",
    ));
    assert_eq!(e.key, "flow_log.resources");
}

#[test]
fn malformed_resource_id_is_refused() {
    let e = error(&GOOD.replace("vpc-0abc1234", "0abc1234"));
    assert_eq!(e.key, "flow_log.resources.vpc_ids");
}

#[test]
fn version_must_be_1() {
    let e = error(&GOOD.replace("version: 1", "version: 2"));
    assert_eq!(e.key, "version");
}

#[test]
fn endpoint_must_be_a_url() {
    let e = error(&GOOD.replace("https://collector.example.com:4318/", "collector:4318"));
    assert_eq!(e.key, "delivery.otlp.endpoint");
}

#[test]
fn firehose_mode_refuses_parquet() {
    let text = GOOD
        .replace(
            "  max_aggregation_interval: 600",
            "  max_aggregation_interval: 600\n  file_format: parquet",
        )
        .replace(
            "mode: lambda",
            "mode: firehose\n  firehose: { url: \"https://o2.example.com/x\" }",
        );
    let e = error(&text);
    assert_eq!(e.key, "flow_log.file_format");
}

#[test]
fn missing_env_variable_fails_only_when_resolved() {
    let c = parse(GOOD, Path::new("f.yaml"), &|_| None).unwrap();
    let Delivery::Lambda { otlp, .. } = &c.delivery else {
        panic!()
    };
    let err = otlp.headers["x-key"]
        .resolve("delivery.otlp.headers.x-key")
        .unwrap_err();
    assert!(err.to_string().contains("KEY"));
}

#[test]
fn error_display_names_file_line_key_and_fix() {
    let e = error(&GOOD.replace(
        "max_aggregation_interval: 600",
        "max_aggregation_interval: 300",
    ));
    let shown = e.to_string();
    assert!(
        shown.starts_with("flowlogs.yaml:9: flow_log.max_aggregation_interval: "),
        "{shown}"
    );
    assert!(shown.contains("fix: use 60 or 600"), "{shown}");
}

#[test]
fn bucket_name_rules() {
    assert!(check_bucket_name("prod-vpc-flowlogs-123456789012-us-east-1").is_ok());
    for bad in [
        "ab",
        "Abc",
        "a..b",
        "192.168.1.1",
        "xn--abc",
        "abc-",
        "abc-s3alias",
        &"a".repeat(64),
    ] {
        assert!(check_bucket_name(bad).is_err(), "{bad}");
    }
}

const FILTERED: &str = r#"
    body: none
    compression: zstd
  filter:
    drop:
      - log_status: [NODATA, SKIPDATA]
      - action: [ACCEPT]
        source: [10.0.0.0/8, "2001:db8::/32"]
        destination: [10.0.0.0/8]
        destination_port: [53, "1024-65535"]
"#;

fn with_filter(filter: &str) -> String {
    GOOD.replace(
        "    headers: { x-key: \"${env:KEY}\" }\n",
        &format!("    headers: {{ x-key: \"${{env:KEY}}\" }}{filter}"),
    )
}

#[test]
fn body_compression_and_filter_are_read_and_normalised() {
    let c = check(&with_filter(FILTERED)).unwrap();
    let Delivery::Lambda { otlp, .. } = &c.delivery else {
        panic!("lambda mode")
    };
    assert_eq!(otlp.body, OtlpBody::None);
    assert_eq!(otlp.compression, OtlpCompression::Zstd);
    assert_eq!(otlp.filter.len(), 2);
    assert_eq!(otlp.filter[0].log_status, ["NODATA", "SKIPDATA"]);
    assert_eq!(otlp.filter[1].destination_port, ["53", "1024-65535"]);
    // The defaults.
    let Delivery::Lambda { otlp, .. } = check(GOOD).unwrap().delivery else {
        panic!("lambda mode")
    };
    assert_eq!(
        (otlp.body, otlp.compression, otlp.filter.len()),
        (OtlpBody::Summary, OtlpCompression::Gzip, 0)
    );
}

#[test]
fn a_bad_cidr_or_port_in_the_filter_names_the_field() {
    let e = error(&with_filter(
        &FILTERED.replace("10.0.0.0/8]\n        dest", "10.0.0.0/33]\n        dest"),
    ));
    assert_eq!(e.key, "delivery.filter.drop[1].destination[0]", "{e}");
    assert!(e.problem.contains("10.0.0.0/33"), "{e}");
    assert!(e.fix.contains("CIDR"), "{e}");
    let e = error(&with_filter(
        &FILTERED.replace("\"1024-65535\"", "\"65535-1024\""),
    ));
    assert_eq!(e.key, "delivery.filter.drop[1].destination_port[1]", "{e}");
    assert!(e.fix.contains("port"), "{e}");
    let e = error(&with_filter(
        &FILTERED.replace("- log_status: [NODATA, SKIPDATA]", "- {}"),
    ));
    assert_eq!(e.key, "delivery.filter.drop[0]", "{e}");
    assert!(e.problem.contains("every record"), "{e}");
}

const TGW: &str = r#"
version: 1
stack: hub
flow_log:
  resources:
    vpc_ids: [vpc-0abc1234]
    transit_gateway_ids: [tgw-0abc1234]
    transit_gateway_attachment_ids: [tgw-attach-0def5678]
  max_aggregation_interval: 60
delivery:
  otlp: { endpoint: https://collector.example.com:4318 }
"#;

#[test]
fn transit_gateways_are_logged_beside_vpcs_with_every_tgw_field_in_their_own_folder() {
    let c = check(TGW).unwrap();
    assert_eq!(c.flow_log.resource_ids, vec!["vpc-0abc1234"]);
    let t = c.flow_log.transit_gateways.expect("transit gateways");
    assert_eq!(t.transit_gateway_ids, vec!["tgw-0abc1234"]);
    assert_eq!(t.attachment_ids, vec!["tgw-attach-0def5678"]);
    assert_eq!(t.format.fields.len(), 36);
    assert_eq!(t.folder, "tgw/");
    assert_eq!(
        c.flow_log.format.fields.len(),
        14,
        "the VPC format is its own"
    );
}

#[test]
fn transit_gateways_alone_are_a_stack() {
    let c = check(&TGW.replace("    vpc_ids: [vpc-0abc1234]\n", "")).unwrap();
    assert!(c.flow_log.resource_ids.is_empty());
    assert!(c.flow_log.transit_gateways.is_some());
}

#[test]
fn an_interval_other_than_60_is_refused_when_transit_gateways_are_logged() {
    let e = error(&TGW.replace(
        "max_aggregation_interval: 60",
        "max_aggregation_interval: 600",
    ));
    assert_eq!(e.key, "flow_log.max_aggregation_interval", "{e}");
    assert!(e.problem.contains("only at 60"), "{e}");
    assert!(e.fix.contains("max_aggregation_interval: 60"), "{e}");
    // The default (600) too: the fix says what to write.
    let e = error(&TGW.replace("  max_aggregation_interval: 60\n", ""));
    assert_eq!(e.key, "flow_log.max_aggregation_interval", "{e}");
}

#[test]
fn vpc_only_fields_in_the_transit_gateway_format_are_refused() {
    for field in ["action", "vpc-id", "interface-id"] {
        let e = error(&TGW.replace(
            "  max_aggregation_interval: 60\n",
            &format!(
                "  max_aggregation_interval: 60\n  transit_gateway_format: \"${{version}} ${{tgw-id}} ${{{field}}}\"\n"
            ),
        ));
        assert_eq!(e.key, "flow_log.transit_gateway_format", "{e}");
        assert!(e.problem.contains(field), "{e}");
        assert!(e.fix.contains("flow_log.format"), "{e}");
    }
}

#[test]
fn transit_gateway_fields_in_the_vpc_format_are_refused() {
    for field in ["tgw-id", "tgw-attachment-id", "packets-lost-blackhole"] {
        let e = error(&TGW.replace(
            "  max_aggregation_interval: 60\n",
            &format!("  max_aggregation_interval: 60\n  format: \"${{version}} ${{srcaddr}} ${{{field}}}\"\n"),
        ));
        assert_eq!(e.key, "flow_log.format", "{e}");
        assert!(e.problem.contains(field), "{e}");
        assert!(e.fix.contains("transit_gateway_format"), "{e}");
    }
}

#[test]
fn a_custom_transit_gateway_format_and_folder_are_kept() {
    let c = check(&TGW.replace(
        "  max_aggregation_interval: 60\n",
        "  max_aggregation_interval: 60\n  transit_gateway_format: \"${tgw-id} ${srcaddr} ${packets-lost-no-route}\"\n  transit_gateway_folder: hub-logs\n",
    ))
    .unwrap();
    let t = c.flow_log.transit_gateways.unwrap();
    assert_eq!(
        t.format.fields,
        ["tgw-id", "srcaddr", "packets-lost-no-route"]
    );
    assert_eq!(t.folder, "hub-logs/");
}

#[test]
fn a_transit_gateway_id_that_is_not_one_is_refused() {
    let e = error(&TGW.replace("[tgw-0abc1234]", "[vpc-0abc1234]"));
    assert_eq!(e.key, "flow_log.resources.transit_gateway_ids", "{e}");
    let e = error(&TGW.replace("[tgw-0abc1234]", "[tgw-attach-0abc1234]"));
    assert_eq!(e.key, "flow_log.resources.transit_gateway_ids", "{e}");
    assert!(e.fix.contains("transit_gateway_attachment_ids"), "{e}");
}

#[test]
fn a_transit_gateway_folder_that_would_mix_formats_is_refused() {
    let e = error(&TGW.replace(
        "  max_aggregation_interval: 60\n",
        "  max_aggregation_interval: 60\n  transit_gateway_folder: \"\"\n",
    ));
    assert_eq!(e.key, "flow_log.transit_gateway_folder", "{e}");
}

#[test]
fn format_all_is_every_vpc_field_and_no_transit_gateway_one() {
    let c = check(&GOOD.replace("format: default", "format: all")).unwrap();
    assert!(!c.flow_log.format.fields.is_empty());
    assert!(c
        .flow_log
        .format
        .fields
        .iter()
        .all(|f| !transit_gateway::is_tgw_only(f)));
    assert!(c.flow_log.format.fields.iter().any(|f| f == "action"));
}

/// `GOOD` with the VPCs selected in every target and `targets` as given.
fn fleet(resources: &str, targets: &str) -> String {
    let text = GOOD.replace("resources: { vpc_ids: [vpc-0abc1234] }", resources);
    format!("{text}targets:\n{targets}")
}

const ORG: &str = "  organization: true\n";

#[test]
fn targets_are_read_with_their_defaults() {
    let c = check(&fleet(
        "resources: { all_vpcs: true }",
        "  accounts: [\"111111111111\", \"222222222222\"]\n  exclude_accounts: [\"222222222222\"]\n",
    ))
    .unwrap();
    assert_eq!(c.flow_log.selector, Some(VpcSelector::AllVpcs));
    assert!(c.flow_log.resource_ids.is_empty());
    let t = c.targets.unwrap();
    assert_eq!(
        t.accounts,
        AccountSource::Accounts(vec!["111111111111".into(), "222222222222".into()])
    );
    assert_eq!(t.exclude_accounts, ["222222222222"]);
    assert!(t.regions.is_empty(), "the stack's region is the default");
    assert_eq!(
        t.role,
        TargetRole::Name("OrganizationAccountAccessRole".into())
    );
    assert_eq!(
        t.role.arn("aws", "111111111111"),
        "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
    );
    assert_eq!(t.concurrency, 8);
    assert_eq!(t.external_id, None);
}

#[test]
fn organisation_ous_tags_role_arn_and_external_id_are_read() {
    let c = check(&fleet(
        "resources: { vpc_tags: { flowlogs: \"on\" } }",
        "  organizational_units: [ou-ab12-cd34ef56, r-ab12]\n  regions: [us-east-1, eu-west-1]\n  role: \"arn:aws:iam::{account}:role/flowlogs-member\"\n  external_id: \"${env:KEY}\"\n  concurrency: 16\n",
    ))
    .unwrap();
    assert_eq!(
        c.flow_log.selector,
        Some(VpcSelector::VpcTags(
            [("flowlogs".into(), "on".into())].into()
        ))
    );
    let t = c.targets.as_ref().unwrap();
    assert_eq!(
        t.accounts,
        AccountSource::OrganizationalUnits(vec!["ou-ab12-cd34ef56".into(), "r-ab12".into()])
    );
    assert_eq!(
        t.role.arn("aws", "333333333333"),
        "arn:aws:iam::333333333333:role/flowlogs-member"
    );
    assert_eq!(t.regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(t.concurrency, 16);
    let json = serde_json::to_string(&c).unwrap();
    assert!(
        !json.contains("secret-value") && json.contains("\"external_id\":\"<redacted>\""),
        "{json}"
    );
    let c = check(&fleet("resources: { all_vpcs: true }", ORG)).unwrap();
    assert_eq!(c.targets.unwrap().accounts, AccountSource::Organization);
}

#[test]
fn a_selector_without_targets_is_the_stacks_own_account() {
    let c = check(&GOOD.replace(
        "resources: { vpc_ids: [vpc-0abc1234] }",
        "resources: { all_vpcs: true }",
    ))
    .unwrap();
    assert_eq!(c.flow_log.selector, Some(VpcSelector::AllVpcs));
    assert!(c.targets.is_none());
}

#[test]
fn bad_targets_name_the_field_and_the_fix() {
    let cases: [(&str, &str, &str, &str); 12] = [
        (
            "resources: { vpc_ids: [vpc-0abc1234] }",
            ORG,
            "flow_log.resources.vpc_ids",
            "all_vpcs",
        ),
        (
            "resources: { all_vpcs: true, vpc_tags: { a: b } }",
            ORG,
            "flow_log.resources.vpc_tags",
            "keep",
        ),
        (
            "resources: { all_vpcs: true, vpc_ids: [vpc-0abc1234] }",
            ORG,
            "flow_log.resources",
            "selector",
        ),
        (
            "resources: { all_vpcs: true }",
            "  accounts: [\"1111\"]\n",
            "targets.accounts",
            "12 digits",
        ),
        (
            "resources: { all_vpcs: true }",
            "  accounts: [\"111111111111\"]\n  organization: true\n",
            "targets",
            "keep one",
        ),
        (
            "resources: { all_vpcs: true }",
            "  regions: [us-east-1]\n",
            "targets",
            "organization: true",
        ),
        (
            "resources: { all_vpcs: true }",
            "  organizational_units: [ou-x]\n",
            "targets.organizational_units",
            "ou-ab12",
        ),
        (
            "resources: { all_vpcs: true }",
            "  organization: true\n  role: \"arn:aws:iam::111111111111:role/x\"\n",
            "targets.role",
            "{account}",
        ),
        (
            "resources: { all_vpcs: true }",
            "  organization: true\n  role: \"my role\"\n",
            "targets.role",
            "role's name",
        ),
        (
            "resources: { all_vpcs: true }",
            "  organization: true\n  concurrency: 0\n",
            "targets.concurrency",
            "from 1 to 64",
        ),
        (
            "resources: { all_vpcs: true }",
            "  accounts: [\"111111111111\"]\n  exclude_accounts: [\"111111111111\"]\n",
            "targets.exclude_accounts",
            "remove",
        ),
        (
            "resources: { all_vpcs: true }",
            "  organization: true\n  external_id: \"x\"\n",
            "targets.external_id",
            "2 to 1224",
        ),
    ];
    for (resources, targets, key, fix) in cases {
        let e = error(&fleet(resources, targets));
        assert_eq!(e.key, key, "{resources} {targets}: {e}");
        assert!(e.fix.contains(fix), "{resources} {targets}: {e}");
    }
    let e = error(&fleet(
        "resources: { all_vpcs: true }",
        "  organization: true\n  regions: [us-east-1, us-east-1]\n",
    ));
    assert_eq!(e.key, "targets.regions", "{e}");
}

#[test]
fn athena_is_accepted_with_targets_its_table_reading_every_target() {
    let c = check(&format!(
        "{}athena: {{}}\n",
        fleet("resources: { all_vpcs: true }", ORG)
    ))
    .unwrap();
    assert!(c.athena.is_some() && c.targets.is_some());
}

#[test]
fn transit_gateways_with_selected_vpcs_are_refused_until_the_fleet_looks_them_up() {
    let e = error(&TGW.replace("vpc_ids: [vpc-0abc1234]", "all_vpcs: true"));
    assert_eq!(e.key, "flow_log.resources.transit_gateway_ids", "{e}");
    assert!(e.fix.contains("stack of their own"), "{e}");
}
