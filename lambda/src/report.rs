//! What the forwarder says it did: the [`Report`] an invocation returns (read by the
//! deployer's verify when it invokes the function), and the report lines it logs, which the
//! deployer finds in the function's CloudWatch log group when S3 triggered the function.
//!
//! # The report lines (a contract: the deployer reads them)
//!
//! Every invocation writes to stdout, each as one line of JSON with the marker field
//! `"flowlogs"`: first one `object` line for every object the event names, in the event's
//! order, then exactly one `invocation` line. Other log lines (the `tracing` ones) never have
//! a top-level `flowlogs` field.
//!
//! ```json
//! {"flowlogs":"object","bucket":"b","key":"AWSLogs/1/vpcflowlogs/r/x.log.gz","outcome":"forwarded","ok":true,"records":7,"forwarded":7,"rejected":0,"filtered":0,"skipped_lines":0,"batches":1,"retries":0,"millis":12}
//! {"flowlogs":"invocation","ok":true,"objects":1,"records":7,"forwarded":7,"rejected":0,"filtered":0,"skipped_lines":0,"batches":1,"retries":0,"millis":12,"unusable_event_records":0}
//! ```
//!
//! - `key` is URL-decoded (the object's real key, not the event's encoded form).
//! - `trigger` is the kind of event that named the object: `s3-notification` (an S3 event
//!   notification, also what backfill, replay and verify's direct invocation send) or
//!   `eventbridge` (S3's Object Created event through an EventBridge rule).
//! - `outcome` is `forwarded` (read to the end and sent), `failed` (reading or sending failed:
//!   `error` says why), `skipped` (a zero-byte object) or `not_read` (an earlier object failed
//!   and the invocation stopped before this one).
//! - `ok` is true when the object was read to the end and the endpoint accepted every record
//!   read from it that the filter kept (`forwarded + filtered == records`, nothing rejected).
//! - The `invocation` line has the counts of [`Report`], `ok` (the invocation succeeded), and
//!   on failure `error_type` (one of [`ErrorKind`]'s names, also the Lambda `errorType`) and
//!   `error`.
//! - Fields may be added; none is renamed or removed. [`parse_report_line`] reads a line.

use serde::{Deserialize, Serialize};

/// What one invocation did.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Objects read (skipped ones, such as zero-byte objects, are not counted).
    pub objects: u64,
    /// Records parsed from the objects.
    pub records: u64,
    /// Records the endpoint accepted.
    pub forwarded: u64,
    /// Records the endpoint refused in a partial-success response.
    pub rejected: u64,
    /// Records `delivery.filter` dropped: `records = forwarded + filtered + rejected` when
    /// everything read was delivered.
    #[serde(default)]
    pub filtered: u64,
    /// Malformed lines that were counted and skipped.
    pub skipped_lines: u64,
    /// Export requests that succeeded.
    pub batches: u64,
    /// Export attempts that were retried.
    pub retries: u64,
    pub millis: u64,
    /// Event records skipped because they name no bucket or no key.
    #[serde(default)]
    pub unusable_event_records: u64,
    /// The endpoint refused zstd (HTTP 415): what followed was sent with gzip. Written only
    /// when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gzip_fallback: bool,
}

impl Report {
    /// Adds another report's counts to this one (milliseconds excluded).
    pub fn add(&mut self, other: &Report) {
        self.objects += other.objects;
        self.records += other.records;
        self.forwarded += other.forwarded;
        self.rejected += other.rejected;
        self.filtered += other.filtered;
        self.skipped_lines += other.skipped_lines;
        self.batches += other.batches;
        self.retries += other.retries;
        self.unusable_event_records += other.unusable_event_records;
        self.gzip_fallback |= other.gzip_fallback;
    }
}

/// Why an invocation failed: the Lambda `errorType` of the failure and the `error_type` of
/// its `invocation` line, names a user can search for.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The payload is not an S3 event, or none of its records names a bucket and a key.
    BadEvent,
    /// An object could not be fetched or read (missing, access denied, corrupt).
    ReadFailed,
    /// The endpoint refused records or could not be reached, after the retries.
    ExportFailed,
    /// Reading stopped to finish before the invocation's deadline.
    DeadlineReached,
    /// The OTLP header values could not be read from the stack's secret (Secrets Manager):
    /// nothing was read or sent, so no export went out without them.
    SecretUnreadable,
}

