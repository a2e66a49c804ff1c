//! The client end to end over an in-process HTTP client: what goes on the wire (POST, the JSON
//! 1.1 content type and target, the exact body, SigV4 for `glue` in the config's region, the
//! endpoint) and what comes back (pages, Glue's errors, throttling retried).

use std::sync::{Arc, Mutex};

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::*;
use crate::glue::{Column, SerDeInfo, StorageDescriptor};
use crate::test_http::{Answer, Seen};

/// A client whose HTTP answers are `answers` in turn (status, headers, body), with what it sent.
fn answering(answers: Vec<Answer>, endpoint: Option<&str>) -> (Glue, Arc<Mutex<Vec<Seen>>>) {
    let (config, seen) = crate::test_http::answering(answers, endpoint);
    (Glue::new(&config), seen)
}

fn ok(body: &str) -> Answer {
    (200, vec![("content-type", CONTENT_TYPE)], body.to_string())
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    (
        status,
        vec![
            ("content-type", CONTENT_TYPE),
            ("x-amzn-requestid", "5b2f0c5e-example"),
        ],
        format!(r#"{{"__type":"{code}","Message":"{message}"}}"#),
    )
}

/// A table as flowlogs makes one (the members of the API reference's `TableInput`).
fn table_input() -> TableInput {
    TableInput {
        name: "vpc_flow_logs".into(),
        description: Some("VPC flow logs".into()),
        table_type: Some("EXTERNAL_TABLE".into()),
        partition_keys: vec![Column::new("day", "string")],
        storage_descriptor: Some(StorageDescriptor {
            columns: vec![
                Column::new("version", "int"),
                Column::new("srcaddr", "string"),
            ],
            location: Some("s3://b/AWSLogs/".into()),
            input_format: Some("org.apache.hadoop.mapred.TextInputFormat".into()),
            output_format: Some(
                "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat".into(),
            ),
            serde_info: Some(SerDeInfo {
                serialization_library: Some(
                    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe".into(),
                ),
                parameters: BTreeMap::from([("field.delim".into(), " ".into())]),
            }),
        }),
        parameters: BTreeMap::from([
            ("EXTERNAL".into(), "TRUE".into()),
            ("projection.enabled".into(), "true".into()),
        ]),
    }
}

#[tokio::test]
async fn create_table_is_a_signed_json_post_with_its_target_and_exact_body() {
    let (glue, seen) = answering(vec![ok("{}")], Some("http://127.0.0.1:4566"));
    assert_eq!(glue.endpoint(), "http://127.0.0.1:4566");
    glue.create_table("flowlogs", &table_input()).await.unwrap();
    let seen = seen.lock().unwrap();
    let r = &seen[0];
    assert_eq!(r.uri, "http://127.0.0.1:4566/");
    assert_eq!(r.method, "POST");
    assert_eq!(r.content_type, "application/x-amz-json-1.1");
    assert_eq!(r.target, "AWSGlue.CreateTable");
    assert_eq!(
        r.body,
        concat!(
            r#"{"DatabaseName":"flowlogs","TableInput":{"Name":"vpc_flow_logs","#,
            r#""Description":"VPC flow logs","TableType":"EXTERNAL_TABLE","#,
            r#""PartitionKeys":[{"Name":"day","Type":"string"}],"#,
            r#""StorageDescriptor":{"Columns":[{"Name":"version","Type":"int"},{"Name":"srcaddr","Type":"string"}],"#,
            r#""Location":"s3://b/AWSLogs/","#,
            r#""InputFormat":"org.apache.hadoop.mapred.TextInputFormat","#,
            r#""OutputFormat":"org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat","#,
            r#""SerdeInfo":{"SerializationLibrary":"org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe","Parameters":{"field.delim":" "}}},"#,
            r#""Parameters":{"EXTERNAL":"TRUE","projection.enabled":"true"}}}"#
        )
    );
    assert!(
        r.authorization
            .starts_with("AWS4-HMAC-SHA256 Credential=ANOTREAL/")
            && r.authorization.contains("/eu-west-1/glue/aws4_request")
            && r.authorization.contains("x-amz-target"),
        "{}",
        r.authorization
    );
}

#[tokio::test]
async fn the_other_actions_send_their_members() {
    let (glue, seen) = answering(
        vec![ok("{}"), ok("{}"), ok("{}"), ok("{}"), ok("{}"), ok("{}")],
        None,
    );
    let tags = BTreeMap::from([("flowlogs:stack".to_string(), "s".to_string())]);
    let database = DatabaseInput {
        name: "flowlogs".into(),
        description: Some("d".into()),
    };
    glue.create_database(&database, &tags).await.unwrap();
    glue.tag_resource("arn:aws:glue:eu-west-1:1:database/flowlogs", &tags)
        .await
        .unwrap();
    glue.delete_table("flowlogs", "t").await.unwrap();
    glue.delete_database("flowlogs").await.unwrap();
    glue.update_table(
        "flowlogs",
        &TableInput {
            name: "t".into(),
            ..TableInput::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(glue.get_database("flowlogs").await.unwrap(), None);
    let seen = seen.lock().unwrap();
    let sent: Vec<(&str, &str)> = seen
        .iter()
        .map(|r| (r.target.as_str(), r.body.as_str()))
        .collect();
    assert_eq!(
        sent,
        [
            (
                "AWSGlue.CreateDatabase",
                r#"{"DatabaseInput":{"Name":"flowlogs","Description":"d"},"Tags":{"flowlogs:stack":"s"}}"#
            ),
            (
                "AWSGlue.TagResource",
                r#"{"ResourceArn":"arn:aws:glue:eu-west-1:1:database/flowlogs","TagsToAdd":{"flowlogs:stack":"s"}}"#
            ),
            (
                "AWSGlue.DeleteTable",
                r#"{"DatabaseName":"flowlogs","Name":"t"}"#
            ),
            ("AWSGlue.DeleteDatabase", r#"{"Name":"flowlogs"}"#),
            (
                "AWSGlue.UpdateTable",
                r#"{"DatabaseName":"flowlogs","TableInput":{"Name":"t","PartitionKeys":[],"Parameters":{}}}"#
            ),
            ("AWSGlue.GetDatabase", r#"{"Name":"flowlogs"}"#),
        ]
    );
}

#[test]
fn without_an_endpoint_the_regions_public_one_is_used() {
    let (glue, _) = answering(vec![], None);
    assert_eq!(glue.endpoint(), "https://glue.eu-west-1.amazonaws.com");
    assert_eq!(glue.region(), "eu-west-1");
}

/// GetTable's answer as the API reference shows a `Table` (CreateTime in epoch seconds).
#[tokio::test]
async fn get_table_reads_the_table() {
    let (glue, seen) = answering(
        vec![ok(concat!(
            r#"{"Table":{"Name":"vpc_flow_logs","DatabaseName":"flowlogs","CreateTime":1.764979E9,"#,
            r#""UpdateTime":1764979200.5,"Retention":0,"TableType":"EXTERNAL_TABLE","#,
            r#""PartitionKeys":[{"Name":"day","Type":"string"}],"#,
            r#""StorageDescriptor":{"Columns":[{"Name":"version","Type":"int"}],"Location":"s3://b/","Compressed":false,"NumberOfBuckets":0,"#,
            r#""SerdeInfo":{"SerializationLibrary":"org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe","Parameters":{"field.delim":" "}},"SortColumns":[],"StoredAsSubDirectories":false},"#,
            r#""Parameters":{"flowlogs:stack":"s"},"IsRegisteredWithLakeFormation":false,"CatalogId":"123456789012","VersionId":"0"}}"#
        ))],
        None,
    );
    let t = glue
        .get_table("flowlogs", "vpc_flow_logs")
        .await
        .unwrap()
        .expect("a table");
    assert_eq!(
        seen.lock().unwrap()[0].body,
        r#"{"DatabaseName":"flowlogs","Name":"vpc_flow_logs"}"#
    );
    assert_eq!(t.name, "vpc_flow_logs");
    assert_eq!(t.create_time, Some(1_764_979_000.0));
    assert_eq!(t.update_time, Some(1_764_979_200.5));
    assert_eq!(t.partition_keys, [Column::new("day", "string")]);
    let sd = t.storage_descriptor.as_ref().unwrap();
    assert_eq!(sd.location.as_deref(), Some("s3://b/"));
    assert_eq!(
        sd.serde_info.as_ref().unwrap().parameters["field.delim"],
        " "
    );
    assert_eq!(t.parameters["flowlogs:stack"], "s");
    assert_eq!(t.to_input().storage_descriptor, t.storage_descriptor);
}

#[tokio::test]
async fn every_page_of_get_tables_and_the_tags_are_read() {
    let (glue, seen) = answering(
        vec![
            ok(r#"{"TableList":[{"Name":"a"}],"NextToken":"p2"}"#),
            ok(r#"{"TableList":[{"Name":"b"}]}"#),
            ok(r#"{"Tags":{"flowlogs:stack":"s"}}"#),
        ],
        None,
    );
    let names: Vec<String> = glue
        .get_tables("flowlogs")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    let tags = glue
        .get_tags("arn:aws:glue:eu-west-1:1:database/flowlogs")
        .await
        .unwrap();
    assert_eq!(tags["flowlogs:stack"], "s");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].body, r#"{"DatabaseName":"flowlogs"}"#);
    assert_eq!(
        seen[1].body,
        r#"{"DatabaseName":"flowlogs","NextToken":"p2"}"#
    );
    assert_eq!(seen[2].target, "AWSGlue.GetTags");
    assert_eq!(
        seen[2].body,
        r#"{"ResourceArn":"arn:aws:glue:eu-west-1:1:database/flowlogs"}"#
    );
}

#[tokio::test]
async fn throttling_is_retried_and_a_client_error_is_not() {
    let (glue, seen) = answering(
        vec![
            error(400, "ThrottlingException", "Rate exceeded"),
            ok(r#"{"TableList":[]}"#),
        ],
        None,
    );
    assert!(glue.get_tables("flowlogs").await.unwrap().is_empty());
    assert_eq!(seen.lock().unwrap().len(), 2);

    let (glue, seen) = answering(
        vec![error(400, "EntityNotFoundException", "Table t not found.")],
        None,
    );
    let e = glue.get_table("flowlogs", "t").await.unwrap_err();
    let service = e.as_service_error().expect("Glue's own error");
    assert!(service.is_entity_not_found());
    assert_eq!(service.code(), Some("EntityNotFoundException"));
    assert_eq!(service.message(), Some("Table t not found."));
    assert_eq!(
        aws_types::request_id::RequestId::request_id(service),
        Some("5b2f0c5e-example")
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}
