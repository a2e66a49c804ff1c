//! `flowlogs status`: each resource of the stack, whether it exists, is ours, and matches the config.

use std::fmt;

use anyhow::Result;
use serde::Serialize;

use crate::cli::{CodeArgs, Global, StatusArgs};
use crate::context::{code_source, Context};
use crate::plan::{Action, Kind, Plan};
use crate::planner::{plan_setup, position};

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub in_sync: bool,
    pub resources: Vec<ResourceStatus>,
    /// Failed deliveries Lambda kept in the bucket for `flowlogs replay`; `null` when failure
    /// capture is off (or the bucket cannot be listed).
    pub failures_waiting: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ResourceStatus {
    pub kind: Kind,
    pub name: String,
    pub exists: bool,
    pub ours: bool,
    pub matches: bool,
    pub detail: String,
}

pub fn statuses(plan: &Plan) -> Vec<ResourceStatus> {
    let mut rows: Vec<ResourceStatus> = plan
        .in_sync
        .iter()
        .map(|r| ResourceStatus {
            kind: r.kind,
            name: r.name.clone(),
            exists: true,
            ours: true,
            matches: true,
            detail: "matches the config".into(),
        })
        .collect();
    for step in &plan.steps {
        let fields: Vec<&str> = step.changes.iter().map(|c| c.field.as_str()).collect();
        let (exists, detail) = match step.action {
            Action::Create => (false, "missing: setup creates it".to_string()),
            Action::Update | Action::Replace => (
                true,
                format!(
                    "differs ({}): setup will {} it",
                    fields.join(", "),
                    step.action.verb()
                ),
            ),
            Action::Delete => (true, "not in the config: setup deletes it".to_string()),
        };
        rows.push(ResourceStatus {
            kind: step.kind,
            name: step.name.clone(),
            exists,
            ours: exists,
            matches: false,
            detail,
        });
    }
    for c in &plan.conflicts {
        rows.push(ResourceStatus {
            kind: c.kind,
            name: c.name.clone(),
            exists: true,
            ours: false,
            matches: false,
            detail: c.problem.clone(),
        });
    }
    rows.sort_by_key(|r| position(r.kind));
    rows
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Stack {} in account {}, {}:",
            self.stack, self.account, self.region
        )?;
        let yes = |b: bool| if b { "yes" } else { "no" };
        writeln!(
            f,
            "  {:<18} {:<6} {:<5} {:<7} NAME / DETAIL",
            "RESOURCE", "EXISTS", "OURS", "MATCHES"
        )?;
        for r in &self.resources {
            writeln!(
                f,
                "  {:<18} {:<6} {:<5} {:<7} {}",
                r.kind.label(),
                yes(r.exists),
                yes(r.ours),
                yes(r.matches),
                r.name
            )?;
            if !r.matches {
                writeln!(f, "  {:<40}{}", "", r.detail)?;
            }
        }
        if let Some(n) = self.failures_waiting {
            writeln!(
                f,
                "Failed deliveries waiting: {n}{}",
                if n > 0 {
                    " (`flowlogs replay` sends them)"
                } else {
                    ""
                }
            )?;
        }
        write!(
            f,
            "{}",
            if self.in_sync {
                "In sync with the config."
            } else {
                "Out of sync: `flowlogs plan` shows the changes."
            }
        )
    }
}

impl super::Outcome for StatusReport {
    const COMMAND: &'static str = "status";
    fn stack(&self) -> &str {
        &self.stack
    }
    /// Every resource exists, is ours and matches the config.
    fn ok(&self) -> bool {
        self.in_sync
    }
}

/// How many invocation records wait under the function's failure prefix.
async fn failures_waiting(ctx: &Context, desired: &crate::desired::Desired) -> Option<u64> {
    desired.forwarder.as_ref()?.event_invoke.as_ref()?;
    let prefix = ctx.names.failure_prefix();
    crate::redrive::edge::list(&ctx.clients, &ctx.names.failure_bucket, &prefix, None)
        .await
        .ok()
        .map(|listed| listed.len() as u64)
}

pub async fn run(global: &Global, args: &StatusArgs) -> Result<u8> {
    let ctx = Context::load(global).await?;
    let code = code_source(&CodeArgs::default());
    let desired = ctx.desired(&code)?;
    let observed = ctx.observe().await?;
    let plan = plan_setup(&desired, &observed);
    let report = StatusReport {
        stack: ctx.names.stack.clone(),
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        in_sync: !plan.has_changes() && plan.conflicts.is_empty(),
        resources: statuses(&plan),
        failures_waiting: failures_waiting(&ctx, &desired).await,
    };
    super::print(&report, args.output)?;
    Ok(0)
}