impl ErrorKind {
    /// The name, as `errorType` and `error_type` spell it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadEvent => "BadEvent",
            ErrorKind::ReadFailed => "ReadFailed",
            ErrorKind::ExportFailed => "ExportFailed",
            ErrorKind::DeadlineReached => "DeadlineReached",
            ErrorKind::SecretUnreadable => "SecretUnreadable",
        }
    }
}

/// What became of one object the event named.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Read to the end and its records sent.
    Forwarded,
    /// Reading or sending failed.
    Failed,
    /// A zero-byte object: nothing to read.
    Skipped,
    /// Not read: an earlier object of the invocation failed.
    NotRead,
}

/// The `object` report line: what became of one object.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ObjectReport {
    pub bucket: String,
    /// URL-decoded.
    pub key: String,
    pub outcome: Outcome,
    /// Read to the end, and every record read accepted by the endpoint.
    pub ok: bool,
    pub records: u64,
    pub forwarded: u64,
    pub rejected: u64,
    #[serde(default)]
    pub filtered: u64,
    pub skipped_lines: u64,
    pub batches: u64,
    pub retries: u64,
    pub millis: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The kind of event that named the object (absent in lines of older forwarders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
}

/// The kind of event that named an object: how the forwarder was triggered for it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// An S3 event notification (`{"Records": [...]}`).
    #[default]
    S3Notification,
    /// S3's Object Created event delivered by an EventBridge rule.
    #[serde(rename = "eventbridge")]
    EventBridge,
}

impl Trigger {
    /// As the config and the report lines write it.
    pub fn name(self) -> &'static str {
        match self {
            Trigger::S3Notification => "s3-notification",
            Trigger::EventBridge => "eventbridge",
        }
    }
}

impl ObjectReport {
    /// The same line, naming the trigger that named the object.
    pub fn by(mut self, trigger: Trigger) -> ObjectReport {
        self.trigger = Some(trigger);
        self
    }

    /// The line for an object, from its counts (`objects` and `unusable_event_records`
    /// unused) and, if it failed, why.
    pub fn new(
        bucket: &str,
        key: &str,
        outcome: Outcome,
        counts: &Report,
        error: Option<String>,
    ) -> ObjectReport {
        ObjectReport {
            bucket: bucket.to_string(),
            key: key.to_string(),
            outcome,
            ok: outcome == Outcome::Forwarded
                && counts.rejected == 0
                && counts.forwarded + counts.filtered == counts.records,
            records: counts.records,
            forwarded: counts.forwarded,
            rejected: counts.rejected,
            filtered: counts.filtered,
            skipped_lines: counts.skipped_lines,
            batches: counts.batches,
            retries: counts.retries,
            millis: counts.millis,
            error,
            trigger: None,
        }
    }
}

/// The `invocation` report line: the invocation's counts and whether it succeeded.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct InvocationReport {
    /// Every object named was handled and every batch sent.
    pub ok: bool,
    #[serde(flatten)]
    pub report: Report,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<ErrorKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One report line, told apart by its `flowlogs` field.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "flowlogs", rename_all = "snake_case")]
pub enum ReportLine {
    Object(ObjectReport),
    Invocation(InvocationReport),
}

impl ReportLine {
    /// The line as the forwarder writes it: JSON on one line.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a report line serializes")
    }
}

/// Reads a report line from a log event's message; `None` for any other line. Text before
/// the JSON (a timestamp some log viewers add) and a trailing line ending are allowed.
pub fn parse_report_line(message: &str) -> Option<ReportLine> {
    let start = message.find('{')?;
    let json = message[start..].trim_end();
    if !json.contains("\"flowlogs\"") {
        return None;
    }
    serde_json::from_str(json).ok()
}

