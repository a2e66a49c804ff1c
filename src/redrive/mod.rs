//! Sending objects through the forwarder again: the failed events Lambda kept (`flowlogs replay`)
//! and flow-log objects already in the bucket (`flowlogs backfill`). The pure parts are here and in
//! `window`: reading Lambda's invocation records, judging the forwarder's answer, the rough cost;
//! the AWS calls (list, get, invoke, delete) are at the edge, in `edge`.

pub mod edge;
pub mod window;

use flowlogs_forwarder::report::Report;
use flowlogs_forwarder::s3_event::EventRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an invocation record of Lambda's S3 on-failure destination holds that replay needs
/// (Lambda developer guide, "Capturing records of Lambda asynchronous invocations").
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRecord {
    /// The original event, sent again as it was.
    pub event: Value,
    /// `RetriesExhausted` or `EventAgeExceeded`.
    pub condition: String,
    pub attempts: u64,
    /// Why the last attempt failed: the function's `errorType: errorMessage`.
    pub reason: String,
}

/// Reads an invocation record; `Err` says what is wrong with it.
pub fn parse_record(bytes: &[u8]) -> Result<FailureRecord, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not an invocation record: {e}"))?;
    let event = v
        .get("requestPayload")
        .filter(|p| !p.is_null())
        .cloned()
        .ok_or("the invocation record has no requestPayload")?;
    let context = &v["requestContext"];
    let response = &v["responsePayload"];
    let reason = match (
        response["errorType"].as_str(),
        response["errorMessage"].as_str(),
    ) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (None, Some(m)) => m.to_string(),
        (Some(t), None) => t.to_string(),
        (None, None) => response.to_string(),
    };
    Ok(FailureRecord {
        event,
        condition: context["condition"].as_str().unwrap_or("unknown").into(),
        attempts: context["approximateInvokeCount"].as_u64().unwrap_or(0),
        reason,
    })
}

/// The objects (`s3://bucket/key`, keys as the event has them) an S3 event names: an S3
/// notification's records, or the object of S3's Object Created event through EventBridge.
pub fn event_objects(event: &Value) -> Vec<String> {
    let Some(records) = event["Records"].as_array() else {
        let detail = &event["detail"];
        return match (
            detail["bucket"]["name"].as_str(),
            detail["object"]["key"].as_str(),
        ) {
            (Some(bucket), Some(key)) => vec![format!("s3://{bucket}/{key}")],
            _ => Vec::new(),
        };
    };
    // Record by record: one the forwarder could not read does not hide the others.
    records
        .iter()
        .filter_map(|r| {
            let s3 = EventRecord::deserialize(r).ok()?.s3?;
            Some(format!("s3://{}/{}", s3.bucket?.name?, s3.object?.key?))
        })
        .collect()
}

/// What a synchronous invocation answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The forwarder returned its report.
    Report(Report),
    /// A function error (Lambda's `X-Amz-Function-Error`), with its payload.
    FunctionError(String),
    /// The invoke call itself failed (throttled, access denied, the function is gone).
    CallFailed(String),
}

/// Whether the forwarder accepted everything the event named: its report, every record read
/// accepted by the endpoint or dropped by `delivery.filter`, none rejected. `Err` says why not.
pub fn judge(answer: &Answer) -> Result<&Report, String> {
    match answer {
        Answer::Report(r) if r.rejected == 0 && r.forwarded + r.filtered == r.records => Ok(r),
        Answer::Report(r) => Err(format!(
            "the endpoint accepted {} of {} records and rejected {}",
            r.forwarded, r.records, r.rejected
        )),
        Answer::FunctionError(payload) => Err(format!("the forwarder failed: {payload}")),
        Answer::CallFailed(why) => Err(format!("could not invoke the function: {why}")),
    }
}

/// Reads an invocation's answer: a function error, or the report the forwarder returns.
pub fn read_answer(function_error: Option<&str>, payload: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(payload).into_owned();
    if let Some(kind) = function_error {
        return Answer::FunctionError(format!("{kind}: {}", text.trim()));
    }
    match serde_json::from_slice::<Report>(payload) {
        Ok(report) => Answer::Report(report),
        Err(_) => Answer::FunctionError(format!(
            "answered with something other than its report: {}",
            text.trim()
        )),
    }
}

