//! The bucket policy: our statements (log delivery, TLS only) merged into whatever the bucket's
//! policy holds, statement by statement by `Sid`; other statements are never touched. S3 refuses
//! a bucket policy over 20 KB (S3 user guide, "Bucket policies and user policies"), which the
//! delivery statements reach with many `targets.accounts` (an `aws:SourceArn` per account and
//! region): the plan refuses such a policy before any write.

use anyhow::{Context, Result};
use serde_json::Value;

use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{is_no_such_bucket, is_unset_bucket_setting};
use crate::aws::Clients;
use crate::desired::{Desired, DesiredBucket, Names};
use crate::plan::{Action, Change, Kind};
use crate::policy;
use crate::resources::bucket::after_create;
use crate::ui::Progress;

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Read the bucket policy, drop statements by Sid, put ours in, write it back.
    MergeBucketPolicy {
        bucket: String,
        statements: Vec<Value>,
        remove_sids: Vec<String>,
    },
}

type Plan = crate::plan::Plan<Op>;

pub struct BucketPolicy;

impl Resource for BucketPolicy {
    const KIND: Kind = Kind::BucketPolicy;
    type Desired = DesiredBucket;
    /// The whole policy document, `None` when the bucket has none.
    type Observed = Option<Value>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredBucket> {
        Some(&stack.bucket)
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<Value>> {
        observe(cx.clients, &cx.names.bucket).await
    }

    fn plan(names: &Names, desired: &DesiredBucket, observed: &Option<Value>) -> Plan {
        plan(names, desired, observed.as_ref())
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<Value>) -> Plan {
        plan_teardown(cx.names, observed.as_ref())
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        match op {
            Op::MergeBucketPolicy {
                bucket,
                statements,
                remove_sids,
            } => merge_policy(cx.clients, bucket, statements, remove_sids, cx.progress).await,
        }
    }
}

/// The policy as AWS holds it; `None` when there is none (or no bucket yet).
pub async fn observe(clients: &Clients, bucket: &str) -> Result<Option<Value>> {
    match clients.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(out
            .policy()
            .map(|p| serde_json::from_str(p).unwrap_or(Value::String(p.to_string())))),
        Err(e) if is_unset_bucket_setting(&e) || is_no_such_bucket(&e) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading the policy of bucket {bucket}")),
    }
}

/// Our statements added or restored, statements of ours the config no longer wants removed.
pub fn plan(names: &Names, d: &DesiredBucket, current: Option<&Value>) -> Plan {
    let mut plan = Plan::default();
    let ours = &d.policy_statements;
    let differing = policy::differing_statements(current, ours);
    // Statements of ours that the config no longer wants (a switch to firehose mode drops the delivery ones).
    let wanted_sids: Vec<&str> = ours.iter().filter_map(|s| s["Sid"].as_str()).collect();
    let stale: Vec<String> = names
        .sids
        .all()
        .into_iter()
        .filter(|sid| !wanted_sids.contains(&sid.as_str()))
        .filter(|sid| {
            current.is_some_and(|p| {
                policy::statements(p)
                    .iter()
                    .any(|s| s["Sid"] == sid.as_str())
            })
        })
        .collect();
    if differing.is_empty() && stale.is_empty() {
        plan.in_sync(Kind::BucketPolicy, &d.name);
        return plan;
    }
    let mut changes: Vec<Change> = differing
        .iter()
        .map(|sid| {
            let present = current.is_some_and(|p| {
                policy::statements(p)
                    .iter()
                    .any(|s| s["Sid"] == sid.as_str())
            });
            Change::new(
                &format!("statement {sid}"),
                if present { "differs" } else { "" },
                if present { "ours" } else { "added" },
            )
        })
        .collect();
    changes.extend(
        stale
            .iter()
            .map(|sid| Change::new(&format!("statement {sid}"), "present", "removed")),
    );
    if let Some(problem) = too_large(names, current, ours, &stale) {
        plan.conflict(Kind::BucketPolicy, &d.name, problem.0, problem.1);
        return plan;
    }
    let action = if current.is_none() {
        Action::Create
    } else {
        Action::Update
    };
    plan.step(
        Kind::BucketPolicy,
        &d.name,
        action,
        changes,
        vec![Op::MergeBucketPolicy {
            bucket: d.name.clone(),
            statements: ours.clone(),
            remove_sids: stale,
        }],
    );
    plan
}

