//! The S3 bucket: created and hardened (public access blocked, default encryption, lifecycle, tags),
//! or adopted and never changed. Its policy is `bucket_policy`, its notifications `notification`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, ObjectIdentifier, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tagging,
};

use serde::Serialize;

use super::{Apply, Observe, Resource, Teardown};
use crate::aws::errors::{code, is_no_such_bucket, is_not_found, is_unset_bucket_setting};
use crate::aws::wait::{self, Patience};
use crate::aws::{tags, Clients};
use crate::desired::kms::{self, BucketKey};
use crate::desired::{Desired, DesiredBucket, Names};
use crate::plan::{Action, Change, Kind};
use crate::ui::Progress;

mod plan;
mod write;

pub use plan::{create_hardened, is_ours_to_delete, plan, plan_teardown, restore_hardening};
pub use write::{
    after_create, block_public_access, create, delete_with_objects, encrypt, set_lifecycle, tag,
};
#[cfg(test)]
use write::{after_delete_bucket, refused_deletes, DeleteBucketNext};

/// This resource's AWS writes, each with everything it needs; in the plan's `ops` as
/// `{"op": "<snake_case name>", ...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateBucket {
        bucket: String,
        region: String,
    },
    TagBucket {
        bucket: String,
        tags: std::collections::BTreeMap<String, String>,
    },
    BlockPublicAccess {
        bucket: String,
    },
    EncryptBucket {
        bucket: String,
    },
    SetLifecycle {
        bucket: String,
        expire_days: u32,
    },
    DeleteBucket {
        bucket: String,
    },
}

type Plan = crate::plan::Plan<Op>;

pub const LIFECYCLE_RULE_ID: &str = "flowlogs-retention";
pub const ABORT_UPLOADS_AFTER_DAYS: i32 = 7;

#[derive(Debug, Clone, Default)]
pub enum ObservedBucket {
    #[default]
    Missing,
    /// It exists but these credentials cannot see it: someone else's bucket.
    NotAccessible,
    /// It exists in another region than the stack's (HeadBucket's `x-amz-bucket-region`).
    OtherRegion(String),
    Present(BucketState),
}

#[derive(Debug, Clone, Default)]
pub struct BucketState {
    pub tags: BTreeMap<String, String>,
    pub public_access_blocked: bool,
    pub encryption: Option<String>,
    /// The default encryption's `KMSMasterKeyID` (key id, key ARN, alias or alias ARN), if any.
    pub kms_master_key_id: Option<String>,
    /// Our lifecycle rule: (expire days, abort incomplete uploads days), when present and enabled.
    pub retention: Option<(i32, i32)>,
}

impl ObservedBucket {
    pub fn state(&self) -> Option<&BucketState> {
        match self {
            ObservedBucket::Present(s) => Some(s),
            _ => None,
        }
    }

    /// The key its default encryption uses, as IAM can grant on it.
    pub fn key(&self, names: &Names) -> BucketKey {
        match self.state() {
            Some(s) => kms::bucket_key(
                names,
                s.encryption.as_deref(),
                s.kms_master_key_id.as_deref(),
            ),
            None => BucketKey::NotKms,
        }
    }
}

pub struct Bucket;

impl Resource for Bucket {
    const KIND: Kind = Kind::Bucket;
    type Desired = DesiredBucket;
    type Observed = ObservedBucket;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredBucket> {
        Some(&stack.bucket)
    }

    async fn observe(cx: &Observe<'_>) -> Result<ObservedBucket> {
        observe(cx.clients, &cx.names.bucket).await
    }

    fn plan(names: &Names, desired: &DesiredBucket, observed: &ObservedBucket) -> Plan {
        plan(names, desired, observed)
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &ObservedBucket) -> Plan {
        plan_teardown(cx, observed)
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        let c = cx.clients;
        match op {
            Op::CreateBucket { bucket, region } => create(c, bucket, region).await,
            Op::TagBucket { bucket, tags } => tag(c, bucket, tags, cx.progress).await,
            Op::BlockPublicAccess { bucket } => block_public_access(c, bucket, cx.progress).await,
            Op::EncryptBucket { bucket } => encrypt(c, bucket, cx.progress).await,
            Op::SetLifecycle {
                bucket,
                expire_days,
            } => set_lifecycle(c, bucket, *expire_days, cx.progress).await,
            Op::DeleteBucket { bucket } => delete_with_objects(c, bucket, cx.progress).await,
        }
    }
}

