//! The planner, above the resources: it observes the stack (reads only, independent resources
//! concurrently), asks each resource for its plan against its desired value, and orders the steps
//! by a declared order: `CREATE_ORDER` for setup, its reverse for teardown, and per kind whether a
//! replace retires the old resource before or after making the new one (`REPLACE_CREATES_FIRST`).
//! Applying (`apply`) carries a plan out in that order through an `Executor`, the seam tests use to
//! record what would run.

pub mod apply;

use anyhow::Result;

use crate::aws::Clients;
use crate::desired::{Desired, Names};
use crate::plan::{Kind, Plan};
use crate::resources::bucket::{self, Bucket, ObservedBucket};
use crate::resources::bucket_policy::BucketPolicy;
use crate::resources::event_invoke_config::{EventInvokeConfig, ObservedEventInvoke};
use crate::resources::failure_bucket::{FailureBucket, ObservedFailureBucket};
use crate::resources::flow_log::{FlowLog, ObservedFlowLog};
use crate::resources::function::{Function, ObservedFunction};
use crate::resources::function_log_group::{FunctionLogGroup, ObservedFunctionLogGroup};
use crate::resources::glue_database::{GlueDatabase, ObservedGlueDatabase};
use crate::resources::glue_table::{GlueTable, ObservedGlueTable};
use crate::resources::named_queries::{NamedQueries, ObservedNamedQuery};
use crate::resources::notification::{Notification, NotificationEntry};
use crate::resources::permission::Permission;
use crate::resources::role::{FirehoseRole, ForwarderRole, ObservedRole};
use crate::resources::secret::{self, ObservedSecret, Secret};
use crate::resources::stream::{ObservedStream, Stream};
use crate::resources::stream_log_group::{ObservedLogGroup, StreamLogGroup};
use crate::resources::{Observe, Resource, Teardown};

/// The order resources are made in: each after what it depends on. The bucket policy before the
/// flow log (CreateFlowLogs would write one of its own); the role and the function's log group
/// before the function (Lambda writes to the group from the first invocation on), the function
/// before its permission, the permission before the notification (S3 validates the target); the
/// stream's role and log group before the stream, the stream before the flow log delivering to it.
///
/// The function's asynchronous-invocation settings come with the wiring, before the notification:
/// Lambda checks that the failure bucket (storage chain) and the role's permission on it (compute
/// chain) are there, and failed events are kept from the first event on.
/// The Athena database before its table; the named queries last.
/// The secret first of the compute chain: the function and the stream name it.
pub const CREATE_ORDER: [Kind; 17] = [
    Kind::Bucket,
    Kind::BucketPolicy,
    Kind::FailureBucket,
    Kind::Secret,
    Kind::Role,
    Kind::FunctionLogGroup,
    Kind::Function,
    Kind::Permission,
    Kind::FirehoseRole,
    Kind::StreamLogGroup,
    Kind::DeliveryStream,
    Kind::EventInvokeConfig,
    Kind::Notification,
    Kind::FlowLog,
    Kind::GlueDatabase,
    Kind::GlueTable,
    Kind::NamedQuery,
];

/// Kinds whose replace makes the new resource before retiring the old one. A flow log: so no window
/// goes unlogged. Every other kind keeps its name, so the old one has to go first.
pub const REPLACE_CREATES_FIRST: [Kind; 1] = [Kind::FlowLog];

/// Where a kind stands in `CREATE_ORDER`.
pub fn position(kind: Kind) -> usize {
    CREATE_ORDER
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is in CREATE_ORDER")
}

/// The chains apply runs: storage beside compute, the wiring after both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Storage,
    Compute,
    Wiring,
}

pub fn chain(kind: Kind) -> Chain {
    match kind {
        Kind::Bucket | Kind::BucketPolicy | Kind::FailureBucket => Chain::Storage,
        // Athena reads the bucket: after it, in its chain.
        Kind::GlueDatabase | Kind::GlueTable | Kind::NamedQuery => Chain::Storage,
        Kind::Secret
        | Kind::Role
        | Kind::FunctionLogGroup
        | Kind::Function
        | Kind::Permission
        | Kind::FirehoseRole
        | Kind::StreamLogGroup
        | Kind::DeliveryStream => Chain::Compute,
        Kind::Notification | Kind::FlowLog | Kind::EventInvokeConfig => Chain::Wiring,
    }
}

