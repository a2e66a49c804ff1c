//! The Lambda handler: for every object an event names (an S3 notification, or S3's Object
//! Created event through EventBridge), stream it from S3, forward its records, and account for
//! each of them in a [`Report`]. The object, its records and their `log.record.uid` are the same
//! whichever way it arrived; its report line names the trigger.
//!
//! S3 is reached through the narrow [`ObjectSource`] trait so that tests can call
//! [`handle`] with objects of their own.

use crate::eventbridge_event::{self, EventBridgeEvent};
use crate::export::{request::Body, Exporter, SendError, Sent};
use crate::otlp::ObjectInfo;
use crate::pipeline::{self, ObjectStats, Sink};
use crate::report::{
    ErrorKind, InvocationReport, ObjectReport, Outcome, Report, ReportLine, Trigger,
};
use crate::s3_event::EventRecord;
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
        let out = self
            .0
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("getting s3://{bucket}/{key}: {}", read_error(&e)))?;
        Ok(Box::pin(out.body.into_async_read()))
    }
}

/// Why a read failed, in one short line: AWS's code and message (`AccessDenied: User: ... is not
/// authorized ...`), which the report reader and a user act on; the SDK's own Display says only
/// "service error", and its full context holds the raw response. Without an answer from S3
/// (connection, timeout), the full context.
fn read_error<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err
        .as_service_error()
        .and_then(|e| e.code().map(|code| (code, e.message())))
    {
        Some((code, Some(message))) => format!("{code}: {message}"),
        Some((code, None)) => code.to_string(),
        None => aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
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
    /// The kind of event that named it.
    pub trigger: Trigger,
}

/// S3 event keys are URL-encoded, with `+` for a space.
pub fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// What an event names: the objects to read, and why other records were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventObjects {
    pub objects: Vec<ObjectRef>,
    /// One message per record that names no bucket or no key, naming what is missing.
    pub unusable: Vec<String>,
}

/// What a payload that is neither event holds, for the error that refuses it: its top-level
/// field names, or its JSON type.
fn what_it_got(event: &serde_json::Value) -> String {
    match event {
        serde_json::Value::Object(map) if map.is_empty() => "an empty object".into(),
        serde_json::Value::Object(map) => format!(
            "an object with the fields {}",
            map.keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        serde_json::Value::Array(_) => "a JSON list".into(),
        serde_json::Value::String(_) => "a JSON string".into(),
        serde_json::Value::Number(_) => "a JSON number".into(),
        serde_json::Value::Bool(_) => "a JSON boolean".into(),
        serde_json::Value::Null => "null".into(),
    }
}

/// The objects an event names: an S3 notification (`{"Records": [...]}`) or S3's Object Created
/// event through EventBridge (`crate::eventbridge_event`). `s3:TestEvent`, records other than
/// object creations and EventBridge events of other S3 types are aside. A record that names no
/// bucket or no key is skipped with a message saying what is missing; the event is refused only
/// when it is neither kind of event (the error names what it got), or when such records are all
/// it has.
pub fn read_event(event: &serde_json::Value) -> Result<EventObjects, HandlerError> {
    // S3's test message (sent when a notification is configured) is not an `S3Event`.
    if event.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        tracing::info!("s3:TestEvent: nothing to forward");
        return Ok(EventObjects::default());
    }
    if event.get("Records").is_none() && EventBridgeEvent::looks_like(event) {
        return read_eventbridge(event);
    }
    let records = match event.get("Records") {
        Some(serde_json::Value::Array(records)) => records,
        Some(_) => {
            return Err(bad_event(
                "not an S3 event: `Records` is not a list".to_string(),
            ))
        }
        None => {
            return Err(bad_event(format!(
                "not an S3 event: the payload is {}, with no `Records` list (an S3 event \
                 notification) and no `source`/`detail-type` (S3's event through EventBridge); \
                 send an S3 event notification such as {{\"Records\":[{{\"s3\":{{\"bucket\":\
                 {{\"name\":\"...\"}},\"object\":{{\"key\":\"...\"}}}}}}]}}",
                what_it_got(event)
            )))
        }
    };
    let mut out = EventObjects::default();
    for (i, value) in records.iter().enumerate() {
        let r: EventRecord = match serde_json::from_value(value.clone()) {
            Ok(r) => r,
            Err(e) => {
                out.unusable
                    .push(format!("record {i} is not an S3 event record: {e}"));
                continue;
            }
        };
        if r.event_name
            .as_deref()
            .is_some_and(|n| !n.starts_with("ObjectCreated"))
        {
            tracing::info!(event = ?r.event_name, "skipping a record that does not create an object");
            continue;
        }
        let s3 = r.s3.unwrap_or_default();
        let bucket = s3.bucket.and_then(|b| b.name).filter(|n| !n.is_empty());
        let object = s3.object.unwrap_or_default();
        let key = object.key.filter(|k| !k.is_empty());
        let (bucket, key) = match (bucket, key) {
            (Some(bucket), Some(key)) => (bucket, key),
            (bucket, key) => {
                let missing = [
                    bucket.is_none().then_some("s3.bucket.name"),
                    key.is_none().then_some("s3.object.key"),
                ];
                let missing: Vec<&str> = missing.into_iter().flatten().collect();
                out.unusable
                    .push(format!("record {i} has no {}", missing.join(" and no ")));
                continue;
            }
        };
        out.objects.push(ObjectRef {
            bucket,
            key: decode_key(&key),
            size: object.size,
            region: r.aws_region,
            trigger: Trigger::S3Notification,
        });
    }
    for why in &out.unusable {
        tracing::warn!("skipping an event record: {why}");
    }
    if out.objects.is_empty() && !out.unusable.is_empty() {
        let mut err = bad_event(format!(
            "no record of the event names a bucket and a key: {}",
            out.unusable.join("; ")
        ));
        err.report.unusable_event_records = out.unusable.len() as u64;
        return Err(err);
    }
    Ok(out)
}

