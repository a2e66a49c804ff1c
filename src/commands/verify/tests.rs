use super::*;

fn flow_log(status: &str, deliver: &str, message: Option<&str>) -> ObservedFlowLog {
    ObservedFlowLog {
        id: "fl-1".into(),
        resource_id: "vpc-1".into(),
        traffic_type: "ALL".into(),
        log_format: String::new(),
        max_aggregation_interval: 600,
        destination_type: "s3".into(),
        destination: "arn:aws:s3:::b".into(),
        tags: Default::default(),
        status: FlowLogStatus::parse(status),
        deliver_logs_status: DeliveryStatus::parse(deliver),
        deliver_logs_error: message.map(str::to_string),
        created: None,
    }
}

#[test]
fn active_and_successful_passes() {
    let check = flow_log_check(&flow_log("ACTIVE", "SUCCESS", None));
    assert!(check.ok);
    assert!(check.name.contains("vpc-1") && check.name.contains("fl-1"));
}

#[test]
fn failed_delivery_shows_the_message_and_the_usual_cause() {
    let cases = [
        ("Access error", "bucket policy"),
        (
            "The log destination's KMS key could not be used",
            "KMS key policy",
        ),
        ("Rate limited", "throttling"),
        ("Destination does not exist", "recreate the bucket"),
    ];
    for (message, hint) in cases {
        let check = flow_log_check(&flow_log("ACTIVE", "FAILED", Some(message)));
        assert!(!check.ok, "{message}");
        assert!(
            check.detail.contains("FAILED") && check.detail.contains(message),
            "{}",
            check.detail
        );
        assert!(check.fix.contains(hint), "{message}: {}", check.fix);
    }
}

#[test]
fn an_inactive_flow_log_fails() {
    let check = flow_log_check(&flow_log("DELETED", "SUCCESS", None));
    assert!(!check.ok);
    assert!(check.fix.contains("flowlogs setup"));
}

#[test]
fn report_lists_each_check_with_its_fix() {
    let report = VerifyReport {
        stack: "s".into(),
        ok: false,
        checks: vec![
            Check::pass("bucket policy of b", "delivery statements in place"),
            Check::fail("notification flowlogs-s", "missing", "run `flowlogs setup`"),
        ],
        canary: None,
    };
    let shown = report.to_string();
    assert!(
        shown.contains("✓ bucket policy of b: delivery statements in place"),
        "{shown}"
    );
    assert!(
        shown.contains("✗ notification flowlogs-s: missing\n    fix: run `flowlogs setup`"),
        "{shown}"
    );
    assert!(shown.ends_with("1 check(s) failed."), "{shown}");
}

#[test]
fn a_transit_gateway_flow_log_that_fails_delivery_fails_verify() {
    let text = "version: 1\nstack: s\nflow_log:\n  resources: { vpc_ids: [vpc-1], transit_gateway_ids: [tgw-1] }\n  max_aggregation_interval: 60\ndelivery: { otlp: { endpoint: http://x } }\n";
    let c = crate::config::parse(text, std::path::Path::new("t.yaml"), &|_| None).unwrap();
    let desired = crate::desired::build(&c, "123456789012", "us-east-1", "h").unwrap();
    let mut observed = crate::planner::Observed::empty(crate::desired::athena::Day::today());
    for (i, d) in desired.flow_logs.iter().enumerate() {
        let mut f = crate::resources::flow_log::tests::observed_from(d, &format!("fl-{i}"));
        if d.resource_type.is_transit_gateway() {
            // DescribeFlowLogs has no traffic type for a transit gateway's flow log.
            f.traffic_type = String::new();
            f.deliver_logs_status = DeliveryStatus::parse("FAILED");
            f.deliver_logs_error = Some("Access error".into());
        }
        observed.flow_logs.push(f);
    }
    let checks = live_checks(&desired, &observed);
    let tgw = checks
        .iter()
        .find(|c| c.name.contains("tgw-1"))
        .expect("a check of the transit gateway's flow log");
    assert!(!tgw.ok, "{tgw:?}");
    assert!(tgw.detail.contains("DeliverLogsStatus FAILED"), "{tgw:?}");
    assert!(checks.iter().any(|c| c.name.contains("vpc-1") && c.ok));
}
