//! The client: an `SdkConfig`'s settings, and one SDK `Operation` per call that signs, sends,
//! retries and reads a Query request.

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::auth::sigv4::{SigV4AuthScheme, SCHEME_ID as SIGV4};
use aws_runtime::auth::SigV4OperationSigningConfig;
use aws_runtime::retries::classifiers::AwsErrorCodeClassifier;
use aws_smithy_async::rt::sleep::SharedAsyncSleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_runtime::client::identity::IdentityCache;
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime::client::retries::classifiers::{
    HttpStatusCodeClassifier, TransientErrorClassifier,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::auth::{
    AuthSchemeOptionResolverParams, SharedAuthScheme, SharedAuthSchemeOptionResolver,
};
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::identity::{SharedIdentityCache, SharedIdentityResolver};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::Layer;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::SigningRegion;
use aws_types::sdk_config::SdkConfig;
use aws_types::SigningName;

use crate::error::{Ec2Error, Error};
use crate::ops::{
    self, CreateFlowLogs, CreateFlowLogsOutput, Filter, FlowLog, Tag, Unsuccessful, Vpc,
};
use crate::query::Params;
use crate::xml::{self, Node};

/// An EC2 client for one region and set of credentials. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Ec2 {
    inner: Arc<Settings>,
}

#[derive(Debug)]
struct Settings {
    endpoint: String,
    region: String,
    http_client: Option<SharedHttpClient>,
    credentials: Option<SharedCredentialsProvider>,
    identity_cache: SharedIdentityCache,
    retry: RetryConfig,
    timeout: TimeoutConfig,
    sleep: Option<SharedAsyncSleep>,
    time_source: Option<SharedTimeSource>,
    behavior_version: Option<BehaviorVersion>,
}

/// The endpoint: `AWS_ENDPOINT_URL_EC2` (the service-specific setting, through the config's
/// service config as the SDK reads it) unless the code set an endpoint, then the config's
/// endpoint (`AWS_ENDPOINT_URL`), else the region's public one.
fn endpoint(config: &SdkConfig, region: &str) -> String {
    let specific = || {
        let key = aws_types::service_config::ServiceConfigKey::builder()
            .service_id("EC2")
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .ok()?;
        config.service_config()?.load_config(key)
    };
    let configured = if config.get_origin("endpoint_url").is_client_config() {
        config.endpoint_url().map(str::to_string)
    } else {
        specific().or_else(|| config.endpoint_url().map(str::to_string))
    };
    configured.unwrap_or_else(|| public_endpoint(region))
}

/// EC2's public endpoint in `region` (the China regions are under `amazonaws.com.cn`).
pub(crate) fn public_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://ec2.{region}.{suffix}")
}

