//! One module per subcommand; each `run` returns an outcome that prints as text or JSON.

pub mod completions;
pub mod init;
pub mod plan;
pub mod schema;
pub mod setup;
pub mod status;
pub mod teardown;
pub mod verify;

use serde::Serialize;

use crate::cli::Output;

/// Prints an outcome in the chosen form: its `Display` for people, its JSON for machines.
pub fn print<T: Serialize + std::fmt::Display>(outcome: &T, output: Output) -> anyhow::Result<()> {
    match output {
        Output::Text => println!("{outcome}"),
        Output::Json => println!("{}", serde_json::to_string_pretty(outcome)?),
    }
    Ok(())
}

/// Asks before a change, or explains why it cannot: `--yes`, or a terminal to ask on.
pub fn confirm_or_refuse(yes: bool, question: &str, flag_hint: &str) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !crate::ui::can_prompt() {
        anyhow::bail!(
            "{question} needs a confirmation and there is no terminal to ask on: {flag_hint}"
        );
    }
    crate::ui::confirm(question)
}
