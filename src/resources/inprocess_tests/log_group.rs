//! The log groups' AWS edge (`crate::aws::log_groups`, behind the forwarder's and the stream's log
//! group): DescribeLogGroups filters by prefix only, so the exact name is picked among longer
//! ones; tags are read by the group's ARN without the `:*` that DescribeLogGroups' `arn` carries;
//! a delete of a group already gone is done.

use std::collections::HashMap;

use aws_sdk_cloudwatchlogs::operation::delete_log_group::DeleteLogGroupOutput;
use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
use aws_sdk_cloudwatchlogs::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use aws_sdk_cloudwatchlogs::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, http, no_calls, said};
use crate::aws::{log_groups, Clients};

const GROUP: &str = "/aws/lambda/flowlogs-s-forwarder";
const ARN: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/flowlogs-s-forwarder";

fn logs(rules: &[&Rule]) -> Clients {
    Clients {
        logs: client!(aws_sdk_cloudwatchlogs, rules),
        ..no_calls()
    }
}

/// DescribeLogGroups for our prefix: a longer name that shares it, then ours, with only the
/// older `arn` field (ending `:*`).
fn described() -> Rule {
    mock!(Client::describe_log_groups)
        .match_requests(|r| r.log_group_name_prefix() == Some(GROUP))
        .then_output(|| {
            DescribeLogGroupsOutput::builder()
                .log_groups(
                    LogGroup::builder()
                        .log_group_name(format!("{GROUP}-canary"))
                        .arn(format!("{ARN}-canary:*"))
                        .build(),
                )
                .log_groups(
                    LogGroup::builder()
                        .log_group_name(GROUP)
                        .arn(format!("{ARN}:*"))
                        .retention_in_days(14)
                        .build(),
                )
                .build()
        })
}

#[tokio::test]
async fn the_exact_name_is_picked_and_its_tags_read_by_the_arn_without_the_star() {
    let describe = described();
    let tags = mock!(Client::list_tags_for_resource)
        .match_requests(|r| r.resource_arn() == Some(ARN))
        .then_output(|| {
            ListTagsForResourceOutput::builder()
                .set_tags(Some(HashMap::from([(
                    "flowlogs:stack".to_string(),
                    "s".to_string(),
                )])))
                .build()
        });
    let group = log_groups::observe(&logs(&[&describe, &tags]), GROUP)
        .await
        .unwrap()
        .expect("the group");
    assert_eq!(group.name, GROUP);
    assert_eq!(group.retention_days, Some(14));
    assert_eq!(
        group.tags.get("flowlogs:stack").map(String::as_str),
        Some("s")
    );
    assert_eq!(
        log_groups::arn(&logs(&[&described()]), GROUP)
            .await
            .unwrap(),
        ARN
    );
}

#[tokio::test]
async fn only_longer_names_under_the_prefix_is_no_group() {
    let describe = mock!(Client::describe_log_groups).then_output(|| {
        DescribeLogGroupsOutput::builder()
            .log_groups(
                LogGroup::builder()
                    .log_group_name(format!("{GROUP}-canary"))
                    .build(),
            )
            .build()
    });
    assert_eq!(
        log_groups::observe(&logs(&[&describe]), GROUP)
            .await
            .unwrap(),
        None
    );
    let err = log_groups::arn(&logs(&[&describe]), GROUP)
        .await
        .unwrap_err();
    assert!(
        said(&err).contains(&format!("log group {GROUP} is gone")),
        "{}",
        said(&err)
    );
}

#[tokio::test]
async fn deleting_a_group_already_gone_is_done() {
    let delete = mock!(Client::delete_log_group).then_http_response(|| {
        http(
            400,
            &[],
            r#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#,
        )
    });
    log_groups::delete(&logs(&[&delete]), GROUP).await.unwrap();
    let refused = mock!(Client::delete_log_group).then_http_response(|| {
        http(
            400,
            &[],
            r#"{"__type":"AccessDeniedException","message":"not authorized to perform: logs:DeleteLogGroup"}"#,
        )
    });
    assert!(log_groups::delete(&logs(&[&refused]), GROUP).await.is_err());
    let ok =
        mock!(Client::delete_log_group).then_output(|| DeleteLogGroupOutput::builder().build());
    log_groups::delete(&logs(&[&ok]), GROUP).await.unwrap();
    assert_eq!(
        (delete.num_calls(), refused.num_calls(), ok.num_calls()),
        (1, 1, 1)
    );
}