/// S3's limit on a bucket policy's size: 20 KB.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// The problem and the fix when the policy that would be written (ours merged into what the
/// bucket has, as `merge_policy` writes it) is over S3's limit; `None` when it fits.
fn too_large(
    names: &Names,
    current: Option<&Value>,
    ours: &[Value],
    stale: &[String],
) -> Option<(String, String)> {
    let size = policy::merge_statements(current, ours, stale)?
        .to_string()
        .len();
    if size <= MAX_POLICY_BYTES {
        return None;
    }
    let write = ours.iter().find(|s| s["Sid"] == names.sids.write.as_str());
    let count = |v: &Value| match v {
        Value::Array(a) => a.len(),
        Value::Null => 0,
        _ => 1,
    };
    let accounts = write.map_or(0, |s| {
        count(&s["Condition"]["StringEquals"]["aws:SourceAccount"])
    });
    let arns = write.map_or(0, |s| count(&s["Condition"]["ArnLike"]["aws:SourceArn"]));
    let why = if accounts > 1 {
        format!(
            "; its delivery statements let in the {accounts} accounts of `targets.accounts` one by one ({arns} `aws:SourceArn` values: one per account and region)"
        )
    } else {
        String::new()
    };
    let fix = if accounts > 1 {
        "use `targets.organization: true` or `targets.organizational_units` (their accounts are let in by `aws:SourceOrgID`, one condition whatever their number), or list fewer `targets.accounts` or `targets.regions`"
    } else {
        "remove statements of your own from the bucket's policy"
    };
    Some((
        format!(
            "the bucket policy would be {size} bytes, over S3's limit of {MAX_POLICY_BYTES} bytes (20 KB){why}"
        ),
        fix.to_string(),
    ))
}

/// Our statements taken back out (the bucket stays: it is adopted, or kept with its data).
pub fn plan_teardown(names: &Names, current: Option<&Value>) -> Plan {
    let mut plan = Plan::default();
    let bucket = &names.bucket;
    let sids = names.sids.all();
    let present: Vec<String> = current
        .map(policy::statements)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .filter(|sid| sids.iter().any(|ours| ours == sid))
        .map(str::to_string)
        .collect();
    if !present.is_empty() {
        plan.step(
            Kind::BucketPolicy,
            bucket,
            Action::Delete,
            present
                .iter()
                .map(|sid| Change::new(&format!("statement {sid}"), "present", "removed"))
                .collect(),
            vec![Op::MergeBucketPolicy {
                bucket: bucket.clone(),
                statements: Vec::new(),
                remove_sids: present,
            }],
        );
    }
    plan
}

