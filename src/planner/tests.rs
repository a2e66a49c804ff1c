//! The planner's order, proved without a server: plans of fresh and existing stacks carried out
//! through an executor that records each operation instead of calling AWS.

use std::path::Path;
use std::sync::Mutex;

use serde_json::json;

use super::apply::{Applier, Executor};
use super::*;
use crate::config;
use crate::desired;
use crate::desired::athena::Day;
use crate::plan::{Action, Kind};
use crate::resources::bucket::tests::hardened;
use crate::resources::bucket::BucketState;
use crate::resources::bucket::ObservedBucket;
use crate::resources::flow_log::tests::observed_from;
use crate::resources::function::ObservedFunction;
use crate::resources::function_log_group::ObservedFunctionLogGroup;
use crate::resources::notification::NotificationEntry;
use crate::resources::role::ObservedRole;
use crate::resources::stream::tests::{
    desired as firehose_desired, log_group, observed_like, role, stream, ACCOUNT,
};
use crate::ui::Progress;

/// Records `kind op` for every operation it is asked to run; never fails.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Executor for &Recorder {
    async fn run(&self, kind: Kind, op: &Op) -> anyhow::Result<()> {
        let name = serde_json::to_value(op).unwrap()["op"]
            .as_str()
            .unwrap()
            .to_string();
        self.0.lock().unwrap().push(format!(
            "{} {name}",
            serde_json::to_value(kind).unwrap().as_str().unwrap()
        ));
        Ok(())
    }
}

/// The plan of `d` against `observed`, through the resolve stage.
fn plan_setup(d: &Desired, observed: &Observed) -> Plan {
    super::plan_setup(&resolve(d, observed))
}

/// A stack with nothing in it, read today.
fn nothing() -> Observed {
    Observed::empty(Day::today())
}

