//! `flowlogs teardown`: delete what carries our stack tag, in reverse order; keep the logs unless asked.

use anyhow::{bail, Result};

use crate::cli::{CodeArgs, Global, TeardownArgs};
use crate::context::{code_source, Context};
use crate::planner::apply::{Applier, Live};
use crate::planner::plan_teardown;
use crate::resources::Apply;
use crate::ui::Progress;

pub async fn run(global: &Global, args: &TeardownArgs) -> Result<u8> {
    let ctx = Context::load(global).await?;
    let observed = ctx.observe().await?;
    let plan = plan_teardown(&ctx.names, &observed, args.delete_data);
    println!(
        "Stack {} in account {}, {}:",
        ctx.names.stack, ctx.account, ctx.region
    );
    if !plan.has_changes() {
        for note in &plan.notes {
            println!("    {} {}: {}", note.kind.label(), note.name, note.note);
        }
        println!("Nothing to delete for stack {}.", ctx.names.stack);
        return Ok(0);
    }
    println!("{plan}");
    if !super::confirm_or_refuse(
        args.yes,
        "Delete these resources?",
        "run `flowlogs teardown --yes`",
    )? {
        println!("Cancelled; nothing was deleted.");
        return Ok(1);
    }
    let progress = Progress::stderr();
    let code = code_source(&CodeArgs::default());
    let applier = Applier {
        executor: Live(Apply {
            clients: &ctx.clients,
            code: &code,
            progress: &progress,
        }),
        progress: &progress,
    };
    let outcome = applier.apply_teardown(&plan).await;
    if !outcome.errors.is_empty() {
        bail!(
            "teardown removed {} resource(s) but could not remove:\n  {}\nrun teardown again once this is fixed",
            outcome.applied,
            outcome.errors.join("\n  ")
        );
    }
    println!("Deleted {} resource(s).", outcome.applied);
    Ok(0)
}
