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

/// The calls that follow CreateBucket (this bucket's settings, its policy, its notifications): AWS
/// may answer `NoSuchBucket` for about a minute.
pub async fn after_create<T, E, R, F, Fut>(
    progress: &Progress,
    bucket: &str,
    call: F,
) -> std::result::Result<T, aws_sdk_s3::error::SdkError<E, R>>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, aws_sdk_s3::error::SdkError<E, R>>>,
{
    wait::retry(
        progress,
        Patience {
            what: &format!("the new bucket {bucket} to be usable"),
            limit: wait::NEW_BUCKET,
        },
        call,
        is_no_such_bucket,
    )
    .await
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
    if state.retention != Some(wanted) {
        let from = match state.retention {
            Some((days, _)) => format!("{days} days"),
            None => "never".into(),
        };
        changes.push(Change::new(
            "expire objects after",
            from,
            format!("{retention_days} days"),
        ));
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
        Err(e) if crate::aws::errors::is_already_there(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating bucket {bucket}")),
    }
}

pub async fn tag(
    clients: &Clients,
    bucket: &str,
    wanted: &BTreeMap<String, String>,
    progress: &Progress,
) -> Result<()> {
    let tagging = Tagging::builder()
        .set_tag_set(Some(tags::to_s3(wanted)?))
        .build()?;
    after_create(progress, bucket, || {
        clients
            .s3
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging.clone())
            .send()
    })
    .await
    .with_context(|| format!("tagging bucket {bucket}"))?;
    Ok(())
}

pub async fn block_public_access(
    clients: &Clients,
    bucket: &str,
    progress: &Progress,
) -> Result<()> {
    after_create(progress, bucket, || {
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
    })
    .await
    .with_context(|| format!("blocking public access to bucket {bucket}"))?;
    Ok(())
}

pub async fn encrypt(clients: &Clients, bucket: &str, progress: &Progress) -> Result<()> {
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()?,
        )
        .build();
    let configuration = ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()?;
    after_create(progress, bucket, || {
        clients
            .s3
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(configuration.clone())
            .send()
    })
    .await
    .with_context(|| format!("setting default encryption on bucket {bucket}"))?;
    Ok(())
}

/// Puts our lifecycle rule in place of the one with our id, keeping every other rule.
pub async fn set_lifecycle(
    clients: &Clients,
    bucket: &str,
    expire_days: u32,
    progress: &Progress,
) -> Result<()> {
    let existing = match after_create(progress, bucket, || {
        clients
            .s3
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
    })
    .await
    {
        Ok(out) => out.rules().to_vec(),
        Err(e) if is_unset_bucket_setting(&e) => Vec::new(),
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
    let configuration = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()?;
    after_create(progress, bucket, || {
        clients
            .s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(configuration.clone())
            .send()
    })
    .await
    .with_context(|| format!("setting the lifecycle rules of bucket {bucket}"))?;
    Ok(())
}

/// Deletes every object version and delete marker, then the bucket. Flow logs may still deliver a
/// file minutes after DeleteFlowLogs: a `BucketNotEmpty` answer empties it again, within a bound.
pub async fn delete_with_objects(
    clients: &Clients,
    bucket: &str,
    progress: &Progress,
) -> Result<()> {
    let started = tokio::time::Instant::now();
    let mut deleted = 0usize;
    let mut attempt = 0;
    loop {
        attempt += 1;
        empty(clients, bucket, progress, &mut deleted).await?;
        let answer = clients.s3.delete_bucket().bucket(bucket).send().await;
        let refused = match &answer {
            Ok(_) => None,
            Err(e) => Some(code(e).unwrap_or_default()),
        };
        match after_delete_bucket(refused, started.elapsed(), wait::LATE_DELIVERIES) {
            DeleteBucketNext::Done => return Ok(()),
            DeleteBucketNext::EmptyAgain => {
                let pause = wait::backoff(attempt);
                progress.detail(&format!(
                    "bucket {bucket} is not empty again (a flow-log file delivered after the flow log was deleted?): emptying it again in {}s ({}s so far, {deleted} objects deleted)",
                    pause.as_secs(),
                    started.elapsed().as_secs()
                ));
                tokio::time::sleep(pause).await;
            }
            DeleteBucketNext::GiveUp => {
                let late = refused == Some("BucketNotEmpty");
                return answer.map(|_| ()).with_context(|| {
                    if late {
                        format!(
                            "deleting bucket {bucket}: objects kept arriving for {} s after it was emptied; check that nothing still writes to it (flow logs of another stack?), then run `teardown --delete-data` again",
                            wait::LATE_DELIVERIES.as_secs()
                        )
                    } else {
                        format!("deleting bucket {bucket}")
                    }
                });
            }
        }
    }
}

/// What to do after DeleteBucket answered: `refused` is the error code, `None` when it succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteBucketNext {
    Done,
    EmptyAgain,
    GiveUp,
}

