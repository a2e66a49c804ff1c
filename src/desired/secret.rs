//! The stack's secret in AWS Secrets Manager, `flowlogs/<stack>/endpoint-credentials`: the values
//! of the config that must not sit in a function's environment, a stream's configuration or a tag.
//! In Lambda mode the OTLP headers written with `${env:...}` (a JSON object, header name to
//! value), read by the forwarder once per cold start; in Firehose mode the HTTP endpoint's access
//! key as `{"api_key": ...}`, the form Firehose's Secrets Manager integration reads.
//!
//! Pure: what the secret should hold, the policy statement that lets a role read it, and which
//! version the function should name. A value is held in a [`SecretValue`], which never prints or
//! serialises what it holds.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::Names;
use crate::config::REDACTED;

/// The JSON key Firehose reads an HTTP endpoint's access key from (Firehose developer guide,
/// "Understand secrets": `{ "api_key": "<apikey>" }`).
pub const FIREHOSE_API_KEY: &str = "api_key";

/// The forwarder's environment: the secret it reads its header values from, and the version of
/// it that setup wrote (a new version changes the function's configuration, so Lambda starts new
/// instances, and each reads the new value once).
pub const ENV_SECRET_ARN: &str = "FLOWLOGS_HEADERS_SECRET_ARN";
pub const ENV_SECRET_VERSION: &str = "FLOWLOGS_HEADERS_SECRET_VERSION";

/// Version ids flowlogs gives the values it writes (PutSecretValue `ClientRequestToken`, 32 to 64
/// characters): a counter, so the next id is known to the plan without looking at the value.
const VERSION_PREFIX: &str = "flowlogs-version-";

/// Secret entries, name to value. Shown, debugged and serialised as `<redacted>` with its names.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretValue(BTreeMap<String, String>);

impl SecretValue {
    pub fn new(entries: BTreeMap<String, String>) -> SecretValue {
        SecretValue(entries)
    }

    /// Reads a secret string written as a JSON object of strings; anything else is `None`.
    pub fn parse(text: &str) -> Option<SecretValue> {
        let Value::Object(map) = serde_json::from_str::<Value>(text).ok()? else {
            return None;
        };
        let mut entries = BTreeMap::new();
        for (k, v) in map {
            entries.insert(k, v.as_str()?.to_string());
        }
        Some(SecretValue(entries))
    }

    /// The secret string AWS stores. Only the write calls may use it.
    pub fn expose_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a map of strings is JSON")
    }

    /// The entry names (header names, `api_key`): not secret.
    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue({:?}: {REDACTED})", self.names())
    }
}

impl Serialize for SecretValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

/// What the secret should be.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredSecret {
    pub name: String,
    pub description: String,
    pub value: SecretValue,
    pub tags: BTreeMap<String, String>,
}

/// How a function or stream names the stack's secret. The ARN ends in a random suffix AWS
/// chooses, so it is known once the secret exists: `None` until then (apply looks it up by name
/// after the secret's step has made it).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SecretRef {
    pub name: String,
    pub arn: Option<String>,
    /// The version the function should read; `None` in a stream (Firehose reads the current one).
    pub version: Option<String>,
}

pub fn secret(names: &Names, purpose: &str, value: SecretValue) -> DesiredSecret {
    DesiredSecret {
        name: names.secret.clone(),
        description: format!("{purpose}; made by flowlogs for stack {}", names.stack),
        value,
        tags: names.tags(),
    }
}

/// The statement that lets a role read the stack's secret and nothing else. The name's ARN ends
/// in `-??????`, the six characters AWS appends (Secrets Manager user guide, "Permissions
/// policy examples"), so the policy is known before the secret exists.
pub fn read_statement(names: &Names) -> Value {
    crate::policy::render(
        crate::policy::SECRET_READ_STATEMENT,
        &[("secret_arn", &names.secret_arn_pattern())],
    )
}

/// A policy document with `statement` added.
pub fn with_statement(mut policy: Value, statement: Value) -> Value {
    if let Some(Value::Array(statements)) = policy.get_mut("Statement") {
        statements.push(statement);
    }
    policy
}

