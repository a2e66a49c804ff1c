//! `flowlogs completions SHELL`: the completion script clap_complete writes from the command line's
//! own definition, so it never lags behind a new flag.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> Result<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "flowlogs", &mut script);
    crate::ui::out(String::from_utf8_lossy(&script));
    Ok(0)
}
