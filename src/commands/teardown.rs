//! `flowlogs teardown`: delete what carries our stack tag, in reverse order; keep the logs unless
//! asked. People see the plan and the progress as they happen; `--output json` keeps stdout for
//! one document at the end (the plan, each deletion's result, what was deleted) and says the rest
//! on stderr.

use std::fmt;

use anyhow::{bail, Result};
use serde::Serialize;

use super::applied::{applied_steps, AppliedStep, StepResult};
use super::fleet::TargetsOutcome;
use super::Say;
use crate::cli::{Global, Output, TeardownArgs};
use crate::context::Context;
use crate::plan::Resource;
use crate::planner::apply::{Applier, Live};
use crate::planner::plan_teardown;
use crate::planner::Plan;
use crate::resources::{Apply, Made};
use crate::ui::Progress;

/// What teardown planned and deleted.
#[derive(Debug, Serialize)]
pub struct TeardownOutcome {
    pub stack: String,
    pub account: String,
    pub region: String,
    /// The deletions planned, and the notes on what stays (a kept bucket, a foreign flow log).
    pub plan: Plan,
    /// The user declined the confirmation: nothing was deleted.
    pub cancelled: bool,
    /// Each deletion of the plan and how it ended.
    pub applied: Vec<AppliedStep>,
    /// What is gone now.
    pub deleted: Vec<Resource>,
    /// With `targets:` (or a VPC selector): the flow logs of ours in every target, and what was
    /// deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetsOutcome>,
}

impl super::Outcome for TeardownOutcome {
    const COMMAND: &'static str = "teardown";
    fn stack(&self) -> &str {
        &self.stack
    }
    /// Not cancelled and every planned deletion done.
    fn ok(&self) -> bool {
        !self.cancelled
            && self.applied.iter().all(|s| s.result == StepResult::Ok)
            && self.targets.as_ref().is_none_or(|t| t.failed.is_empty())
    }
}

impl fmt::Display for TeardownOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Stack {} in account {}, {}:",
            self.stack, self.account, self.region
        )?;
        if let Some(targets) = &self.targets {
            writeln!(f, "Flow logs in the targets:\n{}", targets.plan)?;
        }
        if !self.plan.has_changes() && !fleet_changes(self.targets.as_ref()) {
            for note in &self.plan.notes {
                writeln!(f, "    {} {}: {}", note.kind.label(), note.name, note.note)?;
            }
            return write!(f, "Nothing to delete for stack {}.", self.stack);
        }
        write!(f, "{}", self.plan)?;
        if self.cancelled {
            write!(f, "\nCancelled; nothing was deleted.")
        } else {
            write!(f, "\nDeleted {} resource(s).", self.deleted.len())
        }
    }
}

/// Whether any target has a flow log of ours to delete.
fn fleet_changes(targets: Option<&TargetsOutcome>) -> bool {
    targets.is_some_and(|t| t.plan.has_changes())
}

/// In JSON, the one document on stdout; in text, everything was already said as it happened.
fn finish(outcome: &TeardownOutcome, output: Output) -> Result<()> {
    if output == Output::Json {
        super::print(outcome, output)?;
    }
    Ok(())
}

pub async fn run(global: &Global, args: &TeardownArgs) -> Result<u8> {
    let say = Say(args.output);
    let ctx = Context::load(global).await?.with_fleet().await?;
    let progress = Progress::stderr();
    let (observed, fleet) =
        tokio::try_join!(ctx.observe(), super::fleet::plan(&ctx, &progress, true))?;
    let plan = plan_teardown(&ctx.names, &observed, args.delete_data);
    let mut outcome = TeardownOutcome {
        stack: ctx.names.stack.clone(),
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        plan: plan.clone(),
        cancelled: false,
        applied: Vec::new(),
        deleted: Vec::new(),
        targets: fleet.as_ref().map(TargetsOutcome::planned),
    };
    say.line(format!(
        "Stack {} in account {}, {}:",
        ctx.names.stack, ctx.account, ctx.region
    ));
    if let Some(fleet) = &fleet {
        say.line(format!("Flow logs in the targets:\n{}", fleet.plan));
    }
    let failed_reads = outcome
        .targets
        .as_ref()
        .map(TargetsOutcome::failure_lines)
        .unwrap_or_default();
    if !plan.has_changes() && !fleet_changes(outcome.targets.as_ref()) {
        for note in &plan.notes {
            say.line(format!(
                "    {} {}: {}",
                note.kind.label(),
                note.name,
                note.note
            ));
        }
        say.line(format!("Nothing to delete for stack {}.", ctx.names.stack));
        finish(&outcome, args.output)?;
        if !failed_reads.is_empty() {
            bail!(
                "{} target(s) could not be read, and may still hold flow logs of the stack:\n  {}",
                failed_reads.len(),
                failed_reads.join("\n  ")
            );
        }
        return Ok(0);
    }
    say.line(&plan);
    if !super::confirm_or_refuse(
        args.yes,
        "Delete these resources?",
        "run `flowlogs teardown --yes`",
    )? {
        say.line("Cancelled; nothing was deleted.");
        outcome.cancelled = true;
        finish(&outcome, args.output)?;
        return Ok(1);
    }
    // The flow logs first, in every target: nothing new reaches the hub while it goes.
    if let (Some(fleet), Some(targets)) = (&fleet, outcome.targets.as_mut()) {
        let done = super::fleet::apply(fleet, &progress).await;
        say.line(format!(
            "Targets: {} flow log(s) deleted, {} target(s) failed.",
            done.applied,
            done.failed.len()
        ));
        targets.record(done);
    }
    let code = crate::package::CodeSource::none();
    let applier = Applier {
        executor: Live(Apply {
            clients: &ctx.clients,
            code: &code,
            progress: &progress,
            made: Made::default(),
        }),
        progress: &progress,
    };
    let applied = applier.apply_teardown(&plan).await;
    outcome.applied = applied_steps(&plan, &applied);
    outcome.deleted = outcome
        .applied
        .iter()
        .filter(|s| s.result == StepResult::Ok)
        .map(|s| Resource {
            kind: s.kind,
            name: s.name.clone(),
        })
        .collect();
    finish(&outcome, args.output)?;
    let mut errors = applied.errors.clone();
    if let Some(targets) = &outcome.targets {
        errors.extend(targets.failure_lines());
    }
    if !errors.is_empty() {
        bail!(
            "teardown removed {} resource(s) but could not remove:\n  {}\nrun teardown again once this is fixed",
            applied.applied,
            errors.join("\n  ")
        );
    }
    say.line(format!("Deleted {} resource(s).", applied.applied));
    Ok(0)
}
