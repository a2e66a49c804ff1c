//! Transit gateway flow logs at the EC2 edge: CreateFlowLogs with `ResourceType` `TransitGateway` /
//! `TransitGatewayAttachment`, no `TrafficType` (AWS refuses one), `MaxAggregationInterval` 60,
//! every TGW field and the transit gateway folder; DescribeFlowLogs answering for them without a
//! traffic type, which a second plan reads as in sync (it writes nothing).

use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_sdk_ec2::operation::create_flow_logs::{CreateFlowLogsInput, CreateFlowLogsOutput};
use aws_sdk_ec2::operation::describe_flow_logs::DescribeFlowLogsOutput;
use aws_sdk_ec2::types::{FlowLog, FlowLogsResourceType, LogDestinationType, Tag};
use aws_sdk_ec2::Client;
use aws_smithy_mocks::mock;

use super::{client, ec2_error, http, no_calls, said, ACCOUNT, REGION};
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
    let sent: Arc<Mutex<Vec<CreateFlowLogsInput>>> = Arc::default();
    let seen = sent.clone();
    let create = mock!(Client::create_flow_logs)
        .match_requests(move |r| {
            seen.lock().unwrap().push(r.clone());
            true
        })
        .then_output(|| {
            CreateFlowLogsOutput::builder()
                .flow_log_ids("fl-tgw")
                .build()
        });
    let clients = Clients {
        ec2: client!(aws_sdk_ec2, &[&create]),
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
    let kinds: Vec<_> = sent.iter().map(|r| r.resource_type().cloned()).collect();
    assert_eq!(
        kinds,
        [
            Some(FlowLogsResourceType::TransitGateway),
            Some(FlowLogsResourceType::TransitGatewayAttachment)
        ]
    );
    for r in sent.iter() {
        assert!(
            r.resource_ids().len() <= 25,
            "AWS takes 25 TGW ids per call"
        );
        assert_eq!(
            r.traffic_type(),
            None,
            "AWS refuses a TrafficType for a TGW"
        );
        assert_eq!(r.max_aggregation_interval(), Some(60));
        assert_eq!(r.log_format(), Some(transit_gateway::all_format().as_str()));
        assert_eq!(
            r.log_destination(),
            Some("arn:aws:s3:::s-flowlogs-123456789012-us-east-1/tgw/")
        );
    }
}

#[tokio::test]
async fn transit_gateway_flow_logs_as_aws_describes_them_are_in_sync() {
    let d = hub();
    let described: Vec<FlowLog> = d
        .flow_logs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut b = FlowLog::builder()
                .flow_log_id(format!("fl-{i}"))
                .resource_id(&f.resource_id)
                .log_destination_type(LogDestinationType::S3)
                .log_destination(&f.destination)
                .log_format(&f.log_format)
                .max_aggregation_interval(f.max_aggregation_interval as i32)
                .flow_log_status("ACTIVE")
                .deliver_logs_status("SUCCESS");
            // DescribeFlowLogs has no traffic type for a transit gateway's flow log.
            if !f.resource_type.is_transit_gateway() {
                b = b.traffic_type(aws_sdk_ec2::types::TrafficType::All);
            }
            for (k, v) in &f.tags {
                b = b.tags(Tag::builder().key(k).value(v).build());
            }
            b.build()
        })
        .collect();
    let describe = mock!(Client::describe_flow_logs).then_output(move || {
        DescribeFlowLogsOutput::builder()
            .set_flow_logs(Some(described.clone()))
            .build()
    });
    let clients = Clients {
        ec2: client!(aws_sdk_ec2, &[&describe]),
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
    let create = mock!(Client::create_flow_logs).then_http_response(|| {
        http(
            400,
            &[],
            &ec2_error(
                "InvalidParameter",
                "Invalid Resource id tgw-1 for resource-type TransitGateway",
            ),
        )
    });
    let clients = Clients {
        ec2: client!(aws_sdk_ec2, &[&create]),
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
