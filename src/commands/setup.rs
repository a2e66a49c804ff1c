//! `flowlogs setup`: converge AWS to the config, then verify the pipeline. People see the plan,
//! the progress and the verify as they happen; `--output json` keeps stdout for one document at
//! the end (the plan, each step's result, the conflicts, the verify report) and says the rest on
//! stderr.

use std::fmt;

use anyhow::{bail, Result};
use serde::Serialize;

use super::applied::{applied_steps, AppliedStep, StepResult};
use super::fleet::TargetsOutcome;
use super::verify::VerifyReport;
use super::Say;
use crate::cli::{Global, Output, SetupArgs};
use crate::config::Architecture;
use crate::context::{code_source, Context};
use crate::plan::Conflict;
use crate::planner::apply::{Applier, Live};
use crate::planner::{Op, Plan};
use crate::resources::function::Op as FunctionOp;
use crate::resources::{Apply, Made};
use crate::ui::Progress;

/// What setup planned, did and proved.
#[derive(Debug, Serialize)]
pub struct SetupOutcome {
    pub stack: String,
    pub account: String,
    pub region: String,
    /// The plan setup applied (or would have, when it stopped before).
    pub plan: Plan,
    /// The user declined the confirmation: nothing was changed.
    pub cancelled: bool,
    /// Each step of the plan and how it ended.
    pub applied: Vec<AppliedStep>,
    /// Resources flowlogs will not touch; any of them means nothing was changed.
    pub conflicts: Vec<Conflict>,
    /// The verify that followed, unless `--no-verify` or setup stopped before it.
    pub verify: Option<VerifyReport>,
    /// With `targets:` (or a VPC selector): every target's flow-log plan and what was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetsOutcome>,
}

impl SetupOutcome {
    fn applied_count(&self) -> usize {
        self.applied
            .iter()
            .filter(|s| s.result == StepResult::Ok)
            .count()
    }
}

impl super::Outcome for SetupOutcome {
    const COMMAND: &'static str = "setup";
    fn stack(&self) -> &str {
        &self.stack
    }
    /// No conflict, not cancelled, every step applied, and verify passed (or was skipped).
    fn ok(&self) -> bool {
        self.conflicts.is_empty()
            && !self.cancelled
            && self.applied.iter().all(|s| s.result == StepResult::Ok)
            && self.verify.as_ref().is_none_or(|v| v.ok)
            && self.targets.as_ref().is_none_or(|t| t.failed.is_empty())
    }
}

impl fmt::Display for SetupOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Stack {} in account {}, {}:",
            self.stack, self.account, self.region
        )?;
        write!(f, "{}", self.plan)?;
        if let Some(targets) = &self.targets {
            write!(f, "\nFlow logs in the targets:\n{}", targets.plan)?;
        }
        if self.cancelled {
            write!(f, "\nCancelled; nothing was changed.")?;
        } else if !self.applied.is_empty() {
            write!(f, "\nApplied {} step(s).", self.applied_count())?;
        }
        if let Some(verify) = &self.verify {
            write!(f, "\n{verify}")?;
        }
        Ok(())
    }
}

/// In JSON, the one document on stdout; in text, everything was already said as it happened.
fn finish(outcome: &SetupOutcome, output: Output) -> Result<()> {
    if output == Output::Json {
        super::print(outcome, output)?;
    }
    Ok(())
}

/// The architectures the plan uploads the forwarder's code for (none when the code is as wanted).
fn code_uploads(plan: &Plan) -> Vec<Architecture> {
    let mut architectures = Vec::new();
    for op in plan.steps.iter().flat_map(|s| &s.ops) {
        if let Op::Function(
            FunctionOp::CreateFunction { function } | FunctionOp::UpdateFunctionCode { function },
        ) = op
        {
            if !architectures.contains(&function.architecture) {
                architectures.push(function.architecture);
            }
        }
    }
    architectures
}

pub async fn run(global: &Global, args: &SetupArgs) -> Result<u8> {
    let say = Say(args.output);
    let ctx = Context::load(global).await?.with_fleet().await?;
    let code = code_source(&args.code)?;
    let desired = ctx.desired(&code)?;
    let progress = Progress::stderr();
    let (report, fleet) = super::plan::report(&ctx, &desired, &progress).await?;
    say.line(&report);
    let mut outcome = SetupOutcome {
        stack: report.stack.clone(),
        account: report.account.clone(),
        region: report.region.clone(),
        conflicts: report.plan.conflicts.clone(),
        plan: report.plan.clone(),
        cancelled: false,
        applied: Vec::new(),
        verify: None,
        targets: fleet.as_ref().map(TargetsOutcome::planned),
    };
    if !outcome.conflicts.is_empty() {
        finish(&outcome, args.output)?;
        bail!("nothing was changed: resolve the conflicts above first");
    }
    let uploads = code_uploads(&report.plan);
    for architecture in &uploads {
        code.require(*architecture)?;
    }
    if report.changes {
        if !super::confirm_or_refuse(
            args.yes,
            "Apply these changes?",
            "run `flowlogs setup --yes`",
        )? {
            say.line("Cancelled; nothing was changed.");
            outcome.cancelled = true;
            finish(&outcome, args.output)?;
            return Ok(1);
        }
        // The artifacts stage: the forwarder's zip read or built, and checked, before the first
        // write, so a failed build leaves the stack as it was. Apply then uploads these bytes.
        for architecture in &uploads {
            code.zip(*architecture, &progress).await?;
        }
        let applier = Applier {
            executor: Live(Apply {
                clients: &ctx.clients,
                code: &code,
                progress: &progress,
                made: Made::default(),
            }),
            progress: &progress,
        };
        let applied = applier.apply_setup(&report.plan).await;
        outcome.applied = applied_steps(&report.plan, &applied);
        if !applied.errors.is_empty() {
            finish(&outcome, args.output)?;
            bail!(
                "setup stopped after {} step(s); it is safe to run again once this is fixed:\n  {}",
                applied.applied,
                applied.errors.join("\n  ")
            );
        }
        say.line(format!("Applied {} step(s).", applied.applied));
        // The targets after the hub: their flow logs deliver to its bucket, whose policy must let
        // them in first.
        if let (Some(fleet), Some(targets)) = (&fleet, outcome.targets.as_mut()) {
            let done = super::fleet::apply(fleet, &progress).await;
            say.line(format!(
                "Targets: {} flow-log step(s) applied, {} target(s) failed.",
                done.applied,
                done.failed.len()
            ));
            targets.record(done);
        }
    }
    let failed_targets = outcome
        .targets
        .as_ref()
        .map(TargetsOutcome::failure_lines)
        .unwrap_or_default();
    let targets_failed = || -> Result<u8> {
        bail!(
            "{} target(s) failed (the others are done; run setup again once this is fixed, or narrow with --accounts / --regions):\n  {}",
            failed_targets.len(),
            failed_targets.join("\n  ")
        )
    };
    if args.no_verify {
        finish(&outcome, args.output)?;
        if !failed_targets.is_empty() {
            return targets_failed();
        }
        return Ok(0);
    }
    let verify = super::verify::after_setup(&ctx, &desired, &progress).await?;
    say.line(&verify);
    let verified = verify.ok;
    outcome.verify = Some(verify);
    finish(&outcome, args.output)?;
    if !verified {
        bail!("setup made the resources, but verify failed: see the ✗ lines above");
    }
    if !failed_targets.is_empty() {
        return targets_failed();
    }
    Ok(0)
}
