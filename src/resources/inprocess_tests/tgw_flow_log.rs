//! Transit gateway flow logs at the EC2 edge: CreateFlowLogs with `ResourceType` `TransitGateway` /
//! `TransitGatewayAttachment`, no `TrafficType` (AWS refuses one), `MaxAggregationInterval` 60,
//! every TGW field and the transit gateway folder; DescribeFlowLogs answering for them without a
//! traffic type, which a second plan reads as in sync (it writes nothing).

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::ec2_wire::{self, item, set, tag_set, Form, Rule};
use super::{ec2_error, no_calls, said, ACCOUNT, REGION};
use crate::aws::Clients;
use crate::config::transit_gateway;
use crate::desired::{self, Desired};
use crate::resources::flow_log;
use crate::ui::Progress;

fn hub() -> Desired {
    let text = "version: 1\nstack: s\nflow_log:\n  resources: { vpc_ids: [vpc-1], transit_gateway_ids: [tgw-1], transit_gateway_attachment_ids: [tgw-attach-2] }\n  max_aggregation_interval: 60\ndelivery: { otlp: { endpoint: http://x } }\n";
    let c = crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
    desired::build(&c, ACCOUNT, REGION, "h").unwrap()
}

#[tokio::test]
async fn a_transit_gateway_flow_log_is_created_without_traffic_type_at_60_seconds_in_its_folder() {
    let d = hub();
    let sent: Arc<Mutex<Vec<Form>>> = Arc::default();
    let create =
        Rule::new("CreateFlowLogs").ok(&set("flowLogIdSet", &["<item>fl-tgw</item>".into()], None));
    let clients = Clients {
        ec2: ec2_wire::client(&[&create], Some(sent.clone())),
        ..no_calls()
    };
    for f in d
        .flow_logs
        .iter()
        .filter(|f| f.resource_type.is_transit_gateway())
    {
        flow_log::create(&clients, f, None, &Progress::quiet())
            .await
            .unwrap();
    }
    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 2);
    let kinds: Vec<_> = sent.iter().map(|r| r.get("ResourceType")).collect();
    assert_eq!(
        kinds,
        [Some("TransitGateway"), Some("TransitGatewayAttachment")]
    );
    for r in sent.iter() {
        assert!(
            r.list("ResourceId").len() <= 25,
            "AWS takes 25 TGW ids per call"
        );
        assert_eq!(
            r.get("TrafficType"),
            None,
            "AWS refuses a TrafficType for a TGW"
        );
        assert_eq!(r.get("MaxAggregationInterval"), Some("60"));
        assert_eq!(
            r.get("LogFormat"),
            Some(transit_gateway::all_format().as_str())
        );
        assert_eq!(
            r.get("LogDestination"),
            Some("arn:aws:s3:::s-flowlogs-123456789012-us-east-1/tgw/")
        );
    }
}

#[tokio::test]
async fn transit_gateway_flow_logs_as_aws_describes_them_are_in_sync() {
    let d = hub();
    let described: Vec<String> = d
        .flow_logs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (id, interval, tags) = (
                format!("fl-{i}"),
                f.max_aggregation_interval.to_string(),
                tag_set(&f.tags),
            );
            let mut fields = vec![
                ("flowLogId", id.as_str()),
                ("resourceId", f.resource_id.as_str()),
                ("logDestinationType", "s3"),
                ("logDestination", f.destination.as_str()),
                ("logFormat", f.log_format.as_str()),
                ("maxAggregationInterval", interval.as_str()),
                ("flowLogStatus", "ACTIVE"),
                ("deliverLogsStatus", "SUCCESS"),
                ("tagSet", tags.as_str()),
            ];
            // DescribeFlowLogs has no traffic type for a transit gateway's flow log.
            if !f.resource_type.is_transit_gateway() {
                fields.push(("trafficType", "ALL"));
            }
            item(&fields)
        })
        .collect();
    let describe = Rule::new("DescribeFlowLogs").ok(&set("flowLogSet", &described, None));
    let clients = Clients {
        ec2: ec2_wire::client(&[&describe], None),
        ..no_calls()
    };
    let ids = vec!["vpc-1".into(), "tgw-1".into(), "tgw-attach-2".into()];
    let observed = flow_log::observe(&clients, &d.names, &ids).await.unwrap();
    assert_eq!(observed.len(), 3);
    let plan = flow_log::plan(&d.names, &d.flow_logs, &observed);
    assert!(plan.steps.is_empty(), "{plan}");
    assert_eq!(plan.in_sync.len(), 3);
}

#[tokio::test]
async fn a_transit_gateway_aws_does_not_know_here_is_refused_with_the_owner_rule() {
    // As AWS answers (ministryofjustice/modernisation-platform#8016 quotes it).
    let d = hub();
    let f = d
        .flow_logs
        .iter()
        .find(|f| f.resource_type.is_transit_gateway())
        .unwrap();
    let create = Rule::new("CreateFlowLogs").http(
        400,
        &ec2_error(
            "InvalidParameter",
            "Invalid Resource id tgw-1 for resource-type TransitGateway",
        ),
    );
    let clients = Clients {
        ec2: ec2_wire::client(&[&create], None),
        ..no_calls()
    };
    let err = flow_log::create(&clients, f, None, &Progress::quiet())
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains("AWS refused the flow log for tgw-1"),
        "{text}"
    );
    assert!(text.contains("the account that owns it"), "{text}");
}
