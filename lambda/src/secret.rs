//! The OTLP header values the deployer keeps in the stack's secret (AWS Secrets Manager) rather
//! than in the function's environment. The environment names the secret
//! (`FLOWLOGS_HEADERS_SECRET_ARN`) and the version setup wrote (`FLOWLOGS_HEADERS_SECRET_VERSION`);
//! the secret string is a JSON object, header name to value. The forwarder reads it once per
//! cold start: a new version changes the version variable, so Lambda starts new instances, which
//! read the new value. Nothing here logs or returns a value in an error.

use std::collections::BTreeMap;

/// The secret's ARN (set by the deployer when a header value is a secret).
pub const ENV_SECRET_ARN: &str = "FLOWLOGS_HEADERS_SECRET_ARN";
/// The version to read; without it, the current one.
pub const ENV_SECRET_VERSION: &str = "FLOWLOGS_HEADERS_SECRET_VERSION";

/// Where the header values are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub arn: String,
    pub version: Option<String>,
}

impl SecretRef {
    /// From the environment (through `get`); `None` when no secret is named.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<SecretRef> {
        let set = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Some(SecretRef {
            arn: set(ENV_SECRET_ARN)?,
            version: set(ENV_SECRET_VERSION),
        })
    }

    pub fn from_env() -> Option<SecretRef> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

/// Why the header values could not be had; never holds a value.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SecretError {
    #[error("reading the OTLP header values from secret {arn} (version {version}) failed: {reason}; the function's role needs secretsmanager:GetSecretValue on it (run `flowlogs setup`)")]
    Unreadable {
        arn: String,
        version: String,
        reason: String,
    },
    #[error("secret {arn} does not hold a JSON object of header names to string values; run `flowlogs setup` to write it again")]
    NotHeaders { arn: String },
}

/// The headers of a secret string: a JSON object of strings, in name order.
pub fn headers_from(text: &str) -> Option<Vec<(String, String)>> {
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(text).ok()?;
    map.into_iter()
        .map(|(k, v)| Some((k, v.as_str()?.to_string())))
        .collect()
}

/// `headers` with those of the secret added; a secret header replaces one of the same name.
pub fn merge(headers: &mut Vec<(String, String)>, from_secret: Vec<(String, String)>) {
    for (k, v) in from_secret {
        headers.retain(|(old, _)| !old.eq_ignore_ascii_case(&k));
        headers.push((k, v));
    }
}

/// Reads the header values (GetSecretValue, the version the environment names).
pub async fn read(
    client: &aws_sdk_secretsmanager::Client,
    secret: &SecretRef,
) -> Result<Vec<(String, String)>, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(&secret.arn)
        .set_version_id(secret.version.clone())
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            arn: secret.arn.clone(),
            version: secret.version.clone().unwrap_or_else(|| "current".into()),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
        })?;
    out.secret_string()
        .and_then(headers_from)
        .ok_or_else(|| SecretError::NotHeaders {
            arn: secret.arn.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_secret_is_named_by_the_environment() {
        let env: HashMap<&str, &str> = HashMap::from([
            (
                ENV_SECRET_ARN,
                "arn:aws:secretsmanager:r:1:secret:flowlogs/s/x-AbCdEf",
            ),
            (ENV_SECRET_VERSION, "flowlogs-version-0000000000000002"),
        ]);
        let r = SecretRef::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            r.arn,
            "arn:aws:secretsmanager:r:1:secret:flowlogs/s/x-AbCdEf"
        );
        assert_eq!(
            r.version.as_deref(),
            Some("flowlogs-version-0000000000000002")
        );
        assert_eq!(SecretRef::from_lookup(|_| None), None);
    }

    #[test]
    fn headers_come_from_a_json_object_of_strings_and_replace_same_named_ones() {
        let from_secret =
            headers_from(r#"{"signoz-ingestion-key":"k1","Authorization":"Bearer t"}"#).unwrap();
        let mut headers = vec![
            ("team".to_string(), "net".to_string()),
            ("authorization".into(), "old".into()),
        ];
        merge(&mut headers, from_secret);
        assert_eq!(
            headers,
            [
                ("team".to_string(), "net".to_string()),
                ("Authorization".into(), "Bearer t".into()),
                ("signoz-ingestion-key".into(), "k1".into())
            ]
        );
        assert_eq!(headers_from("not json"), None);
        assert_eq!(headers_from(r#"{"a": 1}"#), None);
    }

    #[test]
    fn an_error_names_the_secret_and_the_fix_never_a_value() {
        let e = SecretError::Unreadable {
            arn: "arn:x".into(),
            version: "v".into(),
            reason: "AccessDeniedException".into(),
        };
        let text = e.to_string();
        assert!(
            text.contains("arn:x") && text.contains("secretsmanager:GetSecretValue"),
            "{text}"
        );
    }
}
