//! The wizard's answers are a `RawConfig`, the very struct a file is read into. The flags
//! (`InitAnswers`) and defaults give the first draft; every answer is written into it and the
//! config's own checker (`config::check_raw`) judges the whole draft, so no rule lives here.

use std::path::Path;

use anyhow::{bail, Result};

use crate::cli::InitAnswers;
use crate::config::raw::{
    RawBucket, RawBuffering, RawDelivery, RawFirehose, RawFlowLog, RawLambda, RawOtlp, RawResources,
};
use crate::config::{
    self, Architecture, Config, ConfigError, ConfigValue, ContentEncoding, DeliveryMode,
    FileFormat, OtlpProtocol, RawConfig, ResourceType, TrafficType,
};

pub const DEFAULT_STACK: &str = "main";
pub const DEFAULT_SERVICE_NAME: &str = "vpc-flow-logs";
/// What errors about the wizard's answers name as their source.
const SOURCE: &str = "flowlogs init";
/// Stand-ins for the answers that have no default, so that the checker can judge the draft before
/// they are given. Never written: the wizard asks for them and `--non-interactive` requires them.
const STAND_IN_VPC: &str = "vpc-0";
const STAND_IN_URL: &str = "https://collector.example.com:4318";

/// The raw config being built, and which answers without a default the flags gave.
#[derive(Debug, Clone)]
pub struct Draft {
    pub raw: RawConfig,
    pub has_resources: bool,
    pub has_endpoint: bool,
    pub has_firehose_url: bool,
}

/// The config's checker on `raw`, as for a file.
pub fn check(raw: &RawConfig) -> Result<Config, ConfigError> {
    config::check_raw(raw, Path::new(SOURCE))
}

/// The checker's verdict as the line a prompt shows.
pub fn verdict(raw: &RawConfig) -> Result<(), String> {
    check(raw).map(|_| ()).map_err(|e| e.message())
}

/// `${env:NAME}`: how a secret's variable is written into the config.
pub fn env_ref(name: &str) -> String {
    format!("${{env:{name}}}")
}

/// The variable a `${env:NAME}` value reads, if it is just that.
pub fn env_of(value: &str) -> Option<String> {
    value
        .strip_prefix("${env:")
        .and_then(|rest| rest.strip_suffix('}'))
        .map(str::to_string)
}

