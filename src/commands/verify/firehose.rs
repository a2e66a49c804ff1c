//! `verify` in firehose mode, beyond the plan (which covers the role and the destination): the
//! stream `ACTIVE`, and a test delivery: one canary flow-log record, in the shape a flow log puts
//! into a stream (`{"message":"<line>"}`), put with PutRecord, then a bounded
//! watch of the backup prefix (a failed-data object holding the canary) and of the stream's error
//! log. verify cannot see the endpoint itself: what it proves is that Firehose took the record and
//! did not give up on it within the wait. (The stream's `DeliveryToHttpEndpoint.Success` metric is
//! not read: flowlogs has no CloudWatch metrics client; the check's text points at it.)

use std::io::Read as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{DeliveryStreamStatus, Record};
use serde_json::Value;

use super::canary;
use super::Check;
use crate::context::Context;
use crate::desired::{Desired, DesiredFirehose, DesiredStream};
use crate::planner::Observed;
use crate::resources::stream;
use crate::ui::Progress;

const NAME: &str = "test delivery";
/// How long verify watches for a failed canary when not given `--wait`.
pub const DEFAULT_WATCH: Duration = Duration::from_secs(10);
/// The most backup objects read per look (the newest ones).
const MAX_OBJECTS: usize = 20;

/// The stream's live state: ACTIVE, tagged for the flow log. (Whether it exists, is ours and is
/// configured as the config says is the plan's to tell.)
pub fn stream_check(desired: &Desired, observed: &Observed) -> Option<Check> {
    let o = observed.stream.as_ref()?;
    if !desired.names.is_ours(&o.tags) {
        return None;
    }
    let name = format!("firehose stream {}", o.name);
    Some(if o.status == DeliveryStreamStatus::Active {
        let tag = if o.tags.get(stream::TAG_LOG_DELIVERY).map(String::as_str) == Some("true") {
            ", tagged LogDeliveryEnabled=true for the flow log"
        } else {
            ""
        };
        Check::pass(&name, format!("ACTIVE, {}{tag}", o.stream_type))
    } else {
        Check::fail(
            &name,
            format!(
                "status {}{}",
                o.status.as_str(),
                o.failure
                    .as_ref()
                    .map(|f| format!(": {f}"))
                    .unwrap_or_default()
            ),
            "wait a minute if it is CREATING or UPDATING; otherwise run `flowlogs setup`",
        )
    })
}

/// The record the canary sends: what a flow log puts into a stream for one flow-log line in the
/// configured format, the JSON object `{"message":"<line>"}` with no trailing newline (AWS-FACTS.md
/// "Records in Firehose": AWS's Firehose processor blueprint for VPC flow logs sent directly to
/// Firehose, whose sample records decode to that shape; the VPC guide says only "plain text").
pub fn canary_record(fields: &[String], account: &str, region: &str, now_unix: i64) -> String {
    let text = canary::render(fields, account, region, now_unix);
    let line = text.lines().nth(1).unwrap_or_default();
    serde_json::json!({ "message": line }).to_string()
}

/// Whether a failed-data object holds the canary, and the error Firehose recorded for it.
/// Failed records are JSON lines with the record's data base64-encoded in `rawData`.
pub fn find_canary(object_text: &str, record: &str) -> Option<String> {
    let encoded = aws_smithy_types::base64::encode(record.as_bytes());
    for line in object_text.lines() {
        let holds = line.contains(&encoded);
        if !holds {
            continue;
        }
        let parsed: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let code = parsed["errorCode"].as_str().unwrap_or("unknown error");
        let message = parsed["errorMessage"].as_str().unwrap_or_default();
        return Some(format!("{code} {message}").trim().to_string());
    }
    None
}

