//! The plan's types: steps of concrete write operations, conflicts, notes, and how a plan prints.
//! A leaf: it knows the desired values an operation carries and nothing above them (no resource,
//! no planner, no command). The order of steps is the planner's (`crate::planner`), not this file's.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::desired::athena::{DesiredGlueDatabase, DesiredGlueTable, DesiredNamedQuery};
use crate::desired::secret::DesiredSecret;
use crate::desired::{
    DesiredEventInvoke, DesiredFlowLog, DesiredFunction, DesiredLogGroup, DesiredNotification,
    DesiredPermission, DesiredRole, DesiredStream,
};

/// The kinds of resource. Their order here means nothing: the planner declares the order of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Bucket,
    BucketPolicy,
    /// The bucket Lambda keeps the forwarder's failed events in (its S3 on-failure destination).
    FailureBucket,
    Role,
    FunctionLogGroup,
    Function,
    Permission,
    FirehoseRole,
    StreamLogGroup,
    DeliveryStream,
    Notification,
    FlowLog,
    EventInvokeConfig,
    GlueDatabase,
    GlueTable,
    NamedQuery,
    Secret,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Bucket => "s3 bucket",
            Kind::BucketPolicy => "bucket policy",
            Kind::FailureBucket => "s3 failure bucket",
            Kind::Role => "iam role",
            Kind::FunctionLogGroup => "lambda log group",
            Kind::Function => "lambda function",
            Kind::Permission => "lambda permission",
            Kind::FirehoseRole => "firehose iam role",
            Kind::StreamLogGroup => "firehose log group",
            Kind::DeliveryStream => "firehose stream",
            Kind::Notification => "s3 notification",
            Kind::FlowLog => "flow log",
            Kind::EventInvokeConfig => "lambda async config",
            Kind::GlueDatabase => "glue database",
            Kind::GlueTable => "glue table",
            Kind::NamedQuery => "athena named query",
            Kind::Secret => "secret",
        }
    }
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
    /// With `replacing`: the flow log this one replaces, deleted first only where AWS refuses two
    /// flow logs on one resource and destination.
    CreateFlowLog {
        flow_log: DesiredFlowLog,
        #[serde(skip_serializing_if = "Option::is_none")]
        replacing: Option<String>,
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
    /// Creates the Firehose stream; waits until it is ACTIVE.
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
    /// Deletes the stream and waits until it is gone.
    DeleteStream {
        name: String,
    },
    DeleteStreamLogGroup {
        log_group: String,
    },
    /// Creates the forwarder's log group with its tags and retention.
    CreateFunctionLogGroup {
        log_group: DesiredLogGroup,
    },
    /// Sets the retention (or removes it: `None` keeps events forever) and adds missing tags.
    UpdateFunctionLogGroup {
        log_group: DesiredLogGroup,
    },
    DeleteFunctionLogGroup {
        log_group: String,
    },
    /// Sets the function's retries, event age and S3 on-failure destination (PutFunctionEventInvokeConfig).
    PutEventInvokeConfig {
        event_invoke: DesiredEventInvoke,
    },
    DeleteEventInvokeConfig {
        function: String,
    },
    /// Creates the Glue database with our tags (an existing one of ours is tagged instead).
    CreateGlueDatabase {
        database: DesiredGlueDatabase,
    },
    /// Adds or overwrites these tags on the database; never removes one.
    TagGlueDatabase {
        arn: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    DeleteGlueDatabase {
        database: String,
    },
    /// Creates the table; `ddl` is the same table as Athena SQL, for use elsewhere.
    CreateGlueTable {
        table: DesiredGlueTable,
        ddl: String,
    },
    /// Rewrites the table's definition (UpdateTable); the data is not touched.
    UpdateGlueTable {
        table: DesiredGlueTable,
    },
    /// Drops the table's definition only; the objects it reads stay in the bucket.
    DeleteGlueTable {
        database: String,
        table: String,
    },
    CreateNamedQuery {
        query: DesiredNamedQuery,
    },
    DeleteNamedQuery {
        id: String,
        name: String,
    },
    /// Creates the stack's secret with its value (as version `version`) and tags.
    CreateSecret {
        secret: DesiredSecret,
        version: String,
    },
    /// Writes a new value as version `version` (the current one after the call).
    PutSecretValue {
        secret: DesiredSecret,
        version: String,
    },
    TagSecret {
        name: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    /// Deletes without a recovery window (see `resources::secret`).
    DeleteSecret {
        name: String,
    },
    /// Removes tags flowlogs no longer sets (the old access-key hash).
    UntagStream {
        name: String,
        keys: Vec<String>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    pub changes: Vec<Change>,
    pub ops: Vec<Op>,
    /// On a replace: the operations that remove what is replaced. The planner decides whether they
    /// run before `ops` (a name that must be free) or after (a flow log: no window goes unlogged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retire: Vec<Op>,
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
            retire: Vec::new(),
        });
    }

    /// A replace: `retire` removes the old resource, `ops` makes the new one.
    pub fn replace(
        &mut self,
        kind: Kind,
        name: &str,
        changes: Vec<Change>,
        retire: Vec<Op>,
        ops: Vec<Op>,
    ) {
        self.steps.push(Step {
            kind,
            name: name.to_string(),
            action: Action::Replace,
            changes,
            ops,
            retire,
        });
    }

    /// Adds another plan's steps, conflicts, resources and notes after this one's.
    pub fn extend(&mut self, other: Plan) {
        self.steps.extend(other.steps);
        self.conflicts.extend(other.conflicts);
        self.in_sync.extend(other.in_sync);
        self.notes.extend(other.notes);
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
