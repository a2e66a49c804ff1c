//! The AWS toolkit: the one place that builds clients (credentials and region from the standard
//! chain, `--profile` and `--region` on top, `AWS_ENDPOINT_URL` honoured by the SDK itself, the
//! HTTPS client of `flowlogs_forwarder::aws_http`; EC2 and Glue through `flowlogs_aws_lite`,
//! which takes all of that from the same `SdkConfig`), the named error predicates, the one
//! bounded wait, tag conversion and typed states.

pub mod errors;
pub mod keys;
pub mod log_groups;
pub mod objects;
pub mod states;
pub mod tags;
pub mod wait;

/// The AWS error code of an SDK error (the wizard reads it under this name).
pub use errors::code as error_code;

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};

#[derive(Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub ec2: flowlogs_aws_lite::ec2::Ec2,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub sts: aws_sdk_sts::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub glue: flowlogs_aws_lite::glue::Glue,
    pub athena: aws_sdk_athena::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub region: String,
}

/// Loads the SDK config. `region` is the `--region` flag, else the config file's, else the chain's.
pub async fn sdk_config(profile: Option<&str>, region: Option<&str>) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(flowlogs_forwarder::aws_http::client());
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
            ec2: flowlogs_aws_lite::ec2::Ec2::new(config),
            iam: aws_sdk_iam::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            firehose: aws_sdk_firehose::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            glue: flowlogs_aws_lite::glue::Glue::new(config),
            athena: aws_sdk_athena::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
        }
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String> {
        let me = self.sts.get_caller_identity().send().await.map_err(|e| {
            let hint = if errors::is_unreachable(&e) {
                "AWS did not answer: check the network, a proxy (HTTPS_PROXY, NO_PROXY) or AWS_ENDPOINT_URL; a certificate error means this machine does not trust the endpoint's certificate authority (add it with SSL_CERT_FILE)"
            } else {
                "check your credentials or profile"
            };
            anyhow::Error::new(e).context(format!(
                "asking AWS who these credentials belong to (sts:GetCallerIdentity); {hint}"
            ))
        })?;
        me.account()
            .map(str::to_string)
            .context("sts:GetCallerIdentity returned no account")
    }
}
