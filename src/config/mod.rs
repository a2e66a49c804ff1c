//! `flowlogs.yaml`: read the raw file, check every key, and build the `Config` the rest of the program trusts.
//! Every error names the file, the line, the key and the fix, before any AWS call is made.

mod locate;
pub mod raw;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use flowlogs_forwarder::format::{self, FormatError};
use serde::Serialize;

pub use raw::{
    Architecture, ContentEncoding, DeliveryMode, FileFormat, OtlpProtocol, RawConfig, TrafficType,
};
pub use value::{ConfigValue, REDACTED};

/// The checked configuration of one stack.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub stack: String,
    pub region: Option<String>,
    pub flow_log: FlowLogConfig,
    pub bucket: BucketConfig,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowLogConfig {
    pub resource_type: ResourceType,
    pub resource_ids: Vec<String>,
    pub traffic_type: TrafficType,
    pub format: LogFormat,
    pub max_aggregation_interval: u32,
    pub file_format: FileFormat,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum ResourceType {
    #[serde(rename = "VPC")]
    Vpc,
    Subnet,
    NetworkInterface,
}

impl ResourceType {
    pub fn as_aws(self) -> &'static str {
        match self {
            ResourceType::Vpc => "VPC",
            ResourceType::Subnet => "Subnet",
            ResourceType::NetworkInterface => "NetworkInterface",
        }
    }
}

/// The record format, as the flow log's `LogFormat` (`${field} ...`) and as the list of its fields.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogFormat {
    /// `default`, `all` or `custom`, as the user chose.
    pub kind: &'static str,
    pub spec: String,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BucketConfig {
    pub name: Option<String>,
    pub create: bool,
    /// Empty, or a folder ending in `/`.
    pub prefix: String,
    pub retention_days: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Delivery {
    Lambda { otlp: Otlp, lambda: LambdaSettings },
    Firehose { firehose: FirehoseSettings },
}

#[derive(Debug, Clone, Serialize)]
pub struct Otlp {
    pub endpoint: String,
    pub protocol: OtlpProtocol,
    pub headers: BTreeMap<String, ConfigValue>,
    pub service_name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LambdaSettings {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub architecture: Architecture,
}

#[derive(Debug, Clone, Serialize)]
pub struct FirehoseSettings {
    pub url: String,
    pub access_key: Option<ConfigValue>,
    pub content_encoding: ContentEncoding,
    pub buffering_size_mb: u32,
    pub buffering_interval_s: u32,
    pub retry_duration_s: u32,
    pub common_attributes: BTreeMap<String, ConfigValue>,
}

/// A config problem: where it is, what is wrong, and what to write instead.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.problem)?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Reads and checks a config file, resolving `${env:...}` from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        key: String::new(),
        problem: format!("cannot read the config file: {e}"),
        fix: "write one with `flowlogs init`, or pass its path with -c".into(),
    })?;
    parse(&text, path, &|name| std::env::var(name).ok())
}

/// Parses and checks config text; `lookup` reads environment variables.
pub fn parse(
    text: &str,
    file: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let raw: RawConfig = serde_yaml::from_str(text).map_err(|e| yaml_error(&e, text, file))?;
    Checker { text, file, lookup }.check(raw)
}

fn yaml_error(e: &serde_yaml::Error, text: &str, file: &Path) -> ConfigError {
    let message = e.to_string();
    // serde_yaml says "path.to.key: problem at line L column C"; split the key from the problem.
    let (key, rest) = match message.split_once(": ") {
        Some((k, r)) if !k.contains(' ') => (k.to_string(), r.to_string()),
        _ => (String::new(), message.clone()),
    };
    let problem = match rest.find(" at line ") {
        Some(i) => rest[..i].to_string(),
        None => rest,
    };
    let fix = suggest_for_yaml_problem(&problem);
    let line = e
        .location()
        .map(|l| l.line())
        .or_else(|| locate::line_of(text, &key));
    ConfigError {
        file: file.to_path_buf(),
        line,
        key,
        problem,
        fix,
    }
}

