//! `flowlogs replay [--dry-run] [--max N]`: the S3 events the forwarder still failed on after
//! Lambda's retries wait in the stack's failure bucket, one invocation record each, under
//! `aws/lambda/async/<function>/` (the function's S3 on-failure destination). Replay sends each
//! record's original event through the function again, synchronously, and removes the record only
//! when the forwarder reports every record of it accepted. What still fails stays, with the reason.

use std::fmt;

use anyhow::Result;
use serde::Serialize;

use super::Say;
use crate::cli::{Global, ReplayArgs};
use crate::config::Delivery;
use crate::context::Context;
use crate::redrive::{self, edge, judge, Answer};

#[derive(Debug, Serialize)]
pub struct ReplayOutcome {
    pub stack: String,
    pub dry_run: bool,
    /// `s3://<failure bucket>/aws/lambda/async/<function>/`.
    pub location: String,
    /// Failure records found (up to `--max`).
    pub waiting: usize,
    /// Records sent again and removed.
    pub replayed: usize,
    /// Records that failed again (kept).
    pub still_failing: usize,
    /// Flow-log records the endpoint accepted during the replay.
    pub records: u64,
    pub items: Vec<ReplayItem>,
}

#[derive(Debug, Serialize)]
pub struct ReplayItem {
    /// The invocation record's key.
    pub key: String,
    /// The objects its event names.
    pub objects: Vec<String>,
    /// Why Lambda gave up on it.
    pub reason: String,
    /// `replayed`, `failed` or `waiting` (`--dry-run`).
    pub result: String,
    /// Flow-log records accepted when replayed.
    pub records: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl fmt::Display for ReplayOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.waiting == 0 {
            return write!(f, "No failed deliveries wait in {}.", self.location);
        }
        if self.dry_run {
            writeln!(
                f,
                "{} failed deliveries wait in {}:",
                self.waiting, self.location
            )?;
            for item in &self.items {
                writeln!(f, "  {} ({})", item.objects.join(", "), item.reason)?;
            }
            return write!(f, "Dry run: nothing sent. `flowlogs replay` sends them.");
        }
        for item in self.items.iter().filter(|i| i.result == "failed") {
            writeln!(
                f,
                "  still failing: {}: {}",
                item.objects.join(", "),
                item.error.as_deref().unwrap_or("")
            )?;
        }
        write!(
            f,
            "Replayed {} of {} failed deliveries ({} records accepted); {} still failing{}",
            self.replayed,
            self.waiting,
            self.records,
            self.still_failing,
            if self.still_failing == 0 {
                "."
            } else {
                ": they stay in the bucket; fix the cause and run `flowlogs replay` again."
            }
        )
    }
}

impl super::Outcome for ReplayOutcome {
    const COMMAND: &'static str = "replay";
    fn stack(&self) -> &str {
        &self.stack
    }
    /// Nothing still failing (a dry run is ok).
    fn ok(&self) -> bool {
        self.still_failing == 0
    }
}

pub async fn run(global: &Global, args: &ReplayArgs) -> Result<u8> {
    let ctx = Context::load(global).await?;
    if matches!(ctx.config.delivery, Delivery::Firehose { .. }) {
        anyhow::bail!(
            "replay re-drives the forwarder Lambda's failed events; in `mode: firehose` Firehose keeps failed records in s3://{}/{} itself",
            ctx.names.bucket,
            crate::desired::FIREHOSE_BACKUP_PREFIX
        );
    }
    let say = Say(args.output);
    let (bucket, prefix) = (&ctx.names.failure_bucket, ctx.names.failure_prefix());
    let listed = crate::aws::objects::list(&ctx.clients.s3, bucket, &prefix, args.max).await?;
    let mut outcome = ReplayOutcome {
        stack: ctx.names.stack.clone(),
        dry_run: args.dry_run,
        location: format!("s3://{bucket}/{prefix}"),
        waiting: listed.len(),
        replayed: 0,
        still_failing: 0,
        records: 0,
        items: Vec::new(),
    };
    let bar = crate::ui::Bar::new(listed.len() as u64, "failed deliveries");
    for object in &listed {
        let record = match edge::get(&ctx.clients, bucket, &object.key)
            .await
            .map_err(|e| format!("{e:#}"))
            .and_then(|bytes| redrive::parse_record(&bytes))
        {
            Ok(r) => r,
            Err(why) => {
                outcome.still_failing += 1;
                bar.println(format!("unreadable: {}: {why}", object.key));
                outcome.items.push(ReplayItem {
                    key: object.key.clone(),
                    objects: Vec::new(),
                    reason: String::new(),
                    result: "failed".into(),
                    records: 0,
                    error: Some(why),
                });
                bar.inc(format!(
                    "{} records, {} failures",
                    outcome.records, outcome.still_failing
                ));
                continue;
            }
        };
        let mut item = ReplayItem {
            key: object.key.clone(),
            objects: redrive::event_objects(&record.event),
            reason: format!(
                "{} after {} attempts: {}",
                record.condition, record.attempts, record.reason
            ),
            result: "waiting".into(),
            records: 0,
            error: None,
        };
        if !args.dry_run {
            let answer = edge::invoke(&ctx.clients, &ctx.names.function, &record.event).await;
            match judge(&answer) {
                Ok(report) => {
                    item.records = report.forwarded;
                    match edge::delete(&ctx.clients, bucket, &object.key).await {
                        Ok(()) => {
                            item.result = "replayed".into();
                            outcome.replayed += 1;
                        }
                        // Sent, but the record stays: a second replay sends it again, and the
                        // records' `log.record.uid` lets the backend drop the copies.
                        Err(e) => {
                            item.result = "failed".into();
                            item.error = Some(format!("sent, but the record stays: {e:#}"));
                            outcome.still_failing += 1;
                        }
                    }
                    outcome.records += report.forwarded;
                }
                Err(why) => {
                    if let Answer::Report(r) = &answer {
                        outcome.records += r.forwarded;
                    }
                    item.result = "failed".into();
                    item.error = Some(why);
                    outcome.still_failing += 1;
                }
            }
            let line = format!(
                "{} {} ({} records){}",
                if item.result == "replayed" {
                    "replayed"
                } else {
                    "failed again"
                },
                item.objects.join(", "),
                item.records,
                item.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
            bar.println(line);
        }
        bar.inc(format!(
            "{} records, {} failures",
            outcome.records, outcome.still_failing
        ));
        outcome.items.push(item);
    }
    bar.finish();
    if !args.dry_run && outcome.waiting > 0 {
        say.line(
            "Records carry log.record.uid: a backend that deduplicates keeps one copy of anything sent twice.",
        );
    }
    super::print(&outcome, args.output)?;
    Ok(if super::Outcome::ok(&outcome) { 0 } else { 1 })
}
