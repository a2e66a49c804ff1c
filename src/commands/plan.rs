//! `flowlogs plan`: what setup would change, for people and for CI (`--detailed-exitcode`, `--output json`).

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::cli::{Global, PlanArgs};
use crate::config::{Architecture, ContentEncoding, Delivery, FileFormat};
use crate::context::{code_source, Context};
use crate::cost::{self, volume, Estimate};
use crate::desired::Desired;
use crate::fleet::run::FleetPlan;
use crate::planner::Plan;
use crate::planner::{plan_setup, resolve, Observed};
use crate::resources::bucket::ObservedBucket;
use crate::ui::Progress;

use super::fleet::{self, FleetRun};

#[derive(Debug, Serialize)]
pub struct PlanReport {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub changes: bool,
    #[serde(flatten)]
    pub plan: Plan,
    /// Every policy document flowlogs would write, rendered in full.
    pub documents: Documents,
    /// What the stack costs a month, from the bucket's objects of the last 7 days or
    /// `--records-per-day` (`flowlogs plan` always gives it; setup's plan leaves it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
    /// With `targets:` (or a VPC selector): the flow logs of every target, by account and region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<FleetPlan>,
}

#[derive(Debug, Serialize, Default)]
pub struct Documents {
    /// Identity policies (inline role policies), by role.
    pub identity_policies: BTreeMap<String, Value>,
    /// Trust policies, by role.
    pub trust_policies: BTreeMap<String, Value>,
    /// Our statements of the bucket policy, merged by Sid into what the bucket has.
    pub bucket_policy_statements: Vec<Value>,
    /// The Athena table as `CREATE EXTERNAL TABLE` SQL, to make it elsewhere; null without `athena:`.
    pub athena_table_ddl: Option<String>,
}

impl Documents {
    pub fn of(desired: &Desired) -> Documents {
        let mut docs = Documents {
            bucket_policy_statements: desired.bucket.policy_statements.clone(),
            athena_table_ddl: desired.athena.as_ref().map(|a| a.table.ddl()),
            ..Documents::default()
        };
        let roles = desired
            .forwarder
            .iter()
            .map(|f| &f.role)
            .chain(desired.firehose.iter().map(|f| &f.role));
        for role in roles {
            docs.identity_policies
                .insert(role.name.clone(), role.policy.clone());
            docs.trust_policies
                .insert(role.name.clone(), role.trust.clone());
        }
        docs
    }
}

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Stack {} in account {}, {}:",
            self.stack, self.account, self.region
        )?;
        write!(f, "{}", self.plan)?;
        if let Some(targets) = &self.targets {
            write!(f, "\nFlow logs in the targets:\n{targets}")?;
        }
        if let Some(estimate) = &self.estimate {
            write!(f, "\n{}", estimate.to_string().trim_end())?;
        }
        Ok(())
    }
}

impl super::Outcome for PlanReport {
    const COMMAND: &'static str = "plan";
    fn stack(&self) -> &str {
        &self.stack
    }
    /// The plan can be applied: no conflict, and every target was read.
    fn ok(&self) -> bool {
        self.plan.conflicts.is_empty() && self.targets.as_ref().is_none_or(FleetPlan::ok)
    }
}

/// The hub's plan and, with a fleet, every target's (read concurrently with the hub).
pub async fn report<'a>(
    ctx: &'a Context,
    desired: &Desired,
    progress: &Progress,
) -> Result<(PlanReport, Option<FleetRun<'a>>)> {
    let (mut observed, fleet) = tokio::try_join!(ctx.observe(), fleet::plan(ctx, progress, false))?;
    if let Some(run) = &fleet {
        let fleet_since =
            crate::fleet::run::first_day(&ctx.names, run.reads.iter().map(|r| &r.observed));
        let since = &mut observed.glue_table.stack_since;
        *since = [*since, fleet_since].into_iter().flatten().min();
    }
    let mut report = report_from(ctx, desired, &observed);
    with_fleet(&mut report, fleet.as_ref());
    Ok((report, fleet))
}

/// The fleet's plan in the report.
fn with_fleet(report: &mut PlanReport, fleet: Option<&FleetRun<'_>>) {
    if let Some(fleet) = fleet {
        report.changes |= fleet.plan.has_changes();
        report.targets = Some(fleet.plan.clone());
    }
}

