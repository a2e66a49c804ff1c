//! The test delivery through the path AWS uses: a canary object put under the flow-log prefix with
//! a key the trigger matches (the notification's encoded filter, or the EventBridge rule's
//! pattern: the same keys), S3 left to trigger the function, and the forwarder's own report about
//! that key read from its log group within a bounded wait; the report must name the configured
//! trigger. When no
//! report comes, the function is invoked directly with the S3 event, to tell which link is broken.
//! The canary is forwarded once (never triggered and invoked both) and removed, also on failure.
//! `--wait` watches the first object AWS delivers and the forwarder's report about it, the same way.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_types::date_time::{DateTime, Format};
use flowlogs_forwarder::report::{ObjectReport, Report, Trigger as ReportTrigger};

use super::canary;
use super::Check;
use crate::config::Trigger;
use crate::context::Context;
use crate::desired::{Desired, DesiredForwarder, DesiredNotification};
use crate::plan::{Action, Kind};
use crate::planner::Plan;
use crate::ui::Progress;

const NAME: &str = "test delivery";
const TGW_NAME: &str = "test delivery (transit gateway folder)";
/// How long verify waits for S3 to trigger the function and for its report to be readable: S3
/// delivers events within seconds, "sometimes a minute or longer"; CloudWatch Logs makes events
/// searchable within seconds.
pub const TRIGGER_WAIT: Duration = Duration::from_secs(120);
/// How long verify waits for Lambda's retries of an event whose first attempt could not read the
/// object: "Lambda retries the function two more times, waiting one minute before the first retry
/// and two minutes between the first and second" (Lambda developer guide, asynchronous invocation).
const LAMBDA_RETRY_WAIT: Duration = Duration::from_secs(200);
/// Between two reads of the log group.
const POLL: Duration = Duration::from_secs(2);
/// Between two progress lines of a wait.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// Log events are searched from this long before the object was put (clock skew).
const CLOCK_SLACK_MS: i64 = 60_000;

/// Why S3 cannot trigger the function, when the plan already says so: a part of the trigger (our
/// notification entry and the function's permission for S3; or the EventBridge rule, the
/// function's permission for it and the bucket's EventBridge delivery) is missing.
#[cfg(test)]
fn trigger_missing(plan: &Plan) -> Option<String> {
    trigger_missing_of(plan, Kind::Notification)
}

/// As `trigger_missing`, for the notification entry of kind `entry` (the transit gateway
/// folder's, `Kind::TgwNotification`, for its canary).
fn trigger_missing_of(plan: &Plan, entry: Kind) -> Option<String> {
    plan.steps
        .iter()
        .filter(|s| s.action == Action::Create)
        .find_map(|s| match s.kind {
            k if k == entry => Some(format!("the notification entry {} is missing", s.name)),
            Kind::Permission => Some(format!(
                "the function's permission {} for S3 is missing",
                s.name
            )),
            Kind::EventRule => Some(format!("the EventBridge rule {} is missing", s.name)),
            Kind::EventPermission => Some(format!(
                "the function's permission {} for EventBridge is missing",
                s.name
            )),
            Kind::BucketEventBridge => Some(format!("the bucket's {} is off", s.name)),
            _ => None,
        })
}

/// The trigger named in the forwarder's report must be the configured one: with `eventbridge`,
/// that proves the canary went through the rule (a report without it is from a forwarder that
/// reads S3 notifications only).
pub fn delivered_by(configured: Trigger, reported: Option<ReportTrigger>) -> Result<(), String> {
    let reported = reported.unwrap_or(ReportTrigger::S3Notification);
    if reported.name() == configured.name() {
        Ok(())
    } else {
        Err(format!(
            "the canary reached the function through {}, not through the configured trigger {}",
            reported.name(),
            configured.name()
        ))
    }
}

