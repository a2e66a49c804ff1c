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
    on_the_29th(&d.athena)
}

/// `athena` resolved as if the stack's first flow log were of 2026-11-29.
fn on_the_29th(athena: &Option<DesiredAthena>) -> DesiredAthena {
    with_since(
        athena,
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

/// The table and queries in one text: the DDL (columns, partition keys, SerDe, location, every
/// table property) and each saved query's name and SQL.
fn rendered(a: &DesiredAthena) -> String {
    let mut out = a.table.ddl();
    for q in &a.queries {
        out.push_str(&format!("\n\n-- {}\n{}", q.name, q.query));
    }
    out.push('\n');
    out
}

/// A stack without `targets:` keeps the very table and queries it had before the account and
/// region partitions: its plan shows no change. The files were written by flowlogs as it was
/// before them (commit f5998a6).
#[test]
fn a_single_account_table_and_its_queries_are_what_they_were() {
    let plain = since(&desired("", "athena: {}\n"));
    assert_eq!(
        rendered(&plain),
        include_str!("testdata/single_account_plain.sql")
    );
    let hive = since(&desired(
        "  format: all\n  file_format: parquet\n  hive_compatible_partitions: true\n  per_hour_partition: true\n",
        "athena: { database: analytics, table: vpc, workgroup: team.a }\n",
    ));
    assert_eq!(
        rendered(&hive),
        include_str!("testdata/single_account_hive_hourly.sql")
    );
    assert!(plain.table.origins.is_none());
    // Its projection is one Athena reads.
    for t in [&plain.table, &hive.table] {
        let keys: Vec<&str> = t.partition_keys.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            origin::projection_problems(&keys, &t.parameters()),
            Vec::<String>::new()
        );
    }
}

const MEMBERS: [&str; 2] = ["111111111111", "222222222222"];
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// The table of a stack with `targets:` over `MEMBERS` × `REGIONS` (the hub is 123456789012).
fn fleet_athena(flow_log: &str, accounts: &[&str]) -> DesiredAthena {
    let text = format!(
        "version: 1\nstack: prod-vpc\nflow_log:\n  resources: {{ all_vpcs: true }}\n{flow_log}bucket: {{ prefix: team-a }}\ndelivery:\n  otlp: {{ endpoint: http://127.0.0.1:4318 }}\nathena: {{}}\ntargets:\n  accounts: [\"111111111111\", \"222222222222\"]\n  regions: [eu-west-1, us-east-1]\n"
    );
    let c = config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
    let d = crate::desired::build(&c, "123456789012", "eu-west-1", "abc").unwrap();
    let accounts: Vec<String> = accounts.iter().map(|s| s.to_string()).collect();
    let regions: Vec<String> = REGIONS.iter().map(|s| s.to_string()).collect();
    on_the_29th(&build_with(
        &c,
        &d.names,
        Some(&Origins::new(&accounts, &regions)),
    ))
}

/// A key as AWS writes it for `account` in `region` (VPC user guide, "Flow log files").
fn member_key(hive: bool, hourly: bool, account: &str, region: &str) -> String {
    let file = format!("{account}_vpcflowlogs_{region}_fl-0abc_20261206T1305Z_1a2b.log.gz");
    match (hive, hourly) {
        (false, false) => format!("team-a/AWSLogs/{account}/vpcflowlogs/{region}/2026/12/06/{file}"),
        (false, true) => format!("team-a/AWSLogs/{account}/vpcflowlogs/{region}/2026/12/06/13/{file}"),
        (true, false) => format!("team-a/AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year=2026/month=12/day=06/{file}"),
        (true, true) => format!("team-a/AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year=2026/month=12/day=06/hour=13/{file}"),
    }
}

#[test]
fn with_targets_the_table_reads_every_target_account_and_region_as_partitions() {
    let a = fleet_athena("", &MEMBERS);
    let t = &a.table;
    assert_eq!(
        t.location,
        "s3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/"
    );
    assert_eq!(t.key_prefix, "team-a/AWSLogs/");
    assert_eq!(
        t.partition_keys,
        [
            Column::new("aws_account_id", "string"),
            Column::new("aws_region", "string"),
            Column::new("day", "string")
        ]
    );
    let p = t.parameters();
    assert_eq!(p["projection.aws_account_id.type"], "enum");
    assert_eq!(
        p["projection.aws_account_id.values"],
        "111111111111,222222222222"
    );
    assert_eq!(p["projection.aws_region.type"], "enum");
    assert_eq!(p["projection.aws_region.values"], "eu-west-1,us-east-1");
    assert_eq!(
        p["storage.location.template"],
        "s3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/${aws_account_id}/vpcflowlogs/${aws_region}/${day}/"
    );
    let ddl = t.ddl();
    assert!(
        ddl.contains("PARTITIONED BY (\n  `aws_account_id` string,\n  `aws_region` string,\n  `day` string\n)"),
        "{ddl}"
    );
    assert!(
        ddl.contains("LOCATION 's3://prod-vpc-flowlogs-123456789012-eu-west-1/team-a/AWSLogs/'"),
        "{ddl}"
    );
    // An account that joins the fleet changes the enum only: the table is updated in place.
    let grown = fleet_athena("", &["111111111111", "222222222222", "333333333333"]);
    assert_eq!(grown.table.partition_keys, t.partition_keys);
    assert_eq!(grown.table.location, t.location);
    assert_eq!(
        grown.table.parameters()["projection.aws_account_id.values"],
        "111111111111,222222222222,333333333333"
    );
    // No account left (every one excluded): the enum still has a value, the hub's.
    let none = fleet_athena("", &[]);
    assert_eq!(
        none.table.parameters()["projection.aws_account_id.values"],
        "123456789012"
    );
}

#[test]
fn every_layout_with_targets_projects_each_targets_folder_as_athena_requires() {
    for hive in [false, true] {
        for hourly in [false, true] {
            let flow_log = format!(
                "  file_format: parquet\n  hive_compatible_partitions: {hive}\n  per_hour_partition: {hourly}\n"
            );
            let t = fleet_athena(&flow_log, &MEMBERS).table;
            let params = t.parameters();
            let keys: Vec<&str> = t.partition_keys.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(
                origin::projection_problems(&keys, &params),
                Vec::<String>::new(),
                "hive {hive} hourly {hourly}"
            );
            for account in MEMBERS {
                for region in REGIONS {
                    let key = member_key(hive, hourly, account, region);
                    // What the projection makes of this partition: the template with its values.
                    let projected = params["storage.location.template"]
                        .replace("${aws_account_id}", account)
                        .replace("${aws_region}", region)
                        .replace("${year}", "2026")
                        .replace("${month}", "12")
                        .replace("${day}", if hive { "06" } else { "2026/12/06" })
                        .replace("${hour}", "13");
                    let folder = &key[..=key.rfind('/').unwrap()];
                    assert_eq!(
                        projected,
                        format!("s3://prod-vpc-flowlogs-123456789012-eu-west-1/{folder}"),
                        "{key}"
                    );
                    let p = t.partition_of(&key).expect(&key);
                    let origin = p.origin.as_ref().unwrap();
                    assert_eq!(
                        (origin.account.as_str(), origin.region.as_str()),
                        (account, region)
                    );
                    assert_eq!(p.hour, hourly.then_some(13));
                    let shown = p.to_string();
                    assert!(
                        shown.starts_with(&format!(
                            "aws_account_id = '{account}' AND aws_region = '{region}' AND "
                        )),
                        "{shown}"
                    );
                    assert!(p.day_predicate().starts_with(&format!(
                        "\"aws_account_id\" = '{account}' AND \"aws_region\" = '{region}' AND "
                    )));
                }
            }
            // A key of an account or region the table does not read falls in no partition.
            let other = member_key(hive, hourly, "999999999999", "eu-west-1");
            assert!(t.partition_of(&other).unwrap_err().contains("999999999999"));
        }
    }
}

#[test]
fn with_targets_the_queries_name_and_sum_each_account_and_region() {
    let a = fleet_athena("  format: all\n", &MEMBERS);
    let titles: Vec<&str> = a.queries.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(
        titles,
        [
            "flowlogs prod-vpc: traffic by account and region",
            "flowlogs prod-vpc: top talkers by bytes",
            "flowlogs prod-vpc: rejected traffic by source and port",
            "flowlogs prod-vpc: traffic by AWS service",
            "flowlogs prod-vpc: traffic per interface over time",
        ]
    );
    assert_eq!(
        a.queries[0].query,
        "SELECT \"aws_account_id\", \"aws_region\", COUNT(*) AS records, SUM(\"bytes\") AS total_bytes, COUNT_IF(\"action\" = 'REJECT') AS rejected_records\nFROM \"flowlogs\".\"prod_vpc_flow_logs\"\nWHERE \"day\" >= date_format(current_date - interval '7' day, '%Y/%m/%d')\nGROUP BY \"aws_account_id\", \"aws_region\"\nORDER BY total_bytes DESC, \"aws_account_id\", \"aws_region\""
    );
    assert!(a.queries[1].query.starts_with(
        "SELECT \"aws_account_id\", \"aws_region\", \"srcaddr\", \"dstaddr\", SUM(\"bytes\")"
    ));
    assert!(a.queries[1]
        .query
        .contains("GROUP BY \"aws_account_id\", \"aws_region\", \"srcaddr\", \"dstaddr\"\n"));
    let per_interface = &a.queries[4].query;
    assert!(
        per_interface.contains("GROUP BY 1, 2, 3, 4\nORDER BY hour_start, \"aws_account_id\", \"aws_region\", \"interface_id\""),
        "{per_interface}"
    );
    // Every name a query reads is a column of the table (data or partition).
    let t = &a.table;
    let known: Vec<&str> = t
        .columns
        .iter()
        .chain(&t.partition_keys)
        .map(|c| c.name.as_str())
        .collect();
    for q in &a.queries {
        let body = q.query.replace("\"flowlogs\".\"prod_vpc_flow_logs\"", "");
        for (i, part) in body.split('"').enumerate() {
            if i % 2 == 1 {
                assert!(known.contains(&part), "{}: `{part}`", q.name);
            }
        }
    }
}
