//! The desired stack: a pure function of the config, the account and the region. Every name, ARN,
//! tag and rendered policy document is decided here, without any AWS call.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::{self, Architecture, Config, Delivery, FileFormat, ResourceType, TrafficType};
use crate::policy;

pub mod athena;
pub mod eventbridge;
pub mod fleet;
pub mod kms;
pub mod secret;

use secret::{DesiredSecret, SecretRef, SecretValue};

pub const TAG_STACK: &str = "flowlogs:stack";
pub const TAG_MANAGED_BY: &str = "managed-by";
pub const MANAGED_BY: &str = "flowlogs";
/// On flow logs: a hash of everything the flow log was created with (flow logs cannot be changed).
pub const TAG_SPEC: &str = "flowlogs:spec";
/// On flow logs: the destination options, which DescribeFlowLogs does not always echo back.
pub const TAG_OPTIONS: &str = "flowlogs:destination-options";
/// On the function built from source (`--forwarder-from-source`): the hash of the sources and the
/// architecture it was built from, so an unchanged source tree needs no build to compare.
pub const TAG_CODE: &str = "flowlogs:code-hash";
/// On the function: the `CodeSha256` of the zip setup uploaded last, what status and verify
/// compare the function's code with when this flowlogs carries no forwarder of its own.
pub const TAG_CODE_SHA256: &str = "flowlogs:code-sha256";

/// The names of everything a stack owns. Needs no secret, so teardown and status can use it alone.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Names {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub partition: String,
    pub bucket: String,
    pub bucket_created_by_us: bool,
    /// The stack's own bucket for the forwarder's failed events (Lambda's S3 on-failure
    /// destination), `<stack>-failures-<account>-<region>`: always ours, apart from the flow logs.
    pub failure_bucket: String,
    /// Where flow logs land: `<prefix>AWSLogs/<account>/vpcflowlogs/<region>/` (or its hive form).
    pub log_key_prefix: String,
    /// Where the transit gateway flow logs land, when the config logs any: the same layout under
    /// their own folder, `<prefix>tgw/AWSLogs/<account>/vpcflowlogs/<region>/`.
    pub tgw_log_key_prefix: Option<String>,
    pub function: String,
    pub role: String,
    pub role_policy: String,
    pub log_group: String,
    pub notification_id: String,
    pub permission_sid: String,
    pub stream: String,
    pub firehose_role: String,
    pub firehose_log_group: String,
    /// The stack's secret in Secrets Manager (`secret`).
    pub secret: String,
    pub sids: BucketSids,
    /// The Glue database and table and the Athena workgroup (the defaults without `athena:`).
    pub athena: athena::AthenaNames,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BucketSids {
    pub write: String,
    pub acl: String,
    pub tls: String,
}

impl BucketSids {
    pub fn all(&self) -> Vec<String> {
        vec![self.write.clone(), self.acl.clone(), self.tls.clone()]
    }
}

impl Names {
    pub fn new(config: &Config, account: &str, region: &str) -> Result<Names> {
        let stack = &config.stack;
        let bucket = match &config.bucket.name {
            Some(name) => name.clone(),
            None => {
                let name = format!("{stack}-flowlogs-{account}-{region}");
                config::check_bucket_name(&name).map_err(|p| {
                    anyhow::anyhow!(
                        "the derived bucket name does not work: {p}; set bucket.name in the config"
                    )
                })?;
                name
            }
        };
        let failure_bucket = failure_bucket_name(stack, account, region)?;
        let log_key_prefix = log_key_prefix(config, account, region);
        let tgw_log_key_prefix = config.flow_log.transit_gateways.as_ref().map(|t| {
            folder_key_prefix(
                config,
                &format!("{}{}", config.bucket.prefix, t.folder),
                account,
                region,
            )
        });
        let function = format!("flowlogs-{stack}-forwarder");
        let sid_suffix: String = stack
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect();
        Ok(Names {
            stack: stack.clone(),
            account: account.to_string(),
            region: region.to_string(),
            partition: partition_of(region).to_string(),
            bucket,
            bucket_created_by_us: config.bucket.create,
            failure_bucket,
            log_key_prefix,
            tgw_log_key_prefix,
            log_group: format!("/aws/lambda/{function}"),
            role: function.clone(),
            role_policy: "flowlogs-forwarder".into(),
            function,
            notification_id: format!("flowlogs-{stack}"),
            permission_sid: format!("flowlogs-{stack}-s3"),
            stream: format!("flowlogs-{stack}"),
            firehose_role: format!("flowlogs-{stack}-firehose"),
            firehose_log_group: format!("/aws/kinesisfirehose/flowlogs-{stack}"),
            secret: format!("flowlogs/{stack}/endpoint-credentials"),
            sids: BucketSids {
                write: format!("FlowlogsDeliveryWrite{sid_suffix}"),
                acl: format!("FlowlogsDeliveryAclCheck{sid_suffix}"),
                tls: format!("FlowlogsDenyInsecureTransport{sid_suffix}"),
            },
            athena: athena::AthenaNames::of(config),
        })
    }

