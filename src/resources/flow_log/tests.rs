use std::path::Path;

use super::*;
use crate::config;
use crate::desired::{self, Desired};

pub fn desired(flow_log_extra: &str) -> Desired {
    let text = format!(
        "version: 1\nstack: s\nflow_log:\n  resources: {{ vpc_ids: [vpc-1, vpc-2] }}\n{flow_log_extra}delivery: {{ otlp: {{ endpoint: http://x }} }}\n"
    );
    let c = config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
    desired::build(&c, "123456789012", "us-east-1", "h").unwrap()
}

/// What DescribeFlowLogs would return for a flow log made from `d`.
pub fn observed_from(d: &DesiredFlowLog, id: &str) -> ObservedFlowLog {
    ObservedFlowLog {
        id: id.into(),
        resource_id: d.resource_id.clone(),
        traffic_type: d.traffic_type.as_aws().into(),
        log_format: d.log_format.clone(),
        max_aggregation_interval: d.max_aggregation_interval as i32,
        destination_type: d.destination_type.clone(),
        destination: d.destination.clone(),
        tags: d.tags.clone(),
        status: FlowLogStatus::Active,
        deliver_logs_status: DeliveryStatus::Success,
        deliver_logs_error: None,
        created: None,
    }
}

fn plan_for(d: &Desired, flow_logs: Vec<ObservedFlowLog>) -> Plan {
    super::plan(&d.names, &d.flow_logs, &flow_logs)
}

#[test]
fn matching_flow_logs_are_in_sync() {
    let d = desired("");
    let observed = d
        .flow_logs
        .iter()
        .enumerate()
        .map(|(i, f)| observed_from(f, &format!("fl-{i}")))
        .collect();
    let plan = plan_for(&d, observed);
    assert!(plan.steps.is_empty(), "{plan}");
    assert_eq!(plan.in_sync.len(), 2);
}

#[test]
fn missing_flow_logs_are_created() {
    let plan = plan_for(&desired(""), Vec::new());
    assert_eq!(plan.steps.len(), 2);
    assert!(plan.steps.iter().all(|s| s.action == Action::Create));
}

#[test]
fn any_changed_setting_is_a_replace_that_names_the_field() {
    let old = desired("");
    let cases = [
        ("  traffic_type: REJECT\n", "traffic_type"),
        (
            "  max_aggregation_interval: 60\n",
            "max_aggregation_interval",
        ),
        ("  format: all\n", "format"),
        ("  file_format: parquet\n", "file_format"),
        (
            "  hive_compatible_partitions: true\n",
            "hive_compatible_partitions",
        ),
        ("  per_hour_partition: true\n", "per_hour_partition"),
    ];
    for (change, field) in cases {
        let new = desired(change);
        let observed = vec![
            observed_from(&old.flow_logs[0], "fl-old"),
            observed_from(&old.flow_logs[1], "fl-two"),
        ];
        let plan = plan_for(&new, observed);
        let step = &plan.steps[0];
        assert_eq!(step.action, Action::Replace, "{change}");
        assert!(
            step.changes.iter().any(|c| c.field == field),
            "{change}: {:?}",
            step.changes
        );
        assert!(
            matches!(&step.ops[0], Op::CreateFlowLog { replacing: Some(old_id), .. } if old_id == "fl-old")
        );
        assert!(matches!(&step.retire[0], Op::DeleteFlowLog { id } if id == "fl-old"));
    }
}

#[test]
fn flow_logs_of_others_are_left_alone_and_ours_no_longer_wanted_are_deleted() {
    let d = desired("");
    let mut foreign = observed_from(&d.flow_logs[0], "fl-theirs");
    foreign.tags.clear();
    let mut stale = observed_from(&d.flow_logs[0], "fl-stale");
    stale.resource_id = "vpc-9".into();
    let plan = plan_for(&d, vec![foreign, stale]);
    let deletes: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .collect();
    assert_eq!(deletes.len(), 1);
    assert!(matches!(&deletes[0].ops[0], Op::DeleteFlowLog { id } if id == "fl-stale"));
    assert!(plan.notes.iter().any(|n| n.name == "fl-theirs"));
    assert_eq!(
        plan.steps
            .iter()
            .filter(|s| s.action == Action::Create)
            .count(),
        2
    );
}

#[test]
fn teardown_deletes_only_tagged_flow_logs() {
    let d = desired("");
    let mut foreign = observed_from(&d.flow_logs[0], "fl-theirs");
    foreign.tags.clear();
    let ours = observed_from(&d.flow_logs[1], "fl-ours");
    let plan = plan_teardown(&d.names, &[foreign, ours]);
    assert_eq!(plan.steps.len(), 1);
    assert!(matches!(&plan.steps[0].ops[0], Op::DeleteFlowLog { id } if id == "fl-ours"));
}

#[test]
fn a_folder_destination_reads_back_in_sync_with_or_without_its_trailing_slash() {
    let text = "version: 1\nstack: s\nflow_log:\n  resources: { vpc_ids: [vpc-1] }\nbucket: { prefix: team-a }\ndelivery: { otlp: { endpoint: http://x } }\n";
    let c = config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
    let d = desired::build(&c, "123456789012", "us-east-1", "h").unwrap();
    let wanted = &d.flow_logs[0];
    assert!(
        wanted.destination.ends_with("/team-a/"),
        "{}",
        wanted.destination
    );
    // As AWS echoes it, and as flowlogs wrote it before the trailing slash.
    for destination in [
        wanted.destination.clone(),
        wanted.destination.trim_end_matches('/').to_string(),
    ] {
        let mut observed = observed_from(wanted, "fl-1");
        observed.destination = destination;
        let plan = plan_for(&d, vec![observed]);
        assert!(plan.steps.is_empty(), "{plan}");
        assert_eq!(plan.in_sync.len(), 1);
    }
    let mut elsewhere = observed_from(wanted, "fl-1");
    elsewhere.destination = "arn:aws:s3:::other/team-a/".into();
    assert_eq!(plan_for(&d, vec![elsewhere]).steps.len(), 1);
}