/// The object an EventBridge event from S3 names. Its key is used as it comes: the S3 user
/// guide documents no encoding of `detail.object.key` (see `crate::eventbridge_event`).
fn read_eventbridge(event: &serde_json::Value) -> Result<EventObjects, HandlerError> {
    let source = event.get("source").and_then(|s| s.as_str());
    let detail_type = event.get("detail-type").and_then(|s| s.as_str());
    if source != Some(eventbridge_event::SOURCE) {
        return Err(bad_event(format!(
            "not an S3 event: an EventBridge event from `{}` (detail-type `{}`); the forwarder \
             reads S3's events (source `aws.s3`): check the rule's event pattern",
            source.unwrap_or("(no source)"),
            detail_type.unwrap_or("(none)")
        )));
    }
    if detail_type != Some(eventbridge_event::OBJECT_CREATED) {
        tracing::info!(
            detail_type,
            "skipping an S3 event that does not create an object"
        );
        return Ok(EventObjects::default());
    }
    let e: EventBridgeEvent = serde_json::from_value(event.clone()).map_err(|e| {
        bad_event(format!(
            "an EventBridge Object Created event that is not S3's: {e}"
        ))
    })?;
    let detail = e.detail.unwrap_or_default();
    let bucket = detail.bucket.and_then(|b| b.name).filter(|n| !n.is_empty());
    let object = detail.object.unwrap_or_default();
    let key = object.key.filter(|k| !k.is_empty());
    match (bucket, key) {
        (Some(bucket), Some(key)) => Ok(EventObjects {
            objects: vec![ObjectRef {
                bucket,
                key,
                size: object.size,
                region: e.region,
                trigger: Trigger::EventBridge,
            }],
            unusable: Vec::new(),
        }),
        (bucket, key) => {
            let missing = [
                bucket.is_none().then_some("detail.bucket.name"),
                key.is_none().then_some("detail.object.key"),
            ];
            let missing: Vec<&str> = missing.into_iter().flatten().collect();
            let why = format!("the EventBridge event has no {}", missing.join(" and no "));
            let mut err = bad_event(format!(
                "no record of the event names a bucket and a key: {why}"
            ));
            err.report.unusable_event_records = 1;
            Err(err)
        }
    }
}

/// The objects an event names (see [`read_event`]).
pub fn objects(event: &serde_json::Value) -> Result<Vec<ObjectRef>, HandlerError> {
    read_event(event).map(|e| e.objects)
}

fn bad_event(message: String) -> HandlerError {
    HandlerError::new(ErrorKind::BadEvent, message, Report::default())
}

