//! `flowlogs status`: each resource of the stack, whether it exists, is ours, and matches the config.

use std::fmt;

use anyhow::Result;
use serde::Serialize;

use crate::cli::{CodeArgs, Global, StatusArgs};
use crate::context::{code_source, Context};
use crate::fleet::run::FleetPlan;
use crate::plan::{Action, Kind};
use crate::planner::Plan;
use crate::planner::{plan_setup, position, resolve};

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
    /// What the stack costs a month (as in `plan`).
    pub estimate: crate::cost::Estimate,
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
        // As wide as the longest kind shown ("lambda async config" is 19).
        let width = self
            .resources
            .iter()
            .map(|r| r.kind.label().len())
            .chain(["RESOURCE".len()])
            .max()
            .unwrap_or_default();
        writeln!(
            f,
            "  {:<width$} {:<6} {:<5} {:<7} NAME / DETAIL",
            "RESOURCE", "EXISTS", "OURS", "MATCHES"
        )?;
        for r in &self.resources {
            writeln!(
                f,
                "  {:<width$} {:<6} {:<5} {:<7} {}",
                r.kind.label(),
                yes(r.exists),
                yes(r.ours),
                yes(r.matches),
                r.name
            )?;
            if !r.matches {
                writeln!(f, "  {:<w$}{}", "", r.detail, w = width + 22)?;
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
        write!(f, "{}", self.estimate)?;
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
    crate::aws::objects::list(&ctx.clients.s3, &ctx.names.failure_bucket, &prefix, None)
        .await
        .ok()
        .map(|listed| listed.len() as u64)
}

/// Each target's flow logs as rows named `<account> <region> <resource>`, and a row per target
/// that could not be read.
pub fn target_statuses(fleet: &FleetPlan) -> Vec<ResourceStatus> {
    let mut rows = Vec::new();
    for t in &fleet.targets {
        let plan = t.plan.clone().map_ops(crate::planner::Op::from);
        rows.extend(statuses(&plan).into_iter().map(|mut row| {
            row.name = format!("{} {} {}", t.account, t.region, row.name);
            row
        }));
    }
    rows.extend(fleet.failed.iter().map(|f| ResourceStatus {
        kind: Kind::FlowLog,
        name: format!("{} {}", f.account, f.region),
        exists: false,
        ours: false,
        matches: false,
        detail: format!("not read: {} failed: {}; {}", f.action, f.error, f.fix),
    }));
    rows
}

pub async fn run(global: &Global, args: &StatusArgs) -> Result<u8> {
    let ctx = Context::load(global).await?.with_fleet().await?;
    let code = code_source(&CodeArgs::default())?;
    let desired = ctx.desired(&code)?;
    let progress = crate::ui::Progress::stderr();
    let (observed, fleet) =
        tokio::try_join!(ctx.observe(), super::fleet::plan(&ctx, &progress, false))?;
    let plan = plan_setup(&resolve(&desired, &observed));
    let mut resources = statuses(&plan);
    let mut in_sync = !plan.has_changes() && plan.conflicts.is_empty();
    if let Some(fleet) = &fleet {
        in_sync &= !fleet.plan.has_changes() && fleet.plan.ok();
        resources.extend(target_statuses(&fleet.plan));
    }
    let report = StatusReport {
        stack: ctx.names.stack.clone(),
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        in_sync,
        resources,
        failures_waiting: failures_waiting(&ctx, &desired).await,
        estimate: super::plan::cost_estimate(&ctx, &observed, args.records_per_day).await,
    };
    super::print(&report, args.output)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Kind, name: &str, matches: bool) -> ResourceStatus {
        ResourceStatus {
            kind,
            name: name.into(),
            exists: true,
            ours: true,
            matches,
            detail: "differs (code): setup will update it".into(),
        }
    }

    #[test]
    fn each_targets_flow_logs_are_rows_named_by_account_and_region() {
        use crate::fleet::run::TargetPlan;
        use crate::fleet::TargetFailure;
        let mut plan = crate::plan::Plan::default();
        plan.in_sync(Kind::FlowLog, "vpc-0a (fl-1)");
        plan.step(
            Kind::FlowLog,
            "vpc-0b",
            Action::Create,
            vec![],
            vec![crate::resources::flow_log::Op::DeleteFlowLog { id: "x".into() }],
        );
        let fleet = FleetPlan {
            total: 2,
            targets: vec![TargetPlan {
                account: "222222222222".into(),
                region: "eu-west-1".into(),
                role: None,
                plan,
            }],
            failed: vec![TargetFailure {
                account: "333333333333".into(),
                region: "eu-west-1".into(),
                role: None,
                action: "sts:AssumeRole".into(),
                error: "AccessDenied".into(),
                fix: "trust the hub".into(),
            }],
        };
        let rows = target_statuses(&fleet);
        let shown: Vec<(&str, bool)> = rows.iter().map(|r| (r.name.as_str(), r.matches)).collect();
        assert_eq!(
            shown,
            [
                ("222222222222 eu-west-1 vpc-0a (fl-1)", true),
                ("222222222222 eu-west-1 vpc-0b", false),
                ("333333333333 eu-west-1", false)
            ]
        );
        assert!(rows[2]
            .detail
            .contains("sts:AssumeRole failed: AccessDenied; trust the hub"));
    }

    #[test]
    fn the_table_stays_aligned_when_a_kind_is_longer_than_the_heading() {
        let report = StatusReport {
            stack: "s".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            in_sync: false,
            resources: vec![
                row(Kind::Bucket, "the-bucket", true),
                row(Kind::EventInvokeConfig, "flowlogs-s-forwarder", true),
                row(Kind::Function, "flowlogs-s-forwarder", false),
            ],
            failures_waiting: None,
            estimate: crate::cost::Estimate {
                volume: None,
                prices_region: "us-east-1",
                prices_dated: "2026-12-06",
                lines: vec![],
                usd_per_month: None,
                assumptions: vec![],
                hint: None,
            },
        };
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        let column = |line: &str, word: &str| line.find(word).unwrap();
        let header = lines[1];
        let names = column(header, "NAME / DETAIL");
        for line in &lines[2..5] {
            assert_eq!(column(line, "yes"), column(header, "EXISTS"), "{text}");
            assert!(
                line[names..].starts_with("the-bucket")
                    || line[names..].starts_with("flowlogs-s-forwarder"),
                "{text}"
            );
        }
        assert_eq!(column(lines[5], "differs"), names, "{text}");
    }
}
