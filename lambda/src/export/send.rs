//! Sends export requests, retrying as [`super::retry`] decides, within the invocation's time.

use super::config::{Compression, ExportConfig, Protocol};
use super::request::{self, Body};
use super::retry::{self, Attempt, RetryAction};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How one export request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sent {
    pub accepted: u64,
    /// Records the endpoint refused in a partial-success response.
    pub rejected: u64,
    pub retries: u64,
}

/// An export request that could not be delivered.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("{reason} (after {retries} retries)")]
pub struct SendError {
    pub reason: String,
    pub retries: u64,
}

/// Posts export requests to one endpoint.
#[derive(Clone)]
pub struct Exporter {
    client: reqwest::Client,
    config: ExportConfig,
    headers: HeaderMap,
    /// Give up rather than start a wait or an attempt that would end after this.
    deadline: Option<Instant>,
    /// The endpoint answered 415 to zstd: gzip for the rest of the invocation.
    zstd_refused: Arc<AtomicBool>,
}

impl Exporter {
    pub fn new(config: ExportConfig, deadline: Option<Instant>) -> anyhow::Result<Exporter> {
        let headers = request::headers(&config)?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(50))
            .build()?;
        Ok(Exporter {
            client,
            config,
            headers,
            deadline,
            zstd_refused: Arc::default(),
        })
    }

    pub fn config(&self) -> &ExportConfig {
        &self.config
    }

    /// The same exporter with another deadline, for a new invocation (which tries zstd again,
    /// if configured, even if the last one fell back to gzip).
    pub fn with_deadline(&self, deadline: Option<Instant>) -> Exporter {
        Exporter {
            deadline,
            zstd_refused: Arc::default(),
            ..self.clone()
        }
    }

    /// The compression of the next bodies: the configured one, or gzip after a 415 to zstd.
    pub fn compression(&self) -> Compression {
        match self.config.compression {
            Compression::Zstd if self.fell_back_to_gzip() => Compression::Gzip,
            c => c,
        }
    }

    /// The endpoint refused zstd (415) during this invocation, and got gzip since.
    pub fn fell_back_to_gzip(&self) -> bool {
        self.zstd_refused.load(Ordering::Relaxed)
    }

    /// `body` as the endpoint takes it: made before a fallback, a zstd body becomes gzip.
    fn as_accepted<'b>(&self, body: Cow<'b, Body>) -> Result<Cow<'b, Body>, String> {
        if body.compression == Compression::Zstd && self.fell_back_to_gzip() {
            let gzip = body
                .gzip_instead()
                .map_err(|e| format!("compressing a batch with gzip instead of zstd: {e}"))?;
            return Ok(Cow::Owned(gzip));
        }
        Ok(body)
    }

    fn remaining(&self, give_up: Instant) -> Duration {
        let end = self.deadline.map_or(give_up, |d| d.min(give_up));
        end.saturating_duration_since(Instant::now())
    }

    /// Sends one request body until it is delivered, refused for good, or time runs out.
    pub async fn send(&self, body: &Body) -> Result<Sent, SendError> {
        let mut retries = 0u64;
        let give_up = Instant::now() + self.config.max_retry_time;
        let mut body = Cow::Borrowed(body);
        loop {
            body = self
                .as_accepted(body)
                .map_err(|reason| SendError { reason, retries })?;
            let left = self.remaining(give_up);
            if left < Duration::from_millis(100) {
                return Err(SendError {
                    reason: "no time left before the invocation's deadline".into(),
                    retries,
                });
            }
            let timeout = left.min(self.config.timeout);
            let mut headers = self.headers.clone();
            if let Some(encoding) = body.compression.content_encoding() {
                headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            let result = self
                .client
                .post(&self.config.endpoint)
                .headers(headers)
                .timeout(timeout)
                .body(body.bytes.clone())
                .send()
                .await;
            let (attempt, retry_after, what) = match result {
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
                    let content_type = resp
                        .headers()
                        .get(CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    let text = resp.bytes().await.unwrap_or_default();
                    if status.is_success() {
                        let rejected = rejected_records(&text, &content_type, self.config.protocol)
                            .min(body.records);
                        if rejected > 0 {
                            tracing::warn!(
                                rejected,
                                records = body.records,
                                "endpoint rejected part of a batch"
                            );
                        }
                        return Ok(Sent {
                            accepted: body.records - rejected,
                            rejected,
                            retries,
                        });
                    }
                    let snippet: String =
                        String::from_utf8_lossy(&text).chars().take(300).collect();
                    if retry::fallback(body.compression, status.as_u16()).is_some() {
                        if !self.zstd_refused.swap(true, Ordering::Relaxed) {
                            tracing::warn!(
                                endpoint = %self.config.endpoint,
                                answer = %snippet,
                                "the endpoint refused zstd (HTTP 415): sending gzip for the rest of the invocation"
                            );
                        }
                        continue;
                    }
                    (
                        Attempt::Status(status.as_u16()),
                        retry_after,
                        format!("HTTP {status}: {snippet}"),
                    )
                }
                Err(e) => {
                    let chain = error_chain(&e);
                    if untrusted_certificate(&chain) {
                        let what = format!(
                            "{} answered with a TLS certificate this function does not trust: {chain}; \
                             the function trusts the platform's certificate store: add the endpoint's \
                             certificate authority to it with SSL_CERT_FILE (a PEM file)",
                            self.config.endpoint
                        );
                        (Attempt::Untrusted, None, what)
                    } else {
                        (Attempt::Transport, None, chain)
                    }
                }
            };
            match retry::classify(attempt) {
                RetryAction::Done => unreachable!("success returns above"),
                RetryAction::Fail if attempt == Attempt::Untrusted => {
                    return Err(SendError {
                        reason: what,
                        retries,
                    })
                }
                RetryAction::Fail => {
                    return Err(SendError {
                        reason: format!("{} refused the batch: {what}", self.config.endpoint),
                        retries,
                    })
                }
                RetryAction::Retry => {
                    let wait = retry::delay(
                        retries.min(u32::MAX as u64) as u32,
                        self.config.backoff_base,
                        self.config.backoff_cap,
                        retry_after,
                        rand::random::<f64>(),
                    );
                    if wait + Duration::from_millis(100) >= self.remaining(give_up) {
                        return Err(SendError {
                            reason: format!(
                                "{what}; giving up: the next retry (in {wait:?}) would end after the deadline"
                            ),
                            retries,
                        });
                    }
                    tracing::info!(error = %what, wait_ms = wait.as_millis() as u64, retry = retries + 1, "retrying export");
                    tokio::time::sleep(wait).await;
                    retries += 1;
                }
            }
        }
    }
}