/// The plan against what was observed, without the cost estimate.
fn report_from(ctx: &Context, desired: &Desired, observed: &Observed) -> PlanReport {
    let resolved = resolve(desired, observed);
    let plan = plan_setup(&resolved);
    PlanReport {
        stack: ctx.names.stack.clone(),
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        changes: plan.has_changes(),
        plan,
        documents: Documents::of(&resolved.desired),
        estimate: None,
        targets: None,
    }
}

/// The cost estimate of the stack: the volume from the bucket's flow-log objects of the last 7
/// days when there are any (the bucket is listed only when it exists), else from
/// `--records-per-day`; without either, the estimate says how to get one.
pub async fn cost_estimate(
    ctx: &Context,
    observed: &Observed,
    records_per_day: Option<u64>,
) -> Estimate {
    let config = &ctx.config;
    let parquet = config.flow_log.file_format == FileFormat::Parquet;
    let layout = cost::observe::layout(config, &ctx.names);
    let place = format!("s3://{}/{}", ctx.names.bucket, layout.log_key_prefix);
    let mut notes = Vec::new();
    let listing = match &observed.bucket {
        ObservedBucket::Present(_) => {
            let now = time::OffsetDateTime::now_utc();
            match cost::observe::listing(&ctx.clients, &ctx.names.bucket, &layout, now).await {
                Ok(listing) => Some(listing),
                Err(e) => {
                    notes.push(format!("could not list {place}: {e:#}"));
                    None
                }
            }
        }
        ObservedBucket::Missing => {
            notes.push(format!(
                "the bucket {} does not exist yet",
                ctx.names.bucket
            ));
            None
        }
        ObservedBucket::NotAccessible | ObservedBucket::OtherRegion(_) => {
            notes.push(format!(
                "the bucket {} is not readable here (another owner or region): not listed",
                ctx.names.bucket
            ));
            None
        }
    };
    let from_bucket = listing
        .as_ref()
        .and_then(|l| volume::from_listing(l, parquet));
    if listing.is_some() && from_bucket.is_none() {
        notes.push(format!(
            "no flow-log objects of the last 7 days under {place}"
        ));
    }
    let volume = match (from_bucket, records_per_day) {
        (Some(v), Some(_)) => {
            notes.push(
                "--records-per-day not used: the bucket has objects of the last 7 days".into(),
            );
            Some(v)
        }
        (Some(v), None) => Some(v),
        (None, Some(n)) => Some(volume::from_flag(
            n,
            config.flow_log.resource_ids.len(),
            parquet,
        )),
        (None, None) => None,
    };
    let mode = match &config.delivery {
        Delivery::Lambda { lambda, .. } => cost::Mode::Lambda {
            memory_mb: lambda.memory_mb,
            arm64: lambda.architecture == Architecture::Arm64,
        },
        Delivery::Firehose { firehose } => cost::Mode::Firehose {
            gzip: firehose.content_encoding == ContentEncoding::Gzip,
        },
    };
    let settings = cost::Settings {
        region: ctx.region.clone(),
        mode,
        retention_days: config.bucket.retention_days,
    };
    cost::estimate(&settings, volume, notes)
}

/// Exit code: 0 no change (or changes without --detailed-exitcode), 2 changes with it, 1 conflicts.
pub async fn run(global: &Global, args: &PlanArgs) -> Result<u8> {
    let ctx = Context::load(global).await?.with_fleet().await?;
    let code = code_source(&args.code)?;
    let desired = ctx.desired(&code)?;
    let progress = Progress::stderr();
    let (observed, fleet) = tokio::try_join!(ctx.observe(), fleet::plan(&ctx, &progress, false))?;
    let mut report = report_from(&ctx, &desired, &observed);
    with_fleet(&mut report, fleet.as_ref());
    report.estimate = Some(cost_estimate(&ctx, &observed, args.records_per_day).await);
    super::print(&report, args.output)?;
    if !super::Outcome::ok(&report) {
        return Ok(1);
    }
    Ok(if args.detailed_exitcode && report.changes {
        2
    } else {
        0
    })
}
