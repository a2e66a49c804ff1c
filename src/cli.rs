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
    /// With `targets:`, only these of its accounts (comma-separated account ids).
    #[arg(long, global = true, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// With `targets:`, only these of its regions (comma-separated).
    #[arg(long, global = true, value_delimiter = ',')]
    pub regions: Vec<String>,
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
    /// Send the objects whose delivery failed (kept by Lambda in the bucket) through the forwarder again.
    Replay(ReplayArgs),
    /// Send the flow-log objects of a past time window through the forwarder.
    Backfill(BackfillArgs),
    /// Print a shell completion script (for example: flowlogs completions bash > /etc/bash_completion.d/flowlogs).
    Completions(CompletionsArgs),
    /// Print the JSON Schema of flowlogs.yaml (for editors and CI checks).
    Schema,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    #[default]
    Text,
    Json,
}

/// Where the function's code comes from. Without a flag: the forwarder this flowlogs carries
/// (a release binary); a build from source carries none and then asks for one of these.
#[derive(Debug, Args, Clone, Default)]
pub struct CodeArgs {
    /// Upload this forwarder zip instead of the one this flowlogs carries (wins over
    /// --forwarder-from-source).
    #[arg(long, value_name = "PATH")]
    pub forwarder_zip: Option<PathBuf>,
    /// Build the forwarder from lambda/ of the flowlogs checkout holding the current directory,
    /// with cargo-lambda (development; needs cargo-lambda and zig).
    #[arg(long, env = "FLOWLOGS_FORWARDER_FROM_SOURCE", value_parser = clap::builder::BoolishValueParser::new())]
    pub forwarder_from_source: bool,
    /// Build the forwarder from this flowlogs checkout (or its lambda/ directory) instead
    /// (implies --forwarder-from-source).
    #[arg(
        long,
        value_name = "DIR",
        env = "FLOWLOGS_FORWARDER_SOURCE",
        alias = "forwarder-dir"
    )]
    pub forwarder_source: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 0 when nothing would change, 2 when something would, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
    /// For the cost estimate when the bucket has no flow-log objects of the last 7 days: this
    /// many records a day.
    #[arg(long, value_name = "N")]
    pub records_per_day: Option<u64>,
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
    /// json: progress on stderr, one JSON document on stdout at the end (docs/json-output.md).
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
    #[command(flatten)]
    pub code: CodeArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also wait this long (e.g. 15m) for the first object AWS itself delivers, and show it forwarded.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// With `athena:` in the config, also run one small Athena query on the table (it reads one
    /// day of flow logs; Athena bills the bytes it scans) and show its row count and bytes scanned.
    #[arg(long)]
    pub athena: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
    /// For the cost estimate when the bucket has no flow-log objects of the last 7 days: this
    /// many records a day.
    #[arg(long, value_name = "N")]
    pub records_per_day: Option<u64>,
}

#[derive(Debug, Args)]
pub struct TeardownArgs {
    /// Delete without asking.
    #[arg(long)]
    pub yes: bool,
    /// Also empty and delete the bucket flowlogs created, with every log in it.
    #[arg(long)]
    pub delete_data: bool,
    /// json: progress on stderr, one JSON document on stdout at the end (docs/json-output.md).
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// List the failed deliveries waiting and why they failed; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replay at most N of them (oldest first).
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,
    /// json: progress on stderr, one JSON document on stdout at the end (docs/json-output.md).
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Start of the window: RFC 3339 (2026-11-20T00:00:00Z) or a date (2026-11-20, midnight UTC).
    #[arg(long, value_name = "TIME")]
    pub since: String,
    /// End of the window, excluded (default: now).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Show what would be sent and what it would roughly cost; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send without asking.
    #[arg(long)]
    pub yes: bool,
    /// Invocations of the function at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub concurrency: u16,
    /// json: progress on stderr, one JSON document on stdout at the end (docs/json-output.md).
    #[arg(long, value_enum, default_value_t)]
    pub output: Output,
}

