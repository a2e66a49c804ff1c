//! The bucket's plans: create and harden a missing bucket of ours, restore the hardening that
//! drifted, leave an adopted one as it is, and what teardown removes.

use super::*;

/// Create and harden a missing bucket of ours, restore the hardening of one that drifted, leave
/// an adopted one as it is; a same-named bucket that is not ours is a conflict.
pub fn plan(names: &Names, d: &DesiredBucket, observed: &ObservedBucket) -> Plan {
    let mut plan = Plan::default();
    let name = &d.name;
    let state = match (observed, d.create) {
        (ObservedBucket::Missing, true) => {
            let (changes, ops) = create_hardened(name, &names.region, &d.tags, d.retention_days);
            plan.step(Kind::Bucket, name, Action::Create, changes, ops);
            return plan;
        }
        (ObservedBucket::Missing, false) => {
            plan.conflict(
                Kind::Bucket,
                name,
                "the bucket to adopt (`create: false`) does not exist",
                "create it first, or set `bucket.create: true` to let flowlogs make it",
            );
            return plan;
        }
        (ObservedBucket::NotAccessible, _) => {
            plan.conflict(
                Kind::Bucket,
                name,
                "the bucket exists but these credentials cannot use it (S3 bucket names are global)",
                "choose another `bucket.name`",
            );
            return plan;
        }
        (ObservedBucket::OtherRegion(elsewhere), _) => {
            plan.conflict(
                Kind::Bucket,
                name,
                format!(
                    "the bucket is in {elsewhere}, the stack in {}: S3 notifications can only invoke a Lambda function in the bucket's region",
                    names.region
                ),
                format!(
                    "run flowlogs with `--region {elsewhere}` (or `region: {elsewhere}` in the config) to deploy next to the bucket, or choose a bucket in {}",
                    names.region
                ),
            );
            return plan;
        }
        (ObservedBucket::Present(state), _) => state,
    };
    plan_key(&mut plan, names, d, observed);
    if d.create {
        if !names.is_ours(&state.tags) {
            plan.conflict(
                Kind::Bucket,
                name,
                format!(
                    "the bucket exists and is not tagged {}={}",
                    crate::desired::TAG_STACK,
                    names.stack
                ),
                "set `bucket.create: false` to adopt it, or choose another `bucket.name`",
            );
            return plan;
        }
        let (changes, ops) = restore_hardening(name, &d.tags, d.retention_days, state);
        if ops.is_empty() {
            plan.in_sync(Kind::Bucket, name);
        } else {
            plan.step(Kind::Bucket, name, Action::Update, changes, ops);
        }
    } else {
        plan.in_sync(Kind::Bucket, name);
        if names.is_ours(&state.tags) {
            plan.note(
                Kind::Bucket,
                name,
                "adopted, but carries our tag from an earlier `create: true`",
            );
        }
    }
    plan
}

/// A new bucket of ours: created, tagged, public access blocked, SSE-S3, objects expiring. The log
/// bucket's and the failure bucket's create step (their policies are their own).
pub fn create_hardened(
    name: &str,
    region: &str,
    tags: &BTreeMap<String, String>,
    retention_days: u32,
) -> (Vec<Change>, Vec<Op>) {
    let bucket = || name.to_string();
    (
        vec![
            Change::new("public access", "", "blocked"),
            Change::new("encryption", "", "AES256"),
            Change::new("expire objects after", "", format!("{retention_days} days")),
        ],
        vec![
            Op::CreateBucket {
                bucket: bucket(),
                region: region.to_string(),
            },
            Op::TagBucket {
                bucket: bucket(),
                tags: tags.clone(),
            },
            Op::BlockPublicAccess { bucket: bucket() },
            Op::EncryptBucket { bucket: bucket() },
            Op::SetLifecycle {
                bucket: bucket(),
                expire_days: retention_days,
            },
        ],
    )
}

