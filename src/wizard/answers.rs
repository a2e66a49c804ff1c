//! What the wizard learns: the checked answers (`Answers`), the answers given as flags (`Preset`,
//! built from the raw `InitArgs`), and the small checks both the prompts and the flags use.

use anyhow::{bail, Result};
use flowlogs_forwarder::format;

use crate::cli::InitArgs;
use crate::config::{
    self, Architecture, DeliveryMode, FileFormat, OtlpProtocol, ResourceType, TrafficType,
};

/// The stack name offered when none is given.
pub const DEFAULT_STACK: &str = "main";
pub const DEFAULT_SERVICE_NAME: &str = "vpc-flow-logs";
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
pub const DEFAULT_INTERVAL: u32 = 600;
pub const DEFAULT_MEMORY_MB: u32 = 512;
pub const DEFAULT_TIMEOUT_S: u32 = 300;

/// Every answer the config file is written from.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub stack: String,
    /// `None`: the key is left out and the profile's region is used at run time.
    pub region: Option<String>,
    pub resources: Resources,
    pub traffic_type: TrafficType,
    pub format: FormatChoice,
    pub max_aggregation_interval: u32,
    pub file_format: FileFormat,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
    pub bucket: BucketChoice,
    pub retention_days: u32,
    pub delivery: DeliveryAnswers,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    pub kind: ResourceType,
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FormatChoice {
    Default,
    All,
    /// Field names in the order the user wants them.
    Custom(Vec<String>),
}

