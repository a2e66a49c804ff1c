//! The hub's resources when other accounts' flow logs deliver to its bucket (`targets:`): the
//! bucket policy's delivery statements let in every target account (per account: `aws:SourceAccount`
//! and `aws:SourceArn` `arn:aws:logs:<region>:<account>:*`; for an organisation or its OUs:
//! `aws:SourceOrgID`), on both the write and the bucket-ACL statement; the notification and the
//! forwarder's read permission cover every account's and region's `AWSLogs/...` keys. Pure.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Desired;
use crate::config::Config;

/// Who may deliver flow logs to the hub's bucket.
#[derive(Debug, Clone, PartialEq)]
pub enum Sources {
    /// Every account of the organisation `o-...`.
    Organization(String),
    /// These accounts, each from these regions.
    Accounts(BTreeMap<String, Vec<String>>),
}

/// Where every target's flow logs land: `<prefix>AWSLogs/`.
pub fn fleet_key_prefix(config: &Config) -> String {
    format!("{}AWSLogs/", config.bucket.prefix)
}

/// `desired` with the bucket's delivery statements, the notification's prefix and the forwarder's
/// read permission covering every source.
pub fn scoped(mut desired: Desired, config: &Config, sources: &Sources) -> Desired {
    let names = &desired.names;
    let prefix = fleet_key_prefix(config);
    let bucket_arn = format!("arn:{}:s3:::{}", names.partition, names.bucket);
    let (write_sid, acl_sid) = (names.sids.write.clone(), names.sids.acl.clone());
    let partition = names.partition.clone();
    for statement in &mut desired.bucket.policy_statements {
        let sid = statement["Sid"].as_str().unwrap_or_default().to_string();
        if sid != write_sid && sid != acl_sid {
            continue;
        }
        if sid == write_sid {
            statement["Resource"] = write_resources(&bucket_arn, &prefix, config, sources);
        }
        scope_condition(statement, &partition, sources);
    }
    if let Some(forwarder) = desired.forwarder.as_mut() {
        forwarder.notification.prefix = crate::aws::keys::encode(&prefix);
        if let Some(statements) = forwarder.role.policy["Statement"].as_array_mut() {
            for s in statements
                .iter_mut()
                .filter(|s| s["Sid"] == "ReadFlowLogObjects")
            {
                s["Resource"] = json!(format!("{bucket_arn}/{prefix}*"));
            }
        }
    }
    desired
}

/// The write statement's objects: every account's folder, or all of `AWSLogs/` for an organisation.
fn write_resources(bucket_arn: &str, prefix: &str, config: &Config, sources: &Sources) -> Value {
    match sources {
        Sources::Organization(_) => json!(format!("{bucket_arn}/{prefix}*")),
        Sources::Accounts(accounts) => {
            let folders: Vec<String> = accounts
                .keys()
                .map(|account| {
                    if config.flow_log.hive_compatible_partitions {
                        format!("{bucket_arn}/{prefix}aws-account-id={account}/*")
                    } else {
                        format!("{bucket_arn}/{prefix}{account}/*")
                    }
                })
                .collect();
            json!(folders)
        }
    }
}

