use std::path::Path;

use serde_json::{json, Value};

use super::*;
use crate::config;
use crate::desired::{self, Desired, TAG_STACK};
use crate::policy;
use crate::resources::role::ObservedRole;
use crate::resources::stream_log_group::{self, ObservedLogGroup};

pub const ACCOUNT: &str = "123456789012";

pub fn firehose_config(firehose: &str) -> config::Config {
    let text = format!(
        "version: 1\nstack: prod-vpc\nflow_log:\n  resources: {{ vpc_ids: [vpc-0abc] }}\ndelivery:\n  mode: firehose\n  firehose:\n{firehose}"
    );
    config::parse(&text, Path::new("t.yaml"), &|n| {
        (n == "O2_KEY").then(|| "s3cr3t-key".into())
    })
    .unwrap()
}

const SETTINGS: &str = "    url: https://o2.example.com/aws/default/vpcflowlog/_kinesis_firehose\n    access_key: \"${env:O2_KEY}\"\n    buffering: { size_mb: 1, interval_s: 60 }\n    retry_duration_s: 120\n    common_attributes: { env: prod }\n";

pub fn desired_with(settings: &str) -> Desired {
    desired::build(&firehose_config(settings), ACCOUNT, "eu-west-1", "abc").unwrap()
}

pub const SECRET_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:123456789012:secret:flowlogs/prod-vpc/endpoint-credentials-AbCdEf";

/// The desired stack as the plan sees it once the secret exists.
pub fn desired() -> Desired {
    let d = desired_with(SETTINGS);
    let state = desired::secret::SecretState {
        arn: Some(SECRET_ARN.into()),
        version: "flowlogs-version-0000000000000001".into(),
        writes: false,
    };
    desired::secret::with_state(&d, Some(&state))
}

pub fn stream(d: &Desired) -> &DesiredStream {
    &d.firehose.as_ref().unwrap().stream
}

/// What AWS would describe for a stream made from `d`.
pub fn observed_like(d: &DesiredStream) -> ObservedStream {
    ObservedStream {
        name: d.name.clone(),
        arn: format!(
            "arn:aws:firehose:eu-west-1:{ACCOUNT}:deliverystream/{}",
            d.name
        ),
        status: DeliveryStreamStatus::Active,
        stream_type: "DirectPut".into(),
        failure: None,
        version_id: "3".into(),
        destination_id: "destinationId-000000000001".into(),
        http: Some(ObservedHttpDestination {
            url: d.url.clone(),
            role_arn: d.role_arn.clone(),
            content_encoding: d.content_encoding.clone(),
            buffering_size_mb: d.buffering_size_mb as i32,
            buffering_interval_s: d.buffering_interval_s as i32,
            retry_duration_s: d.retry_duration_s as i32,
            common_attributes: d
                .common_attributes
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect(),
            s3_backup_mode: "FailedDataOnly".into(),
            backup_bucket_arn: d.backup_bucket_arn.clone(),
            backup_prefix: d.backup_prefix.clone(),
            backup_role_arn: d.role_arn.clone(),
            error_logging: Some((d.log_group.clone(), d.log_stream.clone())),
            secret: d
                .secret
                .as_ref()
                .map(|r| (r.arn.clone().unwrap_or_default(), d.role_arn.clone())),
        }),
        tags: {
            let mut tags = wanted_tags(d);
            tags.insert(TAG_LOG_DELIVERY.into(), "true".into());
            tags
        },
    }
}

pub fn log_group(d: &Desired) -> ObservedLogGroup {
    ObservedLogGroup {
        name: stream(d).log_group.clone(),
        retention_days: Some(stream_log_group::LOG_RETENTION_DAYS),
        tags: d.names.tags(),
    }
}

fn plan_for(d: &Desired, o: Option<&ObservedStream>) -> Plan {
    super::plan(&d.names, stream(d), o)
}

fn fields<O>(plan: &crate::plan::Plan<O>) -> Vec<&str> {
    plan.steps
        .iter()
        .flat_map(|s| s.changes.iter().map(|c| c.field.as_str()))
        .collect()
}

/// Every `Resource` of a policy document, flattened.
fn resources(policy: &Value) -> Vec<String> {
    policy::statements(policy)
        .iter()
        .flat_map(|s| match &s["Resource"] {
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
            v => vec![v.as_str().unwrap().to_string()],
        })
        .collect()
}