/// What AWS holds for a stack, one field per resource.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub bucket: ObservedBucket,
    pub bucket_policy: Option<serde_json::Value>,
    pub failure_bucket: ObservedFailureBucket,
    pub notifications: Vec<NotificationEntry>,
    pub flow_logs: Vec<ObservedFlowLog>,
    pub role: Option<ObservedRole>,
    pub function_log_group: Option<ObservedFunctionLogGroup>,
    pub function: Option<ObservedFunction>,
    pub function_policy: Option<serde_json::Value>,
    pub firehose_role: Option<ObservedRole>,
    pub stream: Option<ObservedStream>,
    pub stream_log_group: Option<ObservedLogGroup>,
    pub event_invoke: Option<ObservedEventInvoke>,
    pub glue_database: Option<ObservedGlueDatabase>,
    pub glue_table: ObservedGlueTable,
    pub named_queries: Vec<ObservedNamedQuery>,
    pub secret: Option<ObservedSecret>,
}

/// Reads the stack: independent resources concurrently; the bucket's policy and notifications only
/// once the bucket is known to be there and readable.
pub async fn observe(
    clients: &Clients,
    names: &Names,
    resource_ids: &[String],
) -> Result<Observed> {
    let cx = Observe {
        clients,
        names,
        resource_ids,
    };
    let bucket_parts = async {
        let bucket = Bucket::observe(&cx).await?;
        let (policy, notifications) = match bucket {
            ObservedBucket::Present(_) => {
                tokio::try_join!(BucketPolicy::observe(&cx), Notification::observe(&cx))?
            }
            _ => Default::default(),
        };
        anyhow::Ok((bucket, policy, notifications))
    };
    let (
        (bucket, bucket_policy, notifications),
        failure_bucket,
        flow_logs,
        role,
        function_log_group,
        function,
        function_policy,
        firehose_role,
        stream,
        stream_log_group,
        event_invoke,
        (glue_database, glue_table, named_queries),
        secret,
    ) = tokio::try_join!(
        bucket_parts,
        FailureBucket::observe(&cx),
        FlowLog::observe(&cx),
        ForwarderRole::observe(&cx),
        FunctionLogGroup::observe(&cx),
        Function::observe(&cx),
        Permission::observe(&cx),
        FirehoseRole::observe(&cx),
        Stream::observe(&cx),
        StreamLogGroup::observe(&cx),
        EventInvokeConfig::observe(&cx),
        async {
            tokio::try_join!(
                GlueDatabase::observe(&cx),
                GlueTable::observe(&cx),
                NamedQueries::observe(&cx)
            )
        },
        Secret::observe(&cx),
    )?;
    Ok(Observed {
        bucket,
        bucket_policy,
        failure_bucket,
        notifications,
        flow_logs,
        role,
        function_log_group,
        function,
        function_policy,
        firehose_role,
        stream,
        stream_log_group,
        event_invoke,
        glue_database,
        glue_table,
        named_queries,
        secret,
    })
}

/// A resource's setup plan when the config wants it, its teardown plan when it does not.
fn converge<R: Resource>(desired: &Desired, observed: &R::Observed) -> Plan {
    let names = &desired.names;
    match R::desired(desired) {
        Some(d) => R::plan(names, d, observed),
        None => R::plan_teardown(
            Teardown {
                names,
                delete_data: false,
            },
            observed,
        ),
    }
}

/// The desired stack as far as it depends on what exists: the grants the bucket's KMS key needs,
/// the secret's ARN and version in the function's environment and the stream, and the first day
/// of the Athena table's projection.
pub fn desired_for(desired: &Desired, observed: &Observed) -> Desired {
    let desired =
        crate::desired::kms::with_bucket_key(desired, &observed.bucket.key(&desired.names));
    let secret_state = desired
        .secret
        .as_ref()
        .map(|d| secret::state(d, observed.secret.as_ref()));
    let mut d = crate::desired::secret::with_state(&desired, secret_state.as_ref());
    let existing = observed.glue_table.table.as_ref().and_then(|t| t.since());
    let stack_since = observed
        .glue_table
        .stack_since
        .unwrap_or_else(crate::desired::athena::Day::today);
    d.athena = crate::desired::athena::with_since(&d.athena, existing, stack_since);
    d
}