/// For "unknown field `x`, expected one of `a`, `b`" and "unknown variant", name the closest allowed word.
fn suggest_for_yaml_problem(problem: &str) -> String {
    let ticked: Vec<&str> = problem.split('`').skip(1).step_by(2).collect();
    if let [given, allowed @ ..] = ticked.as_slice() {
        if problem.starts_with("unknown field") || problem.starts_with("unknown variant") {
            if let Some(best) = closest(given, allowed.iter().copied()) {
                return format!("did you mean `{best}`?");
            }
            return format!("use one of: {}", allowed.join(", "));
        }
    }
    if problem.starts_with("missing field") {
        return "add the key (see templates/flowlogs.yaml for an annotated example)".into();
    }
    if problem.starts_with("invalid type") {
        return "check the value's type against templates/flowlogs.yaml".into();
    }
    String::new()
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub fn closest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::levenshtein(given, c), c))
        .filter(|(d, c)| *d <= (c.len().max(given.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

struct Checker<'a> {
    text: &'a str,
    file: &'a Path,
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Checker<'_> {
    fn error(&self, key: &str, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: locate::line_of(self.text, key),
            key: key.to_string(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    fn value(&self, key: &str, raw: &str) -> Result<ConfigValue, ConfigError> {
        ConfigValue::parse(raw, self.lookup).map_err(|p| {
            self.error(
                key,
                p,
                "write `${env:NAME}` to read a secret from the environment",
            )
        })
    }

    fn check(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        if raw.version != 1 {
            return Err(self.error(
                "version",
                format!("version {} is not known to this flowlogs", raw.version),
                "write `version: 1`",
            ));
        }
        check_stack_name(&raw.stack).map_err(|p| {
            self.error(
                "stack",
                p,
                "use 1 to 24 lowercase letters, digits and hyphens, starting with a letter",
            )
        })?;
        let flow_log = self.flow_log(&raw.flow_log)?;
        let bucket = self.bucket(&raw.bucket)?;
        let delivery = self.delivery(&raw.delivery)?;
        if matches!(delivery, Delivery::Firehose { .. })
            && flow_log.file_format == FileFormat::Parquet
        {
            return Err(self.error(
                "flow_log.file_format",
                "parquet cannot be delivered through Firehose, which receives plain text",
                "use `file_format: plain-text`, or `delivery.mode: lambda`",
            ));
        }
        if let Some(region) = &raw.region {
            if !is_region_name(region) {
                return Err(self.error(
                    "region",
                    format!("`{region}` is not an AWS region name"),
                    "write a region such as `us-east-1`, or leave it out to use the profile's region",
                ));
            }
        }
        Ok(Config {
            stack: raw.stack,
            region: raw.region,
            flow_log,
            bucket,
            delivery,
        })
    }

    fn flow_log(&self, raw: &raw::RawFlowLog) -> Result<FlowLogConfig, ConfigError> {
        let r = &raw.resources;
        let given: Vec<(ResourceType, &Vec<String>, &str, &str)> = [
            (ResourceType::Vpc, &r.vpc_ids, "vpc_ids", "vpc-"),
            (ResourceType::Subnet, &r.subnet_ids, "subnet_ids", "subnet-"),
            (
                ResourceType::NetworkInterface,
                &r.eni_ids,
                "eni_ids",
                "eni-",
            ),
        ]
        .into_iter()
        .filter(|(_, ids, _, _)| !ids.is_empty())
        .collect();
        let (resource_type, ids, key, id_prefix) = match given.as_slice() {
            [one] => *one,
            [] => {
                return Err(self.error(
                    "flow_log.resources",
                    "no VPC, subnet or network interface to log",
                    "list them under `vpc_ids`, `subnet_ids` or `eni_ids`",
                ))
            }
            _ => {
                return Err(self.error(
                    "flow_log.resources",
                    "one flow log config takes one kind of resource (AWS creates one flow log per resource type)",
                    "keep only one of `vpc_ids`, `subnet_ids` and `eni_ids`",
                ))
            }
        };
        let full_key = format!("flow_log.resources.{key}");
        for id in ids {
            let hex = id.strip_prefix(id_prefix).unwrap_or("");
            if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(self.error(
                    &full_key,
                    format!("`{id}` is not a {id_prefix}... id"),
                    format!("write ids such as `{id_prefix}0abc1234def567890`"),
                ));
            }
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != ids.len() {
            return Err(self.error(&full_key, "an id is listed twice", "list each id once"));
        }
        if !matches!(raw.max_aggregation_interval, 60 | 600) {
            return Err(self.error(
                "flow_log.max_aggregation_interval",
                format!(
                    "{} seconds is not an interval AWS offers",
                    raw.max_aggregation_interval
                ),
                "use 60 or 600",
            ));
        }
        let format = self.log_format(&raw.format)?;
        Ok(FlowLogConfig {
            resource_type,
            resource_ids: ids.clone(),
            traffic_type: raw.traffic_type,
            format,
            max_aggregation_interval: raw.max_aggregation_interval,
            file_format: raw.file_format,
            hive_compatible_partitions: raw.hive_compatible_partitions,
            per_hour_partition: raw.per_hour_partition,
        })
    }

    fn log_format(&self, raw: &str) -> Result<LogFormat, ConfigError> {
        let key = "flow_log.format";
        let (kind, spec) = match raw.trim() {
            "default" => ("default", format::default_format()),
            "all" => ("all", format::all_format()),
            custom => ("custom", custom.to_string()),
        };
        let fields = format::parse_log_format(&spec).map_err(|e| match e {
            FormatError::UnknownField { field, suggestion } => self.error(
                key,
                format!("`{field}` is not a VPC flow log field"),
                match suggestion {
                    Some(s) => format!("did you mean `${{{s}}}`?"),
                    None => "see the field list in templates/flowlogs.yaml".into(),
                },
            ),
            other => self.error(
                key,
                other.to_string(),
                "write `default`, `all`, or fields as `${version} ${srcaddr} ...`",
            ),
        })?;
        Ok(LogFormat {
            kind,
            spec,
            fields: fields.iter().map(|f| f.name.to_string()).collect(),
        })
    }

    fn bucket(&self, raw: &raw::RawBucket) -> Result<BucketConfig, ConfigError> {
        if let Some(name) = &raw.name {
            check_bucket_name(name).map_err(|p| {
                self.error(
                    "bucket.name",
                    p,
                    "use 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit",
                )
            })?;
        } else if !raw.create {
            return Err(self.error(
                "bucket.name",
                "`create: false` adopts an existing bucket, so its name is needed",
                "write the existing bucket's name, or set `create: true`",
            ));
        }
        let prefix = raw.prefix.trim_matches('/');
        if prefix.contains("//") || prefix.starts_with("AWSLogs") {
            return Err(self.error(
                "bucket.prefix",
                format!("`{}` is not a usable folder", raw.prefix),
                "write a folder such as `flow-logs` (AWS adds AWSLogs/ itself)",
            ));
        }
        if raw.retention_days == 0 {
            return Err(self.error(
                "bucket.retention_days",
                "0 days would delete every log at once",
                "use a number of days, for example 90",
            ));
        }
        Ok(BucketConfig {
            name: raw.name.clone(),
            create: raw.create,
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            retention_days: raw.retention_days,
        })
    }

    fn delivery(&self, raw: &raw::RawDelivery) -> Result<Delivery, ConfigError> {
        match raw.mode {
            DeliveryMode::Lambda => {
                let Some(otlp) = &raw.otlp else {
                    return Err(self.error(
                        "delivery.otlp",
                        "`mode: lambda` sends records over OTLP, but no endpoint is given",
                        "add `otlp: { endpoint: https://collector.example.com:4318 }` under `delivery`",
                    ));
                };
                check_url(&otlp.endpoint).map_err(|p| {
                    self.error(
                        "delivery.otlp.endpoint",
                        p,
                        "write an http:// or https:// URL",
                    )
                })?;
                let mut headers = BTreeMap::new();
                for (name, value) in &otlp.headers {
                    let key = format!("delivery.otlp.headers.{name}");
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
                    {
                        return Err(self.error(
                            &key,
                            format!("`{name}` is not an HTTP header name"),
                            "use letters, digits, `-` and `_`",
                        ));
                    }
                    headers.insert(name.clone(), self.value(&key, value)?);
                }
                if otlp.service_name.trim().is_empty() {
                    return Err(self.error(
                        "delivery.otlp.service_name",
                        "the service name is empty",
                        "write a name such as `vpc-flow-logs`",
                    ));
                }
                let l = &raw.lambda;
                if !(128..=10240).contains(&l.memory_mb) {
                    return Err(self.error(
                        "delivery.lambda.memory_mb",
                        format!("{} MB is outside what Lambda offers", l.memory_mb),
                        "use 128 to 10240",
                    ));
                }
                if !(1..=900).contains(&l.timeout_s) {
                    return Err(self.error(
                        "delivery.lambda.timeout_s",
                        format!("{} s is outside what Lambda offers", l.timeout_s),
                        "use 1 to 900",
                    ));
                }
                Ok(Delivery::Lambda {
                    otlp: Otlp {
                        endpoint: otlp.endpoint.trim_end_matches('/').to_string(),
                        protocol: otlp.protocol,
                        headers,
                        service_name: otlp.service_name.clone(),
                    },
                    lambda: LambdaSettings {
                        memory_mb: l.memory_mb,
                        timeout_s: l.timeout_s,
                        architecture: l.architecture,
                    },
                })
            }
            DeliveryMode::Firehose => {
                let Some(fh) = &raw.firehose else {
                    return Err(self.error(
                        "delivery.firehose",
                        "`mode: firehose` needs the HTTP endpoint to deliver to",
                        "add `firehose: { url: https://..., access_key: \"${env:NAME}\" }` under `delivery`",
                    ));
                };
                if !fh.url.starts_with("https://") && !fh.url.starts_with("http://") {
                    return Err(self.error(
                        "delivery.firehose.url",
                        format!("`{}` is not a URL", fh.url),
                        "write the endpoint's https:// URL (Firehose requires HTTPS on AWS)",
                    ));
                }
                check_url(&fh.url)
                    .map_err(|p| self.error("delivery.firehose.url", p, "write an https:// URL"))?;
                if !(1..=128).contains(&fh.buffering.size_mb) {
                    return Err(self.error(
                        "delivery.firehose.buffering.size_mb",
                        format!(
                            "{} MB is outside what Firehose offers",
                            fh.buffering.size_mb
                        ),
                        "use 1 to 128 (HTTP endpoints: at most 64)",
                    ));
                }
                if !(0..=900).contains(&fh.buffering.interval_s) {
                    return Err(self.error(
                        "delivery.firehose.buffering.interval_s",
                        format!(
                            "{} s is outside what Firehose offers",
                            fh.buffering.interval_s
                        ),
                        "use 0 to 900",
                    ));
                }
                if fh.retry_duration_s > 7200 {
                    return Err(self.error(
                        "delivery.firehose.retry_duration_s",
                        format!("{} s is longer than Firehose retries", fh.retry_duration_s),
                        "use 0 to 7200",
                    ));
                }
                let access_key = match &fh.access_key {
                    Some(k) => Some(self.value("delivery.firehose.access_key", k)?),
                    None => None,
                };
                let mut common_attributes = BTreeMap::new();
                for (name, value) in &fh.common_attributes {
                    let key = format!("delivery.firehose.common_attributes.{name}");
                    common_attributes.insert(name.clone(), self.value(&key, value)?);
                }
                Ok(Delivery::Firehose {
                    firehose: FirehoseSettings {
                        url: fh.url.clone(),
                        access_key,
                        content_encoding: fh.content_encoding,
                        buffering_size_mb: fh.buffering.size_mb,
                        buffering_interval_s: fh.buffering.interval_s,
                        retry_duration_s: fh.retry_duration_s,
                        common_attributes,
                    },
                })
            }
        }
    }
}

/// Stack names become parts of bucket, role, function and stream names, so they are kept short and plain.
pub fn check_stack_name(stack: &str) -> Result<(), String> {
    let ok_chars = stack
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if stack.is_empty() || stack.len() > 24 {
        return Err(format!("`{stack}` must be 1 to 24 characters long"));
    }
    if !ok_chars || !stack.starts_with(|c: char| c.is_ascii_lowercase()) || stack.ends_with('-') {
        return Err(format!("`{stack}` is not a usable stack name"));
    }
    Ok(())
}

/// S3's bucket naming rules (general purpose buckets).
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{name}` is not a valid S3 bucket name: {why}"));
    if !(3..=63).contains(&name.len()) {
        return bad("it must be 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return bad("only lowercase letters, digits, hyphens and dots are allowed");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return bad("it must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return bad("dots may not be next to each other or to a hyphen");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("it may not look like an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return bad(&format!("it may not start with `{prefix}`"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return bad(&format!("it may not end with `{suffix}`"));
        }
    }
    Ok(())
}

fn check_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{raw}` is not an http(s) URL with a host"));
    }
    Ok(())
}

fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests;
