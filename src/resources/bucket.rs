//! The S3 bucket: created and hardened (public access blocked, default encryption, lifecycle, tags),
//! or adopted; and its policy, into which our statements are merged by `Sid`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ObjectIdentifier, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};
use serde_json::Value;

use super::notification::{self, NotificationEntry};
use crate::aws::{is_code, Clients};
use crate::desired::{Desired, Names};
use crate::plan::{Action, Change, Kind, Op, Plan};
use crate::policy;

pub const LIFECYCLE_RULE_ID: &str = "flowlogs-retention";
pub const ABORT_UPLOADS_AFTER_DAYS: i32 = 7;

#[derive(Debug, Clone, Default)]
pub enum ObservedBucket {
    #[default]
    Missing,
    /// It exists but these credentials cannot see it: someone else's bucket.
    NotAccessible,
    Present(BucketState),
}

#[derive(Debug, Clone, Default)]
pub struct BucketState {
    pub tags: BTreeMap<String, String>,
    pub policy: Option<Value>,
    pub public_access_blocked: bool,
    pub encryption: Option<String>,
    /// Our lifecycle rule: (expire days, abort incomplete uploads days), when present and enabled.
    pub retention: Option<(i32, i32)>,
    pub notifications: Vec<NotificationEntry>,
}

impl ObservedBucket {
    pub fn state(&self) -> Option<&BucketState> {
        match self {
            ObservedBucket::Present(s) => Some(s),
            _ => None,
        }
    }
}

pub async fn observe(clients: &Clients, bucket: &str) -> Result<ObservedBucket> {
    let s3 = &clients.s3;
    if let Err(err) = s3.head_bucket().bucket(bucket).send().await {
        if err.as_service_error().is_some_and(|e| e.is_not_found()) {
            return Ok(ObservedBucket::Missing);
        }
        if err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 403)
        {
            return Ok(ObservedBucket::NotAccessible);
        }
        return Err(err)
            .with_context(|| format!("checking whether bucket {bucket} exists (s3:HeadBucket)"));
    }
    let tags = match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(e) if is_code(&e, &["NoSuchTagSet", "NoSuchTagSetError"]) => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| format!("reading the tags of bucket {bucket}")),
    };
    let policy = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => out
            .policy()
            .map(|p| serde_json::from_str(p).unwrap_or(Value::String(p.to_string()))),
        Err(e) if is_code(&e, &["NoSuchBucketPolicy"]) => None,
        Err(e) => return Err(e).with_context(|| format!("reading the policy of bucket {bucket}")),
    };
    let public_access_blocked = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(e) if is_code(&e, &["NoSuchPublicAccessBlockConfiguration"]) => false,
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the public access block of bucket {bucket}"))
        }
    };
    let encryption = match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_string()),
        Err(e) if is_code(&e, &["ServerSideEncryptionConfigurationNotFoundError"]) => None,
        Err(e) => {
            return Err(e).with_context(|| format!("reading the encryption of bucket {bucket}"))
        }
    };
    let retention = match s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out
            .rules()
            .iter()
            .find(|r| r.id() == Some(LIFECYCLE_RULE_ID) && r.status() == &ExpirationStatus::Enabled)
            .map(|r| {
                (
                    r.expiration().and_then(|e| e.days()).unwrap_or(0),
                    r.abort_incomplete_multipart_upload()
                        .and_then(|a| a.days_after_initiation())
                        .unwrap_or(0),
                )
            }),
        Err(e) if is_code(&e, &["NoSuchLifecycleConfiguration"]) => None,
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the lifecycle rules of bucket {bucket}"))
        }
    };
    let notifications = notification::observe(clients, bucket).await?;
    Ok(ObservedBucket::Present(BucketState {
        tags,
        policy,
        public_access_blocked,
        encryption,
        retention,
        notifications,
    }))
}