/// What setup would do to turn `observed` into `desired`, in `CREATE_ORDER`.
pub fn plan_setup(desired: &Desired, observed: &Observed) -> Plan {
    let desired = &desired_for(desired, observed);
    let mut plan = Plan::default();
    let bucket = converge::<Bucket>(desired, &observed.bucket);
    // A bucket we may not use has no policy to plan.
    let bucket_usable = bucket.conflicts.is_empty();
    plan.extend(bucket);
    if bucket_usable {
        plan.extend(converge::<BucketPolicy>(desired, &observed.bucket_policy));
    }
    plan.extend(converge::<FailureBucket>(desired, &observed.failure_bucket));
    plan.extend(converge::<FlowLog>(desired, &observed.flow_logs));
    plan.extend(converge::<Secret>(desired, &observed.secret));
    plan.extend(converge::<ForwarderRole>(desired, &observed.role));
    plan.extend(converge::<FunctionLogGroup>(
        desired,
        &observed.function_log_group,
    ));
    let function = converge::<Function>(desired, &observed.function);
    // A function that is not ours has no permission of ours to plan.
    let function_usable = function.conflicts.is_empty();
    plan.extend(function);
    if function_usable {
        plan.extend(converge::<Permission>(desired, &observed.function_policy));
    }
    if function_usable {
        plan.extend(converge::<EventInvokeConfig>(
            desired,
            &observed.event_invoke,
        ));
    }
    plan.extend(converge::<Notification>(desired, &observed.notifications));
    plan.extend(converge::<FirehoseRole>(desired, &observed.firehose_role));
    plan.extend(converge::<Stream>(desired, &observed.stream));
    plan.extend(converge::<StreamLogGroup>(
        desired,
        &observed.stream_log_group,
    ));
    plan.extend(converge::<GlueDatabase>(desired, &observed.glue_database));
    plan.extend(converge::<GlueTable>(desired, &observed.glue_table));
    plan.extend(converge::<NamedQueries>(desired, &observed.named_queries));
    note_filter(desired, &mut plan);
    order_for_setup(&mut plan);
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

/// What teardown would remove: everything that carries our stack tag, in reverse `CREATE_ORDER`.
pub fn plan_teardown(names: &Names, observed: &Observed, delete_data: bool) -> Plan {
    let cx = Teardown { names, delete_data };
    let mut plan = Plan::default();
    plan.extend(NamedQueries::plan_teardown(cx, &observed.named_queries));
    plan.extend(GlueTable::plan_teardown(cx, &observed.glue_table));
    plan.extend(GlueDatabase::plan_teardown(cx, &observed.glue_database));
    plan.extend(FlowLog::plan_teardown(cx, &observed.flow_logs));
    plan.extend(Notification::plan_teardown(cx, &observed.notifications));
    plan.extend(Permission::plan_teardown(cx, &observed.function_policy));
    plan.extend(EventInvokeConfig::plan_teardown(cx, &observed.event_invoke));
    plan.extend(Function::plan_teardown(cx, &observed.function));
    plan.extend(FunctionLogGroup::plan_teardown(
        cx,
        &observed.function_log_group,
    ));
    plan.extend(ForwarderRole::plan_teardown(cx, &observed.role));
    plan.extend(Stream::plan_teardown(cx, &observed.stream));
    plan.extend(StreamLogGroup::plan_teardown(
        cx,
        &observed.stream_log_group,
    ));
    plan.extend(FirehoseRole::plan_teardown(cx, &observed.firehose_role));
    plan.extend(Secret::plan_teardown(cx, &observed.secret));
    plan.extend(FailureBucket::plan_teardown(cx, &observed.failure_bucket));
    // Our statements leave a bucket that stays (adopted); ours goes whole or is kept whole.
    if !bucket::is_ours_to_delete(names, &observed.bucket) {
        plan.extend(BucketPolicy::plan_teardown(cx, &observed.bucket_policy));
    }
    plan.extend(Bucket::plan_teardown(cx, &observed.bucket));
    order_for_teardown(&mut plan);
    plan
}

/// Steps and resources in `CREATE_ORDER`; within a kind, in the order the resource planned them.
pub fn order_for_setup(plan: &mut Plan) {
    plan.steps.sort_by_key(|s| position(s.kind));
    plan.in_sync.sort_by_key(|r| position(r.kind));
}

/// Steps in reverse `CREATE_ORDER`: dependents first.
pub fn order_for_teardown(plan: &mut Plan) {
    plan.steps
        .sort_by_key(|s| std::cmp::Reverse(position(s.kind)));
}

#[cfg(test)]
mod tests;
