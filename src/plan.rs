//! The plan's types: steps of concrete write operations, conflicts, notes, and how a plan prints.
//! A leaf: generic over the operation type (each resource has its own, `crate::resources::*::Op`,
//! wrapped once by the planner), it knows no resource, no planner, no command. The order of steps is the planner's (`crate::planner`), not this file's.

use std::fmt;

use serde::Serialize;

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
    /// The bucket's notification entry for the transit gateway flow logs' folder.
    TgwNotification,
    /// The Glue table over the transit gateway flow logs' folder.
    TgwGlueTable,
    /// The rule on the default event bus that sends S3's Object Created events to the forwarder.
    EventRule,
    /// The function's permission for that rule (`events.amazonaws.com`).
    EventPermission,
    /// The bucket's EventBridge delivery (`EventBridgeConfiguration`).
    BucketEventBridge,
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
            Kind::TgwNotification => "s3 notification (transit gateways)",
            Kind::TgwGlueTable => "glue table (transit gateways)",
            Kind::EventRule => "eventbridge rule",
            Kind::EventPermission => "lambda permission for eventbridge",
            Kind::BucketEventBridge => "s3 eventbridge delivery",
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
    /// The change of one field when its observed value `from` differs from the wanted `to`: the
    /// comparison every resource makes per field. A list of these, flattened, is a resource's
    /// table of compared fields.
    pub fn differs<A, B>(field: &str, from: A, to: B) -> Option<Change>
    where
        A: PartialEq<B> + fmt::Display,
        B: fmt::Display,
    {
        (from != to).then(|| Change::new(field, from, to))
    }

    /// `differs` for a value shown otherwise than it compares: `show` makes the text the plan
    /// prints of each side (a secret redacted, `None` as "never expire", a pair of fields as
    /// `group:stream`). Several fields compared as one change are passed as a tuple.
    pub fn differs_shown<T: PartialEq>(
        field: &str,
        from: T,
        to: T,
        show: impl Fn(&T) -> String,
    ) -> Option<Change> {
        (from != to).then(|| Change::new(field, show(&from), show(&to)))
    }

    pub fn new(field: &str, from: impl fmt::Display, to: impl fmt::Display) -> Change {
        Change {
            field: field.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        }
    }
}

/// One step: a resource, what happens to it, and the writes that do it. `O` is the operation type:
/// a resource plans with its own (`crate::resources::bucket::Op`), the planner with the one that
/// wraps them all (`crate::resources::Op`).
#[derive(Debug, Clone, Serialize)]
pub struct Step<O> {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    pub changes: Vec<Change>,
    pub ops: Vec<O>,
    /// On a replace: the operations that remove what is replaced. The planner decides whether they
    /// run before `ops` (a name that must be free) or after (a flow log: no window goes unlogged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retire: Vec<O>,
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

#[derive(Debug, Clone, Serialize)]
pub struct Plan<O> {
    pub steps: Vec<Step<O>>,
    pub conflicts: Vec<Conflict>,
    pub in_sync: Vec<Resource>,
    pub notes: Vec<Note>,
}

impl<O> Default for Plan<O> {
    fn default() -> Self {
        Plan {
            steps: Vec::new(),
            conflicts: Vec::new(),
            in_sync: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl<O> Plan<O> {
    /// The same plan with each operation wrapped (a resource's own ops into the planner's).
    pub fn map_ops<P>(self, f: impl Fn(O) -> P) -> Plan<P> {
        Plan {
            steps: self
                .steps
                .into_iter()
                .map(|s| Step {
                    kind: s.kind,
                    name: s.name,
                    action: s.action,
                    changes: s.changes,
                    ops: s.ops.into_iter().map(&f).collect(),
                    retire: s.retire.into_iter().map(&f).collect(),
                })
                .collect(),
            conflicts: self.conflicts,
            in_sync: self.in_sync,
            notes: self.notes,
        }
    }

    pub fn has_changes(&self) -> bool {
        !self.steps.is_empty()
    }

    pub fn step(
        &mut self,
        kind: Kind,
        name: &str,
        action: Action,
        changes: Vec<Change>,
        ops: Vec<O>,
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
        retire: Vec<O>,
        ops: Vec<O>,
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
    pub fn extend(&mut self, other: Plan<O>) {
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

impl<O> fmt::Display for Plan<O> {
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
                "\n{} conflict(s): nothing is changed until they are resolved.",
                self.conflicts.len()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn a_field_shown_otherwise_than_it_compares_is_a_change_only_when_it_differs() {
        let days = |d: &Option<i32>| d.map_or("never expire".to_string(), |d| format!("{d} days"));
        assert_eq!(
            Change::differs_shown("retention", None, Some(30), days),
            Some(Change::new("retention", "never expire", "30 days"))
        );
        assert_eq!(
            Change::differs_shown("retention", Some(30), Some(30), days),
            None
        );
        // Two fields as one change, shown together; a difference in either is the change.
        let logging = |(g, s): &(&str, &str)| format!("{g}:{s}");
        assert_eq!(
            Change::differs_shown("error logging", ("g", "a"), ("g", "b"), logging),
            Some(Change::new("error logging", "g:a", "g:b"))
        );
        // What is shown may hide what differs (a secret): the change is still made.
        let redacted = |_: &&str| "<redacted>".to_string();
        assert_eq!(
            Change::differs_shown("token", "old", "new", redacted),
            Some(Change::new("token", "<redacted>", "<redacted>"))
        );
    }
}
