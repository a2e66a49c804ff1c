//! `flowlogs backfill --since TIME [--until TIME] [--dry-run] [--yes] [--concurrency N]`: the
//! flow-log objects already in the bucket for a past window, found by listing only the window's
//! day (or hour) folders of the stack's key layout and the one after them (a file delivered just
//! after midnight or the hour sits there), chosen by the time in their names, sent through the forwarder with a synthesized S3
//! event each, a bounded number at once (an object that fails is tried once more after the
//! others). Before it starts it shows the objects, the bytes and a
//! rough Lambda cost, and asks (unless `--yes`). Safe to run twice: every record carries
//! `log.record.uid` (bucket, key, line), so a backend that deduplicates keeps one copy.

use std::fmt;
use std::time::Instant;

use anyhow::Result;
use flowlogs_forwarder::s3_event::{ObjectCreated, S3Event};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;

use super::Say;
use crate::cli::{BackfillArgs, Global};
use crate::config::{Architecture, Delivery, FileFormat};
use crate::context::Context;
use crate::redrive::window::{self, Layout};
use crate::redrive::{self, edge, human_bytes, judge, Answer, Estimate};

#[derive(Debug, Serialize)]
pub struct BackfillOutcome {
    pub stack: String,
    pub since: String,
    pub until: String,
    pub dry_run: bool,
    /// The user declined the confirmation: nothing sent.
    pub cancelled: bool,
    /// Day (or hour) folders listed: the window's and the one after it.
    pub folders: usize,
    /// Objects in the window.
    pub objects: u64,
    pub bytes: u64,
    pub estimate: Estimate,
    /// Objects sent and fully accepted.
    pub sent: u64,
    /// Objects that failed (listed in `failures`).
    pub failed: u64,
    /// Flow-log records read from the objects.
    pub records: u64,
    /// Records the endpoint accepted.
    pub forwarded: u64,
    /// Records `delivery.filter` dropped.
    pub filtered: u64,
    pub seconds: f64,
    pub failures: Vec<BackfillFailure>,
}

#[derive(Debug, Serialize)]
pub struct BackfillFailure {
    pub key: String,
    pub error: String,
}

impl fmt::Display for BackfillOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.objects == 0 {
            return write!(
                f,
                "No flow-log objects from {} to {} ({} folders listed).",
                self.since, self.until, self.folders
            );
        }
        if self.dry_run || self.cancelled {
            return write!(
                f,
                "{}: nothing sent.",
                if self.dry_run { "Dry run" } else { "Cancelled" }
            );
        }
        for failure in &self.failures {
            writeln!(f, "  failed: {}: {}", failure.key, failure.error)?;
        }
        write!(
            f,
            "Sent {} of {} objects in {:.1}s: {} records read, {} accepted by the endpoint, {} dropped by the filter; {} objects failed{}",
            self.sent,
            self.objects,
            self.seconds,
            self.records,
            self.forwarded,
            self.filtered,
            self.failed,
            if self.failed == 0 {
                "."
            } else {
                ": run the same backfill again once the cause is fixed (records carry log.record.uid, so a deduplicating backend keeps one copy)."
            }
        )
    }
}

impl super::Outcome for BackfillOutcome {
    const COMMAND: &'static str = "backfill";
    fn stack(&self) -> &str {
        &self.stack
    }
    /// Not cancelled, and every object sent was fully accepted (a dry run is ok).
    fn ok(&self) -> bool {
        !self.cancelled && self.failed == 0
    }
}

/// The S3 event Lambda would get for an object (key URL-encoded as S3 writes it).
pub fn object_event(bucket: &str, key: &str, size: u64, region: &str) -> Value {
    S3Event::object_created(&ObjectCreated {
        bucket,
        encoded_key: &crate::aws::keys::encode(key),
        size,
        region,
        sender: "flowlogs-backfill",
    })
    .to_value()
}

