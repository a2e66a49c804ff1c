//! The flow logs' AWS edge: DescribeFlowLogs paged by NextToken and asked twice (our tag, the
//! listed resources), EC2 throttling, a folder destination echoed with its trailing slash, a
//! delivery error reported, CreateFlowLogs refusing in a 200 answer (the KMS key given by id),
//! FlowLogAlreadyExists on a replace, and deleting a flow log already gone.

use std::sync::{Arc, Mutex};

use super::ec2_wire::{self, item, set, tag_set, Form, Rule};
use super::{desired, ec2_error, no_calls, said};
use crate::aws::states::{DeliveryStatus, FlowLogStatus};
use crate::aws::Clients;
use crate::desired::DesiredFlowLog;
use crate::resources::flow_log;
use crate::ui::Progress;

fn ec2(rules: &[&Rule]) -> Clients {
    Clients {
        ec2: ec2_wire::client(rules, None),
        ..no_calls()
    }
}

fn by_tag(r: &Form) -> bool {
    r.filter("tag:flowlogs:stack").is_some()
}

fn by_resource(r: &Form) -> bool {
    r.filter("resource-id").is_some()
}

/// A flow log of ours as DescribeFlowLogs answers it, with `changed` fields replaced or added.
fn ours(id: &str, vpc: &str, changed: &[(&str, &str)]) -> String {
    let tags = tag_set([("flowlogs:stack", "s")]);
    let mut fields = vec![
        ("flowLogId", id),
        ("resourceId", vpc),
        ("trafficType", "ALL"),
        ("logDestinationType", "s3"),
        (
            "logDestination",
            "arn:aws:s3:::flowlogs-s-123456789012-us-east-1",
        ),
        ("logFormat", "${version} ${account-id}"),
        ("maxAggregationInterval", "60"),
        ("flowLogStatus", "ACTIVE"),
        ("deliverLogsStatus", "SUCCESS"),
        ("tagSet", tags.as_str()),
    ];
    for (k, v) in changed {
        match fields.iter_mut().find(|(name, _)| name == k) {
            Some(field) => field.1 = v,
            None => fields.push((k, v)),
        }
    }
    item(&fields)
}

fn flow_log(id: &str, vpc: &str) -> String {
    ours(id, vpc, &[])
}

fn flow_logs(items: &[String], next_token: Option<&str>) -> String {
    set("flowLogSet", items, next_token)
}

fn unsuccessful(resource: Option<&str>, code: &str, message: &str) -> String {
    let error = format!("<code>{code}</code><message>{message}</message>");
    let mut fields = vec![("error", error.as_str())];
    if let Some(resource) = resource {
        fields.push(("resourceId", resource));
    }
    set("unsuccessful", &[item(&fields)], None)
}

fn first_flow_log() -> DesiredFlowLog {
    desired().flow_logs[0].clone()
}

