//! The clients' tests' HTTP side: an `SdkConfig` whose HTTP client answers from a list, in turn,
//! and records what each request put on the wire.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_http_client::test_util::infallible_client_fn;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;

/// What one request put on the wire.
pub struct Seen {
    pub uri: String,
    pub method: String,
    pub authorization: String,
    pub content_type: String,
    pub target: String,
    pub body: String,
}

/// An answer: status, headers, body.
pub type Answer = (u16, Vec<(&'static str, &'static str)>, String);

/// A config for eu-west-1 with test credentials, quick retries, and an HTTP client giving
/// `answers` in turn (the last one again once they are used up); the requests it was sent.
pub fn answering(
    answers: Vec<Answer>,
    endpoint: Option<&str>,
) -> (SdkConfig, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let http = infallible_client_fn(move |r: http::Request<SdkBody>| {
        let mut log = log.lock().unwrap();
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        log.push(Seen {
            uri: r.uri().to_string(),
            method: r.method().to_string(),
            authorization: header("authorization"),
            content_type: header("content-type"),
            target: header("x-amz-target"),
            body: String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned(),
        });
        let (status, headers, body) = answers[(log.len() - 1).min(answers.len() - 1)].clone();
        let mut response = http::Response::builder().status(status);
        for (k, v) in headers {
            response = response.header(k, v);
        }
        response.body(SdkBody::from(body)).unwrap()
    });
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::for_tests()))
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(1)))
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .http_client(http);
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    (config.build(), seen)
}
