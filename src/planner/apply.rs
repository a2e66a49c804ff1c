//! Carries out a plan as it is, in the planner's order: the storage chain (bucket, policy) beside
//! the compute chain (roles, function, permission, stream), the wiring (notification, flow log)
//! after both, with a progress line per resource. A step that fails stops its chain; the others
//! finish first. Each operation goes through an `Executor`: `Live` calls AWS through the resource
//! that owns the operation (the operation's own type says which); tests use one that records.

use std::time::Instant;

use anyhow::Result;

use super::registry::{entry, Chain, Op, Plan, Replace, Step};
use crate::plan::{Action, Kind};
use crate::resources::Apply;
use crate::ui::Progress;

/// Runs one operation of a step. The seam between the order of work and the work.
#[allow(async_fn_in_trait)] // used inside this crate only
pub trait Executor {
    async fn run(&self, kind: Kind, op: &Op) -> Result<()>;
}

/// The real thing: each operation carried out by the resource whose operation it is.
pub struct Live<'a>(pub Apply<'a>);

impl Executor for Live<'_> {
    async fn run(&self, _kind: Kind, op: &Op) -> Result<()> {
        op.apply(&self.0).await
    }
}

pub struct Applier<'a, E: Executor> {
    pub executor: E,
    pub progress: &'a Progress,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub applied: usize,
    pub errors: Vec<String>,
    /// Every step that ran, in the order it finished; a step a failure stopped is not here.
    pub ran: Vec<Ran>,
}

/// One step that ran, and its error if it failed.
#[derive(Debug, Clone)]
pub struct Ran {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    pub error: Option<String>,
}

/// A step's operations in the order they run: on a replace, the old resource is retired first,
/// unless its registry entry makes the new one first (`Replace::CreatesFirst`).
pub fn operations(step: &Step) -> Vec<&Op> {
    if entry(step.kind).replace == Replace::CreatesFirst {
        step.ops.iter().chain(&step.retire).collect()
    } else {
        step.retire.iter().chain(&step.ops).collect()
    }
}

impl<E: Executor> Applier<'_, E> {
    /// Setup order: storage and compute chains concurrently (creates and updates), then the wiring
    /// (its creates and updates, then its deletes), then the deletes of resources the config no
    /// longer wants, dependents first.
    pub async fn apply_setup(&self, plan: &Plan) -> Outcome {
        // The plan lists deletes dependents first already (`order_for_setup`): the stream
        // before its role, the function before its role.
        let pick = |of: Chain, deletes: bool| -> Vec<&Step> {
            plan.steps
                .iter()
                .filter(|s| entry(s.kind).chain == of && (s.action == Action::Delete) == deletes)
                .collect()
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
        // The wiring's deletes after its creates and updates (dependents first): a trigger the
        // config no longer wants goes only once the new one is there.
        let mut wiring = pick(Chain::Wiring, false);
        wiring.extend(pick(Chain::Wiring, true));
        outcome.merge(self.run_chain(wiring).await);
        if !outcome.errors.is_empty() {
            return outcome;
        }
        let (compute, storage) = tokio::join!(
            self.run_chain(pick(Chain::Compute, true)),
            self.run_chain(pick(Chain::Storage, true))
        );
        outcome.merge(compute);
        outcome.merge(storage);
        outcome
    }

    /// Teardown order (the plan is already in reverse creation order): the wiring first (stop new
    /// logs and triggers), then both chains concurrently. A failing step is noted and the rest
    /// still run, so one stuck resource does not leave the others.
    pub async fn apply_teardown(&self, plan: &Plan) -> Outcome {
        let of = |c: Chain| -> Vec<&Step> {
            plan.steps
                .iter()
                .filter(|s| entry(s.kind).chain == c)
                .collect()
        };
        let mut outcome = Outcome::default();
        for step in of(Chain::Wiring) {
            outcome.merge(self.run_chain(vec![step]).await);
        }
        let (compute, storage) = tokio::join!(
            self.run_each(of(Chain::Compute)),
            self.run_each(of(Chain::Storage))
        );
        outcome.merge(compute);
        outcome.merge(storage);
        outcome
    }

    /// Every step, each on its own: a failure does not stop the next one.
    async fn run_each(&self, steps: Vec<&Step>) -> Outcome {
        let mut outcome = Outcome::default();
        for step in steps {
            outcome.merge(self.run_chain(vec![step]).await);
        }
        outcome
    }

    /// The steps in order; the first failure stops the chain.
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
                    outcome.ran.push(Ran::of(step, None));
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
                    outcome.ran.push(Ran::of(step, Some(format!("{e:#}"))));
                    outcome.errors.push(message);
                    break;
                }
            }
        }
        outcome
    }

    async fn run_step(&self, step: &Step) -> Result<()> {
        for op in operations(step) {
            self.executor.run(step.kind, op).await?;
        }
        Ok(())
    }
}

impl Outcome {
    fn merge(&mut self, other: Outcome) {
        self.applied += other.applied;
        self.errors.extend(other.errors);
        self.ran.extend(other.ran);
    }
}

impl Ran {
    fn of(step: &Step, error: Option<String>) -> Ran {
        Ran {
            kind: step.kind,
            name: step.name.clone(),
            action: step.action,
            error,
        }
    }
}