/// Reads the current policy and writes it back with our statements merged in by Sid.
pub async fn merge_policy(
    clients: &Clients,
    bucket: &str,
    statements: &[Value],
    remove_sids: &[String],
    progress: &Progress,
) -> Result<()> {
    let s3 = &clients.s3;
    let current = match after_create(progress, bucket, || {
        s3.get_bucket_policy().bucket(bucket).send()
    })
    .await
    {
        Ok(out) => out
            .policy()
            .and_then(|p| serde_json::from_str::<Value>(p).ok()),
        Err(e) if is_unset_bucket_setting(&e) => None,
        Err(e) => return Err(e).with_context(|| format!("reading the policy of bucket {bucket}")),
    };
    match policy::merge_statements(current.as_ref(), statements, remove_sids) {
        Some(merged) => {
            let merged = merged.to_string();
            after_create(progress, bucket, || {
                s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(merged.clone())
                    .send()
            })
            .await
            .with_context(|| format!("writing the policy of bucket {bucket}"))?;
        }
        None => {
            after_create(progress, bucket, || {
                s3.delete_bucket_policy().bucket(bucket).send()
            })
            .await
            .with_context(|| format!("deleting the (now empty) policy of bucket {bucket}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::bucket::tests::desired;

    #[test]
    fn a_bucket_without_a_policy_gets_ours_created() {
        let d = desired("retention_days: 30");
        let plan = plan(&d.names, &d.bucket, None);
        assert_eq!(
            (plan.steps[0].kind, plan.steps[0].action),
            (Kind::BucketPolicy, Action::Create)
        );
    }

    #[test]
    fn our_statements_in_place_are_in_sync() {
        let d = desired("retention_days: 30");
        let current = policy::merge_statements(None, &d.bucket.policy_statements, &[]);
        let plan = plan(&d.names, &d.bucket, current.as_ref());
        assert!(plan.steps.is_empty(), "{plan}");
        assert_eq!(plan.in_sync.len(), 1);
    }

    #[test]
    fn an_adopted_bucket_gets_its_policy_merged() {
        let d = desired("name: shared-logs, create: false");
        let current = serde_json::json!({"Statement": [{"Sid": "Theirs"}]});
        let plan = plan(&d.names, &d.bucket, Some(&current));
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(
            (plan.steps[0].kind, plan.steps[0].action),
            (Kind::BucketPolicy, Action::Update)
        );
    }

    #[test]
    fn a_policy_over_20_kb_with_listed_accounts_is_refused_naming_the_count_size_and_fix() {
        use crate::desired::fleet::{scoped, Sources};
        use std::collections::BTreeMap;
        use std::path::Path;

        let text = "version: 1\nstack: s\nflow_log:\n  resources: { all_vpcs: true }\ndelivery: { otlp: { endpoint: http://x } }\ntargets: { accounts: [\"111111111111\"] }\n";
        let config = crate::config::parse(text, Path::new("t.yaml"), &|_| None).unwrap();
        let regions: Vec<String> = ["us-east-1", "us-east-2", "eu-west-1", "eu-central-1"]
            .map(String::from)
            .to_vec();
        let with = |n: u64| {
            let accounts: BTreeMap<String, Vec<String>> = (0..n)
                .map(|i| (format!("{:012}", 100_000_000_000 + i), regions.clone()))
                .collect();
            let d = crate::desired::build(&config, "123456789012", "us-east-1", "h").unwrap();
            scoped(d, &config, &Sources::Accounts(accounts))
        };
        let size = |d: &crate::desired::Desired| {
            policy::merge_statements(None, &d.bucket.policy_statements, &[])
                .unwrap()
                .to_string()
                .len()
        };
        // 40 accounts × 4 regions fit; 120 do not.
        let fits = with(40);
        assert!(size(&fits) <= MAX_POLICY_BYTES, "{}", size(&fits));
        let p = plan(&fits.names, &fits.bucket, None);
        assert!(p.conflicts.is_empty() && p.steps.len() == 1, "{p}");
        let over = with(120);
        let bytes = size(&over);
        assert!(bytes > MAX_POLICY_BYTES, "{bytes}");
        let p = plan(&over.names, &over.bucket, None);
        assert!(p.steps.is_empty(), "no write planned: {p}");
        let c = &p.conflicts[0];
        assert_eq!(c.kind, Kind::BucketPolicy);
        assert!(
            c.problem.contains(&format!(
                "would be {bytes} bytes, over S3's limit of 20480 bytes"
            )),
            "{}",
            c.problem
        );
        assert!(
            c.problem.contains("the 120 accounts of `targets.accounts`")
                && c.problem.contains("480 `aws:SourceArn`"),
            "{}",
            c.problem
        );
        assert!(
            c.fix.contains("targets.organization: true")
                && c.fix.contains("targets.organizational_units")
                && c.fix.contains("aws:SourceOrgID"),
            "{}",
            c.fix
        );
        // What the bucket has counts too: statements of others may push ours over.
        let theirs: Vec<Value> = (0..60)
            .map(|i| serde_json::json!({"Sid": format!("Theirs{i}"), "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": format!("arn:aws:s3:::{}/team-{i:04}-and-a-rather-long-folder-name/*", fits.names.bucket), "Condition": {"StringNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/a-role-of-their-own-with-a-long-name"}}}))
            .collect();
        let current = serde_json::json!({"Version": "2012-10-17", "Statement": theirs});
        let p = plan(&fits.names, &fits.bucket, Some(&current));
        assert_eq!(p.conflicts.len(), 1, "{p}");
    }

    #[test]
    fn teardown_takes_back_only_our_statements() {
        let adopted = desired("name: shared-logs, create: false");
        let current = policy::merge_statements(
            Some(&serde_json::json!({"Statement": [{"Sid": "Theirs"}]})),
            &adopted.bucket.policy_statements,
            &[],
        );
        let plan = plan_teardown(&adopted.names, current.as_ref());
        assert_eq!(plan.steps.len(), 1);
        let Op::MergeBucketPolicy {
            statements,
            remove_sids,
            ..
        } = &plan.steps[0].ops[0];
        assert!(statements.is_empty());
        assert_eq!(remove_sids.len(), 3);
    }
}
