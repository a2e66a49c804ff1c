//! The log group (and log stream) the Firehose stream writes its delivery errors to. Made before
//! the stream, removed after it.

use anyhow::{Context, Result};

use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::is_already_there;
pub use crate::aws::log_groups::ObservedLogGroup;
use crate::aws::{log_groups, tags, Clients};
use crate::desired::{Desired, DesiredStream, Names};
use crate::plan::{Action, Change, Kind};

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[allow(clippy::large_enum_variant)] // a plan holds a handful
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateStreamLogGroup { stream: DesiredStream },
    DeleteStreamLogGroup { log_group: String },
}

type Plan = crate::plan::Plan<Op>;

/// How long the error log group keeps its events.
pub const LOG_RETENTION_DAYS: i32 = 30;

pub struct StreamLogGroup;

impl Resource for StreamLogGroup {
    const KIND: Kind = Kind::StreamLogGroup;
    /// The stream's desired value names its log group and log stream.
    type Desired = DesiredStream;
    type Observed = Option<ObservedLogGroup>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredStream> {
        stack.firehose.as_ref().map(|f| &f.stream)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedLogGroup>> {
        log_groups::observe(cx.clients, &cx.names.firehose_log_group).await
    }

    fn plan(_names: &Names, desired: &DesiredStream, observed: &Option<ObservedLogGroup>) -> Plan {
        plan(desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedLogGroup>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::CreateStreamLogGroup { stream } => ensure_log_group(cx.clients, stream).await,
            Op::DeleteStreamLogGroup { log_group } => {
                log_groups::delete(cx.clients, log_group).await
            }
        }
    }
}

/// A missing log group is created (with its log stream); one that exists is left as it is.
pub fn plan(d: &DesiredStream, observed: Option<&ObservedLogGroup>) -> Plan {
    let mut plan = Plan::default();
    match observed {
        Some(_) => plan.in_sync(Kind::StreamLogGroup, &d.log_group),
        None => plan.step(
            Kind::StreamLogGroup,
            &d.log_group,
            Action::Create,
            vec![Change::new(
                "error log group",
                "",
                format!(
                    "{}:{} ({LOG_RETENTION_DAYS} days)",
                    d.log_group, d.log_stream
                ),
            )],
            vec![Op::CreateStreamLogGroup { stream: d.clone() }],
        ),
    }
    plan
}

/// The log group goes when it carries our tag.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedLogGroup>) -> Plan {
    let mut plan = Plan::default();
    if let Some(g) = observed.filter(|g| names.is_ours(&g.tags)) {
        plan.step(
            Kind::StreamLogGroup,
            &g.name,
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteStreamLogGroup {
                log_group: g.name.clone(),
            }],
        );
    }
    plan
}

/// The error log group and its log stream; both may exist already.
pub async fn ensure_log_group(clients: &Clients, d: &DesiredStream) -> Result<()> {
    let logs = &clients.logs;
    match logs
        .create_log_group()
        .log_group_name(&d.log_group)
        .set_tags(Some(tags::to_map(&d.tags)))
        .send()
        .await
    {
        Ok(_) => {
            logs.put_retention_policy()
                .log_group_name(&d.log_group)
                .retention_in_days(LOG_RETENTION_DAYS)
                .send()
                .await
                .with_context(|| format!("setting the retention of log group {}", d.log_group))?;
        }
        Err(e) if is_already_there(&e) => {}
        Err(e) => {
            return Err(e).with_context(|| format!("creating log group {}", d.log_group));
        }
    }
    match logs
        .create_log_stream()
        .log_group_name(&d.log_group)
        .log_stream_name(&d.log_stream)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_already_there(&e) => Ok(()),
        Err(e) => Err(e)
            .with_context(|| format!("creating log stream {} in {}", d.log_stream, d.log_group)),
    }
}
