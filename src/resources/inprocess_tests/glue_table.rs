//! The Athena Glue table as Glue answers it: `EntityNotFoundException` (JSON 1.1 `__type`) for a
//! table or a database that is not there, at read and at drop; a table flowlogs made read back
//! in sync (no update on every run); refusals naming the table; a config without `athena:` whose
//! refused reads mean nothing to clean up; the projection's first day from the stack's earliest
//! flow log.

use serde_json::{json, Value};

use super::ec2_wire::{self, item, set};
use super::glue_wire::{self, Rule};
use super::{ec2_error, no_calls, said, ACCOUNT, REGION};
use crate::aws::Clients;
use crate::desired::athena::{Column, Day, DesiredGlueTable};
use crate::desired::{self, Desired};
use crate::package::CodeSource;
use crate::resources::glue_table::{self, GlueTable, Op};
use crate::resources::{Apply, Made, Observe, Resource};
use crate::ui::Progress;

fn glue(rules: &[&Rule]) -> Clients {
    Clients {
        glue: glue_wire::client(rules),
        ..no_calls()
    }
}

/// A stack with `athena:` configured.
fn stack() -> Desired {
    let text = "version: 1\nstack: s\nflow_log:\n  resources: { vpc_ids: [vpc-1] }\ndelivery: { otlp: { endpoint: http://x } }\nathena: {}\n";
    let c = crate::config::parse(text, std::path::Path::new("t.yaml"), &|_| None).unwrap();
    desired::build(&c, ACCOUNT, REGION, "h").unwrap()
}

fn wanted(d: &Desired) -> DesiredGlueTable {
    GlueTable::desired(d).expect("athena is configured").clone()
}

fn glue_columns(columns: &[Column]) -> Value {
    columns
        .iter()
        .map(|c| json!({ "Name": c.name, "Type": c.kind }))
        .collect()
}

/// The table as GetTable returns one flowlogs made from `d` (the Glue API reference's `Table`,
/// with members flowlogs does not read).
fn as_glue_holds_it(d: &DesiredGlueTable) -> Value {
    json!({
        "Table": {
            "Name": d.name,
            "DatabaseName": d.database,
            "CreateTime": 1_796_119_200.0,
            "TableType": "EXTERNAL_TABLE",
            "Retention": 0,
            "PartitionKeys": glue_columns(&d.partition_keys),
            "StorageDescriptor": {
                "Columns": glue_columns(&d.columns),
                "Location": d.location,
                "InputFormat": d.storage.input_format,
                "OutputFormat": d.storage.output_format,
                "Compressed": false,
                "NumberOfBuckets": -1,
                "SerdeInfo": {
                    "SerializationLibrary": d.storage.serde,
                    "Parameters": d.storage.serde_parameters,
                },
                "StoredAsSubDirectories": false,
            },
            "Parameters": d.parameters(),
            "IsRegisteredWithLakeFormation": false,
            "CatalogId": ACCOUNT,
            "VersionId": "0",
        }
    })
}

