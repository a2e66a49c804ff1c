//! The one list of resources: for each, where it stands in the order of work, its chain (storage,
//! compute, wiring), how a replace runs (new first or old first), what it hangs on (a gate), and
//! how its part of `Observed` is planned. The planner (`plan_setup`, `plan_teardown`) and the
//! executor (`apply`) walk this list; nothing else says what depends on what. Also here: the
//! operation type that wraps every resource's own (`Op`), and what AWS holds (`Observed`, `observe`).
//!
//! Adding a resource: its module under `crate::resources` (with its `Op` and `impl Resource`), a
//! line in `ops!`, a field in `Observed` and its read in `observe`, and an `Entry` in `REGISTRY`.

use anyhow::Result;
use serde::Serialize;

use crate::aws::Clients;
use crate::desired::athena::Day;
use crate::desired::{Desired, Names};
use crate::plan::Kind;
use crate::resources::bucket::{self, Bucket, ObservedBucket};
use crate::resources::bucket_eventbridge::{BucketEventBridge, ObservedDelivery};
use crate::resources::bucket_policy::BucketPolicy;
use crate::resources::event_invoke_config::{EventInvokeConfig, ObservedEventInvoke};
use crate::resources::event_permission::{self, EventPermission};
use crate::resources::event_rule::{EventRule, ObservedRule};
use crate::resources::failure_bucket::{FailureBucket, ObservedFailureBucket};
use crate::resources::flow_log::{FlowLog, ObservedFlowLog};
use crate::resources::function::{Function, ObservedFunction};
use crate::resources::function_log_group::{FunctionLogGroup, ObservedFunctionLogGroup};
use crate::resources::glue_database::{GlueDatabase, ObservedGlueDatabase};
use crate::resources::glue_table::ObservedTable;
use crate::resources::glue_table::{GlueTable, ObservedGlueTable};
use crate::resources::named_queries::{NamedQueries, ObservedNamedQuery};
use crate::resources::notification::{Notification, NotificationEntry};
use crate::resources::permission::{self, Permission};
use crate::resources::role::{FirehoseRole, ForwarderRole, ObservedRole};
use crate::resources::secret::{ObservedSecret, Secret};
use crate::resources::stream::{ObservedStream, Stream};
use crate::resources::stream_log_group::{ObservedLogGroup, StreamLogGroup};
use crate::resources::tgw_glue_table::TgwGlueTable;
use crate::resources::tgw_notification::TgwNotification;
use crate::resources::{Apply, Observe, Resource, Teardown};

/// One variant per resource that owns operations, each carrying that resource's own `Op`; an
/// operation is carried out by the resource whose type it is, so no resource can be handed another's.
macro_rules! ops {
    ($($variant:ident($resource:ty)),* $(,)?) => {
        /// Every resource's operations, wrapped once. Serialized as the inner operation
        /// (`{"op": "create_bucket", ...}`).
        #[derive(Debug, Clone, Serialize)]
        #[serde(untagged)]
        pub enum Op {
            $($variant(<$resource as Resource>::Op)),*
        }

        $(impl From<<$resource as Resource>::Op> for Op {
            fn from(op: <$resource as Resource>::Op) -> Op {
                Op::$variant(op)
            }
        })*

        impl Op {
            /// The write calls of this operation, by the resource that owns it.
            pub async fn apply(&self, cx: &Apply<'_>) -> Result<()> {
                match self {
                    $(Op::$variant(op) => <$resource as Resource>::apply(cx, op).await),*
                }
            }
        }
    };
}

ops! {
    Bucket(Bucket),
    BucketPolicy(BucketPolicy),
    FailureBucket(FailureBucket),
    // The forwarder's and the Firehose stream's roles share one operation type.
    Role(ForwarderRole),
    FunctionLogGroup(FunctionLogGroup),
    Function(Function),
    Permission(Permission),
    StreamLogGroup(StreamLogGroup),
    Stream(Stream),
    // The transit gateway folder's entry (`TgwNotification`) carries these operations too.
    Notification(Notification),
    FlowLog(FlowLog),
    EventInvokeConfig(EventInvokeConfig),
    GlueDatabase(GlueDatabase),
    GlueTable(GlueTable),
    NamedQuery(NamedQueries),
    Secret(Secret),
    EventRule(EventRule),
    EventPermission(EventPermission),
    BucketEventBridge(BucketEventBridge),
}

/// The planner's plan: steps of wrapped operations.
pub type Plan = crate::plan::Plan<Op>;
pub type Step = crate::plan::Step<Op>;

/// The chains apply runs: storage beside compute, the wiring after both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Storage,
    Compute,
    Wiring,
}

/// On a replace, which goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// The old one goes first: the new one keeps its name, which must be free.
    RetiresFirst,
    /// The new one is made first: a flow log, so no window goes unlogged.
    CreatesFirst,
}