fn gunzip_if_needed(bytes: Vec<u8>) -> String {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        if flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .is_ok()
        {
            return text;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Puts the canary record and watches, for `wait` (default a few seconds), for signs that Firehose
/// could not deliver it.
pub async fn test_delivery(
    ctx: &Context,
    desired: &Desired,
    firehose: &DesiredFirehose,
    observed: &Observed,
    progress: &Progress,
    wait: Option<Duration>,
) -> Check {
    let d = &firehose.stream;
    if observed.stream.as_ref().map(|s| &s.status) != Some(&DeliveryStreamStatus::Active) {
        return Check::fail(
            NAME,
            "not attempted: the stream is not ACTIVE",
            "run `flowlogs setup`, then `flowlogs verify`",
        );
    }
    let names = &desired.names;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let record = canary_record(
        &ctx.config.flow_log.format.fields,
        &names.account,
        &names.region,
        now.as_secs() as i64,
    );
    // The whole window Firehose may take: buffering, then retries.
    let window = Duration::from_secs(u64::from(d.buffering_interval_s + d.retry_duration_s) + 120);
    let watch = wait.unwrap_or(DEFAULT_WATCH).min(window);
    let spinner = progress.spinner(&format!(
        "sending a canary record through Firehose stream {} and watching s3://{}/{} for {} s",
        d.name,
        names.bucket,
        d.backup_prefix,
        watch.as_secs()
    ));
    let check = match deliver(ctx, d, &names.bucket, &record, watch).await {
        Ok(Outcome::Accepted { record_id }) => Check::pass(
            NAME,
            format!(
                "proved: the stream took the canary record {} (PutRecord; one flow-log line as a flow log writes it to a stream, {{\"message\": ...}}) and within {} s Firehose logged no delivery error and wrote no failed-data object for it. Not proved: that the endpoint acknowledged it (Firehose counts a post delivered only when the endpoint answers 200 with a JSON body echoing its requestId and a timestamp; it posts within {} s and retries for {} s{}; the stream's DeliveryToHttpEndpoint.Success metric counts acknowledged deliveries), nor that the flow log delivers to the stream",
                short(&record_id),
                watch.as_secs(),
                d.buffering_interval_s,
                d.retry_duration_s,
                if watch < window {
                    format!(": `flowlogs verify --wait {}s` watches that whole window", window.as_secs())
                } else {
                    String::new()
                }
            ),
        ),
        Ok(Outcome::Failed { key, error }) => Check::fail(
            NAME,
            format!(
                "Firehose gave up on the canary: s3://{}/{key} holds it ({error})",
                names.bucket
            ),
            fix_for(&error),
        ),
        Ok(Outcome::ErrorLogged { message }) => Check::fail(
            NAME,
            format!(
                "Firehose logged delivery errors in {} since the canary was sent: {message}",
                d.log_group
            ),
            fix_for(&message),
        ),
        Err(e) => Check::fail(
            NAME,
            format!("{e:#}"),
            "check that the stream is ACTIVE and the credentials may call firehose:PutRecord",
        ),
    };
    spinner.finish(if check.ok { "✓" } else { "✗" });
    check
}

fn short(id: &str) -> &str {
    &id[..id.len().min(16)]
}

fn fix_for(error: &str) -> &'static str {
    let lower = error.to_ascii_lowercase();
    if lower.contains("unauthorized")
        || lower.contains("403")
        || lower.contains("401")
        || lower.contains("access key")
        || lower.contains("accesskey")
    {
        "the endpoint refused the access key: check delivery.firehose.access_key, then run `flowlogs setup`"
    } else if lower.contains("requestid")
        || lower.contains("timestamp")
        || lower.contains("not json")
    {
        "the endpoint answered, but not as Firehose requires: a 200 whose JSON body echoes the request's requestId and carries a timestamp; check that the URL is the endpoint's Firehose ingestion path"
    } else if lower.contains("notreceived")
        || lower.contains("connectionfailed")
        || lower.contains("unreachable")
        || lower.contains("timeout")
        || lower.contains("dns")
        || lower.contains("ssl")
        || lower.contains("certificate")
    {
        "Firehose could not reach the endpoint: check the URL, that it is public HTTPS with a valid certificate, and that it answers within the timeout"
    } else {
        "see the stream's error log group and the endpoint's own logs; `flowlogs setup` applies a corrected config"
    }
}

enum Outcome {
    Accepted { record_id: String },
    Failed { key: String, error: String },
    ErrorLogged { message: String },
}

async fn deliver(
    ctx: &Context,
    d: &DesiredStream,
    bucket: &str,
    record: &str,
    watch: Duration,
) -> Result<Outcome> {
    let sent_at = SystemTime::now();
    let sent_ms = sent_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64;
    let out = ctx
        .clients
        .firehose
        .put_record()
        .delivery_stream_name(&d.name)
        .record(
            Record::builder()
                .data(Blob::new(record.as_bytes().to_vec()))
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("putting the canary record into Firehose stream {}", d.name))?;
    let record_id = out.record_id().to_string();
    let deadline = tokio::time::Instant::now() + watch;
    let mut seen = std::collections::BTreeSet::new();
    loop {
        if let Some((key, error)) =
            failed_canary(ctx, bucket, &d.backup_prefix, record, sent_ms, &mut seen).await?
        {
            return Ok(Outcome::Failed { key, error });
        }
        if let Some(message) = logged_error(ctx, d, sent_ms).await? {
            return Ok(Outcome::ErrorLogged { message });
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(Outcome::Accepted { record_id });
        }
        tokio::time::sleep((deadline - now).min(Duration::from_secs(5))).await;
    }
}

/// The newest failed-data objects written since the canary was sent, read for the canary.
async fn failed_canary(
    ctx: &Context,
    bucket: &str,
    prefix: &str,
    record: &str,
    sent_ms: i64,
    seen: &mut std::collections::BTreeSet<String>,
) -> Result<Option<(String, String)>> {
    let s3 = &ctx.clients.s3;
    let mut recent: Vec<(i64, String)> = crate::aws::objects::list(s3, bucket, prefix, None)
        .await?
        .into_iter()
        .map(|o| (o.modified_ms.unwrap_or(i64::MAX), o.key))
        // a minute of slack for clock skew between this machine and S3
        .filter(|(modified_ms, _)| modified_ms.saturating_add(60_000) >= sent_ms)
        .collect();
    recent.sort();
    for (_, key) in recent.into_iter().rev().take(MAX_OBJECTS) {
        if !seen.insert(key.clone()) {
            continue;
        }
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .with_context(|| format!("reading s3://{bucket}/{key}"))?
            .body
            .collect()
            .await
            .with_context(|| format!("reading s3://{bucket}/{key}"))?
            .into_bytes()
            .to_vec();
        if let Some(error) = find_canary(&gunzip_if_needed(body), record) {
            return Ok(Some((key, error)));
        }
    }
    Ok(None)
}

/// The last delivery error Firehose logged since the canary was sent, if any.
async fn logged_error(ctx: &Context, d: &DesiredStream, sent_ms: i64) -> Result<Option<String>> {
    let out = ctx
        .clients
        .logs
        .filter_log_events()
        .log_group_name(&d.log_group)
        .start_time(sent_ms - 5_000)
        .limit(20)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => {
            return Err(e).with_context(|| format!("reading the error log group {}", d.log_group))
        }
    };
    Ok(out
        .events()
        .iter()
        .rev()
        .find_map(|e| e.message())
        .map(|m| m.chars().take(400).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canary_is_one_line_in_the_configured_order_as_a_flow_log_puts_it_in_a_stream() {
        let fields: Vec<String> = ["srcaddr", "dstaddr", "action"].map(String::from).to_vec();
        let record = canary_record(&fields, "123456789012", "us-east-1", 1_700_000_000);
        assert_eq!(record, r#"{"message":"192.0.2.10 198.51.100.20 ACCEPT"}"#);
    }

    #[test]
    fn a_failed_data_object_with_the_canary_is_found_with_its_error() {
        let record = r#"{"message":"192.0.2.10 198.51.100.20 ACCEPT"}"#;
        let raw = aws_smithy_types::base64::encode(record.as_bytes());
        let object = format!(
            "{{\"attemptsMade\":3,\"errorCode\":\"HttpEndpoint.InvalidResponseFromDestination\",\"errorMessage\":\"401 Unauthorized\",\"rawData\":\"{raw}\"}}\n{{\"rawData\":\"b3RoZXI=\"}}\n"
        );
        let error = find_canary(&object, record).unwrap();
        assert_eq!(
            error,
            "HttpEndpoint.InvalidResponseFromDestination 401 Unauthorized"
        );
        assert!(fix_for(&error).contains("access key"));
        assert!(fix_for("HttpEndpoint.InvalidResponseFromDestination The response does not echo the request's requestId").contains("echoes"));
        assert_eq!(find_canary("{\"rawData\":\"b3RoZXI=\"}", record), None);
    }

    #[test]
    fn gzipped_backup_objects_are_read() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"hello").unwrap();
        assert_eq!(gunzip_if_needed(gz.finish().unwrap()), "hello");
        assert_eq!(gunzip_if_needed(b"plain".to_vec()), "plain");
    }
}