    /// The id of the bucket's notification entry for the transit gateway folder.
    pub fn tgw_notification_id(&self) -> String {
        format!("{}-tgw", self.notification_id)
    }

    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.bucket)
    }

    pub fn failure_bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.failure_bucket)
    }

    pub fn role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.partition, self.account, self.role
        )
    }

    pub fn function_arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account, self.function
        )
    }

    /// Where Lambda keeps the events the function failed on (its S3 on-failure destination writes
    /// `aws/lambda/async/<function>/YYYY/MM/DD/<time>-<uuid>`; the prefix is Lambda's, not ours).
    pub fn failure_prefix(&self) -> String {
        format!("aws/lambda/async/{}/", self.function)
    }

    pub fn stream_arn(&self) -> String {
        format!(
            "arn:{}:firehose:{}:{}:deliverystream/{}",
            self.partition, self.region, self.account, self.stream
        )
    }

    pub fn firehose_role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.partition, self.account, self.firehose_role
        )
    }

    /// The secret's ARN with `??????` for the six characters AWS appends to its name.
    pub fn secret_arn_pattern(&self) -> String {
        format!(
            "arn:{}:secretsmanager:{}:{}:secret:{}-??????",
            self.partition, self.region, self.account, self.secret
        )
    }

    /// The tags every resource we create carries.
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (TAG_STACK.to_string(), self.stack.clone()),
            (TAG_MANAGED_BY.to_string(), MANAGED_BY.to_string()),
        ])
    }

    pub fn is_ours(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(TAG_STACK) == Some(&self.stack)
    }
}

/// `<stack>-failures-<account>-<region>`: at most 63 characters for every stack name the config
/// accepts (24) and a region name of up to 16, and never the log bucket of any stack (those end in
/// `-flowlogs-<account>-<region>`).
fn failure_bucket_name(stack: &str, account: &str, region: &str) -> Result<String> {
    let name = format!("{stack}-failures-{account}-{region}");
    config::check_bucket_name(&name).map_err(|p| {
        anyhow::anyhow!(
            "the failure bucket's name `{name}`, derived from the stack, account and region, does not work: {p}; choose a shorter `stack`"
        )
    })?;
    Ok(name)
}

fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Everything the stack should be.
#[derive(Debug, Clone, Serialize)]
pub struct Desired {
    pub names: Names,
    pub bucket: DesiredBucket,
    /// The bucket of the forwarder's failed events, when failure capture is on (Lambda mode).
    pub failure_bucket: Option<DesiredFailureBucket>,
    pub flow_logs: Vec<DesiredFlowLog>,
    pub forwarder: Option<DesiredForwarder>,
    pub firehose: Option<DesiredFirehose>,
    /// `athena:` in the config: the Glue database and table and the named queries.
    pub athena: Option<athena::DesiredAthena>,
    /// The stack's secret, when the config has a value to keep in it.
    pub secret: Option<DesiredSecret>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DesiredBucket {
    pub name: String,
    pub create: bool,
    pub policy_statements: Vec<Value>,
    pub retention_days: u32,
    pub tags: BTreeMap<String, String>,
    /// Flow logs are delivered into it (Lambda mode); in Firehose mode it only takes failed records.
    pub receives_flow_logs: bool,
}

/// The failure bucket: made and hardened as the log bucket is (public access blocked, SSE-S3,
/// the same expiry, TLS only), always ours, removed with its records by teardown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredFailureBucket {
    pub name: String,
    /// The log bucket's retention: a record is of no use once the objects it names have expired.
    pub retention_days: u32,
    /// Its whole policy: the TLS-only deny.
    pub policy_statements: Vec<Value>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredFlowLog {
    pub resource_id: String,
    pub resource_type: ResourceType,
    pub traffic_type: TrafficType,
    pub log_format: String,
    pub max_aggregation_interval: u32,
    pub destination_type: String,
    pub destination: String,
    pub file_format: Option<FileFormat>,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
    /// Includes `flowlogs:spec` and `flowlogs:destination-options`.
    pub tags: BTreeMap<String, String>,
}

impl DesiredFlowLog {
    pub fn options_tag(&self) -> String {
        match self.file_format {
            Some(f) => format!(
                "file-format={};hive={};per-hour={}",
                f.as_aws(),
                self.hive_compatible_partitions,
                self.per_hour_partition
            ),
            None => "none".into(),
        }
    }