/// One resource as the planner and the executor see it.
pub struct Entry {
    pub kind: Kind,
    pub chain: Chain,
    pub replace: Replace,
    /// Planned in setup only when the plan of this kind has no conflict (the resource it hangs on
    /// is usable).
    pub needs: Option<Kind>,
    /// Its setup plan (its teardown plan when the config no longer wants it).
    pub setup: fn(&Desired, &Observed) -> Plan,
    /// Its teardown plan.
    pub teardown: fn(Teardown<'_>, &Observed) -> Plan,
}

/// The setup (or, unwanted, teardown) plan of resource `$r` over its field of `Observed`.
macro_rules! entry {
    ($kind:ident, $r:ty, $field:ident, $chain:ident, $replace:ident, $needs:expr) => {
        Entry {
            kind: Kind::$kind,
            chain: Chain::$chain,
            replace: Replace::$replace,
            needs: $needs,
            setup: |d, o| converge::<$r>(d, &o.$field).map_ops(Op::from),
            teardown: |cx, o| <$r>::plan_teardown(cx, &o.$field).map_ops(Op::from),
        }
    };
}

/// The order resources are made in: each after what it depends on; teardown walks it backwards.
/// The bucket policy before the flow log (CreateFlowLogs would write one of its own); the role and
/// the function's log group before the function (Lambda writes to the group from the first
/// invocation on), the function before its permission, the permission before the notification (S3
/// validates the target); the stream's role and log group before the stream, the stream before
/// the flow log delivering to it.
///
/// The function's asynchronous-invocation settings come with the wiring, before the notification:
/// Lambda checks that the failure bucket (storage chain) and the role's permission on it (compute
/// chain) are there, and failed events are kept from the first event on.
/// Athena reads the bucket: after it, in its chain; the database before its table; the named
/// queries last. The secret first of the compute chain: the function and the stream name it.
///
/// The two triggers (`delivery.lambda.trigger`): the S3 notification (its permission, then the
/// entry), or EventBridge (its permission, then the rule with its target, then the bucket's
/// delivery, which tags the rule). Their permissions are in the compute chain, made before the
/// wiring and removed after it; the rest is wiring, where setup makes and updates everything
/// before it deletes anything (`order_for_setup`): on a switch the new trigger is whole before
/// the old one goes, so no object goes unread (one may be read twice meanwhile).
pub const REGISTRY: [Entry; 22] = [
    entry!(Bucket, Bucket, bucket, Storage, RetiresFirst, None),
    // A bucket we may not use has no policy to plan. Teardown: our statements leave a bucket that
    // stays (adopted); ours goes whole or is kept whole.
    Entry {
        teardown: |cx, o| {
            if bucket::is_ours_to_delete(cx.names, &o.bucket) {
                Plan::default()
            } else {
                BucketPolicy::plan_teardown(cx, &o.bucket_policy).map_ops(Op::from)
            }
        },
        ..entry!(
            BucketPolicy,
            BucketPolicy,
            bucket_policy,
            Storage,
            RetiresFirst,
            Some(Kind::Bucket)
        )
    },
    entry!(
        FailureBucket,
        FailureBucket,
        failure_bucket,
        Storage,
        RetiresFirst,
        None
    ),
    entry!(Secret, Secret, secret, Compute, RetiresFirst, None),
    entry!(Role, ForwarderRole, role, Compute, RetiresFirst, None),
    entry!(
        FunctionLogGroup,
        FunctionLogGroup,
        function_log_group,
        Compute,
        RetiresFirst,
        None
    ),
    entry!(Function, Function, function, Compute, RetiresFirst, None),
    // A function that is not ours has no permission or settings of ours to plan. The S3
    // trigger's statement is taken out when the config wants the EventBridge trigger.
    Entry {
        setup: |d, o| match d.forwarder.as_ref() {
            Some(f) if f.trigger == crate::config::Trigger::EventBridge => {
                permission::plan_removal(
                    Kind::Permission,
                    &d.names.function,
                    &d.names.permission_sid,
                    o.function_policy.as_ref(),
                )
                .map_ops(Op::from)
            }
            _ => converge::<Permission>(d, &o.function_policy).map_ops(Op::from),
        },
        ..entry!(
            Permission,
            Permission,
            function_policy,
            Compute,
            RetiresFirst,
            Some(Kind::Function)
        )
    },
    // The EventBridge trigger's statement, taken out when the config wants the S3 trigger.
    Entry {
        setup: |d, o| match d.forwarder.as_ref() {
            Some(f) if f.eventbridge.is_none() => {
                event_permission::plan_unwanted(&d.names, o.function_policy.as_ref())
                    .map_ops(Op::from)
            }
            _ => converge::<EventPermission>(d, &o.function_policy).map_ops(Op::from),
        },
        ..entry!(
            EventPermission,
            EventPermission,
            function_policy,
            Compute,
            RetiresFirst,
            Some(Kind::Function)
        )
    },
    entry!(
        FirehoseRole,
        FirehoseRole,
        firehose_role,
        Compute,
        RetiresFirst,
        None
    ),
    entry!(
        StreamLogGroup,
        StreamLogGroup,
        stream_log_group,
        Compute,
        RetiresFirst,
        None
    ),
    entry!(DeliveryStream, Stream, stream, Compute, RetiresFirst, None),
    entry!(
        EventInvokeConfig,
        EventInvokeConfig,
        event_invoke,
        Wiring,
        RetiresFirst,
        Some(Kind::Function)
    ),
    entry!(EventRule, EventRule, event_rule, Wiring, RetiresFirst, None),
    entry!(
        BucketEventBridge,
        BucketEventBridge,
        bucket_eventbridge,
        Wiring,
        RetiresFirst,
        Some(Kind::Bucket)
    ),
    entry!(
        Notification,
        Notification,
        notifications,
        Wiring,
        RetiresFirst,
        None
    ),
    // The same bucket configuration as the first entry, read once (`notifications`).
    entry!(
        TgwNotification,
        TgwNotification,
        notifications,
        Wiring,
        RetiresFirst,
        None
    ),
    entry!(FlowLog, FlowLog, flow_logs, Wiring, CreatesFirst, None),
    entry!(
        GlueDatabase,
        GlueDatabase,
        glue_database,
        Storage,
        RetiresFirst,
        None
    ),
    entry!(
        GlueTable,
        GlueTable,
        glue_table,
        Storage,
        RetiresFirst,
        None
    ),
    entry!(
        TgwGlueTable,
        TgwGlueTable,
        tgw_glue_table,
        Storage,
        RetiresFirst,
        None
    ),
    entry!(
        NamedQuery,
        NamedQueries,
        named_queries,
        Storage,
        RetiresFirst,
        None
    ),
];

/// A kind's entry in `REGISTRY`.
pub fn entry(kind: Kind) -> &'static Entry {
    REGISTRY
        .iter()
        .find(|e| e.kind == kind)
        .expect("every kind is in REGISTRY")
}

