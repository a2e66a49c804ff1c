//! The part every service's client shares: an `SdkConfig`'s settings read once, and the SDK
//! `Operation` for one call that signs (SigV4), sends, retries and times out as the generated
//! clients would. A service is told by its names ([`Service`]); a protocol by the serializer,
//! deserializer and error type it gives [`Client::operation`].

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
use aws_smithy_types::config_bag::Layer;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::{Region, SigningRegion};
use aws_types::sdk_config::SdkConfig;
use aws_types::SigningName;

/// The names that tell one AWS service from another.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// SigV4's signing name (`ec2`, `glue`).
    pub signing_name: &'static str,
    /// The SDK's service id (`EC2`, `Glue`): the operation's service name, and what
    /// `AWS_ENDPOINT_URL_<ID>` and a profile's `services` section are keyed by.
    pub service_id: &'static str,
    /// The public endpoint's host prefix: `https://{prefix}.{region}.amazonaws.com`.
    pub endpoint_prefix: &'static str,
}

impl Service {
    /// The service's public endpoint in `region` (the China regions are under
    /// `amazonaws.com.cn`).
    pub fn public_endpoint(&self, region: &str) -> String {
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://{}.{region}.{suffix}", self.endpoint_prefix)
    }

    /// The endpoint: the service-specific setting (`AWS_ENDPOINT_URL_<ID>`, or the profile's
    /// `services` section, as the SDK reads them) unless the code set an endpoint, then the
    /// config's endpoint (`AWS_ENDPOINT_URL`), else the region's public one.
    fn endpoint(&self, config: &SdkConfig, region: &str) -> String {
        let specific = || {
            let key = aws_types::service_config::ServiceConfigKey::builder()
                .service_id(self.service_id)
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
        configured.unwrap_or_else(|| self.public_endpoint(region))
    }
}

/// One service's client settings, for one region and set of credentials. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Settings>,
}

#[derive(Debug)]
struct Settings {
    service: Service,
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

impl Client {
    /// Everything the config says: region, endpoint, credentials, HTTP client, retry and timeout
    /// settings, sleep and time source.
    pub fn new(service: Service, config: &SdkConfig) -> Client {
        let region = config.region().map(|r| r.to_string()).unwrap_or_default();
        Client {
            inner: Arc::new(Settings {
                service,
                endpoint: service.endpoint(config, &region),
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

    /// The SDK operation for one call of `action`: the protocol's `serializer` makes the request,
    /// its `deserializer` reads the answer (an error answer becomes `E`, whose code the SDK's
    /// retry classifiers read for throttling and transient errors).
    pub fn operation<I, O, E>(
        &self,
        action: &str,
        serializer: impl Fn(I) -> Result<HttpRequest, BoxError> + Send + Sync + 'static,
        deserializer: impl Fn(&HttpResponse) -> Result<O, OrchestratorError<E>> + Send + Sync + 'static,
    ) -> Operation<I, O, E>
    where
        I: std::fmt::Debug + Send + Sync + 'static,
        O: std::fmt::Debug + Send + Sync + 'static,
        E: std::error::Error + ProvideErrorMetadata + std::fmt::Debug + Send + Sync + 'static,
    {
        let s = &self.inner;
        let name = format!("flowlogs-{}", s.service.signing_name);
        let mut components = RuntimeComponentsBuilder::new("flowlogs-aws-lite")
            .with_auth_scheme(SharedAuthScheme::new(SigV4AuthScheme::new()))
            .with_auth_scheme_option_resolver(Some(SharedAuthSchemeOptionResolver::new(
                StaticAuthSchemeOptionResolver::new(vec![SIGV4]),
            )))
            .with_identity_cache(Some(s.identity_cache.clone()));
        if let Some(credentials) = &s.credentials {
            components = components
                .with_identity_resolver(SIGV4, SharedIdentityResolver::new(credentials.clone()));
        }
        let mut layer = Layer::new(name);
        layer.store_put(AuthSchemeOptionResolverParams::new(()));
        layer.store_put(SigV4OperationSigningConfig {
            region: Some(SigningRegion::from(Region::new(s.region.clone()))),
            name: Some(SigningName::from_static(s.service.signing_name)),
            ..SigV4OperationSigningConfig::default()
        });

        let mut builder = Operation::builder()
            .service_name(s.service.service_id)
            .operation_name(action.to_string())
            .endpoint_url(&s.endpoint)
            .standard_retry(&s.retry)
            .timeout_config(s.timeout.clone())
            .retry_classifier(AwsErrorCodeClassifier::<E>::new())
            .retry_classifier(TransientErrorClassifier::<E>::new())
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
        builder
            .serializer(serializer)
            .deserializer(deserializer)
            .build()
    }
}

/// The body of an answer, which the orchestrator has read in full before deserializing.
pub fn body<E>(response: &HttpResponse) -> Result<&[u8], OrchestratorError<E>> {
    response
        .body()
        .bytes()
        .ok_or_else(|| OrchestratorError::response("the answer's body was not read".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: Service = Service {
        signing_name: "glue",
        service_id: "Glue",
        endpoint_prefix: "glue",
    };

    #[test]
    fn the_public_endpoint_is_the_services_in_the_region_and_the_china_partitions() {
        assert_eq!(
            GLUE.public_endpoint("eu-west-1"),
            "https://glue.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            GLUE.public_endpoint("cn-northwest-1"),
            "https://glue.cn-northwest-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn the_configs_endpoint_wins_over_the_public_one() {
        let config = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:4566")
            .build();
        let client = Client::new(GLUE, &config);
        assert_eq!(client.endpoint(), "http://127.0.0.1:4566");
        assert_eq!(client.region(), "us-east-1");
        let public = Client::new(
            GLUE,
            &SdkConfig::builder()
                .region(Region::new("us-east-1"))
                .build(),
        );
        assert_eq!(public.endpoint(), "https://glue.us-east-1.amazonaws.com");
    }
}
