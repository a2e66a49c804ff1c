//! The Lambda handler: for every object an S3 event names, stream it from S3, forward its
//! records, and account for each of them in a [`Report`].
//!
//! S3 is reached through the narrow [`ObjectSource`] trait so that tests can call
//! [`handle`] with objects of their own.

use crate::export::{request::Body, Exporter, SendError, Sent};
use crate::otlp::ObjectInfo;
use crate::pipeline::{self, ObjectStats, Sink};
use crate::report::Report;
use aws_lambda_events::event::s3::S3Event;
use futures::stream::{FuturesUnordered, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncRead;

/// An object body being read.
pub type ObjectBody = Pin<Box<dyn AsyncRead + Send>>;

/// Where objects are read from: S3 in the function, anything in tests.
pub trait ObjectSource: Send + Sync {
    fn get(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = anyhow::Result<ObjectBody>> + Send;
}

/// Objects from S3, streamed.
pub struct S3Source(pub aws_sdk_s3::Client);

impl ObjectSource for S3Source {
    async fn get(&self, bucket: &str, key: &str) -> anyhow::Result<ObjectBody> {
        use anyhow::Context as _;
        let out = self
            .0
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .with_context(|| format!("getting s3://{bucket}/{key}"))?;
        Ok(Box::pin(out.body.into_async_read()))
    }
}

/// One object named by the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// URL-decoded.
    pub key: String,
    pub size: Option<i64>,
    pub region: Option<String>,
}

/// S3 event keys are URL-encoded, with `+` for a space.
pub fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The objects an event names, `s3:TestEvent` and records other than object creations aside.
pub fn objects(event: &serde_json::Value) -> Result<Vec<ObjectRef>, HandlerError> {
    // S3's test message (sent when a notification is configured) is not an `S3Event`.
    if event.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        tracing::info!("s3:TestEvent: nothing to forward");
        return Ok(Vec::new());
    }
    let ev: S3Event = serde_json::from_value(event.clone())
        .map_err(|e| HandlerError::new(format!("not an S3 event: {e}"), Report::default()))?;
    let mut out = Vec::new();
    for r in ev.records {
        if r.event_name
            .as_deref()
            .is_some_and(|n| !n.starts_with("ObjectCreated"))
        {
            tracing::info!(event = ?r.event_name, "skipping a record that does not create an object");
            continue;
        }
        let (Some(bucket), Some(key)) = (r.s3.bucket.name, r.s3.object.key) else {
            tracing::warn!("skipping an event record without bucket or key");
            continue;
        };
        out.push(ObjectRef {
            bucket,
            key: decode_key(&key),
            size: r.s3.object.size,
            region: r.aws_region,
        });
    }
    Ok(out)
}

/// The invocation did not deliver everything; Lambda should retry it.
#[derive(thiserror::Error, Debug, Clone)]
#[error(
    "{message}: forwarded {} of {} records read from {} objects ({} rejected, {} batches, {} retries)",
    report.forwarded, report.records, report.objects, report.rejected, report.batches, report.retries
)]
pub struct HandlerError {
    pub message: String,
    pub report: Report,
}

impl HandlerError {
    fn new(message: String, report: Report) -> HandlerError {
        HandlerError { message, report }
    }
}

/// How long before the deadline reading stops, and sending gives up.
#[derive(Debug, Clone, Copy)]
pub struct Margins {
    pub stop_reading: Duration,
    pub stop_sending: Duration,
}

impl Default for Margins {
    fn default() -> Self {
        Margins {
            stop_reading: Duration::from_secs(3),
            stop_sending: Duration::from_millis(500),
        }
    }
}

/// Forwards every object of the event. The report counts every record read: forwarded,
/// rejected by the endpoint, or (on error) not delivered.
pub async fn handle<S: ObjectSource>(
    source: &S,
    exporter: &Exporter,
    event: serde_json::Value,
    deadline: Option<Instant>,
    margins: Margins,
) -> Result<Report, HandlerError> {
    let started = Instant::now();
    let mut report = Report::default();
    let exporter =
        exporter.with_deadline(deadline.map(|d| d - margins.stop_sending.min(d - started)));
    let stop_at = deadline.map(|d| d - margins.stop_reading.min((d - started) / 2));
    let result: Result<(), HandlerError> = async {
        for obj in objects(&event)? {
            if obj.size == Some(0) {
                tracing::info!(bucket = %obj.bucket, key = %obj.key, "skipping zero-byte object");
                continue;
            }
            forward_object(source, &exporter, &obj, stop_at, &mut report)
                .await
                .map_err(|message| HandlerError::new(message, report.clone()))?;
        }
        Ok(())
    }
    .await;
    report.millis = started.elapsed().as_millis() as u64;
    match result {
        Ok(()) => {
            println!(
                "{}",
                serde_json::to_string(&report).expect("a report serializes")
            );
            Ok(report)
        }
        Err(mut e) => {
            e.report = report.clone();
            println!(
                "{}",
                serde_json::json!({ "report": report, "error": e.to_string() })
            );
            Err(e)
        }
    }
}