impl Recorder {
    fn ran(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn lambda_desired() -> Desired {
    let c = config::parse(
        "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x } }\n",
        Path::new("t.yaml"),
        &|_| None,
    )
    .unwrap();
    desired::build(&c, ACCOUNT, "us-east-1", "h").unwrap()
}

async fn setup_order(plan: &Plan) -> Vec<String> {
    let recorder = Recorder::default();
    let progress = Progress::quiet();
    let applier = Applier {
        executor: &recorder,
        progress: &progress,
    };
    let outcome = applier.apply_setup(plan).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    recorder.ran()
}

async fn teardown_order(plan: &Plan) -> Vec<String> {
    let recorder = Recorder::default();
    let progress = Progress::quiet();
    let applier = Applier {
        executor: &recorder,
        progress: &progress,
    };
    let outcome = applier.apply_teardown(plan).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    recorder.ran()
}

fn position_of(ran: &[String], wanted: &str) -> usize {
    ran.iter()
        .position(|r| r == wanted)
        .unwrap_or_else(|| panic!("{wanted} not in {ran:?}"))
}

#[test]
fn the_declared_order_names_every_kind_once() {
    for (i, entry) in REGISTRY.iter().enumerate() {
        assert_eq!(position(entry.kind), i);
    }
}

#[tokio::test]
async fn a_fresh_stack_is_created_dependencies_first() {
    let d = lambda_desired();
    let plan = plan_setup(&d, &nothing());
    let ran = setup_order(&plan).await;
    assert_eq!(
        ran,
        [
            "bucket create_bucket",
            "bucket tag_bucket",
            "bucket block_public_access",
            "bucket encrypt_bucket",
            "bucket set_lifecycle",
            "bucket-policy merge_bucket_policy",
            "failure-bucket create_bucket",
            "failure-bucket tag_bucket",
            "failure-bucket block_public_access",
            "failure-bucket encrypt_bucket",
            "failure-bucket set_lifecycle",
            "failure-bucket merge_bucket_policy",
            "role create_role",
            "function-log-group create_function_log_group",
            "function create_function",
            "permission add_permission",
            "event-invoke-config put_event_invoke_config",
            "notification put_notification",
            "flow-log create_flow_log",
        ]
    );
}

#[tokio::test]
async fn firehose_mode_makes_the_role_and_log_group_before_the_stream_and_the_stream_before_the_flow_log(
) {
    let d = firehose_desired();
    let plan = plan_setup(&d, &nothing());
    let ran = setup_order(&plan).await;
    let at = |w: &str| position_of(&ran, w);
    assert!(at("firehose-role create_role") < at("stream-log-group create_stream_log_group"));
    assert!(at("stream-log-group create_stream_log_group") < at("delivery-stream create_stream"));
    assert!(at("delivery-stream create_stream") < at("flow-log create_flow_log"));
    assert!(at("bucket-policy merge_bucket_policy") < at("flow-log create_flow_log"));
}

/// Everything of a lambda-mode stack, ours and as the config wants it.
fn existing_stack(d: &Desired) -> Observed {
    let forwarder = d.forwarder.as_ref().unwrap();
    let f = &forwarder.function;
    let function_tags = crate::resources::function::wanted_tags(f);
    let code_sha256 = match &f.code {
        crate::desired::WantedCode::Zip { sha256 } => sha256.clone(),
        other => panic!("the tests build a zip's identity, not {other:?}"),
    };
    Observed {
        bucket: ObservedBucket::Present(hardened(d)),
        bucket_policy: crate::policy::merge_statements(None, &d.bucket.policy_statements, &[]),
        failure_bucket: crate::resources::failure_bucket::ObservedFailureBucket {
            bucket: ObservedBucket::Present(hardened(d)),
            policy: crate::policy::merge_statements(
                None,
                &d.failure_bucket.as_ref().unwrap().policy_statements,
                &[],
            ),
        },
        notifications: vec![NotificationEntry {
            id: forwarder.notification.id.clone(),
            kind: "lambda",
            target: forwarder.notification.function_arn.clone(),
            events: forwarder.notification.events.clone(),
            prefix: forwarder.notification.prefix.clone(),
            suffix: forwarder.notification.suffix.clone(),
        }],
        flow_logs: vec![observed_from(&d.flow_logs[0], "fl-1")],
        role: Some(ObservedRole {
            arn: d.names.role_arn(),
            tags: forwarder.role.tags.clone(),
            trust: forwarder.role.trust.clone(),
            policies: [(
                forwarder.role.policy_name.clone(),
                forwarder.role.policy.clone(),
            )]
            .into(),
        }),
        function: Some(ObservedFunction {
            arn: d.names.function_arn(),
            role: f.role_arn.clone(),
            runtime: f.runtime.clone(),
            handler: f.handler.clone(),
            memory_mb: f.memory_mb as i32,
            timeout_s: f.timeout_s as i32,
            architecture: f.architecture.as_aws().into(),
            code_sha256,
            environment: f
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect(),
            state: Some(aws_sdk_lambda::types::State::Active),
            last_update_status: Some(aws_sdk_lambda::types::LastUpdateStatus::Successful),
            tags: function_tags,
        }),
        function_log_group: Some(ObservedFunctionLogGroup {
            name: forwarder.log_group.name.clone(),
            retention_days: forwarder.log_group.retention_days,
            tags: forwarder.log_group.tags.clone(),
        }),
        function_policy: Some(json!({"Statement": [{
            "Sid": forwarder.permission.statement_id, "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
            "Condition": {"StringEquals": {"AWS:SourceAccount": forwarder.permission.source_account},
                          "ArnLike": {"AWS:SourceArn": forwarder.permission.source_arn}}}]})),
        event_invoke: forwarder.event_invoke.as_ref().map(|e| {
            crate::resources::event_invoke_config::ObservedEventInvoke {
                function: e.function.clone(),
                function_ours: true,
                current: Some(crate::resources::event_invoke_config::CurrentEventInvoke {
                    max_retry_attempts: Some(e.max_retry_attempts as i32),
                    max_event_age_s: Some(e.max_event_age_s as i32),
                    on_failure_destination: Some(e.on_failure_destination.clone()),
                }),
            }
        }),
        ..nothing()
    }
}

#[test]
fn a_stack_as_the_config_wants_it_plans_nothing() {
    let d = lambda_desired();
    let plan = plan_setup(&d, &existing_stack(&d));
    assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
    let kinds: Vec<Kind> = plan.in_sync.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Bucket,
            Kind::BucketPolicy,
            Kind::FailureBucket,
            Kind::Role,
            Kind::FunctionLogGroup,
            Kind::Function,
            Kind::Permission,
            Kind::EventInvokeConfig,
            Kind::Notification,
            Kind::FlowLog
        ]
    );
}