pub async fn observe(clients: &Clients, bucket: &str) -> Result<ObservedBucket> {
    let s3 = &clients.s3;
    let region = match s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => out.bucket_region().map(str::to_string),
        Err(err) => {
            if is_not_found(&err) {
                return Ok(ObservedBucket::Missing);
            }
            let raw = err.raw_response();
            if raw.is_some_and(|r| r.status().as_u16() == 403) {
                return Ok(ObservedBucket::NotAccessible);
            }
            // S3 answers 301 with `x-amz-bucket-region` when the client's region is not the bucket's.
            let region = raw.and_then(|r| r.headers().get("x-amz-bucket-region"));
            match region.map(str::to_string) {
                Some(elsewhere) if elsewhere != clients.region => {
                    return Ok(ObservedBucket::OtherRegion(elsewhere))
                }
                _ => {
                    return Err(err).with_context(|| {
                        format!("checking whether bucket {bucket} exists (s3:HeadBucket)")
                    })
                }
            }
        }
    };
    if let Some(elsewhere) = region.filter(|r| *r != clients.region) {
        return Ok(ObservedBucket::OtherRegion(elsewhere));
    }
    let tags = match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => tags::from_pairs(out.tag_set().iter().map(|t| (t.key(), t.value()))),
        Err(e) if is_unset_bucket_setting(&e) => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| format!("reading the tags of bucket {bucket}")),
    };
    let public_access_blocked = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(e) if is_unset_bucket_setting(&e) => false,
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the public access block of bucket {bucket}"))
        }
    };
    let (encryption, kms_master_key_id) =
        match s3.get_bucket_encryption().bucket(bucket).send().await {
            Ok(out) => {
                let default = out
                    .server_side_encryption_configuration()
                    .and_then(|c| c.rules().first())
                    .and_then(|r| r.apply_server_side_encryption_by_default());
                (
                    default.map(|d| d.sse_algorithm().as_str().to_string()),
                    default
                        .and_then(|d| d.kms_master_key_id())
                        .map(str::to_string),
                )
            }
            Err(e) if is_unset_bucket_setting(&e) => (None, None),
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
        Err(e) if is_unset_bucket_setting(&e) => None,
        Err(e) => {
            return Err(e)
                .with_context(|| format!("reading the lifecycle rules of bucket {bucket}"))
        }
    };
    Ok(ObservedBucket::Present(BucketState {
        tags,
        public_access_blocked,
        encryption,
        kms_master_key_id,
        retention,
    }))
}

#[cfg(test)]
pub mod tests {
    use std::path::Path;

    use super::*;
    use crate::desired;

    pub fn desired(bucket: &str) -> Desired {
        let text = format!(
            "version: 1\nstack: s\nflow_log: {{ resources: {{ vpc_ids: [vpc-1] }} }}\nbucket: {{ {bucket} }}\ndelivery: {{ otlp: {{ endpoint: http://x }} }}\n"
        );
        let c = crate::config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
        desired::build(&c, "123456789012", "us-east-1", "h").unwrap()
    }

    pub fn hardened(d: &Desired) -> BucketState {
        BucketState {
            tags: d.names.tags(),
            public_access_blocked: true,
            encryption: Some("AES256".into()),
            retention: Some((d.bucket.retention_days as i32, ABORT_UPLOADS_AFTER_DAYS)),
            ..BucketState::default()
        }
    }

    fn plan_for(d: &Desired, bucket: ObservedBucket) -> Plan {
        plan(&d.names, &d.bucket, &bucket)
    }