/// Ids separated by commas or spaces, as typed.
pub fn split_ids(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn set_resources(raw: &mut RawConfig, kind: ResourceType, ids: Vec<String>) {
    let mut resources = RawResources::default();
    match kind {
        ResourceType::Vpc => resources.vpc_ids = ids,
        ResourceType::Subnet => resources.subnet_ids = ids,
        ResourceType::NetworkInterface => resources.eni_ids = ids,
        ResourceType::TransitGateway => resources.transit_gateway_ids = ids,
        ResourceType::TransitGatewayAttachment => resources.transit_gateway_attachment_ids = ids,
    }
    raw.flow_log.resources = resources;
}

/// The kind and ids the draft logs.
pub fn resources(raw: &RawConfig) -> (ResourceType, &[String]) {
    let r = &raw.flow_log.resources;
    if !r.subnet_ids.is_empty() {
        (ResourceType::Subnet, &r.subnet_ids)
    } else if !r.eni_ids.is_empty() {
        (ResourceType::NetworkInterface, &r.eni_ids)
    } else {
        (ResourceType::Vpc, &r.vpc_ids)
    }
}

/// The OTLP section (the draft always has one).
pub fn otlp(raw: &mut RawConfig) -> &mut RawOtlp {
    raw.delivery.otlp.get_or_insert_with(|| RawOtlp {
        endpoint: STAND_IN_URL.into(),
        protocol: OtlpProtocol::default(),
        headers: Default::default(),
        service_name: DEFAULT_SERVICE_NAME.into(),
        body: Default::default(),
        compression: Default::default(),
    })
}

/// The Firehose section (the draft always has one).
pub fn firehose(raw: &mut RawConfig) -> &mut RawFirehose {
    raw.delivery.firehose.get_or_insert_with(|| RawFirehose {
        url: STAND_IN_URL.into(),
        access_key: None,
        content_encoding: ContentEncoding::default(),
        buffering: RawBuffering::default(),
        retry_duration_s: 300,
        common_attributes: Default::default(),
    })
}

/// The first (only) auth header the wizard writes: its name and the variable holding its value.
pub fn header(raw: &RawConfig) -> Option<(String, Option<String>)> {
    let otlp = raw.delivery.otlp.as_ref()?;
    let (name, value) = otlp.headers.iter().next()?;
    Some((name.clone(), env_of(value)))
}

pub fn set_header(raw: &mut RawConfig, header: Option<(&str, &str)>) {
    let headers = &mut otlp(raw).headers;
    headers.clear();
    if let Some((name, env)) = header {
        headers.insert(name.to_string(), env_ref(env));
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

/// The environment variables the config reads (to tell the user what to export).
pub fn env_vars(raw: &RawConfig) -> Vec<String> {
    let values: Vec<&String> = match raw.delivery.mode {
        DeliveryMode::Lambda => raw
            .delivery
            .otlp
            .iter()
            .flat_map(|o| o.headers.values())
            .collect(),
        DeliveryMode::Firehose => raw
            .delivery
            .firehose
            .iter()
            .flat_map(|f| f.access_key.iter())
            .collect(),
    };
    values
        .into_iter()
        .filter_map(|v| ConfigValue::parse(v, &|_| None).ok())
        .flat_map(|v| {
            v.env_names()
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Draft {
    /// The flags and defaults as a raw config (the region is the profile's, if any).
    pub fn from_flags(a: &InitAnswers, region: Option<String>) -> Draft {
        let mut raw = RawConfig {
            version: 1,
            stack: a.stack.clone().unwrap_or_else(|| DEFAULT_STACK.into()),
            region,
            flow_log: RawFlowLog {
                resources: RawResources::default(),
                traffic_type: match a.traffic_type.as_deref().map(str::to_ascii_uppercase) {
                    Some(t) if t == "ACCEPT" => TrafficType::Accept,
                    Some(t) if t == "REJECT" => TrafficType::Reject,
                    _ => TrafficType::All,
                },
                format: a.format.clone().unwrap_or_else(|| "default".into()),
                max_aggregation_interval: a.interval.unwrap_or(600),
                file_format: match a.file_format.as_deref() {
                    Some(f) if f.eq_ignore_ascii_case("parquet") => FileFormat::Parquet,
                    _ => FileFormat::PlainText,
                },
                hive_compatible_partitions: a.hive_partitions,
                per_hour_partition: a.hourly_partitions,
                transit_gateway_format: "default".into(),
                transit_gateway_folder: "tgw/".into(),
            },
            bucket: RawBucket {
                name: a.bucket.clone().or_else(|| a.existing_bucket.clone()),
                create: a.existing_bucket.is_none(),
                retention_days: a
                    .retention_days
                    .unwrap_or(RawBucket::default().retention_days),
                ..RawBucket::default()
            },
            delivery: RawDelivery {
                mode: match a.mode.as_deref() {
                    Some(m) if m.eq_ignore_ascii_case("firehose") => DeliveryMode::Firehose,
                    Some(_) => DeliveryMode::Lambda,
                    None if a.firehose_url.is_some() => DeliveryMode::Firehose,
                    None => DeliveryMode::Lambda,
                },
                otlp: None,
                filter: None,
                lambda: RawLambda {
                    memory_mb: a.memory_mb.unwrap_or(RawLambda::default().memory_mb),
                    timeout_s: a.timeout_s.unwrap_or(RawLambda::default().timeout_s),
                    // New configs get arm64 (20% less per GB-second, README "What it costs");
                    // a file without `architecture:` still means x86_64.
                    architecture: match a.architecture.as_deref() {
                        Some(x) if x.eq_ignore_ascii_case("x86_64") => Architecture::X86_64,
                        _ => Architecture::Arm64,
                    },
                    ..RawLambda::default()
                },
                firehose: None,
            },
            athena: None,
            targets: None,
        };
        let flagged = [
            (ResourceType::Vpc, &a.vpc_id),
            (ResourceType::Subnet, &a.subnet_id),
            (ResourceType::NetworkInterface, &a.eni_id),
        ]
        .into_iter()
        .find(|(_, ids)| !ids.is_empty());
        match flagged {
            Some((kind, ids)) => set_resources(&mut raw, kind, ids.clone()),
            None => set_resources(&mut raw, ResourceType::Vpc, vec![STAND_IN_VPC.into()]),
        }
        let o = otlp(&mut raw);
        if let Some(endpoint) = &a.endpoint {
            o.endpoint = endpoint.clone();
        }
        if let Some(p) = a.protocol.as_deref() {
            if p.eq_ignore_ascii_case("http/json") {
                o.protocol = OtlpProtocol::HttpJson;
            }
        }
        if let Some(name) = &a.service_name {
            o.service_name = name.clone();
        }
        if let (Some(name), Some(env)) = (&a.header_name, &a.header_env) {
            set_header(&mut raw, Some((name, env)));
        }
        let f = firehose(&mut raw);
        if let Some(url) = &a.firehose_url {
            f.url = url.clone();
        }
        f.access_key = a.access_key_env.as_deref().map(env_ref);
        Draft {
            raw,
            has_resources: flagged.is_some(),
            has_endpoint: a.endpoint.is_some(),
            has_firehose_url: a.firehose_url.is_some(),
        }
    }

    /// Checks the flags with the config's checker; an error names the flag and the key.
    pub fn check_flags(&self) -> Result<()> {
        match check(&self.raw) {
            Ok(_) => Ok(()),
            Err(e) => bail!("{}: {}", flag_of(&e.key), e.message()),
        }
    }

    /// The config for `--non-interactive`: every answer without a default must be a flag.
    pub fn into_answers(self) -> Result<RawConfig> {
        if !self.has_resources {
            bail!("--non-interactive needs what to log: --vpc-id ID (repeatable), --subnet-id ID or --eni-id ID");
        }
        match self.raw.delivery.mode {
            DeliveryMode::Lambda if !self.has_endpoint => bail!(
                "--non-interactive needs the OTLP endpoint the forwarder sends to: --endpoint https://collector.example.com:4318"
            ),
            DeliveryMode::Firehose if !self.has_firehose_url => bail!(
                "--mode firehose needs the HTTP endpoint Firehose posts to: --firehose-url https://..."
            ),
            _ => {}
        }
        self.check_flags()?;
        Ok(self.raw)
    }
}

/// The flag that sets a config key (for errors about flags).
fn flag_of(key: &str) -> &'static str {
    const FLAGS: &[(&str, &str)] = &[
        ("stack", "--stack"),
        ("region", "--region"),
        ("flow_log.resources", "--vpc-id, --subnet-id or --eni-id"),
        ("flow_log.format", "--format"),
        ("flow_log.max_aggregation_interval", "--interval"),
        ("flow_log.file_format", "--file-format"),
        ("bucket.name", "--bucket or --existing-bucket"),
        ("bucket.retention_days", "--retention-days"),
        ("delivery.otlp.endpoint", "--endpoint"),
        ("delivery.otlp.headers", "--header-name or --header-env"),
        ("delivery.otlp.service_name", "--service-name"),
        ("delivery.lambda.memory_mb", "--memory-mb"),
        ("delivery.lambda.timeout_s", "--timeout-s"),
        ("delivery.firehose.url", "--firehose-url"),
        ("delivery.firehose.access_key", "--access-key-env"),
    ];
    FLAGS
        .iter()
        .find(|(k, _)| key.starts_with(k))
        .map_or("a flag", |(_, flag)| flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> InitAnswers {
        InitAnswers {
            vpc_id: vec!["vpc-0abc".into()],
            endpoint: Some("https://otel.example.com:4318".into()),
            ..InitAnswers::default()
        }
    }

    #[test]
    fn bad_flags_are_refused_by_the_checker_naming_the_flag() {
        for (a, flag, key) in [
            (
                InitAnswers {
                    memory_mb: Some(64),
                    ..flags()
                },
                "--memory-mb",
                "delivery.lambda.memory_mb",
            ),
            (
                InitAnswers {
                    header_name: Some("x-key".into()),
                    header_env: Some("2KEY".into()),
                    ..flags()
                },
                "--header-name or --header-env",
                "delivery.otlp.headers.x-key",
            ),
            (
                InitAnswers {
                    stack: Some("Prod".into()),
                    ..flags()
                },
                "--stack",
                "stack",
            ),
        ] {
            let e = Draft::from_flags(&a, None)
                .into_answers()
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(&format!("{flag}: {key}: ")), "{e}");
        }
    }

    #[test]
    fn flags_without_a_default_are_required() {
        let e = Draft::from_flags(&InitAnswers::default(), None)
            .into_answers()
            .unwrap_err();
        assert!(e.to_string().contains("--vpc-id"));
        let raw = Draft::from_flags(&flags(), Some("eu-west-1".into()))
            .into_answers()
            .unwrap();
        assert_eq!(raw.stack, DEFAULT_STACK);
        assert_eq!(raw.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn header_names_become_env_names() {
        assert_eq!(env_name_for("signoz-ingestion-key"), "SIGNOZ_INGESTION_KEY");
        assert_eq!(env_name_for("1key"), "H_1KEY");
        assert!(crate::config::rules::env_name(&env_name_for("9-x")).is_ok());
    }
}
