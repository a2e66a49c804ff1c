//! `flowlogs.yaml`: read the raw file, check every key, and build the `Config` the rest of the program trusts.
//! Every error names the file, the line, the key and the fix, before any AWS call is made.

mod locate;
pub mod raw;
pub mod rules;
pub mod schema;
pub mod transit_gateway;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use flowlogs_forwarder::format::{self, FormatError};
use serde::Serialize;

pub use raw::{
    Architecture, ContentEncoding, DeliveryMode, FileFormat, OtlpBody, OtlpCompression,
    OtlpProtocol, RawConfig, TrafficType, Trigger,
};
pub use value::{shown_value, ConfigValue, REDACTED};

/// The checked configuration of one stack.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub stack: String,
    pub region: Option<String>,
    pub flow_log: FlowLogConfig,
    pub bucket: BucketConfig,
    pub delivery: Delivery,
    /// `None`: no Athena resources.
    pub athena: Option<AthenaConfig>,
    /// `None`: the flow logs are made in the stack's own account and region only.
    pub targets: Option<TargetsConfig>,
}

/// `targets:`: the member accounts and regions the flow logs are made in, through an assumed role.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TargetsConfig {
    pub accounts: AccountSource,
    pub exclude_accounts: Vec<String>,
    /// Empty: the stack's region.
    pub regions: Vec<String>,
    pub role: TargetRole,
    /// STS AssumeRole `ExternalId`; shown only as `<redacted>`.
    #[serde(serialize_with = "redacted")]
    pub external_id: Option<ConfigValue>,
    pub concurrency: u32,
}

fn redacted<S: serde::Serializer>(v: &Option<ConfigValue>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some(REDACTED),
        None => s.serialize_none(),
    }
}

/// Which accounts are targets.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum AccountSource {
    Accounts(Vec<String>),
    /// Every ACTIVE account of the caller's organisation.
    Organization,
    /// Every ACTIVE account under these OUs (or roots), through their child OUs.
    OrganizationalUnits(Vec<String>),
}

/// The role assumed in each member account.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum TargetRole {
    Name(String),
    /// An ARN with `{account}` where the account id goes.
    Arn(String),
}

impl TargetRole {
    pub fn parse(raw: &str) -> TargetRole {
        if raw.starts_with("arn:") {
            TargetRole::Arn(raw.to_string())
        } else {
            TargetRole::Name(raw.to_string())
        }
    }

    /// The role's ARN in `account`.
    pub fn arn(&self, partition: &str, account: &str) -> String {
        match self {
            TargetRole::Name(name) => format!("arn:{partition}:iam::{account}:role/{name}"),
            TargetRole::Arn(template) => template.replace("{account}", account),
        }
    }

    /// As the user wrote it (the plan shows it).
    pub fn as_written(&self) -> &str {
        match self {
            TargetRole::Name(s) | TargetRole::Arn(s) => s,
        }
    }
}

/// VPCs found in each target rather than listed.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum VpcSelector {
    /// `all_vpcs: true`.
    AllVpcs,
    /// `vpc_tags`: the VPCs carrying every one of these tags.
    VpcTags(BTreeMap<String, String>),
}

/// `athena:`: where the flow logs' Glue table and the saved queries go.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AthenaConfig {
    pub database: String,
    pub table: String,
    pub workgroup: String,
    /// `s3://bucket/folder/` for `verify --athena`'s query result; `None`: the stack's bucket.
    pub result_location: Option<String>,
}

