//! Verify's Athena checks (with `athena:` in the config). The projection against a real key: an
//! object AWS delivered under the flow log's prefix (the canary's folder is not a partition, by
//! design: canaries stay out of queries), read back into the partition it falls in. With
//! `--athena`, one small query on the service (StartQueryExecution, polled with a bound): the
//! records of one day's partition, with the bytes Athena scanned. A query that read no data is
//! not a pass: it proves nothing about the table.

use std::time::Duration;

use anyhow::{Context as _, Result};
use aws_sdk_athena::types::{QueryExecutionState, ResultConfiguration};

use super::canary::CANARY_FOLDER;
use super::Check;
use crate::context::Context;
use crate::desired::athena::{day, DesiredAthena, DesiredGlueTable, Partition};

const NAME: &str = "athena table projection";
const QUERY_NAME: &str = "athena query";
/// How long `--athena` waits for its query.
const QUERY_WAIT: Duration = Duration::from_secs(120);

/// Pure: where `key` falls in the table's projection, as a check. `None`: nothing delivered yet.
pub fn partition_check(table: &DesiredGlueTable, key: Option<&str>) -> (Check, Option<Partition>) {
    let title = format!("{}.{}", table.database, table.name);
    let Some(key) = key else {
        return (
            Check::pass(
                NAME,
                format!(
                    "no flow-log object delivered yet under s3://{}/ (the first arrives within about 10 minutes); the table {title} reads {}",
                    table.location.trim_start_matches("s3://").split('/').next().unwrap_or_default(),
                    table.template()
                ),
            ),
            None,
        );
    };
    match table.partition_of(key) {
        Ok(p) if table.since.is_some_and(|since| p.date < table.layout.first_day(since)) => (
            Check::fail(
                NAME,
                format!(
                    "{key} falls in partition {p}, before the projection's first {} {}",
                    if table.layout.hive { "year" } else { "day" },
                    table.since.map(|d| table.layout.first_value(d)).unwrap_or_default()
                ),
                "run `flowlogs setup`: it moves the projection's first day back to the stack's first flow log",
            ),
            Some(p),
        ),
        Ok(p) => (
            Check::pass(NAME, format!("{key} falls in partition {p} of {title}")),
            Some(p),
        ),
        Err(why) => (
            Check::fail(
                NAME,
                format!("{key} falls in no partition of {title}: {why}"),
                "run `flowlogs setup` so the table follows the flow log's layout (hive_compatible_partitions, per_hour_partition, bucket.prefix)",
            ),
            None,
        ),
    }
}

/// A real flow-log object under the prefix (the last of the first page listed: keys sort by day),
/// not a canary (its folder is right under a flow log's `.../vpcflowlogs/<region>/`, which with
/// `targets:` is below the table's prefix) and not empty.
async fn a_delivered_key(ctx: &Context, bucket: &str, prefix: &str) -> Result<Option<String>> {
    // S3 answers a page of up to 1,000 keys: the first page is enough to find one.
    let listed = crate::aws::objects::list(&ctx.clients.s3, bucket, prefix, Some(1000)).await?;
    Ok(listed
        .into_iter()
        .filter(|o| o.size > 0)
        .map(|o| o.key)
        .rfind(|k| !is_canary(&k[prefix.len().min(k.len())..])))
}

/// Whether a key (after the table's prefix) is a canary's: in the canary's folder, right under
/// the prefix or, with `targets:`, under an account's and region's folders.
fn is_canary(rest: &str) -> bool {
    rest.starts_with(CANARY_FOLDER) || rest.contains(&format!("/{CANARY_FOLDER}"))
}

/// The SQL of `--athena`'s query: the records of one day (the partition's, without its hour).
pub fn count_query(table: &DesiredGlueTable, day: &Partition) -> String {
    format!(
        "SELECT COUNT(*) AS records FROM \"{}\".\"{}\" WHERE {}",
        table.database,
        table.name,
        day.day_predicate()
    )
}

