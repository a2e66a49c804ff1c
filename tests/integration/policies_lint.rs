//! Every identity policy flowlogs writes, as `plan --output json` renders it, passes parliament
//! (the IAM policy linter) with no finding. Trust policies are left out: parliament misreads them.

use std::path::Path;
use std::process::Command;

use crate::support::{Service, Stack};
use serde_json::Value;

const LAMBDA: &str = "version: 1\nstack: lint\nflow_log:\n  resources: { vpc_ids: [VPC] }\n  hive_compatible_partitions: true\nbucket:\n  prefix: team-a\ndelivery:\n  otlp: { endpoint: \"https://collector.example.com:4318\", headers: { x-key: \"${env:LINT_KEY}\" } }\n";
const FIREHOSE: &str = "version: 1\nstack: lint\nflow_log:\n  resources: { vpc_ids: [VPC] }\ndelivery:\n  mode: firehose\n  firehose: { url: \"https://o2.example.com/aws/default/vpcflowlog/_kinesis_firehose\", access_key: plain }\n";

fn identity_policies(stack: &Stack, config: &str, vpc: &str) -> Vec<(String, Value)> {
    let path = stack.dir().join("lint.yaml");
    std::fs::write(&path, config.replace("VPC", vpc)).unwrap();
    let zip = stack.dir().join("none.zip");
    std::fs::write(&zip, b"not used by plan").unwrap();
    let out = stack
        .flowlogs()
        .env("LINT_KEY", "not-a-real-key")
        .args(["plan", "--output", "json", "--forwarder-zip"])
        .arg(&zip)
        .arg("-c")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let policies = plan["documents"]["identity_policies"]
        .as_object()
        .expect("identity policies in the plan");
    assert!(!policies.is_empty());
    policies
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn parliament(dir: &Path, name: &str, policy: &Value) -> String {
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(policy).unwrap()).unwrap();
    // parliament reads the policy on stdin when stdin is not a terminal.
    let out = Command::new(crate::support::venv().join("bin/parliament"))
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .expect("parliament from the venv (.ci/install)");
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "parliament on {name}:\n{findings}\n{policy:#}"
    );
    findings
}

#[tokio::test(flavor = "multi_thread")]
async fn every_identity_policy_passes_parliament() {
    let stack = Stack::start(&[Service::Moto]);
    let vpc = stack.create_vpc("10.1.0.0/16").await;
    let mut linted = Vec::new();
    for config in [LAMBDA, FIREHOSE] {
        for (name, policy) in identity_policies(&stack, config, &vpc) {
            assert!(
                !policy.to_string().contains("\"Resource\":\"*\""),
                "{name}: no * resource"
            );
            // the read of the stack's secret (an `${env:...}` header, an access key) is linted too
            assert!(
                policy.to_string().contains("secretsmanager:GetSecretValue"),
                "{name}: the secret read is part of the policy: {policy}"
            );
            parliament(stack.dir(), &name, &policy);
            linted.push(name);
        }
    }
    assert_eq!(
        linted,
        ["flowlogs-lint-forwarder", "flowlogs-lint-firehose"]
    );
}

/// The member account's role of an organisation stack (issue 24, `templates/policies/
/// member-role-policy.json`) passes parliament and grants the flow-log actions only.
#[test]
fn the_member_role_template_passes_parliament_and_grants_flow_log_actions_only() {
    let root = crate::support::workspace_root().join("templates/policies");
    let text = std::fs::read_to_string(root.join("member-role-policy.json")).unwrap();
    let policy: Value = serde_json::from_str(&text).unwrap();
    let mut actions: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "ec2:CreateFlowLogs",
            "ec2:CreateTags",
            "ec2:DeleteFlowLogs",
            "ec2:DescribeFlowLogs",
            "ec2:DescribeVpcs",
            "logs:CreateLogDelivery",
            "logs:DeleteLogDelivery"
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    parliament(dir.path(), "member-role-policy", &policy);
    // The trust template reads as JSON once rendered (parliament misreads trust policies).
    let trust = std::fs::read_to_string(root.join("member-role-trust.json"))
        .unwrap()
        .replace("{{hub_account}}", "123456789012")
        .replace("{{external_id}}", "an-external-id");
    let trust: Value = serde_json::from_str(&trust).unwrap();
    assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");
}
