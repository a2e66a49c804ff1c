//! Exporter settings from the standard OpenTelemetry environment variables.

use crate::filter::{Filter, FilterError};
use crate::otlp::BodyMode;
use percent_encoding::percent_decode_str;
use std::time::Duration;

/// The wire format of export requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf` (the default)
    Protobuf,
    /// `http/json`
    Json,
}

impl Protocol {
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Protobuf => "application/x-protobuf",
            Protocol::Json => "application/json",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    /// For endpoints that take it (the OpenTelemetry Collector's OTLP/HTTP receiver does); one
    /// that answers 415 gets gzip for the rest of the invocation.
    Zstd,
    None,
}

impl Compression {
    /// The `Content-Encoding` of a body so compressed.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
            Compression::None => None,
        }
    }
}

/// Everything the exporter needs, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportConfig {
    /// The full logs URL, `.../v1/logs`.
    pub endpoint: String,
    pub headers: Vec<(String, String)>,
    pub protocol: Protocol,
    pub compression: Compression,
    /// Time limit of one HTTP attempt.
    pub timeout: Duration,
    /// `service.name` of the resource.
    pub service_name: String,
    /// Extra resource attributes (`OTEL_RESOURCE_ATTRIBUTES`), `service.name` excluded.
    pub resource_attributes: Vec<(String, String)>,
    /// Cap on the encoded (uncompressed) size of one export request.
    pub max_batch_bytes: usize,
    /// What each record's body holds (`FLOWLOGS_OTLP_BODY`: `line`, `summary` or `none`).
    pub body: BodyMode,
    /// The records dropped before sending (`FLOWLOGS_FILTER`, see [`crate::filter`]).
    pub filter: Filter,
    /// Export requests in flight at once.
    pub concurrency: usize,
    /// First backoff step, doubled on each retry, with full jitter.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Longest time one request is retried for when no deadline is nearer.
    pub max_retry_time: Duration,
}

