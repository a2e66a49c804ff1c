//! `flowlogs verify`: the pipeline proved, not merely created. First the plan, the same one setup
//! would run: every conflict and every pending step is a failed check in the plan's own words.
//! Then the live checks the plan cannot make (flow-log delivery status, the function's state, the
//! stream's status) and the test delivery the way AWS delivers: in lambda mode a canary object that
//! S3 triggers the function for, proved by the forwarder's own report in its log group (`delivery`,
//! `canary`); in firehose mode a canary record put into the stream (`firehose`). Each check is a line with ✓ or ✗ and, for ✗, what to do.

mod athena;
mod canary;
mod delivery;
mod firehose;
mod fleet;

use std::fmt;

use anyhow::Result;
use flowlogs_forwarder::report::Report;
use serde::Serialize;

use crate::aws::states::{self, DeliveryStatus, FlowLogStatus};
use crate::cli::{CodeArgs, Global, VerifyArgs};
use crate::context::{code_source, Context};
use crate::desired::Desired;
use crate::plan::Action;
use crate::planner::{self, Observed};
use crate::planner::{Plan, Step};
use crate::resources::flow_log::ObservedFlowLog;
use crate::ui::Progress;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// What to do when it failed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Check {
    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: String::new(),
        }
    }

    fn fail(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: fix.into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct VerifyReport {
    pub stack: String,
    pub ok: bool,
    pub checks: Vec<Check>,
    /// What the forwarder reported for the canary.
    pub canary: Option<Report>,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(
                f,
                "{} {}: {}",
                if c.ok { "✓" } else { "✗" },
                c.name,
                c.detail
            )?;
            if !c.ok && !c.fix.is_empty() {
                writeln!(f, "    fix: {}", c.fix)?;
            }
        }
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        if failed == 0 {
            write!(
                f,
                "Verified: the pipeline of stack {} works end to end.",
                self.stack
            )
        } else {
            write!(f, "{failed} check(s) failed.")
        }
    }
}

/// What a flow log's delivery status means, and what usually fixes it.
pub fn flow_log_check(flow_log: &ObservedFlowLog) -> Check {
    let name = format!("flow log {} ({})", flow_log.resource_id, flow_log.id);
    if flow_log.status != FlowLogStatus::Active {
        return Check::fail(
            name,
            format!("status {}", flow_log.status),
            "run `flowlogs setup` to recreate it",
        );
    }
    if matches!(
        flow_log.deliver_logs_status,
        DeliveryStatus::Success | DeliveryStatus::Unreported
    ) {
        return Check::pass(name, "ACTIVE, delivering");
    }
    let message = flow_log.deliver_logs_error.clone().unwrap_or_default();
    let lower = message.to_ascii_lowercase();
    let fix = if lower.contains("kms") || lower.contains("key") {
        "the bucket's KMS key policy must allow delivery.logs.amazonaws.com to use the key (kms:GenerateDataKey*, kms:Decrypt)"
    } else if lower.contains("rate") || lower.contains("throttl") {
        "AWS is throttling delivery: it recovers by itself; if it persists, lower the number of flow logs or raise the aggregation interval"
    } else if lower.contains("access")
        || lower.contains("permission")
        || lower.contains("policy")
        || lower.contains("denied")
    {
        "the bucket policy must allow delivery.logs.amazonaws.com to write under AWSLogs/: run `flowlogs setup` to restore our statements"
    } else if lower.contains("does not exist") || lower.contains("not found") {
        "the destination is gone: run `flowlogs setup` to recreate the bucket or stream"
    } else {
        "see the message; `flowlogs setup` restores the destination and its policy"
    };
    Check::fail(
        name,
        format!(
            "DeliverLogsStatus {}: {message}",
            flow_log.deliver_logs_status
        ),
        fix,
    )
}

/// The plan as checks, in creation order: a conflict or a pending step fails with the plan's own
/// words (the resource as the plan names it, what differs, the fix); a resource in sync passes.
pub fn plan_checks(plan: &Plan) -> Vec<Check> {
    let mut checks: Vec<(usize, Check)> = Vec::new();
    for c in &plan.conflicts {
        checks.push((
            planner::position(c.kind),
            Check::fail(format!("{} {}", c.kind.label(), c.name), &c.problem, &c.fix),
        ));
    }
    for step in &plan.steps {
        checks.push((planner::position(step.kind), pending(step)));
    }
    for r in &plan.in_sync {
        checks.push((
            planner::position(r.kind),
            Check::pass(
                format!("{} {}", r.kind.label(), r.name),
                "matches the config",
            ),
        ));
    }
    checks.sort_by_key(|(position, _)| *position);
    checks.into_iter().map(|(_, check)| check).collect()
}

