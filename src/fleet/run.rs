//! Each target's flow logs read, planned and applied, many targets at once (at most
//! `targets.concurrency`), with a progress line per finished target (`[done/total]`). A target
//! that fails (its role refused, its region disabled, a call denied) becomes a `TargetFailure` and
//! the others go on; a re-run picks up where it stopped. Planning is pure (`plan_target`); reads
//! and writes go through each target's own clients.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context as _, Result};
use flowlogs_aws_lite::ec2::Filter;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::clients::{Connect, TargetClients};
use super::{Target, TargetFailure};
use crate::config::{Config, VpcSelector};
use crate::desired::athena::Day;
use crate::desired::Names;
use crate::resources::flow_log::{self, ObservedFlowLog, Op};
use crate::ui::Progress;

/// One target's flow-log plan.
pub type FlowLogPlan = crate::plan::Plan<Op>;

/// What a target holds: the VPCs the selector finds there, and the flow logs there (ours carry the
/// stack's tag; others on those VPCs are noted and left alone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetObserved {
    pub vpcs: Vec<String>,
    pub flow_logs: Vec<ObservedFlowLog>,
}

/// A flow log on each VPC found (made when missing, replaced when its settings differ), and ours
/// on a VPC no longer selected deleted. A deleted VPC took its flow logs with it: nothing to do.
pub fn plan_target(names: &Names, config: &Config, observed: &TargetObserved) -> FlowLogPlan {
    let desired: Vec<_> = observed
        .vpcs
        .iter()
        .map(|vpc| crate::desired::flow_log(names, config, vpc))
        .collect();
    flow_log::plan(names, &desired, &observed.flow_logs)
}

/// The day the stack's earliest flow log of the targets (ours, by the stack tag) was made, when
/// there is one: with a fleet the stack's flow logs are the targets', and the Athena table's
/// projection starts on the first one's day (a table added to a running fleet reads its past).
pub fn first_day<'a>(
    names: &Names,
    observed: impl IntoIterator<Item = &'a TargetObserved>,
) -> Option<Day> {
    observed
        .into_iter()
        .flat_map(|o| &o.flow_logs)
        .filter(|f| names.is_ours(&f.tags))
        .filter_map(|f| f.created)
        .min()
        .map(Day::from_unix)
}

/// Every flow log of ours in the target.
pub fn plan_target_teardown(names: &Names, observed: &TargetObserved) -> FlowLogPlan {
    flow_log::plan_teardown(names, &observed.flow_logs)
}

/// One target's plan, as the plan and `--output json` show it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetPlan {
    pub account: String,
    pub region: String,
    /// The role assumed there; null in the stack's own account.
    pub role: Option<String>,
    #[serde(flatten)]
    pub plan: FlowLogPlan,
}

/// The plan of every target, grouped by account and region, and the targets that could not be read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetPlan {
    /// Targets this run covers (after `--accounts` / `--regions`).
    pub total: usize,
    /// One entry per target read, by account then region.
    pub targets: Vec<TargetPlan>,
    pub failed: Vec<TargetFailure>,
}

impl FleetPlan {
    pub fn has_changes(&self) -> bool {
        self.targets.iter().any(|t| t.plan.has_changes())
    }

    /// Every target read and none with a conflict.
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.targets.iter().all(|t| t.plan.conflicts.is_empty())
    }
}

