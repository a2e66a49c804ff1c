//! `--output json` of every command, parsed back: one stack taken through plan → setup → plan →
//! status → verify → teardown, each printing exactly one JSON document on stdout with the fields
//! `docs/json-output.md` promises, filled with what really happened. No secret in any of them.

use std::process::Output;

use crate::support::config::StackConfig;
use crate::support::{assert_exit, printed, Service, Stack, ACCOUNT_ID, REGION};
use serde_json::Value;

const STACK: &str = "jout";
const BUCKET: &str = "jout-flowlogs-123456789012-us-east-1";
const FUNCTION: &str = "flowlogs-jout-forwarder";
/// The OTLP header's value and the Firehose access key: recognisable, so a leak is found.
const HEADER_SECRET: &str = "hdr-SECRET-4f1d9c";
const ACCESS_KEY_SECRET: &str = "fh-SECRET-8a2e7b";

fn lambda_config(vpc: &str, endpoint: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, endpoint)
        .format("all")
        .header("x-api-key", "${env:JOUT_KEY}")
        .env("JOUT_KEY", HEADER_SECRET)
}

fn firehose_config(vpc: &str) -> StackConfig {
    StackConfig::firehose(STACK, vpc, "http://127.0.0.1:9/firehose", "JOUT_ACCESS_KEY")
        .env("JOUT_ACCESS_KEY", ACCESS_KEY_SECRET)
}

/// stdout as exactly one JSON document (trailing text fails the parse), with the envelope.
fn document(out: &Output, command: &str) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    for secret in [HEADER_SECRET, ACCESS_KEY_SECRET] {
        assert!(
            !printed(out).contains(secret),
            "{command} printed a secret:\n{}",
            printed(out)
        );
    }
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{command}: stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(doc["command"], command, "{doc:#}");
    assert_eq!(doc["stack"], STACK, "{doc:#}");
    assert!(doc["ok"].is_boolean(), "{doc:#}");
    doc
}

fn names<'a>(items: &'a Value, kind: &str) -> Vec<&'a str> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .filter(|i| i["kind"] == kind)
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_prints_one_documented_json_document_through_a_lifecycle() {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let vpc = stack.create_vpc("10.7.0.0/16").await;
    let cfg = lambda_config(&vpc, &stack.otlp_endpoint).write(stack.dir());

    // plan: changes pending, exit 2; the header is in the plan, redacted.
    let plan = cfg.run(&stack, &["plan", "--detailed-exitcode", "--output", "json"]);
    assert_exit(&plan, 2);
    let doc = document(&plan, "plan");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["changes"], true);
    assert_eq!(doc["account"], ACCOUNT_ID);
    assert_eq!(doc["region"], REGION);
    assert_eq!(names(&doc["steps"], "bucket"), [BUCKET]);
    assert_eq!(names(&doc["steps"], "function"), [FUNCTION]);
    assert!(doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["action"] == "create"));
    assert_eq!(doc["conflicts"], Value::Array(vec![]));
    assert!(
        doc.to_string().contains("<redacted>"),
        "the header is planned, redacted: {doc:#}"
    );
    // No bucket yet, so no objects to measure: the estimate says how to get one, no figures.
    assert_eq!(doc["estimate"]["usd_per_month"], Value::Null, "{doc:#}");
    assert!(
        doc["estimate"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("--records-per-day")),
        "{doc:#}"
    );

    // setup: every step applied, then verify passed; progress went to stderr.
    let setup = cfg.run(&stack, &["setup", "--yes", "--output", "json"]);
    assert_exit(&setup, 0);
    let doc = document(&setup, "setup");
    assert_eq!(doc["ok"], true, "{doc:#}");
    assert_eq!(doc["cancelled"], false);
    assert_eq!(doc["conflicts"], Value::Array(vec![]));
    let applied = doc["applied"].as_array().unwrap();
    assert_eq!(
        applied.len(),
        doc["plan"]["steps"].as_array().unwrap().len(),
        "one result per planned step"
    );
    assert!(applied.iter().all(|s| s["result"] == "ok"), "{doc:#}");
    assert_eq!(names(&doc["applied"], "bucket"), [BUCKET]);
    assert_eq!(names(&doc["applied"], "function"), [FUNCTION]);
    assert_eq!(doc["verify"]["ok"], true, "{doc:#}");
    let checks = doc["verify"]["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "test delivery" && c["ok"] == true),
        "{doc:#}"
    );
    let stderr = String::from_utf8_lossy(&setup.stderr);
    assert!(
        stderr.contains(&format!("lambda function {FUNCTION}")),
        "progress on stderr: {stderr}"
    );

    // plan again: nothing to do, exit 0.
    let plan = cfg.run(&stack, &["plan", "--detailed-exitcode", "--output", "json"]);
    assert_exit(&plan, 0);
    let doc = document(&plan, "plan");
    assert_eq!(doc["changes"], false);
    assert_eq!(doc["steps"], Value::Array(vec![]));
    assert_eq!(names(&doc["in_sync"], "bucket"), [BUCKET]);

    // status: every resource exists, is ours and matches.
    let status = cfg.run(&stack, &["status", "--output", "json"]);
    assert_exit(&status, 0);
    let doc = document(&status, "status");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["in_sync"], true);
    let resources = doc["resources"].as_array().unwrap();
    assert!(resources
        .iter()
        .all(|r| r["exists"] == true && r["ours"] == true && r["matches"] == true));
    assert_eq!(names(&doc["resources"], "function"), [FUNCTION]);
    assert_eq!(names(&doc["resources"], "bucket"), [BUCKET]);

    // verify: every check passed, the canary went through.
    let verify = cfg.run(&stack, &["verify", "--output", "json"]);
    assert_exit(&verify, 0);
    let doc = document(&verify, "verify");
    assert_eq!(doc["ok"], true, "{doc:#}");
    assert!(doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["ok"] == true));
    assert!(doc["canary"].is_object(), "{doc:#}");

    // teardown: the function and the rest deleted, the bucket kept with its logs.
    let teardown = cfg.run(&stack, &["teardown", "--yes", "--output", "json"]);
    assert_exit(&teardown, 0);
    let doc = document(&teardown, "teardown");
    assert_eq!(doc["ok"], true, "{doc:#}");
    assert_eq!(names(&doc["deleted"], "function"), [FUNCTION]);
    assert!(names(&doc["deleted"], "bucket").is_empty(), "{doc:#}");
    assert_eq!(names(&doc["plan"]["notes"], "bucket"), [BUCKET]);
    assert_eq!(
        doc["deleted"].as_array().unwrap().len(),
        doc["applied"].as_array().unwrap().len()
    );

    // teardown again: nothing left to delete, still one document.
    let again = cfg.run(&stack, &["teardown", "--yes", "--output", "json"]);
    assert_exit(&again, 0);
    let doc = document(&again, "teardown");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["deleted"], Value::Array(vec![]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_firehose_access_key_never_reaches_the_json_plan() {
    let stack = Stack::start(&[Service::Moto]);
    let vpc = stack.create_vpc("10.8.0.0/16").await;
    let cfg = firehose_config(&vpc).write(stack.dir());
    let plan = cfg.run(&stack, &["plan", "--output", "json"]);
    assert_exit(&plan, 0);
    let doc = document(&plan, "plan");
    assert_eq!(doc["changes"], true);
    assert!(
        !names(&doc["steps"], "delivery-stream").is_empty(),
        "{doc:#}"
    );
    assert!(
        doc.to_string().contains("<redacted>"),
        "the access key is planned, redacted: {doc:#}"
    );
}