impl AthenaConfig {
    /// The default table name: the stack's, `-` written `_` (Athena allows only `[a-z0-9_]`).
    pub fn default_table(stack: &str) -> String {
        format!("{}_flow_logs", stack.replace('-', "_"))
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowLogConfig {
    pub resource_type: ResourceType,
    /// Empty with a `selector`.
    pub resource_ids: Vec<String>,
    /// `all_vpcs` / `vpc_tags`: the VPCs are found in each target when the stack is read.
    pub selector: Option<VpcSelector>,
    pub traffic_type: TrafficType,
    pub format: LogFormat,
    pub max_aggregation_interval: u32,
    pub file_format: FileFormat,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
    /// `None`: no transit gateway or attachment is logged.
    pub transit_gateways: Option<TransitGatewayLogs>,
}

impl FlowLogConfig {
    /// The VPC, subnet or ENI ids and the transit gateway and attachment ids: every resource a
    /// flow log of the stack is on.
    pub fn all_resource_ids(&self) -> Vec<String> {
        let mut ids = self.resource_ids.clone();
        if let Some(t) = &self.transit_gateways {
            ids.extend(t.resources().map(|(_, id)| id.clone()));
        }
        ids
    }
}

/// The transit gateway flow logs of a stack: their ids, their own format (their fields differ
/// from a VPC's) and their own folder of the bucket (so one key prefix holds one format).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TransitGatewayLogs {
    pub transit_gateway_ids: Vec<String>,
    pub attachment_ids: Vec<String>,
    pub format: LogFormat,
    /// Under `bucket.prefix`, ending in `/` (`tgw/`).
    pub folder: String,
}

impl TransitGatewayLogs {
    /// Every id with its flow log resource type, transit gateways first.
    pub fn resources(&self) -> impl Iterator<Item = (ResourceType, &String)> {
        self.transit_gateway_ids
            .iter()
            .map(|id| (ResourceType::TransitGateway, id))
            .chain(
                self.attachment_ids
                    .iter()
                    .map(|id| (ResourceType::TransitGatewayAttachment, id)),
            )
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum ResourceType {
    #[serde(rename = "VPC")]
    Vpc,
    Subnet,
    NetworkInterface,
    TransitGateway,
    TransitGatewayAttachment,
}

impl ResourceType {
    pub fn as_aws(self) -> &'static str {
        match self {
            ResourceType::Vpc => "VPC",
            ResourceType::Subnet => "Subnet",
            ResourceType::NetworkInterface => "NetworkInterface",
            ResourceType::TransitGateway => "TransitGateway",
            ResourceType::TransitGatewayAttachment => "TransitGatewayAttachment",
        }
    }

    /// A transit gateway or one of its attachments: no `TrafficType`, 60-second aggregation, the
    /// TGW record format.
    pub fn is_transit_gateway(self) -> bool {
        matches!(
            self,
            ResourceType::TransitGateway | ResourceType::TransitGatewayAttachment
        )
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
    pub body: OtlpBody,
    pub compression: OtlpCompression,
    /// `delivery.filter.drop`, checked and normalised; empty: nothing is dropped.
    pub filter: Vec<flowlogs_forwarder::filter::RawRule>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LambdaSettings {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub architecture: Architecture,
    /// `None`: failed events are dropped after Lambda's default retries (`on_failure.enabled: false`).
    pub on_failure: Option<OnFailure>,
    pub trigger: Trigger,
}

/// The function's asynchronous-invocation settings, checked against Lambda's limits.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct OnFailure {
    pub max_retry_attempts: u32,
    pub max_event_age_s: u32,
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

impl ConfigError {
    /// One line for a prompt: the key, the problem and the fix (the wizard re-asks with it).
    pub fn message(&self) -> String {
        let mut line = String::new();
        if !self.key.is_empty() {
            line.push_str(&format!("{}: ", self.key));
        }
        line.push_str(&self.problem);
        if !self.fix.is_empty() {
            line.push_str(&format!("; fix: {}", self.fix));
        }
        line
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

/// Checks a raw config built in memory (the wizard's), with the same rules as a file; `file` is
/// what errors name as the source.
pub fn check_raw(raw: &RawConfig, file: &Path) -> Result<Config, ConfigError> {
    Checker {
        text: "",
        file,
        lookup: &|_| None,
    }
    .check(raw.clone())
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

    /// Runs one rule for `key`.
    fn rule<T>(&self, key: &str, result: Result<T, rules::Problem>) -> Result<T, ConfigError> {
        result.map_err(|p| self.error(key, p.problem, p.fix))
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
        self.rule("stack", rules::stack(&raw.stack))?;
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
            self.rule("region", rules::region(region))?;
        }
        let athena = match &raw.athena {
            Some(a) => Some(self.athena(a, &raw.stack, &delivery)?),
            None => None,
        };
        let targets = match &raw.targets {
            Some(t) => Some(self.targets(t, &flow_log, &delivery)?),
            None => None,
        };
        Ok(Config {
            stack: raw.stack,
            region: raw.region,
            flow_log,
            bucket,
            delivery,
            athena,
            targets,
        })
    }

    fn athena(
        &self,
        raw: &raw::RawAthena,
        stack: &str,
        delivery: &Delivery,
    ) -> Result<AthenaConfig, ConfigError> {
        if matches!(delivery, Delivery::Firehose { .. }) {
            return Err(self.error(
                "athena",
                "Athena queries the flow logs in the bucket, and in Firehose mode they go to the stream instead",
                "remove the `athena:` section, or use `delivery.mode: lambda`",
            ));
        }
        self.rule(
            "athena.database",
            rules::glue_name(&raw.database, "database"),
        )?;
        let table = raw
            .table
            .clone()
            .unwrap_or_else(|| AthenaConfig::default_table(stack));
        self.rule("athena.table", rules::glue_name(&table, "table"))?;
        self.rule("athena.workgroup", rules::workgroup(&raw.workgroup))?;
        let result_location = match &raw.result_location {
            Some(uri) => Some(self.rule("athena.result_location", rules::s3_uri(uri))?),
            None => None,
        };
        Ok(AthenaConfig {
            database: raw.database.clone(),
            table,
            workgroup: raw.workgroup.clone(),
            result_location,
        })
    }

    fn targets(
        &self,
        raw: &raw::RawTargets,
        flow_log: &FlowLogConfig,
        delivery: &Delivery,
    ) -> Result<TargetsConfig, ConfigError> {
        if flow_log.selector.is_none() {
            let key = match flow_log.resource_type {
                _ if flow_log.resource_ids.is_empty() => "transit_gateway_ids",
                ResourceType::Vpc => "vpc_ids",
                ResourceType::Subnet => "subnet_ids",
                ResourceType::NetworkInterface => "eni_ids",
                ResourceType::TransitGateway => "transit_gateway_ids",
                ResourceType::TransitGatewayAttachment => "transit_gateway_attachment_ids",
            };
            return Err(self.error(
                &format!("flow_log.resources.{key}"),
                format!("`{key}` names resources of one account and region, and `targets` spans many"),
                "select the VPCs in every target with `all_vpcs: true` or `vpc_tags: { key: value }`, or remove `targets`",
            ));
        }
        if matches!(delivery, Delivery::Firehose { .. }) {
            return Err(self.error(
                "targets",
                "in Firehose mode the flow logs deliver to a Firehose stream of the stack's own account, which other accounts' flow logs cannot name",
                "use `delivery.mode: lambda` (every account's flow logs land in the stack's bucket), or remove `targets`",
            ));
        }
        let chosen = [
            !raw.accounts.is_empty(),
            raw.organization,
            !raw.organizational_units.is_empty(),
        ];
        let accounts = match chosen {
            [true, false, false] => {
                self.rule("targets.accounts", rules::account_ids(&raw.accounts))?;
                AccountSource::Accounts(raw.accounts.clone())
            }
            [false, true, false] => AccountSource::Organization,
            [false, false, true] => {
                for ou in &raw.organizational_units {
                    self.rule(
                        "targets.organizational_units",
                        rules::organizational_unit(ou),
                    )?;
                }
                AccountSource::OrganizationalUnits(raw.organizational_units.clone())
            }
            [false, false, false] => {
                return Err(self.error(
                    "targets",
                    "no account to make flow logs in",
                    "add `accounts: [\"111111111111\"]`, `organization: true` or `organizational_units: [ou-...]`",
                ))
            }
            _ => {
                return Err(self.error(
                    "targets",
                    "more than one of `accounts`, `organization` and `organizational_units` is given",
                    "keep one: list the accounts, or take the whole organisation, or its OUs (and leave some out with `exclude_accounts`)",
                ))
            }
        };
        self.rule(
            "targets.exclude_accounts",
            rules::account_ids(&raw.exclude_accounts),
        )?;
        if let AccountSource::Accounts(listed) = &accounts {
            if listed.iter().all(|a| raw.exclude_accounts.contains(a)) {
                return Err(self.error(
                    "targets.exclude_accounts",
                    "every listed account is excluded",
                    "remove an account from `exclude_accounts`, or remove `targets`",
                ));
            }
        }
        self.rule("targets.regions", rules::regions(&raw.regions))?;
        self.rule("targets.role", rules::target_role(&raw.role))?;
        let external_id = match &raw.external_id {
            Some(text) => {
                let value = self.value("targets.external_id", text)?;
                if !value.is_secret() {
                    self.rule("targets.external_id", rules::external_id(text))?;
                }
                Some(value)
            }
            None => None,
        };
        self.rule(
            "targets.concurrency",
            rules::target_concurrency(raw.concurrency),
        )?;
        Ok(TargetsConfig {
            accounts,
            exclude_accounts: raw.exclude_accounts.clone(),
            regions: raw.regions.clone(),
            role: TargetRole::parse(&raw.role),
            external_id,
            concurrency: raw.concurrency,
        })
    }

    /// `all_vpcs` / `vpc_tags`, or `None` when the resources are listed.
    fn selector(&self, r: &raw::RawResources) -> Result<Option<VpcSelector>, ConfigError> {
        let listed = !(r.vpc_ids.is_empty() && r.subnet_ids.is_empty() && r.eni_ids.is_empty());
        let selector = match (r.all_vpcs, r.vpc_tags.is_empty()) {
            (false, true) => return Ok(None),
            (true, false) => return Err(self.error(
                "flow_log.resources.vpc_tags",
                "`all_vpcs: true` and `vpc_tags` both say which VPCs to log",
                "keep `all_vpcs: true` for every VPC, or `vpc_tags` for those carrying the tags",
            )),
            (true, true) => VpcSelector::AllVpcs,
            (false, false) => {
                for (k, v) in &r.vpc_tags {
                    self.rule(
                        &format!("flow_log.resources.vpc_tags.{k}"),
                        rules::vpc_tag(k, v),
                    )?;
                }
                VpcSelector::VpcTags(r.vpc_tags.clone())
            }
        };
        if listed {
            return Err(self.error(
                "flow_log.resources",
                "the VPCs are both listed by id and selected (`all_vpcs` / `vpc_tags`)",
                "keep the ids for a fixed set of one account, or the selector to find them in every target",
            ));
        }
        Ok(Some(selector))
    }

    fn flow_log(&self, raw: &raw::RawFlowLog) -> Result<FlowLogConfig, ConfigError> {
        let r = &raw.resources;
        let transit_gateways = self.transit_gateways(raw)?;
        if let Some(selector) = self.selector(r)? {
            if transit_gateways.is_some() {
                return Err(self.error(
                    "flow_log.resources.transit_gateway_ids",
                    "transit gateways are logged by id in a stack of one account; with `all_vpcs` / `vpc_tags` (and `targets`) the flow logs are made per target, which does not look transit gateways up in the accounts that own them yet",
                    "log the transit gateways in a stack of their own, in the account that owns them (`transit_gateway_ids` without `all_vpcs`, `vpc_tags` or `targets`)",
                ));
            }
            self.rule(
                "flow_log.max_aggregation_interval",
                rules::max_aggregation_interval(raw.max_aggregation_interval),
            )?;
            return Ok(FlowLogConfig {
                resource_type: ResourceType::Vpc,
                resource_ids: Vec::new(),
                selector: Some(selector),
                transit_gateways: None,
                traffic_type: raw.traffic_type,
                format: self.log_format(&raw.format)?,
                max_aggregation_interval: raw.max_aggregation_interval,
                file_format: raw.file_format,
                hive_compatible_partitions: raw.hive_compatible_partitions,
                per_hour_partition: raw.per_hour_partition,
            });
        }
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
        let no_ids = Vec::new();
        let (resource_type, ids, key, id_prefix) = match given.as_slice() {
            [one] => *one,
            [] if transit_gateways.is_some() => (ResourceType::Vpc, &no_ids, "vpc_ids", "vpc-"),
            [] => {
                return Err(self.error(
                    "flow_log.resources",
                    "no VPC, subnet, network interface or transit gateway to log",
                    "list them under `vpc_ids`, `subnet_ids`, `eni_ids`, `transit_gateway_ids` or `transit_gateway_attachment_ids`, or select VPCs with `all_vpcs: true` or `vpc_tags`",
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
        self.rule(
            &format!("flow_log.resources.{key}"),
            rules::resource_ids(ids, id_prefix),
        )?;
        self.rule(
            "flow_log.max_aggregation_interval",
            rules::max_aggregation_interval(raw.max_aggregation_interval),
        )?;
        if transit_gateways.is_some() && raw.max_aggregation_interval != 60 {
            return Err(self.error(
                "flow_log.max_aggregation_interval",
                format!(
                    "{} seconds: AWS logs transit gateways only at 60 seconds (CreateFlowLogs refuses any other MaxAggregationInterval for a TransitGateway or TransitGatewayAttachment)",
                    raw.max_aggregation_interval
                ),
                "write `max_aggregation_interval: 60` (it applies to this stack's VPC, subnet or ENI flow logs too), or log the transit gateways from another stack",
            ));
        }
        // Before the VPC catalogue's check, so a TGW field gets its own message and the key it
        // belongs in.
        if let Some(field) = raw
            .format
            .split_whitespace()
            .filter_map(|t| t.strip_prefix("${").and_then(|t| t.strip_suffix('}')))
            .find(|f| transit_gateway::is_tgw_only(f))
        {
            return Err(self.error(
                "flow_log.format",
                format!("`{field}` is a transit gateway flow log field, and VPC, subnet and ENI flow logs do not have it (AWS refuses the format)"),
                format!("remove `${{{field}}}` from `flow_log.format`; transit gateway fields go in `flow_log.transit_gateway_format`"),
            ));
        }
        let format = self.log_format(&raw.format)?;
        Ok(FlowLogConfig {
            resource_type,
            resource_ids: ids.clone(),
            selector: None,
            traffic_type: raw.traffic_type,
            format,
            max_aggregation_interval: raw.max_aggregation_interval,
            file_format: raw.file_format,
            hive_compatible_partitions: raw.hive_compatible_partitions,
            per_hour_partition: raw.per_hour_partition,
            transit_gateways,
        })
    }

    /// `transit_gateway_ids` and `transit_gateway_attachment_ids` with their format and folder;
    /// `None` when neither lists an id.
    fn transit_gateways(
        &self,
        raw: &raw::RawFlowLog,
    ) -> Result<Option<TransitGatewayLogs>, ConfigError> {
        let r = &raw.resources;
        if r.transit_gateway_ids.is_empty() && r.transit_gateway_attachment_ids.is_empty() {
            return Ok(None);
        }
        if let Some(id) = r
            .transit_gateway_ids
            .iter()
            .find(|id| id.starts_with("tgw-attach-"))
        {
            return Err(self.error(
                "flow_log.resources.transit_gateway_ids",
                format!("`{id}` is a transit gateway attachment, not a transit gateway"),
                "list it under `transit_gateway_attachment_ids`",
            ));
        }
        self.rule(
            "flow_log.resources.transit_gateway_ids",
            rules::resource_ids(&r.transit_gateway_ids, "tgw-"),
        )?;
        self.rule(
            "flow_log.resources.transit_gateway_attachment_ids",
            rules::resource_ids(&r.transit_gateway_attachment_ids, "tgw-attach-"),
        )?;
        let key = "flow_log.transit_gateway_format";
        let (kind, spec) = match raw.transit_gateway_format.trim() {
            "default" | "all" => ("default", transit_gateway::all_format()),
            custom => ("custom", custom.to_string()),
        };
        let fields =
            transit_gateway::parse_format(&spec).map_err(|p| self.error(key, p.problem, p.fix))?;
        let folder_key = "flow_log.transit_gateway_folder";
        let folder = self.rule(
            folder_key,
            rules::bucket_prefix(&raw.transit_gateway_folder),
        )?;
        if folder.is_empty() {
            return Err(self.error(
                folder_key,
                "transit gateway flow logs need a folder of their own: their records have other fields than the VPC flow logs' in the same bucket",
                "write a folder such as `tgw/`",
            ));
        }
        Ok(Some(TransitGatewayLogs {
            transit_gateway_ids: r.transit_gateway_ids.clone(),
            attachment_ids: r.transit_gateway_attachment_ids.clone(),
            format: LogFormat {
                kind,
                spec,
                fields: fields.iter().map(|f| f.to_string()).collect(),
            },
            folder,
        }))
    }

    fn log_format(&self, raw: &str) -> Result<LogFormat, ConfigError> {
        let key = "flow_log.format";
        let (kind, spec) = match raw.trim() {
            "default" => ("default", format::default_format()),
            // Every VPC field: a catalogue that also holds the transit gateway fields (for the
            // forwarder) must not put them in a VPC flow log's format, which AWS would refuse.
            "all" => (
                "all",
                format::fields()
                    .iter()
                    .filter(|f| !transit_gateway::is_tgw_only(f.name))
                    .map(|f| format!("${{{}}}", f.name))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
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
            self.rule("bucket.name", rules::bucket_name(name))?;
        } else if !raw.create {
            return Err(self.error(
                "bucket.name",
                "`create: false` adopts an existing bucket, so its name is needed",
                "write the existing bucket's name, or set `create: true`",
            ));
        }
        let prefix = self.rule("bucket.prefix", rules::bucket_prefix(&raw.prefix))?;
        self.rule(
            "bucket.retention_days",
            rules::retention_days(raw.retention_days),
        )?;
        Ok(BucketConfig {
            name: raw.name.clone(),
            create: raw.create,
            prefix,
            retention_days: raw.retention_days,
        })
    }

    fn delivery(&self, raw: &raw::RawDelivery) -> Result<Delivery, ConfigError> {
        if raw.mode == DeliveryMode::Firehose && raw.filter.is_some() {
            return Err(self.error(
                "delivery.filter",
                "the filter is the forwarder's, and `mode: firehose` has no forwarder",
                "remove `delivery.filter`, or use `delivery.mode: lambda`",
            ));
        }
        match raw.mode {
            DeliveryMode::Lambda => {
                let Some(otlp) = &raw.otlp else {
                    return Err(self.error(
                        "delivery.otlp",
                        "`mode: lambda` sends records over OTLP, but no endpoint is given",
                        "add `otlp: { endpoint: https://collector.example.com:4318 }` under `delivery`",
                    ));
                };
                self.rule(
                    "delivery.otlp.endpoint",
                    rules::otlp_endpoint(&otlp.endpoint),
                )?;
                let mut headers = BTreeMap::new();
                for (name, value) in &otlp.headers {
                    let key = format!("delivery.otlp.headers.{name}");
                    self.rule(&key, rules::header_name(name))?;
                    headers.insert(name.clone(), self.value(&key, value)?);
                }
                self.rule(
                    "delivery.otlp.service_name",
                    rules::service_name(&otlp.service_name),
                )?;
                let l = &raw.lambda;
                self.rule(
                    "delivery.lambda.memory_mb",
                    rules::lambda_memory_mb(l.memory_mb),
                )?;
                self.rule(
                    "delivery.lambda.timeout_s",
                    rules::lambda_timeout_s(l.timeout_s),
                )?;
                self.rule(
                    "delivery.lambda.on_failure.max_retry_attempts",
                    rules::lambda_retry_attempts(l.on_failure.max_retry_attempts),
                )?;
                self.rule(
                    "delivery.lambda.on_failure.max_event_age_s",
                    rules::lambda_event_age_s(l.on_failure.max_event_age_s),
                )?;
                let rules: Vec<_> = raw
                    .filter
                    .iter()
                    .flat_map(|f| &f.drop)
                    .map(raw::RawFilterRule::to_forwarder)
                    .collect();
                let filter = rules::filter(&rules).map_err(|(field, p)| {
                    self.error(&format!("delivery.filter.{field}"), p.problem, p.fix)
                })?;
                Ok(Delivery::Lambda {
                    otlp: Otlp {
                        endpoint: otlp.endpoint.trim_end_matches('/').to_string(),
                        protocol: otlp.protocol,
                        headers,
                        service_name: otlp.service_name.clone(),
                        body: otlp.body,
                        compression: otlp.compression,
                        filter: filter.to_raw(),
                    },
                    lambda: LambdaSettings {
                        memory_mb: l.memory_mb,
                        timeout_s: l.timeout_s,
                        architecture: l.architecture,
                        on_failure: l.on_failure.enabled.then_some(OnFailure {
                            max_retry_attempts: l.on_failure.max_retry_attempts,
                            max_event_age_s: l.on_failure.max_event_age_s,
                        }),
                        trigger: l.trigger,
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
                self.rule("delivery.firehose.url", rules::firehose_url(&fh.url))?;
                self.rule(
                    "delivery.firehose.buffering.size_mb",
                    rules::firehose_buffer_mb(fh.buffering.size_mb),
                )?;
                self.rule(
                    "delivery.firehose.buffering.interval_s",
                    rules::firehose_buffer_s(fh.buffering.interval_s),
                )?;
                self.rule(
                    "delivery.firehose.retry_duration_s",
                    rules::firehose_retry_s(fh.retry_duration_s),
                )?;
                let access_key = match &fh.access_key {
                    Some(k) => {
                        let key = "delivery.firehose.access_key";
                        self.rule(key, rules::firehose_access_key(k))?;
                        Some(self.value(key, k)?)
                    }
                    None => None,
                };
                let mut common_attributes = BTreeMap::new();
                for (name, value) in &fh.common_attributes {
                    let key = format!("delivery.firehose.common_attributes.{name}");
                    self.rule(&key, rules::common_attribute(name, value))?;
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

/// S3's bucket naming rules, as one line (`desired` checks the derived name with it).
pub fn check_bucket_name(name: &str) -> Result<(), String> {
    rules::bucket_name(name).map_err(|p| p.problem)
}

#[cfg(test)]
mod tests;