/// A step setup would still take, as a failed check.
fn pending(step: &Step) -> Check {
    let state = match step.action {
        Action::Create => "missing",
        Action::Update => "differs from the config",
        Action::Replace => "differs from the config in a way that needs a replace",
        Action::Delete => "not in the config",
    };
    let changes: Vec<String> = step
        .changes
        .iter()
        .map(|c| {
            if c.from.is_empty() {
                format!("{}: {}", c.field, c.to)
            } else {
                format!("{}: {} -> {}", c.field, c.from, c.to)
            }
        })
        .collect();
    let detail = if changes.is_empty() {
        state.to_string()
    } else {
        format!("{state} ({})", changes.join("; "))
    };
    Check::fail(
        format!("{} {}", step.kind.label(), step.name),
        detail,
        format!("run `flowlogs setup` to {} it", step.action.verb()),
    )
}

/// What the plan cannot see: each wanted flow log's delivery status, the function's state, the
/// stream's status.
pub fn live_checks(desired: &Desired, observed: &Observed) -> Vec<Check> {
    let names = &desired.names;
    let mut checks = Vec::new();
    for d in &desired.flow_logs {
        let found = observed
            .flow_logs
            .iter()
            .filter(|f| names.is_ours(&f.tags) && f.resource_id == d.resource_id)
            .find(|f| crate::resources::flow_log::differences(d, f).is_empty());
        if let Some(f) = found {
            checks.push(flow_log_check(f));
        }
    }
    if desired.forwarder.is_some() {
        if let Some(f) = observed
            .function
            .as_ref()
            .filter(|f| names.is_ours(&f.tags))
        {
            let shown = |s: Option<&str>| s.unwrap_or("(none)").to_string();
            checks.push(
                if states::function_ready(f.state.as_ref(), f.last_update_status.as_ref()) {
                    Check::pass(
                        format!("function {}", names.function),
                        "Active, last update Successful",
                    )
                } else {
                    Check::fail(
                        format!("function {}", names.function),
                        format!(
                            "state {}, last update {}",
                            shown(f.state.as_ref().map(|s| s.as_str())),
                            shown(f.last_update_status.as_ref().map(|s| s.as_str()))
                        ),
                        "wait a minute and verify again; if it stays so, run `flowlogs setup`",
                    )
                },
            );
        }
    }
    if desired.firehose.is_some() {
        checks.extend(firehose::stream_check(desired, observed));
    }
    checks
}

async fn verify(
    ctx: &Context,
    desired: &Desired,
    progress: &Progress,
    wait: Option<std::time::Duration>,
    athena_query: bool,
) -> Result<VerifyReport> {
    let observed = ctx.observe().await?;
    let resolved = planner::resolve(desired, &observed);
    let plan = planner::plan_setup(&resolved);
    let mut checks = plan_checks(&plan);
    checks.extend(live_checks(desired, &observed));
    if let Some(read) = super::fleet::plan(ctx, progress, true).await? {
        let targets: Vec<_> = read
            .reads
            .iter()
            .map(|r| (r.clients.target.clone(), r.observed.flow_logs.clone()))
            .collect();
        checks.push(fleet::summary(desired, &targets, &read.plan.failed));
    }
    let canary_desired = match &ctx.fleet {
        Some(f) => fleet::canary_desired(desired, &ctx.config, &f.targets),
        None => desired.clone(),
    };
    let desired = &canary_desired;
    let mut canary = None;
    if let Some(forwarder) = &desired.forwarder {
        // What is there before the canary: `--wait` waits for an object delivered after it.
        let before = match wait {
            Some(_) => Some(
                delivery::list_keys(ctx, &desired.names.bucket, &desired.names.log_key_prefix)
                    .await,
            ),
            None => None,
        };
        let (check, report) =
            delivery::test_delivery(ctx, desired, forwarder, &plan, progress).await;
        checks.push(check);
        canary = report;
        if let Some((check, _)) =
            delivery::test_tgw_delivery(ctx, desired, forwarder, &plan, progress).await
        {
            checks.push(check);
        }
        if let (Some(wait), Some(before)) = (wait, before) {
            checks.push(delivery::wait_for_real_object(ctx, desired, progress, wait, before).await);
        }
    }
    if let Some(fh) = &desired.firehose {
        checks.push(firehose::test_delivery(ctx, desired, fh, &observed, progress, wait).await);
    }
    match &resolved.desired.athena {
        Some(a) => checks.extend(athena::checks(ctx, a, athena_query).await),
        None if athena_query => checks.push(athena::not_configured()),
        None => {}
    }
    Ok(VerifyReport {
        stack: ctx.names.stack.clone(),
        ok: checks.iter().all(|c| c.ok),
        checks,
        canary,
    })
}

pub async fn run(global: &Global, args: &VerifyArgs) -> Result<u8> {
    let ctx = Context::load(global).await?.with_fleet().await?;
    let desired = ctx.desired(&code_source(&CodeArgs::default())?)?;
    let progress = Progress::stderr();
    let report = verify(&ctx, &desired, &progress, args.wait, args.athena).await?;
    crate::commands::print(&report, args.output)?;
    Ok(if report.ok { 0 } else { 1 })
}

/// The verify that ends `setup`: its report, for setup's outcome to carry and print.
pub async fn after_setup(
    ctx: &Context,
    desired: &Desired,
    progress: &Progress,
) -> Result<VerifyReport> {
    progress.line("Verifying the pipeline:");
    verify(ctx, desired, progress, None, false).await
}

#[cfg(test)]
mod tests;
