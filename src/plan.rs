//! The plan: a pure diff of the desired stack against what AWS holds, as steps of concrete write
//! operations. Planning makes no AWS call; applying carries the operations out as they are.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::desired::{
    Desired, DesiredFlowLog, DesiredFunction, DesiredNotification, DesiredPermission, DesiredRole,
    DesiredStream, Names,
};
use crate::observe::Observed;
use crate::resources;

/// The kinds of resource, in the order they are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Bucket,
    BucketPolicy,
    Role,
    Function,
    Permission,
    FirehoseRole,
    DeliveryStream,
    Notification,
    FlowLog,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Bucket => "s3 bucket",
            Kind::BucketPolicy => "bucket policy",
            Kind::Role => "iam role",
            Kind::Function => "lambda function",
            Kind::Permission => "lambda permission",
            Kind::FirehoseRole => "firehose iam role",
            Kind::DeliveryStream => "firehose stream",
            Kind::Notification => "s3 notification",
            Kind::FlowLog => "flow log",
        }
    }

    /// Which chain a resource belongs to when applying: chains run concurrently, the wiring after both.
    pub fn chain(self) -> Chain {
        match self {
            Kind::Bucket | Kind::BucketPolicy => Chain::Storage,
            Kind::Role
            | Kind::Function
            | Kind::Permission
            | Kind::FirehoseRole
            | Kind::DeliveryStream => Chain::Compute,
            Kind::Notification | Kind::FlowLog => Chain::Wiring,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Storage,
    Compute,
    Wiring,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }

    pub fn past(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Replace => "replaced",
            Action::Delete => "deleted",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

/// One field that differs, as shown to the user (secrets already redacted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub field: String,
    pub from: String,
    pub to: String,
}

impl Change {
    pub fn new(field: &str, from: impl fmt::Display, to: impl fmt::Display) -> Change {
        Change {
            field: field.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        }
    }
}

/// A concrete AWS write, with everything it needs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateBucket {
        bucket: String,
        region: String,
    },
    TagBucket {
        bucket: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    BlockPublicAccess {
        bucket: String,
    },
    EncryptBucket {
        bucket: String,
    },
    SetLifecycle {
        bucket: String,
        expire_days: u32,
    },
    /// Read the bucket policy, drop statements by Sid, put ours in, write it back.
    MergeBucketPolicy {
        bucket: String,
        statements: Vec<Value>,
        remove_sids: Vec<String>,
    },
    DeleteBucket {
        bucket: String,
    },
    CreateFlowLog {
        flow_log: DesiredFlowLog,
    },
    /// Create the new flow log, then delete the old one.
    ReplaceFlowLog {
        old_id: String,
        flow_log: DesiredFlowLog,
    },
    DeleteFlowLog {
        id: String,
    },
    CreateRole {
        role: DesiredRole,
    },
    UpdateTrust {
        role: String,
        trust: Value,
    },
    PutRolePolicy {
        role: String,
        policy_name: String,
        policy: Value,
    },
    TagRole {
        role: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    DeleteRole {
        role: String,
    },
    CreateFunction {
        function: DesiredFunction,
    },
    UpdateFunctionCode {
        function: DesiredFunction,
    },
    UpdateFunctionConfiguration {
        function: DesiredFunction,
    },
    TagFunction {
        arn: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    DeleteFunction {
        function: String,
    },
    AddPermission {
        permission: DesiredPermission,
    },
    RemovePermission {
        function: String,
        statement_id: String,
    },
    /// Read the bucket's notification configuration, replace only our entry, write it back.
    PutNotification {
        notification: DesiredNotification,
    },
    RemoveNotification {
        bucket: String,
        id: String,
    },
    /// The error log group and stream first, then the Firehose stream; waits until it is ACTIVE.
    CreateStream {
        stream: DesiredStream,
        tags: std::collections::BTreeMap<String, String>,
    },
    /// UpdateDestination with the whole HTTP endpoint destination, at the observed version.
    UpdateStream {
        stream: DesiredStream,
        version_id: String,
        destination_id: String,
    },
    /// Adds or overwrites these tags; never removes one.
    TagStream {
        name: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    CreateStreamLogGroup {
        stream: DesiredStream,
    },
    /// Deletes the stream, waits until it is gone, then the log group when given.
    DeleteStream {
        name: String,
        log_group: Option<String>,
    },
    DeleteStreamLogGroup {
        log_group: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    pub changes: Vec<Change>,
    pub ops: Vec<Op>,
}

/// A resource flowlogs will not touch, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub kind: Kind,
    pub name: String,
    pub problem: String,
    pub fix: String,
}

/// Something the user should know that changes nothing (a kept bucket, a foreign flow log).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub kind: Kind,
    pub name: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub kind: Kind,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub conflicts: Vec<Conflict>,
    pub in_sync: Vec<Resource>,
    pub notes: Vec<Note>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.steps.is_empty()
    }

    pub fn step(
        &mut self,
        kind: Kind,
        name: &str,
        action: Action,
        changes: Vec<Change>,
        ops: Vec<Op>,
    ) {
        self.steps.push(Step {
            kind,
            name: name.to_string(),
            action,
            changes,
            ops,
        });
    }

    pub fn conflict(
        &mut self,
        kind: Kind,
        name: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.conflicts.push(Conflict {
            kind,
            name: name.to_string(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }

    pub fn in_sync(&mut self, kind: Kind, name: &str) {
        self.in_sync.push(Resource {
            kind,
            name: name.to_string(),
        });
    }

    pub fn note(&mut self, kind: Kind, name: &str, note: impl Into<String>) {
        self.notes.push(Note {
            kind,
            name: name.to_string(),
            note: note.into(),
        });
    }

    fn sort(&mut self) {
        self.steps.sort_by_key(|s| s.kind);
        self.in_sync.sort_by_key(|r| r.kind);
    }
}

/// What setup would do to turn `observed` into `desired`.
pub fn plan_setup(desired: &Desired, observed: &Observed) -> Plan {
    let names = &desired.names;
    let mut plan = Plan::default();
    resources::bucket::plan(desired, observed, &mut plan);
    resources::flow_log::plan(desired, &observed.flow_logs, &mut plan);
    match &desired.forwarder {
        Some(forwarder) => {
            resources::role::plan(
                Kind::Role,
                names,
                &forwarder.role,
                observed.role.as_ref(),
                &mut plan,
            );
            resources::function::plan(desired, observed.function.as_ref(), &mut plan);
            resources::notification::plan(desired, observed.notifications(), &mut plan);
        }
        None => forwarder_teardown(names, observed, &mut plan),
    }
    match &desired.firehose {
        Some(firehose) => {
            resources::role::plan(
                Kind::FirehoseRole,
                names,
                &firehose.role,
                observed.firehose_role.as_ref(),
                &mut plan,
            );
            resources::stream::plan(
                names,
                &firehose.stream,
                observed.stream.as_ref(),
                observed.stream_log_group.as_ref(),
                &mut plan,
            );
        }
        None => firehose_teardown(names, observed, &mut plan),
    }
    plan.sort();
    plan
}

/// The forwarder's resources of ours, for a teardown or a switch away from lambda mode.
fn forwarder_teardown(names: &Names, observed: &Observed, plan: &mut Plan) {
    resources::notification::plan_teardown(names, observed.notifications(), plan);
    resources::function::plan_teardown(names, observed.function.as_ref(), plan);
    resources::role::plan_teardown(Kind::Role, names, &names.role, observed.role.as_ref(), plan);
}

/// The Firehose stream and its role, for a teardown or a switch away from firehose mode.
fn firehose_teardown(names: &Names, observed: &Observed, plan: &mut Plan) {
    resources::stream::plan_teardown(
        names,
        observed.stream.as_ref(),
        observed.stream_log_group.as_ref(),
        plan,
    );
    resources::role::plan_teardown(
        Kind::FirehoseRole,
        names,
        &names.firehose_role,
        observed.firehose_role.as_ref(),
        plan,
    );
}

/// What teardown would remove: everything that carries our stack tag, in reverse order.
pub fn plan_teardown(names: &Names, observed: &Observed, delete_data: bool) -> Plan {
    let mut plan = Plan::default();
    resources::flow_log::plan_teardown(names, &observed.flow_logs, &mut plan);
    forwarder_teardown(names, observed, &mut plan);
    firehose_teardown(names, observed, &mut plan);
    resources::bucket::plan_teardown(names, observed, delete_data, &mut plan);
    plan.steps.sort_by_key(|s| std::cmp::Reverse(s.kind));
    plan
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.conflicts {
            writeln!(f, "! {} {}: {}", c.kind.label(), c.name, c.problem)?;
            writeln!(f, "      fix: {}", c.fix)?;
        }
        for step in &self.steps {
            writeln!(
                f,
                "{:>3} {} {}",
                step.action.symbol(),
                step.kind.label(),
                step.name
            )?;
            for c in &step.changes {
                if c.from.is_empty() {
                    writeln!(f, "      {}: {}", c.field, c.to)?;
                } else {
                    writeln!(f, "      {}: {} -> {}", c.field, c.from, c.to)?;
                }
            }
        }
        for n in &self.notes {
            writeln!(f, "    {} {}: {}", n.kind.label(), n.name, n.note)?;
        }
        let count = |a: Action| self.steps.iter().filter(|s| s.action == a).count();
        if self.steps.is_empty() {
            write!(
                f,
                "No changes: {} resources match the config.",
                self.in_sync.len()
            )?;
        } else {
            write!(
                f,
                "Plan: {} to create, {} to update, {} to replace, {} to delete.",
                count(Action::Create),
                count(Action::Update),
                count(Action::Replace),
                count(Action::Delete)
            )?;
        }
        if !self.conflicts.is_empty() {
            write!(
                f,
                "\n{} conflict(s): flowlogs will not change resources it does not own.",
                self.conflicts.len()
            )?;
        }
        Ok(())
    }
}