/// Where a kind stands in the order of work.
pub fn position(kind: Kind) -> usize {
    REGISTRY
        .iter()
        .position(|e| e.kind == kind)
        .expect("every kind is in REGISTRY")
}

/// A resource's setup plan when the config wants it, its teardown plan when it does not.
fn converge<R: Resource>(desired: &Desired, observed: &R::Observed) -> crate::plan::Plan<R::Op> {
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

/// What AWS holds for a stack, one field per resource, and the day it was read.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The day the stack was read (UTC): the planner's "today".
    pub day: Day,
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
    pub tgw_glue_table: Option<ObservedTable>,
    pub named_queries: Vec<ObservedNamedQuery>,
    pub secret: Option<ObservedSecret>,
    pub event_rule: Option<ObservedRule>,
    pub bucket_eventbridge: ObservedDelivery,
}

impl Observed {
    /// Nothing there, read on `day`.
    #[cfg(test)]
    pub fn empty(day: Day) -> Observed {
        Observed {
            day,
            bucket: Default::default(),
            bucket_policy: Default::default(),
            failure_bucket: Default::default(),
            notifications: Default::default(),
            flow_logs: Default::default(),
            role: Default::default(),
            function_log_group: Default::default(),
            function: Default::default(),
            function_policy: Default::default(),
            firehose_role: Default::default(),
            stream: Default::default(),
            stream_log_group: Default::default(),
            event_invoke: Default::default(),
            glue_database: Default::default(),
            glue_table: Default::default(),
            tgw_glue_table: Default::default(),
            named_queries: Default::default(),
            secret: Default::default(),
            event_rule: Default::default(),
            bucket_eventbridge: Default::default(),
        }
    }
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
    let day = Day::today();
    let bucket_parts = async {
        let bucket = Bucket::observe(&cx).await?;
        let (policy, notifications, delivery) = match bucket {
            ObservedBucket::Present(_) => tokio::try_join!(
                BucketPolicy::observe(&cx),
                Notification::observe(&cx),
                BucketEventBridge::observe(&cx)
            )?,
            _ => Default::default(),
        };
        anyhow::Ok((bucket, policy, notifications, delivery))
    };
    let (
        (bucket, bucket_policy, notifications, bucket_eventbridge),
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
        (glue_database, glue_table, tgw_glue_table, named_queries),
        secret,
        event_rule,
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
                TgwGlueTable::observe(&cx),
                NamedQueries::observe(&cx)
            )
        },
        Secret::observe(&cx),
        EventRule::observe(&cx),
    )?;
    Ok(Observed {
        day,
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
        tgw_glue_table,
        named_queries,
        secret,
        event_rule,
        bucket_eventbridge,
    })
}
