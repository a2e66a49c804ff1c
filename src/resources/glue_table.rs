//! The Glue table over the flow logs (see `crate::desired::athena`). Glue cannot tag a table, so a
//! table flowlogs made carries the stack in its parameters (`flowlogs:stack`, `managed-by`); a
//! same-named table without it is a conflict, never changed or dropped. What decides how files are
//! read (columns, partition keys, SerDe) changes with the flow log's format: then the table is
//! replaced (dropped, made again). The rest (location, projection) is updated in place. Dropping a
//! table removes its definition only: the objects in the bucket are never touched.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use flowlogs_aws_lite::glue;
use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::is_not_found;
use crate::aws::Clients;
use crate::desired::athena::{layout, Column, Day, DesiredGlueTable, Storage, PARAM_STACK};
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind};

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[allow(clippy::enum_variant_names)] // the names are the plan's JSON (`"op"`)
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Creates the table; `ddl` is the same table as Athena SQL, for use elsewhere.
    CreateGlueTable {
        table: DesiredGlueTable,
        ddl: String,
    },
    /// Rewrites the table's definition (UpdateTable); the data is not touched.
    UpdateGlueTable { table: DesiredGlueTable },
    /// Drops the table's definition only; the objects it reads stay in the bucket.
    DeleteGlueTable { database: String, table: String },
}

type Plan = crate::plan::Plan<Op>;

pub struct GlueTable;

/// The table as Glue holds it, and the stack's first day (for the projection's range).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObservedGlueTable {
    pub table: Option<ObservedTable>,
    /// The day the stack's earliest flow log was made (`None` when it has none yet, or Athena is off).
    pub stack_since: Option<Day>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedTable {
    pub database: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub partition_keys: Vec<Column>,
    pub location: String,
    pub storage: Storage,
    pub parameters: BTreeMap<String, String>,
}

impl ObservedTable {
    /// The first day its projection reads, when it has one.
    pub fn since(&self) -> Option<Day> {
        layout::since_of(&self.parameters)
    }
}

impl Resource for GlueTable {
    const KIND: Kind = Kind::GlueTable;
    type Desired = DesiredGlueTable;
    type Observed = ObservedGlueTable;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredGlueTable> {
        stack.athena.as_ref().map(|a| &a.table)
    }

    async fn observe(cx: &Observe<'_>) -> Result<ObservedGlueTable> {
        let (table, since) = tokio::join!(
            observe(cx.clients, cx.names),
            stack_since(cx.clients, cx.names)
        );
        let athena = &cx.names.athena;
        Ok(ObservedGlueTable {
            table: athena.read(table)?,
            stack_since: athena.read(since)?,
        })
    }