/// Why the environment does not make a usable configuration.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "{var}={value:?}: the forwarder speaks OTLP over HTTP only: use http/protobuf or http/json"
    )]
    Protocol { var: &'static str, value: String },
    #[error("{var}={value:?}: expected gzip, zstd or none")]
    Compression { var: &'static str, value: String },
    #[error("{var}: `{entry}` is not key=value")]
    KeyValue { var: &'static str, entry: String },
    #[error("{var}={value:?}: expected line, summary or none")]
    Body { var: &'static str, value: String },
    #[error("FLOWLOGS_FILTER: {0}")]
    Filter(FilterError),
    #[error("{var}={value:?}: expected milliseconds")]
    Timeout { var: &'static str, value: String },
    #[error("{var}={value:?}: not an http:// or https:// URL")]
    Endpoint { var: &'static str, value: String },
}

pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
pub const DEFAULT_SERVICE_NAME: &str = "vpc-flow-logs";
pub const DEFAULT_MAX_BATCH_BYTES: usize = 1 << 20;
/// The forwarder's own setting (no OpenTelemetry variable says what a body holds).
pub const BODY_VAR: &str = crate::env::BODY;

/// Parses `k=v,k2=v2` with URL-encoded values, as the OTel spec defines for headers and
/// resource attributes.
fn key_values(var: &'static str, s: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((k, v)) = entry.split_once('=') else {
            return Err(ConfigError::KeyValue {
                var,
                entry: entry.to_string(),
            });
        };
        let decode = |x: &str| {
            percent_decode_str(x.trim())
                .decode_utf8_lossy()
                .into_owned()
        };
        let k = decode(k);
        if k.is_empty() {
            return Err(ConfigError::KeyValue {
                var,
                entry: entry.to_string(),
            });
        }
        out.push((k, decode(v)));
    }
    Ok(out)
}

impl ExportConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<ExportConfig, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (a stand-in for the environment in tests).
    /// Signal-specific variables (`OTEL_EXPORTER_OTLP_LOGS_*`) win over the general ones.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ExportConfig, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let pick = |logs: &'static str, general: &'static str| {
            get(logs)
                .map(|v| (logs, v))
                .or_else(|| get(general).map(|v| (general, v)))
        };

        let endpoint = match (
            get("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
            get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(full), _) => (full.trim().to_string(), "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
            (None, Some(base)) => (
                format!("{}/v1/logs", base.trim().trim_end_matches('/')),
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (None, None) => (
                format!("{DEFAULT_ENDPOINT}/v1/logs"),
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
        };
        if !(endpoint.0.starts_with("http://") || endpoint.0.starts_with("https://")) {
            return Err(ConfigError::Endpoint {
                var: endpoint.1,
                value: endpoint.0,
            });
        }

        let protocol = match pick(
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ) {
            None => Protocol::Protobuf,
            Some((var, v)) => match v.trim() {
                "http/protobuf" => Protocol::Protobuf,
                "http/json" => Protocol::Json,
                _ => return Err(ConfigError::Protocol { var, value: v }),
            },
        };
        let compression = match pick(
            "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ) {
            None => Compression::Gzip,
            Some((var, v)) => match v.trim() {
                "gzip" => Compression::Gzip,
                "zstd" => Compression::Zstd,
                "none" => Compression::None,
                _ => return Err(ConfigError::Compression { var, value: v }),
            },
        };
        let timeout = match pick(
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ) {
            None => Duration::from_secs(10),
            Some((var, v)) => {
                Duration::from_millis(v.trim().parse().map_err(|_| ConfigError::Timeout {
                    var,
                    value: v.clone(),
                })?)
            }
        };
        let body = match get(BODY_VAR) {
            None => BodyMode::default(),
            Some(v) => BodyMode::parse(v.trim()).ok_or(ConfigError::Body {
                var: BODY_VAR,
                value: v.clone(),
            })?,
        };
        let filter =
            Filter::from_json(get(crate::filter::ENV).as_deref()).map_err(ConfigError::Filter)?;
        let mut headers = match get("OTEL_EXPORTER_OTLP_HEADERS") {
            Some(h) => key_values("OTEL_EXPORTER_OTLP_HEADERS", &h)?,
            None => Vec::new(),
        };
        if let Some(h) = get("OTEL_EXPORTER_OTLP_LOGS_HEADERS") {
            for (k, v) in key_values("OTEL_EXPORTER_OTLP_LOGS_HEADERS", &h)? {
                headers.retain(|(old, _)| !old.eq_ignore_ascii_case(&k));
                headers.push((k, v));
            }
        }
        let mut resource_attributes = match get("OTEL_RESOURCE_ATTRIBUTES") {
            Some(r) => key_values("OTEL_RESOURCE_ATTRIBUTES", &r)?,
            None => Vec::new(),
        };
        let from_attrs = resource_attributes
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.clone());
        resource_attributes.retain(|(k, _)| k != "service.name");
        let service_name = get("OTEL_SERVICE_NAME")
            .map(|s| s.trim().to_string())
            .or(from_attrs)
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_string());

        Ok(ExportConfig {
            endpoint: endpoint.0,
            headers,
            protocol,
            compression,
            timeout,
            service_name,
            resource_attributes,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            body,
            filter,
            concurrency: 4,
            backoff_base: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(5),
            max_retry_time: Duration::from_secs(60),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<ExportConfig, ConfigError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ExportConfig::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.endpoint, "http://localhost:4318/v1/logs");
        assert_eq!(
            (c.protocol, c.compression),
            (Protocol::Protobuf, Compression::Gzip)
        );
        assert_eq!(c.service_name, "vpc-flow-logs");
        assert_eq!(c.timeout, Duration::from_secs(10));
    }

    #[test]
    fn endpoints() {
        let base = cfg(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://otel.example.com:4318/",
        )])
        .unwrap();
        assert_eq!(base.endpoint, "https://otel.example.com:4318/v1/logs");
        let full = cfg(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://a"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://b/custom/path"),
        ])
        .unwrap();
        assert_eq!(full.endpoint, "https://b/custom/path");
        assert!(matches!(
            cfg(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4318")]),
            Err(ConfigError::Endpoint { .. })
        ));
    }

    #[test]
    fn headers_are_url_decoded_and_logs_headers_win() {
        let c = cfg(&[
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Basic%20abc%3D%3D, x-team = net ,",
            ),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "X-Team=logs"),
        ])
        .unwrap();
        assert_eq!(
            c.headers,
            [
                ("Authorization".to_string(), "Basic abc==".to_string()),
                ("X-Team".into(), "logs".into())
            ]
        );
        assert!(matches!(
            cfg(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")]),
            Err(ConfigError::KeyValue { .. })
        ));
    }

    #[test]
    fn protocol_and_compression() {
        assert_eq!(
            cfg(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")])
                .unwrap()
                .protocol,
            Protocol::Json
        );
        assert_eq!(
            cfg(&[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
            ])
            .unwrap()
            .protocol,
            Protocol::Protobuf
        );
        assert!(matches!(
            cfg(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]),
            Err(ConfigError::Protocol { .. })
        ));
        assert_eq!(
            cfg(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "none")])
                .unwrap()
                .compression,
            Compression::None
        );
        assert_eq!(
            cfg(&[("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "zstd")])
                .unwrap()
                .compression,
            Compression::Zstd
        );
        assert!(matches!(
            cfg(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "br")]),
            Err(ConfigError::Compression { .. })
        ));
        assert_eq!(
            cfg(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")])
                .unwrap()
                .timeout,
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn body_mode() {
        assert_eq!(cfg(&[]).unwrap().body, BodyMode::Summary);
        for mode in BodyMode::NAMES {
            assert_eq!(
                cfg(&[(BODY_VAR, mode)]).unwrap().body.name(),
                mode,
                "{mode}"
            );
        }
        assert!(matches!(
            cfg(&[(BODY_VAR, "full")]),
            Err(ConfigError::Body { .. })
        ));
    }

    #[test]
    fn service_name_and_resource_attributes() {
        let c = cfg(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=prod,service.name=from-attrs",
        )])
        .unwrap();
        assert_eq!(c.service_name, "from-attrs");
        assert_eq!(
            c.resource_attributes,
            [("deployment.environment".to_string(), "prod".to_string())]
        );
        let c = cfg(&[
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
            ("OTEL_SERVICE_NAME", "flows"),
        ])
        .unwrap();
        assert_eq!(c.service_name, "flows");
    }
}