impl FormatChoice {
    /// The value of `flow_log.format`.
    pub fn spec(&self) -> String {
        match self {
            FormatChoice::Default => "default".into(),
            FormatChoice::All => "all".into(),
            FormatChoice::Custom(fields) => fields
                .iter()
                .map(|f| format!("${{{f}}}"))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BucketChoice {
    /// A new bucket named `<stack>-flowlogs-<account>-<region>` (`name: null`).
    Derived,
    /// A new bucket with a name of the user's choice.
    New(String),
    /// An existing bucket, adopted (`create: false`).
    Existing(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryAnswers {
    Lambda {
        otlp: OtlpAnswers,
        lambda: LambdaAnswers,
    },
    Firehose {
        url: String,
        /// The NAME of the environment variable that holds the access key.
        access_key_env: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OtlpAnswers {
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    pub header: Option<Header>,
    pub service_name: String,
}

/// An auth header whose value is read from the environment variable `env` at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: String,
    pub env: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LambdaAnswers {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub architecture: Architecture,
}

impl Answers {
    /// The environment variables the written file reads (to tell the user what to export).
    pub fn env_vars(&self) -> Vec<&str> {
        match &self.delivery {
            DeliveryAnswers::Lambda { otlp, .. } => {
                otlp.header.iter().map(|h| h.env.as_str()).collect()
            }
            DeliveryAnswers::Firehose { access_key_env, .. } => {
                access_key_env.iter().map(String::as_str).collect()
            }
        }
    }
}

/// The answers given as flags, checked; `None` where a flag was not given.
#[derive(Debug, Clone, Default)]
pub struct Preset {
    pub stack: Option<String>,
    pub resources: Option<Resources>,
    pub traffic_type: Option<TrafficType>,
    pub format: Option<FormatChoice>,
    pub max_aggregation_interval: Option<u32>,
    pub file_format: Option<FileFormat>,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
    pub bucket: Option<BucketChoice>,
    pub retention_days: Option<u32>,
    pub mode: Option<DeliveryMode>,
    pub endpoint: Option<String>,
    pub protocol: Option<OtlpProtocol>,
    pub header: Option<Header>,
    pub service_name: Option<String>,
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub architecture: Option<Architecture>,
    pub firehose_url: Option<String>,
    pub access_key_env: Option<String>,
}

impl Preset {
    /// Checks the flags; every problem names the flag and what to write.
    pub fn from_args(args: &InitArgs) -> Result<Preset> {
        let args = &args.answers;
        let flag = |name: &str, r: Result<(), String>| -> Result<()> {
            r.map_err(|problem| anyhow::anyhow!("--{name}: {problem}"))
        };
        if let Some(stack) = &args.stack {
            flag("stack", check_stack(stack))?;
        }
        let kinds = [
            (ResourceType::Vpc, &args.vpc_id),
            (ResourceType::Subnet, &args.subnet_id),
            (ResourceType::NetworkInterface, &args.eni_id),
        ];
        let mut resources = None;
        for (kind, ids) in kinds {
            if ids.is_empty() {
                continue;
            }
            if resources.is_some() {
                bail!("--vpc-id, --subnet-id and --eni-id: give only one kind of resource (one flow log config logs one kind)");
            }
            let ids = parse_ids(kind, &ids.join(","))
                .map_err(|p| anyhow::anyhow!("--{}: {p}", id_flag(kind)))?;
            resources = Some(Resources { kind, ids });
        }
        let format = match &args.format {
            Some(text) => Some(parse_format(text).map_err(|p| anyhow::anyhow!("--format: {p}"))?),
            None => None,
        };
        if let Some(interval) = args.interval {
            if !matches!(interval, 60 | 600) {
                bail!("--interval: AWS aggregates over 60 or 600 seconds, not {interval}");
            }
        }
        let bucket = match (&args.bucket, &args.existing_bucket) {
            (Some(name), _) => {
                flag("bucket", config::check_bucket_name(name))?;
                Some(BucketChoice::New(name.clone()))
            }
            (None, Some(name)) => {
                flag("existing-bucket", config::check_bucket_name(name))?;
                Some(BucketChoice::Existing(name.clone()))
            }
            (None, None) => None,
        };
        if let Some(days) = args.retention_days {
            flag("retention-days", check_retention(days))?;
        }
        if let Some(url) = &args.endpoint {
            flag("endpoint", check_url(url))?;
        }
        if let Some(url) = &args.firehose_url {
            flag("firehose-url", check_url(url))?;
        }
        let header = match (&args.header_name, &args.header_env) {
            (Some(name), Some(env)) => {
                flag("header-name", check_header_name(name))?;
                flag("header-env", check_env_name(env))?;
                Some(Header {
                    name: name.clone(),
                    env: env.clone(),
                })
            }
            (None, None) => None,
            (Some(name), None) => bail!(
                "--header-name {name} needs --header-env NAME: the environment variable that holds its value (the secret itself is never written to the file)"
            ),
            (None, Some(_)) => bail!("--header-env needs --header-name: the header to send"),
        };
        if let Some(env) = &args.access_key_env {
            flag("access-key-env", check_env_name(env))?;
        }
        if let Some(name) = &args.service_name {
            flag("service-name", check_service_name(name))?;
        }
        if let Some(mb) = args.memory_mb {
            flag("memory-mb", check_memory(mb))?;
        }
        if let Some(s) = args.timeout_s {
            flag("timeout-s", check_timeout(s))?;
        }
        let mode = match args.mode.as_deref() {
            None => None,
            Some(m) if m.eq_ignore_ascii_case("lambda") => Some(DeliveryMode::Lambda),
            Some(m) if m.eq_ignore_ascii_case("firehose") => Some(DeliveryMode::Firehose),
            Some(m) => bail!("--mode: `{m}` is not a delivery mode: use lambda or firehose"),
        };
        Ok(Preset {
            stack: args.stack.clone(),
            resources,
            traffic_type: args.traffic_type.as_deref().map(traffic_type),
            format,
            max_aggregation_interval: args.interval,
            file_format: args.file_format.as_deref().map(file_format),
            hive_compatible_partitions: args.hive_partitions,
            per_hour_partition: args.hourly_partitions,
            bucket,
            retention_days: args.retention_days,
            mode,
            endpoint: args.endpoint.clone(),
            protocol: args.protocol.as_deref().map(protocol),
            header,
            service_name: args.service_name.clone(),
            memory_mb: args.memory_mb,
            timeout_s: args.timeout_s,
            architecture: args.architecture.as_deref().map(architecture),
            firehose_url: args.firehose_url.clone(),
            access_key_env: args.access_key_env.clone(),
        })
    }

    /// The answers for `--non-interactive`: the flags, and defaults for the rest.
    pub fn into_answers(self, region: Option<String>) -> Result<Answers> {
        let Some(resources) = self.resources else {
            bail!("--non-interactive needs what to log: --vpc-id ID (repeatable), --subnet-id ID or --eni-id ID");
        };
        let file_format = self.file_format.unwrap_or_default();
        let mode = self.mode.unwrap_or(if self.firehose_url.is_some() {
            DeliveryMode::Firehose
        } else {
            DeliveryMode::Lambda
        });
        let delivery = match mode {
            DeliveryMode::Lambda => {
                let Some(endpoint) = self.endpoint else {
                    bail!("--non-interactive needs the OTLP endpoint the forwarder sends to: --endpoint https://collector.example.com:4318");
                };
                DeliveryAnswers::Lambda {
                    otlp: OtlpAnswers {
                        endpoint,
                        protocol: self.protocol.unwrap_or_default(),
                        header: self.header,
                        service_name: self
                            .service_name
                            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.into()),
                    },
                    lambda: LambdaAnswers {
                        memory_mb: self.memory_mb.unwrap_or(DEFAULT_MEMORY_MB),
                        timeout_s: self.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S),
                        architecture: self.architecture.unwrap_or_default(),
                    },
                }
            }
            DeliveryMode::Firehose => {
                let Some(url) = self.firehose_url else {
                    bail!("--mode firehose needs the HTTP endpoint Firehose posts to: --firehose-url https://...");
                };
                if file_format == FileFormat::Parquet {
                    bail!("--file-format parquet cannot be delivered through Firehose, which receives plain text: use --mode lambda");
                }
                DeliveryAnswers::Firehose {
                    url,
                    access_key_env: self.access_key_env,
                }
            }
        };
        Ok(Answers {
            stack: self.stack.unwrap_or_else(|| DEFAULT_STACK.into()),
            region,
            resources,
            traffic_type: self.traffic_type.unwrap_or_default(),
            format: self.format.unwrap_or(FormatChoice::Default),
            max_aggregation_interval: self.max_aggregation_interval.unwrap_or(DEFAULT_INTERVAL),
            file_format,
            hive_compatible_partitions: self.hive_compatible_partitions,
            per_hour_partition: self.per_hour_partition,
            bucket: self.bucket.unwrap_or(BucketChoice::Derived),
            retention_days: self.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS),
            delivery,
        })
    }
}

pub fn id_flag(kind: ResourceType) -> &'static str {
    match kind {
        ResourceType::Vpc => "vpc-id",
        ResourceType::Subnet => "subnet-id",
        ResourceType::NetworkInterface => "eni-id",
    }
}

fn id_prefix(kind: ResourceType) -> &'static str {
    match kind {
        ResourceType::Vpc => "vpc-",
        ResourceType::Subnet => "subnet-",
        ResourceType::NetworkInterface => "eni-",
    }
}

fn traffic_type(text: &str) -> TrafficType {
    match text.to_ascii_uppercase().as_str() {
        "ACCEPT" => TrafficType::Accept,
        "REJECT" => TrafficType::Reject,
        _ => TrafficType::All,
    }
}

fn file_format(text: &str) -> FileFormat {
    if text.eq_ignore_ascii_case("parquet") {
        FileFormat::Parquet
    } else {
        FileFormat::PlainText
    }
}

fn protocol(text: &str) -> OtlpProtocol {
    if text.eq_ignore_ascii_case("http/json") {
        OtlpProtocol::HttpJson
    } else {
        OtlpProtocol::HttpProtobuf
    }
}

fn architecture(text: &str) -> Architecture {
    if text.eq_ignore_ascii_case("arm64") {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    }
}

/// Ids separated by commas or spaces, each of the given kind, each once.
pub fn parse_ids(kind: ResourceType, text: &str) -> Result<Vec<String>, String> {
    let prefix = id_prefix(kind);
    let mut ids: Vec<String> = Vec::new();
    for id in text.split([',', ' ']).filter(|s| !s.is_empty()) {
        let hex = id.strip_prefix(prefix).unwrap_or("");
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "`{id}` is not a {prefix}... id (for example {prefix}0abc1234def567890)"
            ));
        }
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        return Err(format!("give at least one {prefix}... id"));
    }
    Ok(ids)
}

