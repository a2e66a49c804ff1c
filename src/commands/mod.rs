//! One module per subcommand; each `run` returns an outcome that prints as text or JSON.
//! Every JSON outcome opens with the same envelope (`command`, `stack`, `ok`), documented with
//! each command's own fields in `docs/json-output.md` (a contract for CI users).

pub mod applied;
pub mod backfill;
pub mod completions;
pub mod fleet;
pub mod init;
pub mod plan;
pub mod replay;
pub mod schema;
pub mod setup;
pub mod status;
pub mod teardown;
pub mod verify;

#[cfg(test)]
mod json_doc_tests;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cli::Output;

/// What a command ends with: text for people (`Display`), JSON for machines (`Serialize`), and
/// the envelope every JSON outcome carries.
pub trait Outcome: Serialize + std::fmt::Display {
    /// The subcommand's name, as typed.
    const COMMAND: &'static str;
    fn stack(&self) -> &str;
    /// Whether the command did what it set out to do (the meaning per command is in the doc).
    fn ok(&self) -> bool;
}

impl Outcome for verify::VerifyReport {
    const COMMAND: &'static str = "verify";
    fn stack(&self) -> &str {
        &self.stack
    }
    fn ok(&self) -> bool {
        self.ok
    }
}

/// The outcome as one JSON object: the envelope first, then the outcome's own fields.
pub fn to_json<T: Outcome>(outcome: &T) -> anyhow::Result<Value> {
    let mut object = Map::new();
    object.insert("command".into(), T::COMMAND.into());
    object.insert("stack".into(), outcome.stack().into());
    object.insert("ok".into(), outcome.ok().into());
    match serde_json::to_value(outcome)? {
        Value::Object(fields) => object.extend(fields),
        other => anyhow::bail!("the {} outcome is not a JSON object: {other}", T::COMMAND),
    }
    Ok(Value::Object(object))
}

/// Prints an outcome in the chosen form: its `Display` for people, its JSON for machines.
pub fn print<T: Outcome>(outcome: &T, output: Output) -> anyhow::Result<()> {
    match output {
        Output::Text => crate::ui::outln(outcome),
        Output::Json => crate::ui::outln(serde_json::to_string_pretty(&to_json(outcome)?)?),
    }
    Ok(())
}

/// Where a command's running commentary goes: stdout for people, stderr when stdout is kept for
/// the one JSON document.
#[derive(Debug, Clone, Copy)]
pub struct Say(pub Output);

impl Say {
    pub fn line(self, text: impl std::fmt::Display) {
        match self.0 {
            Output::Text => crate::ui::outln(text),
            Output::Json => eprintln!("{text}"),
        }
    }
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
