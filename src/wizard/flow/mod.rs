//! The questions, in order, over the `Ask` trait and the `Account` listing: stack, region, what to
//! log, traffic, format, interval, file format, partitions, bucket, delivery. Every answer is
//! written into the draft raw config (`draft`), and the config's checker judges it: a refused
//! answer is asked again with the checker's own message. Flags are the proposed answers.

use std::future::Future;

use anyhow::Result;

mod bucket;
mod delivery;
mod organisation;
mod resources;
mod summary;
mod traffic;

use self::bucket::ask_bucket;
use self::delivery::ask_delivery;
use self::organisation::ask_organisation;
use self::resources::ask_resources;
pub use self::summary::summary;
use self::traffic::{ask_format, ask_traffic_type};
use super::draft::{self, Draft};
use super::listing::Account;
use super::prompt::{Ask, Text};
use crate::config::{DeliveryMode, FileFormat, RawConfig};

/// Writes a typed answer into the draft; `Err` when the text is not even of the key's type.
pub(super) type Set<'a> = &'a dyn Fn(&mut RawConfig, &str) -> Result<(), String>;

/// A text question whose answer `set` writes into the draft; the checker decides whether it stands.
pub(super) fn ask_into<Q: Ask>(
    q: &mut Q,
    raw: &mut RawConfig,
    prompt: &str,
    default: Option<String>,
    allow_empty: bool,
    set: Set,
) -> Result<String> {
    let text = {
        let check = |text: &str| {
            let mut trial = raw.clone();
            set(&mut trial, text)?;
            draft::verdict(&trial)
        };
        q.text(&Text {
            prompt,
            default,
            allow_empty,
            check: &check,
        })?
    };
    set(raw, &text).map_err(anyhow::Error::msg)?;
    Ok(text)
}

pub(super) fn number(text: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a whole number"))
}

/// Asks every question, starting from the flags' draft. `connect` gives the account of the region.
pub async fn ask<Q, A, F, Fut>(
    q: &mut Q,
    start: &Draft,
    region_default: Option<String>,
    connect: F,
) -> Result<RawConfig>
where
    Q: Ask,
    A: Account,
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<A>>,
{
    let mut raw = start.raw.clone();
    q.say("flowlogs init: a few questions, then flowlogs.yaml is written (Esc or Ctrl-C leaves without writing).");
    let stack = ask_into(
        q,
        &mut raw,
        "Stack name (names and tags every resource)",
        Some(start.raw.stack.clone()),
        false,
        &|r, t| {
            r.stack = t.to_string();
            Ok(())
        },
    )?;
    let region = ask_into(q, &mut raw, "AWS region", region_default, false, &|r, t| {
        r.region = Some(t.to_string());
        Ok(())
    })?;

    q.say(&format!("Looking at the account in {region} ..."));
    let account = connect(region.clone()).await?;
    let (account_id, vpcs, buckets, organisation) = tokio::join!(
        account.account_id(),
        account.vpcs(),
        account.buckets(),
        account.organisation()
    );

    let whole_organisation = match &organisation {
        Some(org) => ask_organisation(q, &mut raw, &region, org)?,
        None => false,
    };
    if !whole_organisation {
        ask_resources(q, &mut raw, start.has_resources, &region, vpcs)?;
    }
    ask_traffic_type(q, &mut raw)?;
    ask_format(q, &mut raw)?;
    let intervals = [600, 60];
    let f = &mut raw.flow_log;
    f.max_aggregation_interval = intervals[q.select(
        "Aggregation interval",
        &[
            "600 seconds (10 minutes: fewer, larger records)".to_string(),
            "60 seconds (1 minute: finer timing)".to_string(),
        ],
        usize::from(f.max_aggregation_interval == 60),
    )?];
    let formats = [FileFormat::PlainText, FileFormat::Parquet];
    f.file_format = formats[q.select(
        "File format",
        &[
            "plain-text (gzip text, one record per line)".to_string(),
            "parquet (columnar; needs the Lambda delivery)".to_string(),
        ],
        usize::from(f.file_format == FileFormat::Parquet),
    )?];
    f.hive_compatible_partitions = q.confirm(
        "Hive-compatible partitions (aws-account-id=.../year=... keys)?",
        f.hive_compatible_partitions,
    )?;
    f.per_hour_partition = q.confirm(
        "One folder per hour (per-hour partitions)?",
        f.per_hour_partition,
    )?;
    if raw.flow_log.file_format == FileFormat::Parquet {
        // Firehose takes plain text only: the delivery question is not asked (see ask_delivery).
        raw.delivery.mode = DeliveryMode::Lambda;
    }

    ask_bucket(q, &mut raw, &stack, &region, account_id.as_deref(), buckets)?;
    if raw.bucket.create {
        ask_into(
            q,
            &mut raw,
            "Keep logs for how many days?",
            Some(start.raw.bucket.retention_days.to_string()),
            false,
            &|r, t| {
                r.bucket.retention_days = number(t)?;
                Ok(())
            },
        )?;
    }
    // An existing bucket whose notification already reads the flow-log keys: S3 would refuse
    // ours beside it, so the delivery question offers the EventBridge trigger.
    let taken_by = match (&raw.bucket.name, raw.bucket.create) {
        (Some(bucket), false) => {
            let entries = account.notifications(bucket).await;
            delivery::overlapping(&raw, account_id.as_deref(), &region, &entries)
        }
        _ => None,
    };
    ask_delivery(q, &mut raw, start, taken_by.as_deref())?;
    Ok(raw)
}

#[cfg(test)]
mod tests;
