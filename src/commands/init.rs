//! `flowlogs init`: the wizard that writes `flowlogs.yaml`. On a terminal it asks (the flags are
//! the proposed answers); with `--non-interactive` the flags and defaults are the answers; without
//! either it explains how to run it. The file is written only at the end, checked by the same
//! validation `setup` applies; Esc or Ctrl-C leaves nothing behind and exits 130.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context as _, Result};

use crate::aws::{self, Clients};
use crate::cli::{Global, InitArgs};
use crate::config;
use crate::config::RawConfig;
use crate::wizard::flow;
use crate::wizard::listing::AwsAccount;
use crate::wizard::prompt::{Ask, Cancelled, Terminal};
use crate::wizard::{draft, render, Draft};

/// The exit code of a run the user cancelled (as a shell reports SIGINT).
pub const CANCELLED: u8 = 130;

pub async fn run(global: &Global, args: &InitArgs) -> Result<u8> {
    let path = global.config.as_path();
    if args.non_interactive {
        let region = default_region(global).await;
        let answers = Draft::from_flags(&args.answers, region).into_answers()?;
        if path.exists() && !args.force {
            bail!(
                "{} already exists: pass --force to overwrite it, or -c PATH to write another file",
                path.display()
            );
        }
        write_config(path, &render(&answers))?;
        print_next_steps(path, &answers);
        return Ok(0);
    }
    if !crate::ui::can_prompt() {
        bail!(
            "`flowlogs init` asks questions, and there is no terminal to ask them on.\n  \
             Run it in a terminal, or give the answers as flags, for example:\n    \
             flowlogs init --non-interactive --vpc-id vpc-0abc1234 --endpoint https://collector.example.com:4318\n  \
             (`flowlogs init --help` lists every flag; the rest take their defaults)"
        );
    }
    let region_default = default_region(global).await;
    let start = Draft::from_flags(&args.answers, region_default.clone());
    start.check_flags()?;
    exit_on_interrupt()?;
    let mut term = Terminal::new();
    match interactive(&mut term, global, args, &start, region_default).await {
        Err(e) if e.downcast_ref::<Cancelled>().is_some() => {
            term.restore();
            report_cancel();
            Ok(CANCELLED)
        }
        other => other,
    }
}

async fn interactive(
    term: &mut Terminal,
    global: &Global,
    args: &InitArgs,
    start: &Draft,
    region_default: Option<String>,
) -> Result<u8> {
    let profile = global.profile.clone();
    let answers = flow::ask(term, start, region_default, |region| async move {
        let sdk = aws::sdk_config(profile.as_deref(), Some(&region)).await?;
        Ok(AwsAccount::new(
            Clients::new(&sdk),
            aws_sdk_organizations::Client::new(&sdk),
        ))
    })
    .await?;
    term.say("");
    for line in flow::summary(&answers) {
        term.say(&line);
    }
    let path = global.config.as_path();
    if path.exists() && !args.force {
        if !term.confirm(
            &format!("{} already exists. Overwrite it?", path.display()),
            false,
        )? {
            bail!(
                "kept {}: nothing written (pass -c PATH to write another file)",
                path.display()
            );
        }
    } else if !term.confirm(&format!("Write {}?", path.display()), true)? {
        return Err(Cancelled.into());
    }
    write_config(path, &render(&answers))?;
    print_next_steps(path, &answers);
    Ok(0)
}

/// The region of `--region`, else of the profile or environment, if any.
async fn default_region(global: &Global) -> Option<String> {
    if let Some(region) = &global.region {
        return Some(region.clone());
    }
    aws::sdk_config(global.profile.as_deref(), None)
        .await
        .ok()
        .and_then(|sdk| sdk.region().map(|r| r.to_string()))
}

/// Checks the text as `setup` will, then writes it in one step (a temporary file renamed), so an
/// interrupted run never leaves half a file.
fn write_config(path: &Path, text: &str) -> Result<()> {
    config::parse(text, path, &|_| None).map_err(|e| {
        anyhow::anyhow!("the wizard made a config that does not pass validation (a bug in flowlogs; please report it): {e}")
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "flowlogs.yaml".into());
    let temporary = path.with_file_name(format!(".{name}.init-{}", std::process::id()));
    std::fs::write(&temporary, text).with_context(|| format!("writing {}", temporary.display()))?;
    if let Err(e) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

fn print_next_steps(path: &Path, answers: &RawConfig) {
    let config = if path == Path::new("flowlogs.yaml") {
        String::new()
    } else {
        format!(" -c {}", path.display())
    };
    let mut steps: Vec<(String, &str)> = draft::env_vars(answers)
        .into_iter()
        .map(|env| {
            (
                format!("export {env}=..."),
                "read at run time, never written to the file",
            )
        })
        .collect();
    steps.push((
        format!("flowlogs plan{config}"),
        "see what setup would create",
    ));
    steps.push((
        format!("flowlogs setup{config}"),
        "create it, then prove it works",
    ));
    let width = steps.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    crate::ui::outln(format_args!("Wrote {}.", path.display()));
    crate::ui::outln("Next:");
    for (command, why) in steps {
        crate::ui::outln(format_args!("  {command:<width$}   # {why}"));
    }
}

static CANCEL_REPORTED: AtomicBool = AtomicBool::new(false);

fn report_cancel() {
    if !CANCEL_REPORTED.swap(true, Ordering::SeqCst) {
        eprintln!("Cancelled: nothing was written.");
    }
}

/// Ctrl-C while the wizard is not at a prompt (listing the account, writing): exit 130 without a
/// file. At a prompt the key itself ends the question (see `prompt`), and this also keeps the
/// process from being killed by the SIGINT that dialoguer raises.
fn exit_on_interrupt() -> Result<()> {
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("listening for Ctrl-C")?;
    tokio::spawn(async move {
        if interrupts.recv().await.is_some() {
            Terminal::new().restore();
            report_cancel();
            std::process::exit(i32::from(CANCELLED));
        }
    });
    Ok(())
}
