//! The failure bucket: the stack's own S3 bucket where Lambda keeps the forwarder's failed events
//! (its on-failure destination), apart from the flow logs. Lambda checks, when the destination is
//! written, that the function's role may write the bucket; granting PutObject on every key of a
//! bucket of its own passes that check however strict it is, and leaves the role no write on the
//! log bucket, whose objects are audit data. Made and hardened as the log bucket is (the same
//! code: `bucket::create_hardened`, `bucket::restore_hardening`), with the TLS-only deny as its
//! whole policy; never adopted. Teardown deletes it with its records: they are flowlogs' own, and
//! nothing can replay them once the function is gone.

use anyhow::Result;
use serde_json::Value;

use serde::Serialize;

use super::bucket::{self, ObservedBucket};
use super::{bucket_policy, Apply, Observe, Resource, Teardown};
use crate::desired::{Desired, DesiredFailureBucket, Names, TAG_STACK};
use crate::plan::{Action, Change, Kind};
use crate::policy;

/// The failure bucket's writes are the log bucket's and its policy's (the same calls).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Op {
    Bucket(bucket::Op),
    Policy(bucket_policy::Op),
}

impl From<bucket::Op> for Op {
    fn from(op: bucket::Op) -> Op {
        Op::Bucket(op)
    }
}

impl From<bucket_policy::Op> for Op {
    fn from(op: bucket_policy::Op) -> Op {
        Op::Policy(op)
    }
}

type Plan = crate::plan::Plan<Op>;

pub struct FailureBucket;

/// The bucket and, when it is there, its policy.
#[derive(Debug, Clone, Default)]
pub struct ObservedFailureBucket {
    pub bucket: ObservedBucket,
    pub policy: Option<Value>,
}

impl Resource for FailureBucket {
    const KIND: Kind = Kind::FailureBucket;
    type Desired = DesiredFailureBucket;
    type Observed = ObservedFailureBucket;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredFailureBucket> {
        stack.failure_bucket.as_ref()
    }

    async fn observe(cx: &Observe<'_>) -> Result<ObservedFailureBucket> {
        let name = &cx.names.failure_bucket;
        let bucket = bucket::observe(cx.clients, name).await?;
        let policy = match bucket {
            ObservedBucket::Present(_) => bucket_policy::observe(cx.clients, name).await?,
            _ => None,
        };
        Ok(ObservedFailureBucket { bucket, policy })
    }

    fn plan(
        names: &Names,
        desired: &DesiredFailureBucket,
        observed: &ObservedFailureBucket,
    ) -> Plan {
        plan(names, desired, observed)
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &ObservedFailureBucket) -> Plan {
        plan_teardown(cx.names, observed)
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::Bucket(op) => bucket::Bucket::apply(cx, op).await,
            Op::Policy(op) => bucket_policy::BucketPolicy::apply(cx, op).await,
        }
    }
}

const NAME_FROM_STACK: &str =
    "the failure bucket's name is derived from `stack`, the account and the region: choose another `stack`";

/// Missing: made hardened, its policy with it. Ours: its hardening and policy restored where they
/// drifted. A same-named bucket that is not ours is a conflict: flowlogs never adopts this one.
pub fn plan(names: &Names, d: &DesiredFailureBucket, observed: &ObservedFailureBucket) -> Plan {
    let mut plan = Plan::default();
    let name = &d.name;
    let kind = Kind::FailureBucket;
    let policy_op = |remove_sids: Vec<String>| {
        Op::Policy(bucket_policy::Op::MergeBucketPolicy {
            bucket: name.clone(),
            statements: d.policy_statements.clone(),
            remove_sids,
        })
    };
    let state = match &observed.bucket {
        ObservedBucket::Missing => {
            let (mut changes, ops) =
                bucket::create_hardened(name, &names.region, &d.tags, d.retention_days);
            let mut ops: Vec<Op> = ops.into_iter().map(Op::Bucket).collect();
            changes.push(Change::new("policy", "", "TLS only"));
            ops.push(policy_op(Vec::new()));
            plan.step(kind, name, Action::Create, changes, ops);
            return plan;
        }
        ObservedBucket::NotAccessible => {
            plan.conflict(
                kind,
                name,
                "the bucket exists but these credentials cannot use it (S3 bucket names are global)",
                format!("if it is yours, delete it; otherwise {NAME_FROM_STACK}"),
            );
            return plan;
        }
        ObservedBucket::OtherRegion(elsewhere) => {
            plan.conflict(
                kind,
                name,
                format!(
                    "the bucket exists in {elsewhere}, the stack is in {}",
                    names.region
                ),
                format!("delete it, or {NAME_FROM_STACK}"),
            );
            return plan;
        }
        ObservedBucket::Present(state) => state,
    };
    if !names.is_ours(&state.tags) {
        plan.conflict(
            kind,
            name,
            format!(
                "the bucket exists and is not tagged {TAG_STACK}={}; flowlogs keeps the forwarder's failed events in a bucket of its own and never adopts one",
                names.stack
            ),
            format!("delete or empty and tag it, or {NAME_FROM_STACK}"),
        );
        return plan;
    }
    let (mut changes, ops) = bucket::restore_hardening(name, &d.tags, d.retention_days, state);
    let mut ops: Vec<Op> = ops.into_iter().map(Op::Bucket).collect();
    let differing = policy::differing_statements(observed.policy.as_ref(), &d.policy_statements);
    if !differing.is_empty() {
        changes.push(Change::new(
            "policy",
            if observed.policy.is_some() {
                "without the TLS-only deny"
            } else {
                "none"
            },
            "TLS only",
        ));
        ops.push(policy_op(Vec::new()));
    }
    if ops.is_empty() {
        plan.in_sync(kind, name);
    } else {
        plan.step(kind, name, Action::Update, changes, ops);
    }
    plan
}