/// The invocation did not deliver everything; Lambda should retry it.
#[derive(thiserror::Error, Debug, Clone)]
#[error(
    "{message}: forwarded {} of {} records read from {} objects ({} rejected, {} filtered, {} batches, {} retries)",
    report.forwarded, report.records, report.objects, report.rejected, report.filtered, report.batches, report.retries
)]
pub struct HandlerError {
    pub kind: ErrorKind,
    pub message: String,
    pub report: Report,
}

impl HandlerError {
    fn new(kind: ErrorKind, message: String, report: Report) -> HandlerError {
        HandlerError {
            kind,
            message,
            report,
        }
    }
}

/// The Lambda runtime's error response: `errorType` is the kind's name (`ExportFailed`...),
/// which a user can search for, not a Rust type path.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> lambda_runtime::Diagnostic {
        lambda_runtime::Diagnostic {
            error_type: e.kind.name().to_string(),
            error_message: e.to_string(),
        }
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
/// rejected by the endpoint, or (on error) not delivered. Logs one report line per object the
/// event names, then one for the invocation (see [`crate::report`]), on stdout.
pub async fn handle<S: ObjectSource>(
    source: &S,
    exporter: &Exporter,
    event: serde_json::Value,
    deadline: Option<Instant>,
    margins: Margins,
) -> Result<Report, HandlerError> {
    let mut stdout = |line: &str| println!("{line}");
    handle_logged(source, exporter, event, deadline, margins, &mut stdout).await
}

/// Fails an invocation before anything is read (the exporter could not be made, e.g. its
/// header values could not be read): every object the event names is reported `not_read`, then
/// the invocation line with `kind`, on stdout.
pub fn refuse(event: &serde_json::Value, kind: ErrorKind, message: String) -> HandlerError {
    refuse_logged(event, kind, message, &mut |line| println!("{line}"))
}

/// [`refuse`], with the report lines given to `log`.
pub fn refuse_logged(
    event: &serde_json::Value,
    kind: ErrorKind,
    message: String,
    log: &mut (dyn FnMut(&str) + Send),
) -> HandlerError {
    for obj in read_event(event).map(|e| e.objects).unwrap_or_default() {
        let line = ObjectReport::new(
            &obj.bucket,
            &obj.key,
            Outcome::NotRead,
            &Report::default(),
            None,
        )
        .by(obj.trigger);
        log(&ReportLine::Object(line).to_line());
    }
    let error = HandlerError::new(kind, message, Report::default());
    let line = InvocationReport {
        ok: false,
        report: Report::default(),
        error_type: Some(kind),
        error: Some(error.to_string()),
    };
    log(&ReportLine::Invocation(line).to_line());
    error
}

/// [`handle`], with the report lines given to `log` instead of written to stdout.
pub async fn handle_logged<S: ObjectSource>(
    source: &S,
    exporter: &Exporter,
    event: serde_json::Value,
    deadline: Option<Instant>,
    margins: Margins,
    log: &mut (dyn FnMut(&str) + Send),
) -> Result<Report, HandlerError> {
    let started = Instant::now();
    let mut report = Report::default();
    let exporter =
        exporter.with_deadline(deadline.map(|d| d - margins.stop_sending.min(d - started)));
    let stop_at = deadline.map(|d| d - margins.stop_reading.min((d - started) / 2));
    let result = forward_event(source, &exporter, &event, stop_at, &mut report, log).await;
    report.millis = started.elapsed().as_millis() as u64;
    let line = InvocationReport {
        ok: result.is_ok(),
        report: report.clone(),
        error_type: result.as_ref().err().map(|e| e.kind),
        error: result.as_ref().err().map(|e| e.to_string()),
    };
    log(&ReportLine::Invocation(line).to_line());
    match result {
        Ok(()) => Ok(report),
        Err(mut e) => {
            e.report = report;
            Err(e)
        }
    }
}

