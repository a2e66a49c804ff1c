//! The Firehose delivery stream of firehose mode (Direct PUT, HTTP endpoint destination, failed data
//! backed up to the flowlogs bucket). The log group it writes delivery errors to is
//! `stream_log_group`.
//!
//! The HTTP endpoint's access key is never in the stream's configuration: the stream reads it from
//! the stack's secret (`SecretsManagerConfiguration`, the secret holding `{"api_key": ...}`), so a
//! changed key is a change of the secret (`resources::secret`), which Firehose picks up within ten
//! minutes (it caches a secret that long). A stream made before that carries a salted hash of its
//! key in a tag (`flowlogs:access-key-hash`): the plan moves its key to the secret and removes the
//! tag. AWS adds `LogDeliveryEnabled=true` to the stream when a flow log is pointed at it; tag
//! updates here only add or overwrite our keys, so that tag stays.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_firehose::types::{
    BufferingHints, CloudWatchLoggingOptions, CompressionFormat, ContentEncoding,
    DeliveryStreamStatus, DeliveryStreamType, HttpEndpointBufferingHints,
    HttpEndpointCommonAttribute, HttpEndpointConfiguration, HttpEndpointDestinationConfiguration,
    HttpEndpointDestinationUpdate, HttpEndpointRequestConfiguration, HttpEndpointRetryOptions,
    HttpEndpointS3BackupMode, S3DestinationConfiguration, S3DestinationUpdate,
    SecretsManagerConfiguration,
};
use serde::Serialize;

use super::{Apply, Made, Observe, Resource, Teardown};
use crate::aws::errors::{self, is_already_there, is_not_found, is_stream_busy};
use crate::aws::wait::{self, Patience};
use crate::aws::{tags, Clients};
use crate::desired::{Desired, DesiredStream, Names};
use crate::plan::{Action, Change, Kind};
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[allow(clippy::enum_variant_names)] // the names are the plan's JSON (`"op"`)
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Creates the Firehose stream; waits until it is ACTIVE.
    CreateStream {
        stream: DesiredStream,
        tags: std::collections::BTreeMap<String, String>,
    },
    /// UpdateDestination with the whole HTTP endpoint destination, at the observed version.
    UpdateStream {
        stream: DesiredStream,
        version_id: String,
        destination_id: String,
    },
    /// Adds or overwrites these tags; never removes one.
    TagStream {
        name: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    /// Deletes the stream and waits until it is gone.
    DeleteStream { name: String },
    /// Removes tags flowlogs no longer sets (the old access-key hash).
    UntagStream { name: String, keys: Vec<String> },
}

type Plan = crate::plan::Plan<Op>;

pub struct Stream;

