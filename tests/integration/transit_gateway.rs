//! Transit gateway flow logs through the whole pipeline on the local stack: a VPC and a transit
//! gateway logged by one stack; setup creates their flow logs (the TGW one without a traffic type,
//! at 60 s, in the `tgw/` folder, which the stack's `flow-log-transit-gateway` behaviour checks as
//! AWS does) and the folder's own notification entry; a TGW-format object in that folder reaches
//! the collector with the collector's attribute names; a second setup writes nothing; teardown
//! leaves no transit gateway flow log.

use std::time::{Duration, Instant};

use crate::support::config::StackConfig;
use crate::support::{
    assert_exit, gzip, printed, recorder, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};
use serde_json::Value;

const STACK: &str = "hub";
const BUCKET: &str = "hub-flowlogs-123456789012-us-east-1";

const TGW_HEADER: &str = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service";

/// Two records of a transit gateway flow log, every TGW field, as AWS writes them: one delivered,
/// one with packets dropped by a blackhole route.
fn tgw_object(tgw: &str) -> String {
    format!(
        "{TGW_HEADER}\n\
         6 TransitGateway {ACCOUNT_ID} {tgw} tgw-attach-0a1b2c3d4e5f60718 {ACCOUNT_ID} 210987654321 vpc-0a1b2c3d4e5f60718 vpc-0f1e2d3c4b5a69788 subnet-0a1b2c3d4e5f60718 subnet-0f1e2d3c4b5a69788 eni-0a1b2c3d4e5f60718 eni-0f1e2d3c4b5a69788 use1-az1 use1-az2 tgw-attach-0f1e2d3c4b5a69788 10.0.1.5 10.1.2.9 49152 443 6 10 8400 1764410400 1764410460 OK IPv4 0 0 0 0 2 {REGION} ingress - -\n\
         6 TransitGateway {ACCOUNT_ID} {tgw} tgw-attach-0a1b2c3d4e5f60718 {ACCOUNT_ID} 210987654321 vpc-0a1b2c3d4e5f60718 vpc-0f1e2d3c4b5a69788 subnet-0a1b2c3d4e5f60718 - eni-0a1b2c3d4e5f60718 - use1-az1 - - 10.0.1.5 10.9.9.9 49153 5432 6 3 180 1764410400 1764410460 OK IPv4 0 3 0 0 2 {REGION} ingress - -\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vpc_and_a_transit_gateway_are_logged_forwarded_kept_and_torn_down() {
    let stack = Stack::start_with(
        &[Service::Moto, Service::Rotel, Service::Lambda],
        Behaviours::all().retry_delays(&[1.0, 1.0]),
    );
    let sdk = stack.sdk_config().await;
    let (s3, ec2) = (
        aws_sdk_s3::Client::new(&sdk),
        flowlogs_aws_lite::ec2::Ec2::new(&sdk),
    );
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let tgw = ec2.create_transit_gateway(&[]).await.unwrap();
    let cfg = StackConfig::lambda(STACK, &vpc, &stack.otlp_endpoint)
        .set("flow_log.resources.transit_gateway_ids", [&tgw])
        .flow_log("max_aggregation_interval", 60)
        .write(stack.dir());

    // Setup: both flow logs, the TGW one as AWS takes it (the stack refuses a TrafficType or
    // another interval), into its own folder.
    let setup = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_exit(&setup, 0);
    let flow_logs = ec2
        .describe_flow_logs(
            &[],
            &[flowlogs_aws_lite::ec2::Filter::new(
                "tag:flowlogs:stack",
                [STACK],
            )],
        )
        .await
        .unwrap();
    let on = |id: &str| {
        flow_logs
            .iter()
            .find(|f| f.resource_id == id)
            .unwrap_or_else(|| panic!("a flow log on {id}: {flow_logs:?}"))
    };
    let tgw_flow_log = on(&tgw);
    assert_eq!(tgw_flow_log.traffic_type, None);
    assert_eq!(tgw_flow_log.max_aggregation_interval, Some(60));
    assert_eq!(
        tgw_flow_log.log_destination.as_deref(),
        Some(format!("arn:aws:s3:::{BUCKET}/tgw/").as_str())
    );
    assert!(tgw_flow_log
        .log_format
        .as_deref()
        .unwrap_or_default()
        .contains("${tgw-attachment-id}"));
    assert_eq!(
        on(&vpc).traffic_type.as_deref(),
        Some("ALL"),
        "the VPC's flow log keeps its traffic type"
    );
    let notifications = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = notifications
        .lambda_function_configurations()
        .iter()
        .filter_map(|c| c.id())
        .collect();
    assert!(
        ids.contains(&"flowlogs-hub") && ids.contains(&"flowlogs-hub-tgw"),
        "{ids:?}"
    );

    // A TGW-format object in the TGW folder: S3 triggers the forwarder through the folder's entry.
    // Its records are checked at the end, so that what follows is proved whatever they show.
    let key = format!(
        "tgw/AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/2026/11/29/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0tgw_20261129T1000Z_0123abcd.log.gz"
    );
    s3.put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(gzip(tgw_object(&tgw).as_bytes()).into())
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let mut records: Vec<Value> = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        records = stack.captured();
        if records.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stack.wait_until_idle(Duration::from_secs(60));
    let invocations = stack.invocations();
    assert!(
        invocations.dispatched >= 1,
        "S3 triggered the forwarder for the TGW folder's object: {invocations:?}\n{}",
        stack.log_tails()
    );

    // Backfill finds the TGW folder's object (the VPC folder is empty: moto delivers nothing).
    let dry = cfg.run(
        &stack,
        &[
            "backfill",
            "--dry-run",
            "--output",
            "json",
            "--since",
            "2026-11-29",
            "--until",
            "2026-11-30T00:00:00Z",
        ],
    );
    assert_exit(&dry, 0);
    let dry: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(dry["objects"], 1, "{dry}");

    // Verify sends a TGW-format canary into the TGW folder, through the folder's own entry.
    let verify = cfg.run(&stack, &["verify"]);
    let shown = printed(&verify);
    assert_eq!(verify.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("✓ test delivery (transit gateway folder): S3 triggered flowlogs-hub-forwarder for the canary")
            && shown.contains("/tgw/AWSLogs/"),
        "{shown}"
    );
    assert!(shown.contains(&format!("✓ flow log {tgw}")), "{shown}");
    stack.wait_until_idle(Duration::from_secs(60));

    // A second setup writes nothing.
    recorder::start(&stack.moto_endpoint);
    let again = cfg.run(&stack, &["setup", "--yes", "--no-verify"]);
    assert_exit(&again, 0);
    assert_eq!(
        recorder::writes(&stack.moto_endpoint),
        Vec::<String>::new(),
        "second setup must not write: {}",
        printed(&again)
    );
    assert_exit(&cfg.run(&stack, &["plan", "--detailed-exitcode"]), 0);

    // Teardown: no flow log on the transit gateway is left, nor the folder's entry.
    let teardown = cfg.run(&stack, &["teardown", "--yes"]);
    assert_exit(&teardown, 0);
    let left = ec2
        .describe_flow_logs(
            &[],
            &[flowlogs_aws_lite::ec2::Filter::new("resource-id", [&tgw])],
        )
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    if let Ok(n) = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
    {
        assert!(
            !n.lambda_function_configurations()
                .iter()
                .any(|c| c.id() == Some("flowlogs-hub-tgw")),
            "{n:?}"
        );
    }

    // The object's records, with the collector's attribute names (the forwarder's TGW parsing).
    assert_eq!(
        records.len(),
        2,
        "the TGW object's records in the collector ({invocations:?}):\n{}\n{}",
        records
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        stack.log_tails()
    );
    for r in &records {
        assert_eq!(r["attributes"]["aws.tgw.id"], tgw.as_str(), "{r}");
        assert_eq!(
            r["attributes"]["aws.tgw.attachment.id"], "tgw-attach-0a1b2c3d4e5f60718",
            "{r}"
        );
        assert!(r["attributes"]["aws.vpc.flow.action"].is_null(), "{r}");
    }
    assert!(
        records
            .iter()
            .any(|r| r["attributes"]["aws.vpc.flow.packets_lost_blackhole"] == 3),
        "the blackhole drop, as an integer"
    );
}
