//! The account and region partitions of the table of a stack with `targets:`: every target's flow
//! logs land in the hub's bucket under `<prefix>AWSLogs/<account>/vpcflowlogs/<region>/`, or with
//! hive-compatible partitions `<prefix>AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/
//! aws-region=<region>/` (VPC user guide, "Flow log files"), so the table sits at `<prefix>AWSLogs/`
//! and the account and region are projected partitions before the day (and the hour), as in
//! AWS's own multi-account example ("Create and query a table for Amazon VPC flow logs using
//! partition projection": `accid` and `region` enums). Pure.
//!
//! The columns are `aws_account_id` and `aws_region`: the flow-log fields `account-id` and
//! `region` are columns already (`account_id`, `region`), and the names of AWS's hive DDL
//! (`aws-account-id`, `aws-region`) would need quoting in every query.
//!
//! Both are `enum` projections. `injected` (the account left open, taken from the query) would
//! keep the table unchanged as accounts join, but Athena then refuses every query without an
//! equality on the account ("CONSTRAINT_VIOLATION: For the injected projected partition column
//! ..., the WHERE clause must contain only static equality conditions": Athena user guide, "Use
//! dynamic ID partitioning"), so no query could read the whole organisation: the saved queries
//! could not either. An enum reads every account and still prunes to the ones a query names; its
//! values follow the fleet's resolved accounts (an account that joins updates the table in place:
//! its definition only). AWS advises keeping enums to a few dozen values because the table's
//! metadata must stay under Glue's limit of about 1 MB gzip-compressed ("Supported types for
//! partition projection"): 13 bytes an account, so a thousand accounts take 13 KB.

use std::collections::BTreeMap;

use serde::Serialize;

pub const ACCOUNT_KEY: &str = "aws_account_id";
pub const REGION_KEY: &str = "aws_region";

/// The accounts and regions whose flow logs the table reads: every target of the stack, before
/// `--accounts` / `--regions` narrow a run (a narrowed run must not change the table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origins {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// One object's account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub account: String,
    pub region: String,
}

impl Origin {
    /// `(column, SQL literal)` pairs.
    pub fn values(&self) -> [(&'static str, String); 2] {
        [
            (ACCOUNT_KEY, format!("'{}'", self.account)),
            (REGION_KEY, format!("'{}'", self.region)),
        ]
    }
}

impl Origins {
    /// Sorted, each once: the table does not change with the order the accounts were found in.
    pub fn new(accounts: &[String], regions: &[String]) -> Origins {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        Origins {
            accounts: sorted(accounts),
            regions: sorted(regions),
        }
    }

    /// Whether `account` in `region` is one of the origins (a target of the stack).
    pub fn covers(&self, account: &str, region: &str) -> bool {
        self.accounts.iter().any(|a| a == account) && self.regions.iter().any(|r| r == region)
    }

    /// The partition keys, before the day's, as Glue columns (name, type).
    pub fn partition_keys() -> [(&'static str, &'static str); 2] {
        [(ACCOUNT_KEY, "string"), (REGION_KEY, "string")]
    }

    /// The folders between the table's location (`<prefix>AWSLogs/`) and the day's, with the
    /// partitions' placeholders: the start of `storage.location.template`.
    pub fn folders(hive: bool) -> String {
        if hive {
            format!("aws-account-id=${{{ACCOUNT_KEY}}}/aws-service=vpcflowlogs/aws-region=${{{REGION_KEY}}}/")
        } else {
            format!("${{{ACCOUNT_KEY}}}/vpcflowlogs/${{{REGION_KEY}}}/")
        }
    }

    /// The projection's table parameters of the two partitions.
    pub fn projection(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (format!("projection.{ACCOUNT_KEY}.type"), "enum".to_string()),
            (
                format!("projection.{ACCOUNT_KEY}.values"),
                self.accounts.join(","),
            ),
            (format!("projection.{REGION_KEY}.type"), "enum".to_string()),
            (
                format!("projection.{REGION_KEY}.values"),
                self.regions.join(","),
            ),
        ])
    }

    /// The account and region of the folders that open `rest` (a key after the table's
    /// location), and what follows them; why not, when they are not a flow log's folders or name
    /// an account or region the table does not read.
    pub fn read<'a>(&self, hive: bool, rest: &'a str) -> Result<(Origin, &'a str), String> {
        let mut parts = rest.splitn(4, '/');
        let (a, service, r, after) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next(),
        );
        let (account, region) = if hive {
            (
                a.strip_prefix("aws-account-id="),
                (service == "aws-service=vpcflowlogs")
                    .then(|| r.strip_prefix("aws-region="))
                    .flatten(),
            )
        } else {
            (Some(a), (service == "vpcflowlogs").then_some(r))
        };
        let (Some(account), Some(region), Some(after)) = (account, region, after) else {
            return Err(format!(
                "its folders are not `{}`",
                if hive {
                    "aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/"
                } else {
                    "<account>/vpcflowlogs/<region>/"
                }
            ));
        };
        if !self.accounts.iter().any(|x| x == account) {
            return Err(format!(
                "account {account} is not one of the table's accounts ({})",
                self.accounts.join(", ")
            ));
        }
        if !self.regions.iter().any(|x| x == region) {
            return Err(format!(
                "region {region} is not one of the table's regions ({})",
                self.regions.join(", ")
            ));
        }
        Ok((
            Origin {
                account: account.to_string(),
                region: region.to_string(),
            },
            after,
        ))
    }
}

