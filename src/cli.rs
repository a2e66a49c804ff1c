//! The command line as typed: clap structs only. Checking and meaning live in the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "flowlogs",
    version,
    about = "Stand up, prove and tear down an AWS VPC Flow Logs pipeline to OpenTelemetry"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// The stack's config file.
    #[arg(short, long, global = true, default_value = "flowlogs.yaml")]
    pub config: PathBuf,
    /// AWS profile (default: the standard credential chain).
    #[arg(long, global = true, env = "AWS_PROFILE", hide_env_values = true)]
    pub profile: Option<String>,
    /// AWS region; overrides the config's `region`.
    #[arg(long, global = true)]
    pub region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask a few questions and write flowlogs.yaml.
    Init(InitArgs),
    /// Show what setup would change. Exit 0: no change; 2 with --detailed-exitcode: changes pending.
    Plan(PlanArgs),
    /// Create or update the pipeline to match the config, then verify it.
    Setup(SetupArgs),
    /// Check the pipeline end to end with a test delivery.
    Verify(VerifyArgs),
    /// Show each resource: whether it exists, is ours, and matches the config.
    Status(StatusArgs),
    /// Delete what flowlogs made (the bucket and its logs stay unless --delete-data).
    Teardown(TeardownArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CodeArgs {
    /// Use this prebuilt forwarder zip instead of building lambda/ with cargo-lambda.
    #[arg(long, value_name = "PATH")]
    pub forwarder_zip: Option<PathBuf>,
    /// Build the forwarder from this directory (default: the lambda/ that flowlogs was built from).
    #[arg(long, value_name = "DIR", hide = true)]
    pub forwarder_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 0 when nothing would change, 2 when something would, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
    #[command(flatten)]
    pub code: CodeArgs,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
    /// Skip the verification that follows setup.
    #[arg(long)]
    pub no_verify: bool,
    #[command(flatten)]
    pub code: CodeArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also wait this long (e.g. 15m) for the first object AWS itself delivers, and show it forwarded.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct TeardownArgs {
    /// Delete without asking.
    #[arg(long)]
    pub yes: bool,
    /// Also empty and delete the bucket flowlogs created, with every log in it.
    #[arg(long)]
    pub delete_data: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Never prompt: take the answers from flags and defaults.
    #[arg(long)]
    pub non_interactive: bool,
}

/// `90s`, `15m`, `1h`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write 90s, 15m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{text}` is not a duration: write 90s, 15m or 1h")),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_duration("1h").unwrap().as_secs(), 3600);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