impl Resource for Stream {
    const KIND: Kind = Kind::DeliveryStream;
    type Desired = DesiredStream;
    type Observed = Option<ObservedStream>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredStream> {
        stack.firehose.as_ref().map(|f| &f.stream)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedStream>> {
        observe(cx.clients, &cx.names.stream).await
    }

    fn plan(names: &Names, desired: &DesiredStream, observed: &Option<ObservedStream>) -> Plan {
        plan(names, desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedStream>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        let (c, p) = (cx.clients, cx.progress);
        match op {
            Op::CreateStream { stream, tags } => create(c, &cx.made, stream, tags, p).await,
            Op::UpdateStream {
                stream,
                version_id,
                destination_id,
            } => update(c, &cx.made, stream, version_id, destination_id, p).await,
            Op::TagStream { name, tags } => tag(c, name, tags).await,
            Op::UntagStream { name, keys } => untag(c, name, keys).await,
            Op::DeleteStream { name } => delete(c, name, p).await,
        }
    }
}

/// On a stream made before the key moved to the secret: a salted hash of the access key it was
/// given. Removed by the plan; never written.
pub const TAG_ACCESS_KEY: &str = "flowlogs:access-key-hash";
/// Set by AWS on a stream that a flow log delivers to; never removed by flowlogs.
pub const TAG_LOG_DELIVERY: &str = "LogDeliveryEnabled";
/// How long creating or deleting a stream may take before we give up.
const STREAM_WAIT_LIMIT: Duration = Duration::from_secs(600);

/// The HTTP endpoint destination as AWS describes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ObservedHttpDestination {
    pub url: String,
    pub role_arn: String,
    pub content_encoding: String,
    pub buffering_size_mb: i32,
    pub buffering_interval_s: i32,
    pub retry_duration_s: i32,
    pub common_attributes: BTreeMap<String, String>,
    pub s3_backup_mode: String,
    pub backup_bucket_arn: String,
    pub backup_prefix: String,
    pub backup_role_arn: String,
    /// `(log group, log stream)` when error logging is enabled.
    pub error_logging: Option<(String, String)>,
    /// `(secret ARN, role ARN)` when the access key is read from Secrets Manager.
    pub secret: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObservedStream {
    pub name: String,
    pub arn: String,
    pub status: DeliveryStreamStatus,
    pub stream_type: String,
    pub failure: Option<String>,
    /// Needed by UpdateDestination.
    pub version_id: String,
    pub destination_id: String,
    /// `None` when the stream delivers somewhere other than an HTTP endpoint.
    pub http: Option<ObservedHttpDestination>,
    pub tags: BTreeMap<String, String>,
}

pub async fn observe(clients: &Clients, name: &str) -> Result<Option<ObservedStream>> {
    let fh = &clients.firehose;
    let out = match fh
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading Firehose stream {name}")),
    };
    let d = out
        .delivery_stream_description()
        .context("firehose:DescribeDeliveryStream returned no description")?;
    let destination = d.destinations().first();
    let http = destination
        .and_then(|d| d.http_endpoint_destination_description())
        .map(|h| {
            let s3 = h.s3_destination_description();
            let request = h.request_configuration();
            ObservedHttpDestination {
                url: h
                    .endpoint_configuration()
                    .and_then(|e| e.url())
                    .unwrap_or_default()
                    .to_string(),
                role_arn: h.role_arn().unwrap_or_default().to_string(),
                content_encoding: request
                    .and_then(|r| r.content_encoding())
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_else(|| "NONE".into()),
                buffering_size_mb: h
                    .buffering_hints()
                    .and_then(|b| b.size_in_mbs())
                    .unwrap_or(5),
                buffering_interval_s: h
                    .buffering_hints()
                    .and_then(|b| b.interval_in_seconds())
                    .unwrap_or(300),
                retry_duration_s: h
                    .retry_options()
                    .and_then(|r| r.duration_in_seconds())
                    .unwrap_or(300),
                common_attributes: request
                    .map(|r| {
                        r.common_attributes()
                            .iter()
                            .map(|a| {
                                (
                                    a.attribute_name().to_string(),
                                    a.attribute_value().to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                s3_backup_mode: h
                    .s3_backup_mode()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_else(|| "FailedDataOnly".into()),
                backup_bucket_arn: s3.map(|s| s.bucket_arn().to_string()).unwrap_or_default(),
                backup_prefix: s3.and_then(|s| s.prefix()).unwrap_or_default().to_string(),
                backup_role_arn: s3.map(|s| s.role_arn().to_string()).unwrap_or_default(),
                secret: h
                    .secrets_manager_configuration()
                    .filter(|c| c.enabled())
                    .map(|c| {
                        (
                            c.secret_arn().unwrap_or_default().to_string(),
                            c.role_arn().unwrap_or_default().to_string(),
                        )
                    }),
                error_logging: h
                    .cloud_watch_logging_options()
                    .filter(|c| c.enabled() == Some(true))
                    .map(|c| {
                        (
                            c.log_group_name().unwrap_or_default().to_string(),
                            c.log_stream_name().unwrap_or_default().to_string(),
                        )
                    }),
            }
        });
    let mut tags = BTreeMap::new();
    let mut start: Option<String> = None;
    loop {
        let page = fh
            .list_tags_for_delivery_stream()
            .delivery_stream_name(name)
            .set_exclusive_start_tag_key(start.clone())
            .send()
            .await
            .with_context(|| format!("reading the tags of Firehose stream {name}"))?;
        for t in page.tags() {
            tags.insert(
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            );
        }
        match page.tags().last() {
            Some(last) if page.has_more_tags() => start = Some(last.key().to_string()),
            _ => break,
        }
    }
    Ok(Some(ObservedStream {
        name: d.delivery_stream_name().to_string(),
        arn: d.delivery_stream_arn().to_string(),
        status: d.delivery_stream_status().clone(),
        stream_type: d.delivery_stream_type().as_str().to_string(),
        failure: d
            .failure_description()
            .map(|f| format!("{}: {}", f.r#type().as_str(), f.details())),
        version_id: d.version_id().to_string(),
        destination_id: destination
            .map(|d| d.destination_id().to_string())
            .unwrap_or_default(),
        http,
        tags,
    }))
}

/// The tags the stream should carry.
pub fn wanted_tags(d: &DesiredStream) -> BTreeMap<String, String> {
    d.tags.clone()
}

/// How the access key reaches the endpoint, as the plan shows it (never the key).
fn key_source(secret: Option<&(String, String)>, legacy_tag: Option<&str>) -> String {
    match (secret, legacy_tag) {
        (Some((arn, _)), _) => format!("secret {arn}"),
        (None, Some(tag)) if tag != "none" => "in the stream's configuration".into(),
        (None, _) => "(none)".into(),
    }
}

/// The access key's source as the config wants it.
fn wanted_key_source(d: &DesiredStream) -> String {
    match &d.secret {
        Some(r) => format!("secret {}", r.arn.as_deref().unwrap_or(&r.name)),
        None => "(none)".into(),
    }
}

/// Differences that UpdateDestination cannot make: the stream has to be replaced.
pub fn replace_reasons(o: &ObservedStream) -> Vec<Change> {
    let mut changes = Vec::new();
    if matches!(
        o.status,
        DeliveryStreamStatus::CreatingFailed | DeliveryStreamStatus::DeletingFailed
    ) {
        changes.push(Change::new(
            "status",
            format!(
                "{}{}",
                o.status.as_str(),
                o.failure
                    .as_ref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            ),
            DeliveryStreamStatus::Active.as_str(),
        ));
    }
    if o.stream_type != "DirectPut" {
        changes.push(Change::new("source", &o.stream_type, "DirectPut"));
    }
    match &o.http {
        None => changes.push(Change::new(
            "destination",
            "not an HTTP endpoint",
            "HTTP endpoint",
        )),
        Some(h) if h.s3_backup_mode != "FailedDataOnly" => {
            changes.push(Change::new(
                "s3_backup_mode",
                &h.s3_backup_mode,
                "FailedDataOnly",
            ));
        }
        Some(_) => {}
    }
    changes
}

/// Destination fields that differ, as the config names them; secrets shown as `<redacted>`.
pub fn differences(d: &DesiredStream, o: &ObservedStream) -> Vec<Change> {
    let Some(h) = &o.http else {
        return Vec::new();
    };
    let mut changes: Vec<Change> = Change::differs("url", &h.url, &d.url).into_iter().collect();
    let legacy_tag = o.tags.get(TAG_ACCESS_KEY).map(String::as_str);
    let wanted_secret = d
        .secret
        .as_ref()
        .map(|r| (r.arn.clone().unwrap_or_default(), d.role_arn.clone()));
    let key_in_configuration = h.secret.is_none() && legacy_tag.is_some_and(|t| t != "none");
    if h.secret != wanted_secret || key_in_configuration {
        changes.push(Change::new(
            "access_key",
            key_source(h.secret.as_ref(), legacy_tag),
            wanted_key_source(d),
        ));
    }
    changes.extend(
        [
            Change::differs("content_encoding", &h.content_encoding, &d.content_encoding),
            Change::differs(
                "buffering.size_mb",
                h.buffering_size_mb,
                d.buffering_size_mb as i32,
            ),
            Change::differs(
                "buffering.interval_s",
                h.buffering_interval_s,
                d.buffering_interval_s as i32,
            ),
            Change::differs(
                "retry_duration_s",
                h.retry_duration_s,
                d.retry_duration_s as i32,
            ),
        ]
        .into_iter()
        .flatten(),
    );
    let names: std::collections::BTreeSet<&String> = h
        .common_attributes
        .keys()
        .chain(d.common_attributes.keys())
        .collect();
    for name in names {
        let wanted = d.common_attributes.get(name);
        let current = h.common_attributes.get(name);
        if wanted.map(|w| &w.value) != current {
            let secret = wanted.is_some_and(|w| w.secret);
            let shown = |v: Option<&String>| match v {
                None => "(unset)".to_string(),
                Some(_) if secret => crate::config::REDACTED.to_string(),
                Some(v) => v.clone(),
            };
            changes.push(Change::new(
                &format!("common_attributes.{name}"),
                shown(current),
                shown(wanted.map(|w| &w.value)),
            ));
        }
    }
    if h.role_arn != d.role_arn || h.backup_role_arn != d.role_arn {
        changes.push(Change::new("role", &h.role_arn, &d.role_arn));
    }
    if h.backup_bucket_arn != d.backup_bucket_arn || h.backup_prefix != d.backup_prefix {
        changes.push(Change::new(
            "failed data backup",
            format!("{} {}", h.backup_bucket_arn, h.backup_prefix),
            format!("{} {}", d.backup_bucket_arn, d.backup_prefix),
        ));
    }
    let wanted_logging = Some((d.log_group.clone(), d.log_stream.clone()));
    if h.error_logging != wanted_logging {
        let show = |l: &Option<(String, String)>| match l {
            Some((g, s)) => format!("{g}:{s}"),
            None => "disabled".into(),
        };
        changes.push(Change::new(
            "error logging",
            show(&h.error_logging),
            show(&wanted_logging),
        ));
    }
    changes
}

fn creation_changes(d: &DesiredStream) -> Vec<Change> {
    let mut changes = vec![
        Change::new("url", "", &d.url),
        Change::new("access_key", "", wanted_key_source(d)),
        Change::new("content_encoding", "", &d.content_encoding),
        Change::new(
            "buffering",
            "",
            format!("{} MB / {} s", d.buffering_size_mb, d.buffering_interval_s),
        ),
        Change::new("retry_duration_s", "", d.retry_duration_s),
        Change::new(
            "failed data backup",
            "",
            format!("{} {}", d.backup_bucket_arn, d.backup_prefix),
        ),
        Change::new(
            "error logging",
            "",
            format!("{}:{}", d.log_group, d.log_stream),
        ),
    ];
    for (name, value) in &d.common_attributes {
        changes.push(Change::new(
            &format!("common_attributes.{name}"),
            "",
            value.shown(),
        ));
    }
    changes
}

/// Create the stream, update its destination or tags in place, or replace it where
/// UpdateDestination cannot make the change; a same-named stream that is not ours is a conflict.
pub fn plan(names: &Names, d: &DesiredStream, observed: Option<&ObservedStream>) -> Plan {
    let mut plan = Plan::default();
    let Some(o) = observed else {
        plan.step(
            Kind::DeliveryStream,
            &d.name,
            Action::Create,
            creation_changes(d),
            vec![Op::CreateStream {
                stream: d.clone(),
                tags: wanted_tags(d),
            }],
        );
        return plan;
    };
    if !names.is_ours(&o.tags) {
        plan.conflict(
            Kind::DeliveryStream,
            &d.name,
            format!(
                "a Firehose stream with this name exists and is not tagged {}={}",
                crate::desired::TAG_STACK,
                names.stack
            ),
            "delete or rename that stream, or choose another `stack` name",
        );
        return plan;
    }
    if o.status == DeliveryStreamStatus::Deleting {
        plan.conflict(
            Kind::DeliveryStream,
            &d.name,
            "the stream is being deleted",
            "wait until it is gone, then run setup again",
        );
        return plan;
    }
    let replace = replace_reasons(o);
    if !replace.is_empty() {
        // A replaced stream keeps the tag AWS set for the flow log delivering to it (same ARN).
        let mut tags = wanted_tags(d);
        if let Some(v) = o.tags.get(TAG_LOG_DELIVERY) {
            tags.insert(TAG_LOG_DELIVERY.into(), v.clone());
        }
        plan.replace(
            Kind::DeliveryStream,
            &d.name,
            replace,
            vec![Op::DeleteStream {
                name: d.name.clone(),
            }],
            vec![Op::CreateStream {
                stream: d.clone(),
                tags,
            }],
        );
        return plan;
    }
    let mut changes = differences(d, o);
    let mut ops = Vec::new();
    if !changes.is_empty() {
        ops.push(Op::UpdateStream {
            stream: d.clone(),
            version_id: o.version_id.clone(),
            destination_id: o.destination_id.clone(),
        });
    }
    let tags = wanted_tags(d);
    if tags.iter().any(|(k, v)| o.tags.get(k) != Some(v)) {
        changes.push(Change::new("tags", "incomplete", "flowlogs tags"));
        ops.push(Op::TagStream {
            name: d.name.clone(),
            tags,
        });
    }
    if o.tags.contains_key(TAG_ACCESS_KEY) {
        changes.push(Change::new(
            &format!("tag {TAG_ACCESS_KEY}"),
            "set",
            "(removed)",
        ));
        ops.push(Op::UntagStream {
            name: d.name.clone(),
            keys: vec![TAG_ACCESS_KEY.to_string()],
        });
    }
    if ops.is_empty() {
        plan.in_sync(Kind::DeliveryStream, &d.name);
    } else {
        plan.step(Kind::DeliveryStream, &d.name, Action::Update, changes, ops);
    }
    plan
}

/// The stream goes when it carries our tag.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedStream>) -> Plan {
    let mut plan = Plan::default();
    if let Some(s) = observed.filter(|s| names.is_ours(&s.tags)) {
        plan.step(
            Kind::DeliveryStream,
            &s.name,
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteStream {
                name: s.name.clone(),
            }],
        );
    }
    plan
}

/// The destination configuration CreateDeliveryStream takes; `secret_arn`: the stack's secret
/// holding the access key, when there is one.
pub fn destination(
    d: &DesiredStream,
    secret_arn: Option<&str>,
) -> Result<HttpEndpointDestinationConfiguration> {
    Ok(HttpEndpointDestinationConfiguration::builder()
        .endpoint_configuration(endpoint(d)?)
        .set_secrets_manager_configuration(secrets_manager(d, secret_arn)?)
        .buffering_hints(buffering(d))
        .cloud_watch_logging_options(logging(d))
        .request_configuration(request(d)?)
        .role_arn(&d.role_arn)
        .retry_options(retry_options(d))
        .s3_backup_mode(HttpEndpointS3BackupMode::FailedDataOnly)
        .s3_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(&d.role_arn)
                .bucket_arn(&d.backup_bucket_arn)
                .prefix(&d.backup_prefix)
                .compression_format(CompressionFormat::Gzip)
                .buffering_hints(
                    BufferingHints::builder()
                        .size_in_mbs(5)
                        .interval_in_seconds(300)
                        .build(),
                )
                .cloud_watch_logging_options(logging(d))
                .build()?,
        )
        .build())
}

/// The same, as UpdateDestination takes it. Without a secret, Secrets Manager is turned off.
pub fn destination_update(
    d: &DesiredStream,
    secret_arn: Option<&str>,
) -> Result<HttpEndpointDestinationUpdate> {
    let secrets = match secrets_manager(d, secret_arn)? {
        Some(c) => c,
        None => SecretsManagerConfiguration::builder()
            .enabled(false)
            .build()?,
    };
    Ok(HttpEndpointDestinationUpdate::builder()
        .endpoint_configuration(endpoint(d)?)
        .secrets_manager_configuration(secrets)
        .buffering_hints(buffering(d))
        .cloud_watch_logging_options(logging(d))
        .request_configuration(request(d)?)
        .role_arn(&d.role_arn)
        .retry_options(retry_options(d))
        .s3_backup_mode(HttpEndpointS3BackupMode::FailedDataOnly)
        .s3_update(
            S3DestinationUpdate::builder()
                .role_arn(&d.role_arn)
                .bucket_arn(&d.backup_bucket_arn)
                .prefix(&d.backup_prefix)
                .compression_format(CompressionFormat::Gzip)
                .cloud_watch_logging_options(logging(d))
                .build(),
        )
        .build())
}

fn endpoint(d: &DesiredStream) -> Result<HttpEndpointConfiguration> {
    Ok(HttpEndpointConfiguration::builder()
        .url(&d.url)
        .name(&d.name)
        .build()?)
}

/// Firehose reads the access key from the secret itself, with the stream's role.
fn secrets_manager(
    d: &DesiredStream,
    secret_arn: Option<&str>,
) -> Result<Option<SecretsManagerConfiguration>> {
    let Some(arn) = secret_arn else {
        return Ok(None);
    };
    Ok(Some(
        SecretsManagerConfiguration::builder()
            .enabled(true)
            .secret_arn(arn)
            .role_arn(&d.role_arn)
            .build()?,
    ))
}

/// The secret's ARN: planned, or handed on by the step that made it in this run, or (a secret made
/// by someone since the plan) asked.
async fn secret_arn(clients: &Clients, made: &Made, d: &DesiredStream) -> Result<Option<String>> {
    match &d.secret {
        None => Ok(None),
        Some(r) => match r.arn.clone().or_else(|| made.secret_arn(&r.name)) {
            Some(arn) => Ok(Some(arn)),
            None => super::secret::arn_of(clients, &r.name).await.map(Some),
        },
    }
}

fn buffering(d: &DesiredStream) -> HttpEndpointBufferingHints {
    HttpEndpointBufferingHints::builder()
        .size_in_mbs(d.buffering_size_mb as i32)
        .interval_in_seconds(d.buffering_interval_s as i32)
        .build()
}

fn logging(d: &DesiredStream) -> CloudWatchLoggingOptions {
    CloudWatchLoggingOptions::builder()
        .enabled(true)
        .log_group_name(&d.log_group)
        .log_stream_name(&d.log_stream)
        .build()
}

fn request(d: &DesiredStream) -> Result<HttpEndpointRequestConfiguration> {
    let attributes = d
        .common_attributes
        .iter()
        .map(|(name, value)| {
            HttpEndpointCommonAttribute::builder()
                .attribute_name(name)
                .attribute_value(&value.value)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpEndpointRequestConfiguration::builder()
        .content_encoding(ContentEncoding::from(d.content_encoding.as_str()))
        .set_common_attributes((!attributes.is_empty()).then_some(attributes))
        .build())
}

fn retry_options(d: &DesiredStream) -> HttpEndpointRetryOptions {
    HttpEndpointRetryOptions::builder()
        .duration_in_seconds(d.retry_duration_s as i32)
        .build()
}

pub async fn create(
    clients: &Clients,
    made: &Made,
    d: &DesiredStream,
    tags: &BTreeMap<String, String>,
    progress: &Progress,
) -> Result<()> {
    let secret_arn = secret_arn(clients, made, d).await?;
    let destination = destination(d, secret_arn.as_deref())?;
    let tags = tags::to_firehose(tags)?;
    let created = wait::retry(
        progress,
        Patience::iam(&format!(
            "IAM role {} to be assumable by Firehose",
            d.role_arn
        )),
        || {
            clients
                .firehose
                .create_delivery_stream()
                .delivery_stream_name(&d.name)
                .delivery_stream_type(DeliveryStreamType::DirectPut)
                .http_endpoint_destination_configuration(destination.clone())
                .set_tags(Some(tags.clone()))
                .send()
        },
        errors::is_role_not_yet_assumable_by_firehose,
    )
    .await;
    match created {
        Ok(_) => {}
        Err(e) if is_already_there(&e) => {}
        Err(e) => return Err(e).with_context(|| format!("creating Firehose stream {}", d.name)),
    }
    wait_until_active(clients, &d.name, progress).await
}

pub async fn update(
    clients: &Clients,
    made: &Made,
    d: &DesiredStream,
    version_id: &str,
    destination_id: &str,
    progress: &Progress,
) -> Result<()> {
    let secret_arn = secret_arn(clients, made, d).await?;
    let update = destination_update(d, secret_arn.as_deref())?;
    wait_until_active(clients, &d.name, progress).await?;
    wait::retry(
        progress,
        Patience::iam(&format!("IAM role {} to be assumable by Firehose", d.role_arn)),
        || {
            clients
                .firehose
                .update_destination()
                .delivery_stream_name(&d.name)
                .current_delivery_stream_version_id(version_id)
                .destination_id(destination_id)
                .http_endpoint_destination_update(update.clone())
                .send()
        },
        errors::is_role_not_yet_assumable_by_firehose,
    )
    .await
    .with_context(|| {
        format!("updating the destination of Firehose stream {} (if it changed since the plan, run setup again)", d.name)
    })?;
    wait_until_active(clients, &d.name, progress).await
}

/// Adds or overwrites our tags; never removes a tag (AWS's `LogDeliveryEnabled` stays).
pub async fn tag(clients: &Clients, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    clients
        .firehose
        .tag_delivery_stream()
        .delivery_stream_name(name)
        .set_tags(Some(tags::to_firehose(tags)?))
        .send()
        .await
        .with_context(|| format!("tagging Firehose stream {name}"))?;
    Ok(())
}

/// Removes tags flowlogs no longer sets (only those it names).
pub async fn untag(clients: &Clients, name: &str, keys: &[String]) -> Result<()> {
    clients
        .firehose
        .untag_delivery_stream()
        .delivery_stream_name(name)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .with_context(|| format!("removing tags {keys:?} from Firehose stream {name}"))?;
    Ok(())
}

/// Waits, with a bound and a visible line, until the stream is ACTIVE.
pub async fn wait_until_active(clients: &Clients, name: &str, progress: &Progress) -> Result<()> {
    let started = tokio::time::Instant::now();
    let mut shown = false;
    loop {
        let out = clients
            .firehose
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .with_context(|| format!("reading the status of Firehose stream {name}"))?;
        let d = out
            .delivery_stream_description()
            .context("firehose:DescribeDeliveryStream returned no description")?;
        match d.delivery_stream_status() {
            DeliveryStreamStatus::Active => return Ok(()),
            DeliveryStreamStatus::CreatingFailed => anyhow::bail!(
                "Firehose stream {name} failed to create: {}",
                d.failure_description()
                    .map(|f| format!("{}: {}", f.r#type().as_str(), f.details()))
                    .unwrap_or_else(|| "no reason given".into())
            ),
            status => {
                if started.elapsed() > STREAM_WAIT_LIMIT {
                    anyhow::bail!(
                        "Firehose stream {name} was still {} after {} s",
                        status.as_str(),
                        STREAM_WAIT_LIMIT.as_secs()
                    );
                }
                if !shown {
                    progress.detail(&format!(
                        "waiting for Firehose stream {name} to be ACTIVE (it is {}; this takes a minute or two)",
                        status.as_str()
                    ));
                    shown = true;
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Deletes the stream and waits until it is gone (a stream of the same name can then be made).
/// Already gone is fine.
pub async fn delete(clients: &Clients, name: &str, progress: &Progress) -> Result<()> {
    // A stream that is still being created or updated cannot be deleted yet: wait for it.
    let asked = tokio::time::Instant::now();
    loop {
        match clients
            .firehose
            .delete_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
        {
            Ok(_) => break,
            Err(e) if is_not_found(&e) => break,
            Err(e) if is_stream_busy(&e) && asked.elapsed() < STREAM_WAIT_LIMIT => {
                progress.detail(&format!(
                    "Firehose stream {name} is busy (creating or updating): retrying the delete in 10 s"
                ));
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("deleting Firehose stream {name}")),
        }
    }
    let started = tokio::time::Instant::now();
    let mut shown = false;
    while let Some(status) = status_of(clients, name).await? {
        if status == DeliveryStreamStatus::DeletingFailed {
            anyhow::bail!("AWS could not delete Firehose stream {name} (DELETING_FAILED)");
        }
        if started.elapsed() > STREAM_WAIT_LIMIT {
            anyhow::bail!(
                "Firehose stream {name} was still being deleted after {} s",
                STREAM_WAIT_LIMIT.as_secs()
            );
        }
        if !shown {
            progress.detail(&format!("waiting for Firehose stream {name} to be deleted"));
            shown = true;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    Ok(())
}

/// The stream's status, `None` when it does not exist.
pub async fn status_of(clients: &Clients, name: &str) -> Result<Option<DeliveryStreamStatus>> {
    match clients
        .firehose
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .delivery_stream_description()
            .map(|d| d.delivery_stream_status().clone())),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading the status of Firehose stream {name}")),
    }
}

#[cfg(test)]
pub mod tests;
