//! The test delivery: a canary object under the flow-log prefix, the function invoked synchronously
//! with an S3 event for it, its report judged, the canary removed (also on failure).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_types::date_time::{DateTime, Format};
use flowlogs_forwarder::report::Report;

use super::canary;
use super::Check;
use crate::context::Context;
use crate::desired::Desired;
use crate::ui::Progress;

const NAME: &str = "test delivery";

pub async fn test_delivery(
    ctx: &Context,
    desired: &Desired,
    progress: &Progress,
) -> (Check, Option<Report>) {
    let names = &desired.names;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = format!("{}{:09}", now.as_secs(), now.subsec_nanos());
    let key = canary::key(&names.log_key_prefix, &names.account, &names.region, &stamp);
    let text = canary::render(
        &ctx.config.flow_log.format.fields,
        &names.account,
        &names.region,
        now.as_secs() as i64,
    );
    let spinner = progress.spinner(&format!(
        "sending {} canary records through {} (s3://{}/{key})",
        canary::CANARY_RECORDS,
        names.function,
        names.bucket
    ));
    let result = deliver(ctx, &names.bucket, &key, &text, &names.function).await;
    let cleanup = ctx
        .clients
        .s3
        .delete_object()
        .bucket(&names.bucket)
        .key(&key)
        .send()
        .await;
    let check = match (&result, cleanup) {
        (Ok(report), Ok(_)) => match canary::judge(report) {
            Ok(()) => Check::pass(
                NAME,
                format!(
                    "{} canary records parsed and accepted by the OTLP endpoint ({} batch, {} retries, {} ms); canary removed",
                    report.forwarded, report.batches, report.retries, report.millis
                ),
            ),
            Err(why) => Check::fail(NAME, why, "check the endpoint, its headers and what it answers (the function's log shows the response)"),
        },
        (Ok(_), Err(e)) => Check::fail(
            NAME,
            format!("delivered, but the canary s3://{}/{key} could not be removed: {e}", names.bucket),
            "delete it by hand",
        ),
        (Err(e), _) => Check::fail(NAME, format!("{e:#}"), delivery_fix(&format!("{e:#}"))),
    };
    spinner.finish(if check.ok { "✓" } else { "✗" });
    (check, result.ok())
}

/// A hint for the usual reasons a synchronous invocation fails.
fn delivery_fix(message: &str) -> &'static str {
    if message.contains("AccessDenied") {
        "the forwarder's role must be able to read the flow-log prefix: run `flowlogs setup`"
    } else if message.contains("ResourceNotFound") {
        "the function is missing: run `flowlogs setup`"
    } else {
        "check that the OTLP endpoint is reachable from the function and accepts its headers"
    }
}

async fn deliver(
    ctx: &Context,
    bucket: &str,
    key: &str,
    text: &str,
    function: &str,
) -> Result<Report> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes())?;
    let body = gz.finish()?;
    let size = body.len() as u64;
    ctx.clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .with_context(|| format!("writing the canary object s3://{bucket}/{key}"))?;
    invoke(ctx, function, bucket, key, size).await
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

/// Waits for the first object AWS itself delivers, then forwards it and shows the report.
pub async fn wait_for_real_object(
    ctx: &Context,
    desired: &Desired,
    progress: &Progress,
    wait: Duration,
) -> Check {
    let names = &desired.names;
    let name = "first real flow-log object";
    let spinner = progress.spinner(&format!(
        "waiting up to {}s for AWS to deliver the first object under s3://{}/{} (the first one takes 5 to 10 minutes)",
        wait.as_secs(),
        names.bucket,
        names.log_key_prefix
    ));
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let listing = ctx
            .clients
            .s3
            .list_objects_v2()
            .bucket(&names.bucket)
            .prefix(&names.log_key_prefix)
            .send()
            .await;
        let found = match listing {
            Ok(out) => out
                .contents()
                .iter()
                .filter_map(|o| Some((o.key()?.to_string(), o.size().unwrap_or(0))))
                .find(|(k, size)| !k.contains("/flowlogs-verify/") && *size > 0),
            Err(e) => {
                spinner.finish("✗");
                return Check::fail(
                    name,
                    format!("listing the bucket failed: {e}"),
                    "check the credentials' s3:ListBucket",
                );
            }
        };
        if let Some((key, size)) = found {
            spinner.finish("✓");
            return match invoke(ctx, &names.function, &names.bucket, &key, size as u64).await {
                Ok(r) if r.rejected == 0 => Check::pass(
                    name,
                    format!(
                        "{key}: {} records forwarded, {} skipped lines",
                        r.forwarded, r.skipped_lines
                    ),
                ),
                Ok(r) => Check::fail(
                    name,
                    format!("{key}: {} rejected by the endpoint", r.rejected),
                    "check the endpoint's limits and logs",
                ),
                Err(e) => Check::fail(
                    name,
                    format!("{key}: {e:#}"),
                    delivery_fix(&format!("{e:#}")),
                ),
            };
        }
        if tokio::time::Instant::now() >= deadline {
            spinner.finish("✗");
            return Check::fail(
                name,
                format!("no object arrived within {}s", wait.as_secs()),
                "objects arrive every 5 to 10 minutes once there is traffic: wait longer, or check the flow log's DeliverLogsStatus",
            );
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}