    /// The `TrafficType` CreateFlowLogs is sent: none for a transit gateway or attachment (AWS
    /// refuses one there).
    pub fn traffic_type_sent(&self) -> Option<&'static str> {
        (!self.resource_type.is_transit_gateway()).then(|| self.traffic_type.as_aws())
    }

    /// A token that is the same for the same flow log, so a retried create does not make two.
    pub fn client_token(&self) -> String {
        format!("flowlogs-{}", &self.tags[TAG_SPEC])
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DesiredForwarder {
    pub log_group: DesiredLogGroup,
    pub role: DesiredRole,
    pub function: DesiredFunction,
    pub permission: DesiredPermission,
    pub notification: DesiredNotification,
    /// The second entry, for the transit gateway folder's keys, when transit gateways are logged.
    pub tgw_notification: Option<DesiredNotification>,
    /// `None` when `delivery.lambda.on_failure.enabled` is false.
    pub event_invoke: Option<DesiredEventInvoke>,
    /// What invokes the function: with `s3-notification`, `notification` and `permission`; with
    /// `eventbridge`, `eventbridge`.
    pub trigger: config::Trigger,
    pub eventbridge: Option<eventbridge::DesiredEventBridge>,
}

/// The function's asynchronous-invocation settings: bounded retries and event age, failed events
/// kept in the stack's failure bucket (S3 on-failure destination) for `flowlogs replay`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredEventInvoke {
    pub function: String,
    pub max_retry_attempts: u32,
    pub max_event_age_s: u32,
    /// The failure bucket's ARN: Lambda writes under `aws/lambda/async/<function>/` in it.
    pub on_failure_destination: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredRole {
    pub name: String,
    pub trust: Value,
    pub policy_name: String,
    pub policy: Value,
    pub tags: BTreeMap<String, String>,
}

/// The forwarder's own log group, `/aws/lambda/<function>`, where Lambda writes its output (and
/// verify reads its reports). Made by flowlogs, so the role needs no `logs:CreateLogGroup`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredLogGroup {
    pub name: String,
    /// A value CloudWatch Logs accepts; `None`: never expire.
    pub retention_days: Option<i32>,
    pub tags: BTreeMap<String, String>,
}

/// The retention periods CloudWatch Logs accepts (PutRetentionPolicy `retentionInDays`).
pub const LOG_RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The bucket's retention rounded up to a period CloudWatch Logs accepts, so the forwarder's
/// reports are kept at least as long as the objects they are about; beyond the longest period,
/// `None` (never expire).
pub fn log_retention(bucket_days: u32) -> Option<i32> {
    LOG_RETENTION_DAYS
        .iter()
        .copied()
        .find(|&d| i64::from(d) >= i64::from(bucket_days))
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredFunction {
    pub name: String,
    pub role_arn: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub architecture: Architecture,
    pub environment: BTreeMap<String, EnvVar>,
    pub code: WantedCode,
    pub tags: BTreeMap<String, String>,
    /// The secret the header values are read from (its ARN and version go in the environment).
    pub secret: Option<SecretRef>,
}

/// The code the function should run, by the identity Lambda reports for a function's code
/// (`CodeSha256`, the base64 SHA-256 of the zip) wherever the zip is known before any write.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum WantedCode {
    /// A zip at hand: the one this flowlogs carries, or `--forwarder-zip`.
    Zip { sha256: String },
    /// Built from `lambda/` (`--forwarder-from-source`): known by its sources' hash until built.
    Source { source_hash: String },
    /// No forwarder available to this run: the code setup uploaded last (`flowlogs:code-sha256`).
    Deployed,
}

impl WantedCode {
    /// As a plan shows it.
    pub fn describe(&self) -> String {
        match self {
            WantedCode::Zip { sha256 } => sha256.clone(),
            WantedCode::Source { source_hash } => format!("built from lambda/ ({source_hash})"),
            WantedCode::Deployed => "a forwarder (this flowlogs carries none)".into(),
        }
    }
}

/// An environment variable of the function; secret ones are shown as `<redacted>`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvVar {
    pub value: String,
    pub secret: bool,
}

