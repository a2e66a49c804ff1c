//! Carries out a plan as it is: steps in dependency order, the storage chain (bucket, policy) beside
//! the compute chain (role, function, permission), the wiring (notification, flow log) after both,
//! with a progress line per resource. A step that fails stops its chain; the others finish first.

use std::time::Instant;

use anyhow::Result;

use crate::aws::Clients;
use crate::package::CodeSource;
use crate::plan::{Action, Chain, Op, Plan, Step};
use crate::resources::{bucket, flow_log, function, notification, role, stream};
use crate::ui::Progress;

pub struct Applier<'a> {
    pub clients: &'a Clients,
    pub code: &'a CodeSource,
    pub progress: &'a Progress,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub applied: usize,
    pub errors: Vec<String>,
}

impl Applier<'_> {
    /// Setup order: storage and compute chains concurrently (creates and updates), then the wiring,
    /// then the deletes of resources the config no longer wants.
    pub async fn apply_setup(&self, plan: &Plan) -> Outcome {
        let pick = |chain: Chain, deletes: bool| -> Vec<&Step> {
            let mut steps: Vec<&Step> = plan
                .steps
                .iter()
                .filter(|s| s.kind.chain() == chain && (s.action == Action::Delete) == deletes)
                .collect();
            if deletes {
                // Dependents first: the stream before its role, the function before its role.
                steps.reverse();
            }
            steps
        };
        let mut outcome = Outcome::default();
        let (storage, compute) = tokio::join!(
            self.run_chain(pick(Chain::Storage, false)),
            self.run_chain(pick(Chain::Compute, false))
        );
        outcome.merge(storage);
        outcome.merge(compute);
        if !outcome.errors.is_empty() {
            return outcome;
        }
        let wiring: Vec<&Step> = plan
            .steps
            .iter()
            .filter(|s| s.kind.chain() == Chain::Wiring)
            .collect();
        outcome.merge(self.run_chain(wiring).await);
        if !outcome.errors.is_empty() {
            return outcome;
        }
        let (storage, compute) = tokio::join!(
            self.run_chain(pick(Chain::Compute, true)),
            self.run_chain(pick(Chain::Storage, true))
        );
        outcome.merge(storage);
        outcome.merge(compute);
        outcome
    }

    /// Teardown order: the wiring first (stop new logs and triggers), then both chains concurrently.
    /// A failing step is noted and the rest still run, so one stuck resource does not leave the others.
    pub async fn apply_teardown(&self, plan: &Plan) -> Outcome {
        let of = |chain: Chain| -> Vec<&Step> {
            plan.steps
                .iter()
                .filter(|s| s.kind.chain() == chain)
                .collect()
        };
        let mut outcome = Outcome::default();
        for step in of(Chain::Wiring) {
            outcome.merge(self.run_chain(vec![step]).await);
        }
        let (compute, storage) = tokio::join!(
            async {
                let mut o = Outcome::default();
                for step in of(Chain::Compute) {
                    o.merge(self.run_chain(vec![step]).await);
                }
                o
            },
            async {
                let mut o = Outcome::default();
                for step in of(Chain::Storage) {
                    o.merge(self.run_chain(vec![step]).await);
                }
                o
            }
        );
        outcome.merge(compute);
        outcome.merge(storage);
        outcome
    }

    async fn run_chain(&self, steps: Vec<&Step>) -> Outcome {
        let mut outcome = Outcome::default();
        for step in steps {
            let started = Instant::now();
            self.progress.line(&format!(
                "{:>3} {} {} ...",
                step.action.symbol(),
                step.kind.label(),
                step.name
            ));
            match self.run_step(step).await {
                Ok(()) => {
                    outcome.applied += 1;
                    self.progress.line(&format!(
                        "  ✓ {} {}: {} ({:.1}s)",
                        step.kind.label(),
                        step.name,
                        step.action.past(),
                        started.elapsed().as_secs_f64()
                    ));
                }
                Err(e) => {
                    let message = format!("{} {}: {:#}", step.kind.label(), step.name, e);
                    self.progress.line(&format!("  ✗ {message}"));
                    outcome.errors.push(message);
                    break;
                }
            }
        }
        outcome
    }

    async fn run_step(&self, step: &Step) -> Result<()> {
        for op in &step.ops {
            self.run_op(op).await?;
        }
        Ok(())
    }

    async fn run_op(&self, op: &Op) -> Result<()> {
        let c = self.clients;
        let p = self.progress;
        match op {
            Op::CreateBucket { bucket: b, region } => bucket::create(c, b, region).await,
            Op::TagBucket { bucket: b, tags } => bucket::tag(c, b, tags).await,
            Op::BlockPublicAccess { bucket: b } => bucket::block_public_access(c, b).await,
            Op::EncryptBucket { bucket: b } => bucket::encrypt(c, b).await,
            Op::SetLifecycle {
                bucket: b,
                expire_days,
            } => bucket::set_lifecycle(c, b, *expire_days).await,
            Op::MergeBucketPolicy {
                bucket: b,
                statements,
                remove_sids,
            } => bucket::merge_policy(c, b, statements, remove_sids).await,
            Op::DeleteBucket { bucket: b } => bucket::delete_with_objects(c, b, p).await,
            Op::CreateFlowLog { flow_log: f } => {
                let id = flow_log::create(c, f).await?;
                p.detail(&format!("created {id}"));
                Ok(())
            }
            Op::ReplaceFlowLog {
                old_id,
                flow_log: f,
            } => {
                let id = flow_log::replace(c, old_id, f, p).await?;
                p.detail(&format!("created {id}, deleted {old_id}"));
                Ok(())
            }
            Op::DeleteFlowLog { id } => flow_log::delete(c, id).await,
            Op::CreateRole { role: r } => role::create(c, r).await,
            Op::UpdateTrust { role: r, trust } => role::update_trust(c, r, trust).await,
            Op::PutRolePolicy {
                role: r,
                policy_name,
                policy,
            } => role::put_policy(c, r, policy_name, policy).await,
            Op::TagRole { role: r, tags } => role::tag(c, r, tags).await,
            Op::DeleteRole { role: r } => role::delete(c, r).await,
            Op::CreateFunction { function: f } => function::create(c, f, self.code, p).await,
            Op::UpdateFunctionCode { function: f } => {
                function::update_code(c, f, self.code, p).await
            }
            Op::UpdateFunctionConfiguration { function: f } => {
                function::update_configuration(c, f, p).await
            }
            Op::TagFunction { arn, tags } => function::tag(c, arn, tags).await,
            Op::DeleteFunction { function: f } => function::delete(c, f).await,
            Op::AddPermission { permission } => function::add_permission(c, permission, p).await,
            Op::RemovePermission {
                function: f,
                statement_id,
            } => function::remove_permission(c, f, statement_id).await,
            Op::PutNotification { notification: n } => {
                notification::write(c, &n.bucket, &n.id, Some(n)).await
            }
            Op::RemoveNotification { bucket: b, id } => notification::write(c, b, id, None).await,
            Op::CreateStream { stream: s, tags } => stream::create(c, s, tags, p).await,
            Op::UpdateStream {
                stream: s,
                version_id,
                destination_id,
            } => stream::update(c, s, version_id, destination_id, p).await,
            Op::TagStream { name, tags } => stream::tag(c, name, tags).await,
            Op::CreateStreamLogGroup { stream: s } => stream::ensure_log_group(c, s).await,
            Op::DeleteStream { name, log_group } => {
                stream::delete(c, name, log_group.as_deref(), p).await
            }
            Op::DeleteStreamLogGroup { log_group } => stream::delete_log_group(c, log_group).await,
        }
    }
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.applied += other.applied;
        self.errors.extend(other.errors);
    }
}
