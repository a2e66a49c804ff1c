//! The Glue shapes flowlogs sends and reads, with the member names of the Glue API reference
//! ("Data types": `TableInput`, `Table`, `StorageDescriptor`, `Column`, `SerDeInfo`,
//! `DatabaseInput`, `Database`). Only the members flowlogs uses: an answer's other members are
//! ignored. Lists and maps are always sent (empty as `[]`/`{}`, as the SDK sends a `Some` of an
//! empty one) and read as empty when absent.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// A column or a partition key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Column {
    pub name: String,
    /// The Hive type (`string`, `int`, `bigint`...).
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Column {
    pub fn new(name: impl Into<String>, kind: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            kind: Some(kind.into()),
        }
    }
}

/// How rows are read and written (`SerDeInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SerDeInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialization_library: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub parameters: BTreeMap<String, String>,
}

/// Where and how a table's data is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StorageDescriptor {
    #[serde(default, deserialize_with = "null_as_default")]
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serde_info: Option<SerDeInfo>,
}

/// A table's definition, as CreateTable and UpdateTable take it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `EXTERNAL_TABLE`, `VIRTUAL_VIEW`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub partition_keys: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_descriptor: Option<StorageDescriptor>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub parameters: BTreeMap<String, String>,
}

/// A table as GetTable and GetTables answer it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub partition_keys: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_descriptor: Option<StorageDescriptor>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub parameters: BTreeMap<String, String>,
    /// Seconds since the epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "epoch_seconds"
    )]
    pub create_time: Option<f64>,
    /// Seconds since the epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "epoch_seconds"
    )]
    pub update_time: Option<f64>,
}

impl Table {
    /// The table's definition as UpdateTable takes it (what a test changes and writes back).
    pub fn to_input(&self) -> TableInput {
        TableInput {
            name: self.name.clone(),
            description: self.description.clone(),
            table_type: self.table_type.clone(),
            partition_keys: self.partition_keys.clone(),
            storage_descriptor: self.storage_descriptor.clone(),
            parameters: self.parameters.clone(),
        }
    }
}

/// A database's definition, as CreateDatabase takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DatabaseInput {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A database as GetDatabase answers it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Database {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seconds since the epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "epoch_seconds"
    )]
    pub create_time: Option<f64>,
}

/// JSON 1.1 sends a `null` member as absent; some services send `null`: both read as empty.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A timestamp: JSON 1.1's default format is epoch seconds, a number with an optional fraction
/// (Smithy's `epoch-seconds`). Anything else (an emulator's ISO text) reads as absent: flowlogs
/// decides nothing on these.
fn epoch_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    })
}
