//! The config file exactly as the user wrote it: serde structs with defaults and no checks beyond types.
//! `super::Checker` turns this into the `Config` the rest of the program trusts. The same structs
//! give `flowlogs schema` its JSON Schema; the bounds written on them come from `super::rules`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rules;

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    #[schemars(length(min = *rules::STACK_LEN.start(), max = *rules::STACK_LEN.end()), pattern(rules::STACK_PATTERN))]
    pub stack: String,
    #[serde(default)]
    #[schemars(pattern(rules::REGION_PATTERN))]
    pub region: Option<String>,
    pub flow_log: RawFlowLog,
    #[serde(default)]
    pub bucket: RawBucket,
    pub delivery: RawDelivery,
    #[serde(default)]
    pub athena: Option<RawAthena>,
    /// The accounts and regions the flow logs are made in; without it, the stack's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<RawTargets>,
}

/// `targets:`: flow logs in many accounts and regions, delivering to this stack's bucket. One of
/// `accounts`, `organization: true` or `organizational_units` says which accounts.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    /// 12-digit account ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(rules::ACCOUNT_PATTERN)), extend("uniqueItems" = true))]
    pub accounts: Vec<String>,
    /// Every ACTIVE account of the organisation (Organizations ListAccounts).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub organization: bool,
    /// Every ACTIVE account in these OUs and their child OUs (`ou-...`, or a root `r-...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(rules::OU_PATTERN)), extend("uniqueItems" = true))]
    pub organizational_units: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(rules::ACCOUNT_PATTERN)), extend("uniqueItems" = true))]
    pub exclude_accounts: Vec<String>,
    /// Default: the stack's region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(rules::REGION_PATTERN)), extend("uniqueItems" = true))]
    pub regions: Vec<String>,
    /// The role assumed in each member account: a name, or an ARN with `{account}`.
    #[serde(default = "default_target_role")]
    pub role: String,
    /// STS AssumeRole `ExternalId`, usually `${env:NAME}`; never printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Targets worked on at once.
    #[serde(default = "default_target_concurrency")]
    #[schemars(range(min = *rules::TARGET_CONCURRENCY.start(), max = *rules::TARGET_CONCURRENCY.end()))]
    pub concurrency: u32,
}

pub fn default_target_role() -> String {
    "OrganizationAccountAccessRole".into()
}