/// Whether a transport error is rustls refusing the server's certificate (`invalid peer
/// certificate: UnknownIssuer`, `...: Expired`, `...: NotValidForName`): retrying cannot help.
fn untrusted_certificate(chain: &str) -> bool {
    chain.contains("invalid peer certificate")
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// `partial_success.rejected_log_records` of a success response (0 when absent or unreadable).
pub fn rejected_records(body: &[u8], content_type: &str, sent_as: Protocol) -> u64 {
    if body.is_empty() {
        return 0;
    }
    let json =
        content_type.contains("json") || (content_type.is_empty() && sent_as == Protocol::Json);
    let n = if json {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                let r = &v["partialSuccess"]["rejectedLogRecords"];
                r.as_i64()
                    .or_else(|| r.as_str().and_then(|s| s.parse().ok()))
            })
    } else {
        ExportLogsServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_log_records)
    };
    n.unwrap_or(0).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess;

    #[test]
    fn partial_success_is_read_in_both_encodings() {
        let proto = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "x".into(),
            }),
        }
        .encode_to_vec();
        assert_eq!(
            rejected_records(&proto, "application/x-protobuf", Protocol::Protobuf),
            3
        );
        assert_eq!(
            rejected_records(&[], "application/x-protobuf", Protocol::Protobuf),
            0
        );
        let j = br#"{"partialSuccess":{"rejectedLogRecords":"4","errorMessage":"bad"}}"#;
        assert_eq!(
            rejected_records(j, "application/json", Protocol::Protobuf),
            4
        );
        let j = br#"{"partialSuccess":{"rejectedLogRecords":5}}"#;
        assert_eq!(rejected_records(j, "", Protocol::Json), 5);
        assert_eq!(
            rejected_records(b"{}", "application/json", Protocol::Json),
            0
        );
    }
}
