//! `flowlogs plan`: what setup would change, for people and for CI (`--detailed-exitcode`, `--output json`).

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::cli::{Global, PlanArgs};
use crate::context::{code_source, Context};
use crate::desired::Desired;
use crate::plan::Plan;
use crate::planner::plan_setup;

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
        write!(f, "{}", self.plan)
    }
}

impl super::Outcome for PlanReport {
    const COMMAND: &'static str = "plan";
    fn stack(&self) -> &str {
        &self.stack
    }
    /// The plan can be applied: no conflict.
    fn ok(&self) -> bool {
        self.plan.conflicts.is_empty()
    }
}

pub async fn report(ctx: &Context, desired: &Desired) -> Result<PlanReport> {
    let observed = ctx.observe().await?;
    let plan = plan_setup(desired, &observed);
    Ok(PlanReport {
        stack: ctx.names.stack.clone(),
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        changes: plan.has_changes(),
        plan,
        documents: Documents::of(&crate::planner::desired_for(desired, &observed)),
    })
}

/// Exit code: 0 no change (or changes without --detailed-exitcode), 2 changes with it, 1 conflicts.
pub async fn run(global: &Global, args: &PlanArgs) -> Result<u8> {
    let ctx = Context::load(global).await?;
    let code = code_source(&args.code)?;
    let desired = ctx.desired(&code)?;
    let report = report(&ctx, &desired).await?;
    super::print(&report, args.output)?;
    if !report.plan.conflicts.is_empty() {
        return Ok(1);
    }
    Ok(if args.detailed_exitcode && report.changes {
        2
    } else {
        0
    })
}
