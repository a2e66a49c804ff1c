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

mod plan;
mod write;

#[cfg(test)]
use plan::{differences, wanted_tags};
pub use plan::{plan, plan_teardown};
pub use write::{create, delete, tag, untag, update};
#[cfg(test)]
use write::{destination, destination_update};

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
#[cfg(test)]
pub mod tests;