/// `flowlogs init`: on a terminal the flags become the proposed answers; with
/// `--non-interactive` they are the answers, and defaults fill the rest.
#[derive(Debug, Args, Default)]
#[command(
    after_help = "Example without a terminal:\n  flowlogs init --non-interactive --vpc-id vpc-0abc1234 \\\n    --endpoint https://collector.example.com:4318 \\\n    --header-name signoz-ingestion-key --header-env SIGNOZ_KEY"
)]
pub struct InitArgs {
    /// Never prompt: take the answers from flags and defaults (for scripts).
    #[arg(long)]
    pub non_interactive: bool,
    /// Overwrite an existing config file without asking.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub answers: Box<InitAnswers>,
}

/// The answers `flowlogs init` takes as flags (boxed in `InitArgs`: there are many).
#[derive(Debug, Args, Default)]
pub struct InitAnswers {
    /// Stack name: names and tags every resource (default: main).
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// A VPC to log (repeatable, or comma-separated).
    #[arg(long, value_name = "ID", value_delimiter = ',', conflicts_with_all = ["subnet_id", "eni_id"])]
    pub vpc_id: Vec<String>,
    /// A subnet to log (repeatable, or comma-separated).
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        conflicts_with = "eni_id"
    )]
    pub subnet_id: Vec<String>,
    /// A network interface to log (repeatable, or comma-separated).
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub eni_id: Vec<String>,
    /// Traffic to log (default: ALL).
    #[arg(long, value_name = "TYPE", value_parser = ["ACCEPT", "REJECT", "ALL"], ignore_case = true)]
    pub traffic_type: Option<String>,
    /// Record format: default, all, or fields as "${version} ${srcaddr} ..." (default: default).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Aggregation interval in seconds: 60 or 600 (default: 600).
    #[arg(long, value_name = "SECONDS")]
    pub interval: Option<u32>,
    /// File format (default: plain-text).
    #[arg(long, value_name = "FORMAT", value_parser = ["plain-text", "parquet"])]
    pub file_format: Option<String>,
    /// Hive-compatible partitions (aws-account-id=.../year=... keys).
    #[arg(long)]
    pub hive_partitions: bool,
    /// One folder per hour.
    #[arg(long)]
    pub hourly_partitions: bool,
    /// Name of the new bucket flowlogs creates (default: <stack>-flowlogs-<account>-<region>).
    #[arg(long, value_name = "NAME", conflicts_with = "existing_bucket")]
    pub bucket: Option<String>,
    /// Use this existing bucket instead of creating one.
    #[arg(long, value_name = "NAME")]
    pub existing_bucket: Option<String>,
    /// Days before logs expire in a bucket flowlogs creates (default: 90).
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// Delivery: lambda (OTLP forwarder) or firehose (default: lambda, or firehose with --firehose-url).
    #[arg(long, value_name = "MODE", value_parser = ["lambda", "firehose"])]
    pub mode: Option<String>,
    /// OTLP/HTTP endpoint the forwarder sends to (base URL; /v1/logs is added).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// OTLP protocol (default: http/protobuf).
    #[arg(long, value_name = "PROTOCOL", value_parser = ["http/protobuf", "http/json"])]
    pub protocol: Option<String>,
    /// Auth header sent with every OTLP request (needs --header-env).
    #[arg(long, value_name = "NAME", requires = "header_env")]
    pub header_name: Option<String>,
    /// NAME of the environment variable holding the header's value; the file gets "${env:NAME}",
    /// never the secret.
    #[arg(long, value_name = "VAR", requires = "header_name")]
    pub header_env: Option<String>,
    /// service.name of every record (default: vpc-flow-logs).
    #[arg(long, value_name = "NAME")]
    pub service_name: Option<String>,
    /// Lambda memory in MB (default: 512).
    #[arg(long, value_name = "MB")]
    pub memory_mb: Option<u32>,
    /// Lambda timeout in seconds (default: 300).
    #[arg(long, value_name = "SECONDS")]
    pub timeout_s: Option<u32>,
    /// Lambda architecture (default: arm64, 20% less per GB-second).
    #[arg(long, value_name = "ARCH", value_parser = ["x86_64", "arm64"])]
    pub architecture: Option<String>,
    /// Firehose mode: the HTTP endpoint Firehose posts to.
    #[arg(long, value_name = "URL")]
    pub firehose_url: Option<String>,
    /// Firehose mode: NAME of the environment variable holding the endpoint's access key.
    #[arg(long, value_name = "VAR")]
    pub access_key_env: Option<String>,
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