impl fmt::Display for FleetPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut by_account: BTreeMap<&str, Vec<&TargetPlan>> = BTreeMap::new();
        for t in &self.targets {
            by_account.entry(&t.account).or_default().push(t);
        }
        let (mut create, mut replace, mut delete, mut in_sync) = (0, 0, 0, 0);
        for (account, plans) in by_account {
            let role = plans
                .first()
                .and_then(|t| t.role.as_deref())
                .map(|r| format!(" (role {r})"))
                .unwrap_or_else(|| " (the stack's own credentials)".into());
            writeln!(f, "Account {account}{role}:")?;
            for t in plans {
                in_sync += t.plan.in_sync.len();
                for s in &t.plan.steps {
                    match s.action {
                        crate::plan::Action::Create => create += 1,
                        crate::plan::Action::Delete => delete += 1,
                        _ => replace += 1,
                    }
                }
                if t.plan.steps.is_empty() && t.plan.notes.is_empty() {
                    writeln!(
                        f,
                        "  {}: no changes ({} flow log(s) match)",
                        t.region,
                        t.plan.in_sync.len()
                    )?;
                    continue;
                }
                writeln!(f, "  {}:", t.region)?;
                for line in t.plan.to_string().lines() {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        for failure in &self.failed {
            writeln!(f, "✗ {failure}")?;
        }
        write!(
            f,
            "Targets: {} read of {}, {} failed; flow logs: {create} to create, {replace} to replace, {delete} to delete, {in_sync} in sync.",
            self.targets.len(),
            self.total,
            self.failed.len()
        )
    }
}

/// One target read: its clients (kept for apply) and what it holds.
pub struct Read {
    pub clients: TargetClients,
    pub observed: TargetObserved,
}

/// How a run reaches its targets.
pub struct Fleet<'a, C: Connect> {
    pub connector: &'a C,
    pub targets: &'a [Target],
    pub concurrency: usize,
    pub progress: &'a Progress,
}

