//! The bucket's AWS writes: create, tag, harden, set the lifecycle, and delete with its objects.

use super::*;

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
