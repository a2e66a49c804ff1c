//! The Athena table over the transit gateway flow logs' folder and the saved queries a network team
//! asks of it: drops by reason and attachment, top talkers between attachments, traffic between
//! accounts. The table is the VPC table's twin (same SerDe, layout and projection) with the
//! transit gateway columns, typed as the TGW guide types the fields (int32 `int`, int64 `bigint`,
//! `protocol` `bigint` as in the VPC table).

use super::columns::Column;
use super::queries::{DesiredNamedQuery, Target};

/// The Athena type of a transit gateway field.
fn athena_type(field: &str) -> &'static str {
    match field {
        "version" | "srcport" | "dstport" | "tcp-flags" => "int",
        "protocol" | "packets" | "bytes" | "start" | "end" => "bigint",
        f if f.starts_with("packets-lost-") => "bigint",
        _ => "string",
    }
}

/// The columns of a transit gateway format, in its order (text files are read by position).
pub fn columns(fields: &[String]) -> Vec<Column> {
    fields
        .iter()
        .map(|f| Column::new(&f.replace('-', "_"), athena_type(f)))
        .collect()
}

/// The drop counters the format has.
const LOST: [(&str, &str); 4] = [
    ("packets-lost-no-route", "no_route"),
    ("packets-lost-blackhole", "blackhole"),
    ("packets-lost-mtu-exceeded", "mtu_exceeded"),
    ("packets-lost-ttl-expired", "ttl_expired"),
];

impl Target<'_> {
    fn tgw_drops(&self) -> Option<DesiredNamedQuery> {
        let attachment = self.col("tgw-attachment-id")?;
        let lost: Vec<(String, &str)> = LOST
            .iter()
            .filter_map(|(field, name)| self.col(field).map(|c| (c, *name)))
            .collect();
        if lost.is_empty() {
            return None;
        }
        let sums = lost
            .iter()
            .map(|(c, name)| format!("SUM({c}) AS {name}"))
            .collect::<Vec<_>>()
            .join(", ");
        let total = lost
            .iter()
            .map(|(c, _)| format!("SUM({c})"))
            .collect::<Vec<_>>()
            .join(" + ");
        let any = lost
            .iter()
            .map(|(c, _)| format!("{c} > 0"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!(
            "SELECT {attachment}, {sums}, {total} AS packets_lost\n{}\n  AND ({any})\nGROUP BY {attachment}\nORDER BY packets_lost DESC\nLIMIT 25",
            self.recent_rows()
        );
        Some(self.query(
            "transit gateway drops by reason and attachment",
            "Packets the transit gateway dropped (no route, blackhole, MTU exceeded, TTL expired) per attachment.",
            sql,
        ))
    }

    fn tgw_top_talkers(&self) -> Option<DesiredNamedQuery> {
        let (attachment, pair, bytes) = (
            self.col("tgw-attachment-id")?,
            self.col("tgw-pair-attachment-id")?,
            self.col("bytes")?,
        );
        let packets = self
            .col("packets")
            .map(|p| format!(", SUM({p}) AS total_packets"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {attachment}, {pair}, SUM({bytes}) AS total_bytes{packets}\n{}\nGROUP BY {attachment}, {pair}\nORDER BY total_bytes DESC\nLIMIT 25",
            self.recent_rows()
        );
        Some(self.query(
            "transit gateway top talkers between attachments",
            "The attachment pairs that moved the most bytes through the transit gateway.",
            sql,
        ))
    }

    fn tgw_between_accounts(&self) -> Option<DesiredNamedQuery> {
        let (src, dst, bytes) = (
            self.col("tgw-src-vpc-account-id")?,
            self.col("tgw-dst-vpc-account-id")?,
            self.col("bytes")?,
        );
        let sql = format!(
            "SELECT {src}, {dst}, SUM({bytes}) AS total_bytes, COUNT(*) AS flows\n{}\n  AND {src} <> {dst}\nGROUP BY {src}, {dst}\nORDER BY total_bytes DESC\nLIMIT 25",
            self.recent_rows()
        );
        Some(self.query(
            "transit gateway traffic between accounts",
            "Bytes between the VPCs of different accounts through the transit gateway.",
            sql,
        ))
    }

    /// Every transit gateway query the format allows.
    pub fn transit_gateway_queries(&self) -> Vec<DesiredNamedQuery> {
        [
            self.tgw_drops(),
            self.tgw_top_talkers(),
            self.tgw_between_accounts(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::transit_gateway::FIELDS;
    use crate::desired::athena::Layout;

    fn all() -> Vec<String> {
        FIELDS.map(String::from).to_vec()
    }

    fn target(fields: &[String]) -> Vec<DesiredNamedQuery> {
        Target {
            stack: "hub",
            database: "flowlogs",
            table: "hub_flow_logs_tgw",
            workgroup: "primary",
            fields,
            layout: Layout {
                hive: false,
                hourly: false,
            },
            by_origin: false,
        }
        .transit_gateway_queries()
    }

    #[test]
    fn every_tgw_field_is_a_column_typed_as_the_guide_types_it() {
        let cols = columns(&all());
        assert_eq!(cols.len(), 36);
        let of = |n: &str| cols.iter().find(|c| c.name == n).unwrap().kind.as_str();
        for (name, kind) in [
            ("version", "int"),
            ("tgw_id", "string"),
            ("tgw_attachment_id", "string"),
            ("srcport", "int"),
            ("packets", "bigint"),
            ("bytes", "bigint"),
            ("packets_lost_blackhole", "bigint"),
            ("tcp_flags", "int"),
            ("flow_direction", "string"),
        ] {
            assert_eq!(of(name), kind, "{name}");
        }
        assert!(!cols.iter().any(|c| c.name == "action"));
    }

    #[test]
    fn the_network_teams_queries_read_the_tgw_columns() {
        let q = target(&all());
        let names: Vec<&str> = q.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "flowlogs hub: transit gateway drops by reason and attachment",
                "flowlogs hub: transit gateway top talkers between attachments",
                "flowlogs hub: transit gateway traffic between accounts"
            ]
        );
        assert!(q[0]
            .query
            .contains("SUM(\"packets_lost_blackhole\") AS blackhole"));
        assert!(q[0].query.contains("GROUP BY \"tgw_attachment_id\""));
        assert!(q[1].query.contains("\"tgw_pair_attachment_id\""));
        assert!(q[2]
            .query
            .contains("\"tgw_src_vpc_account_id\" <> \"tgw_dst_vpc_account_id\""));
        for query in &q {
            assert!(query
                .query
                .contains("FROM \"flowlogs\".\"hub_flow_logs_tgw\""));
        }
    }

    #[test]
    fn a_query_is_left_out_when_the_format_lacks_its_columns() {
        let fields: Vec<String> = ["tgw-attachment-id", "srcaddr", "bytes"]
            .map(String::from)
            .to_vec();
        assert!(target(&fields).is_empty());
    }
}
