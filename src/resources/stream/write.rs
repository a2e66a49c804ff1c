//! The stream's AWS writes: the HTTP endpoint destination as Firehose takes it, create, update,
//! tag, wait until active, delete.

use super::*;

/// The destination configuration CreateDeliveryStream takes; `secret_arn`: the stack's secret
/// holding the access key, when there is one.
pub fn destination(
    d: &DesiredStream,
    secret_arn: Option<&str>,
) -> Result<HttpEndpointDestinationConfiguration> {
    Ok(HttpEndpointDestinationConfiguration::builder()
        .endpoint_configuration(endpoint(d)?)
        .set_secrets_manager_configuration(secrets_manager(d, secret_arn)?)
        .buffering_hints(buffering(d))
        .cloud_watch_logging_options(logging(d))
        .request_configuration(request(d)?)
        .role_arn(&d.role_arn)
        .retry_options(retry_options(d))
        .s3_backup_mode(HttpEndpointS3BackupMode::FailedDataOnly)
        .s3_configuration(
            S3DestinationConfiguration::builder()
                .role_arn(&d.role_arn)
                .bucket_arn(&d.backup_bucket_arn)
                .prefix(&d.backup_prefix)
                .compression_format(CompressionFormat::Gzip)
                .buffering_hints(
                    BufferingHints::builder()
                        .size_in_mbs(5)
                        .interval_in_seconds(300)
                        .build(),
                )
                .cloud_watch_logging_options(logging(d))
                .build()?,
        )
        .build())
}

/// The same, as UpdateDestination takes it. Without a secret, Secrets Manager is turned off.
pub fn destination_update(
    d: &DesiredStream,
    secret_arn: Option<&str>,
) -> Result<HttpEndpointDestinationUpdate> {
    let secrets = match secrets_manager(d, secret_arn)? {
        Some(c) => c,
        None => SecretsManagerConfiguration::builder()
            .enabled(false)
            .build()?,
    };
    Ok(HttpEndpointDestinationUpdate::builder()
        .endpoint_configuration(endpoint(d)?)
        .secrets_manager_configuration(secrets)
        .buffering_hints(buffering(d))
        .cloud_watch_logging_options(logging(d))
        .request_configuration(request(d)?)
        .role_arn(&d.role_arn)
        .retry_options(retry_options(d))
        .s3_backup_mode(HttpEndpointS3BackupMode::FailedDataOnly)
        .s3_update(
            S3DestinationUpdate::builder()
                .role_arn(&d.role_arn)
                .bucket_arn(&d.backup_bucket_arn)
                .prefix(&d.backup_prefix)
                .compression_format(CompressionFormat::Gzip)
                .cloud_watch_logging_options(logging(d))
                .build(),
        )
        .build())
}

fn endpoint(d: &DesiredStream) -> Result<HttpEndpointConfiguration> {
    Ok(HttpEndpointConfiguration::builder()
        .url(&d.url)
        .name(&d.name)
        .build()?)
}

/// Firehose reads the access key from the secret itself, with the stream's role.
fn secrets_manager(
    d: &DesiredStream,
    secret_arn: Option<&str>,
) -> Result<Option<SecretsManagerConfiguration>> {
    let Some(arn) = secret_arn else {
        return Ok(None);
    };
    Ok(Some(
        SecretsManagerConfiguration::builder()
            .enabled(true)
            .secret_arn(arn)
            .role_arn(&d.role_arn)
            .build()?,
    ))
}

/// The secret's ARN: planned, or handed on by the step that made it in this run, or (a secret made
/// by someone since the plan) asked.
async fn secret_arn(clients: &Clients, made: &Made, d: &DesiredStream) -> Result<Option<String>> {
    match &d.secret {
        None => Ok(None),
        Some(r) => match r.arn.clone().or_else(|| made.secret_arn(&r.name)) {
            Some(arn) => Ok(Some(arn)),
            None => crate::resources::secret::arn_of(clients, &r.name)
                .await
                .map(Some),
        },
    }
}

fn buffering(d: &DesiredStream) -> HttpEndpointBufferingHints {
    HttpEndpointBufferingHints::builder()
        .size_in_mbs(d.buffering_size_mb as i32)
        .interval_in_seconds(d.buffering_interval_s as i32)
        .build()
}

fn logging(d: &DesiredStream) -> CloudWatchLoggingOptions {
    CloudWatchLoggingOptions::builder()
        .enabled(true)
        .log_group_name(&d.log_group)
        .log_stream_name(&d.log_stream)
        .build()
}