impl Ec2 {
    /// A client with everything the config says: region, endpoint, credentials, HTTP client,
    /// retry and timeout settings, sleep and time source.
    pub fn new(config: &SdkConfig) -> Ec2 {
        let region = config.region().map(|r| r.to_string()).unwrap_or_default();
        Ec2 {
            inner: Arc::new(Settings {
                endpoint: endpoint(config, &region),
                region,
                http_client: config.http_client(),
                credentials: config.credentials_provider(),
                identity_cache: config
                    .identity_cache()
                    .unwrap_or_else(|| IdentityCache::lazy().build()),
                retry: config
                    .retry_config()
                    .cloned()
                    .unwrap_or_else(RetryConfig::standard),
                timeout: config
                    .timeout_config()
                    .cloned()
                    .unwrap_or_else(TimeoutConfig::disabled),
                sleep: config.sleep_impl(),
                time_source: config.time_source(),
                behavior_version: config.behavior_version(),
            }),
        }
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    fn operation(&self, action: &str) -> Operation<Params, Node, Ec2Error> {
        let s = &self.inner;
        let mut components = RuntimeComponentsBuilder::new("flowlogs-ec2")
            .with_auth_scheme(SharedAuthScheme::new(SigV4AuthScheme::new()))
            .with_auth_scheme_option_resolver(Some(SharedAuthSchemeOptionResolver::new(
                StaticAuthSchemeOptionResolver::new(vec![SIGV4]),
            )))
            .with_identity_cache(Some(s.identity_cache.clone()));
        if let Some(credentials) = &s.credentials {
            components = components
                .with_identity_resolver(SIGV4, SharedIdentityResolver::new(credentials.clone()));
        }
        let mut layer = Layer::new("flowlogs-ec2");
        layer.store_put(AuthSchemeOptionResolverParams::new(()));
        layer.store_put(SigV4OperationSigningConfig {
            region: Some(SigningRegion::from(aws_types::region::Region::new(
                s.region.clone(),
            ))),
            name: Some(SigningName::from_static("ec2")),
            ..SigV4OperationSigningConfig::default()
        });

        let mut builder = Operation::builder()
            .service_name("EC2")
            .operation_name(action.to_string())
            .endpoint_url(&s.endpoint)
            .standard_retry(&s.retry)
            .timeout_config(s.timeout.clone())
            .retry_classifier(AwsErrorCodeClassifier::<Ec2Error>::new())
            .retry_classifier(TransientErrorClassifier::<Ec2Error>::new())
            .retry_classifier(HttpStatusCodeClassifier::default())
            .runtime_plugin(
                StaticRuntimePlugin::new()
                    .with_config(layer.freeze())
                    .with_runtime_components(components),
            );
        if let Some(client) = &s.http_client {
            builder = builder.http_client(client.clone());
        }
        if let Some(sleep) = &s.sleep {
            builder = builder.sleep_impl(sleep.clone());
        }
        if let Some(time) = &s.time_source {
            builder = builder.time_source(time.clone());
        }
        if let Some(version) = s.behavior_version {
            builder = builder.behavior_version(version);
        }
        let action = action.to_string();
        builder
            .serializer(move |params: Params| request(&action, &params))
            .deserializer(answer)
            .build()
    }

    /// Any action: its parameters in, the answer's root element out (`<ActionResponse>`).
    pub async fn call(&self, action: &str, params: Params) -> Result<Node, Error> {
        self.operation(action).invoke(params).await
    }

    /// Every flow log with one of `ids` (none: any) matching every filter, all pages.
    pub async fn describe_flow_logs(
        &self,
        ids: &[String],
        filters: &[Filter],
    ) -> Result<Vec<FlowLog>, Error> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let mut p = Params::new();
            p.list("FlowLogId", ids)
                .filters(filters)
                .opt("NextToken", token.take());
            let answer = self.call("DescribeFlowLogs", p).await?;
            found.extend(answer.items("flowLogSet").map(ops::flow_log));
            match ops::next_token(&answer) {
                Some(next) => token = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Creates flow logs; the resources AWS refused come back in `unsuccessful`.
    pub async fn create_flow_logs(
        &self,
        request: &CreateFlowLogs,
    ) -> Result<CreateFlowLogsOutput, Error> {
        let answer = self.call("CreateFlowLogs", request.params()).await?;
        Ok(ops::create_flow_logs_output(&answer))
    }

    /// Deletes flow logs; the ones AWS could not delete come back with EC2's code.
    pub async fn delete_flow_logs(&self, ids: &[String]) -> Result<Vec<Unsuccessful>, Error> {
        let mut p = Params::new();
        p.list("FlowLogId", ids);
        let answer = self.call("DeleteFlowLogs", p).await?;
        Ok(ops::unsuccessful(&answer))
    }

    /// Every VPC matching every filter, all pages.
    pub async fn describe_vpcs(&self, filters: &[Filter]) -> Result<Vec<Vpc>, Error> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let mut p = Params::new();
            p.filters(filters).opt("NextToken", token.take());
            let answer = self.call("DescribeVpcs", p).await?;
            found.extend(answer.items("vpcSet").map(ops::vpc));
            match ops::next_token(&answer) {
                Some(next) => token = Some(next),
                None => return Ok(found),
            }
        }
    }

    /// Creates a VPC with this IPv4 range and tags.
    pub async fn create_vpc(&self, cidr_block: &str, tags: &[Tag]) -> Result<Vpc, Error> {
        let mut p = Params::new();
        p.set("CidrBlock", cidr_block)
            .tag_specification("vpc", tags);
        let answer = self.call("CreateVpc", p).await?;
        Ok(answer.path("vpc").map(ops::vpc).unwrap_or_default())
    }

    /// Adds or overwrites tags on resources.
    pub async fn create_tags(&self, resource_ids: &[String], tags: &[Tag]) -> Result<(), Error> {
        let mut p = Params::new();
        p.list("ResourceId", resource_ids).tags("Tag", tags);
        self.call("CreateTags", p).await.map(|_| ())
    }

    /// Creates a transit gateway with default options; its id.
    pub async fn create_transit_gateway(&self, tags: &[Tag]) -> Result<String, Error> {
        let mut p = Params::new();
        p.tag_specification("transit-gateway", tags);
        let answer = self.call("CreateTransitGateway", p).await?;
        Ok(answer
            .text_at("transitGateway/transitGatewayId")
            .unwrap_or_default()
            .to_string())
    }
}

fn request(action: &str, params: &Params) -> Result<HttpRequest, BoxError> {
    let mut request = HttpRequest::new(SdkBody::from(params.encode(action)));
    request.set_method("POST")?;
    request.set_uri("/")?;
    request.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    );
    Ok(request)
}

// The orchestrator's deserializer signature: its error type is not ours to box.
#[allow(clippy::result_large_err)]
fn answer(response: &HttpResponse) -> Result<Node, OrchestratorError<Ec2Error>> {
    let status = response.status().as_u16();
    let body = response
        .body()
        .bytes()
        .ok_or_else(|| OrchestratorError::response("the answer's body was not read".into()))?;
    if !(200..300).contains(&status) {
        return Err(OrchestratorError::operation(Ec2Error::from_answer(
            status, body,
        )));
    }
    xml::parse(&String::from_utf8_lossy(body)).map_err(|e| OrchestratorError::response(e.into()))
}

#[cfg(test)]
mod tests;