/// What to check when S3 did not trigger the function.
fn trigger_hint(
    desired: &Desired,
    forwarder: &DesiredForwarder,
    n: &DesiredNotification,
) -> String {
    if let Some(eb) = &forwarder.eventbridge {
        return format!(
            "the bucket's EventBridge delivery (EventBridgeConfiguration in its notification configuration), the rule {} on the default bus (pattern {}) and its target {}, and the function's permission {} letting events.amazonaws.com invoke it from {}",
            eb.rule.name,
            eb.rule.pattern,
            eb.rule.function_arn,
            eb.permission.statement_id,
            eb.rule.arn
        );
    }
    format!(
        "the bucket's notification entry {} ({} on prefix {:?} and suffix {:?}, URL-encoded, to {}), its filter against the canary's key, and the function's permission {} letting s3.amazonaws.com invoke it for {}",
        n.id,
        n.events.join(", "),
        n.prefix,
        n.suffix,
        n.function_arn,
        forwarder.permission.statement_id,
        desired.names.bucket_arn()
    )
}

/// What the wait for the forwarder's report came to.
enum Waited {
    Reported(ObjectReport),
    /// Nothing within the bound.
    Silent,
    /// The log group cannot be read: whether S3 triggered the function is unknown.
    Unreadable(String),
}

pub async fn test_delivery(
    ctx: &Context,
    desired: &Desired,
    forwarder: &DesiredForwarder,
    plan: &Plan,
    progress: &Progress,
) -> (Check, Option<Report>) {
    let names = &desired.names;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = format!("{}{:09}", now.as_secs(), now.subsec_nanos());
    let canary = Canary {
        name: NAME,
        key: canary::key(&names.log_key_prefix, &names.account, &names.region, &stamp),
        text: canary::render(
            &ctx.config.flow_log.format.fields,
            &names.account,
            &names.region,
            now.as_secs() as i64,
        ),
        notification: &forwarder.notification,
    };
    send_canary(ctx, desired, forwarder, plan, progress, canary).await
}

/// The test delivery of the transit gateway folder, when the stack logs transit gateways: a
/// canary in the transit gateway format (its header names the TGW fields) under that folder,
/// triggered through the folder's own notification entry.
pub async fn test_tgw_delivery(
    ctx: &Context,
    desired: &Desired,
    forwarder: &DesiredForwarder,
    plan: &Plan,
    progress: &Progress,
) -> Option<(Check, Option<Report>)> {
    let names = &desired.names;
    let (Some(prefix), Some(notification), Some(tgw)) = (
        &names.tgw_log_key_prefix,
        &forwarder.tgw_notification,
        &ctx.config.flow_log.transit_gateways,
    ) else {
        return None;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = format!("{}{:09}", now.as_secs(), now.subsec_nanos());
    let canary = Canary {
        name: TGW_NAME,
        key: canary::key(prefix, &names.account, &names.region, &stamp),
        text: canary::render(
            &tgw.format.fields,
            &names.account,
            &names.region,
            now.as_secs() as i64,
        ),
        notification,
    };
    Some(send_canary(ctx, desired, forwarder, plan, progress, canary).await)
}

/// One canary: the check's name, where it goes, what it holds, the entry that should trigger it.
struct Canary<'a> {
    name: &'static str,
    key: String,
    text: String,
    notification: &'a DesiredNotification,
}

