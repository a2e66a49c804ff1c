//! The Athena Glue table as Glue answers it: `EntityNotFoundException` (JSON 1.1 `__type`) for a
//! table or a database that is not there, at read and at drop; a table flowlogs made read back
//! in sync (no update on every run); refusals naming the table; a config without `athena:` whose
//! refused reads mean nothing to clean up; the projection's first day from the stack's earliest
//! flow log.

use std::collections::HashMap;

use aws_sdk_glue::operation::delete_table::DeleteTableOutput;
use aws_sdk_glue::operation::get_table::GetTableOutput;
use aws_sdk_glue::types::{SerDeInfo, StorageDescriptor, Table};
use aws_sdk_glue::Client;
use aws_smithy_mocks::{mock, Rule};

use super::ec2_wire::{self, item, set};
use super::{client, ec2_error, http, no_calls, said, ACCOUNT, REGION};
use crate::aws::Clients;
use crate::desired::athena::{Column, Day, DesiredGlueTable};
use crate::desired::{self, Desired};
use crate::package::CodeSource;
use crate::resources::glue_table::{self, GlueTable, Op};
use crate::resources::{Apply, Made, Observe, Resource};
use crate::ui::Progress;

fn glue(rules: &[&Rule]) -> Clients {
    Clients {
        glue: client!(aws_sdk_glue, rules),
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

/// Glue's JSON 1.1 error, as it is on the wire.
fn glue_error(code: &str, message: &str) -> aws_smithy_runtime_api::http::Response {
    http(
        400,
        &[("content-type", "application/x-amz-json-1.1")],
        &format!(r#"{{"__type":"{code}","Message":"{message}"}}"#),
    )
}

fn glue_columns(columns: &[Column]) -> Vec<aws_sdk_glue::types::Column> {
    columns
        .iter()
        .map(|c| {
            aws_sdk_glue::types::Column::builder()
                .name(&c.name)
                .r#type(&c.kind)
                .build()
                .unwrap()
        })
        .collect()
}

/// The table as GetTable returns one flowlogs made from `d`.
fn as_glue_holds_it(d: &DesiredGlueTable) -> GetTableOutput {
    let serde = SerDeInfo::builder()
        .serialization_library(&d.storage.serde)
        .set_parameters(Some(
            d.storage.serde_parameters.clone().into_iter().collect(),
        ))
        .build();
    let storage = StorageDescriptor::builder()
        .set_columns(Some(glue_columns(&d.columns)))
        .location(&d.location)
        .input_format(&d.storage.input_format)
        .output_format(&d.storage.output_format)
        .serde_info(serde)
        .build();
    let table = Table::builder()
        .name(&d.name)
        .database_name(&d.database)
        .table_type("EXTERNAL_TABLE")
        .set_partition_keys(Some(glue_columns(&d.partition_keys)))
        .storage_descriptor(storage)
        .set_parameters(Some(d.parameters().into_iter().collect::<HashMap<_, _>>()))
        .build()
        .unwrap();
    GetTableOutput::builder().table(table).build()
}

#[tokio::test]
async fn a_table_or_its_database_not_there_is_no_table() {
    let d = stack();
    for message in [
        "Table flow_logs_s not found.",
        "Database flowlogs not found.",
    ] {
        let get = mock!(Client::get_table)
            .then_http_response(move || glue_error("EntityNotFoundException", message));
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
    let get = mock!(Client::get_table)
        .match_requests(move |r| {
            r.database_name() == Some(database.as_str()) && r.name() == Some(name.as_str())
        })
        .then_output(move || answer.clone());
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
    let get = mock!(Client::get_table).then_http_response(|| {
        glue_error(
            "AccessDeniedException",
            "User is not authorized to perform: glue:GetTable",
        )
    });
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
    let get = mock!(Client::get_table).then_http_response(|| {
        glue_error(
            "AccessDeniedException",
            "not authorized to perform: glue:GetTable",
        )
    });
    let flow_logs = ec2_wire::Rule::new("DescribeFlowLogs").http(
        403,
        &ec2_error(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        ),
    );
    let clients = Clients {
        glue: client!(aws_sdk_glue, &[&get]),
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
    let gone = mock!(Client::delete_table).then_http_response(|| {
        glue_error("EntityNotFoundException", "Table flow_logs_s not found.")
    });
    apply(&[&gone], &drop).await.unwrap();
    assert_eq!(gone.num_calls(), 1);

    let refused = mock!(Client::delete_table).then_http_response(|| {
        glue_error(
            "AccessDeniedException",
            "not authorized to perform: glue:DeleteTable",
        )
    });
    let err = apply(&[&refused], &drop).await.unwrap_err();
    assert!(
        said(&err).contains(&format!(
            "deleting Glue table {}.{}",
            table.database, table.name
        )),
        "{}",
        said(&err)
    );

    let dropped = mock!(Client::delete_table)
        .match_requests(move |r| r.name() == Some(table.name.as_str()))
        .then_output(|| DeleteTableOutput::builder().build());
    apply(&[&dropped], &drop).await.unwrap();
    assert_eq!(dropped.num_calls(), 1);
}