#[test]
fn role_policy_has_no_star_resource_and_only_the_backup_prefix() {
    let d = desired();
    let role = &d.firehose.as_ref().unwrap().role;
    assert_eq!(role.name, "flowlogs-prod-vpc-firehose");
    let all = resources(&role.policy);
    assert!(!all.iter().any(|r| r == "*"), "{all:?}");
    let bucket = "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1";
    for r in &all {
        assert!(
            r == bucket
                || r == &format!("{bucket}/firehose-failed/*")
                || r.starts_with("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesisfirehose/flowlogs-prod-vpc:log-stream:")
                // the stack's secret only, by name (AWS appends six characters)
                || r == "arn:aws:secretsmanager:eu-west-1:123456789012:secret:flowlogs/prod-vpc/endpoint-credentials-??????",
            "unexpected resource {r}"
        );
    }
    let statements = policy::statements(&role.policy);
    let writes = statements
        .iter()
        .find(|s| s["Action"].to_string().contains("s3:PutObject"))
        .unwrap();
    assert_eq!(writes["Resource"], format!("{bucket}/firehose-failed/*"));
    let logs = statements
        .iter()
        .find(|s| s["Action"] == "logs:PutLogEvents")
        .unwrap();
    assert_eq!(
        logs["Resource"],
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesisfirehose/flowlogs-prod-vpc:log-stream:HttpEndpointDelivery"
    );
}

#[test]
fn role_trust_is_firehose_with_the_account_as_external_id() {
    let d = desired();
    let trust = &d.firehose.as_ref().unwrap().role.trust;
    let s = &policy::statements(trust)[0];
    assert_eq!(s["Principal"], json!({"Service": "firehose.amazonaws.com"}));
    assert_eq!(s["Action"], "sts:AssumeRole");
    assert_eq!(
        s["Condition"],
        json!({"StringEquals": {"sts:ExternalId": ACCOUNT}})
    );
}

#[test]
fn stream_configuration_follows_the_config() {
    let d = desired();
    let s = stream(&d);
    let c = destination(s, Some(SECRET_ARN)).unwrap();
    let endpoint = c.endpoint_configuration().unwrap();
    assert_eq!(
        endpoint.url(),
        "https://o2.example.com/aws/default/vpcflowlog/_kinesis_firehose"
    );
    // the key is read by Firehose from the stack's secret, never put in the configuration
    assert_eq!(endpoint.access_key(), None);
    let secrets = c.secrets_manager_configuration().unwrap();
    assert!(secrets.enabled());
    assert_eq!(secrets.secret_arn(), Some(SECRET_ARN));
    assert_eq!(secrets.role_arn(), Some(s.role_arn.as_str()));
    let request = c.request_configuration().unwrap();
    assert_eq!(request.content_encoding(), Some(&ContentEncoding::Gzip));
    assert_eq!(request.common_attributes()[0].attribute_name(), "env");
    assert_eq!(request.common_attributes()[0].attribute_value(), "prod");
    assert_eq!(c.buffering_hints().unwrap().size_in_mbs(), Some(1));
    assert_eq!(c.buffering_hints().unwrap().interval_in_seconds(), Some(60));
    assert_eq!(c.retry_options().unwrap().duration_in_seconds(), Some(120));
    assert_eq!(c.role_arn(), Some(s.role_arn.as_str()));
    assert_eq!(
        s.role_arn,
        "arn:aws:iam::123456789012:role/flowlogs-prod-vpc-firehose"
    );
    assert_eq!(
        c.s3_backup_mode(),
        Some(&HttpEndpointS3BackupMode::FailedDataOnly)
    );
    let s3 = c.s3_configuration().unwrap();
    assert_eq!(
        s3.bucket_arn(),
        "arn:aws:s3:::prod-vpc-flowlogs-123456789012-eu-west-1"
    );
    assert_eq!(s3.prefix(), Some("firehose-failed/"));
    let logging = c.cloud_watch_logging_options().unwrap();
    assert_eq!(logging.enabled(), Some(true));
    assert_eq!(
        logging.log_group_name(),
        Some("/aws/kinesisfirehose/flowlogs-prod-vpc")
    );
    assert_eq!(logging.log_stream_name(), Some("HttpEndpointDelivery"));
}

