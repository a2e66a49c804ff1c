//! The Athena Glue database as Glue answers it: `EntityNotFoundException` (JSON 1.1 `__type`), its
//! tags, and its tables over every page of GetTables.

use std::collections::HashMap;

use aws_sdk_glue::operation::get_database::GetDatabaseOutput;
use aws_sdk_glue::operation::get_tables::GetTablesOutput;
use aws_sdk_glue::operation::get_tags::GetTagsOutput;
use aws_sdk_glue::types::{Database, Table};
use aws_sdk_glue::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, desired, http, no_calls, said};
use crate::aws::Clients;
use crate::resources::glue_database;

fn glue(rules: &[&Rule]) -> Clients {
    Clients {
        glue: client!(aws_sdk_glue, rules),
        ..no_calls()
    }
}

fn table(name: &str) -> Table {
    Table::builder().name(name).build().unwrap()
}

#[tokio::test]
async fn entity_not_found_is_no_database() {
    let get = mock!(Client::get_database).then_http_response(|| {
        http(
            400,
            &[],
            r#"{"__type":"EntityNotFoundException","Message":"Database flowlogs_s not found."}"#,
        )
    });
    assert_eq!(
        glue_database::observe(&glue(&[&get]), &desired().names)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn tags_and_the_tables_of_every_page_are_read() {
    let names = desired().names;
    let database = names.athena.database.clone();
    let get = mock!(Client::get_database)
        .match_requests(move |r| r.name() == Some(database.as_str()))
        .then_output(|| {
            GetDatabaseOutput::builder()
                .database(Database::builder().name("d").build().unwrap())
                .build()
        });
    let arn = glue_database::arn(&names);
    let tags = mock!(Client::get_tags)
        .match_requests(move |r| r.resource_arn() == Some(arn.as_str()))
        .then_output(|| {
            GetTagsOutput::builder()
                .set_tags(Some(HashMap::from([(
                    "flowlogs:stack".to_string(),
                    "s".to_string(),
                )])))
                .build()
        });
    let page_1 = mock!(Client::get_tables)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            GetTablesOutput::builder()
                .table_list(table("flow_logs"))
                .next_token("t2")
                .build()
        });
    let page_2 = mock!(Client::get_tables)
        .match_requests(|r| r.next_token() == Some("t2"))
        .then_output(|| {
            GetTablesOutput::builder()
                .table_list(table("their_table"))
                .build()
        });
    let observed = glue_database::observe(&glue(&[&get, &tags, &page_1, &page_2]), &names)
        .await
        .unwrap()
        .expect("a database");
    assert_eq!(observed.tables, ["flow_logs", "their_table"]);
    assert_eq!(
        observed.tags.get("flowlogs:stack").map(String::as_str),
        Some("s")
    );
}

#[tokio::test]
async fn access_denied_names_the_database() {
    let get = mock!(Client::get_database).then_http_response(|| {
        http(
            400,
            &[],
            r#"{"__type":"AccessDeniedException","Message":"not authorized to perform: glue:GetDatabase"}"#,
        )
    });
    let names = desired().names;
    let err = glue_database::observe(&glue(&[&get]), &names)
        .await
        .unwrap_err();
    assert!(
        said(&err).contains(&format!("reading Glue database {}", names.athena.database)),
        "{}",
        said(&err)
    );
}