/// Pure: what the finished query shows.
pub fn judge_query(
    state: Option<&QueryExecutionState>,
    reason: Option<&str>,
    records: Option<u64>,
    scanned: Option<i64>,
    day_value: &str,
) -> Check {
    let fix = "check the workgroup's settings and the table in the Athena console; `flowlogs plan` shows the table's DDL";
    match state {
        Some(QueryExecutionState::Succeeded) => match (records, scanned) {
            (Some(n), Some(bytes)) if bytes > 0 => Check::pass(
                QUERY_NAME,
                format!("{n} records where {day_value}, {bytes} bytes scanned"),
            ),
            (records, scanned) => Check::fail(
                QUERY_NAME,
                format!(
                    "the query succeeded but read no data ({} records, {} bytes scanned): it proves nothing about the table",
                    records.map_or("no count of".into(), |n| n.to_string()),
                    scanned.unwrap_or(0)
                ),
                "run it again once AWS has delivered a flow-log object for that day (`flowlogs verify --wait 15m`)",
            ),
        },
        other => Check::fail(
            QUERY_NAME,
            format!(
                "the query ended {}: {}",
                other.map_or("in no known state", |s| s.as_str()),
                reason.unwrap_or("no reason given")
            ),
            fix,
        ),
    }
}

async fn run_query(ctx: &Context, athena: &DesiredAthena, day: &Partition) -> Result<Check> {
    let client = &ctx.clients.athena;
    let sql = count_query(&athena.table, day);
    let day_value = day.day_shown();
    let started = client
        .start_query_execution()
        .query_string(&sql)
        .work_group(&athena.workgroup)
        .result_configuration(
            ResultConfiguration::builder()
                .output_location(&athena.result_location)
                .build(),
        )
        .send()
        .await
        .with_context(|| format!("starting an Athena query in workgroup {}", athena.workgroup))?;
    let id = started
        .query_execution_id()
        .context("Athena started a query without an id")?
        .to_string();
    let deadline = tokio::time::Instant::now() + QUERY_WAIT;
    loop {
        let out = client
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .with_context(|| format!("reading Athena query {id}"))?;
        let execution = out.query_execution();
        let status = execution.and_then(|e| e.status());
        let state = status.and_then(|s| s.state());
        let running = matches!(
            state,
            Some(QueryExecutionState::Queued | QueryExecutionState::Running) | None
        );
        if running && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if running {
            return Ok(Check::fail(
                QUERY_NAME,
                format!("query {id} still runs after {}s", QUERY_WAIT.as_secs()),
                "look at it in the Athena console",
            ));
        }
        let scanned = execution
            .and_then(|e| e.statistics())
            .and_then(|s| s.data_scanned_in_bytes());
        let records = if state == Some(&QueryExecutionState::Succeeded) {
            let results = client
                .get_query_results()
                .query_execution_id(&id)
                .send()
                .await
                .with_context(|| format!("reading the result of Athena query {id}"))?;
            // The first row is the header.
            results
                .result_set()
                .and_then(|r| r.rows().get(1))
                .and_then(|row| row.data().first())
                .and_then(|d| d.var_char_value())
                .and_then(|v| v.parse().ok())
        } else {
            None
        };
        return Ok(judge_query(
            state,
            status.and_then(|s| s.state_change_reason()),
            records,
            scanned,
            &day_value,
        ));
    }
}

/// `--athena` without an `athena:` section: nothing to query.
pub fn not_configured() -> Check {
    Check::fail(
        QUERY_NAME,
        "the config has no `athena:` section, so there is no table to query",
        "add `athena: {}` to the config and run `flowlogs setup`",
    )
}