#[test]
fn the_access_key_is_never_shown_tagged_or_in_the_stream() {
    let d = desired();
    let plan = plan_for(&d, None);
    let text = format!("{plan}\n{}", serde_json::to_string(&plan).unwrap());
    assert!(!text.contains("s3cr3t-key"), "{text}");
    assert!(
        text.contains(&format!("access_key: secret {SECRET_ARN}")),
        "{text}"
    );
    assert_eq!(
        d.secret.as_ref().unwrap().value.names(),
        [desired::secret::FIREHOSE_API_KEY]
    );
    // written in the config as plain text, it is still a secret
    let plain = desired_with(&SETTINGS.replace("\"${env:O2_KEY}\"", "plain-literal-key"));
    assert!(plain
        .secret
        .as_ref()
        .unwrap()
        .value
        .expose_json()
        .contains("plain-literal-key"));
    let plan = plan_for(&plain, None);
    let json = format!(
        "{plan}\n{}\n{plain:?}",
        serde_json::to_string(&plan).unwrap()
    );
    assert!(!json.contains("plain-literal-key"), "{json}");
}

#[test]
fn a_missing_stream_is_created_with_our_tags_and_no_key_hash() {
    let d = desired();
    let plan = plan_for(&d, None);
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].action, Action::Create);
    match &plan.steps[0].ops[..] {
        [Op::CreateStream { tags, .. }] => {
            assert_eq!(tags[TAG_STACK], "prod-vpc");
            assert!(!tags.contains_key(TAG_ACCESS_KEY));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_matching_stream_is_in_sync_and_aws_tags_are_fine() {
    let d = desired();
    let plan = plan_for(&d, Some(&observed_like(stream(&d))));
    assert!(plan.steps.is_empty(), "{plan}");
    assert_eq!(plan.in_sync.len(), 1);
}

#[test]
fn a_changed_url_or_buffering_names_the_field_and_updates_at_the_observed_version() {
    let d = desired();
    let mut o = observed_like(stream(&d));
    let h = o.http.as_mut().unwrap();
    h.url = "https://old.example.com/x".into();
    h.buffering_size_mb = 5;
    h.buffering_interval_s = 300;
    let plan = plan_for(&d, Some(&o));
    assert_eq!(
        fields(&plan),
        ["url", "buffering.size_mb", "buffering.interval_s"]
    );
    let step = &plan.steps[0];
    assert_eq!(step.action, Action::Update);
    assert_eq!(step.changes[0].from, "https://old.example.com/x");
    match &step.ops[..] {
        [Op::UpdateStream {
            version_id,
            destination_id,
            ..
        }] => {
            assert_eq!(version_id, "3");
            assert_eq!(destination_id, "destinationId-000000000001");
        }
        other => panic!("{other:?}"),
    }
    let text = plan.to_string();
    assert!(text.contains("buffering.size_mb: 5 -> 1"), "{text}");
}

#[test]
fn each_destination_field_is_named() {
    let d = desired();
    let base = observed_like(stream(&d));
    type Edit = Box<dyn Fn(&mut ObservedHttpDestination)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "content_encoding",
            Box::new(|h| h.content_encoding = "NONE".into()),
        ),
        ("retry_duration_s", Box::new(|h| h.retry_duration_s = 300)),
        (
            "common_attributes.env",
            Box::new(|h| {
                h.common_attributes.insert("env".into(), "dev".into());
            }),
        ),
        (
            "common_attributes.old",
            Box::new(|h| {
                h.common_attributes.insert("old".into(), "x".into());
            }),
        ),
        (
            "role",
            Box::new(|h| h.role_arn = "arn:aws:iam::1:role/x".into()),
        ),
        (
            "failed data backup",
            Box::new(|h| h.backup_prefix = "other/".into()),
        ),
        ("error logging", Box::new(|h| h.error_logging = None)),
    ];
    for (field, change) in cases {
        let mut o = base.clone();
        change(o.http.as_mut().unwrap());
        assert_eq!(differences(stream(&d), &o)[0].field, field);
        let plan = plan_for(&d, Some(&o));
        assert_eq!(fields(&plan), [field]);
    }
}

