//! The Athena Glue database as Glue answers it: `EntityNotFoundException` (JSON 1.1 `__type`), its
//! tags, and its tables over every page of GetTables.

use serde_json::json;

use super::glue_wire::{self, Rule};
use super::{desired, no_calls, said};
use crate::aws::Clients;
use crate::resources::glue_database;

fn glue(rules: &[&Rule]) -> Clients {
    Clients {
        glue: glue_wire::client(rules),
        ..no_calls()
    }
}

#[tokio::test]
async fn entity_not_found_is_no_database() {
    let get = Rule::new("GetDatabase").http(
        400,
        r#"{"__type":"EntityNotFoundException","Message":"Database flowlogs_s not found."}"#,
    );
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
    let get = Rule::new("GetDatabase")
        .matching(move |r| r["Name"] == database.as_str())
        .ok(json!({ "Database": { "Name": "d" } }));
    let arn = glue_database::arn(&names);
    let tags = Rule::new("GetTags")
        .matching(move |r| r["ResourceArn"] == arn.as_str())
        .ok(json!({ "Tags": { "flowlogs:stack": "s" } }));
    let page_1 = Rule::new("GetTables")
        .matching(|r| r.get("NextToken").is_none())
        .ok(json!({ "TableList": [{ "Name": "flow_logs" }], "NextToken": "t2" }));
    let page_2 = Rule::new("GetTables")
        .matching(|r| r["NextToken"] == "t2")
        .ok(json!({ "TableList": [{ "Name": "their_table" }] }));
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
    let get = Rule::new("GetDatabase").http(
        400,
        r#"{"__type":"AccessDeniedException","Message":"not authorized to perform: glue:GetDatabase"}"#,
    );
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

#[tokio::test]
async fn a_retried_create_finding_the_database_tags_it() {
    let names = desired().names;
    let database = crate::desired::athena::DesiredGlueDatabase {
        name: names.athena.database.clone(),
        arn: glue_database::arn(&names),
        description: "d".into(),
        tags: names.tags(),
    };
    let name = database.name.clone();
    let create = Rule::new("CreateDatabase")
        .matching(move |r| {
            r["DatabaseInput"]["Name"] == name.as_str() && r["Tags"]["flowlogs:stack"].is_string()
        })
        .error("AlreadyExistsException", "Database already exists.");
    let arn = database.arn.clone();
    let tag = Rule::new("TagResource")
        .matching(move |r| {
            r["ResourceArn"] == arn.as_str() && r["TagsToAdd"]["flowlogs:stack"].is_string()
        })
        .ok(json!({}));
    let clients = glue(&[&create, &tag]);
    let cx = crate::resources::Apply {
        clients: &clients,
        code: &crate::package::CodeSource::none(),
        progress: &crate::ui::Progress::quiet(),
        made: crate::resources::Made::default(),
    };
    let op = glue_database::Op::CreateGlueDatabase { database };
    <glue_database::GlueDatabase as crate::resources::Resource>::apply(&cx, &op)
        .await
        .unwrap();
    assert_eq!((create.num_calls(), tag.num_calls()), (1, 1));
}
