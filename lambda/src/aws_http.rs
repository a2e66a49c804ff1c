//! The HTTP client of every AWS call, the function's and the deployer's: hyper 1 with rustls on
//! ring and the platform's root certificates, honouring `HTTPS_PROXY`/`NO_PROXY` as the SDK's
//! default client does. The SDK's default would build rustls on aws-lc, a C library that is
//! minutes of a first build; ring is the other crypto provider the SDK supports
//! (`aws-smithy-http-client`'s `rustls-ring`), and the one the exporter's reqwest uses.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// A new client; each SDK config takes one (connections are pooled per client).
pub fn client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
