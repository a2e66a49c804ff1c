//! The Glue database that holds the flow logs' table. The default, `flowlogs`, may be shared by
//! several stacks of one account: a database flowlogs made carries the stack's tags (Glue tags it
//! through TagResource); one without them (the user's, or another stack's) is used as it is and
//! never changed or deleted. Teardown drops ours only when it holds no table but ours: dropping a
//! Glue database drops every table in it.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use flowlogs_aws_lite::glue;
use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{is_already_there, is_not_found};
use crate::aws::Clients;
use crate::desired::athena::DesiredGlueDatabase;
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind};

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[allow(clippy::enum_variant_names)] // the names are the plan's JSON (`"op"`)
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
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
}

type Plan = crate::plan::Plan<Op>;

pub struct GlueDatabase;

/// The database as Glue holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedGlueDatabase {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    /// The names of the tables in it.
    pub tables: Vec<String>,
}

impl Resource for GlueDatabase {
    const KIND: Kind = Kind::GlueDatabase;
    type Desired = DesiredGlueDatabase;
    type Observed = Option<ObservedGlueDatabase>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredGlueDatabase> {
        stack.athena.as_ref().map(|a| &a.database)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedGlueDatabase>> {
        cx.names.athena.read(observe(cx.clients, cx.names).await)
    }

    fn plan(
        names: &Names,
        desired: &DesiredGlueDatabase,
        observed: &Option<ObservedGlueDatabase>,
    ) -> Plan {
        plan(names, desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedGlueDatabase>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::CreateGlueDatabase { database } => create(cx.clients, database).await,
            Op::TagGlueDatabase { arn, tags } => tag(cx.clients, arn, tags).await,
            Op::DeleteGlueDatabase { database } => delete(cx.clients, database).await,
        }
    }
}

pub fn arn(names: &Names) -> String {
    format!(
        "arn:{}:glue:{}:{}:database/{}",
        names.partition, names.region, names.account, names.athena.database
    )
}

pub async fn observe(clients: &Clients, names: &Names) -> Result<Option<ObservedGlueDatabase>> {
    let name = &names.athena.database;
    match clients.glue.get_database(name).await {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(None),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading Glue database {name}")),
    }
    let tags = clients
        .glue
        .get_tags(&arn(names))
        .await
        .with_context(|| format!("reading the tags of Glue database {name}"))?;
    let tables = clients
        .glue
        .get_tables(name)
        .await
        .with_context(|| format!("listing the tables of Glue database {name}"))?
        .into_iter()
        .map(|t| t.name)
        .collect();
    Ok(Some(ObservedGlueDatabase {
        name: name.clone(),
        tags,
        tables,
    }))
}

/// Missing: created, tagged. Ours: its tags follow. Someone else's: used as it is, said in a note.
pub fn plan(
    names: &Names,
    d: &DesiredGlueDatabase,
    observed: Option<&ObservedGlueDatabase>,
) -> Plan {
    let mut plan = Plan::default();
    let kind = Kind::GlueDatabase;
    let Some(o) = observed else {
        plan.step(
            kind,
            &d.name,
            Action::Create,
            vec![Change::new("tags", "", shown(&d.tags))],
            vec![Op::CreateGlueDatabase {
                database: d.clone(),
            }],
        );
        return plan;
    };
    if !names.is_ours(&o.tags) {
        plan.note(
            kind,
            &d.name,
            "exists and was not made by this stack: the table goes in it; flowlogs never changes or deletes it",
        );
        return plan;
    }
    let missing: BTreeMap<String, String> = d
        .tags
        .iter()
        .filter(|(k, v)| o.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if missing.is_empty() {
        plan.in_sync(kind, &d.name);
    } else {
        plan.step(
            kind,
            &d.name,
            Action::Update,
            vec![Change::new("tags", "", shown(&missing))],
            vec![Op::TagGlueDatabase {
                arn: d.arn.clone(),
                tags: missing,
            }],
        );
    }
    plan
}

fn shown(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Ours and holding no table but the stack's own (which teardown drops first): dropped.
pub fn plan_teardown(names: &Names, observed: Option<&ObservedGlueDatabase>) -> Plan {
    let mut plan = Plan::default();
    let Some(o) = observed.filter(|o| names.is_ours(&o.tags)) else {
        return plan;
    };
    let others: Vec<&String> = o
        .tables
        .iter()
        .filter(|t| **t != names.athena.table)
        .collect();
    if others.is_empty() {
        plan.step(
            Kind::GlueDatabase,
            &o.name,
            Action::Delete,
            Vec::new(),
            vec![Op::DeleteGlueDatabase {
                database: o.name.clone(),
            }],
        );
    } else {
        let listed: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
        plan.note(
            Kind::GlueDatabase,
            &o.name,
            format!(
                "kept: it holds other tables ({}), and dropping a Glue database drops its tables",
                listed.join(", ")
            ),
        );
    }
    plan
}

async fn create(clients: &Clients, d: &DesiredGlueDatabase) -> Result<()> {
    let input = glue::DatabaseInput {
        name: d.name.clone(),
        description: Some(d.description.clone()),
    };
    match clients.glue.create_database(&input, &d.tags).await {
        Ok(()) => Ok(()),
        // A retried create: the database is there; make sure it carries our tags.
        Err(e) if is_already_there(&e) => tag(clients, &d.arn, &d.tags).await,
        Err(e) => Err(e).with_context(|| format!("creating Glue database {}", d.name)),
    }
}

async fn tag(clients: &Clients, arn: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    clients
        .glue
        .tag_resource(arn, tags)
        .await
        .with_context(|| format!("tagging Glue database {arn}"))
}

async fn delete(clients: &Clients, database: &str) -> Result<()> {
    match clients.glue.delete_database(database).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting Glue database {database}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        crate::resources::stream::tests::desired().names
    }

    fn desired(names: &Names) -> DesiredGlueDatabase {
        DesiredGlueDatabase {
            name: names.athena.database.clone(),
            arn: arn(names),
            description: "d".into(),
            tags: names.tags(),
        }
    }

    fn observed(tags: BTreeMap<String, String>, tables: &[&str]) -> ObservedGlueDatabase {
        ObservedGlueDatabase {
            name: "flowlogs".into(),
            tags,
            tables: tables.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_missing_database_is_created_with_our_tags_and_ours_is_in_sync() {
        let n = names();
        let d = desired(&n);
        let created = plan(&n, &d, None);
        assert!(matches!(
            created.steps[0].ops[..],
            [Op::CreateGlueDatabase { .. }]
        ));
        let same = plan(&n, &d, Some(&observed(n.tags(), &[])));
        assert!(same.steps.is_empty() && same.in_sync.len() == 1);
    }

    #[test]
    fn someone_elses_database_is_used_never_changed_or_dropped() {
        let n = names();
        let d = desired(&n);
        let foreign = observed(
            BTreeMap::from([("flowlogs:stack".into(), "other".into())]),
            &[],
        );
        let p = plan(&n, &d, Some(&foreign));
        assert!(p.steps.is_empty() && p.conflicts.is_empty() && p.in_sync.is_empty());
        assert!(p.notes[0].note.contains("never changes or deletes"));
        assert!(plan_teardown(&n, Some(&foreign)).steps.is_empty());
    }

    #[test]
    fn ours_is_dropped_only_when_it_holds_no_other_table() {
        let n = names();
        let alone = observed(n.tags(), &[n.athena.table.as_str()]);
        let t = plan_teardown(&n, Some(&alone));
        assert!(matches!(
            t.steps[0].ops[..],
            [Op::DeleteGlueDatabase { .. }]
        ));
        let shared = observed(
            n.tags(),
            &[n.athena.table.as_str(), "other_stack_flow_logs"],
        );
        let t = plan_teardown(&n, Some(&shared));
        assert!(t.steps.is_empty());
        assert!(t.notes[0].note.contains("other_stack_flow_logs"));
    }
}
