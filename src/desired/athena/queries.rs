//! The saved (named) queries, one per view of the flow-log dashboards: top talkers by bytes,
//! rejected traffic by source and port, traffic by AWS service, traffic through each interface over
//! time. Each is written only against columns the configured format has, and left out when the
//! format lacks what it needs. Each reads the last seven days, so the projection prunes the rest.
//!
//! In a table over many accounts (`targets:`), every query also names the account and region of
//! each row (partition columns: a `WHERE "aws_account_id" = '...'` added to any of them reads that
//! account's folders only), and one more sums the traffic of each account and region.
//!
//! Athena cannot tag a named query: flowlogs knows its own by the name prefix
//! `flowlogs <stack>: ` together with the database, in the configured workgroup.

use serde::Serialize;

use super::columns::column_of;
use super::layout::Layout;
use super::origin::{ACCOUNT_KEY, REGION_KEY};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredNamedQuery {
    pub name: String,
    pub description: String,
    pub database: String,
    pub workgroup: String,
    pub query: String,
}

/// The name prefix that marks a named query as this stack's.
pub fn name_prefix(stack: &str) -> String {
    format!("flowlogs {stack}: ")
}

/// What the queries are written against.
pub struct Target<'a> {
    pub stack: &'a str,
    pub database: &'a str,
    pub table: &'a str,
    pub workgroup: &'a str,
    pub fields: &'a [String],
    pub layout: Layout,
    /// The table has the account and region partitions (`super::origin`).
    pub by_origin: bool,
}

fn quoted(column: &str) -> String {
    format!("\"{column}\"")
}

