//! `flowlogs setup`: converge AWS to the config, then verify the pipeline.

use anyhow::{bail, Result};

use crate::cli::{Global, SetupArgs};
use crate::context::{code_source, Context};
use crate::planner::apply::{Applier, Live};
use crate::resources::Apply;
use crate::ui::Progress;

pub async fn run(global: &Global, args: &SetupArgs) -> Result<u8> {
    let ctx = Context::load(global).await?;
    let code = code_source(&args.code);
    let desired = ctx.desired(&code)?;
    let report = super::plan::report(&ctx, &desired).await?;
    println!("{report}");
    if !report.plan.conflicts.is_empty() {
        bail!("nothing was changed: resolve the conflicts above first");
    }
    let progress = Progress::stderr();
    if report.changes {
        if !super::confirm_or_refuse(
            args.yes,
            "Apply these changes?",
            "run `flowlogs setup --yes`",
        )? {
            println!("Cancelled; nothing was changed.");
            return Ok(1);
        }
        let applier = Applier {
            executor: Live(Apply {
                clients: &ctx.clients,
                code: &code,
                progress: &progress,
            }),
            progress: &progress,
        };
        let outcome = applier.apply_setup(&report.plan).await;
        if !outcome.errors.is_empty() {
            bail!(
                "setup stopped after {} step(s); it is safe to run again once this is fixed:\n  {}",
                outcome.applied,
                outcome.errors.join("\n  ")
            );
        }
        println!("Applied {} step(s).", outcome.applied);
    }
    if args.no_verify {
        return Ok(0);
    }
    super::verify::after_setup(&ctx, &desired, &progress).await
}
