//! The Athena part of the desired stack (`athena:` in the config): a Glue database, a Glue table
//! that reads the flow log exactly as it is configured (columns, SerDe, location, partition
//! projection) and the saved queries. Pure: built from the config and the names; the one value
//! that depends on what exists, the projection's first day, is put in by `with_since`.

pub mod columns;
pub mod day;
pub mod ddl;
pub mod layout;
pub mod origin;
pub mod queries;
pub mod transit_gateway;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{AthenaConfig, Config, FileFormat};
pub use columns::Column;
pub use day::Day;
pub use layout::{Layout, Partition};
pub use origin::Origins;
pub use queries::DesiredNamedQuery;

/// On the table (Glue cannot tag tables): the stack it belongs to, and `managed-by`.
pub const PARAM_STACK: &str = super::TAG_STACK;
pub const PARAM_MANAGED_BY: &str = super::TAG_MANAGED_BY;

/// Where the stack's Athena resources are, also when the config has no `athena:` section (the
/// defaults then), so that plan and teardown find what an earlier config made.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AthenaNames {
    pub database: String,
    pub table: String,
    /// The table over the transit gateway flow logs' folder: `<table>_tgw`.
    pub tgw_table: String,
    pub workgroup: String,
    /// Our named queries' names start with this (named queries cannot be tagged).
    pub query_prefix: String,
    /// The config has an `athena:` section (else these are the defaults, looked up only to clean
    /// up after an earlier config).
    pub configured: bool,
}

impl AthenaNames {
    /// A read of the Athena resources: without `athena:` in the config it only looks for what an
    /// earlier config made, so a failed read (credentials without Glue or Athena actions) means
    /// nothing to clean up rather than a failed plan.
    pub fn read<T: Default>(&self, read: anyhow::Result<T>) -> anyhow::Result<T> {
        if self.configured {
            read
        } else {
            Ok(read.unwrap_or_default())
        }
    }
}