#[tokio::test]
async fn every_page_of_both_queries_is_read_and_a_flow_log_found_twice_is_one() {
    // Our tag's query answers in two pages (NextToken); the resource query finds fl-2 again and a
    // flow log of someone else's on vpc-2.
    let tag_page_1 = Rule::new("DescribeFlowLogs")
        .matching(|r| by_tag(r) && r.get("NextToken").is_none())
        .ok(&flow_logs(&[flow_log("fl-1", "vpc-1")], Some("page-2")));
    let tag_page_2 = Rule::new("DescribeFlowLogs")
        .matching(|r| by_tag(r) && r.get("NextToken") == Some("page-2"))
        .ok(&flow_logs(&[flow_log("fl-2", "vpc-2")], None));
    let resources = Rule::new("DescribeFlowLogs")
        .matching(|r| {
            by_resource(r)
                && r.filter("resource-id") == Some(vec!["vpc-1".to_string(), "vpc-2".to_string()])
        })
        .ok(&flow_logs(
            &[
                flow_log("fl-2", "vpc-2"),
                item(&[("flowLogId", "fl-theirs"), ("resourceId", "vpc-2")]),
            ],
            None,
        ));
    let clients = ec2(&[&tag_page_1, &tag_page_2, &resources]);
    let observed = flow_log::observe(
        &clients,
        &desired().names,
        &["vpc-1".into(), "vpc-2".into()],
    )
    .await
    .unwrap();
    let ids: Vec<&str> = observed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["fl-1", "fl-2", "fl-theirs"]);
    let fl1 = &observed[0];
    assert_eq!(fl1.resource_id, "vpc-1");
    assert_eq!(fl1.traffic_type, "ALL");
    assert_eq!(fl1.destination_type, "s3");
    assert_eq!(fl1.max_aggregation_interval, 60);
    assert_eq!(
        fl1.tags.get("flowlogs:stack").map(String::as_str),
        Some("s")
    );
    assert_eq!(fl1.status, FlowLogStatus::Active);
    // a flow log that does not say its interval has AWS's default, 600 s
    assert_eq!(observed[2].max_aggregation_interval, 600);
    assert_eq!(
        (
            tag_page_1.num_calls(),
            tag_page_2.num_calls(),
            resources.num_calls()
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_folder_destination_is_read_without_its_trailing_slash_and_delivery_errors_are_kept() {
    // AWS echoes `arn:aws:s3:::bucket/folder/` as given (devstack behaviour `flow-log-folder`).
    let tagged = Rule::new("DescribeFlowLogs").ok(&flow_logs(
        &[ours(
            "fl-1",
            "vpc-1",
            &[
                ("logDestination", "arn:aws:s3:::b/folder/"),
                ("deliverLogsStatus", "FAILED"),
                ("deliverLogsErrorMessage", "Access error"),
            ],
        )],
        None,
    ));
    let observed = flow_log::observe(&ec2(&[&tagged]), &desired().names, &[])
        .await
        .unwrap();
    assert_eq!(observed[0].destination, "arn:aws:s3:::b/folder");
    assert_eq!(
        observed[0].deliver_logs_status,
        DeliveryStatus::Other("FAILED".into())
    );
    assert_eq!(
        observed[0].deliver_logs_error.as_deref(),
        Some("Access error")
    );
    // without resources to look for, only our tag is asked about
    assert_eq!(tagged.num_calls(), 1);
}

#[tokio::test]
async fn ec2_request_limit_exceeded_is_retried() {
    let tagged = Rule::new("DescribeFlowLogs")
        .http(
            503,
            &ec2_error("RequestLimitExceeded", "Request limit exceeded."),
        )
        .ok(&flow_logs(&[flow_log("fl-1", "vpc-1")], None));
    let observed = flow_log::observe(&ec2(&[&tagged]), &desired().names, &[])
        .await
        .unwrap();
    assert_eq!(observed.len(), 1);
    assert_eq!(tagged.num_calls(), 2);
}

#[tokio::test]
async fn unauthorized_listing_is_an_error_naming_the_call() {
    let tagged = Rule::new("DescribeFlowLogs").http(
        403,
        &ec2_error(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        ),
    );
    let err = flow_log::observe(&ec2(&[&tagged]), &desired().names, &[])
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains("listing flow logs (ec2:DescribeFlowLogs)"),
        "{text}"
    );
    assert!(text.contains("UnauthorizedOperation"), "{text}");
}

#[tokio::test]
async fn a_refusal_inside_a_200_answer_is_an_error_naming_the_vpc_and_aws_message() {
    // A bucket whose default encryption names its KMS key by id: CreateFlowLogs answers 200 with an
    // Unsuccessful item, code "400" (AWS-FACTS.md "Keys and encryption", behaviour
    // `flow-log-kms-key-id`); nothing is created.
    let d = first_flow_log();
    let create = Rule::new("CreateFlowLogs").ok(&unsuccessful(
        Some("vpc-1"),
        "400",
        "LogDestination: flowlogs-b is undeliverable",
    ));
    let err = flow_log::create(&ec2(&[&create]), &d, None, &Progress::quiet())
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!("AWS refused the flow log for {}", d.resource_id)),
        "{text}"
    );
    assert!(text.contains("is undeliverable"), "{text}");
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn a_replacement_refused_as_a_duplicate_deletes_the_old_flow_log_first() {
    let d = first_flow_log();
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let seen = tokens.clone();
    let create = Rule::new("CreateFlowLogs")
        .matching(move |r| {
            seen.lock()
                .unwrap()
                .push(r.get("ClientToken").unwrap_or_default().to_string());
            true
        })
        .ok(&unsuccessful(
            None,
            "FlowLogAlreadyExists",
            "This flow log already exists",
        ))
        .ok(&set("flowLogIdSet", &["<item>fl-new</item>".into()], None));
    let still_there = Rule::new("DescribeFlowLogs")
        .matching(|r| r.list("FlowLogId") == ["fl-old".to_string()])
        .ok(&flow_logs(&[flow_log("fl-old", "vpc-1")], None));
    let delete = Rule::new("DeleteFlowLogs")
        .matching(|r| r.list("FlowLogId") == ["fl-old".to_string()])
        .ok("<unsuccessful/>");
    let clients = ec2(&[&create, &still_there, &delete]);
    let id = flow_log::create(&clients, &d, Some("fl-old"), &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(id, "fl-new");
    assert_eq!((create.num_calls(), delete.num_calls()), (2, 1));
    // the second attempt is a new request to EC2, not a replay of the first (its own ClientToken)
    let tokens = tokens.lock().unwrap();
    assert!(
        tokens.len() >= 2 && tokens.first() != tokens.last(),
        "{tokens:?}"
    );
}

#[tokio::test]
async fn deleting_a_flow_log_already_gone_makes_no_delete_call() {
    let gone = Rule::new("DescribeFlowLogs").ok("<flowLogSet/>");
    flow_log::delete(&ec2(&[&gone]), "fl-1").await.unwrap();

    let not_found = Rule::new("DescribeFlowLogs").http(
        400,
        &ec2_error("InvalidFlowLogId.NotFound", "Flow log fl-1 does not exist"),
    );
    flow_log::delete(&ec2(&[&not_found]), "fl-1").await.unwrap();
    assert_eq!((gone.num_calls(), not_found.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_delete_refused_in_a_200_answer_names_the_flow_log() {
    let there = Rule::new("DescribeFlowLogs").ok(&flow_logs(&[flow_log("fl-1", "vpc-1")], None));
    let delete = Rule::new("DeleteFlowLogs").ok(&unsuccessful(
        Some("fl-1"),
        "UnauthorizedOperation",
        "not allowed",
    ));
    let err = flow_log::delete(&ec2(&[&there, &delete]), "fl-1")
        .await
        .unwrap_err();
    assert!(
        said(&err).contains("deleting flow log fl-1: UnauthorizedOperation"),
        "{}",
        said(&err)
    );
}

#[tokio::test]
async fn a_folder_destination_is_sent_with_its_trailing_slash() {
    // The EC2 API reference writes a folder destination `arn:aws:s3:::bucket/folder/`, trailing
    // slash included (AWS-FACTS.md "Limits"; devstack behaviour `flow-log-folder`).
    let mut d = first_flow_log();
    d.destination = "arn:aws:s3:::flowlogs-b/team-a/vpc/".into();
    let create = Rule::new("CreateFlowLogs")
        .matching(|r| {
            r.get("LogDestination") == Some("arn:aws:s3:::flowlogs-b/team-a/vpc/")
                && r.list("ResourceId") == ["vpc-1".to_string()]
        })
        .ok(&set("flowLogIdSet", &["<item>fl-1</item>".into()], None));
    let id = flow_log::create(&ec2(&[&create]), &d, None, &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(id, "fl-1");
}
