use std::path::Path;

use super::*;
use crate::config;

fn desired(flow_log: &str, athena: &str) -> crate::desired::Desired {
    let text = format!(
        "version: 1\nstack: prod-vpc\nflow_log:\n  resources: {{ vpc_ids: [vpc-0abc] }}\n{flow_log}bucket: {{ prefix: team-a }}\ndelivery:\n  otlp: {{ endpoint: http://127.0.0.1:4318 }}\n{athena}"
    );
    let c = config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
    crate::desired::build(&c, "123456789012", "eu-west-1", "abc").unwrap()
}

fn since(d: &crate::desired::Desired) -> DesiredAthena {
    with_since(
        &d.athena,
        None,
        Day {
            year: 2026,
            month: 11,
            day: 29,
        },
    )
    .unwrap()
}

#[test]
fn no_athena_section_means_no_athena_resources_but_default_names() {
    let d = desired("", "");
    assert!(d.athena.is_none());
    assert_eq!(d.names.athena.database, "flowlogs");
    assert_eq!(d.names.athena.table, "prod_vpc_flow_logs");
    assert_eq!(d.names.athena.workgroup, "primary");
    // Without the section, a failed read means nothing to clean up; with it, a failed plan.
    let denied = || anyhow::Result::<Vec<u8>>::Err(anyhow::anyhow!("AccessDeniedException"));
    assert_eq!(d.names.athena.read(denied()).unwrap(), Vec::<u8>::new());
    let configured = desired("", "athena: {}\n");
    assert!(configured.names.athena.read(denied()).is_err());
}

#[test]
fn a_text_table_reads_space_delimited_text_after_its_header() {
    let a = since(&desired("", "athena: {}\n"));
    let t = &a.table;
    assert_eq!(
        (t.database.as_str(), t.name.as_str()),
        ("flowlogs", "prod_vpc_flow_logs")
    );
    assert_eq!(
        t.location,
        "s3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/123456789012/vpcflowlogs/eu-west-1/"
    );
    assert_eq!(t.storage.serde_parameters["field.delim"], " ");
    assert!(t.storage.input_format.ends_with("TextInputFormat"));
    let p = t.parameters();
    assert_eq!(p["skip.header.line.count"], "1");
    assert_eq!(p["flowlogs:stack"], "prod-vpc");
    assert_eq!(p["projection.day.range"], "2026/11/29,NOW");
    assert_eq!(t.columns.len(), 14);
    assert_eq!(
        a.database.arn,
        "arn:aws:glue:eu-west-1:123456789012:database/flowlogs"
    );
    assert_eq!(
        a.result_location,
        "s3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/athena-results/"
    );
    let ddl = t.ddl();
    assert!(ddl.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `flowlogs`.`prod_vpc_flow_logs` (\n  `version` int,"), "{ddl}");
    assert!(ddl.contains("  `end` bigint,"), "{ddl}");
    assert!(ddl.contains("PARTITIONED BY (\n  `day` string\n)"), "{ddl}");
    assert!(ddl.contains("'field.delim' = ' '"), "{ddl}");
    assert!(ddl.contains("'skip.header.line.count' = '1'"), "{ddl}");
    assert!(ddl.contains("'storage.location.template' = 's3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/123456789012/vpcflowlogs/eu-west-1/${day}/'"), "{ddl}");
}

#[test]
fn a_parquet_hive_hourly_table_uses_the_parquet_serde_and_hour_partitions() {
    let a = since(&desired(
        "  format: all\n  file_format: parquet\n  hive_compatible_partitions: true\n  per_hour_partition: true\n",
        "athena: { database: analytics, table: vpc, workgroup: team.a }\n",
    ));
    let t = &a.table;
    assert!(t.storage.serde.ends_with("ParquetHiveSerDe"));
    let p = t.parameters();
    assert!(!p.contains_key("skip.header.line.count"));
    assert_eq!(p["projection.year.range"], "2026,NOW");
    assert_eq!(p["projection.month.digits"], "2");
    assert!(!p.contains_key("projection.day.format"));
    assert!(t.location.ends_with(
        "/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
    ));
    assert_eq!(
        t.partition_keys,
        [
            Column::new("year", "string"),
            Column::new("month", "string"),
            Column::new("day", "string"),
            Column::new("hour", "string")
        ]
    );
    let ddl = t.ddl();
    assert!(ddl.contains("'projection.year.format' = 'yyyy'"), "{ddl}");
    assert!(ddl.contains("'projection.hour.digits' = '2'"), "{ddl}");
    assert!(
        !ddl.contains("'year='"),
        "no quoted literal in a date format: {ddl}"
    );
    assert_eq!(t.columns.len(), 40);
    assert_eq!(a.queries.len(), 4);
    assert!(a
        .queries
        .iter()
        .all(|q| q.database == "analytics" && q.workgroup == "team.a"));
    assert!(t.ddl().contains(
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'"
    ));
}

#[test]
fn the_projection_keeps_the_earliest_first_day() {
    let d = desired("", "athena: {}\n");
    let stack = Day {
        year: 2026,
        month: 11,
        day: 29,
    };
    let earlier = Day {
        year: 2026,
        month: 1,
        day: 2,
    };
    let later = Day {
        year: 2026,
        month: 12,
        day: 1,
    };
    let first = |existing| with_since(&d.athena, existing, stack).unwrap().table.since;
    assert_eq!(first(None), Some(stack));
    assert_eq!(first(Some(earlier)), Some(earlier));
    assert_eq!(first(Some(later)), Some(stack));
}

#[test]
fn athena_is_refused_in_firehose_mode_and_names_are_checked() {
    let base = "version: 1\nstack: s\nflow_log: { resources: { vpc_ids: [vpc-1] } }\n";
    let firehose = format!("{base}delivery: {{ mode: firehose, firehose: {{ url: https://o2.example.com/x }} }}\nathena: {{}}\n");
    let e = config::parse(&firehose, Path::new("t.yaml"), &|_| None).unwrap_err();
    assert_eq!(e.key, "athena");
    let lambda = format!("{base}delivery: {{ otlp: {{ endpoint: http://127.0.0.1:4318 }} }}\n");
    let bad_table = format!("{lambda}athena: {{ table: Prod-Logs }}\n");
    let e = config::parse(&bad_table, Path::new("t.yaml"), &|_| None).unwrap_err();
    assert_eq!(e.key, "athena.table");
    assert_eq!(e.line, Some(5));
    let bad_location = format!("{lambda}athena: {{ result_location: 'https://x' }}\n");
    let e = config::parse(&bad_location, Path::new("t.yaml"), &|_| None).unwrap_err();
    assert_eq!(e.key, "athena.result_location");
}