impl AthenaNames {
    pub fn of(config: &Config) -> AthenaNames {
        let (database, table, workgroup) = match &config.athena {
            Some(a) => (a.database.clone(), a.table.clone(), a.workgroup.clone()),
            None => (
                "flowlogs".into(),
                AthenaConfig::default_table(&config.stack),
                "primary".into(),
            ),
        };
        AthenaNames {
            database,
            tgw_table: format!("{table}_tgw"),
            table,
            workgroup,
            query_prefix: queries::name_prefix(&config.stack),
            configured: config.athena.is_some(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DesiredAthena {
    pub database: DesiredGlueDatabase,
    pub table: DesiredGlueTable,
    /// The table over the transit gateway folder, when transit gateways are logged.
    pub tgw_table: Option<DesiredGlueTable>,
    pub queries: Vec<DesiredNamedQuery>,
    pub workgroup: String,
    /// Where `verify --athena` has Athena write its result.
    pub result_location: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredGlueDatabase {
    pub name: String,
    pub arn: String,
    pub description: String,
    pub tags: BTreeMap<String, String>,
}

/// How the files are read: the SerDe and the Hadoop input and output formats.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Storage {
    pub serde: String,
    pub serde_parameters: BTreeMap<String, String>,
    pub input_format: String,
    pub output_format: String,
}

impl Storage {
    /// Space-delimited text (gzip is read by its `.gz` name), or Parquet.
    pub fn of(file_format: FileFormat) -> Storage {
        match file_format {
            FileFormat::PlainText => Storage {
                serde: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe".into(),
                serde_parameters: BTreeMap::from([
                    ("field.delim".into(), " ".into()),
                    ("serialization.format".into(), " ".into()),
                ]),
                input_format: "org.apache.hadoop.mapred.TextInputFormat".into(),
                output_format: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat".into(),
            },
            FileFormat::Parquet => Storage {
                serde: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe".into(),
                serde_parameters: BTreeMap::from([("serialization.format".into(), "1".into())]),
                input_format: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
                    .into(),
                output_format: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
                    .into(),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredGlueTable {
    pub database: String,
    pub name: String,
    pub columns: Vec<Column>,
    pub partition_keys: Vec<Column>,
    /// `s3://bucket/<prefix>AWSLogs/.../vpcflowlogs/<region>/`; with `origins`,
    /// `s3://bucket/<prefix>AWSLogs/`.
    pub location: String,
    /// The flow log's key prefix under the bucket (the location without `s3://bucket/`).
    pub key_prefix: String,
    /// With `targets:`, the accounts and regions the table reads, its first partitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origins: Option<Origins>,
    pub storage: Storage,
    pub layout: Layout,
    /// The projection's first day: the stack's first flow log's, kept once the table has one.
    pub since: Option<Day>,
    /// Every table parameter but the projection's (see `parameters`).
    pub base_parameters: BTreeMap<String, String>,
}

impl DesiredGlueTable {
    /// The table's parameters (TBLPROPERTIES) in full: ownership, header, projection.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        let mut p = self.base_parameters.clone();
        if let Some(since) = self.since {
            p.extend(self.layout.projection(&self.day_root(), since));
            if let Some(origins) = &self.origins {
                p.extend(origins.projection());
            }
        }
        p
    }

    /// Where the day folders start: the location, then with `origins` the account's and
    /// region's folders as placeholders.
    fn day_root(&self) -> String {
        match &self.origins {
            Some(_) => format!("{}{}", self.location, Origins::folders(self.layout.hive)),
            None => self.location.clone(),
        }
    }

    /// `storage.location.template`: where each partition's objects are.
    pub fn template(&self) -> String {
        self.layout.template(&self.day_root())
    }

    /// The partition `key` (a key in the bucket) falls in; why not, when it falls in none.
    pub fn partition_of(&self, key: &str) -> Result<Partition, String> {
        let Some(origins) = &self.origins else {
            return self.layout.partition_of(&self.key_prefix, key);
        };
        let rest = key
            .strip_prefix(&self.key_prefix)
            .ok_or_else(|| format!("it is not under the table's location {}", self.key_prefix))?;
        let (origin, after) = origins.read(self.layout.hive, rest)?;
        let day_prefix = &key[..key.len() - after.len()];
        let mut p = self.layout.partition_of(day_prefix, key)?;
        p.origin = Some(origin);
        Ok(p)
    }

    /// The SQL a user can run elsewhere to make the same table.
    pub fn ddl(&self) -> String {
        ddl::create_table(self)
    }
}

/// The Athena part of the stack; `None` when the config has no `athena:` section.
pub fn build(config: &Config, names: &super::Names) -> Option<DesiredAthena> {
    build_with(config, names, None)
}

/// As `build`; with `origins` (a stack with `targets:`, the fleet's resolved accounts and the
/// configured regions), the VPC table reads every target's folder under `<prefix>AWSLogs/`,
/// the account and region its first partitions. With no account at all (every one excluded) the
/// enum still needs a value: the hub's own.
pub fn build_with(
    config: &Config,
    names: &super::Names,
    origins: Option<&Origins>,
) -> Option<DesiredAthena> {
    let a = config.athena.as_ref()?;
    let origins = origins.map(|o| {
        let mut o = o.clone();
        if o.accounts.is_empty() {
            o.accounts.push(names.account.clone());
        }
        if o.regions.is_empty() {
            o.regions.push(names.region.clone());
        }
        o
    });
    let n = &names.athena;
    let mut tags = names.tags();
    tags.retain(|_, v| !v.is_empty());
    let database = DesiredGlueDatabase {
        name: n.database.clone(),
        arn: format!(
            "arn:{}:glue:{}:{}:database/{}",
            names.partition, names.region, names.account, n.database
        ),
        description: "VPC flow logs, made by flowlogs".into(),
        tags: tags.clone(),
    };
    let file_format = config.flow_log.file_format;
    let mut base_parameters = BTreeMap::from([
        ("EXTERNAL".to_string(), "TRUE".to_string()),
        (PARAM_STACK.to_string(), names.stack.clone()),
        (PARAM_MANAGED_BY.to_string(), super::MANAGED_BY.to_string()),
        (
            "classification".to_string(),
            match file_format {
                FileFormat::PlainText => "csv",
                FileFormat::Parquet => "parquet",
            }
            .to_string(),
        ),
    ]);
    if file_format == FileFormat::PlainText {
        // Every text object opens with a header line naming the fields.
        base_parameters.insert("skip.header.line.count".into(), "1".into());
    }
    let layout = Layout {
        hive: config.flow_log.hive_compatible_partitions,
        hourly: config.flow_log.per_hour_partition,
    };
    let fields = &config.flow_log.format.fields;
    let key_prefix = match &origins {
        Some(_) => super::fleet::fleet_key_prefix(config),
        None => names.log_key_prefix.clone(),
    };
    let origin_keys = origins.iter().flat_map(|_| Origins::partition_keys());
    let table = DesiredGlueTable {
        database: n.database.clone(),
        name: n.table.clone(),
        columns: columns::columns(fields),
        partition_keys: origin_keys
            .chain(layout.partition_keys())
            .map(|(name, kind)| Column::new(name, kind))
            .collect(),
        location: format!("s3://{}/{key_prefix}", names.bucket),
        key_prefix,
        origins: origins.clone(),
        storage: Storage::of(file_format),
        layout,
        since: None,
        base_parameters,
    };
    let mut queries = queries::Target {
        stack: &names.stack,
        database: &n.database,
        table: &n.table,
        workgroup: &n.workgroup,
        fields,
        layout,
        by_origin: origins.is_some(),
    }
    .queries();
    let tgw_table = match (&config.flow_log.transit_gateways, &names.tgw_log_key_prefix) {
        (Some(tgw), Some(prefix)) => {
            queries.extend(
                queries::Target {
                    stack: &names.stack,
                    database: &n.database,
                    table: &n.tgw_table,
                    workgroup: &n.workgroup,
                    fields: &tgw.format.fields,
                    layout,
                    by_origin: false,
                }
                .transit_gateway_queries(),
            );
            Some(DesiredGlueTable {
                name: n.tgw_table.clone(),
                columns: transit_gateway::columns(&tgw.format.fields),
                location: format!("s3://{}/{prefix}", names.bucket),
                key_prefix: prefix.clone(),
                // `targets:` with transit gateways is refused: this table reads the hub's folder.
                origins: None,
                partition_keys: layout
                    .partition_keys()
                    .into_iter()
                    .map(|(name, kind)| Column::new(name, kind))
                    .collect(),
                ..table.clone()
            })
        }
        _ => None,
    };
    let result_location = a.result_location.clone().unwrap_or_else(|| {
        format!(
            "s3://{}/{}athena-results/",
            names.bucket, config.bucket.prefix
        )
    });
    Some(DesiredAthena {
        database,
        table,
        tgw_table,
        queries,
        workgroup: n.workgroup.clone(),
        result_location,
    })
}

/// The desired stack with the projection's first day put in: the day the existing table already
/// starts on when that is earlier, else `stack_since` (the stack's first flow log's day, or today).
pub fn with_since(
    athena: &Option<DesiredAthena>,
    existing: Option<Day>,
    stack_since: Day,
) -> Option<DesiredAthena> {
    let mut a = athena.clone()?;
    a.table.since = Some(match existing {
        Some(day) if day <= stack_since => day,
        _ => stack_since,
    });
    Some(a)
}

/// As `with_since`, for the transit gateway table: its own existing first day, the stack's else.
pub fn with_tgw_since(
    athena: Option<DesiredAthena>,
    existing: Option<Day>,
    stack_since: Day,
) -> Option<DesiredAthena> {
    let mut a = athena?;
    if let Some(t) = a.tgw_table.as_mut() {
        t.since = Some(match existing {
            Some(day) if day <= stack_since => day,
            _ => stack_since,
        });
    }
    Some(a)
}

#[cfg(test)]
mod tests;