#[tokio::test]
async fn a_table_or_its_database_not_there_is_no_table() {
    let d = stack();
    for message in [
        "Table flow_logs_s not found.",
        "Database flowlogs not found.",
    ] {
        let get = Rule::new("GetTable").error("EntityNotFoundException", message);
        assert_eq!(
            glue_table::observe(&glue(&[&get]), &d.names).await.unwrap(),
            None,
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_table_flowlogs_made_reads_back_in_sync() {
    let d = stack();
    let table = wanted(&d);
    let (database, name) = (table.database.clone(), table.name.clone());
    let answer = as_glue_holds_it(&table);
    let get = Rule::new("GetTable")
        .matching(move |r| r["DatabaseName"] == database.as_str() && r["Name"] == name.as_str())
        .ok(answer);
    let observed = glue_table::observe(&glue(&[&get]), &d.names)
        .await
        .unwrap()
        .expect("a table");
    assert_eq!(observed.columns, table.columns);
    assert_eq!(observed.storage, table.storage);
    let plan = glue_table::plan(&d.names, &table, Some(&observed));
    assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
    assert_eq!(plan.in_sync.len(), 1);
}

#[tokio::test]
async fn reading_refused_names_the_table() {
    let d = stack();
    let get = Rule::new("GetTable").error(
        "AccessDeniedException",
        "User is not authorized to perform: glue:GetTable",
    );
    let err = glue_table::observe(&glue(&[&get]), &d.names)
        .await
        .unwrap_err();
    let athena = &d.names.athena;
    assert!(
        said(&err).contains(&format!(
            "reading Glue table {}.{}",
            athena.database, athena.table
        )),
        "{}",
        said(&err)
    );
}

#[tokio::test]
async fn without_athena_in_the_config_refused_reads_are_nothing_to_clean_up() {
    // Credentials without Glue or EC2 read actions, and a config that never had `athena:`:
    // observe looks only for what an earlier config made, and finds nothing rather than failing.
    let d = super::desired();
    assert!(!d.names.athena.configured);
    let get = Rule::new("GetTable").error(
        "AccessDeniedException",
        "not authorized to perform: glue:GetTable",
    );
    let flow_logs = ec2_wire::Rule::new("DescribeFlowLogs").http(
        403,
        &ec2_error(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        ),
    );
    let clients = Clients {
        glue: glue_wire::client(&[&get]),
        ec2: ec2_wire::client(&[&flow_logs], None),
        ..no_calls()
    };
    let cx = Observe {
        clients: &clients,
        names: &d.names,
        resource_ids: &[],
    };
    let observed = GlueTable::observe(&cx).await.unwrap();
    assert!(observed.table.is_none() && observed.stack_since.is_none());
    assert_eq!((get.num_calls(), flow_logs.num_calls()), (1, 1));
}

#[tokio::test]
async fn the_projection_starts_on_the_day_of_the_stacks_earliest_flow_log() {
    let d = stack();
    let created = |at: &str| item(&[("flowLogId", "fl-1"), ("creationTime", at)]);
    let tag = format!("tag:{}", crate::desired::TAG_STACK);
    let flow_logs = ec2_wire::Rule::new("DescribeFlowLogs")
        .matching(move |r| r.filter(&tag) == Some(vec!["s".to_string()]))
        .ok(&set(
            "flowLogSet",
            &[
                created("2026-12-01T10:00:00.000Z"),
                created("2026-11-29T23:59:59.000Z"),
            ],
            None,
        ));
    let clients = Clients {
        ec2: ec2_wire::client(&[&flow_logs], None),
        ..no_calls()
    };
    assert_eq!(
        glue_table::stack_since(&clients, &d.names).await.unwrap(),
        Some(Day {
            year: 2026,
            month: 11,
            day: 29
        })
    );
    let none = ec2_wire::Rule::new("DescribeFlowLogs").ok("<flowLogSet/>");
    let clients = Clients {
        ec2: ec2_wire::client(&[&none], None),
        ..no_calls()
    };
    assert_eq!(
        glue_table::stack_since(&clients, &d.names).await.unwrap(),
        None
    );
}

/// The executor's call for `op`, with clients answering from `rules`.
async fn apply(rules: &[&Rule], op: &Op) -> anyhow::Result<()> {
    let clients = glue(rules);
    let cx = Apply {
        clients: &clients,
        code: &CodeSource::none(),
        progress: &Progress::quiet(),
        made: Made::default(),
    };
    GlueTable::apply(&cx, op).await
}

#[tokio::test]
async fn dropping_a_table_already_gone_is_done_and_a_refusal_names_it() {
    let d = stack();
    let table = wanted(&d);
    let drop = Op::DeleteGlueTable {
        database: table.database.clone(),
        table: table.name.clone(),
    };
    let gone =
        Rule::new("DeleteTable").error("EntityNotFoundException", "Table flow_logs_s not found.");
    apply(&[&gone], &drop).await.unwrap();
    assert_eq!(gone.num_calls(), 1);

    let refused = Rule::new("DeleteTable").error(
        "AccessDeniedException",
        "not authorized to perform: glue:DeleteTable",
    );
    let err = apply(&[&refused], &drop).await.unwrap_err();
    assert!(
        said(&err).contains(&format!(
            "deleting Glue table {}.{}",
            table.database, table.name
        )),
        "{}",
        said(&err)
    );

    let dropped = Rule::new("DeleteTable")
        .matching(move |r| {
            r["DatabaseName"] == table.database.as_str() && r["Name"] == table.name.as_str()
        })
        .ok(json!({}));
    apply(&[&dropped], &drop).await.unwrap();
    assert_eq!(dropped.num_calls(), 1);
}

#[tokio::test]
async fn creating_sends_the_whole_table_and_a_refusal_names_it() {
    let d = stack();
    let table = wanted(&d);
    let create = Op::CreateGlueTable {
        table: table.clone(),
        ddl: table.ddl(),
    };
    let (database, location) = (table.database.clone(), table.location.clone());
    let columns = table.columns.len();
    let made = Rule::new("CreateTable")
        .matching(move |r| {
            let t = &r["TableInput"];
            r["DatabaseName"] == database.as_str()
                && t["TableType"] == "EXTERNAL_TABLE"
                && t["Parameters"]["flowlogs:stack"] == "s"
                && t["StorageDescriptor"]["Location"] == location.as_str()
                && t["StorageDescriptor"]["Columns"].as_array().map(Vec::len) == Some(columns)
                && t["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].is_string()
        })
        .ok(json!({}));
    apply(&[&made], &create).await.unwrap();
    assert_eq!(made.num_calls(), 1);

    let taken = Rule::new("CreateTable").error("AlreadyExistsException", "Table already exists.");
    let err = apply(&[&taken], &create).await.unwrap_err();
    let said = said(&err);
    assert!(
        said.contains(&format!(
            "creating Glue table {}.{}",
            table.database, table.name
        )) && said.contains("AlreadyExistsException: Table already exists."),
        "{said}"
    );
}