#[tokio::test]
async fn teardown_removes_dependents_first_and_keeps_the_bucket() {
    let d = lambda_desired();
    let plan = plan_teardown(&d.names, &existing_stack(&d), false);
    let ran = teardown_order(&plan).await;
    assert_eq!(
        ran,
        [
            "flow-log delete_flow_log",
            "notification remove_notification",
            "event-invoke-config delete_event_invoke_config",
            "function delete_function",
            "function-log-group delete_function_log_group",
            "role delete_role",
            // Failed-event records are flowlogs' own: they go with their bucket.
            "failure-bucket delete_bucket",
        ]
    );
    let with_data = plan_teardown(&d.names, &existing_stack(&d), true);
    let ran = teardown_order(&with_data).await;
    assert_eq!(ran.last().map(String::as_str), Some("bucket delete_bucket"));
    assert!(
        position_of(&ran, "event-invoke-config delete_event_invoke_config")
            < position_of(&ran, "failure-bucket delete_bucket"),
        "{ran:?}"
    );
    assert!(
        !ran.iter().any(|r| r.starts_with("bucket-policy")),
        "{ran:?}"
    );
}

#[tokio::test]
async fn an_adopted_bucket_loses_only_our_policy_statements_at_teardown() {
    let d = crate::resources::bucket::tests::desired("name: shared-logs, create: false");
    let observed = Observed {
        bucket: ObservedBucket::Present(BucketState::default()),
        bucket_policy: crate::policy::merge_statements(
            Some(&json!({"Statement": [{"Sid": "Theirs"}]})),
            &d.bucket.policy_statements,
            &[],
        ),
        ..nothing()
    };
    let ran = teardown_order(&plan_teardown(&d.names, &observed, true)).await;
    assert_eq!(ran, ["bucket-policy merge_bucket_policy"]);
}

#[tokio::test]
async fn a_flow_log_replace_creates_the_new_one_before_deleting_the_old_one() {
    let d = lambda_desired();
    let mut observed = existing_stack(&d);
    observed.flow_logs[0].traffic_type = "REJECT".into();
    let plan = plan_setup(&d, &observed);
    assert_eq!(plan.steps.len(), 1, "{plan}");
    assert_eq!(plan.steps[0].action, Action::Replace);
    assert_eq!(
        setup_order(&plan).await,
        ["flow-log create_flow_log", "flow-log delete_flow_log"]
    );
}

#[tokio::test]
async fn a_permission_or_stream_replace_frees_the_name_first() {
    let d = lambda_desired();
    let mut observed = existing_stack(&d);
    observed.function_policy.as_mut().unwrap()["Statement"][0]["Condition"]["ArnLike"]
        ["AWS:SourceArn"] = json!("arn:aws:s3:::elsewhere");
    let plan = plan_setup(&d, &observed);
    assert_eq!(
        setup_order(&plan).await,
        ["permission remove_permission", "permission add_permission"]
    );

    let d = firehose_desired();
    let mut o = observed_like(stream(&d));
    o.http = None;
    let observed = Observed {
        firehose_role: Some(role(&d.names.firehose_role, &d)),
        stream: Some(o),
        stream_log_group: Some(log_group(&d)),
        ..nothing()
    };
    let ran = setup_order(&plan_setup(&d, &observed)).await;
    let at = |w: &str| position_of(&ran, w);
    assert!(at("delivery-stream delete_stream") < at("delivery-stream create_stream"));
}