/// The forwarder's rough pace: a fixed start plus this many compressed bytes a second.
const SECONDS_PER_OBJECT: f64 = 0.2;
const BYTES_PER_SECOND: f64 = 10.0 * 1024.0 * 1024.0;

/// A rough figure of what sending objects through the function costs in Lambda time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub objects: u64,
    pub bytes: u64,
    /// Function time, seconds.
    pub seconds: f64,
    pub gb_seconds: f64,
    pub usd: f64,
}

pub fn estimate(objects: u64, bytes: u64, memory_mb: u32, arm64: bool) -> Estimate {
    let seconds = objects as f64 * SECONDS_PER_OBJECT + bytes as f64 / BYTES_PER_SECOND;
    let gb_seconds = seconds * f64::from(memory_mb) / 1024.0;
    // Lambda list prices of us-east-1 (other regions differ a little), from the one price table.
    let (p, _) = crate::cost::prices::for_region("us-east-1");
    let rate = if arm64 {
        p.lambda_gb_second_arm.usd
    } else {
        p.lambda_gb_second_x86.usd
    };
    Estimate {
        objects,
        bytes,
        seconds,
        gb_seconds,
        usd: gb_seconds * rate + objects as f64 * p.lambda_request.usd,
    }
}

/// `1.5 MiB`-style sizes for people.
pub fn human_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(response: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "version": "1.0",
            "timestamp": "2026-11-29T12:00:00.000Z",
            "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:1:function:f:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "a%3Db/x.log.gz"}}}]},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": response
        }))
        .unwrap()
    }

    #[test]
    fn an_invocation_record_gives_the_event_and_why_it_failed() {
        let r = parse_record(&record(
            json!({"errorType": "ExportFailed", "errorMessage": "503 from the endpoint"}),
        ))
        .unwrap();
        assert_eq!(r.condition, "RetriesExhausted");
        assert_eq!(r.attempts, 3);
        assert_eq!(r.reason, "ExportFailed: 503 from the endpoint");
        assert_eq!(event_objects(&r.event), ["s3://b/a%3Db/x.log.gz"]);
        assert!(parse_record(b"{}").unwrap_err().contains("requestPayload"));
        assert!(parse_record(b"nope").is_err());
    }

    #[test]
    fn a_failed_eventbridge_event_names_its_object() {
        let event = flowlogs_forwarder::eventbridge_event::EventBridgeEvent::object_created(
            "b",
            "a=b/x y.log.gz",
            3,
            "us-east-1",
        )
        .to_value();
        assert_eq!(event_objects(&event), ["s3://b/a=b/x y.log.gz"]);
    }

    #[test]
    fn only_a_report_with_every_record_accepted_counts_as_sent() {
        let report = |records, forwarded, rejected| {
            Answer::Report(Report {
                objects: 1,
                records,
                forwarded,
                rejected,
                ..Report::default()
            })
        };
        assert!(judge(&report(7, 7, 0)).is_ok());
        assert!(judge(&report(0, 0, 0)).is_ok(), "an empty object is done");
        assert!(judge(&report(7, 6, 1)).unwrap_err().contains("rejected 1"));
        assert!(judge(&report(7, 5, 0)).is_err());
        let failed = read_answer(Some("Unhandled"), br#"{"errorType":"ExportFailed"}"#);
        assert!(judge(&failed).unwrap_err().contains("ExportFailed"));
        let garbage = read_answer(None, b"null");
        assert!(judge(&garbage).is_err());
        let ok = read_answer(
            None,
            br#"{"objects":1,"records":2,"forwarded":2,"rejected":0,"skipped_lines":0,"batches":1,"retries":0,"millis":3}"#,
        );
        assert_eq!(judge(&ok).unwrap().forwarded, 2);
    }

    #[test]
    fn the_estimate_grows_with_objects_bytes_and_memory_and_is_cheaper_on_arm() {
        let small = estimate(100, 100 * 1024 * 1024, 512, false);
        assert!((small.seconds - (20.0 + 10.0)).abs() < 1e-9);
        assert!((small.gb_seconds - 15.0).abs() < 1e-9);
        assert!(estimate(100, 100 * 1024 * 1024, 1024, false).usd > small.usd);
        assert!(estimate(100, 100 * 1024 * 1024, 512, true).usd < small.usd);
        assert_eq!(estimate(0, 0, 512, false).usd, 0.0);
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
    }
}