pub fn after_delete_bucket(
    refused: Option<&str>,
    elapsed: std::time::Duration,
    limit: std::time::Duration,
) -> DeleteBucketNext {
    match refused {
        None | Some("NoSuchBucket") => DeleteBucketNext::Done,
        Some("BucketNotEmpty") if elapsed < limit => DeleteBucketNext::EmptyAgain,
        Some(_) => DeleteBucketNext::GiveUp,
    }
}

/// One pass over every version and delete marker, page by page (key and version-id markers), each
/// page deleted with one DeleteObjects; the first object S3 refuses stops it, named.
async fn empty(
    clients: &Clients,
    bucket: &str,
    progress: &Progress,
    deleted: &mut usize,
) -> Result<()> {
    let s3 = &clients.s3;
    let mut key_marker: Option<String> = None;
    let mut version_marker: Option<String> = None;
    loop {
        let listing = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .with_context(|| format!("listing the objects of bucket {bucket}"))?;
        let mut ids = Vec::new();
        let versions = listing.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = listing
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        for (key, version) in versions.chain(markers) {
            ids.push(
                ObjectIdentifier::builder()
                    .key(key.unwrap_or_default())
                    .set_version_id(version.map(str::to_string))
                    .build()?,
            );
        }
        if !ids.is_empty() {
            let count = ids.len();
            let out = s3
                .delete_objects()
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
            if !out.errors().is_empty() {
                anyhow::bail!(refused_deletes(bucket, out.errors()));
            }
            *deleted += count;
            progress.detail(&format!("deleted {deleted} objects from {bucket}"));
        }
        if listing.is_truncated() != Some(true) {
            return Ok(());
        }
        key_marker = listing.next_key_marker().map(str::to_string);
        version_marker = listing.next_version_id_marker().map(str::to_string);
        if key_marker.is_none() && version_marker.is_none() {
            anyhow::bail!(
                "listing the objects of bucket {bucket}: S3 said the listing is truncated but gave no marker to continue from"
            );
        }
    }
}

/// How many refused objects the message names one by one.
const REFUSED_NAMED: usize = 5;

/// The error for DeleteObjects' per-object errors (its 200 answer's `Errors` list): each object
/// named with S3's code and message, and what usually causes it.
pub fn refused_deletes(bucket: &str, errors: &[aws_sdk_s3::types::Error]) -> String {
    let named: Vec<String> = errors
        .iter()
        .take(REFUSED_NAMED)
        .map(|e| {
            let version = match e.version_id() {
                Some(v) if v != "null" => format!(" (version {v})"),
                _ => String::new(),
            };
            format!(
                "`{}`{version}: {}: {}",
                e.key().unwrap_or("(no key)"),
                e.code().unwrap_or("(no code)"),
                e.message().unwrap_or("(no message)")
            )
        })
        .collect();
    let more = match errors.len().saturating_sub(REFUSED_NAMED) {
        0 => String::new(),
        n => format!("; and {n} more"),
    };
    format!(
        "deleting the objects of bucket {bucket}: S3 refused to delete {} object(s): {}{more}. An Object Lock retention or legal hold, or a bucket policy denying s3:DeleteObject / s3:DeleteObjectVersion, keeps objects; lift it (or empty the bucket yourself), then run `teardown --delete-data` again",
        errors.len(),
        named.join("; ")
    )
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
