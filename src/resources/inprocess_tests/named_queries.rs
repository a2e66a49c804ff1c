//! The stack's Athena named queries as Athena answers: ListNamedQueries over pages,
//! BatchGetNamedQuery by 50, only our prefix in our database kept, `UnprocessedNamedQueryIds` in a
//! 200 answer, a workgroup that does not exist (400 `InvalidRequestException`), a config without
//! `athena:` whose refused reads mean nothing to clean up, and the writes' requests.

use std::sync::{Arc, Mutex};

use aws_sdk_athena::operation::batch_get_named_query::BatchGetNamedQueryOutput;
use aws_sdk_athena::operation::create_named_query::CreateNamedQueryOutput;
use aws_sdk_athena::operation::list_named_queries::ListNamedQueriesOutput;
use aws_sdk_athena::types::{NamedQuery, UnprocessedNamedQueryId};
use aws_sdk_athena::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, desired, http, no_calls, said};
use crate::aws::Clients;
use crate::desired::Names;
use crate::package::CodeSource;
use crate::resources::named_queries::{self, NamedQueries, Op};
use crate::resources::{Apply, Made, Observe, Resource};
use crate::ui::Progress;

fn athena(rules: &[&Rule]) -> Clients {
    Clients {
        athena: client!(aws_sdk_athena, rules),
        ..no_calls()
    }
}

