//! The Athena part of the stack against the local stack (moto, without the Lambda runtime): setup
//! makes the Glue database and table (columns, SerDe, partition projection) and the named queries;
//! a second setup writes nothing; a format change replaces the table and its queries; teardown
//! removes them, leaves someone else's named query and every object of the bucket. A hive table of
//! the former form (a quoted-literal date projection) is replaced by AWS's hive partition columns.

use crate::support::config::StackConfig;
use crate::support::{
    assert_exit, fake_zip, printed, recorder, Behaviours, Service, Stack, ACCOUNT_ID, REGION,
};
use flowlogs_aws_lite::glue::{self, Glue};
use serde_json::Value;

const STACK: &str = "athena-it";
const BUCKET: &str = "athena-it-flowlogs-123456789012-us-east-1";
const DATABASE: &str = "flowlogs";
const TABLE: &str = "athena_it_flow_logs";

fn config(vpc: &str, format: &str) -> StackConfig {
    StackConfig::lambda(STACK, vpc, "http://127.0.0.1:4318")
        .format(format)
        .flow_log("per_hour_partition", true)
        .athena()
}

async fn table(glue: &Glue) -> Option<glue::Table> {
    glue.get_table(DATABASE, TABLE).await.ok().flatten()
}

/// (name, database) of every named query in the primary workgroup.
async fn named_queries(athena: &aws_sdk_athena::Client) -> Vec<(String, String)> {
    let ids = athena
        .list_named_queries()
        .work_group("primary")
        .send()
        .await
        .unwrap()
        .named_query_ids()
        .to_vec();
    let mut out = Vec::new();
    for id in ids {
        let q = athena
            .get_named_query()
            .named_query_id(id)
            .send()
            .await
            .unwrap();
        let q = q.named_query().unwrap();
        out.push((q.name().to_string(), q.database().to_string()));
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_makes_the_table_and_queries_a_format_change_replaces_them_and_teardown_keeps_the_data(
) {
    let stack = Stack::start_with(&[Service::Moto], Behaviours::none());
    let sdk = stack.sdk_config().await;
    let (s3, glue, athena) = (
        aws_sdk_s3::Client::new(&sdk),
        Glue::new(&sdk),
        aws_sdk_athena::Client::new(&sdk),
    );
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    // Someone else's saved query in the same workgroup: never touched.
    athena
        .create_named_query()
        .name("my own top talkers")
        .database(DATABASE)
        .query_string("SELECT 1")
        .work_group("primary")
        .send()
        .await
        .unwrap();
    let zip = fake_zip(stack.dir());
    let zip_arg = zip.to_str().unwrap();
    let cfg = config(&vpc, "default").write(stack.dir());

    let setup = cfg.setup_zip(&stack, zip_arg);
    assert_exit(&setup, 0);

    // The table reads the flow log as configured: its columns in the format's order, text after
    // the header line, projected by day and hour from the stack's first day.
    let t = table(&glue).await.expect("the Glue table exists");
    let sd = t.storage_descriptor.as_ref().unwrap();
    let columns: Vec<String> = sd
        .columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.kind.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(columns.len(), 14);
    assert_eq!(columns[0], "version int");
    assert_eq!(columns[11], "end bigint");
    let prefix = format!("AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/");
    assert_eq!(
        sd.location.as_deref(),
        Some(format!("s3://{BUCKET}/{prefix}").as_str())
    );
    assert_eq!(
        sd.serde_info.as_ref().unwrap().parameters["field.delim"],
        " "
    );
    let params = &t.parameters;
    assert_eq!(params["flowlogs:stack"], STACK);
    assert_eq!(params["skip.header.line.count"], "1");
    assert_eq!(params["projection.enabled"], "true");
    assert_eq!(params["projection.day.format"], "yyyy/MM/dd");
    assert!(params["projection.day.range"].ends_with(",NOW"));
    assert_eq!(
        params["storage.location.template"],
        format!("s3://{BUCKET}/{prefix}${{day}}/${{hour}}/")
    );
    let keys: Vec<&str> = t.partition_keys.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(keys, ["day", "hour"]);
    let tags = glue
        .get_tags(&format!(
            "arn:aws:glue:{REGION}:{ACCOUNT_ID}:database/{DATABASE}"
        ))
        .await
        .unwrap();
    assert_eq!(tags["flowlogs:stack"], STACK);
    let ours = |qs: &[(String, String)]| -> Vec<String> {
        qs.iter()
            .filter(|(n, _)| n.starts_with("flowlogs athena-it: "))
            .map(|(n, _)| n.trim_start_matches("flowlogs athena-it: ").to_string())
            .collect()
    };
    let queries = named_queries(&athena).await;
    assert_eq!(
        ours(&queries),
        [
            "rejected traffic by source and port",
            "top talkers by bytes",
            "traffic per interface over time"
        ]
    );

    // A flow-log object as AWS writes it: the data the table reads.
    let data_key = format!(
        "{prefix}2026/11/29/13/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0a1b_20261129T1305Z_ab12.log.gz"
    );
    s3.put_object()
        .bucket(BUCKET)
        .key(&data_key)
        .body(b"not really gzip".to_vec().into())
        .send()
        .await
        .unwrap();

    // The plan shows the table's DDL, and a second setup writes nothing.
    let plan = cfg.run(
        &stack,
        &["plan", "--output", "json", "--forwarder-zip", zip_arg],
    );
    assert_exit(&plan, 0);
    let doc: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(doc["changes"], false, "{doc}");
    let ddl = doc["documents"]["athena_table_ddl"].as_str().unwrap();
    assert!(
        ddl.starts_with(&format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS `{DATABASE}`.`{TABLE}` ("
        )),
        "{ddl}"
    );
    assert!(ddl.contains(&format!(
        "'projection.day.range' = '{}'",
        params["projection.day.range"]
    )));
    recorder::start(&stack.moto_endpoint);
    let again = cfg.setup_zip(&stack, zip_arg);
    assert_exit(&again, 0);
    let writes = recorder::writes(&stack.moto_endpoint);
    assert!(writes.is_empty(), "a second setup wrote: {writes:?}");

    // A format change replaces the table (its columns follow) and adds the service query.
    let all = config(&vpc, "all").write(stack.dir());
    let plan = all.run(&stack, &["plan", "--forwarder-zip", zip_arg]);
    assert!(
        printed(&plan).contains(&format!("-/+ glue table {DATABASE}.{TABLE}")),
        "{}",
        printed(&plan)
    );
    let replaced = all.setup_zip(&stack, zip_arg);
    assert_exit(&replaced, 0);
    let t = table(&glue).await.expect("the replaced table exists");
    assert_eq!(t.storage_descriptor.as_ref().unwrap().columns.len(), 40);
    assert_eq!(ours(&named_queries(&athena).await).len(), 4);

    // Teardown removes the table, the database (ours, holding nothing else) and our queries; the
    // data and someone else's query stay.
    let teardown = all.run(&stack, &["teardown", "--yes"]);
    assert_exit(&teardown, 0);
    assert!(table(&glue).await.is_none());
    assert!(glue.get_database(DATABASE).await.is_err());
    let left = named_queries(&athena).await;
    assert_eq!(
        left,
        [("my own top talkers".to_string(), DATABASE.to_string())]
    );
    let data = s3.head_object().bucket(BUCKET).key(&data_key).send().await;
    assert!(data.is_ok(), "teardown touched the data: {data:?}");
}

/// verify with the forwarder running: the projection placed against an object AWS would have
/// written, and `--athena`'s query judged honestly (moto runs no SQL: it reads nothing).
#[tokio::test(flavor = "multi_thread")]
async fn verify_places_a_delivered_object_in_its_partition_and_does_not_trust_a_query_that_read_nothing(
) {
    let stack = Stack::start(&[Service::Moto, Service::Rotel, Service::Lambda]);
    let sdk = stack.sdk_config().await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let vpc = stack.create_vpc("10.0.0.0/16").await;
    let cfg = StackConfig::lambda(STACK, &vpc, &stack.otlp_endpoint)
        .flow_log("hive_compatible_partitions", true)
        .athena()
        .write(stack.dir());
    cfg.setup(&stack, &[]);

    // A table of the former hive form, as an earlier flowlogs made it: one `day` partition
    // projected as a date written with quoted literals (`'year='yyyy...`), which no AWS example
    // shows. The next setup replaces it with AWS's hive partition columns.
    let glue = Glue::new(&sdk);
    former_hive_table(&glue).await;
    let plan = cfg.run(&stack, &["plan"]);
    assert!(
        printed(&plan).contains(&format!("-/+ glue table {DATABASE}.{TABLE}")),
        "{}",
        printed(&plan)
    );
    assert_exit(&cfg.run(&stack, &["setup", "--yes", "--no-verify"]), 0);
    let t = table(&glue).await.expect("the replaced table");
    let keys: Vec<&str> = t.partition_keys.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(keys, ["year", "month", "day"]);
    let params = &t.parameters;
    assert_eq!(params["projection.year.type"], "date");
    assert_eq!(params["projection.year.format"], "yyyy");
    assert_eq!(params["projection.month.digits"], "2");
    assert!(
        params.values().all(|v| !v.contains("'year='")),
        "{params:?}"
    );
    // The saved queries read the new columns.
    let athena = aws_sdk_athena::Client::new(&sdk);
    let ids = athena
        .list_named_queries()
        .work_group("primary")
        .send()
        .await
        .unwrap()
        .named_query_ids()
        .to_vec();
    assert!(!ids.is_empty());
    for id in ids {
        let q = athena
            .get_named_query()
            .named_query_id(id)
            .send()
            .await
            .unwrap();
        let sql = q.named_query().unwrap().query_string();
        assert!(sql.contains("\"year\" >= date_format("), "{sql}");
    }
    assert_exit(&cfg.run(&stack, &["plan", "--detailed-exitcode"]), 0);

    // Nothing delivered yet: the check says where the table will read.
    let verify = cfg.run(&stack, &["verify", "--output", "json"]);
    assert_exit(&verify, 0);
    let doc: Value = serde_json::from_slice(&verify.stdout).unwrap();
    let check = |doc: &Value, name: &str| -> Value {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no check {name}: {doc}"))
    };
    let none = check(&doc, "athena table projection");
    assert!(
        none["ok"] == true
            && none["detail"]
                .as_str()
                .unwrap()
                .contains("no flow-log object delivered yet"),
        "{none}"
    );

    // An object where AWS writes today's logs in the hive layout (the canary is not one: its
    // folder is no partition). Today, so it is inside the projection's range.
    let today = verify_today();
    let key = format!(
        "AWSLogs/aws-account-id={ACCOUNT_ID}/aws-service=vpcflowlogs/aws-region={REGION}/year={}/month={}/day={}/{ACCOUNT_ID}_vpcflowlogs_{REGION}_fl-0a1b_{}{}{}T0000Z_ab12.log.gz",
        today.0, today.1, today.2, today.0, today.1, today.2
    );
    s3.put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(b"version srcaddr\n".to_vec().into())
        .send()
        .await
        .unwrap();
    let verify = cfg.run(&stack, &["verify", "--athena", "--output", "json"]);
    assert_exit(&verify, 1);
    let doc: Value = serde_json::from_slice(&verify.stdout).unwrap();
    let placed = check(&doc, "athena table projection");
    let wanted = format!(
        "falls in partition year = '{}' AND month = '{}' AND day = '{}'",
        today.0, today.1, today.2
    );
    assert!(
        placed["ok"] == true && placed["detail"].as_str().unwrap().contains(&wanted),
        "{placed}"
    );
    let query = check(&doc, "athena query");
    assert_eq!(query["ok"], false, "{query}");
    assert!(
        query["detail"].as_str().unwrap().contains("read no data"),
        "{query}"
    );
    // Every other check passed: the failure is the query's alone.
    let failed: Vec<&Value> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{doc}");
    assert_exit(&cfg.run(&stack, &["teardown", "--yes"]), 0);
}

/// Rewrites the stack's table in the former hive form: partition `day` (string), a date projection
/// written `'year='yyyy'/month='MM'/day='dd`, the table's other properties (ours) kept.
async fn former_hive_table(glue: &Glue) {
    let t = table(glue).await.expect("the table setup made");
    let location = t
        .storage_descriptor
        .as_ref()
        .unwrap()
        .location
        .clone()
        .unwrap();
    let mut params = t.parameters.clone();
    params.retain(|k, _| !k.starts_with("projection.") && k != "storage.location.template");
    for (k, v) in [
        ("projection.enabled", "true".to_string()),
        ("projection.day.type", "date".to_string()),
        (
            "projection.day.format",
            "'year='yyyy'/month='MM'/day='dd".to_string(),
        ),
        (
            "projection.day.range",
            "year=2026/month=01/day=01,NOW".to_string(),
        ),
        ("projection.day.interval", "1".to_string()),
        ("projection.day.interval.unit", "DAYS".to_string()),
        ("storage.location.template", format!("{location}${{day}}/")),
    ] {
        params.insert(k.to_string(), v);
    }
    let input = glue::TableInput {
        name: TABLE.into(),
        table_type: Some("EXTERNAL_TABLE".into()),
        storage_descriptor: t.storage_descriptor.clone(),
        partition_keys: vec![glue::Column::new("day", "string")],
        parameters: params,
        ..glue::TableInput::default()
    };
    glue.update_table(DATABASE, &input).await.unwrap();
    let keys: Vec<String> = table(glue)
        .await
        .unwrap()
        .partition_keys
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(keys, ["day"], "the former form is in place");
}

/// Today in UTC as ("yyyy", "MM", "dd"), from the system clock (`date -u`).
fn verify_today() -> (String, String, String) {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y %m %d"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let parts: Vec<&str> = text.split_whitespace().collect();
    (parts[0].into(), parts[1].into(), parts[2].into())
}