/// Ours: deleted with its records (the plan says so). Not ours: never touched.
pub fn plan_teardown(names: &Names, observed: &ObservedFailureBucket) -> Plan {
    let mut plan = Plan::default();
    let Some(state) = observed.bucket.state() else {
        return plan;
    };
    let name = &names.failure_bucket;
    if names.is_ours(&state.tags) {
        plan.step(
            Kind::FailureBucket,
            name,
            Action::Delete,
            vec![Change::new(
                "failed-event records",
                "kept",
                "deleted with the bucket (send them first: `flowlogs replay`)",
            )],
            vec![Op::Bucket(bucket::Op::DeleteBucket {
                bucket: name.clone(),
            })],
        );
    } else {
        plan.note(
            Kind::FailureBucket,
            name,
            "not created by flowlogs: never deleted",
        );
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::bucket::{tests::hardened, BucketState};

    fn desired() -> Desired {
        crate::resources::bucket::tests::desired("retention_days: 30")
    }

    fn ours(d: &Desired) -> ObservedFailureBucket {
        let fb = d.failure_bucket.as_ref().unwrap();
        ObservedFailureBucket {
            bucket: ObservedBucket::Present(hardened(d)),
            policy: Some(serde_json::json!({
                "Version": "2012-10-17",
                "Statement": fb.policy_statements,
            })),
        }
    }

    fn op_names(plan: &Plan) -> Vec<&'static str> {
        plan.steps
            .iter()
            .flat_map(|s| &s.ops)
            .map(|op| match op {
                Op::Bucket(bucket::Op::CreateBucket { .. }) => "create",
                Op::Bucket(bucket::Op::TagBucket { .. }) => "tag",
                Op::Bucket(bucket::Op::BlockPublicAccess { .. }) => "public-access",
                Op::Bucket(bucket::Op::EncryptBucket { .. }) => "encrypt",
                Op::Bucket(bucket::Op::SetLifecycle {
                    expire_days: 30, ..
                }) => "lifecycle-30",
                Op::Policy(_) => "policy",
                Op::Bucket(bucket::Op::DeleteBucket { .. }) => "delete",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn a_missing_failure_bucket_is_made_hardened_as_the_log_bucket_with_a_tls_only_policy() {
        let d = desired();
        let fb = d.failure_bucket.as_ref().unwrap();
        assert_eq!(fb.name, "s-failures-123456789012-us-east-1");
        let plan = plan(&d.names, fb, &ObservedFailureBucket::default());
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(
            (plan.steps[0].kind, plan.steps[0].action),
            (Kind::FailureBucket, Action::Create)
        );
        assert_eq!(
            op_names(&plan),
            [
                "create",
                "tag",
                "public-access",
                "encrypt",
                "lifecycle-30",
                "policy"
            ]
        );
        let Op::Policy(bucket_policy::Op::MergeBucketPolicy { statements, .. }) =
            &plan.steps[0].ops[5]
        else {
            unreachable!()
        };
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Effect"], "Deny");
        assert_eq!(
            statements[0]["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert_eq!(
            statements[0]["Resource"][1],
            "arn:aws:s3:::s-failures-123456789012-us-east-1/*"
        );
    }

    #[test]
    fn ours_as_wanted_is_in_sync_and_drift_is_restored() {
        let d = desired();
        let fb = d.failure_bucket.as_ref().unwrap();
        let same = plan(&d.names, fb, &ours(&d));
        assert!(same.steps.is_empty() && same.conflicts.is_empty(), "{same}");
        assert_eq!(same.in_sync[0].kind, Kind::FailureBucket);

        let mut drifted = ours(&d);
        drifted.policy = None;
        if let ObservedBucket::Present(s) = &mut drifted.bucket {
            s.encryption = None;
        }
        let fix = plan(&d.names, fb, &drifted);
        assert_eq!(fix.steps[0].action, Action::Update);
        assert_eq!(op_names(&fix), ["encrypt", "policy"]);
    }

    #[test]
    fn a_same_named_bucket_not_ours_is_a_conflict_never_adopted() {
        let d = desired();
        let fb = d.failure_bucket.as_ref().unwrap();
        let theirs = ObservedFailureBucket {
            bucket: ObservedBucket::Present(BucketState::default()),
            policy: None,
        };
        let conflict = plan(&d.names, fb, &theirs);
        assert!(conflict.steps.is_empty());
        assert!(conflict.conflicts[0].problem.contains("never adopts"));
        assert!(conflict.conflicts[0].fix.contains("`stack`"));
        let hidden = ObservedFailureBucket {
            bucket: ObservedBucket::NotAccessible,
            policy: None,
        };
        assert!(plan(&d.names, fb, &hidden).conflicts[0]
            .problem
            .contains("cannot use it"));
        // ... and teardown leaves it alone.
        let torn = plan_teardown(&d.names, &theirs);
        assert!(torn.steps.is_empty());
        assert!(torn.notes[0].note.contains("never deleted"));
    }

    #[test]
    fn teardown_deletes_ours_with_its_records_and_says_so() {
        let d = desired();
        let torn = plan_teardown(&d.names, &ours(&d));
        assert_eq!(op_names(&torn), ["delete"]);
        assert_eq!(torn.steps[0].changes[0].field, "failed-event records");
        assert!(torn.steps[0].changes[0].to.contains("flowlogs replay"));
        assert!(plan_teardown(&d.names, &ObservedFailureBucket::default())
            .steps
            .is_empty());
    }
}