fn request(d: &DesiredStream) -> Result<HttpEndpointRequestConfiguration> {
    let attributes = d
        .common_attributes
        .iter()
        .map(|(name, value)| {
            HttpEndpointCommonAttribute::builder()
                .attribute_name(name)
                .attribute_value(&value.value)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpEndpointRequestConfiguration::builder()
        .content_encoding(ContentEncoding::from(d.content_encoding.as_str()))
        .set_common_attributes((!attributes.is_empty()).then_some(attributes))
        .build())
}

fn retry_options(d: &DesiredStream) -> HttpEndpointRetryOptions {
    HttpEndpointRetryOptions::builder()
        .duration_in_seconds(d.retry_duration_s as i32)
        .build()
}

pub async fn create(
    clients: &Clients,
    made: &Made,
    d: &DesiredStream,
    tags: &BTreeMap<String, String>,
    progress: &Progress,
) -> Result<()> {
    let secret_arn = secret_arn(clients, made, d).await?;
    let destination = destination(d, secret_arn.as_deref())?;
    let tags = tags::to_firehose(tags)?;
    let created = wait::retry(
        progress,
        Patience::iam(&format!(
            "IAM role {} to be assumable by Firehose",
            d.role_arn
        )),
        || {
            clients
                .firehose
                .create_delivery_stream()
                .delivery_stream_name(&d.name)
                .delivery_stream_type(DeliveryStreamType::DirectPut)
                .http_endpoint_destination_configuration(destination.clone())
                .set_tags(Some(tags.clone()))
                .send()
        },
        errors::is_role_not_yet_assumable_by_firehose,
    )
    .await;
    match created {
        Ok(_) => {}
        Err(e) if is_already_there(&e) => {}
        Err(e) => return Err(e).with_context(|| format!("creating Firehose stream {}", d.name)),
    }
    wait_until_active(clients, &d.name, progress).await
}

pub async fn update(
    clients: &Clients,
    made: &Made,
    d: &DesiredStream,
    version_id: &str,
    destination_id: &str,
    progress: &Progress,
) -> Result<()> {
    let secret_arn = secret_arn(clients, made, d).await?;
    let update = destination_update(d, secret_arn.as_deref())?;
    wait_until_active(clients, &d.name, progress).await?;
    wait::retry(
        progress,
        Patience::iam(&format!("IAM role {} to be assumable by Firehose", d.role_arn)),
        || {
            clients
                .firehose
                .update_destination()
                .delivery_stream_name(&d.name)
                .current_delivery_stream_version_id(version_id)
                .destination_id(destination_id)
                .http_endpoint_destination_update(update.clone())
                .send()
        },
        errors::is_role_not_yet_assumable_by_firehose,
    )
    .await
    .with_context(|| {
        format!("updating the destination of Firehose stream {} (if it changed since the plan, run setup again)", d.name)
    })?;
    wait_until_active(clients, &d.name, progress).await
}

/// Adds or overwrites our tags; never removes a tag (AWS's `LogDeliveryEnabled` stays).
pub async fn tag(clients: &Clients, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    clients
        .firehose
        .tag_delivery_stream()
        .delivery_stream_name(name)
        .set_tags(Some(tags::to_firehose(tags)?))
        .send()
        .await
        .with_context(|| format!("tagging Firehose stream {name}"))?;
    Ok(())
}

/// Removes tags flowlogs no longer sets (only those it names).
pub async fn untag(clients: &Clients, name: &str, keys: &[String]) -> Result<()> {
    clients
        .firehose
        .untag_delivery_stream()
        .delivery_stream_name(name)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .with_context(|| format!("removing tags {keys:?} from Firehose stream {name}"))?;
    Ok(())
}

/// Waits, with a bound and a visible line, until the stream is ACTIVE.
pub async fn wait_until_active(clients: &Clients, name: &str, progress: &Progress) -> Result<()> {
    let what = format!("Firehose stream {name} to be ACTIVE (this takes a minute or two)");
    let patience = Patience {
        what: &what,
        limit: STREAM_WAIT_LIMIT,
    };
    wait::until(progress, patience, Duration::from_secs(5), || async {
        let out = clients
            .firehose
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
            .with_context(|| format!("reading the status of Firehose stream {name}"))?;
        let d = out
            .delivery_stream_description()
            .context("firehose:DescribeDeliveryStream returned no description")?;
        match d.delivery_stream_status() {
            DeliveryStreamStatus::Active => Ok(wait::Look::Ready(())),
            DeliveryStreamStatus::CreatingFailed => anyhow::bail!(
                "Firehose stream {name} failed to create: {}",
                d.failure_description()
                    .map(|f| format!("{}: {}", f.r#type().as_str(), f.details()))
                    .unwrap_or_else(|| "no reason given".into())
            ),
            status => Ok(wait::Look::Pending(status.as_str().to_string())),
        }
    })
    .await
}

/// Deletes the stream and waits until it is gone (a stream of the same name can then be made).
/// Already gone is fine.
pub async fn delete(clients: &Clients, name: &str, progress: &Progress) -> Result<()> {
    // A stream that is still being created or updated cannot be deleted yet: wait for it.
    let busy = format!("Firehose stream {name} to finish creating or updating before its delete");
    let deleted = wait::retry(
        progress,
        Patience {
            what: &busy,
            limit: STREAM_WAIT_LIMIT,
        },
        || {
            clients
                .firehose
                .delete_delivery_stream()
                .delivery_stream_name(name)
                .send()
        },
        is_stream_busy,
    )
    .await;
    match deleted {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(e).with_context(|| format!("deleting Firehose stream {name}")),
    }
    let gone = format!("Firehose stream {name} to be deleted");
    let patience = Patience {
        what: &gone,
        limit: STREAM_WAIT_LIMIT,
    };
    wait::until(progress, patience, Duration::from_secs(5), || async {
        match status_of(clients, name).await? {
            None => Ok(wait::Look::Ready(())),
            Some(DeliveryStreamStatus::DeletingFailed) => {
                anyhow::bail!("AWS could not delete Firehose stream {name} (DELETING_FAILED)")
            }
            Some(status) => Ok(wait::Look::Pending(status.as_str().to_string())),
        }
    })
    .await
}

/// The stream's status, `None` when it does not exist.
pub async fn status_of(clients: &Clients, name: &str) -> Result<Option<DeliveryStreamStatus>> {
    match clients
        .firehose
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .delivery_stream_description()
            .map(|d| d.delivery_stream_status().clone())),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading the status of Firehose stream {name}")),
    }
}