/// What brings a bucket of ours back to that hardening: a change and an op per setting that
/// drifted (our tags added to its others, our lifecycle rule beside its others); none when in sync.
pub fn restore_hardening(
    name: &str,
    wanted_tags: &BTreeMap<String, String>,
    retention_days: u32,
    state: &BucketState,
) -> (Vec<Change>, Vec<Op>) {
    let bucket = || name.to_string();
    let mut changes = Vec::new();
    let mut ops = Vec::new();
    if wanted_tags
        .iter()
        .any(|(k, v)| state.tags.get(k) != Some(v))
    {
        changes.push(Change::new("tags", "incomplete", "flowlogs tags"));
        let mut tags = state.tags.clone();
        tags.extend(wanted_tags.clone());
        ops.push(Op::TagBucket {
            bucket: bucket(),
            tags,
        });
    }
    if !state.public_access_blocked {
        changes.push(Change::new("public access", "not fully blocked", "blocked"));
        ops.push(Op::BlockPublicAccess { bucket: bucket() });
    }
    if state.encryption.is_none() {
        changes.push(Change::new("encryption", "none", "AES256"));
        ops.push(Op::EncryptBucket { bucket: bucket() });
    }
    let wanted = (retention_days as i32, ABORT_UPLOADS_AFTER_DAYS);
    if let Some(change) =
        Change::differs_shown("expire objects after", state.retention, Some(wanted), |r| {
            r.map_or("never".into(), |(days, _)| format!("{days} days"))
        })
    {
        changes.push(change);
        ops.push(Op::SetLifecycle {
            bucket: bucket(),
            expire_days: retention_days,
        });
    }
    (changes, ops)
}

/// The bucket's SSE-KMS key: the AWS managed `aws/s3` key, a key named by its id (for a bucket
/// that receives flow logs) and a key named by alias are conflicts (log delivery cannot use the
/// first two; IAM cannot grant on the third); a customer key is a note
/// saying what our roles are granted and what its key policy must allow.
fn plan_key(plan: &mut Plan, names: &Names, d: &DesiredBucket, observed: &ObservedBucket) {
    let name = &d.name;
    match observed.key(names) {
        BucketKey::NotKms => {}
        BucketKey::AwsManaged if d.receives_flow_logs => plan.conflict(
            Kind::Bucket,
            name,
            "the bucket's default encryption is SSE-KMS with the AWS managed key aws/s3, which VPC flow log delivery cannot use",
            "set the bucket's default encryption to SSE-S3 (AES256), or to a customer managed KMS key (by its key ARN) whose key policy allows delivery.logs.amazonaws.com",
        ),
        BucketKey::AwsManaged => {}
        BucketKey::Alias { given } => plan.conflict(
            Kind::Bucket,
            name,
            format!("the bucket's default encryption names its KMS key by the alias {given}; IAM grants need the key's ARN, and flowlogs does not resolve aliases (that would need kms:DescribeKey)"),
            format!("set the bucket's default encryption to the key ARN (`aws kms describe-key --key-id {given} --query KeyMetadata.Arn`, then `aws s3api put-bucket-encryption`)"),
        ),
        BucketKey::KeyId { id, arn } if d.receives_flow_logs => plan.conflict(
            Kind::Bucket,
            name,
            format!("the bucket's default encryption names its KMS key by the key ID {id}, not its ARN: VPC flow log delivery refuses such a bucket (CreateFlowLogs answers \"LogDestination: {name} is undeliverable\")"),
            format!("set the key's ARN as the bucket's default encryption key: `aws s3api put-bucket-encryption --bucket {name} --server-side-encryption-configuration '{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"{arn}\"}}}}]}}'` (the ARN of key {id} when it is in this account and region: `aws kms describe-key --key-id {id} --query KeyMetadata.Arn`)"),
        ),
        BucketKey::Key { arn } | BucketKey::KeyId { arn, .. } => {
            let grant = if d.receives_flow_logs {
                "the forwarder's role is granted kms:Decrypt on it"
            } else {
                "the Firehose role is granted kms:GenerateDataKey on it"
            };
            plan.note(
                Kind::Bucket,
                name,
                format!("encrypted with KMS key {arn}: {grant}, through S3 only (kms:ViaService)"),
            );
            if d.receives_flow_logs {
                plan.note(
                    Kind::Bucket,
                    name,
                    format!(
                        "the key policy of {arn} must allow VPC flow log delivery, or no log arrives (flowlogs never changes key policies); add this statement: {}",
                        kms::log_delivery_key_statement(names)
                    ),
                );
            }
        }
    }
}

/// Whether teardown may delete the bucket: we made it and it carries our tag.
pub fn is_ours_to_delete(names: &Names, observed: &ObservedBucket) -> bool {
    observed
        .state()
        .is_some_and(|s| names.bucket_created_by_us && names.is_ours(&s.tags))
}

/// Our bucket goes only with `--delete-data`; an adopted one never.
pub fn plan_teardown(cx: Teardown<'_>, observed: &ObservedBucket) -> Plan {
    let mut plan = Plan::default();
    let names = cx.names;
    if observed.state().is_none() {
        return plan;
    }
    let bucket = &names.bucket;
    if is_ours_to_delete(names, observed) {
        if cx.delete_data {
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
        return plan;
    }
    plan.note(
        Kind::Bucket,
        bucket,
        "not created by flowlogs: never deleted",
    );
    plan
}
