//! `docs/json-output.md` and the JSON the commands print cannot drift: each command's field table
//! in the doc lists exactly the fields of its outcome (every nesting level the doc describes), and
//! each outcome carries the envelope.

use std::collections::BTreeSet;

use serde_json::Value;

use super::applied::{AppliedStep, StepResult};
use super::backfill::{BackfillFailure, BackfillOutcome};
use super::fleet::TargetsOutcome;
use super::plan::{Documents, PlanReport};
use super::replay::{ReplayItem, ReplayOutcome};
use super::setup::SetupOutcome;
use super::status::{ResourceStatus, StatusReport};
use super::teardown::TeardownOutcome;
use super::verify::{Check, VerifyReport};
use super::{to_json, Outcome};
use crate::fleet::run::{FleetPlan, TargetPlan};
use crate::fleet::TargetFailure;
use crate::plan::{Action, Change, Kind, Resource};
use crate::planner::{Op, Plan};
use crate::resources::{bucket, flow_log};

const DOC: &str = include_str!("../../docs/json-output.md");

/// The field paths in the table of section "## `command`" (`steps[].kind` for an array's items).
fn documented(command: &str) -> BTreeSet<String> {
    let heading = format!("## `{command}`");
    let section: Vec<&str> = DOC
        .lines()
        .skip_while(|l| l.trim() != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect();
    assert!(
        !section.is_empty(),
        "docs/json-output.md has no section {heading}"
    );
    section
        .iter()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

/// The field paths of `value`, descending only where the doc describes the children (below that,
/// a value is open: its shape follows AWS or the operation).
fn fields(value: &Value, prefix: &str, doc: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let Value::Object(object) = value else {
        return;
    };
    for (key, child) in object {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        out.insert(path.clone());
        let has = |p: &str| doc.iter().any(|d| d.starts_with(p));
        match child {
            Value::Array(items) if has(&format!("{path}[].")) => {
                for item in items {
                    fields(item, &format!("{path}[]"), doc, out);
                }
            }
            Value::Object(_) if has(&format!("{path}.")) => fields(child, &path, doc, out),
            _ => {}
        }
    }
}

fn assert_documented<T: Outcome>(outcome: &T) {
    let doc = documented(T::COMMAND);
    let json = to_json(outcome).unwrap();
    assert_eq!(json["command"], T::COMMAND);
    assert_eq!(json["stack"], "main");
    assert!(json["ok"].is_boolean());
    let mut got = BTreeSet::new();
    fields(&json, "", &doc, &mut got);
    let undocumented: Vec<_> = got.difference(&doc).collect();
    let missing: Vec<_> = doc.difference(&got).collect();
    assert!(
        undocumented.is_empty() && missing.is_empty(),
        "docs/json-output.md, section `{}`: fields in the JSON but not in the doc: {undocumented:?}; \
         in the doc but not in the JSON: {missing:?}",
        T::COMMAND
    );
}

/// A plan with one of everything: a create with a change, a replace with its retire, a conflict,
/// a resource in sync and a note.
fn full_plan() -> Plan {
    let bucket = "main-flowlogs-123456789012-eu-west-1";
    let mut plan = Plan::default();
    plan.step(
        Kind::Bucket,
        bucket,
        Action::Create,
        vec![Change::new("retention_days", "", 90)],
        vec![Op::Bucket(bucket::Op::CreateBucket {
            bucket: bucket.into(),
            region: "eu-west-1".into(),
        })],
    );
    plan.replace(
        Kind::FlowLog,
        "fl-0abc",
        vec![Change::new("traffic_type", "REJECT", "ALL")],
        vec![Op::FlowLog(flow_log::Op::DeleteFlowLog {
            id: "fl-0abc".into(),
        })],
        vec![],
    );
    plan.conflict(
        Kind::Role,
        "flowlogs-main-forwarder",
        "exists without our tag",
        "delete it or pick another stack name",
    );
    plan.in_sync(Kind::Function, "flowlogs-main-forwarder");
    plan.note(Kind::FlowLog, "fl-0def", "not ours: left alone");
    plan
}

fn applied() -> Vec<AppliedStep> {
    vec![
        AppliedStep {
            kind: Kind::Bucket,
            name: "b".into(),
            action: Action::Create,
            result: StepResult::Ok,
            message: None,
        },
        AppliedStep {
            kind: Kind::Role,
            name: "r".into(),
            action: Action::Create,
            result: StepResult::Error,
            message: Some("AccessDenied".into()),
        },
    ]
}

/// An estimate with a volume from the bucket and every line of lambda mode.
fn estimate() -> crate::cost::Estimate {
    let listing = crate::cost::volume::Listing {
        objects: 3,
        bytes: 6_000,
        age_days: 1.0,
        sample: None,
    };
    crate::cost::estimate(
        &crate::cost::Settings {
            region: "eu-west-1".into(),
            mode: crate::cost::Mode::Lambda {
                memory_mb: 512,
                arm64: true,
            },
            retention_days: 90,
        },
        crate::cost::volume::from_listing(&listing, false),
        vec![],
    )
}

/// A fleet's plan with one target planned and one failed.
fn fleet_plan() -> FleetPlan {
    let mut plan = crate::plan::Plan::default();
    plan.step(
        Kind::FlowLog,
        "vpc-0abc",
        Action::Create,
        vec![],
        vec![flow_log::Op::DeleteFlowLog { id: "fl-1".into() }],
    );
    plan.in_sync(Kind::FlowLog, "vpc-0def (fl-2)");
    plan.note(Kind::FlowLog, "fl-3", "not ours: left alone");
    FleetPlan {
        total: 2,
        targets: vec![TargetPlan {
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            role: Some("arn:aws:iam::111111111111:role/OrganizationAccountAccessRole".into()),
            plan,
        }],
        failed: vec![target_failure()],
    }
}

fn target_failure() -> TargetFailure {
    TargetFailure {
        account: "222222222222".into(),
        region: "eu-west-1".into(),
        role: Some("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole".into()),
        action: "sts:AssumeRole".into(),
        error: "AccessDenied".into(),
        fix: "let the caller assume the role".into(),
    }
}

fn targets_outcome() -> TargetsOutcome {
    TargetsOutcome {
        plan: fleet_plan(),
        applied: 1,
        failed: vec![target_failure()],
    }
}

fn verify_report() -> VerifyReport {
    VerifyReport {
        stack: "main".into(),
        ok: false,
        checks: vec![Check {
            name: "test delivery".into(),
            ok: false,
            detail: "the collector answered 401".into(),
            fix: "check the header value".into(),
        }],
        canary: None,
    }
}

#[test]
fn plan_json_has_the_documented_fields() {
    assert_documented(&PlanReport {
        stack: "main".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        changes: true,
        plan: full_plan(),
        documents: Documents::default(),
        estimate: Some(estimate()),
        targets: Some(fleet_plan()),
    });
}

#[test]
fn setup_json_has_the_documented_fields() {
    let plan = full_plan();
    assert_documented(&SetupOutcome {
        stack: "main".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        conflicts: plan.conflicts.clone(),
        plan,
        cancelled: false,
        applied: applied(),
        verify: Some(verify_report()),
        targets: Some(targets_outcome()),
    });
}

#[test]
fn verify_json_has_the_documented_fields() {
    assert_documented(&verify_report());
}

#[test]
fn status_json_has_the_documented_fields() {
    assert_documented(&StatusReport {
        stack: "main".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        in_sync: false,
        resources: vec![ResourceStatus {
            kind: Kind::Bucket,
            name: "b".into(),
            exists: true,
            ours: true,
            matches: false,
            detail: "differs (retention_days): setup will update it".into(),
        }],
        failures_waiting: Some(2),
        estimate: estimate(),
    });
}

#[test]
fn teardown_json_has_the_documented_fields() {
    assert_documented(&TeardownOutcome {
        stack: "main".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        plan: full_plan(),
        cancelled: false,
        applied: applied(),
        deleted: vec![Resource {
            kind: Kind::Bucket,
            name: "b".into(),
        }],
        targets: Some(targets_outcome()),
    });
}

fn replay_outcome(still_failing: usize) -> ReplayOutcome {
    ReplayOutcome {
        stack: "main".into(),
        dry_run: false,
        location: "s3://b/aws/lambda/async/flowlogs-main-forwarder/".into(),
        waiting: 1,
        replayed: 1 - still_failing,
        still_failing,
        records: 7,
        items: vec![ReplayItem {
            key: "aws/lambda/async/flowlogs-main-forwarder/2026/11/29/2026-11-29T12.00.00-u".into(),
            objects: vec!["s3://b/AWSLogs/x.log.gz".into()],
            reason: "RetriesExhausted after 3 attempts: ExportFailed: 503".into(),
            result: "failed".into(),
            records: 0,
            error: Some("the forwarder failed: Unhandled".into()),
        }],
    }
}

fn backfill_outcome(failed: u64) -> BackfillOutcome {
    BackfillOutcome {
        stack: "main".into(),
        since: "2026-11-20T00:00:00Z".into(),
        until: "2026-11-21T00:00:00Z".into(),
        dry_run: false,
        cancelled: false,
        folders: 1,
        objects: 2,
        bytes: 2048,
        estimate: crate::redrive::estimate(2, 2048, 512, false),
        sent: 2 - failed,
        failed,
        records: 14,
        forwarded: 14,
        filtered: 0,
        seconds: 1.5,
        failures: vec![BackfillFailure {
            key: "AWSLogs/x.log.gz".into(),
            error: "the forwarder failed: Unhandled".into(),
        }],
    }
}

#[test]
fn replay_json_has_the_documented_fields() {
    assert_documented(&replay_outcome(1));
}

#[test]
fn backfill_json_has_the_documented_fields() {
    assert_documented(&backfill_outcome(1));
}

#[test]
fn ok_follows_each_commands_rule() {
    assert!(replay_outcome(0).ok() && !replay_outcome(1).ok());
    assert!(backfill_outcome(0).ok() && !backfill_outcome(1).ok());
    let setup = |applied: Vec<AppliedStep>, verify: Option<VerifyReport>| SetupOutcome {
        stack: "main".into(),
        account: String::new(),
        region: String::new(),
        plan: Plan::default(),
        cancelled: false,
        applied,
        conflicts: vec![],
        verify,
        targets: None,
    };
    assert!(setup(vec![], None).ok(), "nothing to do, verify skipped");
    assert!(!setup(applied(), None).ok(), "a step failed");
    assert!(!setup(vec![], Some(verify_report())).ok(), "verify failed");
    let mut one_target_failed = setup(vec![], None);
    one_target_failed.targets = Some(targets_outcome());
    assert!(!one_target_failed.ok(), "a target failed");
    let plan = |plan: Plan| PlanReport {
        stack: "main".into(),
        account: String::new(),
        region: String::new(),
        changes: plan.has_changes(),
        plan,
        documents: Documents::default(),
        estimate: None,
        targets: None,
    };
    assert!(!plan(full_plan()).ok(), "a conflict");
    assert!(plan(Plan::default()).ok());
    let mut unread = plan(Plan::default());
    unread.targets = Some(fleet_plan());
    assert!(!unread.ok(), "a target could not be read");
}
