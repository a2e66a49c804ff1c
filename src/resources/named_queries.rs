//! The Athena named (saved) queries of the stack, in the configured workgroup. Athena cannot tag a
//! named query, so flowlogs knows its own by their name prefix (`flowlogs <stack>: `) together with
//! the database they run in; any other query of the workgroup is left alone. A query whose text
//! differs is replaced (deleted, made again); one the config no longer wants is deleted.

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::Clients;
use crate::desired::athena::DesiredNamedQuery;
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind};

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateNamedQuery { query: DesiredNamedQuery },
    DeleteNamedQuery { id: String, name: String },
}

type Plan = crate::plan::Plan<Op>;

pub struct NamedQueries;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedNamedQuery {
    pub id: String,
    pub name: String,
    pub database: String,
    pub description: String,
    pub query: String,
}

impl Resource for NamedQueries {
    const KIND: Kind = Kind::NamedQuery;
    type Desired = Vec<DesiredNamedQuery>;
    type Observed = Vec<ObservedNamedQuery>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&Vec<DesiredNamedQuery>> {
        stack.athena.as_ref().map(|a| &a.queries)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Vec<ObservedNamedQuery>> {
        cx.names.athena.read(observe(cx.clients, cx.names).await)
    }

    fn plan(
        names: &Names,
        desired: &Vec<DesiredNamedQuery>,
        observed: &Vec<ObservedNamedQuery>,
    ) -> Plan {
        plan(names, desired, observed)
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Vec<ObservedNamedQuery>) -> Plan {
        let mut plan = Plan::default();
        for q in observed.iter().filter(|q| is_ours(cx.names, q)) {
            delete_step(&mut plan, q);
        }
        plan
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::CreateNamedQuery { query } => create(cx.clients, query).await,
            Op::DeleteNamedQuery { id, name } => delete(cx.clients, id, name).await,
        }
    }
}

/// Ours: our name prefix, in our database.
pub fn is_ours(names: &Names, q: &ObservedNamedQuery) -> bool {
    q.name.starts_with(&names.athena.query_prefix) && q.database == names.athena.database
}

/// The workgroup's named queries that are ours (ListNamedQueries, then BatchGetNamedQuery by 50);
/// an error when Athena leaves some of them unprocessed.
pub async fn observe(clients: &Clients, names: &Names) -> Result<Vec<ObservedNamedQuery>> {
    let workgroup = &names.athena.workgroup;
    let mut ids = Vec::new();
    let mut pages = clients
        .athena
        .list_named_queries()
        .work_group(workgroup)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| {
            format!("listing the named queries of Athena workgroup {workgroup} (does the workgroup exist? see `athena.workgroup`)")
        })?;
        ids.extend(page.named_query_ids().iter().cloned());
    }
    let mut found = Vec::new();
    for chunk in ids.chunks(50) {
        let out = clients
            .athena
            .batch_get_named_query()
            .set_named_query_ids(Some(chunk.to_vec()))
            .send()
            .await
            .with_context(|| {
                format!("reading the named queries of Athena workgroup {workgroup}")
            })?;
        // A query Athena could not return may be ours: planning without it would make a copy.
        let unprocessed: Vec<String> = out
            .unprocessed_named_query_ids()
            .iter()
            .map(|u| {
                format!(
                    "{} ({}: {})",
                    u.named_query_id().unwrap_or("?"),
                    u.error_code().unwrap_or("no code"),
                    u.error_message().unwrap_or("no message")
                )
            })
            .collect();
        if !unprocessed.is_empty() {
            bail!(
                "reading the named queries of Athena workgroup {workgroup}: Athena could not return {}; flowlogs cannot tell whether they are its own. Run the command again",
                unprocessed.join(", ")
            );
        }
        for q in out.named_queries() {
            let observed = ObservedNamedQuery {
                id: q.named_query_id().unwrap_or_default().to_string(),
                name: q.name().to_string(),
                database: q.database().to_string(),
                description: q.description().unwrap_or_default().to_string(),
                query: q.query_string().to_string(),
            };
            if is_ours(names, &observed) {
                found.push(observed);
            }
        }
    }
    found.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(found)
}

fn delete_step(plan: &mut Plan, q: &ObservedNamedQuery) {
    plan.step(
        Kind::NamedQuery,
        &q.name,
        Action::Delete,
        Vec::new(),
        vec![Op::DeleteNamedQuery {
            id: q.id.clone(),
            name: q.name.clone(),
        }],
    );
}

