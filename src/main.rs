//! `flowlogs`: stand up, prove and tear down an AWS VPC Flow Logs pipeline to OpenTelemetry.
//! `main` only parses, dispatches, prints the error chain and picks the exit code.

mod aws;
mod cli;
mod commands;
mod config;
mod context;
mod cost;
mod desired;
mod embedded;
mod fleet;
mod forwarder_source;
mod package;
mod plan;
mod planner;
mod policy;
mod redrive;
mod resources;
mod ui;
mod wizard;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("FLOWLOGS_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let g = &cli.global;
        match &cli.command {
            Command::Init(args) => commands::init::run(g, args).await,
            Command::Plan(args) => commands::plan::run(g, args).await,
            Command::Setup(args) => commands::setup::run(g, args).await,
            Command::Verify(args) => commands::verify::run(g, args).await,
            Command::Status(args) => commands::status::run(g, args).await,
            Command::Teardown(args) => commands::teardown::run(g, args).await,
            Command::Replay(args) => commands::replay::run(g, args).await,
            Command::Backfill(args) => commands::backfill::run(g, args).await,
            Command::Completions(args) => commands::completions::run(args),
            Command::Schema => commands::schema::run(),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(1)
        }
    }
}

/// The command line; `--version` also names the forwarder each architecture gets, which means
/// reading the zips this binary carries: done only when asked.
fn parse() -> Cli {
    let mut command = Cli::command();
    if std::env::args_os()
        .skip(1)
        .any(|a| a == "--version" || a == "-V")
    {
        command = command.version(&*Box::leak(package::version_text().into_boxed_str()));
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The error and every cause, one per line, with AWS's own code and message where the SDK has them.
fn error_chain(e: &anyhow::Error) -> String {
    let mut lines = vec![e.to_string()];
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !lines.iter().any(|l| l == &text) {
            lines.push(text);
        }
    }
    lines.join("\n  caused by: ")
}
