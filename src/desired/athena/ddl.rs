//! The table as Athena DDL (`CREATE EXTERNAL TABLE ...`): what `plan --output json` shows so a user
//! can make the same table elsewhere. Identifiers in backticks (`end` is a reserved word).

use std::fmt::Write;

use super::DesiredGlueTable;

fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

pub fn create_table(t: &DesiredGlueTable) -> String {
    let mut s = String::new();
    let columns = |cols: &[super::Column]| {
        cols.iter()
            .map(|c| format!("  `{}` {}", c.name, c.kind))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let _ = writeln!(
        s,
        "CREATE EXTERNAL TABLE IF NOT EXISTS `{}`.`{}` (\n{}\n)",
        t.database,
        t.name,
        columns(&t.columns)
    );
    let _ = writeln!(s, "PARTITIONED BY (\n{}\n)", columns(&t.partition_keys));
    let _ = writeln!(s, "ROW FORMAT SERDE '{}'", t.storage.serde);
    if !t.storage.serde_parameters.is_empty() {
        let params: Vec<String> = t
            .storage
            .serde_parameters
            .iter()
            .map(|(k, v)| format!("  '{}' = '{}'", quote(k), quote(v)))
            .collect();
        let _ = writeln!(s, "WITH SERDEPROPERTIES (\n{}\n)", params.join(",\n"));
    }
    let _ = writeln!(
        s,
        "STORED AS INPUTFORMAT '{}'\nOUTPUTFORMAT '{}'",
        t.storage.input_format, t.storage.output_format
    );
    let _ = writeln!(s, "LOCATION '{}'", quote(&t.location));
    let params: Vec<String> = t
        .parameters()
        .iter()
        .filter(|(k, _)| k.as_str() != "EXTERNAL")
        .map(|(k, v)| format!("  '{}' = '{}'", quote(k), quote(v)))
        .collect();
    let _ = write!(s, "TBLPROPERTIES (\n{}\n)", params.join(",\n"));
    s
}
