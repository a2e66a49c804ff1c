//! The one place that builds AWS clients: credentials and region from the standard chain, `--profile`
//! and `--region` on top, and `AWS_ENDPOINT_URL` honoured by the SDK itself.

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};

#[derive(Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sts: aws_sdk_sts::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub region: String,
}

/// Loads the SDK config. `region` is the `--region` flag, else the config file's, else the chain's.
pub async fn sdk_config(profile: Option<&str>, region: Option<&str>) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        anyhow::bail!(
            "no AWS region: set `region:` in the config, pass --region, or set AWS_REGION / a profile region"
        );
    }
    Ok(config)
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Clients {
        Clients {
            s3: aws_sdk_s3::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            firehose: aws_sdk_firehose::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String> {
        let me = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .context("asking AWS who these credentials belong to (sts:GetCallerIdentity); check your credentials or profile")?;
        me.account()
            .map(str::to_string)
            .context("sts:GetCallerIdentity returned no account")
    }
}

/// The AWS error code of an SDK error, if the service sent one.
pub fn error_code<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> Option<&str>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    match err {
        aws_sdk_s3::error::SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// True when the service answered with one of `codes`.
pub fn is_code<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>, codes: &[&str]) -> bool
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    error_code(err).is_some_and(|c| codes.contains(&c))
}