pub fn plan(desired: &Desired, observed: &crate::observe::Observed, plan: &mut Plan) {
    let d = &desired.bucket;
    let name = &d.name;
    let state = match (&observed.bucket, d.create) {
        (ObservedBucket::Missing, true) => {
            plan.step(
                Kind::Bucket,
                name,
                Action::Create,
                vec![
                    Change::new("public access", "", "blocked"),
                    Change::new("encryption", "", "AES256"),
                    Change::new(
                        "expire objects after",
                        "",
                        format!("{} days", d.retention_days),
                    ),
                ],
                vec![
                    Op::CreateBucket {
                        bucket: name.clone(),
                        region: desired.names.region.clone(),
                    },
                    Op::TagBucket {
                        bucket: name.clone(),
                        tags: d.tags.clone(),
                    },
                    Op::BlockPublicAccess {
                        bucket: name.clone(),
                    },
                    Op::EncryptBucket {
                        bucket: name.clone(),
                    },
                    Op::SetLifecycle {
                        bucket: name.clone(),
                        expire_days: d.retention_days,
                    },
                ],
            );
            plan_policy(desired, None, plan);
            return;
        }
        (ObservedBucket::Missing, false) => {
            plan.conflict(
                Kind::Bucket,
                name,
                "the bucket to adopt (`create: false`) does not exist",
                "create it first, or set `bucket.create: true` to let flowlogs make it",
            );
            return;
        }
        (ObservedBucket::NotAccessible, _) => {
            plan.conflict(
                Kind::Bucket,
                name,
                "the bucket exists but these credentials cannot use it (S3 bucket names are global)",
                "choose another `bucket.name`",
            );
            return;
        }
        (ObservedBucket::Present(state), _) => state,
    };
    if d.create {
        if !desired.names.is_ours(&state.tags) {
            plan.conflict(
                Kind::Bucket,
                name,
                format!(
                    "the bucket exists and is not tagged {}={}",
                    crate::desired::TAG_STACK,
                    desired.names.stack
                ),
                "set `bucket.create: false` to adopt it, or choose another `bucket.name`",
            );
            return;
        }
        let mut changes = Vec::new();
        let mut ops = Vec::new();
        if d.tags.iter().any(|(k, v)| state.tags.get(k) != Some(v)) {
            changes.push(Change::new("tags", "incomplete", "flowlogs tags"));
            let mut tags = state.tags.clone();
            tags.extend(d.tags.clone());
            ops.push(Op::TagBucket {
                bucket: name.clone(),
                tags,
            });
        }
        if !state.public_access_blocked {
            changes.push(Change::new("public access", "not fully blocked", "blocked"));
            ops.push(Op::BlockPublicAccess {
                bucket: name.clone(),
            });
        }
        if state.encryption.is_none() {
            changes.push(Change::new("encryption", "none", "AES256"));
            ops.push(Op::EncryptBucket {
                bucket: name.clone(),
            });
        }
        let wanted = (d.retention_days as i32, ABORT_UPLOADS_AFTER_DAYS);
        if state.retention != Some(wanted) {
            let from = match state.retention {
                Some((days, _)) => format!("{days} days"),
                None => "never".into(),
            };
            changes.push(Change::new(
                "expire objects after",
                from,
                format!("{} days", d.retention_days),
            ));
            ops.push(Op::SetLifecycle {
                bucket: name.clone(),
                expire_days: d.retention_days,
            });
        }
        if ops.is_empty() {
            plan.in_sync(Kind::Bucket, name);
        } else {
            plan.step(Kind::Bucket, name, Action::Update, changes, ops);
        }
    } else {
        plan.in_sync(Kind::Bucket, name);
        if desired.names.is_ours(&state.tags) {
            plan.note(
                Kind::Bucket,
                name,
                "adopted, but carries our tag from an earlier `create: true`",
            );
        }
    }
    plan_policy(desired, state.policy.as_ref(), plan);
}

fn plan_policy(desired: &Desired, current: Option<&Value>, plan: &mut Plan) {
    let d = &desired.bucket;
    let ours = &d.policy_statements;
    let differing = policy::differing_statements(current, ours);
    // Statements of ours that the config no longer wants (a switch to firehose mode drops the delivery ones).
    let wanted_sids: Vec<&str> = ours.iter().filter_map(|s| s["Sid"].as_str()).collect();
    let stale: Vec<String> = desired
        .names
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
        return;
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
}

pub fn plan_teardown(
    names: &Names,
    observed: &crate::observe::Observed,
    delete_data: bool,
    plan: &mut Plan,
) {
    let Some(state) = observed.bucket.state() else {
        return;
    };
    let bucket = &names.bucket;
    if names.bucket_created_by_us && names.is_ours(&state.tags) {
        if delete_data {
            plan.step(
                Kind::Bucket,
                bucket,
                Action::Delete,
                vec![Change::new("objects", "kept", "deleted, all versions")],
                vec![Op::DeleteBucket {
                    bucket: bucket.clone(),
                }],
            );
        } else {
            plan.note(
                Kind::Bucket,
                bucket,
                "kept with its objects (flow logs are audit data); `teardown --delete-data` removes it",
            );
        }
        return;
    }
    // An adopted bucket: take back only our policy statements.
    let sids = names.sids.all();
    let present: Vec<String> = state
        .policy
        .as_ref()
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
    plan.note(
        Kind::Bucket,
        bucket,
        "not created by flowlogs: never deleted",
    );
}

pub async fn create(clients: &Clients, bucket: &str, region: &str) -> Result<()> {
    let mut request = clients.s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("creating bucket {bucket}")),
    }
}

