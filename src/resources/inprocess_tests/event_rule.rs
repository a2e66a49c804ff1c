//! The EventBridge trigger's AWS edge (issue 26) against EventBridge's, S3's and Lambda's answers:
//! a rule that does not exist (400 `ResourceNotFoundException` in the JSON 1.1 protocol), targets
//! on two pages, PutTargets and RemoveTargets answering a failed entry in a 200, a rule already
//! gone at teardown, the bucket's `EventBridgeConfiguration` read back as S3 writes it with our
//! rule's tag, and AddPermission for `events.amazonaws.com` finding its statement id taken.

use aws_sdk_eventbridge::operation::describe_rule::DescribeRuleOutput;
use aws_sdk_eventbridge::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_eventbridge::operation::list_targets_by_rule::ListTargetsByRuleOutput;
use aws_sdk_eventbridge::operation::put_targets::PutTargetsOutput;
use aws_sdk_eventbridge::operation::remove_targets::RemoveTargetsOutput;
use aws_sdk_eventbridge::types::{PutTargetsResultEntry, RuleState, Tag, Target};
use aws_sdk_eventbridge::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, http, no_calls, said, ACCOUNT, REGION};
use crate::aws::Clients;
use crate::desired::eventbridge::{DesiredEventBridge, DELIVERY_TURNED_ON, TAG_DELIVERY_TURNED_ON};
use crate::desired::{self, Desired};
use crate::resources::{bucket_eventbridge, event_rule, permission};

fn events(rules: &[&Rule]) -> Clients {
    Clients {
        events: client!(aws_sdk_eventbridge, rules),
        ..no_calls()
    }
}