async fn forward_event<S: ObjectSource>(
    source: &S,
    exporter: &Exporter,
    event: &serde_json::Value,
    stop_at: Option<Instant>,
    report: &mut Report,
    log: &mut (dyn FnMut(&str) + Send),
) -> Result<(), HandlerError> {
    let event = read_event(event).inspect_err(|e| report.add(&e.report))?;
    report.unusable_event_records = event.unusable.len() as u64;
    let mut log_object = |obj: &ObjectRef, outcome, counts: &Report, error| {
        let line = ObjectReport::new(&obj.bucket, &obj.key, outcome, counts, error).by(obj.trigger);
        log(&ReportLine::Object(line).to_line());
    };
    let mut objects = event.objects.iter();
    while let Some(obj) = objects.next() {
        let started = Instant::now();
        let mut counts = Report::default();
        if obj.size == Some(0) {
            tracing::info!(bucket = %obj.bucket, key = %obj.key, "skipping zero-byte object");
            log_object(obj, Outcome::Skipped, &counts, None);
            continue;
        }
        let result = forward_object(source, exporter, obj, stop_at, &mut counts).await;
        counts.millis = started.elapsed().as_millis() as u64;
        report.add(&counts);
        match result {
            Ok(()) => log_object(obj, Outcome::Forwarded, &counts, None),
            Err((kind, message)) => {
                log_object(obj, Outcome::Failed, &counts, Some(message.clone()));
                for rest in objects {
                    log_object(rest, Outcome::NotRead, &Report::default(), None);
                }
                return Err(HandlerError::new(kind, message, report.clone()));
            }
        }
    }
    Ok(())
}