pub fn default_target_concurrency() -> u32 {
    8
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawFlowLog {
    pub resources: RawResources,
    #[serde(default)]
    pub traffic_type: TrafficType,
    #[serde(default = "default_format")]
    #[schemars(extend("description" = "default | all | fields as \"${version} ${srcaddr} ...\" (field names are checked by flowlogs, not by this schema)"))]
    pub format: String,
    #[serde(default = "default_interval")]
    #[schemars(extend("enum" = [60, 600]))]
    pub max_aggregation_interval: u32,
    #[serde(default)]
    pub file_format: FileFormat,
    #[serde(default)]
    pub hive_compatible_partitions: bool,
    #[serde(default)]
    pub per_hour_partition: bool,
    /// The record format of the transit gateway flow logs (their fields differ from a VPC's):
    /// `default` (every transit gateway field) or fields as "${version} ${tgw-id} ...".
    #[serde(default = "default_format")]
    #[schemars(extend("description" = "default (every transit gateway field) | fields as \"${version} ${tgw-id} ${srcaddr} ...\" (field names are checked by flowlogs, not by this schema)"))]
    pub transit_gateway_format: String,
    /// The bucket folder (under `bucket.prefix`) the transit gateway flow logs deliver to, so that
    /// one key prefix never holds two record formats.
    #[serde(default = "default_tgw_folder")]
    #[schemars(length(min = 1, max = 64), pattern(rules::PREFIX_PATTERN))]
    pub transit_gateway_folder: String,
}

fn default_tgw_folder() -> String {
    "tgw/".into()
}

fn default_format() -> String {
    "default".into()
}

fn default_interval() -> u32 {
    600
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawResources {
    #[serde(default)]
    #[schemars(length(max = rules::MAX_RESOURCE_IDS), inner(pattern("^vpc-[0-9a-fA-F]+$")), extend("uniqueItems" = true))]
    pub vpc_ids: Vec<String>,
    #[serde(default)]
    #[schemars(length(max = rules::MAX_RESOURCE_IDS), inner(pattern("^subnet-[0-9a-fA-F]+$")), extend("uniqueItems" = true))]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    #[schemars(length(max = rules::MAX_RESOURCE_IDS), inner(pattern("^eni-[0-9a-fA-F]+$")), extend("uniqueItems" = true))]
    pub eni_ids: Vec<String>,
    /// Transit gateways, logged beside (or instead of) the VPC, subnet or ENI ids.
    #[serde(default)]
    #[schemars(length(max = rules::MAX_RESOURCE_IDS), inner(pattern("^tgw-[0-9a-fA-F]+$")), extend("uniqueItems" = true))]
    pub transit_gateway_ids: Vec<String>,
    /// Transit gateway attachments (VPC, VPN, peering, Direct Connect gateway), logged one by one.
    #[serde(default)]
    #[schemars(length(max = rules::MAX_RESOURCE_IDS), inner(pattern("^tgw-attach-[0-9a-fA-F]+$")), extend("uniqueItems" = true))]
    pub transit_gateway_attachment_ids: Vec<String>,
    /// Every VPC of each target account and region (the stack's own without `targets`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_vpcs: bool,
    /// The VPCs that carry all of these tags (key: value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vpc_tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrafficType {
    #[serde(rename = "ACCEPT")]
    Accept,
    #[serde(rename = "REJECT")]
    Reject,
    #[default]
    #[serde(rename = "ALL")]
    All,
}

impl TrafficType {
    pub fn as_aws(self) -> &'static str {
        match self {
            TrafficType::Accept => "ACCEPT",
            TrafficType::Reject => "REJECT",
            TrafficType::All => "ALL",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    #[default]
    PlainText,
    Parquet,
}

impl FileFormat {
    pub fn as_aws(self) -> &'static str {
        match self {
            FileFormat::PlainText => "plain-text",
            FileFormat::Parquet => "parquet",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawBucket {
    #[serde(default)]
    #[schemars(length(min = 3, max = 63), pattern(rules::BUCKET_NAME_PATTERN))]
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub create: bool,
    #[serde(default)]
    #[schemars(length(max = rules::PREFIX_MAX_LEN), pattern(rules::PREFIX_PATTERN))]
    pub prefix: String,
    #[serde(default = "default_retention")]
    #[schemars(range(min = *rules::RETENTION_DAYS.start(), max = *rules::RETENTION_DAYS.end()))]
    pub retention_days: u32,
}

impl Default for RawBucket {
    fn default() -> Self {
        RawBucket {
            name: None,
            create: true,
            prefix: String::new(),
            retention_days: default_retention(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_retention() -> u32 {
    90
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawDelivery {
    #[serde(default)]
    pub mode: DeliveryMode,
    #[serde(default)]
    pub otlp: Option<RawOtlp>,
    #[serde(default)]
    pub lambda: RawLambda,
    #[serde(default)]
    pub firehose: Option<RawFirehose>,
    /// Records the forwarder drops instead of sending (lambda mode), counted as `filtered`.
    #[serde(default)]
    pub filter: Option<RawFilter>,
}

/// `delivery.filter`: a record is dropped when any rule of `drop` matches it; a rule matches
/// when each condition it has holds (the record's value is one of the list's).
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFilter {
    #[serde(default)]
    pub drop: Vec<RawFilterRule>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFilterRule {
    /// `OK`, `NODATA`, `SKIPDATA`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_status: Vec<FilterLogStatus>,
    /// `ACCEPT`, `REJECT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action: Vec<FilterAction>,
    /// CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`) the source address is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<String>,
    /// CIDR blocks the destination address is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination: Vec<String>,
    /// Ports (`53`) or ranges (`"1024-65535"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_port: Vec<RawPort>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination_port: Vec<RawPort>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
pub enum FilterLogStatus {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "NODATA")]
    NoData,
    #[serde(rename = "SKIPDATA")]
    SkipData,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
pub enum FilterAction {
    #[serde(rename = "ACCEPT")]
    Accept,
    #[serde(rename = "REJECT")]
    Reject,
}

/// A port as a number, or a range as text.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum RawPort {
    Number(i64),
    Range(String),
}

impl RawFilterRule {
    /// The rule as the forwarder reads it (values still unchecked).
    pub fn to_forwarder(&self) -> flowlogs_forwarder::filter::RawRule {
        let words = |v: Vec<&str>| v.into_iter().map(str::to_string).collect();
        let ports = |v: &[RawPort]| {
            v.iter()
                .map(|p| match p {
                    RawPort::Number(n) => n.to_string(),
                    RawPort::Range(r) => r.clone(),
                })
                .collect()
        };
        flowlogs_forwarder::filter::RawRule {
            log_status: words(
                self.log_status
                    .iter()
                    .map(|s| match s {
                        FilterLogStatus::Ok => "OK",
                        FilterLogStatus::NoData => "NODATA",
                        FilterLogStatus::SkipData => "SKIPDATA",
                    })
                    .collect(),
            ),
            action: words(
                self.action
                    .iter()
                    .map(|a| match a {
                        FilterAction::Accept => "ACCEPT",
                        FilterAction::Reject => "REJECT",
                    })
                    .collect(),
            ),
            source: self.source.clone(),
            destination: self.destination.clone(),
            source_port: ports(&self.source_port),
            destination_port: ports(&self.destination_port),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    #[default]
    Lambda,
    Firehose,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawOtlp {
    #[schemars(pattern(rules::HTTP_URL_PATTERN))]
    pub endpoint: String,
    #[serde(default)]
    pub protocol: OtlpProtocol,
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": rules::HEADER_NAME_PATTERN }))]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_service_name")]
    #[schemars(pattern(rules::NOT_BLANK_PATTERN))]
    pub service_name: String,
    /// What each log record's body holds: the flow-log `line` as AWS wrote it, a readable
    /// `summary` (`ACCEPT tcp 10.0.1.5:443 -> 10.0.2.9:51000 10 packets 8400 bytes`), or `none`
    /// (the attributes hold every field either way).
    #[serde(default)]
    pub body: OtlpBody,
    /// How export requests are compressed: `gzip`, or `zstd` for endpoints that take it (one that
    /// answers 415 gets gzip for the rest of the invocation).
    #[serde(default)]
    pub compression: OtlpCompression,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OtlpBody {
    Line,
    #[default]
    Summary,
    None,
}

impl OtlpBody {
    pub fn as_env(self) -> &'static str {
        match self {
            OtlpBody::Line => "line",
            OtlpBody::Summary => "summary",
            OtlpBody::None => "none",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OtlpCompression {
    #[default]
    Gzip,
    Zstd,
}

impl OtlpCompression {
    pub fn as_env(self) -> &'static str {
        match self {
            OtlpCompression::Gzip => "gzip",
            OtlpCompression::Zstd => "zstd",
        }
    }
}

fn default_service_name() -> String {
    "vpc-flow-logs".into()
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[serde(rename = "http/json")]
    HttpJson,
}

impl OtlpProtocol {
    pub fn as_env(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::HttpJson => "http/json",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawLambda {
    #[serde(default = "default_memory")]
    #[schemars(range(min = *rules::LAMBDA_MEMORY_MB.start(), max = *rules::LAMBDA_MEMORY_MB.end()))]
    pub memory_mb: u32,
    #[serde(default = "default_timeout")]
    #[schemars(range(min = *rules::LAMBDA_TIMEOUT_S.start(), max = *rules::LAMBDA_TIMEOUT_S.end()))]
    pub timeout_s: u32,
    #[serde(default)]
    pub architecture: Architecture,
    /// What Lambda does with an S3 event the function still fails on after its retries.
    #[serde(default)]
    pub on_failure: RawOnFailure,
    /// How new flow-log objects reach the function: the bucket's S3 notification, or S3's events
    /// through an EventBridge rule (lets other consumers read the same prefix).
    #[serde(default)]
    pub trigger: Trigger,
}

impl Default for RawLambda {
    fn default() -> Self {
        RawLambda {
            memory_mb: default_memory(),
            timeout_s: default_timeout(),
            architecture: Architecture::default(),
            on_failure: RawOnFailure::default(),
            trigger: Trigger::default(),
        }
    }
}

/// `delivery.lambda.on_failure`: the function's asynchronous-invocation settings. Enabled, a failed
/// event is kept (with the reason) under `aws/lambda/async/<function>/` in the stack's own failure
/// bucket `<stack>-failures-<account>-<region>`, where `flowlogs replay` finds it.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawOnFailure {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Retries after the first attempt (Lambda `MaximumRetryAttempts`).
    #[serde(default = "default_retry_attempts")]
    #[schemars(range(min = *rules::LAMBDA_RETRY_ATTEMPTS.start(), max = *rules::LAMBDA_RETRY_ATTEMPTS.end()))]
    pub max_retry_attempts: u32,
    /// How long Lambda keeps trying an event (Lambda `MaximumEventAgeInSeconds`).
    #[serde(default = "default_event_age")]
    #[schemars(range(min = *rules::LAMBDA_EVENT_AGE_S.start(), max = *rules::LAMBDA_EVENT_AGE_S.end()))]
    pub max_event_age_s: u32,
}

impl Default for RawOnFailure {
    fn default() -> Self {
        RawOnFailure {
            enabled: true,
            max_retry_attempts: default_retry_attempts(),
            max_event_age_s: default_event_age(),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_retry_attempts() -> u32 {
    2
}

fn default_event_age() -> u32 {
    21600
}

fn default_memory() -> u32 {
    512
}

fn default_timeout() -> u32 {
    300
}

/// `delivery.lambda.trigger`: what invokes the forwarder for a new flow-log object.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trigger {
    /// An entry of the bucket's notification configuration: one consumer per prefix and suffix.
    #[default]
    #[serde(rename = "s3-notification")]
    S3Notification,
    /// The bucket's events sent to EventBridge and a rule on the default bus: the prefix can be
    /// shared with other consumers.
    #[serde(rename = "eventbridge")]
    EventBridge,
}

impl Trigger {
    /// As the config writes it.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::S3Notification => "s3-notification",
            Trigger::EventBridge => "eventbridge",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    pub fn as_aws(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawFirehose {
    #[schemars(length(max = rules::FIREHOSE_URL_MAX_LEN), pattern(rules::FIREHOSE_URL_PATTERN))]
    pub url: String,
    #[serde(default)]
    #[schemars(length(max = rules::FIREHOSE_ACCESS_KEY_MAX_LEN))]
    pub access_key: Option<String>,
    #[serde(default)]
    pub content_encoding: ContentEncoding,
    #[serde(default)]
    pub buffering: RawBuffering,
    #[serde(default = "default_retry_duration")]
    #[schemars(range(min = *rules::FIREHOSE_RETRY_S.start(), max = *rules::FIREHOSE_RETRY_S.end()))]
    pub retry_duration_s: u32,
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "minLength": 1, "maxLength": rules::COMMON_ATTRIBUTE_NAME_MAX_LEN, "pattern": rules::NOT_BLANK_PATTERN }, "additionalProperties" = { "type": "string", "maxLength": rules::COMMON_ATTRIBUTE_VALUE_MAX_LEN }))]
    pub common_attributes: BTreeMap<String, String>,
}

fn default_retry_duration() -> u32 {
    300
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ContentEncoding {
    #[default]
    Gzip,
    None,
}

impl ContentEncoding {
    pub fn as_aws(self) -> &'static str {
        match self {
            ContentEncoding::Gzip => "GZIP",
            ContentEncoding::None => "NONE",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawBuffering {
    #[serde(default = "default_buffer_size")]
    #[schemars(range(min = *rules::FIREHOSE_BUFFER_MB.start(), max = *rules::FIREHOSE_BUFFER_MB.end()))]
    pub size_mb: u32,
    #[serde(default = "default_buffer_interval")]
    #[schemars(range(min = *rules::FIREHOSE_BUFFER_S.start(), max = *rules::FIREHOSE_BUFFER_S.end()))]
    pub interval_s: u32,
}

impl Default for RawBuffering {
    fn default() -> Self {
        RawBuffering {
            size_mb: default_buffer_size(),
            interval_s: default_buffer_interval(),
        }
    }
}

fn default_buffer_size() -> u32 {
    5
}

fn default_buffer_interval() -> u32 {
    300
}

/// `athena:`: a Glue table over the flow logs with partition projection, and saved queries.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawAthena {
    #[serde(default = "default_athena_database")]
    #[schemars(length(min = 1, max = rules::GLUE_NAME_MAX_LEN), pattern(rules::GLUE_NAME_PATTERN))]
    pub database: String,
    /// Default: the stack's name with `-` as `_`, then `_flow_logs`.
    #[serde(default)]
    #[schemars(length(min = 1, max = rules::GLUE_NAME_MAX_LEN), pattern(rules::GLUE_NAME_PATTERN))]
    pub table: Option<String>,
    #[serde(default = "default_athena_workgroup")]
    #[schemars(length(min = 1, max = rules::WORKGROUP_MAX_LEN), pattern(rules::WORKGROUP_PATTERN))]
    pub workgroup: String,
    /// Where `verify --athena` has Athena write its query result. Default: the bucket's
    /// `<prefix>athena-results/` folder.
    #[serde(default)]
    #[schemars(pattern(rules::S3_URI_PATTERN))]
    pub result_location: Option<String>,
}

fn default_athena_database() -> String {
    "flowlogs".into()
}

fn default_athena_workgroup() -> String {
    "primary".into()
}