async fn send_canary(
    ctx: &Context,
    desired: &Desired,
    forwarder: &DesiredForwarder,
    plan: &Plan,
    progress: &Progress,
    canary: Canary<'_>,
) -> (Check, Option<Report>) {
    let names = &desired.names;
    let Canary {
        name,
        key,
        text,
        notification: n,
    } = canary;
    let entry = if n.id == forwarder.notification.id {
        Kind::Notification
    } else {
        Kind::TgwNotification
    };
    // A Parquet stack's notification wants `.log.parquet`; the canary is text, so it cannot go the
    // trigger's way and is handed to the function directly.
    let triggered = canary::trigger_matches(&key, &n.prefix, &n.suffix);
    let put = put_canary(ctx, &names.bucket, &key, &text).await;
    let (check, report) = match put {
        Err(e) => (
            Check::fail(
                name,
                format!("{e:#}"),
                "the credentials need s3:PutObject on the flow-log prefix",
            ),
            None,
        ),
        Ok((size, _)) if !triggered => {
            let result = invoke(ctx, &names.function, &names.bucket, &key, size).await;
            let check = match &result {
                Ok(r) => match canary::judge(r) {
                    Ok(()) => Check::pass(
                        name,
                        format!(
                            "{} canary records parsed and accepted by the OTLP endpoint, the function invoked directly (a Parquet stack's trigger is not exercised: the canary is text); canary removed",
                            r.forwarded
                        ),
                    ),
                    Err(why) => Check::fail(name, why, ENDPOINT_FIX),
                },
                Err(e) => Check::fail(name, format!("{e:#}"), delivery_fix(&format!("{e:#}"))),
            };
            (check, result.ok())
        }
        Ok((size, sent_ms)) => {
            let waited = match trigger_missing_of(plan, entry) {
                Some(_) => Waited::Silent,
                None => {
                    wait_for_report(
                        ctx,
                        &names.log_group,
                        &names.bucket,
                        &key,
                        sent_ms,
                        TRIGGER_WAIT,
                        progress,
                    )
                    .await
                }
            };
            match waited {
                Waited::Reported(o) => {
                    let report = canary::as_report(&o);
                    let judged = canary::judge_object(&o)
                        .and_then(|()| delivered_by(forwarder.trigger, o.trigger));
                    let check = match judged {
                        Ok(()) => Check::pass(
                            name,
                            format!(
                                "S3 triggered {} for the canary s3://{}/{key}; its report in {}: {} canary records parsed and accepted by the OTLP endpoint ({} batch, {} retries, {} ms), delivered through {}, the trigger the report names; canary removed",
                                names.function, names.bucket, names.log_group, o.forwarded, o.batches, o.retries, o.millis, trigger_path(forwarder)
                            ),
                        ),
                        Err(why) => Check::fail(
                            name,
                            format!("S3 triggered {}, but {why}", names.function),
                            delivery_fix(&why),
                        ),
                    };
                    (check, Some(report))
                }
                Waited::Unreadable(why) => (
                    Check::fail(
                        name,
                        format!("the canary s3://{}/{key} was put, but the forwarder's report cannot be read: {why}", names.bucket),
                        format!("run `flowlogs setup` to make the log group {}; the credentials need logs:FilterLogEvents on it", names.log_group),
                    ),
                    None,
                ),
                Waited::Silent => {
                    diagnose(ctx, desired, forwarder, n, plan, &key, size, name, progress).await
                }
            }
        }
    };
    let cleanup = ctx
        .clients
        .s3
        .delete_object()
        .bucket(&names.bucket)
        .key(&key)
        .send()
        .await;
    let check = match cleanup {
        Err(e) if check.ok => Check::fail(
            name,
            format!(
                "delivered, but the canary s3://{}/{key} could not be removed: {e}",
                names.bucket
            ),
            "delete it by hand",
        ),
        _ => check,
    };
    (check, report)
}

/// The way the canary went, as the check says it.
fn trigger_path(forwarder: &DesiredForwarder) -> String {
    match &forwarder.eventbridge {
        Some(eb) => format!(
            "the EventBridge rule {} (trigger eventbridge)",
            eb.rule.name
        ),
        None => format!(
            "the notification entry {} (trigger s3-notification)",
            forwarder.notification.id
        ),
    }
}

const ENDPOINT_FIX: &str = "check the endpoint, its headers and what it answers (the function's log group shows the response)";