#[test]
fn a_missing_bucket_is_created_then_given_its_policy() {
    let d = crate::resources::bucket::tests::desired("retention_days: 30");
    let plan = plan_setup(&d, &nothing());
    let kinds: Vec<(Kind, Action)> = plan
        .steps
        .iter()
        .take(2)
        .map(|s| (s.kind, s.action))
        .collect();
    assert_eq!(
        kinds,
        [
            (Kind::Bucket, Action::Create),
            (Kind::BucketPolicy, Action::Create)
        ]
    );
}

#[test]
fn a_bucket_we_may_not_use_gets_no_policy_step() {
    let d = crate::resources::bucket::tests::desired("retention_days: 30");
    let observed = Observed {
        bucket: ObservedBucket::NotAccessible,
        ..nothing()
    };
    let plan = plan_setup(&d, &observed);
    assert!(!plan.steps.iter().any(|s| s.kind == Kind::BucketPolicy));
    assert_eq!(plan.conflicts[0].kind, Kind::Bucket);
}

#[test]
fn switching_from_lambda_to_firehose_deletes_the_forwarder() {
    let d = firehose_desired();
    let observed = Observed {
        role: Some(role(&d.names.role, &d)),
        function: Some(ObservedFunction {
            arn: d.names.function_arn(),
            role: d.names.role_arn(),
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            memory_mb: 512,
            timeout_s: 300,
            architecture: "x86_64".into(),
            code_sha256: "h".into(),
            environment: Default::default(),
            state: Some(aws_sdk_lambda::types::State::Active),
            last_update_status: Some(aws_sdk_lambda::types::LastUpdateStatus::Successful),
            tags: d.names.tags(),
        }),
        ..nothing()
    };
    let plan = plan_setup(&d, &observed);
    let actions: Vec<(Kind, Action)> = plan.steps.iter().map(|s| (s.kind, s.action)).collect();
    for expected in [
        (Kind::Role, Action::Delete),
        (Kind::Function, Action::Delete),
        (Kind::FirehoseRole, Action::Create),
        (Kind::DeliveryStream, Action::Create),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
}

#[test]
fn switching_from_firehose_to_lambda_deletes_the_stream_and_its_role() {
    let firehose = firehose_desired();
    let lambda_config = config::parse(
        "version: 1\nstack: prod-vpc\nflow_log:\n  resources: { vpc_ids: [vpc-0abc] }\ndelivery:\n  otlp: { endpoint: \"http://127.0.0.1:4318\" }\n",
        Path::new("t.yaml"),
        &|_| None,
    )
    .unwrap();
    let lambda = desired::build(&lambda_config, ACCOUNT, "eu-west-1", "abc").unwrap();
    let observed = Observed {
        firehose_role: Some(role(&firehose.names.firehose_role, &firehose)),
        stream: Some(observed_like(stream(&firehose))),
        stream_log_group: Some(log_group(&firehose)),
        ..nothing()
    };
    let plan = plan_setup(&lambda, &observed);
    let deletes: Vec<Kind> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| s.kind)
        .collect();
    // Dependents first, as they run.
    assert_eq!(
        deletes,
        [
            Kind::DeliveryStream,
            Kind::StreamLogGroup,
            Kind::FirehoseRole
        ]
    );
    let teardown = plan_teardown(&firehose.names, &observed, false);
    let kinds: Vec<Kind> = teardown.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::DeliveryStream,
            Kind::StreamLogGroup,
            Kind::FirehoseRole
        ]
    );
}