/// The Athena checks of verify: the projection against a real key; with `query`, one query.
pub async fn checks(ctx: &Context, athena: &DesiredAthena, query: bool) -> Vec<Check> {
    let table = &athena.table;
    let bucket = table
        .location
        .trim_start_matches("s3://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let key = match a_delivered_key(ctx, &bucket, &table.key_prefix).await {
        Ok(key) => key,
        Err(e) => {
            return vec![Check::fail(
                NAME,
                format!("{e:#}"),
                "check that the credentials may list the bucket",
            )]
        }
    };
    let (check, partition) = partition_check(table, key.as_deref());
    let mut checks = vec![check];
    if query {
        let date = match &partition {
            Some(p) => p.date,
            None => day::Day::today(),
        };
        let mut day = table.layout.day_partition(date);
        // With `targets:`, the delivered object's account and region (pruned to its folder).
        day.origin = partition.as_ref().and_then(|p| p.origin.clone());
        checks.push(match run_query(ctx, athena, &day).await {
            Ok(check) => check,
            Err(e) => Check::fail(
                QUERY_NAME,
                format!("{e:#}"),
                "check the workgroup (`athena.workgroup`), its result location (`athena.result_location`) and the credentials' Athena, Glue and S3 permissions",
            ),
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::desired::athena::{with_since, Day};

    fn table(flow_log: &str) -> DesiredGlueTable {
        let text = format!(
            "version: 1\nstack: s\nflow_log:\n  resources: {{ vpc_ids: [vpc-1] }}\n{flow_log}delivery:\n  otlp: {{ endpoint: http://127.0.0.1:4318 }}\nathena: {{}}\n"
        );
        let c = crate::config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
        let d = crate::desired::build(&c, "123456789012", "eu-west-1", "abc").unwrap();
        with_since(
            &d.athena,
            None,
            Day {
                year: 2026,
                month: 11,
                day: 1,
            },
        )
        .unwrap()
        .table
    }

    #[test]
    fn a_delivered_key_is_placed_in_its_partition() {
        let t = table("  per_hour_partition: true\n");
        let key = "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/29/13/123456789012_vpcflowlogs_eu-west-1_fl-1_20261129T1305Z_ab.log.gz";
        let (check, p) = partition_check(&t, Some(key));
        assert!(check.ok, "{check:?}");
        assert!(
            check.detail.contains("day = '2026/11/29' AND hour = 13"),
            "{}",
            check.detail
        );
        assert_eq!(
            p.unwrap().date,
            Day {
                year: 2026,
                month: 11,
                day: 29
            }
        );
    }

    #[test]
    fn a_key_of_another_layout_or_before_the_first_day_fails() {
        let t = table("  hive_compatible_partitions: true\n");
        let plain = "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/29/x.log.gz";
        let (check, _) = partition_check(&t, Some(plain));
        assert!(
            !check.ok && check.detail.contains("no partition"),
            "{check:?}"
        );
        // The hive projection starts on the first year: a key of that year is in it.
        let same_year = "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=10/day=31/x.log.gz";
        let (check, _) = partition_check(&t, Some(same_year));
        assert!(check.ok, "{check:?}");
        let early = "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2025/month=12/day=31/x.log.gz";
        let (check, _) = partition_check(&t, Some(early));
        assert!(
            !check.ok
                && check.detail.contains(
                    "falls in partition year = '2025' AND month = '12' AND day = '31', before the projection's first year 2026"
                ),
            "{check:?}"
        );
        let plain = table("");
        let early = "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/10/31/x.log.gz";
        let (check, _) = partition_check(&plain, Some(early));
        assert!(
            !check.ok
                && check
                    .detail
                    .contains("before the projection's first day 2026/11/01"),
            "{check:?}"
        );
        let (none, _) = partition_check(&t, None);
        assert!(
            none.ok
                && none
                    .detail
                    .contains("year=${year}/month=${month}/day=${day}/"),
            "{none:?}"
        );
    }

    #[test]
    fn with_targets_a_member_accounts_key_is_placed_in_its_account_region_and_day() {
        let text = "version: 1\nstack: s\nflow_log:\n  resources: { all_vpcs: true }\ndelivery:\n  otlp: { endpoint: http://127.0.0.1:4318 }\nathena: {}\ntargets: { accounts: [\"111111111111\"], regions: [eu-west-1] }\n";
        let c = crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
        let d = crate::desired::build(&c, "123456789012", "eu-west-1", "abc").unwrap();
        let origins = crate::desired::athena::Origins::new(
            &["111111111111".to_string()],
            &["eu-west-1".to_string()],
        );
        let athena = crate::desired::athena::build_with(&c, &d.names, Some(&origins));
        let day = Day {
            year: 2026,
            month: 11,
            day: 1,
        };
        let t = with_since(&athena, None, day).unwrap().table;
        let key = "AWSLogs/111111111111/vpcflowlogs/eu-west-1/2026/11/29/111111111111_vpcflowlogs_eu-west-1_fl-1_20261129T1305Z_ab.log.gz";
        let (check, p) = partition_check(&t, Some(key));
        assert!(check.ok, "{check:?}");
        assert!(
            check.detail.contains(
                "aws_account_id = '111111111111' AND aws_region = 'eu-west-1' AND day = '2026/11/29'"
            ),
            "{}",
            check.detail
        );
        let mut one_day = t.layout.day_partition(p.as_ref().unwrap().date);
        one_day.origin = p.unwrap().origin;
        assert_eq!(
            count_query(&t, &one_day),
            "SELECT COUNT(*) AS records FROM \"flowlogs\".\"s_flow_logs\" WHERE \"aws_account_id\" = '111111111111' AND \"aws_region\" = 'eu-west-1' AND \"day\" = '2026/11/29'"
        );
        let (none, _) = partition_check(&t, None);
        assert!(
            none.detail
                .contains("AWSLogs/${aws_account_id}/vpcflowlogs/${aws_region}/${day}/"),
            "{none:?}"
        );
        // The canaries under a member's folders are not flow-log objects.
        assert!(is_canary(
            "111111111111/vpcflowlogs/eu-west-1/flowlogs-verify/x.log.gz"
        ));
        assert!(is_canary("flowlogs-verify/x.log.gz"));
        assert!(!is_canary(&key["AWSLogs/".len()..]));
    }

    #[test]
    fn a_query_passes_only_when_it_read_data() {
        let ok = judge_query(
            Some(&QueryExecutionState::Succeeded),
            None,
            Some(42),
            Some(1234),
            "2026/11/29",
        );
        assert!(ok.ok && ok.detail.contains("42 records") && ok.detail.contains("1234 bytes"));
        let empty = judge_query(
            Some(&QueryExecutionState::Succeeded),
            None,
            None,
            Some(0),
            "2026/11/29",
        );
        assert!(
            !empty.ok && empty.detail.contains("read no data"),
            "{empty:?}"
        );
        let failed = judge_query(
            Some(&QueryExecutionState::Failed),
            Some("TABLE_NOT_FOUND"),
            None,
            None,
            "d",
        );
        assert!(
            !failed.ok && failed.detail.contains("FAILED: TABLE_NOT_FOUND"),
            "{failed:?}"
        );
        let day = Day {
            year: 2026,
            month: 11,
            day: 29,
        };
        let plain = table("");
        assert_eq!(
            count_query(&plain, &plain.layout.day_partition(day)),
            "SELECT COUNT(*) AS records FROM \"flowlogs\".\"s_flow_logs\" WHERE \"day\" = '2026/11/29'"
        );
        let hive = table("  hive_compatible_partitions: true\n");
        assert_eq!(
            count_query(&hive, &hive.layout.day_partition(day)),
            "SELECT COUNT(*) AS records FROM \"flowlogs\".\"s_flow_logs\" WHERE \"year\" = '2026' AND \"month\" = '11' AND \"day\" = '29'"
        );
    }
}