/// Each wanted query: created when missing, replaced when its text differs; ours that the config
/// no longer wants (or a second copy of one) are deleted.
pub fn plan(names: &Names, desired: &[DesiredNamedQuery], observed: &[ObservedNamedQuery]) -> Plan {
    let mut plan = Plan::default();
    let kind = Kind::NamedQuery;
    let ours: Vec<&ObservedNamedQuery> = observed.iter().filter(|q| is_ours(names, q)).collect();
    for d in desired {
        let mut same_name = ours.iter().filter(|q| q.name == d.name);
        let create = Op::CreateNamedQuery { query: d.clone() };
        match same_name.next() {
            None => plan.step(
                kind,
                &d.name,
                Action::Create,
                vec![Change::new("workgroup", "", &d.workgroup)],
                vec![create],
            ),
            Some(o) if o.query == d.query && o.description == d.description => {
                plan.in_sync(kind, &d.name)
            }
            Some(o) => plan.replace(
                kind,
                &d.name,
                vec![Change::new("query", &o.query, &d.query)],
                vec![Op::DeleteNamedQuery {
                    id: o.id.clone(),
                    name: o.name.clone(),
                }],
                vec![create],
            ),
        }
        for extra in same_name {
            delete_step(&mut plan, extra);
        }
    }
    for q in ours
        .iter()
        .filter(|q| desired.iter().all(|d| d.name != q.name))
    {
        delete_step(&mut plan, q);
    }
    plan
}

async fn create(clients: &Clients, q: &DesiredNamedQuery) -> Result<()> {
    clients
        .athena
        .create_named_query()
        .name(&q.name)
        .description(&q.description)
        .database(&q.database)
        .query_string(&q.query)
        .work_group(&q.workgroup)
        .send()
        .await
        .map(|_| ())
        .with_context(|| format!("creating Athena named query `{}`", q.name))
}

async fn delete(clients: &Clients, id: &str, name: &str) -> Result<()> {
    clients
        .athena
        .delete_named_query()
        .named_query_id(id)
        .send()
        .await
        .map(|_| ())
        .with_context(|| format!("deleting Athena named query `{name}` ({id})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        crate::resources::stream::tests::desired().names
    }

    fn wanted(names: &Names, title: &str, sql: &str) -> DesiredNamedQuery {
        DesiredNamedQuery {
            name: format!("{}{title}", names.athena.query_prefix),
            description: "d".into(),
            database: names.athena.database.clone(),
            workgroup: "primary".into(),
            query: sql.into(),
        }
    }

    fn seen(id: &str, d: &DesiredNamedQuery) -> ObservedNamedQuery {
        ObservedNamedQuery {
            id: id.into(),
            name: d.name.clone(),
            database: d.database.clone(),
            description: d.description.clone(),
            query: d.query.clone(),
        }
    }

    #[test]
    fn missing_queries_are_created_and_matching_ones_are_in_sync() {
        let n = names();
        let a = wanted(&n, "top talkers by bytes", "SELECT 1");
        let b = wanted(&n, "rejected traffic by source and port", "SELECT 2");
        let p = plan(&n, &[a.clone(), b.clone()], &[seen("1", &a)]);
        assert_eq!(p.in_sync.len(), 1);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].name, b.name);
        assert!(matches!(p.steps[0].ops[..], [Op::CreateNamedQuery { .. }]));
    }

    #[test]
    fn changed_text_replaces_and_unwanted_or_duplicate_ones_go() {
        let n = names();
        let a = wanted(&n, "top talkers by bytes", "SELECT 1");
        let old = wanted(&n, "traffic by AWS service", "SELECT 3");
        let mut changed = seen("1", &a);
        changed.query = "SELECT 0".into();
        let p = plan(
            &n,
            std::slice::from_ref(&a),
            &[changed, seen("2", &a), seen("3", &old)],
        );
        let actions: Vec<(Action, &str)> = p
            .steps
            .iter()
            .map(|s| (s.action, s.name.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                (Action::Replace, a.name.as_str()),
                (Action::Delete, a.name.as_str()),
                (Action::Delete, old.name.as_str())
            ]
        );
    }

    #[test]
    fn only_our_prefix_in_our_database_is_ours() {
        let n = names();
        let a = wanted(&n, "top talkers by bytes", "SELECT 1");
        let mut other_db = seen("1", &a);
        other_db.database = "analytics".into();
        let mut other_name = seen("2", &a);
        other_name.name = "my top talkers".into();
        let cx = Teardown {
            names: &n,
            delete_data: false,
        };
        assert!(
            NamedQueries::plan_teardown(cx, &vec![other_db.clone(), other_name.clone()])
                .steps
                .is_empty()
        );
        assert_eq!(
            NamedQueries::plan_teardown(cx, &vec![seen("3", &a)])
                .steps
                .len(),
            1
        );
        let p = plan(&n, &[], &[other_db, other_name]);
        assert!(p.steps.is_empty());
    }
}