pub async fn tag(clients: &Clients, bucket: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    let tag_set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()?;
    clients
        .s3
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(Tagging::builder().set_tag_set(Some(tag_set)).build()?)
        .send()
        .await
        .with_context(|| format!("tagging bucket {bucket}"))?;
    Ok(())
}

pub async fn block_public_access(clients: &Clients, bucket: &str) -> Result<()> {
    clients
        .s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .with_context(|| format!("blocking public access to bucket {bucket}"))?;
    Ok(())
}

pub async fn encrypt(clients: &Clients, bucket: &str) -> Result<()> {
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()?,
        )
        .build();
    clients
        .s3
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("setting default encryption on bucket {bucket}"))?;
    Ok(())
}

/// Puts our lifecycle rule in place of the one with our id, keeping every other rule.
pub async fn set_lifecycle(clients: &Clients, bucket: &str, expire_days: u32) -> Result<()> {
    let existing = match clients
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out.rules().to_vec(),
        Err(e) if is_code(&e, &["NoSuchLifecycleConfiguration"]) => Vec::new(),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the lifecycle rules of bucket {bucket}"))
        }
    };
    let ours = LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(
            LifecycleExpiration::builder()
                .days(expire_days as i32)
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(ABORT_UPLOADS_AFTER_DAYS)
                .build(),
        )
        .build()?;
    let mut rules: Vec<LifecycleRule> = existing
        .into_iter()
        .filter(|r| r.id() != Some(LIFECYCLE_RULE_ID))
        .collect();
    rules.push(ours);
    clients
        .s3
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("setting the lifecycle rules of bucket {bucket}"))?;
    Ok(())
}

/// Reads the current policy and writes it back with our statements merged in by Sid.
pub async fn merge_policy(
    clients: &Clients,
    bucket: &str,
    statements: &[Value],
    remove_sids: &[String],
) -> Result<()> {
    let current = match clients.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => out
            .policy()
            .and_then(|p| serde_json::from_str::<Value>(p).ok()),
        Err(e) if is_code(&e, &["NoSuchBucketPolicy"]) => None,
        Err(e) => return Err(e).with_context(|| format!("reading the policy of bucket {bucket}")),
    };
    match policy::merge_statements(current.as_ref(), statements, remove_sids) {
        Some(merged) => {
            clients
                .s3
                .put_bucket_policy()
                .bucket(bucket)
                .policy(merged.to_string())
                .send()
                .await
                .with_context(|| format!("writing the policy of bucket {bucket}"))?;
        }
        None => {
            clients
                .s3
                .delete_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .with_context(|| format!("deleting the (now empty) policy of bucket {bucket}"))?;
        }
    }
    Ok(())
}