/// No report from the trigger: the direct invoke tells whether the function or the trigger is broken.
#[allow(clippy::too_many_arguments)]
async fn diagnose(
    ctx: &Context,
    desired: &Desired,
    forwarder: &DesiredForwarder,
    notification: &DesiredNotification,
    plan: &Plan,
    key: &str,
    size: u64,
    name: &str,
    progress: &Progress,
) -> (Check, Option<Report>) {
    let names = &desired.names;
    let entry = if notification.id == forwarder.notification.id {
        Kind::Notification
    } else {
        Kind::TgwNotification
    };
    let missing = trigger_missing_of(plan, entry);
    let why_silent = match &missing {
        Some(m) => format!("{m}, so S3 cannot trigger {}", names.function),
        None => format!(
            "no report about the canary from {} in {} within {}s",
            names.function,
            names.log_group,
            TRIGGER_WAIT.as_secs()
        ),
    };
    progress.detail(&format!(
        "{why_silent}: invoking the function directly to find the broken link"
    ));
    let hint = match &missing {
        Some(m) => format!("{m} (see above)"),
        None => format!("check {}", trigger_hint(desired, forwarder, notification)),
    };
    let result = invoke(ctx, &names.function, &names.bucket, key, size).await;
    let check = match &result {
        Ok(r) => match canary::judge(r) {
            Ok(()) => Check::fail(
                name,
                format!(
                    "the function forwards when invoked directly, but S3 did not trigger it: {hint}"
                ),
                if forwarder.eventbridge.is_some() {
                    "run `flowlogs setup` to restore the rule, its target, the permission and the bucket's EventBridge delivery"
                } else {
                    "run `flowlogs setup` to restore the notification entry and the permission; a foreign entry whose filter overlaps ours keeps S3 from using ours"
                },
            ),
            Err(why) => Check::fail(
                name,
                format!("{why_silent}; invoked directly, {why}"),
                ENDPOINT_FIX,
            ),
        },
        Err(e) => Check::fail(
            name,
            format!("{why_silent}; invoked directly, it failed too: {e:#}"),
            delivery_fix(&format!("{e:#}")),
        ),
    };
    (check, result.ok())
}

/// A hint for the usual reasons an invocation fails.
fn delivery_fix(message: &str) -> &'static str {
    if message.contains("AccessDenied") || message.contains("ReadFailed") {
        "the forwarder's role must be able to read the flow-log prefix: run `flowlogs setup`"
    } else if message.contains("ResourceNotFound") {
        "the function is missing: run `flowlogs setup`"
    } else {
        "check that the OTLP endpoint is reachable from the function and accepts its headers"
    }
}

/// Puts the gzipped canary; its size and when it was put (ms since the epoch).
async fn put_canary(ctx: &Context, bucket: &str, key: &str, text: &str) -> Result<(u64, i64)> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes())?;
    let body = gz.finish()?;
    let size = body.len() as u64;
    let sent_ms = now_ms();
    ctx.clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .with_context(|| format!("writing the canary object s3://{bucket}/{key}"))?;
    Ok((size, sent_ms))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// Invokes the forwarder synchronously for one object and reads its report.
async fn invoke(
    ctx: &Context,
    function: &str,
    bucket: &str,
    key: &str,
    size: u64,
) -> Result<Report> {
    let time = DateTime::from(SystemTime::now()).fmt(Format::DateTime)?;
    let event = canary::s3_event(bucket, key, size, &ctx.region, &time);
    let out = ctx
        .clients
        .lambda
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::RequestResponse)
        .payload(Blob::new(serde_json::to_vec(&event)?))
        .send()
        .await
        .with_context(|| format!("invoking Lambda function {function}"))?;
    let payload = out
        .payload()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
        .unwrap_or_default();
    if let Some(kind) = out.function_error() {
        anyhow::bail!("the forwarder failed ({kind}): {payload}");
    }
    serde_json::from_str(&payload).with_context(|| {
        format!("the forwarder answered with something other than its report: {payload}")
    })
}