/// What Athena checks of a projected table before it runs a query, as its user guide documents
/// them ("Set up partition projection", "Supported types for partition projection", and the
/// `INVALID_TABLE_PROPERTY` errors of "How do I troubleshoot partition projection issues"): every
/// partition column has a projection type with what that type requires, and
/// `storage.location.template` holds a placeholder for every partition column (and none for
/// anything else). moto's Glue stores any parameters, so this is the check the local stack cannot
/// make; the tests hold every table flowlogs makes to it. The problems found, none when Athena
/// would read the table.
#[cfg(test)]
pub fn projection_problems(
    partition_keys: &[&str],
    parameters: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let get = |k: String| parameters.get(&k).map(String::as_str);
    if get("projection.enabled".into()) != Some("true") {
        problems.push("projection.enabled is not true".to_string());
    }
    for key in partition_keys {
        let required: &[&str] = match get(format!("projection.{key}.type")) {
            Some("enum") => &["values"],
            Some("integer") => &["range"],
            Some("date") => &["range", "format"],
            Some("injected") => &[],
            Some(other) => {
                problems.push(format!(
                    "projection.{key}.type {other} is not a projection type"
                ));
                continue;
            }
            None => {
                problems.push(format!(
                    "partition column {key} is missing projection configuration"
                ));
                continue;
            }
        };
        for property in required {
            if get(format!("projection.{key}.{property}")).is_none_or(str::is_empty) {
                problems.push(format!("projection.{key}.{property} is missing"));
            }
        }
    }
    match get("storage.location.template".into()) {
        None => problems.push("storage.location.template is missing".to_string()),
        Some(template) => {
            for key in partition_keys {
                if !template.contains(&format!("${{{key}}}")) {
                    problems.push(format!(
                        "storage.location.template has no ${{{key}}}: it must contain templates for all partition columns"
                    ));
                }
            }
            for placeholder in template.split("${").skip(1) {
                let name = placeholder.split('}').next().unwrap_or_default();
                if !partition_keys.contains(&name) {
                    problems.push(format!(
                        "storage.location.template names ${{{name}}}, which is not a partition column"
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn origins_are_sorted_once_and_projected_as_enums() {
        let o = Origins::new(
            &ids(&["222222222222", "111111111111", "222222222222"]),
            &ids(&["us-east-1", "eu-west-1"]),
        );
        assert_eq!(o.accounts, ids(&["111111111111", "222222222222"]));
        assert!(o.covers("111111111111", "eu-west-1"));
        assert!(!o.covers("111111111111", "ap-south-1"));
        assert!(!o.covers("333333333333", "eu-west-1"));
        let p: Vec<(String, String)> = o.projection().into_iter().collect();
        assert_eq!(
            p,
            [
                ("projection.aws_account_id.type", "enum"),
                (
                    "projection.aws_account_id.values",
                    "111111111111,222222222222"
                ),
                ("projection.aws_region.type", "enum"),
                ("projection.aws_region.values", "eu-west-1,us-east-1"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn the_account_and_region_folders_read_back_in_both_layouts() {
        let o = Origins::new(&ids(&["111111111111"]), &ids(&["eu-west-1"]));
        let (origin, rest) = o
            .read(
                false,
                "111111111111/vpcflowlogs/eu-west-1/2026/12/06/x.log.gz",
            )
            .unwrap();
        assert_eq!(
            (origin.account.as_str(), origin.region.as_str(), rest),
            ("111111111111", "eu-west-1", "2026/12/06/x.log.gz")
        );
        let (origin, rest) = o
            .read(
                true,
                "aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/x",
            )
            .unwrap();
        assert_eq!(
            (origin.account.as_str(), rest),
            ("111111111111", "year=2026/x")
        );
        assert!(o
            .read(false, "222222222222/vpcflowlogs/eu-west-1/2026/12/06/x")
            .unwrap_err()
            .contains("account 222222222222 is not one of the table's accounts"));
        assert!(o
            .read(false, "111111111111/vpcflowlogs/us-east-1/2026/12/06/x")
            .unwrap_err()
            .contains("region us-east-1"));
        assert!(o
            .read(true, "111111111111/vpcflowlogs/eu-west-1/2026/x")
            .unwrap_err()
            .contains("aws-account-id=<account>"));
        assert!(o.read(false, "111111111111/cloudtrail/x").is_err());
    }

    #[test]
    fn projection_problems_are_those_athena_names() {
        let ok = BTreeMap::from(
            [
                ("projection.enabled", "true"),
                ("projection.a.type", "enum"),
                ("projection.a.values", "x,y"),
                ("projection.d.type", "date"),
                ("projection.d.range", "2026/01/01,NOW"),
                ("projection.d.format", "yyyy/MM/dd"),
                ("storage.location.template", "s3://b/${a}/${d}/"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        assert_eq!(projection_problems(&["a", "d"], &ok), Vec::<String>::new());
        let mut missing = ok.clone();
        missing.remove("projection.a.values");
        missing.insert(
            "storage.location.template".into(),
            "s3://b/${d}/${x}/".into(),
        );
        let problems = projection_problems(&["a", "d", "h"], &missing);
        assert_eq!(
            problems,
            [
                "projection.a.values is missing",
                "partition column h is missing projection configuration",
                "storage.location.template has no ${a}: it must contain templates for all partition columns",
                "storage.location.template has no ${h}: it must contain templates for all partition columns",
                "storage.location.template names ${x}, which is not a partition column",
            ]
        );
    }
}
