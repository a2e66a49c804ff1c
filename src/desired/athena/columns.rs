//! The table's columns: one per field of the flow log's format, in the format's order (text files
//! are read by position), named as the Parquet files and Athena name them (`pkt-srcaddr` ->
//! `pkt_srcaddr`), and typed as Athena's guide types flow-log tables ("Create a table for Amazon
//! VPC flow logs"): int32 fields `int`, int64 fields `bigint`, the rest `string`, except `protocol`,
//! which the guide types `bigint` (the VPC guide says int32; `bigint` reads both).

use flowlogs_forwarder::format::{self, Field, FieldType};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl Column {
    pub fn new(name: &str, kind: &str) -> Column {
        Column {
            name: name.to_string(),
            kind: kind.to_string(),
        }
    }
}

/// The Athena type of a flow-log field.
pub fn athena_type(field: &Field) -> &'static str {
    if field.name == "protocol" {
        return "bigint";
    }
    match field.kind {
        FieldType::Int => "int",
        FieldType::Long => "bigint",
        FieldType::String | FieldType::IpAddress => "string",
    }
}

/// The columns of a format given by its field names (as the config holds them). A name the
/// catalogue does not know (the config refuses those) is kept as a string column.
pub fn columns(fields: &[String]) -> Vec<Column> {
    fields
        .iter()
        .map(|name| match format::lookup(name) {
            Some(f) => Column::new(&f.parquet_name(), athena_type(f)),
            None => Column::new(&name.replace('-', "_"), "string"),
        })
        .collect()
}

/// The column a field is read from, when the format has it.
pub fn column_of(fields: &[String], field: &str) -> Option<String> {
    fields
        .iter()
        .any(|f| f == field)
        .then(|| field.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|s| s.to_string()).collect()
    }

    fn shown(cols: &[Column]) -> Vec<String> {
        cols.iter()
            .map(|c| format!("{} {}", c.name, c.kind))
            .collect()
    }

    #[test]
    fn the_default_format_has_athenas_documented_columns() {
        let cols = columns(&names(&format::DEFAULT_FIELDS));
        assert_eq!(
            shown(&cols),
            [
                "version int",
                "account_id string",
                "interface_id string",
                "srcaddr string",
                "dstaddr string",
                "srcport int",
                "dstport int",
                "protocol bigint",
                "packets bigint",
                "bytes bigint",
                "start bigint",
                "end bigint",
                "action string",
                "log_status string",
            ]
        );
    }

    #[test]
    fn all_fields_are_typed_as_athenas_guide_types_them() {
        let all: Vec<String> = format::fields()
            .iter()
            .map(|f| f.name.to_string())
            .collect();
        let cols = columns(&all);
        assert_eq!(cols.len(), 40);
        let of = |n: &str| cols.iter().find(|c| c.name == n).unwrap().kind.as_str();
        // The guide's table for versions 2 to 5.
        for (name, kind) in [
            ("vpc_id", "string"),
            ("subnet_id", "string"),
            ("instance_id", "string"),
            ("tcp_flags", "int"),
            ("type", "string"),
            ("pkt_srcaddr", "string"),
            ("pkt_dstaddr", "string"),
            ("region", "string"),
            ("az_id", "string"),
            ("sublocation_type", "string"),
            ("sublocation_id", "string"),
            ("pkt_src_aws_service", "string"),
            ("pkt_dst_aws_service", "string"),
            ("flow_direction", "string"),
            ("traffic_path", "int"),
            ("ecs_cluster_arn", "string"),
            ("ecs_task_id", "string"),
            ("reject_reason", "string"),
        ] {
            assert_eq!(of(name), kind, "{name}");
        }
        assert!(cols.iter().all(|c| !c.name.contains('-')));
    }

    #[test]
    fn a_custom_format_keeps_its_order() {
        let cols = columns(&names(&[
            "srcaddr",
            "pkt-dst-aws-service",
            "bytes",
            "reject-reason",
        ]));
        assert_eq!(
            shown(&cols),
            [
                "srcaddr string",
                "pkt_dst_aws_service string",
                "bytes bigint",
                "reject_reason string"
            ]
        );
        let fields = names(&["srcaddr", "pkt-dst-aws-service"]);
        assert_eq!(
            column_of(&fields, "pkt-dst-aws-service").as_deref(),
            Some("pkt_dst_aws_service")
        );
        assert_eq!(column_of(&fields, "bytes"), None);
    }
}