/// Reads the function's log group for its report about `key`, up to `limit`, with a progress line.
async fn wait_for_report(
    ctx: &Context,
    log_group: &str,
    bucket: &str,
    key: &str,
    since_ms: i64,
    limit: Duration,
    progress: &Progress,
) -> Waited {
    let spinner = progress.spinner(&format!(
        "waiting up to {}s for S3 to trigger the function and for its report on s3://{bucket}/{key} in {log_group}",
        limit.as_secs()
    ));
    let started = tokio::time::Instant::now();
    let mut last_progress = started;
    let mut limit = limit;
    let mut awaiting_retry: Option<ObjectReport> = None;
    let waited = loop {
        match find_report(ctx, log_group, bucket, key, since_ms).await {
            Ok(Some(report)) if canary::mended_by_lambda_retry(&report) => {
                if awaiting_retry.is_none() {
                    limit = limit.max(started.elapsed() + LAMBDA_RETRY_WAIT);
                    progress.detail(&format!(
                        "the forwarder could not read s3://{bucket}/{key} yet ({}): the role's new permissions take a while to reach S3; Lambda retries the event after about one and three minutes, waiting up to {}s more",
                        report.error.as_deref().unwrap_or("AccessDenied"),
                        LAMBDA_RETRY_WAIT.as_secs()
                    ));
                }
                awaiting_retry = Some(report);
            }
            Ok(Some(report)) => break Waited::Reported(report),
            Ok(None) => {}
            Err(why) => break Waited::Unreadable(why),
        }
        if started.elapsed() >= limit {
            break match awaiting_retry.take() {
                Some(report) => Waited::Reported(report),
                None => Waited::Silent,
            };
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = tokio::time::Instant::now();
            progress.detail(&format!(
                "still waiting for the forwarder's report on {key} in {log_group} ({}s of at most {}s)",
                started.elapsed().as_secs(),
                limit.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    spinner.finish(if matches!(waited, Waited::Reported(_)) {
        "✓"
    } else {
        "✗"
    });
    waited
}

/// The forwarder's deciding report about `key` in its log group (`canary::report_for`), if written
/// yet. `Err`: the group cannot be read (missing, or not allowed), said in words.
async fn find_report(
    ctx: &Context,
    log_group: &str,
    bucket: &str,
    key: &str,
    since_ms: i64,
) -> Result<Option<ObjectReport>, String> {
    let mut next: Option<String> = None;
    let mut messages = Vec::new();
    loop {
        let out = ctx
            .clients
            .logs
            .filter_log_events()
            .log_group_name(log_group)
            .filter_pattern(canary::filter_pattern(key))
            .start_time(since_ms - CLOCK_SLACK_MS)
            .set_next_token(next.take())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Err(format!("the log group {log_group} does not exist"));
            }
            Err(e) => {
                return Err(format!(
                    "reading the log group {log_group}: {}",
                    aws_smithy_types::error::display::DisplayErrorContext(&e)
                ))
            }
        };
        messages.extend(
            out.events()
                .iter()
                .filter_map(|e| e.message())
                .map(str::to_string),
        );
        match out.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => {
                return Ok(canary::report_for(
                    messages.iter().map(String::as_str),
                    bucket,
                    key,
                ))
            }
        }
    }
}

/// Every key under the flow-log prefix now (canaries left aside): what `--wait` does not wait for.
pub async fn list_keys(ctx: &Context, bucket: &str, prefix: &str) -> Result<BTreeSet<String>> {
    let listed = crate::aws::objects::list(&ctx.clients.s3, bucket, prefix, None).await?;
    Ok(listed
        .into_iter()
        .filter(|o| {
            o.size > 0 && !o.key[prefix.len().min(o.key.len())..].starts_with(canary::CANARY_FOLDER)
        })
        .map(|o| o.key)
        .collect())
}

/// `--wait`: watches for the first object AWS delivers after verify started (a key not in `before`,
/// listed at the start), then for the forwarder's report about it in its log group (S3 triggers
/// the function; verify does not invoke it again).
pub async fn wait_for_real_object(
    ctx: &Context,
    desired: &Desired,
    progress: &Progress,
    wait: Duration,
    before: Result<BTreeSet<String>>,
) -> Check {
    let names = &desired.names;
    let name = "first real flow-log object";
    let started = tokio::time::Instant::now();
    let since_ms = now_ms();
    let fail_listing = |e: anyhow::Error| {
        Check::fail(
            name,
            format!("{e:#}"),
            "the credentials need s3:ListBucket on the bucket",
        )
    };
    let before = match before {
        Ok(keys) => keys,
        Err(e) => return fail_listing(e),
    };
    let spinner = progress.spinner(&format!(
        "waiting up to {}s for AWS to deliver a new object under s3://{}/{} (the first one takes 5 to 10 minutes)",
        wait.as_secs(),
        names.bucket,
        names.log_key_prefix
    ));
    let mut last_progress = started;
    let key = loop {
        match list_keys(ctx, &names.bucket, &names.log_key_prefix).await {
            Ok(keys) => {
                if let Some(key) = keys.difference(&before).next() {
                    break key.clone();
                }
            }
            Err(e) => {
                spinner.finish("✗");
                return fail_listing(e);
            }
        }
        if started.elapsed() >= wait {
            spinner.finish("✗");
            return Check::fail(
                name,
                format!("no new object arrived within {}s", wait.as_secs()),
                "objects arrive every 5 to 10 minutes once there is traffic: wait longer, or check the flow log's DeliverLogsStatus",
            );
        }
        if last_progress.elapsed() >= PROGRESS_EVERY * 3 {
            last_progress = tokio::time::Instant::now();
            progress.detail(&format!(
                "no new object yet ({}s of at most {}s)",
                started.elapsed().as_secs(),
                wait.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_secs(5).min(wait)).await;
    };
    spinner.finish("✓");
    let limit = wait.saturating_sub(started.elapsed()).max(TRIGGER_WAIT);
    match wait_for_report(
        ctx,
        &names.log_group,
        &names.bucket,
        &key,
        since_ms,
        limit,
        progress,
    )
    .await
    {
        Waited::Reported(o) if o.ok => Check::pass(
            name,
            format!(
                "AWS delivered {key}; S3 triggered {} and its report in {} says {} records forwarded, {} skipped lines",
                names.function, names.log_group, o.forwarded, o.skipped_lines
            ),
        ),
        Waited::Reported(o) => Check::fail(
            name,
            format!(
                "AWS delivered {key}; S3 triggered {}, but its report says {:?}: {} of {} records forwarded, {} rejected{}",
                names.function,
                o.outcome,
                o.forwarded,
                o.records,
                o.rejected,
                o.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
            ),
            delivery_fix(o.error.as_deref().unwrap_or_default()),
        ),
        Waited::Unreadable(why) => Check::fail(
            name,
            format!("AWS delivered {key}, but the forwarder's report cannot be read: {why}"),
            format!("run `flowlogs setup` to make the log group {}", names.log_group),
        ),
        Waited::Silent => Check::fail(
            name,
            format!(
                "AWS delivered {key}, but {} reported nothing about it in {} within {}s: S3 did not trigger it",
                names.function,
                names.log_group,
                limit.as_secs()
            ),
            match desired.forwarder.as_ref() {
                Some(f) => format!("check {}", trigger_hint(desired, f, &f.notification)),
                None => String::new(),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planner::Op;

    #[test]
    fn a_missing_notification_or_permission_means_no_trigger() {
        let mut plan = Plan::default();
        assert_eq!(trigger_missing(&plan), None);
        plan.step(
            Kind::Notification,
            "flowlogs-s on b",
            Action::Update,
            Vec::new(),
            Vec::<Op>::new(),
        );
        assert_eq!(trigger_missing(&plan), None, "an update may still fire");
        plan.step(
            Kind::Notification,
            "flowlogs-s on b",
            Action::Create,
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(
            trigger_missing(&plan).as_deref(),
            Some("the notification entry flowlogs-s on b is missing")
        );
    }

    #[test]
    fn a_missing_rule_means_no_trigger() {
        let mut plan = Plan::default();
        plan.step(
            Kind::EventRule,
            "flowlogs-s-objects",
            Action::Create,
            Vec::new(),
            Vec::<Op>::new(),
        );
        assert_eq!(
            trigger_missing(&plan).as_deref(),
            Some("the EventBridge rule flowlogs-s-objects is missing")
        );
    }

    /// Issue 26: verify proves the canary went through the configured trigger, from the trigger
    /// the forwarder's report names.
    #[test]
    fn the_report_must_name_the_configured_trigger() {
        assert!(delivered_by(Trigger::EventBridge, Some(ReportTrigger::EventBridge)).is_ok());
        let err =
            delivered_by(Trigger::EventBridge, Some(ReportTrigger::S3Notification)).unwrap_err();
        assert!(
            err.contains("through s3-notification, not through the configured trigger eventbridge"),
            "{err}"
        );
        assert!(delivered_by(Trigger::EventBridge, None).is_err());
        assert!(delivered_by(Trigger::S3Notification, None).is_ok());
        assert!(delivered_by(Trigger::S3Notification, Some(ReportTrigger::EventBridge)).is_err());
    }
}
