//! The EventBridge trigger's desired values (`delivery.lambda.trigger: eventbridge`): the bucket's
//! EventBridge delivery, the rule on the default bus that matches S3's Object Created events of
//! the flow-log keys and targets the forwarder, and the function's permission for that rule.
//! Pure: names, ARNs and the event pattern from the stack's names.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::{DesiredPermission, Names};

/// The tag on our rule saying that setup turned the bucket's EventBridge delivery on (and so
/// teardown may turn it off); absent when it was on before flowlogs came.
pub const TAG_DELIVERY_TURNED_ON: &str = "flowlogs:bucket-eventbridge";
pub const DELIVERY_TURNED_ON: &str = "turned-on-by-flowlogs";
/// The id of the forwarder among the rule's targets.
pub const TARGET_ID: &str = "flowlogs-forwarder";

impl Names {
    /// The rule on the default event bus: `flowlogs-<stack>-objects` (at most 64 characters for
    /// any stack name the config accepts).
    pub fn event_rule(&self) -> String {
        format!("flowlogs-{}-objects", self.stack)
    }

    /// `arn:aws:events:<region>:<account>:rule/<name>` (a rule of the default bus).
    pub fn event_rule_arn(&self) -> String {
        format!(
            "arn:{}:events:{}:{}:rule/{}",
            self.partition,
            self.region,
            self.account,
            self.event_rule()
        )
    }

    /// The statement id of the function's permission for the rule.
    pub fn event_permission_sid(&self) -> String {
        format!("flowlogs-{}-events", self.stack)
    }
}

/// Everything the EventBridge trigger is made of.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredEventBridge {
    pub delivery: DesiredDelivery,
    pub rule: DesiredEventRule,
    pub permission: DesiredPermission,
}

/// The bucket sends its events to EventBridge (`EventBridgeConfiguration` in its notification
/// configuration).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredDelivery {
    pub bucket: String,
    /// The rule that records whether setup turned the delivery on.
    pub rule_name: String,
    pub rule_arn: String,
}

/// The rule and its one target of ours.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DesiredEventRule {
    pub name: String,
    pub arn: String,
    pub description: String,
    /// The event pattern, as PutRule takes it (compared as JSON, not as text).
    pub pattern: Value,
    pub target_id: String,
    pub function_arn: String,
    pub tags: BTreeMap<String, String>,
}

/// `*` and `\` are the wildcard's own characters: escaped, a key holding them matches literally.
fn wildcard_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('*', "\\*")
}

/// S3's Object Created events of the bucket whose key starts with one of `prefixes` and ends
/// with `suffix` (the key as it is: S3 does not encode it in the EventBridge event).
pub fn pattern(bucket: &str, prefixes: &[&str], suffix: &str) -> Value {
    let keys: Vec<Value> = prefixes
        .iter()
        .map(|prefix| {
            json!({"wildcard": format!("{}*{}", wildcard_literal(prefix), wildcard_literal(suffix))})
        })
        .collect();
    json!({
        "source": [flowlogs_forwarder::eventbridge_event::SOURCE],
        "detail-type": [flowlogs_forwarder::eventbridge_event::OBJECT_CREATED],
        "detail": {
            "bucket": {"name": [bucket]},
            "object": {"key": keys}
        }
    })
}

/// The trigger for the flow-log keys `prefix`…`suffix` (not encoded) of the stack's bucket, one
/// prefix per folder (the VPC flow logs', the transit gateways').
pub fn build(names: &Names, prefixes: &[&str], suffix: &str) -> DesiredEventBridge {
    let rule = DesiredEventRule {
        name: names.event_rule(),
        arn: names.event_rule_arn(),
        description: format!(
            "flowlogs {}: new flow-log objects of s3://{}/{} to the forwarder",
            names.stack,
            names.bucket,
            prefixes.join(" and ")
        ),
        pattern: pattern(&names.bucket, prefixes, suffix),
        target_id: TARGET_ID.into(),
        function_arn: names.function_arn(),
        tags: names.tags(),
    };
    DesiredEventBridge {
        delivery: DesiredDelivery {
            bucket: names.bucket.clone(),
            rule_name: rule.name.clone(),
            rule_arn: rule.arn.clone(),
        },
        permission: DesiredPermission {
            function: names.function.clone(),
            statement_id: names.event_permission_sid(),
            principal: "events.amazonaws.com".into(),
            source_arn: rule.arn.clone(),
            source_account: names.account.clone(),
        },
        rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_matches_object_created_in_the_bucket_under_the_prefix_and_suffix() {
        let p = pattern("b", &["AWSLogs/aws-account-id=1/"], ".log.gz");
        assert_eq!(p["source"], json!(["aws.s3"]));
        assert_eq!(p["detail-type"], json!(["Object Created"]));
        assert_eq!(p["detail"]["bucket"]["name"], json!(["b"]));
        assert_eq!(
            p["detail"]["object"]["key"],
            json!([{"wildcard": "AWSLogs/aws-account-id=1/*.log.gz"}])
        );
        assert_eq!(
            pattern("b", &["a*b\\"], "")["detail"]["object"]["key"][0]["wildcard"],
            "a\\*b\\\\*"
        );
    }

    #[test]
    fn the_pattern_takes_each_folder_of_the_bucket() {
        let p = pattern("b", &["AWSLogs/", "tgw/AWSLogs/"], ".log.gz");
        assert_eq!(
            p["detail"]["object"]["key"],
            json!([{"wildcard": "AWSLogs/*.log.gz"}, {"wildcard": "tgw/AWSLogs/*.log.gz"}])
        );
    }
}