#[test]
fn the_plan_says_what_the_filter_drops_and_the_function_gets_it() {
    let c = config::parse(
        "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery:\n  otlp: { endpoint: http://x, body: line }\n  filter:\n    drop:\n      - log_status: [NODATA, SKIPDATA]\n      - { action: [ACCEPT], source: [10.0.0.0/8], destination: [10.0.0.0/8] }\n",
        Path::new("t.yaml"),
        &|_| None,
    )
    .unwrap();
    let d = desired::build(&c, ACCOUNT, "us-east-1", "h").unwrap();
    let env = &d.forwarder.as_ref().unwrap().function.environment;
    assert_eq!(
        env["FLOWLOGS_FILTER"].value,
        r#"[{"log_status":["NODATA","SKIPDATA"]},{"action":["ACCEPT"],"source":["10.0.0.0/8"],"destination":["10.0.0.0/8"]}]"#
    );
    assert_eq!(env["FLOWLOGS_OTLP_BODY"].value, "line");
    let plan = plan_setup(&d, &nothing());
    let notes: Vec<&str> = plan
        .notes
        .iter()
        .filter(|n| n.kind == Kind::Function)
        .map(|n| n.note.as_str())
        .collect();
    assert_eq!(
        notes,
        [
            "delivery.filter drops the records with log_status NODATA|SKIPDATA; they are counted as filtered, not sent",
            "delivery.filter drops the records with action ACCEPT, source 10.0.0.0/8, destination 10.0.0.0/8; they are counted as filtered, not sent",
        ]
    );
    assert!(lambda_desired_has_no_filter_note());
}

fn lambda_desired_has_no_filter_note() -> bool {
    plan_setup(&lambda_desired(), &nothing())
        .notes
        .iter()
        .all(|n| !n.note.contains("delivery.filter"))
}

fn eventbridge_desired() -> Desired {
    let c = config::parse(
        "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x }, lambda: { trigger: eventbridge } }\n",
        Path::new("t.yaml"),
        &|_| None,
    )
    .unwrap();
    desired::build(&c, ACCOUNT, "us-east-1", "h").unwrap()
}

/// A lambda-mode stack on the EventBridge trigger, as setup made it (it turned the bucket's
/// EventBridge delivery on): no notification entry of ours.
fn eventbridge_stack(d: &Desired) -> Observed {
    let eb = d.forwarder.as_ref().unwrap().eventbridge.as_ref().unwrap();
    let mut tags = d.names.tags();
    tags.insert(
        crate::desired::eventbridge::TAG_DELIVERY_TURNED_ON.into(),
        crate::desired::eventbridge::DELIVERY_TURNED_ON.into(),
    );
    Observed {
        notifications: Vec::new(),
        function_policy: Some(json!({"Statement": [{
            "Sid": eb.permission.statement_id, "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "lambda:InvokeFunction",
            "Condition": {"StringEquals": {"AWS:SourceAccount": eb.permission.source_account},
                          "ArnLike": {"AWS:SourceArn": eb.permission.source_arn}}}]})),
        event_rule: Some(crate::resources::event_rule::ObservedRule {
            name: eb.rule.name.clone(),
            arn: eb.rule.arn.clone(),
            pattern: Some(eb.rule.pattern.clone()),
            state: "ENABLED".into(),
            description: eb.rule.description.clone(),
            tags,
            targets: vec![crate::resources::event_rule::ObservedTarget {
                id: eb.rule.target_id.clone(),
                arn: eb.rule.function_arn.clone(),
            }],
        }),
        bucket_eventbridge: crate::resources::bucket_eventbridge::ObservedDelivery {
            on: true,
            turned_on_by_us: true,
        },
        ..existing_stack(d)
    }
}

#[tokio::test]
async fn a_fresh_eventbridge_stack_makes_the_rule_after_its_permission_and_no_notification() {
    let d = eventbridge_desired();
    let ran = setup_order(&plan_setup(&d, &nothing())).await;
    let at = |w: &str| position_of(&ran, w);
    assert!(at("function create_function") < at("event-permission add_event_permission"));
    assert!(at("event-permission add_event_permission") < at("event-rule put_rule"));
    assert!(at("event-rule put_rule") < at("event-rule put_target"));
    assert!(at("event-rule put_target") < at("bucket-event-bridge enable_event_bridge"));
    assert!(!ran
        .iter()
        .any(|r| r.starts_with("notification") || r.starts_with("permission ")));
}