/// Reads an `object` report line; `None` for any other line.
pub fn parse_object_line(message: &str) -> Option<ObjectReport> {
    match parse_report_line(message)? {
        ReportLine::Object(o) => Some(o),
        ReportLine::Invocation(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines exactly as the module's documentation shows them.
    const OBJECT_LINE: &str = r#"{"flowlogs":"object","bucket":"b","key":"AWSLogs/1/vpcflowlogs/r/x.log.gz","outcome":"forwarded","ok":true,"records":7,"forwarded":7,"rejected":0,"filtered":0,"skipped_lines":0,"batches":1,"retries":0,"millis":12}"#;
    const INVOCATION_LINE: &str = r#"{"flowlogs":"invocation","ok":true,"objects":1,"records":7,"forwarded":7,"rejected":0,"filtered":0,"skipped_lines":0,"batches":1,"retries":0,"millis":12,"unusable_event_records":0}"#;

    fn counts(records: u64, forwarded: u64, rejected: u64) -> Report {
        Report {
            objects: 1,
            records,
            forwarded,
            rejected,
            batches: 1,
            millis: 12,
            ..Report::default()
        }
    }

    #[test]
    fn documented_lines_are_what_the_forwarder_writes() {
        let object = ObjectReport::new(
            "b",
            "AWSLogs/1/vpcflowlogs/r/x.log.gz",
            Outcome::Forwarded,
            &counts(7, 7, 0),
            None,
        );
        assert_eq!(ReportLine::Object(object.clone()).to_line(), OBJECT_LINE);
        assert_eq!(parse_object_line(OBJECT_LINE), Some(object));

        let invocation = InvocationReport {
            ok: true,
            report: counts(7, 7, 0),
            error_type: None,
            error: None,
        };
        let line = ReportLine::Invocation(invocation.clone()).to_line();
        assert_eq!(line, INVOCATION_LINE);
        assert_eq!(
            parse_report_line(&line),
            Some(ReportLine::Invocation(invocation))
        );
        assert_eq!(parse_object_line(&line), None);
    }

    #[test]
    fn a_failed_invocation_line_names_the_error_type() {
        let line = ReportLine::Invocation(InvocationReport {
            ok: false,
            report: counts(10, 4, 0),
            error_type: Some(ErrorKind::ExportFailed),
            error: Some("sending records of s3://b/k failed: 400".into()),
        })
        .to_line();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error_type"], "ExportFailed");
        assert_eq!(v["ok"], false);
        assert_eq!(v["forwarded"], 4);
        for kind in [
            ErrorKind::BadEvent,
            ErrorKind::ReadFailed,
            ErrorKind::ExportFailed,
            ErrorKind::DeadlineReached,
            ErrorKind::SecretUnreadable,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
    }

    #[test]
    fn ok_means_every_record_read_was_accepted() {
        let line = |outcome, c: Report| ObjectReport::new("b", "k", outcome, &c, None).ok;
        assert!(line(Outcome::Forwarded, counts(7, 7, 0)));
        assert!(
            !line(Outcome::Forwarded, counts(7, 5, 2)),
            "partly rejected"
        );
        assert!(
            !line(Outcome::Failed, counts(7, 7, 0)),
            "failed after sending"
        );
        assert!(!line(Outcome::Skipped, counts(0, 0, 0)));
        assert!(!line(Outcome::NotRead, counts(0, 0, 0)));
    }

    #[test]
    fn other_log_lines_are_not_report_lines() {
        for line in [
            "",
            "START RequestId: 8f5 Version: $LATEST",
            "REPORT RequestId: 8f5\tDuration: 12.00 ms",
            r#"{"level":"INFO","fields":{"message":"forwarder starting"}}"#,
            r#"{"flowlogs":"something-else","bucket":"b"}"#,
            r#"{"flowlogs":"object","bucket":"b"}"#,
            r#"{"flowlogs": "object", "#,
        ] {
            assert_eq!(parse_report_line(line), None, "{line}");
        }
    }

    #[test]
    fn lines_with_a_prefix_line_ending_or_new_fields_are_read() {
        let with_prefix = format!("2026-11-29T09:30:00.000Z\t{OBJECT_LINE}\n");
        assert_eq!(
            parse_object_line(&with_prefix).unwrap().key,
            "AWSLogs/1/vpcflowlogs/r/x.log.gz"
        );
        let newer = OBJECT_LINE.replace(r#""millis":12"#, r#""millis":12,"request_id":"r""#);
        let o = parse_object_line(&newer).unwrap();
        assert_eq!((o.bucket.as_str(), o.records, o.ok), ("b", 7, true));
    }
}