/// The pause before failed objects are tried once more.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn run(global: &Global, args: &BackfillArgs) -> Result<u8> {
    // The window is checked before any AWS call.
    let window = window::window(
        &args.since,
        args.until.as_deref(),
        time::OffsetDateTime::now_utc(),
    )
    .map_err(anyhow::Error::msg)?;
    let ctx = Context::load(global).await?;
    let Delivery::Lambda { lambda, .. } = &ctx.config.delivery else {
        anyhow::bail!(
            "backfill sends objects through the forwarder Lambda; in `mode: firehose` flow logs go to the stream and are not in the bucket"
        );
    };
    let say = Say(args.output);
    let f = &ctx.config.flow_log;
    let layout = Layout {
        log_key_prefix: ctx.names.log_key_prefix.clone(),
        hive: f.hive_compatible_partitions,
        per_hour: f.per_hour_partition,
        suffix: match f.file_format {
            FileFormat::PlainText => ".log.gz",
            FileFormat::Parquet => ".log.parquet",
        },
    };
    let bucket = ctx.names.bucket.clone();
    // The transit gateway flow logs' folder has the same layout under its own prefix.
    let mut layouts = vec![layout.clone()];
    if let Some(tgw_prefix) = &ctx.names.tgw_log_key_prefix {
        layouts.push(Layout {
            log_key_prefix: tgw_prefix.clone(),
            ..layout.clone()
        });
    }
    let mut folders = Vec::new();
    let mut objects = Vec::new();
    for layout in &layouts {
        for folder in window::prefixes(layout, &window) {
            objects.extend(
                crate::aws::objects::list(&ctx.clients.s3, &bucket, &folder, None)
                    .await?
                    .into_iter()
                    .filter(|o| window::in_window(layout, &window, &o.key)),
            );
            folders.push(folder);
        }
    }
    let bytes: u64 = objects.iter().map(|o| o.size).sum();
    let estimate = redrive::estimate(
        objects.len() as u64,
        bytes,
        lambda.memory_mb,
        lambda.architecture == Architecture::Arm64,
    );
    let mut outcome = BackfillOutcome {
        stack: ctx.names.stack.clone(),
        since: window::shown(window.since),
        until: window::shown(window.until),
        dry_run: args.dry_run,
        cancelled: false,
        folders: folders.len(),
        objects: objects.len() as u64,
        bytes,
        estimate,
        sent: 0,
        failed: 0,
        records: 0,
        forwarded: 0,
        filtered: 0,
        seconds: 0.0,
        failures: Vec::new(),
    };
    if !objects.is_empty() {
        say.line(format!(
            "{} flow-log objects ({}) from {} to {} in {} folders of s3://{bucket}/{}",
            outcome.objects,
            human_bytes(bytes),
            outcome.since,
            outcome.until,
            folders.len(),
            layouts
                .iter()
                .map(|l| l.log_key_prefix.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
        say.line(format!(
            "Roughly {:.0}s of function time at {} MB: {:.0} GB-s, about ${:.4} (Lambda list price; a guess, not a quote)",
            estimate.seconds, lambda.memory_mb, estimate.gb_seconds, estimate.usd
        ));
        say.line(
            "Records carry log.record.uid: a backend that deduplicates keeps one copy of anything sent twice.",
        );
    }
    if objects.is_empty() || args.dry_run {
        super::print(&outcome, args.output)?;
        return Ok(0);
    }
    let question = format!(
        "Send {} objects through {}?",
        outcome.objects, ctx.names.function
    );
    if !super::confirm_or_refuse(args.yes, &question, "pass --yes to send without asking")? {
        outcome.cancelled = true;
        super::print(&outcome, args.output)?;
        return Ok(1);
    }
    let started = Instant::now();
    let bar = crate::ui::Bar::new(outcome.objects, "objects");
    let clients = &ctx.clients;
    let function = &ctx.names.function;
    let region = &ctx.region;
    // Objects that fail are tried once more after the others: just after setup, the function's
    // new read permission may not apply yet (IAM propagation) and reads fail for seconds.
    let mut pending: Vec<&crate::aws::objects::Listed> = objects.iter().collect();
    for last in [false, true] {
        if pending.is_empty() {
            break;
        }
        if last {
            let line = format!(
                "Trying the {} failed objects once more in {}s",
                pending.len(),
                RETRY_PAUSE.as_secs()
            );
            bar.println(line);
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        let mut answers = stream::iter(pending.iter().copied())
            .map(|o| {
                let event = object_event(&bucket, &o.key, o.size, region);
                async move { (o, edge::invoke(clients, function, &event).await) }
            })
            .buffer_unordered(usize::from(args.concurrency));
        let mut again = Vec::new();
        while let Some((object, answer)) = answers.next().await {
            if let Answer::Report(r) = &answer {
                outcome.records += r.records;
                outcome.forwarded += r.forwarded;
                outcome.filtered += r.filtered;
            }
            match judge(&answer) {
                Ok(_) => outcome.sent += 1,
                Err(_) if !last => {
                    again.push(object);
                    continue;
                }
                Err(error) => {
                    outcome.failed += 1;
                    bar.println(format!("failed: {}: {error}", object.key));
                    outcome.failures.push(BackfillFailure {
                        key: object.key.clone(),
                        error,
                    });
                }
            }
            let elapsed = started.elapsed().as_secs_f64().max(0.001);
            bar.inc(format!(
                "{} records ({:.0}/s), {} failures",
                outcome.forwarded,
                outcome.forwarded as f64 / elapsed,
                outcome.failed
            ));
        }
        drop(answers);
        pending = again;
    }
    bar.finish();
    outcome.seconds = started.elapsed().as_secs_f64();
    super::print(&outcome, args.output)?;
    Ok(if super::Outcome::ok(&outcome) { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthesized_event_names_the_object_as_s3_would() {
        let e = object_event("b", "AWSLogs/aws-account-id=1/x y.log.gz", 42, "us-east-1");
        let record = &e["Records"][0];
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(
            record["s3"]["object"]["key"],
            "AWSLogs/aws-account-id%3D1/x+y.log.gz"
        );
        assert_eq!(record["s3"]["object"]["size"], 42);
        assert_eq!(
            redrive::event_objects(&e),
            ["s3://b/AWSLogs/aws-account-id%3D1/x+y.log.gz"]
        );
    }
}