fn stack() -> Desired {
    let text = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\ndelivery: { otlp: { endpoint: http://x }, lambda: { trigger: eventbridge } }\n";
    let c = crate::config::parse(text, std::path::Path::new("t.yaml"), &|_| None).unwrap();
    desired::build(&c, ACCOUNT, REGION, "h").unwrap()
}

fn wanted(d: &Desired) -> DesiredEventBridge {
    d.forwarder.clone().unwrap().eventbridge.unwrap()
}

/// EventBridge's JSON 1.1 error, as it is on the wire.
fn events_error(status: u16, code: &str, message: &str) -> aws_smithy_runtime_api::http::Response {
    http(
        status,
        &[("content-type", "application/x-amz-json-1.1")],
        &format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
    )
}

fn described(d: &DesiredEventBridge) -> DescribeRuleOutput {
    DescribeRuleOutput::builder()
        .name(&d.rule.name)
        .arn(&d.rule.arn)
        .event_pattern(d.rule.pattern.to_string())
        .state(RuleState::Enabled)
        .description(&d.rule.description)
        .event_bus_name("default")
        .build()
}

fn tagged(tags: &[(&str, &str)]) -> ListTagsForResourceOutput {
    tags.iter()
        .fold(ListTagsForResourceOutput::builder(), |b, (k, v)| {
            b.tags(Tag::builder().key(*k).value(*v).build().unwrap())
        })
        .build()
}

#[tokio::test]
async fn a_rule_that_does_not_exist_is_none() {
    let d = wanted(&stack());
    let describe = mock!(Client::describe_rule).then_http_response(|| {
        events_error(
            400,
            "ResourceNotFoundException",
            "Rule flowlogs-s-objects does not exist on EventBus default.",
        )
    });
    let rule = event_rule::observe(&events(&[&describe]), &d.rule.name)
        .await
        .unwrap();
    assert_eq!(rule, None);
}

#[tokio::test]
async fn targets_on_two_pages_and_the_tags_are_read() {
    let s = stack();
    let d = wanted(&s);
    let answer = described(&d);
    let describe = mock!(Client::describe_rule).then_output(move || answer.clone());
    let tags = mock!(Client::list_tags_for_resource).then_output(|| {
        tagged(&[
            ("flowlogs:stack", "s"),
            ("managed-by", "flowlogs"),
            (TAG_DELIVERY_TURNED_ON, DELIVERY_TURNED_ON),
        ])
    });
    let first_page = mock!(Client::list_targets_by_rule)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ListTargetsByRuleOutput::builder()
                .targets(
                    Target::builder()
                        .id("theirs")
                        .arn("arn:aws:sqs:us-east-1:123456789012:q")
                        .build()
                        .unwrap(),
                )
                .next_token("page-2")
                .build()
        });
    let function = d.rule.function_arn.clone();
    let second_page = mock!(Client::list_targets_by_rule)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(move || {
            ListTargetsByRuleOutput::builder()
                .targets(
                    Target::builder()
                        .id("flowlogs-forwarder")
                        .arn(&function)
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let rule = event_rule::observe(
        &events(&[&describe, &tags, &first_page, &second_page]),
        &d.rule.name,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(rule.targets.len(), 2);
    assert_eq!(rule.pattern.as_ref(), Some(&d.rule.pattern));
    // As made, with a foreign target and the delivery tag: nothing to do.
    let plan = event_rule::plan(&s.names, &d.rule, Some(&rule));
    assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
}

#[tokio::test]
async fn a_target_put_targets_could_not_take_is_an_error_naming_it() {
    let d = wanted(&stack());
    let put = mock!(Client::put_targets).then_output(|| {
        PutTargetsOutput::builder()
            .failed_entry_count(1)
            .failed_entries(
                PutTargetsResultEntry::builder()
                    .target_id("flowlogs-forwarder")
                    .error_code("ConcurrentModificationException")
                    .error_message("Rule was modified concurrently")
                    .build(),
            )
            .build()
    });
    let err = event_rule::put_target(&events(&[&put]), &d.rule)
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains("flowlogs-forwarder: ConcurrentModificationException")
            && text.contains(&d.rule.name),
        "{text}"
    );
}

#[tokio::test]
async fn teardown_removes_the_targets_first_and_a_rule_already_gone_is_fine() {
    let d = wanted(&stack());
    let remove = mock!(Client::remove_targets)
        .match_requests(|r| r.ids() == ["flowlogs-forwarder", "theirs"])
        .then_output(|| RemoveTargetsOutput::builder().failed_entry_count(0).build());
    let delete = mock!(Client::delete_rule).then_output(|| {
        aws_sdk_eventbridge::operation::delete_rule::DeleteRuleOutput::builder().build()
    });
    let ids = ["flowlogs-forwarder".to_string(), "theirs".to_string()];
    event_rule::delete_rule(&events(&[&remove, &delete]), &d.rule.name, &ids)
        .await
        .unwrap();
    assert_eq!((remove.num_calls(), delete.num_calls()), (1, 1));

    let gone = mock!(Client::remove_targets).then_http_response(|| {
        events_error(
            400,
            "ResourceNotFoundException",
            "Rule flowlogs-s-objects does not exist.",
        )
    });
    event_rule::delete_rule(&events(&[&gone]), &d.rule.name, &ids)
        .await
        .unwrap();

    let denied = mock!(Client::delete_rule).then_http_response(|| {
        events_error(
            400,
            "AccessDeniedException",
            "User is not authorized to perform: events:DeleteRule",
        )
    });
    let err = event_rule::delete_rule(&events(&[&denied]), &d.rule.name, &[])
        .await
        .unwrap_err();
    assert!(
        said(&err).contains("deleting EventBridge rule flowlogs-s-objects"),
        "{err:#}"
    );
}

#[tokio::test]
async fn the_buckets_eventbridge_delivery_is_ours_only_with_our_rules_tag() {
    let s = stack();
    let d = wanted(&s);
    let config = mock!(aws_sdk_s3::Client::get_bucket_notification_configuration)
        .then_http_response(|| {
            http(
                200,
                &[("content-type", "application/xml")],
                r#"<?xml version="1.0" encoding="UTF-8"?>
<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><QueueConfiguration><Id>theirs</Id><Queue>arn:aws:sqs:us-east-1:123456789012:q</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration><EventBridgeConfiguration></EventBridgeConfiguration></NotificationConfiguration>"#,
            )
        });
    let answer = described(&d);
    let describe = mock!(Client::describe_rule).then_output(move || answer.clone());
    let targets = mock!(Client::list_targets_by_rule)
        .then_output(|| ListTargetsByRuleOutput::builder().build());
    for (tags, ours) in [
        (
            tagged(&[
                ("flowlogs:stack", "s"),
                (TAG_DELIVERY_TURNED_ON, DELIVERY_TURNED_ON),
            ]),
            true,
        ),
        (tagged(&[("flowlogs:stack", "s")]), false),
    ] {
        let tag_answer = mock!(Client::list_tags_for_resource).then_output(move || tags.clone());
        let clients = Clients {
            s3: client!(aws_sdk_s3, &[&config]),
            events: client!(aws_sdk_eventbridge, &[&describe, &tag_answer, &targets]),
            ..no_calls()
        };
        let observed = bucket_eventbridge::observe(&clients, &s.names)
            .await
            .unwrap();
        assert!(observed.on);
        assert_eq!(observed.turned_on_by_us, ours);
    }
}

#[tokio::test]
async fn a_taken_statement_id_for_the_rule_is_fine_only_when_it_allows_this_rule() {
    let d = wanted(&stack());
    let p = d.permission.clone();
    let add = mock!(aws_sdk_lambda::Client::add_permission).then_http_response(|| {
        http(
            409,
            &[("x-amzn-errortype", "ResourceConflictException")],
            r#"{"Type":"User","message":"The statement id (flowlogs-s-events) provided already exists. Please provide a new statement id, or remove the existing statement."}"#,
        )
    });
    let policy_for = |source: &str| {
        let statement = serde_json::json!({"Sid": p.statement_id, "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"}, "Action": "lambda:InvokeFunction",
            "Condition": {"StringEquals": {"AWS:SourceAccount": p.source_account},
                          "ArnLike": {"AWS:SourceArn": source}}});
        aws_sdk_lambda::operation::get_policy::GetPolicyOutput::builder()
            .policy(serde_json::json!({"Statement": [statement]}).to_string())
            .build()
    };
    let ours = policy_for(&p.source_arn);
    let get = mock!(aws_sdk_lambda::Client::get_policy).then_output(move || ours.clone());
    let clients = Clients {
        lambda: client!(aws_sdk_lambda, &[&add, &get]),
        ..no_calls()
    };
    permission::add_permission(&clients, &p, &crate::ui::Progress::quiet())
        .await
        .unwrap();

    let other = policy_for("arn:aws:events:us-east-1:123456789012:rule/another");
    let get = mock!(aws_sdk_lambda::Client::get_policy).then_output(move || other.clone());
    let clients = Clients {
        lambda: client!(aws_sdk_lambda, &[&add, &get]),
        ..no_calls()
    };
    let err = permission::add_permission(&clients, &p, &crate::ui::Progress::quiet())
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains("allowing EventBridge to invoke")
            && text.contains("events.amazonaws.com")
            && text.contains("remove-permission"),
        "{text}"
    );
}
