//! Config values that may come from the environment (`${env:NAME}`): resolved at run time, never printed.

use serde::{Serialize, Serializer};

pub const REDACTED: &str = "<redacted>";

/// A header, attribute or variable value as a plan shows it: `(unset)`, or redacted when secret.
pub fn shown_value(value: Option<&String>, secret: bool) -> String {
    match value {
        None => "(unset)".to_string(),
        Some(_) if secret => REDACTED.to_string(),
        Some(v) => v.clone(),
    }
}

/// A string from the config, possibly with `${env:NAME}` references (`Bearer ${env:TOKEN}` works too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// `value` is `None` when the variable is not set at load time.
    Env {
        name: String,
        value: Option<String>,
    },
}

impl ConfigValue {
    /// Splits `raw` into text and `${env:NAME}` references, reading each variable through `lookup`.
    pub fn parse(
        raw: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ConfigValue, String> {
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(format!("`{raw}` opens `${{` without a closing `}}`"));
            };
            let inner = &after[..end];
            let Some(name) = inner.strip_prefix("env:") else {
                return Err(format!(
                    "`${{{inner}}}` is not a supported reference: write `${{env:NAME}}` to read an environment variable"
                ));
            };
            super::rules::env_name(name)?;
            parts.push(Part::Env {
                name: name.to_string(),
                value: lookup(name),
            });
            rest = &after[end + 1..];
        }
        if !rest.is_empty() || parts.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(ConfigValue { parts })
    }

    /// The environment variables this value reads, in order.
    pub fn env_names(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Env { name, .. } => Some(name.as_str()),
                Part::Text(_) => None,
            })
            .collect()
    }

    pub fn is_secret(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Env { .. }))
    }

    /// The value to send to AWS; an unset variable is an error that names it and the key.
    pub fn resolve(&self, key: &str) -> anyhow::Result<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Env { value: Some(v), .. } => out.push_str(v),
                Part::Env { name, value: None } => anyhow::bail!(
                    "{key} reads the environment variable {name}, which is not set: export {name}=... before running flowlogs"
                ),
            }
        }
        Ok(out)
    }

    /// What plans, logs and JSON show: the text, or `<redacted>` when any part is a secret.
    pub fn display(&self) -> String {
        if self.is_secret() {
            return REDACTED.to_string();
        }
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                Part::Env { .. } => REDACTED,
            })
            .collect()
    }
}

impl Serialize for ConfigValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "SET").then(|| "s3cret".to_string())
    }

    #[test]
    fn env_reference_is_resolved_and_redacted() {
        let v = ConfigValue::parse("${env:SET}", &env).unwrap();
        assert_eq!(v.resolve("k").unwrap(), "s3cret");
        assert_eq!(v.display(), REDACTED);
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"<redacted>\"");
    }

    #[test]
    fn unset_variable_names_variable_and_key() {
        let v = ConfigValue::parse("${env:MISSING}", &env).unwrap();
        let err = v
            .resolve("delivery.otlp.headers.x-key")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MISSING") && err.contains("delivery.otlp.headers.x-key"),
            "{err}"
        );
    }

    #[test]
    fn plain_values_pass_through() {
        let v = ConfigValue::parse("abc", &env).unwrap();
        assert_eq!(v.display(), "abc");
        assert!(!v.is_secret());
    }

    #[test]
    fn references_inside_text_are_resolved() {
        let v = ConfigValue::parse("Bearer ${env:SET}", &env).unwrap();
        assert_eq!(v.resolve("k").unwrap(), "Bearer s3cret");
        assert_eq!(v.display(), REDACTED);
    }

    #[test]
    fn other_references_are_refused() {
        assert!(ConfigValue::parse("${file:/x}", &env).is_err());
        assert!(ConfigValue::parse("${env:BAD-NAME}", &env).is_err());
        // POSIX names only: the wizard and the file agree on this (issue 13).
        assert!(ConfigValue::parse("${env:2KEY}", &env).is_err());
        assert!(ConfigValue::parse("${env:_KEY2}", &env).is_ok());
        assert!(ConfigValue::parse("${env:OPEN", &env).is_err());
    }
}
