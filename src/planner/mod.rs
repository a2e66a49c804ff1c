//! The planner, above the resources: it observes the stack (reads only, independent resources
//! concurrently), asks each resource for its plan against its desired value, and orders the steps
//! by the one list of resources (`registry::REGISTRY`): its order for setup, its reverse for
//! teardown, and per resource whether a replace retires the old resource before or after making
//! the new one. Applying (`apply`) carries a plan out in that order through an `Executor`, the seam
//! tests use to record what would run.

pub mod apply;
pub mod registry;

use crate::desired::{Desired, Names};
use crate::plan::Kind;
use crate::resources::secret;
use crate::resources::Teardown;

pub use registry::{observe, position, Observed, Op, Plan, Step, REGISTRY};

/// The desired stack resolved against what exists: computed once from desired and observed, then
/// planned from (and read by the commands that show or check it).
pub struct Resolved<'a> {
    pub desired: Desired,
    pub observed: &'a Observed,
}

/// The stage between observe and plan: see `desired_for`.
pub fn resolve<'a>(desired: &Desired, observed: &'a Observed) -> Resolved<'a> {
    Resolved {
        desired: desired_for(desired, observed),
        observed,
    }
}

/// The desired stack as far as it depends on what exists: the grants the bucket's KMS key needs,
/// the secret's ARN and version in the function's environment and the stream, and the first day
/// of the Athena table's projection (the day the stack was read when it has no flow log yet).
fn desired_for(desired: &Desired, observed: &Observed) -> Desired {
    let desired =
        crate::desired::kms::with_bucket_key(desired, &observed.bucket.key(&desired.names));
    let secret_state = desired
        .secret
        .as_ref()
        .map(|d| secret::state(d, observed.secret.as_ref()));
    let mut d = crate::desired::secret::with_state(&desired, secret_state.as_ref());
    let existing = observed.glue_table.table.as_ref().and_then(|t| t.since());
    let stack_since = observed.glue_table.stack_since.unwrap_or(observed.day);
    d.athena = crate::desired::athena::with_since(&d.athena, existing, stack_since);
    let tgw_existing = observed.tgw_glue_table.as_ref().and_then(|t| t.since());
    d.athena = crate::desired::athena::with_tgw_since(d.athena, tgw_existing, stack_since);
    d
}

/// What setup would do to turn `observed` into `desired`, in the registry's order. A resource
/// whose entry `needs` another is planned only when that one's plan has no conflict.
pub fn plan_setup(resolved: &Resolved) -> Plan {
    let (desired, observed) = (&resolved.desired, resolved.observed);
    let mut plan = Plan::default();
    let mut unusable: Vec<Kind> = Vec::new();
    for entry in &REGISTRY {
        if entry.needs.is_some_and(|k| unusable.contains(&k)) {
            continue;
        }
        let part = (entry.setup)(desired, observed);
        if !part.conflicts.is_empty() {
            unusable.push(entry.kind);
        }
        plan.extend(part);
    }
    note_filter(desired, &mut plan);
    order_for_setup(&mut plan);
    note_trigger_switch(desired, &mut plan);
    plan
}

/// What `delivery.filter` drops, one note per rule, read back from the function's environment
/// (what the forwarder itself will read).
fn note_filter(desired: &Desired, plan: &mut Plan) {
    use flowlogs_forwarder::filter::Filter;
    let Some(function) = desired.forwarder.as_ref().map(|f| &f.function) else {
        return;
    };
    let json = function
        .environment
        .get(flowlogs_forwarder::env::FILTER)
        .map(|v| v.value.as_str());
    let Ok(filter) = Filter::from_json(json) else {
        return; // the config check has refused it already
    };
    for rule in &filter.rules {
        plan.note(
            Kind::Function,
            &function.name,
            format!(
                "delivery.filter drops the records with {}; they are counted as filtered, not sent",
                rule.describe()
            ),
        );
    }
}

/// What teardown would remove: everything that carries our stack tag, in the registry's reverse
/// order.
pub fn plan_teardown(names: &Names, observed: &Observed, delete_data: bool) -> Plan {
    let cx = Teardown { names, delete_data };
    let mut plan = Plan::default();
    for entry in REGISTRY.iter().rev() {
        plan.extend((entry.teardown)(cx, observed));
    }
    order_for_teardown(&mut plan);
    plan
}

/// Steps and resources in the registry's order, the deletes of what the config no longer wants
/// after every other step (dependents first), as `apply::Applier::apply_setup` runs them: a
/// resource replaced by another kind (one trigger by the other) is made before the old one goes.
/// Within a kind, in the order the resource planned them.
pub fn order_for_setup(plan: &mut Plan) {
    plan.steps.sort_by_key(|s| {
        let deleted = s.action == crate::plan::Action::Delete;
        let at = position(s.kind);
        (deleted, if deleted { usize::MAX - at } else { at })
    });
    plan.in_sync.sort_by_key(|r| position(r.kind));
}

/// On a switch between the two triggers, what the user should know: for a moment both run.
fn note_trigger_switch(desired: &Desired, plan: &mut Plan) {
    use crate::plan::Action;
    let acts = |kind: Kind, action: Action| {
        plan.steps
            .iter()
            .any(|s| s.kind == kind && s.action == action)
    };
    let to_eventbridge =
        acts(Kind::EventRule, Action::Create) && acts(Kind::Notification, Action::Delete);
    let to_notification =
        acts(Kind::Notification, Action::Create) && acts(Kind::EventRule, Action::Delete);
    if !(to_eventbridge || to_notification) {
        return;
    }
    let (new, old) = if to_eventbridge {
        ("eventbridge", "s3-notification")
    } else {
        ("s3-notification", "eventbridge")
    };
    plan.note(
        if to_eventbridge {
            Kind::EventRule
        } else {
            Kind::Notification
        },
        &desired.names.bucket,
        format!(
            "trigger {old} -> {new}: the {new} trigger is made before the {old} one is removed, so no flow-log object goes unread; an object written meanwhile may be read twice, and its records carry the same log.record.uid, so the copies are recognisable"
        ),
    );
}

/// Steps in the registry's reverse order: dependents first.
pub fn order_for_teardown(plan: &mut Plan) {
    plan.steps
        .sort_by_key(|s| std::cmp::Reverse(position(s.kind)));
}

#[cfg(test)]
mod tests;