impl Target<'_> {
    pub(super) fn col(&self, field: &str) -> Option<String> {
        column_of(self.fields, field).map(|c| quoted(&c))
    }

    /// The account and region columns, first of a query's keys, in a table over many accounts.
    fn origin_keys(&self) -> Vec<String> {
        if self.by_origin {
            vec![quoted(ACCOUNT_KEY), quoted(REGION_KEY)]
        } else {
            Vec::new()
        }
    }

    /// `keys` after the origin's.
    fn keys(&self, keys: Vec<String>) -> String {
        let mut all = self.origin_keys();
        all.extend(keys);
        all.join(", ")
    }

    pub(super) fn recent_rows(&self) -> String {
        format!(
            "FROM \"{}\".\"{}\"\nWHERE {}",
            self.database,
            self.table,
            self.layout.recent_days_predicate()
        )
    }

    pub(super) fn query(&self, title: &str, about: &str, sql: String) -> DesiredNamedQuery {
        DesiredNamedQuery {
            name: format!("{}{title}", name_prefix(self.stack)),
            description: format!(
                "{about} Last 7 days of the flow logs of flowlogs stack {}. Made by flowlogs.",
                self.stack
            ),
            database: self.database.to_string(),
            workgroup: self.workgroup.to_string(),
            query: sql,
        }
    }

    fn top_talkers(&self) -> Option<DesiredNamedQuery> {
        let (src, dst, bytes) = (
            self.col("srcaddr")?,
            self.col("dstaddr")?,
            self.col("bytes")?,
        );
        let packets = self
            .col("packets")
            .map(|p| format!(", SUM({p}) AS total_packets"))
            .unwrap_or_default();
        let keys = self.keys(vec![src, dst]);
        let sql = format!(
            "SELECT {keys}, SUM({bytes}) AS total_bytes{packets}\n{}\nGROUP BY {keys}\nORDER BY total_bytes DESC\nLIMIT 25",
            self.recent_rows()
        );
        Some(self.query(
            "top talkers by bytes",
            "The source and destination pairs that moved the most bytes.",
            sql,
        ))
    }

    fn rejected(&self) -> Option<DesiredNamedQuery> {
        let (action, src, port) = (
            self.col("action")?,
            self.col("srcaddr")?,
            self.col("dstport")?,
        );
        let mut keys = vec![src, port];
        keys.extend(self.col("protocol"));
        let keys = self.keys(keys);
        let packets = self
            .col("packets")
            .map(|p| format!(", SUM({p}) AS total_packets"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {keys}, COUNT(*) AS flows{packets}\n{}\n  AND {action} = 'REJECT'\nGROUP BY {keys}\nORDER BY flows DESC\nLIMIT 25",
            self.recent_rows()
        );
        Some(self.query(
            "rejected traffic by source and port",
            "Rejected flows by source address and destination port.",
            sql,
        ))
    }

    fn by_service(&self) -> Option<DesiredNamedQuery> {
        let bytes = self.col("bytes")?;
        let services: Vec<String> = ["pkt-src-aws-service", "pkt-dst-aws-service"]
            .iter()
            .filter_map(|f| self.col(f))
            .collect();
        if services.is_empty() {
            return None;
        }
        let keys = self.keys(services.clone());
        let any = services
            .iter()
            .map(|s| format!("COALESCE({s}, '-') <> '-'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!(
            "SELECT {keys}, SUM({bytes}) AS total_bytes\n{}\n  AND ({any})\nGROUP BY {keys}\nORDER BY total_bytes DESC\nLIMIT 25",
            self.recent_rows()
        );
        Some(self.query(
            "traffic by AWS service",
            "Bytes to and from AWS services (pkt-src/dst-aws-service).",
            sql,
        ))
    }

    fn per_interface(&self) -> Option<DesiredNamedQuery> {
        let (interface, bytes) = (self.col("interface-id")?, self.col("bytes")?);
        let time = self.col("start").or_else(|| self.col("end"))?;
        let packets = self
            .col("packets")
            .map(|p| format!(", SUM({p}) AS total_packets"))
            .unwrap_or_default();
        let keys = self.keys(vec![interface.clone()]);
        let hour_at = self.origin_keys().len() + 2;
        let groups = (1..=hour_at)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {keys}, date_trunc('hour', from_unixtime({time})) AS hour_start, SUM({bytes}) AS total_bytes{packets}\n{}\nGROUP BY {groups}\nORDER BY hour_start, {keys}",
            self.recent_rows()
        );
        Some(self.query(
            "traffic per interface over time",
            "Bytes through each network interface, hour by hour.",
            sql,
        ))
    }

    /// In a table over many accounts: records, bytes and rejected records of each account and
    /// region.
    fn by_account(&self) -> Option<DesiredNamedQuery> {
        if !self.by_origin {
            return None;
        }
        let keys = self.keys(Vec::new());
        let mut sums = vec!["COUNT(*) AS records".to_string()];
        sums.extend(
            self.col("bytes")
                .map(|b| format!("SUM({b}) AS total_bytes")),
        );
        sums.extend(
            self.col("action")
                .map(|a| format!("COUNT_IF({a} = 'REJECT') AS rejected_records")),
        );
        let sql = format!(
            "SELECT {keys}, {}\n{}\nGROUP BY {keys}\nORDER BY {}, {keys}",
            sums.join(", "),
            self.recent_rows(),
            if self.col("bytes").is_some() {
                "total_bytes DESC"
            } else {
                "records DESC"
            }
        );
        Some(self.query(
            "traffic by account and region",
            "Records, bytes and rejected records of each target account and region.",
            sql,
        ))
    }

    /// Every query the format allows.
    pub fn queries(&self) -> Vec<DesiredNamedQuery> {
        [
            self.by_account(),
            self.top_talkers(),
            self.rejected(),
            self.by_service(),
            self.per_interface(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowlogs_forwarder::format;

    fn target(fields: &[String], layout: Layout) -> Vec<DesiredNamedQuery> {
        Target {
            stack: "prod-vpc",
            database: "flowlogs",
            table: "prod_vpc_flow_logs",
            workgroup: "primary",
            fields,
            layout,
            by_origin: false,
        }
        .queries()
    }

    fn names(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|s| s.to_string()).collect()
    }

    /// Every double-quoted identifier a query reads is a column of the format or a partition key.
    fn assert_only_known_columns(q: &DesiredNamedQuery, fields: &[String]) {
        let columns: Vec<String> = fields.iter().map(|f| f.replace('-', "_")).collect();
        let body = q.query.replace("\"flowlogs\".\"prod_vpc_flow_logs\"", "");
        for (i, part) in body.split('"').enumerate() {
            if i % 2 == 1 {
                assert!(
                    columns.iter().any(|c| c == part) || ["day", "year", "month"].contains(&part),
                    "{}: `{part}` is not a column of the format",
                    q.name
                );
            }
        }
    }

    #[test]
    fn the_default_format_gets_every_query_but_the_service_one() {
        let fields = names(&format::DEFAULT_FIELDS);
        let qs = target(
            &fields,
            Layout {
                hive: false,
                hourly: false,
            },
        );
        let titles: Vec<&str> = qs.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            titles,
            [
                "flowlogs prod-vpc: top talkers by bytes",
                "flowlogs prod-vpc: rejected traffic by source and port",
                "flowlogs prod-vpc: traffic per interface over time",
            ]
        );
        for q in &qs {
            assert_only_known_columns(q, &fields);
            assert!(q.query.contains("'%Y/%m/%d'"), "{}", q.query);
            assert!(q.name.starts_with(&name_prefix("prod-vpc")));
            assert!(q.name.len() <= 128 && q.description.len() <= 1024);
        }
        assert!(qs[1].query.contains("\"action\" = 'REJECT'"));
    }

    #[test]
    fn all_fields_add_the_service_query_and_hive_days() {
        let fields: Vec<String> = format::fields()
            .iter()
            .map(|f| f.name.to_string())
            .collect();
        let qs = target(
            &fields,
            Layout {
                hive: true,
                hourly: true,
            },
        );
        assert_eq!(qs.len(), 4);
        let service = &qs[2];
        assert!(service.name.ends_with("traffic by AWS service"));
        assert!(service
            .query
            .contains("\"pkt_src_aws_service\", \"pkt_dst_aws_service\""));
        for q in &qs {
            assert_only_known_columns(q, &fields);
            // The hive partition columns (AWS's DDL), the year first so that the projection
            // prunes the years before.
            assert!(
                q.query.contains(
                    "WHERE \"year\" >= date_format(current_date - interval '7' day, '%Y')\n  AND concat(\"year\", '/', \"month\", '/', \"day\") >= date_format(current_date - interval '7' day, '%Y/%m/%d')"
                ),
                "{}",
                q.query
            );
        }
    }

    #[test]
    fn a_custom_format_gets_only_what_its_columns_allow() {
        let fields = names(&["srcaddr", "dstaddr", "bytes", "pkt-dst-aws-service"]);
        let qs = target(
            &fields,
            Layout {
                hive: false,
                hourly: false,
            },
        );
        let titles: Vec<&str> = qs.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            titles,
            [
                "flowlogs prod-vpc: top talkers by bytes",
                "flowlogs prod-vpc: traffic by AWS service"
            ]
        );
        for q in &qs {
            assert_only_known_columns(q, &fields);
        }
        assert!(!qs[0].query.contains("packets"));
        assert!(target(
            &names(&["version", "action"]),
            Layout {
                hive: false,
                hourly: false
            }
        )
        .is_empty());
    }
}