impl EnvVar {
    pub fn shown(&self) -> &str {
        if self.secret {
            config::REDACTED
        } else {
            &self.value
        }
    }
}

impl Serialize for EnvVar {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.shown())
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredPermission {
    pub function: String,
    pub statement_id: String,
    pub principal: String,
    pub source_arn: String,
    pub source_account: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredNotification {
    pub bucket: String,
    pub id: String,
    pub function_arn: String,
    pub events: Vec<String>,
    pub prefix: String,
    pub suffix: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredFirehose {
    pub role: DesiredRole,
    pub stream: DesiredStream,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredStream {
    pub name: String,
    pub role_arn: String,
    pub url: String,
    /// The secret holding the access key (`{"api_key": ...}`), read by Firehose itself.
    pub secret: Option<SecretRef>,
    pub content_encoding: String,
    pub buffering_size_mb: u32,
    pub buffering_interval_s: u32,
    pub retry_duration_s: u32,
    pub common_attributes: BTreeMap<String, EnvVar>,
    pub backup_bucket_arn: String,
    pub backup_prefix: String,
    pub log_group: String,
    pub log_stream: String,
    pub tags: BTreeMap<String, String>,
}

pub const FIREHOSE_BACKUP_PREFIX: &str = "firehose-failed/";
pub const FIREHOSE_LOG_STREAM: &str = "HttpEndpointDelivery";

/// [`build_for`] with one zip for every architecture, its `CodeSha256` given (the tests' form).
#[cfg(test)]
pub fn build(config: &Config, account: &str, region: &str, code_sha256: &str) -> Result<Desired> {
    let code = |_: Architecture| WantedCode::Zip {
        sha256: code_sha256.to_string(),
    };
    build_for(config, account, region, &code)
}

/// Builds the desired stack. `code` says which forwarder code the function of an architecture
/// should run. Fails when a `${env:...}` value the stack needs is not set.
pub fn build_for(
    config: &Config,
    account: &str,
    region: &str,
    code: &dyn Fn(Architecture) -> WantedCode,
) -> Result<Desired> {
    let names = Names::new(config, account, region)?;
    let tags = names.tags();
    let bucket = DesiredBucket {
        name: names.bucket.clone(),
        create: config.bucket.create,
        policy_statements: bucket_statements(&names, config),
        retention_days: config.bucket.retention_days,
        tags: tags.clone(),
        receives_flow_logs: matches!(config.delivery, Delivery::Lambda { .. }),
    };
    let (forwarder, firehose, secret) = match &config.delivery {
        Delivery::Lambda { otlp, lambda } => {
            let code = code(lambda.architecture);
            let (forwarder, secret) = forwarder(&names, config, otlp, lambda, code)?;
            (Some(forwarder), None, secret)
        }
        Delivery::Firehose { firehose: settings } => {
            let (firehose, secret) = firehose(&names, settings)?;
            (None, Some(firehose), secret)
        }
    };
    let mut flow_logs: Vec<DesiredFlowLog> = config
        .flow_log
        .resource_ids
        .iter()
        .map(|id| flow_log(&names, config, id))
        .collect();
    if let Some(tgw) = &config.flow_log.transit_gateways {
        flow_logs.extend(
            tgw.resources()
                .map(|(kind, id)| transit_gateway_flow_log(&names, config, tgw, kind, id)),
        );
    }
    let athena = athena::build(config, &names);
    let failure_bucket = forwarder
        .as_ref()
        .and_then(|f| f.event_invoke.as_ref())
        .map(|_| failure_bucket(&names, config));
    Ok(Desired {
        names,
        bucket,
        failure_bucket,
        flow_logs,
        forwarder,
        firehose,
        athena,
        secret,
    })
}

fn bucket_statements(names: &Names, config: &Config) -> Vec<Value> {
    let prefix = &config.bucket.prefix;
    let delivery_key_prefix = if config.flow_log.hive_compatible_partitions {
        format!("{prefix}AWSLogs/aws-account-id={}/", names.account)
    } else {
        format!("{prefix}AWSLogs/{}/", names.account)
    };
    let rendered = policy::render(
        policy::BUCKET_STATEMENTS,
        &[
            ("sid_write", &names.sids.write),
            ("sid_acl", &names.sids.acl),
            ("sid_tls", &names.sids.tls),
            ("partition", &names.partition),
            ("bucket", &names.bucket),
            ("delivery_key_prefix", &delivery_key_prefix),
            ("account", &names.account),
            ("region", &names.region),
        ],
    );
    let Value::Array(mut statements) = rendered else {
        unreachable!("bucket statements template is an array")
    };
    if let Some(tgw) = &config.flow_log.transit_gateways {
        // The transit gateway flow logs write under their own folder.
        let tgw_prefix = if config.flow_log.hive_compatible_partitions {
            format!(
                "{prefix}{}AWSLogs/aws-account-id={}/",
                tgw.folder, names.account
            )
        } else {
            format!("{prefix}{}AWSLogs/{}/", tgw.folder, names.account)
        };
        also_on(
            &mut statements,
            &names.sids.write,
            format!("{}/{tgw_prefix}*", names.bucket_arn()),
        );
    }
    // Firehose mode writes only failed records to the bucket: the bucket still holds no flow logs,
    // but the TLS deny stays.
    if matches!(config.delivery, Delivery::Firehose { .. }) {
        statements.retain(|s| s["Sid"] == names.sids.tls.as_str());
    }
    statements
}

/// The statement `sid` of `statements` on `resource` as well: its `Resource` becomes a list.
fn also_on(statements: &mut [Value], sid: &str, resource: String) {
    if let Some(statement) = statements.iter_mut().find(|s| s["Sid"] == sid) {
        let current = statement["Resource"].take();
        let mut list = match current {
            Value::Array(list) => list,
            other => vec![other],
        };
        list.push(Value::String(resource));
        statement["Resource"] = Value::Array(list);
    }
}

fn failure_bucket(names: &Names, config: &Config) -> DesiredFailureBucket {
    let rendered = policy::render(
        policy::BUCKET_STATEMENTS,
        &[
            ("sid_write", &names.sids.write),
            ("sid_acl", &names.sids.acl),
            ("sid_tls", &names.sids.tls),
            ("partition", &names.partition),
            ("bucket", &names.failure_bucket),
            ("delivery_key_prefix", ""),
            ("account", &names.account),
            ("region", &names.region),
        ],
    );
    let Value::Array(mut statements) = rendered else {
        unreachable!("bucket statements template is an array")
    };
    statements.retain(|s| s["Sid"] == names.sids.tls.as_str());
    DesiredFailureBucket {
        name: names.failure_bucket.clone(),
        retention_days: config.bucket.retention_days,
        policy_statements: statements,
        tags: names.tags(),
    }
}

/// Where the flow logs of `account` in `region` land: `<prefix>AWSLogs/<account>/vpcflowlogs/<region>/`
/// (or its hive form).
pub fn log_key_prefix(config: &Config, account: &str, region: &str) -> String {
    folder_key_prefix(config, &config.bucket.prefix, account, region)
}

/// The keys one account and region's flow logs deliver under, in the bucket folder `prefix`.
fn folder_key_prefix(config: &Config, prefix: &str, account: &str, region: &str) -> String {
    if config.flow_log.hive_compatible_partitions {
        format!(
            "{prefix}AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/"
        )
    } else {
        format!("{prefix}AWSLogs/{account}/vpcflowlogs/{region}/")
    }
}

/// The flow log wanted on one resource (in the hub, or in a target: it delivers to the hub either way).
pub fn flow_log(names: &Names, config: &Config, resource_id: &str) -> DesiredFlowLog {
    let f = &config.flow_log;
    let (destination_type, destination, file_format) = match &config.delivery {
        Delivery::Lambda { .. } => (
            "s3",
            s3_destination(&names.bucket_arn(), &config.bucket.prefix),
            Some(f.file_format),
        ),
        Delivery::Firehose { .. } => ("kinesis-data-firehose", names.stream_arn(), None),
    };
    let mut desired = DesiredFlowLog {
        resource_id: resource_id.to_string(),
        resource_type: f.resource_type,
        traffic_type: f.traffic_type,
        log_format: f.format.spec.clone(),
        max_aggregation_interval: f.max_aggregation_interval,
        destination_type: destination_type.into(),
        destination,
        file_format,
        hive_compatible_partitions: file_format.is_some() && f.hive_compatible_partitions,
        per_hour_partition: file_format.is_some() && f.per_hour_partition,
        tags: names.tags(),
    };
    with_spec_tags(&mut desired);
    desired
}

/// A transit gateway's or attachment's flow log: the VPC flow log's destination and options, in
/// the transit gateways' own folder and format, at the only interval AWS takes for them (60 s),
/// with no traffic type.
fn transit_gateway_flow_log(
    names: &Names,
    config: &Config,
    tgw: &config::TransitGatewayLogs,
    resource_type: ResourceType,
    resource_id: &str,
) -> DesiredFlowLog {
    let mut desired = flow_log(names, config, resource_id);
    desired.resource_type = resource_type;
    desired.log_format = tgw.format.spec.clone();
    desired.max_aggregation_interval = 60;
    if let Delivery::Lambda { .. } = &config.delivery {
        desired.destination = s3_destination(
            &names.bucket_arn(),
            &format!("{}{}", config.bucket.prefix, tgw.folder),
        );
    }
    desired.tags = names.tags();
    with_spec_tags(&mut desired);
    desired
}

/// `flowlogs:spec` (a hash of everything the flow log is created with) and
/// `flowlogs:destination-options`.
fn with_spec_tags(desired: &mut DesiredFlowLog) {
    let options = desired.options_tag();
    let spec = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        desired.resource_id,
        desired.resource_type.as_aws(),
        desired.traffic_type_sent().unwrap_or_default(),
        desired.log_format,
        desired.max_aggregation_interval,
        desired.destination_type,
        // Hashed without the folder's trailing slash, so that flow logs made before it was
        // written keep their spec (the destination compares the same way).
        desired.destination.trim_end_matches('/'),
        options
    );
    desired
        .tags
        .insert(TAG_SPEC.into(), short_hash(spec.as_bytes()));
    desired.tags.insert(TAG_OPTIONS.into(), options);
}

/// The flow log's S3 destination: the bucket's ARN, or with a folder `arn:aws:s3:::bucket/folder/`,
/// trailing slash included, as the EC2 API reference writes `LogDestination`.
pub fn s3_destination(bucket_arn: &str, prefix: &str) -> String {
    let folder = prefix.trim_matches('/');
    if folder.is_empty() {
        bucket_arn.to_string()
    } else {
        format!("{bucket_arn}/{folder}/")
    }
}

/// Two S3 destinations name the same place whether or not the folder ends in `/`.
pub fn same_destination(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

fn forwarder(
    names: &Names,
    config: &Config,
    otlp: &config::Otlp,
    lambda: &config::LambdaSettings,
    code: WantedCode,
) -> Result<(DesiredForwarder, Option<DesiredSecret>)> {
    // Header values written with `${env:...}` go to the stack's secret; the others stay in the
    // function's environment.
    let mut secret_headers = BTreeMap::new();
    let mut plain_headers = Vec::new();
    for (name, value) in &otlp.headers {
        let resolved = value.resolve(&format!("delivery.otlp.headers.{name}"))?;
        if value.is_secret() {
            secret_headers.insert(name.clone(), resolved);
        } else {
            let encoded =
                percent_encoding::utf8_percent_encode(&resolved, HEADER_VALUE).to_string();
            plain_headers.push(format!("{name}={encoded}"));
        }
    }
    let secret = (!secret_headers.is_empty()).then(|| {
        secret::secret(
            names,
            "OTLP header values of the flowlogs forwarder",
            SecretValue::new(secret_headers),
        )
    });
    let mut role_policy = policy::render(
        policy::FORWARDER_POLICY,
        &[
            ("partition", &names.partition),
            ("bucket", &names.bucket),
            ("log_key_prefix", &names.log_key_prefix),
            ("failure_bucket", &names.failure_bucket),
            ("region", &names.region),
            ("account", &names.account),
            ("log_group", &names.log_group),
        ],
    );
    if let (Some(tgw_prefix), Some(Value::Array(statements))) =
        (&names.tgw_log_key_prefix, role_policy.get_mut("Statement"))
    {
        also_on(
            statements,
            "ReadFlowLogObjects",
            format!("{}/{tgw_prefix}*", names.bucket_arn()),
        );
    }
    let event_invoke = lambda.on_failure.map(|f| DesiredEventInvoke {
        function: names.function.clone(),
        max_retry_attempts: f.max_retry_attempts,
        max_event_age_s: f.max_event_age_s,
        on_failure_destination: names.failure_bucket_arn(),
    });
    if event_invoke.is_none() {
        // No destination: the role needs no write anywhere.
        if let Some(Value::Array(statements)) = role_policy.get_mut("Statement") {
            statements.retain(|s| {
                !matches!(
                    s["Sid"].as_str(),
                    Some("KeepFailedEvents" | "CheckFailedEventsBucket")
                )
            });
        }
    }
    if secret.is_some() {
        role_policy = secret::with_statement(role_policy, secret::read_statement(names));
    }
    let role = DesiredRole {
        name: names.role.clone(),
        trust: policy::render(policy::FORWARDER_TRUST, &[("account", &names.account)]),
        policy_name: names.role_policy.clone(),
        policy: role_policy,
        tags: names.tags(),
    };
    let mut environment = BTreeMap::new();
    let plain = |v: &str| EnvVar {
        value: v.to_string(),
        secret: false,
    };
    environment.insert("OTEL_EXPORTER_OTLP_ENDPOINT".into(), plain(&otlp.endpoint));
    environment.insert(
        "OTEL_EXPORTER_OTLP_PROTOCOL".into(),
        plain(otlp.protocol.as_env()),
    );
    environment.insert("OTEL_SERVICE_NAME".into(), plain(&otlp.service_name));
    environment.insert(
        "OTEL_EXPORTER_OTLP_COMPRESSION".into(),
        plain(otlp.compression.as_env()),
    );
    environment.insert(
        flowlogs_forwarder::env::BODY.into(),
        plain(otlp.body.as_env()),
    );
    if !otlp.filter.is_empty() {
        environment.insert(
            flowlogs_forwarder::env::FILTER.into(),
            plain(&serde_json::to_string(&otlp.filter).expect("filter rules serialize")),
        );
    }
    if !plain_headers.is_empty() {
        environment.insert(
            "OTEL_EXPORTER_OTLP_HEADERS".into(),
            plain(&plain_headers.join(",")),
        );
    }
    let function = DesiredFunction {
        name: names.function.clone(),
        role_arn: names.role_arn(),
        runtime: "provided.al2023".into(),
        handler: "bootstrap".into(),
        memory_mb: lambda.memory_mb,
        timeout_s: lambda.timeout_s,
        architecture: lambda.architecture,
        environment,
        code,
        tags: names.tags(),
        secret: secret.as_ref().map(|s| SecretRef {
            name: s.name.clone(),
            arn: None,
            version: None,
        }),
    };
    let permission = DesiredPermission {
        function: names.function.clone(),
        statement_id: names.permission_sid.clone(),
        principal: "s3.amazonaws.com".into(),
        source_arn: names.bucket_arn(),
        source_account: names.account.clone(),
    };
    let suffix = match config.flow_log.file_format {
        FileFormat::PlainText => ".log.gz",
        FileFormat::Parquet => ".log.parquet",
    };
    let notification = DesiredNotification {
        bucket: names.bucket.clone(),
        id: names.notification_id.clone(),
        function_arn: names.function_arn(),
        events: vec!["s3:ObjectCreated:*".into()],
        // S3 matches filter values against the URL-encoded key (`aws-account-id%3D...`).
        prefix: crate::aws::keys::encode(&names.log_key_prefix),
        suffix: crate::aws::keys::encode(suffix),
    };
    let tgw_notification = names
        .tgw_log_key_prefix
        .as_ref()
        .map(|prefix| DesiredNotification {
            id: names.tgw_notification_id(),
            prefix: crate::aws::keys::encode(prefix),
            ..notification.clone()
        });
    let log_group = DesiredLogGroup {
        name: names.log_group.clone(),
        retention_days: log_retention(config.bucket.retention_days),
        tags: names.tags(),
    };
    let eventbridge = (lambda.trigger == config::Trigger::EventBridge).then(|| {
        let folders: Vec<&str> = std::iter::once(names.log_key_prefix.as_str())
            .chain(names.tgw_log_key_prefix.as_deref())
            .collect();
        eventbridge::build(names, &folders, suffix)
    });
    Ok((
        DesiredForwarder {
            log_group,
            role,
            function,
            permission,
            notification,
            tgw_notification,
            event_invoke,
            trigger: lambda.trigger,
            eventbridge,
        },
        secret,
    ))
}

/// OTEL_EXPORTER_OTLP_HEADERS values are URL-encoded (W3C baggage style): escape what would break `k=v,k=v`.
const HEADER_VALUE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b',')
    .add(b'=')
    .add(b'%')
    .add(b';')
    .add(b'"');

fn firehose(
    names: &Names,
    settings: &config::FirehoseSettings,
) -> Result<(DesiredFirehose, Option<DesiredSecret>)> {
    let log_stream = FIREHOSE_LOG_STREAM;
    // An access key is a secret even when written in the config as plain text: it goes to the
    // stack's secret, which Firehose reads itself (SecretsManagerConfiguration).
    let secret = match &settings.access_key {
        Some(v) => Some(secret::secret(
            names,
            "access key of the flowlogs Firehose stream's HTTP endpoint",
            SecretValue::new(BTreeMap::from([(
                secret::FIREHOSE_API_KEY.to_string(),
                v.resolve("delivery.firehose.access_key")?,
            )])),
        )),
        None => None,
    };
    let role = DesiredRole {
        name: names.firehose_role.clone(),
        trust: policy::render(policy::FIREHOSE_TRUST, &[("account", &names.account)]),
        policy_name: "flowlogs-firehose".into(),
        policy: {
            let policy = policy::render(
                policy::FIREHOSE_POLICY,
                &[
                    ("partition", &names.partition),
                    ("bucket", &names.bucket),
                    ("backup_prefix", FIREHOSE_BACKUP_PREFIX),
                    ("region", &names.region),
                    ("account", &names.account),
                    ("log_group", &names.firehose_log_group),
                    ("log_stream", log_stream),
                ],
            );
            match &secret {
                Some(_) => secret::with_statement(policy, secret::read_statement(names)),
                None => policy,
            }
        },
        tags: names.tags(),
    };
    let secret_var = |key: &str, v: &config::ConfigValue| -> Result<EnvVar> {
        Ok(EnvVar {
            value: v.resolve(key)?,
            secret: v.is_secret(),
        })
    };
    let mut common_attributes = BTreeMap::new();
    for (name, value) in &settings.common_attributes {
        let key = format!("delivery.firehose.common_attributes.{name}");
        common_attributes.insert(name.clone(), secret_var(&key, value)?);
    }
    let stream = DesiredStream {
        name: names.stream.clone(),
        role_arn: names.firehose_role_arn(),
        url: settings.url.clone(),
        secret: secret.as_ref().map(|s| SecretRef {
            name: s.name.clone(),
            arn: None,
            version: None,
        }),
        content_encoding: settings.content_encoding.as_aws().into(),
        buffering_size_mb: settings.buffering_size_mb,
        buffering_interval_s: settings.buffering_interval_s,
        retry_duration_s: settings.retry_duration_s,
        common_attributes,
        backup_bucket_arn: names.bucket_arn(),
        backup_prefix: FIREHOSE_BACKUP_PREFIX.into(),
        log_group: names.firehose_log_group.clone(),
        log_stream: log_stream.into(),
        tags: names.tags(),
    };
    Ok((DesiredFirehose { role, stream }, secret))
}

pub fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

#[cfg(test)]
mod tests;