#[test]
fn a_key_in_the_stream_configuration_moves_to_the_secret_and_the_hash_tag_goes() {
    let d = desired();
    // a stream made before: the key in its configuration, a salted hash of it in a tag
    let mut o = observed_like(stream(&d));
    o.http.as_mut().unwrap().secret = None;
    o.tags
        .insert(TAG_ACCESS_KEY.into(), "0000000000000000".into());
    let plan = plan_for(&d, Some(&o));
    let step = &plan.steps[0];
    assert_eq!(
        fields(&plan),
        ["access_key", "tag flowlogs:access-key-hash"]
    );
    assert_eq!(step.changes[0].from, "in the stream's configuration");
    assert_eq!(step.changes[0].to, format!("secret {SECRET_ARN}"));
    match &step.ops[..] {
        [Op::UpdateStream { .. }, Op::UntagStream { keys, .. }] => {
            assert_eq!(keys, &[TAG_ACCESS_KEY.to_string()]);
        }
        other => panic!("{other:?}"),
    }
    // no key in the config, one on the stream: Secrets Manager is turned off
    let without = desired_with(
        "    url: https://o2.example.com/aws/default/vpcflowlog/_kinesis_firehose\n    buffering: { size_mb: 1, interval_s: 60 }\n    retry_duration_s: 120\n    common_attributes: { env: prod }\n",
    );
    assert!(without.secret.is_none());
    let plan = plan_for(&without, Some(&observed_like(stream(&d))));
    assert_eq!(plan.steps[0].changes[0].to, "(none)");
    let update = destination_update(stream(&without), None).unwrap();
    assert!(!update.secrets_manager_configuration().unwrap().enabled());
}

#[test]
fn missing_tags_are_added_without_touching_the_others() {
    let d = desired();
    let mut o = observed_like(stream(&d));
    o.tags.remove(crate::desired::TAG_MANAGED_BY);
    let plan = plan_for(&d, Some(&o));
    assert_eq!(fields(&plan), ["tags"]);
    match &plan.steps[0].ops[..] {
        [Op::TagStream { tags, .. }] => assert_eq!(tags, &wanted_tags(stream(&d))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stream_not_tagged_ours_is_a_conflict() {
    let d = desired();
    let mut o = observed_like(stream(&d));
    o.tags.remove(TAG_STACK);
    let plan = plan_for(&d, Some(&o));
    assert!(plan.steps.is_empty());
    assert_eq!(plan.conflicts.len(), 1);
    assert!(plan.conflicts[0].problem.contains("not tagged"));
    let teardown = super::plan_teardown(&d.names, Some(&o));
    assert!(teardown.steps.is_empty());
}

#[test]
fn another_destination_type_is_a_replace_that_keeps_the_log_delivery_tag() {
    let d = desired();
    let mut o = observed_like(stream(&d));
    o.http = None;
    let plan = plan_for(&d, Some(&o));
    let step = &plan.steps[0];
    assert_eq!(step.action, Action::Replace);
    assert_eq!(fields(&plan), ["destination"]);
    assert!(matches!(&step.retire[..], [Op::DeleteStream { .. }]));
    match &step.ops[..] {
        [Op::CreateStream { tags, .. }] => {
            assert_eq!(tags[TAG_LOG_DELIVERY], "true");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_log_group_is_created_without_touching_the_stream() {
    let d = desired();
    assert!(plan_for(&d, Some(&observed_like(stream(&d))))
        .steps
        .is_empty());
    let plan = stream_log_group::plan(stream(&d), None);
    assert_eq!(fields(&plan), ["error log group"]);
    assert!(matches!(
        &plan.steps[0].ops[..],
        [stream_log_group::Op::CreateStreamLogGroup { .. }]
    ));
}

#[test]
fn teardown_deletes_the_stream_and_our_log_group() {
    let d = desired();
    let plan = super::plan_teardown(&d.names, Some(&observed_like(stream(&d))));
    match &plan.steps[0].ops[..] {
        [Op::DeleteStream { name }] => assert_eq!(name, "flowlogs-prod-vpc"),
        other => panic!("{other:?}"),
    }
    let plan = stream_log_group::plan_teardown(&d.names, Some(&log_group(&d)));
    match &plan.steps[0].ops[..] {
        [stream_log_group::Op::DeleteStreamLogGroup { log_group }] => {
            assert_eq!(log_group, "/aws/kinesisfirehose/flowlogs-prod-vpc")
        }
        other => panic!("{other:?}"),
    }
}

pub fn role(name: &str, d: &Desired) -> ObservedRole {
    ObservedRole {
        arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        tags: d.names.tags(),
        trust: json!({}),
        policies: Default::default(),
    }
}