#[test]
fn an_eventbridge_stack_as_the_config_wants_it_plans_nothing() {
    let d = eventbridge_desired();
    let plan = plan_setup(&d, &eventbridge_stack(&d));
    assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
    for kind in [
        Kind::EventPermission,
        Kind::EventRule,
        Kind::BucketEventBridge,
    ] {
        assert!(plan.in_sync.iter().any(|r| r.kind == kind), "{kind:?}");
    }
}

/// Issue 26: switching the trigger makes the new one whole before the old one goes, in the plan
/// as in the run, and the plan says an object may be read twice meanwhile.
#[tokio::test]
async fn switching_to_eventbridge_makes_the_new_trigger_before_removing_the_old_one() {
    let d = eventbridge_desired();
    let observed = existing_stack(&lambda_desired());
    let plan = plan_setup(&d, &observed);
    let steps: Vec<(Kind, Action)> = plan.steps.iter().map(|s| (s.kind, s.action)).collect();
    assert_eq!(
        steps,
        [
            (Kind::EventPermission, Action::Create),
            (Kind::EventRule, Action::Create),
            (Kind::BucketEventBridge, Action::Create),
            (Kind::Notification, Action::Delete),
            (Kind::Permission, Action::Delete),
        ]
    );
    assert!(
        plan.notes.iter().any(|n| n.note.contains("read twice")
            && n.note.contains("log.record.uid")
            && n.note.contains("s3-notification -> eventbridge")),
        "{plan}"
    );
    let ran = setup_order(&plan).await;
    assert_eq!(
        ran,
        [
            "event-permission add_event_permission",
            "event-rule put_rule",
            "event-rule put_target",
            "bucket-event-bridge enable_event_bridge",
            "notification remove_notification",
            "permission remove_permission",
        ]
    );
}

#[tokio::test]
async fn switching_back_to_the_s3_notification_makes_it_before_removing_the_rule() {
    let eb = eventbridge_desired();
    let observed = eventbridge_stack(&eb);
    let plan = plan_setup(&lambda_desired(), &observed);
    let steps: Vec<(Kind, Action)> = plan.steps.iter().map(|s| (s.kind, s.action)).collect();
    assert_eq!(
        steps,
        [
            (Kind::Permission, Action::Create),
            (Kind::Notification, Action::Create),
            (Kind::BucketEventBridge, Action::Delete),
            (Kind::EventRule, Action::Delete),
            (Kind::EventPermission, Action::Delete),
        ]
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.note.contains("eventbridge -> s3-notification")),
        "{plan}"
    );
    let ran = setup_order(&plan).await;
    assert_eq!(
        ran,
        [
            "permission add_permission",
            "notification put_notification",
            "bucket-event-bridge disable_event_bridge",
            "event-rule delete_rule",
            "event-permission remove_event_permission",
        ]
    );
}

#[tokio::test]
async fn teardown_of_an_eventbridge_stack_leaves_a_delivery_that_was_on_before() {
    let d = eventbridge_desired();
    let mut observed = eventbridge_stack(&d);
    let plan = plan_teardown(&d.names, &observed, false);
    let ran = teardown_order(&plan).await;
    assert!(
        position_of(&ran, "bucket-event-bridge disable_event_bridge")
            < position_of(&ran, "event-rule delete_rule")
    );
    observed.bucket_eventbridge.turned_on_by_us = false;
    let plan = plan_teardown(&d.names, &observed, false);
    assert!(!plan.steps.iter().any(|s| s.kind == Kind::BucketEventBridge));
    assert!(plan
        .notes
        .iter()
        .any(|n| n.kind == Kind::BucketEventBridge && n.note.contains("before flowlogs")));
}