/// Athena's JSON 1.1 error, as it is on the wire.
fn athena_error(code: &str, message: &str) -> aws_smithy_runtime_api::http::Response {
    http(
        400,
        &[("content-type", "application/x-amz-json-1.1")],
        &format!(r#"{{"__type":"{code}","Message":"{message}"}}"#),
    )
}

fn query(id: &str, name: &str, database: &str) -> NamedQuery {
    NamedQuery::builder()
        .named_query_id(id)
        .name(name)
        .database(database)
        .query_string("SELECT 1")
        .work_group("primary")
        .build()
        .unwrap()
}

/// A BatchGetNamedQuery answering each id asked from `known` (by id), recording each batch's size.
fn batch_get(known: Vec<NamedQuery>, sizes: &Arc<Mutex<Vec<usize>>>) -> Rule {
    let sizes = sizes.clone();
    mock!(Client::batch_get_named_query).then_compute_output(move |r| {
        let ids = r.named_query_ids();
        sizes.lock().unwrap().push(ids.len());
        BatchGetNamedQueryOutput::builder()
            .set_named_queries(Some(
                known
                    .iter()
                    .filter(|q| ids.iter().any(|id| Some(id.as_str()) == q.named_query_id()))
                    .cloned()
                    .collect(),
            ))
            .build()
    })
}

fn ours(names: &Names, title: &str) -> String {
    format!("{}{title}", names.athena.query_prefix)
}

#[tokio::test]
async fn every_page_is_read_in_batches_of_50_and_only_ours_are_kept() {
    let names = desired().names;
    let database = names.athena.database.clone();
    // 51 ids over two pages: Athena's BatchGetNamedQuery takes at most 50.
    let ids: Vec<String> = (0..51).map(|i| format!("q{i:02}")).collect();
    let (first, second) = (ids[..30].to_vec(), ids[30..].to_vec());
    let workgroup = names.athena.workgroup.clone();
    let page_1 = mock!(Client::list_named_queries)
        .match_requests(move |r| {
            r.next_token().is_none() && r.work_group() == Some(workgroup.as_str())
        })
        .then_output(move || {
            ListNamedQueriesOutput::builder()
                .set_named_query_ids(Some(first.clone()))
                .next_token("page-2")
                .build()
        });
    let page_2 = mock!(Client::list_named_queries)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(move || {
            ListNamedQueriesOutput::builder()
                .set_named_query_ids(Some(second.clone()))
                .build()
        });
    let mut known: Vec<NamedQuery> = ids
        .iter()
        .map(|id| query(id, &format!("someone's query {id}"), &database))
        .collect();
    known[50] = query("q50", &ours(&names, "b: rejected traffic"), &database);
    known[3] = query("q03", &ours(&names, "a: top talkers"), &database);
    // Our prefix in another database is not ours.
    known[7] = query("q07", &ours(&names, "c: elsewhere"), "analytics");
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let batch = batch_get(known, &sizes);
    let found = named_queries::observe(&athena(&[&page_1, &page_2, &batch]), &names)
        .await
        .unwrap();
    let found: Vec<(&str, &str)> = found
        .iter()
        .map(|q| (q.id.as_str(), q.name.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("q03", ours(&names, "a: top talkers").as_str()),
            ("q50", ours(&names, "b: rejected traffic").as_str()),
        ]
    );
    assert_eq!(*sizes.lock().unwrap(), [50, 1]);
}

#[tokio::test]
async fn a_query_athena_left_unprocessed_is_an_error_naming_it() {
    // BatchGetNamedQuery answers 200 with the ids it could not return beside the others: one of
    // them may be ours, and planning without it would make a second copy.
    let names = desired().names;
    let list = mock!(Client::list_named_queries).then_output(|| {
        ListNamedQueriesOutput::builder()
            .named_query_ids("q1")
            .named_query_ids("q2")
            .build()
    });
    let database = names.athena.database.clone();
    let name = ours(&names, "top talkers");
    let batch = mock!(Client::batch_get_named_query).then_output(move || {
        BatchGetNamedQueryOutput::builder()
            .named_queries(query("q1", &name, &database))
            .unprocessed_named_query_ids(
                UnprocessedNamedQueryId::builder()
                    .named_query_id("q2")
                    .error_code("INTERNAL_ERROR")
                    .error_message("Internal error")
                    .build(),
            )
            .build()
    });
    let err = named_queries::observe(&athena(&[&list, &batch]), &names)
        .await
        .unwrap_err();
    assert!(
        said(&err).contains("q2 (INTERNAL_ERROR: Internal error)")
            && said(&err).contains(&names.athena.workgroup)
            && said(&err).contains("Run the command again"),
        "{}",
        said(&err)
    );
}

#[tokio::test]
async fn a_workgroup_that_does_not_exist_names_the_setting() {
    let mut names = desired().names;
    names.athena.configured = true;
    names.athena.workgroup = "analysts".into();
    let list = mock!(Client::list_named_queries).then_http_response(|| {
        athena_error(
            "InvalidRequestException",
            "WorkGroup analysts is not found.",
        )
    });
    let err = named_queries::observe(&athena(&[&list]), &names)
        .await
        .unwrap_err();
    assert!(
        said(&err).contains("Athena workgroup analysts") && said(&err).contains("athena.workgroup"),
        "{}",
        said(&err)
    );
    // With `athena:` configured the failed read stops the plan ...
    let cx = Observe {
        clients: &athena(&[&list]),
        names: &names,
        resource_ids: &[],
    };
    assert!(NamedQueries::observe(&cx).await.is_err());
}

#[tokio::test]
async fn without_athena_in_the_config_a_refused_read_is_nothing_to_clean_up() {
    // ... without it, observe only looks for what an earlier config made.
    let names = desired().names;
    assert!(!names.athena.configured);
    let list = mock!(Client::list_named_queries).then_http_response(|| {
        athena_error(
            "AccessDeniedException",
            "User is not authorized to perform: athena:ListNamedQueries",
        )
    });
    let clients = athena(&[&list]);
    let cx = Observe {
        clients: &clients,
        names: &names,
        resource_ids: &[],
    };
    assert!(NamedQueries::observe(&cx).await.unwrap().is_empty());
    assert_eq!(list.num_calls(), 1);
}

/// The executor's call for `op`, with clients answering from `rules`.
async fn apply(rules: &[&Rule], op: &Op) -> anyhow::Result<()> {
    let clients = athena(rules);
    let cx = Apply {
        clients: &clients,
        code: &CodeSource::none(),
        progress: &Progress::quiet(),
        made: Made::default(),
    };
    NamedQueries::apply(&cx, op).await
}

#[tokio::test]
async fn a_query_is_created_in_its_workgroup_and_a_refused_delete_names_it() {
    let names = desired().names;
    let wanted = crate::desired::athena::DesiredNamedQuery {
        name: ours(&names, "top talkers"),
        description: "the top talkers".into(),
        database: names.athena.database.clone(),
        workgroup: "analysts".into(),
        query: "SELECT 1".into(),
    };
    let expected = wanted.clone();
    let create = mock!(Client::create_named_query)
        .match_requests(move |r| {
            r.name() == Some(expected.name.as_str())
                && r.description() == Some(expected.description.as_str())
                && r.database() == Some(expected.database.as_str())
                && r.query_string() == Some(expected.query.as_str())
                && r.work_group() == Some("analysts")
        })
        .then_output(|| {
            CreateNamedQueryOutput::builder()
                .named_query_id("q9")
                .build()
        });
    apply(&[&create], &Op::CreateNamedQuery { query: wanted })
        .await
        .unwrap();
    assert_eq!(create.num_calls(), 1);

    let delete = mock!(Client::delete_named_query).then_http_response(|| {
        athena_error(
            "AccessDeniedException",
            "User is not authorized to perform: athena:DeleteNamedQuery",
        )
    });
    let err = apply(
        &[&delete],
        &Op::DeleteNamedQuery {
            id: "q9".into(),
            name: "flowlogs s: top talkers".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        said(&err).contains("deleting Athena named query `flowlogs s: top talkers` (q9)"),
        "{}",
        said(&err)
    );
}