async fn forward_object<S: ObjectSource>(
    source: &S,
    exporter: &Exporter,
    obj: &ObjectRef,
    stop_at: Option<Instant>,
    report: &mut Report,
) -> Result<(), String> {
    let url = format!("s3://{}/{}", obj.bucket, obj.key);
    let body = source
        .get(&obj.bucket, &obj.key)
        .await
        .map_err(|e| format!("{e:#}"))?;
    report.objects += 1;
    let object = Arc::new(ObjectInfo::new(
        &obj.bucket,
        &obj.key,
        obj.region.as_deref(),
    ));
    let observed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let config = exporter.config().clone();
    let concurrency = config.concurrency.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Body>(concurrency);

    let producer = if obj.key.ends_with(".parquet") {
        // Parquet needs random access (its index is at the end): spool it to local disk.
        let tmp =
            tempfile::NamedTempFile::new().map_err(|e| format!("creating a temp file: {e}"))?;
        let mut file = tokio::fs::File::from_std(tmp.reopen().map_err(|e| e.to_string())?);
        let mut body = body;
        tokio::io::copy(&mut body, &mut file)
            .await
            .map_err(|e| format!("reading {url}: {e}"))?;
        drop(file);
        tokio::task::spawn_blocking(move || {
            let mut emit = |b: Body| tx.blocking_send(b).is_ok();
            let stop = || stop_at.is_some_and(|s| Instant::now() >= s);
            let mut sink = Sink {
                config: &config,
                emit: &mut emit,
                stop: &stop,
            };
            pipeline::forward_parquet(tmp.reopen()?, &object, observed, &mut sink)
        })
    } else {
        let bridge = tokio_util::io::SyncIoBridge::new(body);
        tokio::task::spawn_blocking(move || {
            let mut emit = |b: Body| tx.blocking_send(b).is_ok();
            let stop = || stop_at.is_some_and(|s| Instant::now() >= s);
            let mut sink = Sink {
                config: &config,
                emit: &mut emit,
                stop: &stop,
            };
            pipeline::forward_text(bridge, &object, observed, &mut sink)
        })
    };

    let mut in_flight = FuturesUnordered::new();
    let mut receiving = true;
    let mut failure: Option<SendError> = None;
    loop {
        tokio::select! {
            Some(result) = in_flight.next(), if !in_flight.is_empty() => {
                match result {
                    Ok(Sent { accepted, rejected, retries }) => {
                        report.forwarded += accepted;
                        report.rejected += rejected;
                        report.retries += retries;
                        report.batches += 1;
                    }
                    Err(e) => {
                        let e: SendError = e;
                        report.retries += e.retries;
                        if failure.is_none() {
                            failure = Some(e);
                        }
                        // Stop the reader; bodies already queued are dropped, unsent.
                        rx.close();
                        receiving = false;
                    }
                }
            }
            body = rx.recv(), if receiving && in_flight.len() < concurrency => match body {
                Some(body) => in_flight.push(async move { exporter.send(&body).await }),
                None => receiving = false,
            },
            else => break,
        }
    }
    drop(rx);
    let stats: ObjectStats = match producer.await {
        Ok(Ok(stats)) => stats,
        Ok(Err(e)) => return Err(format!("reading {url}: {e}")),
        Err(e) => return Err(format!("reading {url}: {e}")),
    };
    report.records += stats.records;
    report.skipped_lines += stats.skipped_lines;
    if let Some(e) = failure {
        return Err(format!("sending records of {url} failed: {e}"));
    }
    if stats.stopped {
        return Err(format!(
            "stopped reading {url} to finish before the invocation's deadline"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(
            decode_key("AWSLogs/1/a+b%3Dc%2Bd.log.gz"),
            "AWSLogs/1/a b=c+d.log.gz"
        );
        assert_eq!(decode_key("plain/key.log"), "plain/key.log");
    }

    /// One record as S3 writes it (the shape of aws_lambda_events' example-s3-event.json).
    fn record(name: &str, key: &str, size: Option<i64>) -> serde_json::Value {
        json!({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
            "eventTime": "2024-06-19T14:05:00.123Z", "eventName": name,
            "userIdentity": {"principalId": "EXAMPLE"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "flowlogs-main",
                   "bucket": {"name": "b", "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": "arn:aws:s3:::b"},
                   "object": {"key": key, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0A1B"}}
        })
    }

    #[test]
    fn events() {
        let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2024-01-01T00:00:00.000Z",
                                "Bucket": "b", "RequestId": "r", "HostId": "h"});
        assert_eq!(objects(&test_event).unwrap(), []);
        let ev = json!({"Records": [
            record("ObjectCreated:Put", "a+b%3D1.log.gz", Some(10)),
            record("ObjectRemoved:Delete", "gone.log.gz", None),
            record("ObjectCreated:CompleteMultipartUpload", "Happy%20Face.log.parquet", None),
        ]});
        let object = |key: &str, size| ObjectRef {
            bucket: "b".into(),
            key: key.into(),
            size,
            region: Some("eu-west-1".into()),
        };
        assert_eq!(
            objects(&ev).unwrap(),
            [
                object("a b=1.log.gz", Some(10)),
                object("Happy Face.log.parquet", None)
            ]
        );
    }

    #[test]
    fn a_payload_that_is_not_an_s3_event_is_an_error() {
        let err = objects(&json!({"Records": "nope"})).unwrap_err();
        assert!(err.message.starts_with("not an S3 event"), "{err}");
        let err = objects(&json!({"detail-type": "Object Created"})).unwrap_err();
        assert!(err.message.contains("Records"), "{err}");
    }
}
