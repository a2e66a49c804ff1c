//! Policy documents: rendering the templates in `templates/policies/`, comparing documents the way IAM
//! and S3 mean them, and merging our statements into a bucket policy by `Sid`.

use serde_json::{json, Map, Value};

pub const BUCKET_STATEMENTS: &str = include_str!("../templates/policies/bucket-statements.json");
pub const FORWARDER_TRUST: &str = include_str!("../templates/policies/forwarder-trust.json");
pub const FORWARDER_POLICY: &str = include_str!("../templates/policies/forwarder-policy.json");
pub const FIREHOSE_TRUST: &str = include_str!("../templates/policies/firehose-trust.json");
pub const FIREHOSE_POLICY: &str = include_str!("../templates/policies/firehose-policy.json");
/// Added to the forwarder's or the Firehose role's policy when the stack has a secret.
pub const SECRET_READ_STATEMENT: &str =
    include_str!("../templates/policies/secret-read-statement.json");

/// Fills `{{name}}` placeholders and parses the result; a placeholder left unfilled is a bug in the caller.
pub fn render(template: &str, vars: &[(&str, &str)]) -> Value {
    let mut text = template.to_string();
    for (name, value) in vars {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(
        !text.contains("{{"),
        "policy template has an unfilled placeholder: {text}"
    );
    serde_json::from_str(&text).expect("policy templates are valid JSON")
}

/// A form in which two documents that mean the same compare equal: one-element arrays become scalars,
/// arrays of scalars are sorted, and AWS's URL-encoding or whitespace no longer matter.
pub fn normalize(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalize).collect();
            if items.len() == 1 {
                return items.remove(0);
            }
            if items.iter().all(|v| !v.is_object() && !v.is_array()) {
                items.sort_by_key(|v| v.to_string());
            }
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        other => other.clone(),
    }
}

pub fn same_document(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// The statements of a policy document, whatever shape `Statement` has.
pub fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(s)) => s.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

fn sid(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// Sids of `ours` that are missing from `existing` or differ there.
pub fn differing_statements(existing: Option<&Value>, ours: &[Value]) -> Vec<String> {
    let current = existing.map(statements).unwrap_or_default();
    ours.iter()
        .filter(|s| {
            let found = current.iter().find(|c| sid(c) == sid(s));
            !found.is_some_and(|c| same_document(c, s))
        })
        .filter_map(|s| sid(s).map(str::to_string))
        .collect()
}

/// How `current` differs from `ours`, by statement, for a plan line: the Sids of ours that are
/// missing there or changed, and the statements there that ours does not have.
pub fn difference(current: &Value, ours: &Value) -> String {
    let ours_statements = statements(ours);
    let current_statements = statements(current);
    let named = |s: &Value| sid(s).unwrap_or("(no Sid)").to_string();
    let mut parts = Vec::new();
    for s in &ours_statements {
        match current_statements.iter().find(|c| sid(c) == sid(s)) {
            None => parts.push(format!("{} missing", named(s))),
            Some(c) if !same_document(c, s) => parts.push(format!("{} changed", named(s))),
            Some(_) => {}
        }
    }
    for c in &current_statements {
        if !ours_statements.iter().any(|s| sid(s) == sid(c)) {
            parts.push(format!("{} not ours", named(c)));
        }
    }
    if parts.is_empty() {
        "differs outside its statements".to_string()
    } else {
        parts.join(", ")
    }
}

/// `existing` with every statement whose Sid is in `remove` dropped and `ours` put in place of (or after)
/// statements with the same Sid. Statements of others, and AWS's own, stay as they are.
/// `None` when nothing would be left.
pub fn merge_statements(
    existing: Option<&Value>,
    ours: &[Value],
    remove: &[String],
) -> Option<Value> {
    let mut merged: Vec<Value> = existing
        .map(statements)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !sid(s).is_some_and(|id| remove.iter().any(|r| r == id)))
        .collect();
    for statement in ours {
        match merged
            .iter_mut()
            .find(|s| sid(s).is_some() && sid(s) == sid(statement))
        {
            Some(slot) => *slot = statement.clone(),
            None => merged.push(statement.clone()),
        }
    }
    if merged.is_empty() {
        return None;
    }
    let mut doc = match existing {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    doc.entry("Version").or_insert_with(|| json!("2012-10-17"));
    doc.insert("Statement".into(), Value::Array(merged));
    Some(Value::Object(doc))
}

/// IAM returns policy documents URL-encoded.
pub fn decode_iam_document(raw: &str) -> Value {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded.into_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_policy_difference_names_each_statement() {
        let ours = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/*"},
            {"Sid": "Logs", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]});
        let current = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/q/*"},
            {"Sid": "Extra", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        assert_eq!(
            super::difference(&current, &ours),
            "Read changed, Logs missing, Extra not ours"
        );
        assert_eq!(
            super::difference(
                &ours,
                &json!({"Version": "2008-10-17", "Statement": super::statements(&ours)})
            ),
            "differs outside its statements"
        );
    }

    use super::*;

    #[test]
    fn normalize_ignores_array_shape_and_order() {
        let a = json!({"Action": ["s3:ListBucket", "s3:GetBucketAcl"], "Resource": ["x"]});
        let b = json!({"Action": ["s3:GetBucketAcl", "s3:ListBucket"], "Resource": "x"});
        assert!(same_document(&a, &b));
        assert!(!same_document(
            &a,
            &json!({"Action": "s3:ListBucket", "Resource": "x"})
        ));
    }

    #[test]
    fn merge_keeps_foreign_statements_and_replaces_ours_in_place() {
        let existing = json!({"Version": "2012-10-17", "Id": "keep", "Statement": [
            {"Sid": "Theirs", "Effect": "Allow"},
            {"Sid": "Ours", "Effect": "Deny"},
            {"Effect": "Allow", "Action": "no-sid"}
        ]});
        let ours = [
            json!({"Sid": "Ours", "Effect": "Allow"}),
            json!({"Sid": "New", "Effect": "Allow"}),
        ];
        let merged = merge_statements(Some(&existing), &ours, &[]).unwrap();
        assert_eq!(merged["Id"], "keep");
        let sids: Vec<_> = statements(&merged)
            .iter()
            .map(|s| s.get("Sid").cloned())
            .collect();
        assert_eq!(
            sids,
            [
                Some(json!("Theirs")),
                Some(json!("Ours")),
                None,
                Some(json!("New"))
            ]
        );
        assert_eq!(statements(&merged)[1]["Effect"], "Allow");
    }

    #[test]
    fn merge_removes_only_named_sids_and_reports_empty() {
        let existing = json!({"Statement": [{"Sid": "A"}, {"Sid": "B"}]});
        let left = merge_statements(Some(&existing), &[], &["A".into()]).unwrap();
        assert_eq!(statements(&left), [json!({"Sid": "B"})]);
        assert_eq!(merge_statements(Some(&left), &[], &["B".into()]), None);
    }

    #[test]
    fn differing_statements_names_missing_and_changed() {
        let existing =
            json!({"Statement": [{"Sid": "A", "Action": ["x"]}, {"Sid": "B", "Action": "y"}]});
        let ours = [
            json!({"Sid": "A", "Action": "x"}),
            json!({"Sid": "B", "Action": "z"}),
            json!({"Sid": "C"}),
        ];
        assert_eq!(differing_statements(Some(&existing), &ours), ["B", "C"]);
        assert_eq!(differing_statements(None, &ours[..1]), ["A"]);
    }

    #[test]
    fn iam_documents_are_url_decoded() {
        let doc = decode_iam_document("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(doc, json!({"Version": "2012-10-17"}));
    }
}