/// `default`, `all`, or `${field} ...` checked against the field catalogue.
pub fn parse_format(text: &str) -> Result<FormatChoice, String> {
    match text.trim() {
        "default" => Ok(FormatChoice::Default),
        "all" => Ok(FormatChoice::All),
        custom => {
            let fields = format::parse_log_format(custom).map_err(|e| match e {
                format::FormatError::UnknownField {
                    field,
                    suggestion: Some(s),
                } => format!("`{field}` is not a VPC flow log field: did you mean `${{{s}}}`?"),
                other => {
                    format!("{other}: write default, all, or \"${{version}} ${{srcaddr}} ...\"")
                }
            })?;
            Ok(FormatChoice::Custom(
                fields.iter().map(|f| f.name.to_string()).collect(),
            ))
        }
    }
}

pub fn check_stack(stack: &str) -> Result<(), String> {
    config::check_stack_name(stack).map_err(|p| {
        format!("{p}: use 1 to 24 lowercase letters, digits and hyphens, starting with a letter (it becomes part of bucket, role and function names)")
    })
}

/// An AWS region name such as `us-east-1`.
pub fn check_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{region}` is not an AWS region name: write one such as us-east-1"
        ))
    }
}

/// An http(s) URL with a host, as `setup` requires.
pub fn check_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw)
        .map_err(|e| format!("`{raw}` is not a URL ({e}): write http(s)://host:port"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "`{raw}` is not an http(s) URL with a host: write http(s)://host:port"
        ));
    }
    Ok(())
}

pub fn check_header_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(format!(
            "`{name}` is not an HTTP header name: use letters, digits, `-` and `_`"
        ));
    }
    Ok(())
}

/// The name of an environment variable (not its value).
pub fn check_env_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not an environment variable name: use letters, digits and `_` (the name, such as SIGNOZ_KEY, not the secret)"
        ))
    }
}

/// The environment variable name proposed for a header: `signoz-ingestion-key` -> `SIGNOZ_INGESTION_KEY`.
pub fn env_name_for(header: &str) -> String {
    let name: String = header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("H_{name}")
    } else {
        name
    }
}

pub fn check_service_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        Err("the service name is empty: write a name such as vpc-flow-logs".into())
    } else {
        Ok(())
    }
}

pub fn check_retention(days: u32) -> Result<(), String> {
    if days == 0 {
        Err("0 days would delete every log at once: use a number of days, for example 90".into())
    } else {
        Ok(())
    }
}

pub fn check_memory(mb: u32) -> Result<(), String> {
    if (128..=10240).contains(&mb) {
        Ok(())
    } else {
        Err(format!(
            "{mb} MB is outside what Lambda offers: use 128 to 10240"
        ))
    }
}

pub fn check_timeout(s: u32) -> Result<(), String> {
    if (1..=900).contains(&s) {
        Ok(())
    } else {
        Err(format!("{s} s is outside what Lambda offers: use 1 to 900"))
    }
}

/// `<stack>-flowlogs-<account>-<region>`, the name `setup` gives a new bucket when `name` is null.
pub fn derived_bucket_name(stack: &str, account: &str, region: &str) -> String {
    format!("{stack}-flowlogs-{account}-{region}")
}