impl<C: Connect> Fleet<'_, C> {
    /// Every target connected and read, at most `concurrency` at once; `selector: None` reads only
    /// the flow logs (teardown).
    pub async fn read(
        &self,
        names: &Names,
        selector: Option<&VpcSelector>,
    ) -> (Vec<Read>, Vec<TargetFailure>) {
        let total = self.targets.len();
        let done = &AtomicUsize::new(0);
        let results: Vec<Result<Read, TargetFailure>> = stream::iter(self.targets)
            .map(|target| async move {
                let result = async {
                    let clients = self.connector.connect(target).await?;
                    let observed = read_target(&clients, names, selector).await?;
                    Ok(Read { clients, observed })
                }
                .await;
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                match &result {
                    Ok(r) => self.progress.line(&format!(
                        "[{n}/{total}] {target}: read ({} VPC(s), {} flow log(s))",
                        r.observed.vpcs.len(),
                        r.observed.flow_logs.len()
                    )),
                    Err(e) => self.progress.line(&format!("[{n}/{total}] ✗ {e}")),
                }
                result
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let mut reads = Vec::new();
        let mut failed = Vec::new();
        for r in results {
            match r {
                Ok(read) => reads.push(read),
                Err(f) => failed.push(f),
            }
        }
        reads.sort_by(|a, b| a.clients.target.cmp(&b.clients.target));
        failed.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        (reads, failed)
    }

    /// Each target's plan carried out (new flow logs before the old ones they replace go), at most
    /// `concurrency` targets at once; returns the steps applied and the targets that failed.
    pub async fn apply(&self, work: &[(&Read, &FlowLogPlan)]) -> (usize, Vec<TargetFailure>) {
        let work: Vec<_> = work.iter().filter(|(_, p)| p.has_changes()).collect();
        let total = work.len();
        let done = &AtomicUsize::new(0);
        let results: Vec<(usize, Option<TargetFailure>)> = stream::iter(work)
            .map(|(read, plan)| async move {
                let outcome = apply_target(&read.clients, plan, self.progress).await;
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                let target = &read.clients.target;
                match &outcome.1 {
                    None => self.progress.line(&format!(
                        "[{n}/{total}] {target}: {} step(s) applied",
                        outcome.0
                    )),
                    Some(e) => self.progress.line(&format!("[{n}/{total}] ✗ {e}")),
                }
                outcome
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let applied = results.iter().map(|(n, _)| n).sum();
        let mut failed: Vec<TargetFailure> = results.into_iter().filter_map(|(_, f)| f).collect();
        failed.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        (applied, failed)
    }
}

/// The VPCs the selector finds and the stack's flow logs in one target.
async fn read_target(
    target: &TargetClients,
    names: &Names,
    selector: Option<&VpcSelector>,
) -> Result<TargetObserved, TargetFailure> {
    let vpcs = match selector {
        Some(selector) => vpcs(target, selector)
            .await
            .map_err(|e| failure(target, "ec2:DescribeVpcs", &e))?,
        None => Vec::new(),
    };
    let flow_logs = flow_log::observe(&target.clients, names, &[])
        .await
        .map_err(|e| failure(target, "ec2:DescribeFlowLogs", &e))?;
    Ok(TargetObserved { vpcs, flow_logs })
}

/// The DescribeVpcs filters of a selector: one `tag:<key>` filter per tag (all must match).
pub fn vpc_filters(selector: &VpcSelector) -> Vec<Filter> {
    match selector {
        VpcSelector::AllVpcs => Vec::new(),
        VpcSelector::VpcTags(tags) => tags
            .iter()
            .map(|(k, v)| Filter::new(format!("tag:{k}"), [v]))
            .collect(),
    }
}

async fn vpcs(target: &TargetClients, selector: &VpcSelector) -> Result<Vec<String>> {
    let mut found: Vec<String> = target
        .clients
        .ec2
        .describe_vpcs(&vpc_filters(selector))
        .await
        .context("listing the VPCs (ec2:DescribeVpcs)")?
        .into_iter()
        .map(|v| v.id)
        .collect();
    found.sort();
    Ok(found)
}

/// The steps of one target in order; the first failure stops the target.
async fn apply_target(
    target: &TargetClients,
    plan: &FlowLogPlan,
    progress: &Progress,
) -> (usize, Option<TargetFailure>) {
    let mut applied = 0;
    for step in &plan.steps {
        // A flow log's replacement is made before the old one goes (no window unlogged).
        for op in step.ops.iter().chain(&step.retire) {
            let (action, result) = match op {
                Op::CreateFlowLog {
                    flow_log,
                    replacing,
                } => (
                    "ec2:CreateFlowLogs",
                    flow_log::create(&target.clients, flow_log, replacing.as_deref(), progress)
                        .await
                        .map(|id| progress.detail(&format!("{}: created {id}", target.target))),
                ),
                Op::DeleteFlowLog { id } => (
                    "ec2:DeleteFlowLogs",
                    flow_log::delete(&target.clients, id).await,
                ),
            };
            if let Err(e) = result {
                return (applied, Some(failure(target, action, &e)));
            }
        }
        applied += 1;
    }
    (applied, None)
}

/// A target's failure, with the fix its error points to.
fn failure(target: &TargetClients, action: &str, error: &anyhow::Error) -> TargetFailure {
    let text = format!("{error:#}");
    target.failure(
        action,
        &text,
        &fix_for(&text, action, target.role_arn.as_deref()),
    )
}

/// What to do about a target's failed call, from what AWS said.
pub fn fix_for(error: &str, action: &str, role: Option<&str>) -> String {
    let who = role.unwrap_or("the stack's credentials");
    if [
        "OptInRequired",
        "AuthFailure",
        "InvalidClientTokenId",
        "not enabled",
        "is disabled",
    ]
    .iter()
    .any(|s| error.contains(s))
    {
        return "enable the region in this account (Account → AWS Regions), or remove it from `targets.regions`".into();
    }
    if ["UnauthorizedOperation", "AccessDenied", "not authorized"]
        .iter()
        .any(|s| error.contains(s))
    {
        return format!(
            "allow {action} to {who} (templates/policies/ has what the member role needs: ec2:DescribeVpcs, ec2:CreateFlowLogs, ec2:DescribeFlowLogs, ec2:DeleteFlowLogs, ec2:CreateTags, logs:CreateLogDelivery, logs:DeleteLogDelivery)"
        );
    }
    if error.contains("LogDestination") {
        return "the hub bucket's policy must let this account's flow logs in (run `flowlogs setup` without --accounts, which writes it first), and the bucket must not be encrypted with the AWS-managed aws/s3 key, which refuses other accounts".into();
    }
    if error.contains("Throttl") || error.contains("RequestLimitExceeded") {
        return "AWS throttled the calls beyond the SDK's retries: lower `targets.concurrency` and run again".into();
    }
    "run again: the targets that are done stay done".into()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::Action;
    use crate::resources::flow_log::tests::observed_from;

    fn config() -> Config {
        let text = "version: 1\nstack: s\nflow_log:\n  resources: { vpc_tags: { flowlogs: \"on\" } }\ndelivery: { otlp: { endpoint: http://x } }\ntargets:\n  accounts: [\"222222222222\"]\n";
        crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap()
    }

    fn names(config: &Config) -> Names {
        Names::new(config, "111111111111", "us-east-1").unwrap()
    }

    #[test]
    fn a_new_vpc_is_one_flow_log_to_create_and_those_in_place_are_in_sync() {
        let config = config();
        let names = names(&config);
        let kept = crate::desired::flow_log(&names, &config, "vpc-0a");
        let observed = TargetObserved {
            vpcs: vec!["vpc-0a".into(), "vpc-0b".into()],
            flow_logs: vec![observed_from(&kept, "fl-a")],
        };
        let plan = plan_target(&names, &config, &observed);
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].action, Action::Create);
        assert_eq!(plan.steps[0].name, "vpc-0b");
        assert_eq!(plan.in_sync.len(), 1);
        // It delivers to the hub's bucket, whatever account it is made in.
        let Op::CreateFlowLog { flow_log, .. } = &plan.steps[0].ops[0] else {
            panic!("a create")
        };
        assert!(
            flow_log
                .destination
                .contains("s-flowlogs-111111111111-us-east-1"),
            "{}",
            flow_log.destination
        );
    }

    #[test]
    fn the_first_day_is_that_of_the_earliest_of_our_flow_logs_in_any_target() {
        let config = config();
        let names = names(&config);
        let d = crate::desired::flow_log(&names, &config, "vpc-0a");
        let made = |id: &str, secs: Option<i64>, ours: bool| {
            let mut f = observed_from(&d, id);
            f.created = secs;
            if !ours {
                f.tags.clear();
            }
            f
        };
        // 2026-12-02T12:00Z and 2026-11-30T12:00Z; someone else's from 2020 does not count.
        let a = TargetObserved {
            vpcs: vec![],
            flow_logs: vec![
                made("fl-1", Some(1_796_040_000 + 2 * 86_400), true),
                made("fl-x", Some(1_600_000_000), false),
            ],
        };
        let b = TargetObserved {
            vpcs: vec![],
            flow_logs: vec![
                made("fl-2", Some(1_796_040_000), true),
                made("fl-3", None, true),
            ],
        };
        assert_eq!(
            first_day(&names, [&a, &b]),
            Some(Day {
                year: 2026,
                month: 11,
                day: 30
            })
        );
        assert_eq!(first_day(&names, [&TargetObserved::default()]), None);
    }

    #[test]
    fn a_vpc_no_longer_selected_loses_our_flow_log_and_a_deleted_one_shows_nothing() {
        let config = config();
        let names = names(&config);
        let untagged = crate::desired::flow_log(&names, &config, "vpc-0a");
        let observed = TargetObserved {
            vpcs: vec![],
            flow_logs: vec![observed_from(&untagged, "fl-a")],
        };
        let plan = plan_target(&names, &config, &observed);
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.steps[0].action, Action::Delete);
        // A deleted VPC took its flow logs with it: nothing there, nothing to do.
        let plan = plan_target(&names, &config, &TargetObserved::default());
        assert!(!plan.has_changes() && plan.notes.is_empty());
    }

    #[test]
    fn teardown_plans_every_flow_log_of_ours_in_the_target() {
        let config = config();
        let names = names(&config);
        let ours = crate::desired::flow_log(&names, &config, "vpc-0a");
        let mut foreign = observed_from(&ours, "fl-x");
        foreign.tags.clear();
        let observed = TargetObserved {
            vpcs: vec![],
            flow_logs: vec![observed_from(&ours, "fl-a"), foreign],
        };
        let plan = plan_target_teardown(&names, &observed);
        assert_eq!(plan.steps.len(), 1);
        assert!(plan.steps[0].name.contains("fl-a"));
    }

    #[test]
    fn the_fleet_plan_is_grouped_by_account_then_region_with_failures_and_totals() {
        let config = config();
        let names = names(&config);
        let new_vpc = TargetObserved {
            vpcs: vec!["vpc-0b".into()],
            flow_logs: vec![],
        };
        let target = |account: &str, region: &str| TargetPlan {
            account: account.into(),
            region: region.into(),
            role: Some(format!("arn:aws:iam::{account}:role/R")),
            plan: plan_target(&names, &config, &new_vpc),
        };
        let plan = FleetPlan {
            total: 4,
            targets: vec![
                target("222222222222", "eu-west-1"),
                target("222222222222", "us-east-1"),
                TargetPlan {
                    plan: FlowLogPlan::default(),
                    ..target("333333333333", "us-east-1")
                },
            ],
            failed: vec![TargetFailure {
                account: "444444444444".into(),
                region: "us-east-1".into(),
                role: Some("arn:aws:iam::444444444444:role/R".into()),
                action: "sts:AssumeRole".into(),
                error: "AccessDenied".into(),
                fix: "let the caller assume it".into(),
            }],
        };
        let text = plan.to_string();
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in:\n{text}"));
        assert!(
            at("Account 222222222222 (role arn:aws:iam::222222222222:role/R):")
                < at("  eu-west-1:")
        );
        assert!(at("  eu-west-1:") < at("  us-east-1:"));
        assert!(at("+ flow log vpc-0b") > at("Account 222222222222"));
        assert!(
            text.contains("  us-east-1: no changes (0 flow log(s) match)"),
            "{text}"
        );
        assert!(text.contains("✗ account 444444444444 us-east-1 (role arn:aws:iam::444444444444:role/R): sts:AssumeRole failed: AccessDenied; let the caller assume it"), "{text}");
        assert!(text.ends_with("Targets: 3 read of 4, 1 failed; flow logs: 2 to create, 0 to replace, 0 to delete, 0 in sync."), "{text}");
        assert!(plan.has_changes() && !plan.ok());
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["targets"][0]["account"], "222222222222");
        assert_eq!(json["targets"][0]["steps"][0]["action"], "create");
        assert_eq!(json["failed"][0]["action"], "sts:AssumeRole");
    }

    #[test]
    fn tag_selectors_become_one_filter_per_tag() {
        let filters = vpc_filters(&VpcSelector::VpcTags(
            [
                ("env".into(), "prod".into()),
                ("flowlogs".into(), "on".into()),
            ]
            .into(),
        ));
        let names: Vec<_> = filters.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["tag:env", "tag:flowlogs"]);
        assert!(vpc_filters(&VpcSelector::AllVpcs).is_empty());
    }

    #[test]
    fn fixes_follow_what_aws_said() {
        assert!(
            fix_for("OptInRequired: ...", "ec2:DescribeVpcs", None).contains("enable the region")
        );
        let f = fix_for("UnauthorizedOperation", "ec2:CreateFlowLogs", Some("arn:r"));
        assert!(
            f.contains("allow ec2:CreateFlowLogs to arn:r") && f.contains("templates/policies/"),
            "{f}"
        );
        assert!(fix_for("RequestLimitExceeded", "x", None).contains("concurrency"));
        assert!(fix_for(
            "Access Denied for LogDestination: b",
            "ec2:CreateFlowLogs",
            None
        )
        .contains("hub bucket's policy"));
    }
}