/// The version id after `current`, whatever made `current`: one past the highest of ours.
pub fn next_version(known: &[String]) -> String {
    let highest = known
        .iter()
        .filter_map(|v| v.strip_prefix(VERSION_PREFIX)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("{VERSION_PREFIX}{:016}", highest + 1)
}

/// The secret as the plan finds it, reduced to what decides the function's environment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecretState {
    pub arn: Option<String>,
    /// The version setup leaves current: the observed one, or the one it writes.
    pub version: String,
    /// Setup writes a value (create, or a changed value).
    pub writes: bool,
}

/// What setup leaves: the value is written when the secret is missing, unreadable or different
/// (compared in memory, never stored or hashed), else left as it is. `known_versions`: every
/// version id the secret holds, unlabelled ones included, so the next id is a new one.
pub fn state_after_setup(
    desired: &DesiredSecret,
    observed_arn: Option<&str>,
    observed_value: Option<&SecretValue>,
    current_version: Option<&str>,
    known_versions: &[String],
) -> SecretState {
    let unchanged = observed_value == Some(&desired.value);
    match (unchanged, current_version) {
        (true, Some(current)) => SecretState {
            arn: observed_arn.map(str::to_string),
            version: current.to_string(),
            writes: false,
        },
        _ => SecretState {
            arn: observed_arn.map(str::to_string),
            version: next_version(known_versions),
            writes: true,
        },
    }
}

/// The desired stack with the secret's ARN and the version setup leaves in the function's
/// environment and the stream's configuration (`state`: the secret as the plan finds it).
pub fn with_state(desired: &super::Desired, state: Option<&SecretState>) -> super::Desired {
    let mut out = desired.clone();
    let Some(state) = state else {
        return out;
    };
    if let Some(r) = out
        .forwarder
        .as_mut()
        .and_then(|f| f.function.secret.as_mut())
    {
        r.arn = state.arn.clone();
        r.version = Some(state.version.clone());
    }
    if let Some(r) = out.firehose.as_mut().and_then(|f| f.stream.secret.as_mut()) {
        r.arn = state.arn.clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(pairs: &[(&str, &str)]) -> SecretValue {
        SecretValue::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn desired(v: SecretValue) -> DesiredSecret {
        DesiredSecret {
            name: "flowlogs/s/endpoint-credentials".into(),
            description: "d".into(),
            value: v,
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn a_value_never_shows_in_debug_or_json() {
        let v = value(&[("signoz-ingestion-key", "FLOWLOGS-SECRET-1")]);
        let d = desired(v.clone());
        let shown = format!("{d:?} {}", serde_json::to_string(&d).unwrap());
        assert!(!shown.contains("FLOWLOGS-SECRET-1"), "{shown}");
        assert!(shown.contains("signoz-ingestion-key"));
        assert_eq!(SecretValue::parse(&v.expose_json()), Some(v));
        assert_eq!(SecretValue::parse("not json"), None);
        assert_eq!(SecretValue::parse(r#"{"a": 1}"#), None);
    }

    #[test]
    fn versions_count_up_from_the_highest_of_ours() {
        assert_eq!(next_version(&[]), "flowlogs-version-0000000000000001");
        let known = vec![
            "flowlogs-version-0000000000000007".to_string(),
            "a-uuid-made-by-the-console".to_string(),
            "flowlogs-version-0000000000000003".to_string(),
        ];
        assert_eq!(next_version(&known), "flowlogs-version-0000000000000008");
        assert!((32..=64).contains(&next_version(&known).len()));
    }

    #[test]
    fn an_unchanged_value_keeps_its_version_and_a_changed_one_gets_the_next() {
        let d = desired(value(&[("k", "one")]));
        let current = "flowlogs-version-0000000000000002".to_string();
        let same = state_after_setup(
            &d,
            Some("arn"),
            Some(&value(&[("k", "one")])),
            Some(&current),
            std::slice::from_ref(&current),
        );
        assert_eq!(
            (same.writes, same.version.as_str()),
            (false, current.as_str())
        );
        let changed = state_after_setup(
            &d,
            Some("arn"),
            Some(&value(&[("k", "two")])),
            Some(&current),
            std::slice::from_ref(&current),
        );
        assert!(changed.writes);
        assert_eq!(changed.version, "flowlogs-version-0000000000000003");
        let unreadable = state_after_setup(
            &d,
            Some("arn"),
            None,
            Some(&current),
            std::slice::from_ref(&current),
        );
        assert!(unreadable.writes);
        let missing = state_after_setup(&d, None, None, None, &[]);
        assert_eq!((missing.arn, missing.writes), (None, true));
    }
}