/// The source's conditions replaced, and no `s3:x-amz-acl` condition: the delivery service sends
/// no ACL header to a bucket with ACLs disabled (BucketOwnerEnforced, the default), so that
/// condition refuses every other account's write (AWS-FACTS.md, "Many accounts, one bucket").
fn scope_condition(statement: &mut Value, partition: &str, sources: &Sources) {
    let condition = statement["Condition"]
        .as_object_mut()
        .expect("the delivery statements have conditions");
    condition.remove("ArnLike");
    let equals = condition
        .entry("StringEquals")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("StringEquals is an object");
    equals.remove("aws:SourceAccount");
    equals.remove("s3:x-amz-acl");
    match sources {
        Sources::Organization(id) => {
            equals.insert("aws:SourceOrgID".into(), json!(id));
        }
        Sources::Accounts(accounts) => {
            equals.insert(
                "aws:SourceAccount".into(),
                json!(accounts.keys().collect::<Vec<_>>()),
            );
            let arns: Vec<String> = accounts
                .iter()
                .flat_map(|(account, regions)| {
                    regions
                        .iter()
                        .map(move |r| format!("arn:{partition}:logs:{r}:{account}:*"))
                })
                .collect();
            condition.insert("ArnLike".into(), json!({ "aws:SourceArn": arns }));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn desired(extra: &str) -> (Config, Desired) {
        let text = format!("version: 1\nstack: s\nflow_log:\n  resources: {{ all_vpcs: true }}\n{extra}delivery: {{ otlp: {{ endpoint: http://x }} }}\nbucket: {{ prefix: \"team/\" }}\ntargets: {{ organization: true }}\n");
        let config = crate::config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
        let d = super::super::build(&config, "111111111111", "us-east-1", "h").unwrap();
        (config, d)
    }

    fn statement<'a>(d: &'a Desired, sid: &str) -> &'a Value {
        d.bucket
            .policy_statements
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap()
    }

    #[test]
    fn an_organisation_is_let_in_by_its_id_on_the_write_and_the_acl_check() {
        let (config, d) = desired("");
        let d = scoped(d, &config, &Sources::Organization("o-abc123".into()));
        let write = statement(&d, &d.names.sids.write);
        assert_eq!(
            write["Resource"],
            "arn:aws:s3:::s-flowlogs-111111111111-us-east-1/team/AWSLogs/*"
        );
        assert_eq!(
            write["Condition"]["StringEquals"]["aws:SourceOrgID"],
            "o-abc123"
        );
        // The single account's condition goes, and the ACL header's, which other accounts'
        // deliveries to a bucket with ACLs disabled do not send.
        assert!(write["Condition"]["StringEquals"]
            .get("s3:x-amz-acl")
            .is_none());
        assert!(write["Condition"]["StringEquals"]
            .get("aws:SourceAccount")
            .is_none());
        assert!(write["Condition"].get("ArnLike").is_none());
        let acl = statement(&d, &d.names.sids.acl);
        assert_eq!(
            acl["Condition"]["StringEquals"]["aws:SourceOrgID"],
            "o-abc123"
        );
        assert!(acl["Condition"].get("ArnLike").is_none());
        // The TLS statement is untouched.
        assert_eq!(statement(&d, &d.names.sids.tls)["Effect"], "Deny");
    }

    #[test]
    fn listed_accounts_are_let_in_each_from_its_regions() {
        let (config, d) = desired("");
        let accounts: BTreeMap<String, Vec<String>> = [
            (
                "222222222222".into(),
                vec!["eu-west-1".into(), "us-east-1".into()],
            ),
            ("333333333333".into(), vec!["us-east-1".into()]),
        ]
        .into();
        let d = scoped(d, &config, &Sources::Accounts(accounts));
        for sid in [&d.names.sids.write, &d.names.sids.acl] {
            let s = statement(&d, sid);
            assert_eq!(
                s["Condition"]["StringEquals"]["aws:SourceAccount"],
                json!(["222222222222", "333333333333"])
            );
            assert_eq!(
                s["Condition"]["ArnLike"]["aws:SourceArn"],
                json!([
                    "arn:aws:logs:eu-west-1:222222222222:*",
                    "arn:aws:logs:us-east-1:222222222222:*",
                    "arn:aws:logs:us-east-1:333333333333:*"
                ])
            );
        }
        assert_eq!(
            statement(&d, &d.names.sids.write)["Resource"],
            json!([
                "arn:aws:s3:::s-flowlogs-111111111111-us-east-1/team/AWSLogs/222222222222/*",
                "arn:aws:s3:::s-flowlogs-111111111111-us-east-1/team/AWSLogs/333333333333/*"
            ])
        );
    }

    #[test]
    fn the_notification_and_the_forwarders_read_cover_every_accounts_keys() {
        let (config, d) = desired("");
        let d = scoped(d, &config, &Sources::Organization("o-abc123".into()));
        let forwarder = d.forwarder.as_ref().unwrap();
        assert_eq!(forwarder.notification.prefix, "team/AWSLogs/");
        let read = forwarder.role.policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "ReadFlowLogObjects")
            .unwrap();
        assert_eq!(
            read["Resource"],
            "arn:aws:s3:::s-flowlogs-111111111111-us-east-1/team/AWSLogs/*"
        );
    }
}