    #[test]
    fn a_missing_bucket_is_created_hardened() {
        let d = desired("retention_days: 30");
        let plan = plan_for(&d, ObservedBucket::Missing);
        let kinds: Vec<(Kind, Action)> = plan.steps.iter().map(|s| (s.kind, s.action)).collect();
        assert_eq!(kinds, [(Kind::Bucket, Action::Create)]);
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
        assert_eq!(plan.in_sync.len(), 1);
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
    fn an_adopted_bucket_is_never_changed_and_must_exist() {
        let d = desired("name: shared-logs, create: false");
        let plan = plan_for(&d, ObservedBucket::Present(BucketState::default()));
        assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
        let plan = plan_for(&d, ObservedBucket::Missing);
        assert!(plan.conflicts[0].problem.contains("does not exist"));
    }

    #[test]
    fn refused_deletes_name_each_object_its_code_and_the_fix() {
        use aws_sdk_s3::types::Error as S3Error;
        let locked = S3Error::builder()
            .key("AWSLogs/1/vpcflowlogs/a.log.gz")
            .version_id("v7")
            .code("AccessDenied")
            .message("Access Denied because object protected by object lock.")
            .build();
        let message = refused_deletes("logs-b", &[locked]);
        assert!(
            message.contains("logs-b")
                && message.contains("1 object(s)")
                && message.contains("`AWSLogs/1/vpcflowlogs/a.log.gz` (version v7): AccessDenied: Access Denied because object protected by object lock.")
                && message.contains("Object Lock")
                && message.contains("teardown --delete-data"),
            "{message}"
        );
        let many: Vec<S3Error> = (0..7)
            .map(|n| {
                S3Error::builder()
                    .key(format!("k{n}"))
                    .version_id("null")
                    .code("InternalError")
                    .message("try again")
                    .build()
            })
            .collect();
        let message = refused_deletes("logs-b", &many);
        assert!(message.contains("7 object(s)") && message.contains("`k4`: InternalError"));
        assert!(
            !message.contains("`k5`") && message.contains("and 2 more"),
            "{message}"
        );
    }

    #[test]
    fn a_late_delivery_empties_the_bucket_again_within_the_bound() {
        use std::time::Duration;
        let limit = Duration::from_secs(300);
        let early = Duration::from_secs(10);
        assert_eq!(
            after_delete_bucket(None, early, limit),
            DeleteBucketNext::Done
        );
        assert_eq!(
            after_delete_bucket(Some("NoSuchBucket"), early, limit),
            DeleteBucketNext::Done
        );
        assert_eq!(
            after_delete_bucket(Some("BucketNotEmpty"), early, limit),
            DeleteBucketNext::EmptyAgain
        );
        assert_eq!(
            after_delete_bucket(Some("BucketNotEmpty"), limit, limit),
            DeleteBucketNext::GiveUp
        );
        assert_eq!(
            after_delete_bucket(Some("AccessDenied"), early, limit),
            DeleteBucketNext::GiveUp
        );
    }

    #[test]
    fn teardown_keeps_our_bucket_unless_asked_and_never_deletes_an_adopted_one() {
        let d = desired("retention_days: 30");
        let observed = ObservedBucket::Present(hardened(&d));
        let keep = plan_teardown(
            Teardown {
                names: &d.names,
                delete_data: false,
            },
            &observed,
        );
        assert!(keep.steps.is_empty());
        assert!(keep.notes[0].note.contains("--delete-data"));
        let delete = plan_teardown(
            Teardown {
                names: &d.names,
                delete_data: true,
            },
            &observed,
        );
        assert!(matches!(delete.steps[0].ops[0], Op::DeleteBucket { .. }));

        let adopted = desired("name: shared-logs, create: false");
        let observed = ObservedBucket::Present(BucketState::default());
        assert!(!is_ours_to_delete(&adopted.names, &observed));
        let plan = plan_teardown(
            Teardown {
                names: &adopted.names,
                delete_data: true,
            },
            &observed,
        );
        assert!(plan.steps.is_empty());
        assert!(plan.notes[0].note.contains("never deleted"));
    }

    fn adopted_with_key(delivery: &str, algorithm: &str, key: Option<&str>) -> (Desired, Plan) {
        let text = format!(
            "version: 1\nstack: s\nflow_log: {{ resources: {{ vpc_ids: [vpc-1] }} }}\nbucket: {{ name: shared-logs, create: false }}\ndelivery: {delivery}\n"
        );
        let c = crate::config::parse(&text, Path::new("t.yaml"), &|_| None).unwrap();
        let d = desired::build(&c, "123456789012", "us-east-1", "h").unwrap();
        let state = BucketState {
            encryption: Some(algorithm.into()),
            kms_master_key_id: key.map(str::to_string),
            ..BucketState::default()
        };
        let plan = plan_for(&d, ObservedBucket::Present(state));
        (d, plan)
    }

    const LAMBDA: &str = "{ otlp: { endpoint: http://x } }";
    const FIREHOSE: &str =
        "{ mode: firehose, firehose: { url: \"https://o2.example.com/f\", access_key: plain } }";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn a_kms_bucket_notes_the_grant_and_the_key_policy_statement_log_delivery_needs() {
        let (_, plan) = adopted_with_key(LAMBDA, "aws:kms", Some(KEY));
        assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
        let notes: Vec<&str> = plan.notes.iter().map(|n| n.note.as_str()).collect();
        assert!(
            notes[0].contains(KEY) && notes[0].contains("kms:Decrypt"),
            "{notes:?}"
        );
        assert!(
            notes[1].contains("delivery.logs.amazonaws.com"),
            "{notes:?}"
        );
        assert!(notes[1].contains("kms:GenerateDataKey*"), "{notes:?}");
        assert!(
            notes[1].contains("arn:aws:logs:us-east-1:123456789012:*"),
            "{notes:?}"
        );
        // Firehose mode: no log delivery into the bucket, so no key policy statement to add.
        let (_, plan) = adopted_with_key(FIREHOSE, "aws:kms", Some(KEY));
        assert_eq!(plan.notes.len(), 1, "{plan}");
        assert!(plan.notes[0].note.contains("kms:GenerateDataKey"));
    }

    #[test]
    fn the_aws_managed_key_and_an_alias_are_conflicts_with_the_fix() {
        for key in [None, Some("alias/aws/s3")] {
            let (_, plan) = adopted_with_key(LAMBDA, "aws:kms", key);
            assert!(plan.conflicts[0].problem.contains("aws/s3"), "{plan}");
            assert!(plan.conflicts[0].fix.contains("SSE-S3"), "{plan}");
        }
        // Firehose backups may use aws/s3: only log delivery cannot.
        let (_, plan) = adopted_with_key(FIREHOSE, "aws:kms", None);
        assert!(plan.conflicts.is_empty(), "{plan}");
        let (_, plan) = adopted_with_key(LAMBDA, "aws:kms", Some("alias/flow-logs"));
        assert!(
            plan.conflicts[0].problem.contains("alias/flow-logs"),
            "{plan}"
        );
        assert!(
            plan.conflicts[0]
                .fix
                .contains("describe-key --key-id alias/flow-logs"),
            "{plan}"
        );
    }

    #[test]
    fn a_key_named_by_its_id_is_a_conflict_naming_the_id_and_the_arn_to_set() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let (_, plan) = adopted_with_key(LAMBDA, "aws:kms", Some(id));
        assert!(plan.steps.is_empty(), "{plan}");
        let conflict = &plan.conflicts[0];
        assert!(
            conflict.problem.contains(id)
                && conflict.problem.contains("key ID")
                && conflict
                    .problem
                    .contains("LogDestination: shared-logs is undeliverable"),
            "{plan}"
        );
        assert!(
            conflict
                .fix
                .contains(&format!("\"KMSMasterKeyID\":\"{KEY}\""))
                && conflict
                    .fix
                    .contains("put-bucket-encryption --bucket shared-logs"),
            "{plan}"
        );
        // The same key by ARN is what log delivery takes.
        let (_, plan) = adopted_with_key(LAMBDA, "aws:kms", Some(KEY));
        assert!(plan.conflicts.is_empty(), "{plan}");
        // Firehose mode writes only failed records there, which a key id serves.
        let (_, plan) = adopted_with_key(FIREHOSE, "aws:kms", Some(id));
        assert!(plan.conflicts.is_empty(), "{plan}");
        assert!(plan.notes[0].note.contains(KEY), "{plan}");
    }

    #[test]
    fn a_bucket_in_another_region_is_a_conflict_naming_both_regions() {
        let d = desired("name: shared-logs, create: false");
        let plan = plan_for(&d, ObservedBucket::OtherRegion("eu-west-1".into()));
        assert!(plan.steps.is_empty());
        let conflict = &plan.conflicts[0];
        assert!(
            conflict.problem.contains("eu-west-1") && conflict.problem.contains("us-east-1"),
            "{plan}"
        );
        assert!(conflict.fix.contains("--region eu-west-1"), "{plan}");
    }
}