/// Deletes every object version and delete marker, then the bucket.
pub async fn delete_with_objects(
    clients: &Clients,
    bucket: &str,
    progress: &crate::ui::Progress,
) -> Result<()> {
    let s3 = &clients.s3;
    let mut deleted = 0usize;
    loop {
        let listing = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .with_context(|| format!("listing the objects of bucket {bucket}"))?;
        let mut ids = Vec::new();
        for v in listing.versions() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(v.key().unwrap_or_default())
                    .set_version_id(v.version_id().map(str::to_string))
                    .build()?,
            );
        }
        for m in listing.delete_markers() {
            ids.push(
                ObjectIdentifier::builder()
                    .key(m.key().unwrap_or_default())
                    .set_version_id(m.version_id().map(str::to_string))
                    .build()?,
            );
        }
        if ids.is_empty() {
            break;
        }
        deleted += ids.len();
        s3.delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .with_context(|| format!("deleting objects of bucket {bucket}"))?;
        progress.detail(&format!("deleted {deleted} objects from {bucket}"));
    }
    match s3.delete_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, &["NoSuchBucket"]) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting bucket {bucket}")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::desired;
    use crate::observe::Observed;

    fn desired(bucket: &str) -> Desired {
        let text = format!(
            "version: 1\nstack: s\nflow_log: {{ resources: {{ vpc_ids: [vpc-1] }} }}\nbucket: {{ {bucket} }}\ndelivery: {{ otlp: {{ endpoint: http://x }} }}\n"
        );
        let c = crate::config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
        desired::build(&c, "123456789012", "us-east-1", "h").unwrap()
    }

    fn hardened(d: &Desired) -> BucketState {
        BucketState {
            tags: d.names.tags(),
            policy: policy::merge_statements(None, &d.bucket.policy_statements, &[]),
            public_access_blocked: true,
            encryption: Some("AES256".into()),
            retention: Some((d.bucket.retention_days as i32, ABORT_UPLOADS_AFTER_DAYS)),
            notifications: Vec::new(),
        }
    }

    fn plan_for(d: &Desired, bucket: ObservedBucket) -> Plan {
        let observed = Observed {
            bucket,
            ..Observed::default()
        };
        let mut plan = Plan::default();
        super::plan(d, &observed, &mut plan);
        plan
    }

    #[test]
    fn a_missing_bucket_is_created_hardened_then_given_its_policy() {
        let d = desired("retention_days: 30");
        let plan = plan_for(&d, ObservedBucket::Missing);
        let kinds: Vec<(Kind, Action)> = plan.steps.iter().map(|s| (s.kind, s.action)).collect();
        assert_eq!(
            kinds,
            [
                (Kind::Bucket, Action::Create),
                (Kind::BucketPolicy, Action::Create)
            ]
        );
        let ops: Vec<&str> = plan.steps[0]
            .ops
            .iter()
            .map(|op| match op {
                Op::CreateBucket { .. } => "create",
                Op::TagBucket { .. } => "tag",
                Op::BlockPublicAccess { .. } => "public-access",
                Op::EncryptBucket { .. } => "encrypt",
                Op::SetLifecycle {
                    expire_days: 30, ..
                } => "lifecycle-30",
                _ => "other",
            })
            .collect();
        assert_eq!(
            ops,
            ["create", "tag", "public-access", "encrypt", "lifecycle-30"]
        );
    }

    #[test]
    fn a_hardened_bucket_of_ours_is_in_sync() {
        let d = desired("retention_days: 30");
        let plan = plan_for(&d, ObservedBucket::Present(hardened(&d)));
        assert!(plan.steps.is_empty(), "{plan}");
        assert_eq!(plan.in_sync.len(), 2);
    }

    #[test]
    fn drift_is_an_update_naming_each_field() {
        let d = desired("retention_days: 30");
        let mut state = hardened(&d);
        state.encryption = None;
        state.retention = Some((90, 7));
        state.public_access_blocked = false;
        let plan = plan_for(&d, ObservedBucket::Present(state));
        let fields: Vec<&str> = plan.steps[0]
            .changes
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["public access", "encryption", "expire objects after"]
        );
    }

    #[test]
    fn a_foreign_bucket_is_a_conflict_with_the_fix() {
        let d = desired("retention_days: 30");
        let mut state = hardened(&d);
        state.tags.clear();
        let plan = plan_for(&d, ObservedBucket::Present(state));
        assert!(plan.steps.is_empty());
        assert!(plan.conflicts[0].fix.contains("bucket.create: false"));
        let plan = plan_for(&d, ObservedBucket::NotAccessible);
        assert!(plan.conflicts[0].problem.contains("cannot use it"));
    }

    #[test]
    fn an_adopted_bucket_only_gets_its_policy_merged() {
        let d = desired("name: shared-logs, create: false");
        let state = BucketState {
            policy: Some(serde_json::json!({"Statement": [{"Sid": "Theirs"}]})),
            ..BucketState::default()
        };
        let plan = plan_for(&d, ObservedBucket::Present(state));
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(
            (plan.steps[0].kind, plan.steps[0].action),
            (Kind::BucketPolicy, Action::Update)
        );
        let plan = plan_for(&d, ObservedBucket::Missing);
        assert!(plan.conflicts[0].problem.contains("does not exist"));
    }

    #[test]
    fn teardown_keeps_our_bucket_unless_asked_and_never_deletes_an_adopted_one() {
        let d = desired("retention_days: 30");
        let observed = Observed {
            bucket: ObservedBucket::Present(hardened(&d)),
            ..Observed::default()
        };
        let mut keep = Plan::default();
        plan_teardown(&d.names, &observed, false, &mut keep);
        assert!(keep.steps.is_empty());
        assert!(keep.notes[0].note.contains("--delete-data"));
        let mut delete = Plan::default();
        plan_teardown(&d.names, &observed, true, &mut delete);
        assert!(matches!(delete.steps[0].ops[0], Op::DeleteBucket { .. }));

        let adopted = desired("name: shared-logs, create: false");
        let state = BucketState {
            policy: policy::merge_statements(
                Some(&serde_json::json!({"Statement": [{"Sid": "Theirs"}]})),
                &adopted.bucket.policy_statements,
                &[],
            ),
            ..BucketState::default()
        };
        let observed = Observed {
            bucket: ObservedBucket::Present(state),
            ..Observed::default()
        };
        let mut plan = Plan::default();
        plan_teardown(&adopted.names, &observed, true, &mut plan);
        assert_eq!(plan.steps.len(), 1);
        let Op::MergeBucketPolicy {
            statements,
            remove_sids,
            ..
        } = &plan.steps[0].ops[0]
        else {
            panic!()
        };
        assert!(statements.is_empty());
        assert_eq!(remove_sids.len(), 3);
    }
}