async fn forward_object<S: ObjectSource>(
    source: &S,
    exporter: &Exporter,
    obj: &ObjectRef,
    stop_at: Option<Instant>,
    report: &mut Report,
) -> Result<(), (ErrorKind, String)> {
    let read_failed = |message: String| (ErrorKind::ReadFailed, message);
    let url = format!("s3://{}/{}", obj.bucket, obj.key);
    let body = source
        .get(&obj.bucket, &obj.key)
        .await
        .map_err(|e| read_failed(format!("{e:#}")))?;
    report.objects += 1;
    let object = Arc::new(ObjectInfo::new(
        &obj.bucket,
        &obj.key,
        obj.region.as_deref(),
    ));
    let observed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut config = exporter.config().clone();
    config.compression = exporter.compression();
    let concurrency = config.concurrency.max(1);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Body>(concurrency);

    let producer = if obj.key.ends_with(".parquet") {
        // Parquet needs random access (its index is at the end): spool it to local disk.
        let tmp = tempfile::NamedTempFile::new()
            .map_err(|e| read_failed(format!("creating a temp file: {e}")))?;
        let mut file = tokio::fs::File::from_std(
            tmp.reopen()
                .map_err(|e| read_failed(format!("opening a temp file: {e}")))?,
        );
        let mut body = body;
        tokio::io::copy(&mut body, &mut file)
            .await
            .map_err(|e| read_failed(format!("reading {url}: {e}")))?;
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
        Ok(Err(e)) => return Err(read_failed(format!("reading {url}: {e}"))),
        Err(e) => return Err(read_failed(format!("reading {url}: {e}"))),
    };
    report.records += stats.records;
    report.filtered += stats.filtered;
    report.skipped_lines += stats.skipped_lines;
    report.gzip_fallback |= exporter.fell_back_to_gzip();
    if let Some(e) = failure {
        return Err((
            ErrorKind::ExportFailed,
            format!("sending records of {url} failed: {e}"),
        ));
    }
    if stats.stopped {
        return Err((
            ErrorKind::DeadlineReached,
            format!("stopped reading {url} to finish before the invocation's deadline"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_read_says_aws_code_and_message_in_one_line() {
        use aws_sdk_s3::error::{ErrorMetadata, SdkError};
        use aws_sdk_s3::operation::get_object::GetObjectError;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message(
                "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:GetObject",
            )
            .build();
        let denied: SdkError<GetObjectError, ()> =
            SdkError::service_error(GetObjectError::generic(meta), ());
        assert_eq!(
            read_error(&denied),
            "AccessDenied: User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: s3:GetObject"
        );
        let unreachable: SdkError<GetObjectError, ()> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        let text = read_error(&unreachable);
        assert!(
            text.contains("dispatch failure") && text.contains("connection refused"),
            "{text}"
        );
    }

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
            trigger: Trigger::S3Notification,
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
        assert!(err.message.contains("(no source)"), "{err}");
        let err = objects(&json!({"Bucket": "b", "Key": "k"})).unwrap_err();
        assert!(
            err.message
                .contains("an object with the fields `Bucket`, `Key`")
                && err.message.contains("Records")
                && err.message.contains("detail-type"),
            "{err}"
        );
        let err = objects(&json!([1])).unwrap_err();
        assert!(err.message.contains("a JSON list"), "{err}");
    }

    /// S3's Object Created event through EventBridge, as the S3 user guide shows it, for `key`.
    fn eventbridge(key: &str) -> serde_json::Value {
        json!({
          "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
          "detail-type": "Object Created", "source": "aws.s3", "account": "111122223333",
          "time": "2021-11-12T00:00:00Z", "region": "eu-west-1",
          "resources": ["arn:aws:s3:::b"],
          "detail": {"version": "0", "bucket": {"name": "b"},
            "object": {"key": key, "size": 10, "etag": "b1946ac92492d2347c6235b4d2611184",
                       "sequencer": "617f08299329d189"},
            "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
            "source-ip-address": "1.2.3.4", "reason": "PutObject"}
        })
    }

    #[test]
    fn an_eventbridge_object_created_event_names_its_object_by_its_plain_key() {
        // A space, `+` and `=`: the key arrives as it is, nothing to decode (a `+` stays a `+`).
        let key = "AWSLogs/aws-account-id=1/a b+c.log.gz";
        assert_eq!(
            objects(&eventbridge(key)).unwrap(),
            [ObjectRef {
                bucket: "b".into(),
                key: key.into(),
                size: Some(10),
                region: Some("eu-west-1".into()),
                trigger: Trigger::EventBridge,
            }]
        );
        // The same object through an S3 notification: the same reference, another trigger.
        let encoded = json!({"Records": [record("ObjectCreated:Put", "AWSLogs/aws-account-id%3D1/a+b%2Bc.log.gz", Some(10))]});
        let via_s3 = objects(&encoded).unwrap();
        assert_eq!(via_s3[0].key, key);
        assert_eq!(via_s3[0].trigger, Trigger::S3Notification);
    }

    #[test]
    fn eventbridge_events_of_other_kinds_are_skipped_or_refused_by_name() {
        let mut deleted = eventbridge("k");
        deleted["detail-type"] = json!("Object Deleted");
        assert_eq!(objects(&deleted).unwrap(), []);

        let mut other = eventbridge("k");
        other["source"] = json!("aws.ec2");
        other["detail-type"] = json!("EC2 Instance State-change Notification");
        let err = objects(&other).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadEvent);
        assert!(
            err.message.contains("`aws.ec2`")
                && err
                    .message
                    .contains("`EC2 Instance State-change Notification`"),
            "{err}"
        );

        let mut no_key = eventbridge("k");
        no_key["detail"]["object"] = json!({"size": 3});
        let err = read_event(&no_key).unwrap_err();
        assert!(err.message.contains("detail.object.key"), "{err}");
        assert_eq!(err.report.unusable_event_records, 1);
    }

    /// The example event of AWS's documentation, as aws_lambda_events keeps it
    /// (`lambda-events/src/fixtures/example-s3-event.json`).
    const AWS_EXAMPLE_EVENT: &str = r#"{
      "Records": [
        {
          "eventVersion": "2.0",
          "eventSource": "aws:s3",
          "awsRegion": "us-east-1",
          "eventTime": "1970-01-01T00:00:00.123Z",
          "eventName": "ObjectCreated:Put",
          "userIdentity": { "principalId": "EXAMPLE" },
          "requestParameters": { "sourceIPAddress": "127.0.0.1" },
          "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
          },
          "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "testConfigRule",
            "bucket": {
              "name": "sourcebucket",
              "ownerIdentity": { "principalId": "EXAMPLE" },
              "arn": "arn:aws:s3:::mybucket"
            },
            "object": {
              "key": "Happy%20Face.jpg",
              "size": 1024,
              "versionId": "version",
              "eTag": "d41d8cd98f00b204e9800998ecf8427e",
              "sequencer": "Happy Sequencer"
            }
          }
        }
      ]
    }"#;

    #[test]
    fn the_aws_example_event_names_its_object() {
        let event: serde_json::Value = serde_json::from_str(AWS_EXAMPLE_EVENT).unwrap();
        assert_eq!(
            objects(&event).unwrap(),
            [ObjectRef {
                bucket: "sourcebucket".into(),
                key: "Happy Face.jpg".into(),
                size: Some(1024),
                region: Some("us-east-1".into()),
                trigger: Trigger::S3Notification,
            }]
        );
    }

    /// Regression: a hand-made replay (no `userIdentity`, `eventTime`, `eventSource`...) was
    /// refused as "not an S3 event".
    #[test]
    fn a_minimal_hand_made_event_is_accepted() {
        let event = json!({"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]});
        assert_eq!(
            read_event(&event).unwrap(),
            EventObjects {
                objects: vec![ObjectRef {
                    bucket: "b".into(),
                    key: "k".into(),
                    size: None,
                    region: None,
                    trigger: Trigger::S3Notification,
                }],
                unusable: vec![],
            }
        );
    }

    #[test]
    fn records_without_bucket_or_key_are_skipped_and_named() {
        let event = json!({"Records": [
            {"s3": {"bucket": {"name": "b"}, "object": {}}},
            {"s3": {"bucket": {"name": "b"}, "object": {"key": "good.log"}}},
            {"s3": {"object": {"key": "k"}}},
            {"eventName": "ObjectCreated:Put"},
            "not a record",
        ]});
        let read = read_event(&event).unwrap();
        assert_eq!(read.objects.len(), 1);
        assert_eq!(read.objects[0].key, "good.log");
        assert_eq!(read.unusable.len(), 4);
        assert_eq!(read.unusable[0], "record 0 has no s3.object.key");
        assert_eq!(read.unusable[1], "record 2 has no s3.bucket.name");
        assert_eq!(
            read.unusable[2],
            "record 3 has no s3.bucket.name and no s3.object.key"
        );
        assert!(
            read.unusable[3].starts_with("record 4 is not an S3 event record"),
            "{}",
            read.unusable[3]
        );
    }

    #[test]
    fn an_event_whose_records_are_all_unusable_is_refused() {
        let err = read_event(&json!({"Records": [{"s3": {"bucket": {"name": "b"}}}]})).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadEvent);
        assert!(
            err.message.contains(
                "no record of the event names a bucket and a key: record 0 has no s3.object.key"
            ),
            "{err}"
        );
        // Records that are not object creations are no reason to fail.
        let removed = json!({"Records": [record("ObjectRemoved:Delete", "k", None)]});
        assert_eq!(objects(&removed).unwrap(), []);
    }

    #[test]
    fn a_refused_invocation_reports_every_object_not_read_and_its_kind() {
        let event = json!({"Records": [record("ObjectCreated:Put", "a.log.gz", Some(10)), record("ObjectCreated:Put", "b.log.gz", Some(10))]});
        let mut lines = Vec::new();
        let err = refuse_logged(
            &event,
            ErrorKind::SecretUnreadable,
            "reading the OTLP header values from secret arn:x failed: AccessDeniedException".into(),
            &mut |l| lines.push(l.to_string()),
        );
        assert_eq!(err.kind, ErrorKind::SecretUnreadable);
        let parsed: Vec<_> = lines
            .iter()
            .map(|l| crate::report::parse_report_line(l).unwrap())
            .collect();
        assert_eq!(parsed.len(), 3);
        match &parsed[2] {
            ReportLine::Invocation(i) => {
                assert!(!i.ok);
                assert_eq!(i.error_type, Some(ErrorKind::SecretUnreadable));
                assert!(i
                    .error
                    .as_deref()
                    .unwrap()
                    .contains("AccessDeniedException"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&parsed[0], ReportLine::Object(o) if o.outcome == Outcome::NotRead));
        let d = lambda_runtime::Diagnostic::from(err);
        assert_eq!(d.error_type, "SecretUnreadable");
    }

    /// Regression: a failed invocation's `errorType` was the Rust type path
    /// `&alloc::boxed::Box<dyn core::error::Error + ...>`.
    #[test]
    fn the_lambda_error_type_is_a_searchable_name() {
        let err = objects(&json!({"Records": "nope"})).unwrap_err();
        let d = lambda_runtime::Diagnostic::from(err.clone());
        assert_eq!(d.error_type, "BadEvent");
        assert_eq!(d.error_message, err.to_string());
        let names = [
            (ErrorKind::BadEvent, "BadEvent"),
            (ErrorKind::ReadFailed, "ReadFailed"),
            (ErrorKind::ExportFailed, "ExportFailed"),
            (ErrorKind::DeadlineReached, "DeadlineReached"),
            (ErrorKind::SecretUnreadable, "SecretUnreadable"),
        ];
        for (kind, name) in names {
            let e = HandlerError::new(kind, "m".into(), Report::default());
            let json = serde_json::to_value(lambda_runtime::Diagnostic::from(e)).unwrap();
            assert_eq!(json["errorType"], name);
        }
    }
}
