//! `flowlogs verify`: the pipeline proved, not merely created. Each check is a line with ✓ or ✗ and,
//! for ✗, what to do; the test delivery sends a canary object through the live forwarder.

mod canary;
mod delivery;
mod firehose;

use std::fmt;

use anyhow::Result;
use flowlogs_forwarder::report::Report;
use serde::Serialize;

use crate::cli::{CodeArgs, Global, Output, VerifyArgs};
use crate::context::{code_source, Context};
use crate::desired::Desired;
use crate::observe::Observed;
use crate::policy;
use crate::resources::flow_log::ObservedFlowLog;
use crate::resources::function;
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
    if flow_log.status != "ACTIVE" {
        return Check::fail(
            name,
            format!("status {}", flow_log.status),
            "run `flowlogs setup` to recreate it",
        );
    }
    if flow_log.deliver_logs_status == "SUCCESS" || flow_log.deliver_logs_status.is_empty() {
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

/// The checks that need no write: flow logs, bucket policy, notification, permission, function state.
pub fn wiring_checks(desired: &Desired, observed: &Observed) -> Vec<Check> {
    let names = &desired.names;
    let mut checks = Vec::new();
    for d in &desired.flow_logs {
        let found = observed
            .flow_logs
            .iter()
            .filter(|f| names.is_ours(&f.tags) && f.resource_id == d.resource_id)
            .find(|f| crate::resources::flow_log::differences(d, f).is_empty());
        checks.push(match found {
            Some(f) => flow_log_check(f),
            None => Check::fail(
                format!("flow log {}", d.resource_id),
                "no flow log of ours matches the config",
                "run `flowlogs setup`",
            ),
        });
    }
    let policy = observed.bucket.state().and_then(|s| s.policy.as_ref());
    let missing = policy::differing_statements(policy, &desired.bucket.policy_statements);
    checks.push(if observed.bucket.state().is_none() {
        Check::fail(
            format!("bucket {}", names.bucket),
            "missing",
            "run `flowlogs setup`",
        )
    } else if missing.is_empty() {
        Check::pass(
            format!("bucket policy of {}", names.bucket),
            "delivery statements in place",
        )
    } else {
        Check::fail(
            format!("bucket policy of {}", names.bucket),
            format!("statement(s) missing or changed: {}", missing.join(", ")),
            "run `flowlogs setup` to put them back (other statements are kept)",
        )
    });
    let Some(forwarder) = &desired.forwarder else {
        return checks;
    };
    let n = &forwarder.notification;
    let entry = observed.notifications().iter().find(|e| e.id == n.id);
    checks.push(match entry {
        Some(e) if e.target == n.function_arn && e.prefix == n.prefix && e.suffix == n.suffix => {
            Check::pass(
                format!("notification {}", n.id),
                format!("{}*{} -> {}", n.prefix, n.suffix, names.function),
            )
        }
        Some(e) => Check::fail(
            format!("notification {}", n.id),
            format!(
                "points at {} with filter {}*{}",
                e.target, e.prefix, e.suffix
            ),
            "run `flowlogs setup` to restore our entry (other entries are kept)",
        ),
        None => Check::fail(
            format!("notification {}", n.id),
            format!(
                "bucket {} has no entry {}: new flow-log objects would not reach the forwarder",
                names.bucket, n.id
            ),
            "run `flowlogs setup` to add it back (other entries are kept)",
        ),
    });
    let Some(f) = &observed.function else {
        checks.push(Check::fail(
            format!("function {}", names.function),
            "missing",
            "run `flowlogs setup`",
        ));
        return checks;
    };
    checks.push(
        match function::permission_matches(&forwarder.permission, f.policy.as_ref()) {
            Some(true) => Check::pass(
                format!("permission {}", forwarder.permission.statement_id),
                format!(
                    "S3 may invoke {} from {} in {}",
                    names.function, names.bucket, names.account
                ),
            ),
            _ => Check::fail(
                format!("permission {}", forwarder.permission.statement_id),
                format!(
                    "the function's resource policy does not let S3 invoke it from bucket {}",
                    names.bucket
                ),
                "run `flowlogs setup` to add the permission",
            ),
        },
    );
    let ready = f.state == "Active"
        && (f.last_update_status.is_empty() || f.last_update_status == "Successful");
    checks.push(if ready {
        Check::pass(
            format!("function {}", names.function),
            "Active, last update Successful",
        )
    } else {
        Check::fail(
            format!("function {}", names.function),
            format!("state {}, last update {}", f.state, f.last_update_status),
            "wait a minute and verify again; if it stays so, run `flowlogs setup`",
        )
    });
    checks
}

async fn verify(
    ctx: &Context,
    desired: &Desired,
    progress: &Progress,
    wait: Option<std::time::Duration>,
) -> Result<VerifyReport> {
    let observed = ctx.observe().await?;
    let mut checks = wiring_checks(desired, &observed);
    let mut canary = None;
    if desired.forwarder.is_some() {
        let wiring_ok = checks.iter().all(|c| c.ok);
        let (check, report) = delivery::test_delivery(ctx, desired, progress).await;
        if !wiring_ok && check.ok {
            progress.detail(
                "the test delivery worked, but real flow-log objects need the wiring above",
            );
        }
        checks.push(check);
        canary = report;
        if let Some(wait) = wait {
            checks.push(delivery::wait_for_real_object(ctx, desired, progress, wait).await);
        }
    }
    if let Some(fh) = &desired.firehose {
        checks.extend(firehose::checks(desired, fh, &observed));
        checks.push(firehose::test_delivery(ctx, desired, fh, &observed, progress, wait).await);
    }
    Ok(VerifyReport {
        stack: ctx.names.stack.clone(),
        ok: checks.iter().all(|c| c.ok),
        checks,
        canary,
    })
}

pub async fn run(global: &Global, args: &VerifyArgs) -> Result<u8> {
    let ctx = Context::load(global).await?;
    let desired = ctx.desired(&code_source(&CodeArgs::default()))?;
    let progress = Progress::stderr();
    let report = verify(&ctx, &desired, &progress, args.wait).await?;
    crate::commands::print(&report, args.output)?;
    Ok(if report.ok { 0 } else { 1 })
}

/// The verify that ends `setup`.
pub async fn after_setup(ctx: &Context, desired: &Desired, progress: &Progress) -> Result<u8> {
    progress.line("Verifying the pipeline:");
    let report = verify(ctx, desired, progress, None).await?;
    crate::commands::print(&report, Output::Text)?;
    if !report.ok {
        anyhow::bail!("setup made the resources, but verify failed: see the ✗ lines above");
    }
    Ok(0)
}

#[cfg(test)]
mod tests;
