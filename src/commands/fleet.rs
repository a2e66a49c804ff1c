//! The commands' side of a fleet (`targets:`): each target read and planned (setup's or
//! teardown's plan), the plan shown grouped by account and region, and applied after the hub's.
//! Without a fleet every function here is a no-op and the commands are as they were.

use anyhow::Result;
use serde::Serialize;

use crate::context::Context;
use crate::fleet::resolve::Fleet;
use crate::fleet::run::{self, FleetPlan, Read, TargetPlan};
use crate::fleet::TargetFailure;
use crate::ui::Progress;

/// A fleet read and planned, its connections kept for apply.
pub struct FleetRun<'a> {
    pub fleet: &'a Fleet,
    pub reads: Vec<Read>,
    pub plan: FleetPlan,
}

/// What the fleet's apply did: steps applied, and the targets that failed (those that could not
/// be read come first).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetApplied {
    pub applied: usize,
    pub failed: Vec<TargetFailure>,
}

/// The fleet's part of setup's and teardown's outcome.
#[derive(Debug, Serialize)]
pub struct TargetsOutcome {
    pub plan: FleetPlan,
    /// Flow-log steps applied across the targets.
    pub applied: usize,
    /// Targets that could not be read or changed (the others were done); a re-run converges.
    pub failed: Vec<TargetFailure>,
}

impl TargetsOutcome {
    /// Planned, nothing applied yet (the targets that could not be read have failed already).
    pub fn planned(run: &FleetRun<'_>) -> TargetsOutcome {
        TargetsOutcome {
            plan: run.plan.clone(),
            applied: 0,
            failed: run.plan.failed.clone(),
        }
    }

    pub fn record(&mut self, done: FleetApplied) {
        self.applied = done.applied;
        self.failed = done.failed;
    }

    /// The failures, one line each.
    pub fn failure_lines(&self) -> Vec<String> {
        self.failed.iter().map(|f| f.to_string()).collect()
    }
}

/// Reads every target and plans it: setup's plan, or with `teardown` every flow log of ours.
pub async fn plan<'a>(
    ctx: &'a Context,
    progress: &Progress,
    teardown: bool,
) -> Result<Option<FleetRun<'a>>> {
    let Some(fleet) = ctx.fleet.as_ref() else {
        return Ok(None);
    };
    progress.line(&format!(
        "Reading {} target(s), {} at a time{}",
        fleet.targets.len(),
        fleet.concurrency,
        fleet
            .role
            .as_deref()
            .map(|r| format!(", through role {r}"))
            .unwrap_or_default()
    ));
    let runner = run::Fleet {
        connector: &fleet.connector,
        targets: &fleet.targets,
        concurrency: fleet.concurrency,
        progress,
    };
    let selector = if teardown {
        None
    } else {
        ctx.config.flow_log.selector.as_ref()
    };
    let (reads, failed) = runner.read(&ctx.names, selector).await;
    let targets = reads
        .iter()
        .map(|r| TargetPlan {
            account: r.clients.target.account.clone(),
            region: r.clients.target.region.clone(),
            role: r.clients.role_arn.clone(),
            plan: if teardown {
                run::plan_target_teardown(&ctx.names, &r.observed)
            } else {
                run::plan_target(&ctx.names, &ctx.config, &r.observed)
            },
        })
        .collect();
    let plan = FleetPlan {
        total: fleet.targets.len(),
        targets,
        failed,
    };
    Ok(Some(FleetRun { fleet, reads, plan }))
}

/// Carries out the fleet's plan; the targets that could not be read are failures too.
pub async fn apply(run: &FleetRun<'_>, progress: &Progress) -> FleetApplied {
    let runner = run::Fleet {
        connector: &run.fleet.connector,
        targets: &run.fleet.targets,
        concurrency: run.fleet.concurrency,
        progress,
    };
    let work: Vec<_> = run
        .reads
        .iter()
        .zip(&run.plan.targets)
        .map(|(read, target)| (read, &target.plan))
        .collect();
    let (applied, failed) = runner.apply(&work).await;
    FleetApplied {
        applied,
        failed: run.plan.failed.iter().cloned().chain(failed).collect(),
    }
}