    fn plan(names: &Names, desired: &DesiredGlueTable, observed: &ObservedGlueTable) -> Plan {
        plan(names, desired, observed.table.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &ObservedGlueTable) -> Plan {
        plan_teardown(cx.names, observed.table.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::CreateGlueTable { table, .. } => create(cx.clients, table).await,
            Op::UpdateGlueTable { table } => update(cx.clients, table).await,
            Op::DeleteGlueTable { database, table } => delete(cx.clients, database, table).await,
        }
    }
}

fn column(c: &glue::Column) -> Column {
    Column::new(&c.name, c.kind.as_deref().unwrap_or_default())
}

pub async fn observe(clients: &Clients, names: &Names) -> Result<Option<ObservedTable>> {
    observe_table(clients, &names.athena.database, &names.athena.table).await
}

/// The table `database`.`name` as Glue holds it; `None` when there is none.
pub async fn observe_table(
    clients: &Clients,
    database: &str,
    name: &str,
) -> Result<Option<ObservedTable>> {
    let t = match clients.glue.get_table(database, name).await {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(None),
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading Glue table {database}.{name}")),
    };
    let sd = t.storage_descriptor.as_ref();
    let serde = sd.and_then(|s| s.serde_info.as_ref());
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    Ok(Some(ObservedTable {
        database: database.to_string(),
        name: name.to_string(),
        columns: sd
            .map(|s| s.columns.iter().map(column).collect())
            .unwrap_or_default(),
        partition_keys: t.partition_keys.iter().map(column).collect(),
        location: text(sd.and_then(|s| s.location.as_ref())),
        storage: Storage {
            serde: text(serde.and_then(|s| s.serialization_library.as_ref())),
            serde_parameters: serde.map(|s| s.parameters.clone()).unwrap_or_default(),
            input_format: text(sd.and_then(|s| s.input_format.as_ref())),
            output_format: text(sd.and_then(|s| s.output_format.as_ref())),
        },
        parameters: t.parameters,
    }))
}

/// The day the stack's earliest flow log (by our tag) was made; `None` when there is none (the
/// planner then starts on the day the stack was read).
pub async fn stack_since(clients: &Clients, names: &Names) -> Result<Option<Day>> {
    let filter = flowlogs_aws_lite::ec2::Filter::new(
        format!("tag:{}", crate::desired::TAG_STACK),
        [&names.stack],
    );
    let out = clients
        .ec2
        .describe_flow_logs(&[], &[filter])
        .await
        .context(
            "looking for the stack's flow logs (their first day starts the table's projection)",
        )?;
    let earliest = out.iter().filter_map(|f| f.creation_time).min();
    Ok(earliest.map(Day::from_unix))
}

fn shape(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.kind))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Missing: created. Ours: replaced when the format (how files are read) differs, updated when only
/// where and which partitions differ. Not ours: a conflict.
pub fn plan(names: &Names, d: &DesiredGlueTable, observed: Option<&ObservedTable>) -> Plan {
    let mut plan = Plan::default();
    let kind = Kind::GlueTable;
    let title = format!("{}.{}", d.database, d.name);
    let create = Op::CreateGlueTable {
        table: d.clone(),
        ddl: d.ddl(),
    };
    let Some(o) = observed else {
        plan.step(
            kind,
            &title,
            Action::Create,
            vec![
                Change::new("columns", "", d.columns.len()),
                Change::new("location", "", &d.location),
            ],
            vec![create],
        );
        return plan;
    };
    if o.parameters.get(PARAM_STACK) != Some(&names.stack) {
        plan.conflict(
            kind,
            &title,
            "a table of that name exists and flowlogs did not make it (it has no `flowlogs:stack` table property)",
            format!(
                "choose another `athena.table`, or drop it (`DROP TABLE `{}`.`{}`` in Athena: the data stays) and run `flowlogs setup`",
                d.database, d.name
            ),
        );
        return plan;
    }
    let serde = |s: &Storage| {
        (
            s.serde.clone(),
            s.input_format.clone(),
            s.serde_parameters.clone(),
        )
    };
    let mut format_changes: Vec<Change> = [
        Change::differs_shown("columns", &o.columns, &d.columns, |c| shape(c)),
        Change::differs_shown(
            "partition keys",
            &o.partition_keys,
            &d.partition_keys,
            |c| shape(c),
        ),
        Change::differs_shown("serde", serde(&o.storage), serde(&d.storage), |s| {
            s.0.clone()
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let wanted = d.parameters();
    let mut changes = Vec::new();
    changes.extend(Change::differs("location", &o.location, &d.location));
    for (k, v) in &wanted {
        let now = o.parameters.get(k).map(String::as_str).unwrap_or_default();
        changes.extend(Change::differs(k, now, v.as_str()));
    }
    if !format_changes.is_empty() {
        format_changes.extend(changes);
        plan.replace(
            kind,
            &title,
            format_changes,
            vec![Op::DeleteGlueTable {
                database: d.database.clone(),
                table: d.name.clone(),
            }],
            vec![create],
        );
    } else if !changes.is_empty() {
        plan.step(
            kind,
            &title,
            Action::Update,
            changes,
            vec![Op::UpdateGlueTable { table: d.clone() }],
        );
    } else {
        plan.in_sync(kind, &title);
    }
    plan
}

/// Ours goes (its definition only; the objects stay).
pub fn plan_teardown(names: &Names, observed: Option<&ObservedTable>) -> Plan {
    let mut plan = Plan::default();
    if let Some(t) = observed.filter(|t| t.parameters.get(PARAM_STACK) == Some(&names.stack)) {
        plan.step(
            Kind::GlueTable,
            &format!("{}.{}", t.database, t.name),
            Action::Delete,
            vec![Change::new("data", "", "kept in the bucket")],
            vec![Op::DeleteGlueTable {
                database: t.database.clone(),
                table: t.name.clone(),
            }],
        );
    }
    plan
}

fn glue_columns(columns: &[Column]) -> Vec<glue::Column> {
    columns
        .iter()
        .map(|c| glue::Column::new(&c.name, &c.kind))
        .collect()
}

/// The table's definition as CreateTable and UpdateTable take it.
fn table_input(d: &DesiredGlueTable) -> glue::TableInput {
    let serde = glue::SerDeInfo {
        serialization_library: Some(d.storage.serde.clone()),
        parameters: d.storage.serde_parameters.clone(),
    };
    let storage = glue::StorageDescriptor {
        columns: glue_columns(&d.columns),
        location: Some(d.location.clone()),
        input_format: Some(d.storage.input_format.clone()),
        output_format: Some(d.storage.output_format.clone()),
        serde_info: Some(serde),
    };
    glue::TableInput {
        name: d.name.clone(),
        description: Some(
            "VPC flow logs, made by flowlogs (partition projection: no partitions to load)".into(),
        ),
        table_type: Some("EXTERNAL_TABLE".into()),
        partition_keys: glue_columns(&d.partition_keys),
        storage_descriptor: Some(storage),
        parameters: d.parameters(),
    }
}

async fn create(clients: &Clients, d: &DesiredGlueTable) -> Result<()> {
    clients
        .glue
        .create_table(&d.database, &table_input(d))
        .await
        .with_context(|| format!("creating Glue table {}.{}", d.database, d.name))
}

async fn update(clients: &Clients, d: &DesiredGlueTable) -> Result<()> {
    clients
        .glue
        .update_table(&d.database, &table_input(d))
        .await
        .with_context(|| format!("updating Glue table {}.{}", d.database, d.name))
}

async fn delete(clients: &Clients, database: &str, table: &str) -> Result<()> {
    match clients.glue.delete_table(database, table).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting Glue table {database}.{table}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn desired(format: &str) -> (Names, DesiredGlueTable) {
        let text = format!(
            "version: 1\nstack: s\nflow_log:\n  resources: {{ vpc_ids: [vpc-1] }}\n  format: {format}\ndelivery:\n  otlp: {{ endpoint: http://127.0.0.1:4318 }}\nathena: {{}}\n"
        );
        let c = crate::config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
        let d = crate::desired::build(&c, "123456789012", "eu-west-1", "abc").unwrap();
        let a = crate::desired::athena::with_since(
            &d.athena,
            None,
            Day {
                year: 2026,
                month: 11,
                day: 29,
            },
        );
        (d.names, a.unwrap().table)
    }

    fn as_observed(d: &DesiredGlueTable) -> ObservedTable {
        ObservedTable {
            database: d.database.clone(),
            name: d.name.clone(),
            columns: d.columns.clone(),
            partition_keys: d.partition_keys.clone(),
            location: d.location.clone(),
            storage: d.storage.clone(),
            parameters: d.parameters(),
        }
    }

    #[test]
    fn a_missing_table_is_created_with_its_ddl_and_ours_as_wanted_is_in_sync() {
        let (names, d) = desired("default");
        let p = plan(&names, &d, None);
        let Op::CreateGlueTable { ddl, .. } = &p.steps[0].ops[0] else {
            panic!("{:?}", p.steps[0].ops)
        };
        assert!(ddl.starts_with("CREATE EXTERNAL TABLE"));
        let same = plan(&names, &d, Some(&as_observed(&d)));
        assert!(same.steps.is_empty() && same.in_sync.len() == 1, "{same:?}");
        assert_eq!(as_observed(&d).since(), d.since);
    }

    #[test]
    fn a_format_change_replaces_the_table_dropping_the_old_one_first() {
        let (names, old) = desired("default");
        let (_, new) = desired("all");
        let p = plan(&names, &new, Some(&as_observed(&old)));
        let step = &p.steps[0];
        assert_eq!(step.action, Action::Replace);
        assert_eq!(step.changes[0].field, "columns");
        assert!(matches!(step.retire[..], [Op::DeleteGlueTable { .. }]));
        assert!(matches!(step.ops[..], [Op::CreateGlueTable { .. }]));
    }

    #[test]
    fn a_hive_table_of_the_former_quoted_literal_form_is_replaced() {
        let (names, d) = desired("default\n  hive_compatible_partitions: true");
        let mut former = as_observed(&d);
        former.partition_keys = vec![Column::new("day", "string")];
        former
            .parameters
            .retain(|k, _| !k.starts_with("projection."));
        former.parameters.extend([
            ("projection.enabled".to_string(), "true".to_string()),
            ("projection.day.type".to_string(), "date".to_string()),
            (
                "projection.day.format".to_string(),
                "'year='yyyy'/month='MM'/day='dd".to_string(),
            ),
            (
                "projection.day.range".to_string(),
                "year=2026/month=11/day=29,NOW".to_string(),
            ),
        ]);
        former.parameters.insert(
            "storage.location.template".into(),
            format!("{}${{day}}/", d.location),
        );
        assert_eq!(
            former.since(),
            Some(Day {
                year: 2026,
                month: 11,
                day: 29
            })
        );
        let p = plan(&names, &d, Some(&former));
        let step = &p.steps[0];
        assert_eq!(step.action, Action::Replace, "{p:?}");
        assert_eq!(step.changes[0].field, "partition keys");
        assert!(matches!(step.retire[..], [Op::DeleteGlueTable { .. }]));
        // Once replaced, it reads back in sync.
        let again = plan(&names, &d, Some(&as_observed(&d)));
        assert!(again.steps.is_empty(), "{again:?}");
    }

    #[test]
    fn a_projection_change_alone_updates_the_table_in_place() {
        let (names, d) = desired("default");
        let mut o = as_observed(&d);
        o.parameters
            .insert("projection.day.range".into(), "2027/01/01,NOW".into());
        let p = plan(&names, &d, Some(&o));
        assert_eq!(p.steps[0].action, Action::Update);
        assert_eq!(p.steps[0].changes[0].field, "projection.day.range");
    }

    #[test]
    fn a_table_without_our_property_is_a_conflict_never_dropped() {
        let (names, d) = desired("default");
        let mut o = as_observed(&d);
        o.parameters.remove(PARAM_STACK);
        let p = plan(&names, &d, Some(&o));
        assert!(p.steps.is_empty());
        assert!(p.conflicts[0].fix.contains("athena.table"));
        assert!(plan_teardown(&names, Some(&o)).steps.is_empty());
        let ours = plan_teardown(&names, Some(&as_observed(&d)));
        assert!(matches!(
            ours.steps[0].ops[..],
            [Op::DeleteGlueTable { .. }]
        ));
    }
}
