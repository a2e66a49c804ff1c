//! The bucket's KMS key, when its default encryption is SSE-KMS: which key it is (as an ARN IAM can
//! grant on), the grants our roles need on it, and the key-policy statement log delivery needs. The
//! key is observed (an adopted bucket's); everything here is pure over what was observed.

use serde_json::{json, Value};

use super::{Desired, Names};

/// The key a bucket's default encryption uses, as far as IAM is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketKey {
    /// No KMS: SSE-S3 or no default encryption. Nothing to grant.
    NotKms,
    /// A customer key, named by its ARN.
    Key { arn: String },
    /// A customer key named by its key id: IAM can grant on the ARN built from it and the stack's
    /// account and region, but VPC flow log delivery refuses such a bucket ("LogDestination
    /// <bucket> is undeliverable": the default encryption must name the key ARN).
    KeyId { id: String, arn: String },
    /// The AWS managed key `aws/s3` (SSE-KMS without a key id, or named by that alias): log
    /// delivery cannot use it.
    AwsManaged,
    /// An alias (`alias/name` or an alias ARN): IAM cannot grant on an alias, and resolving it
    /// needs `kms:DescribeKey`, which flowlogs does not ask for.
    Alias { given: String },
}

const AWS_MANAGED_ALIAS: &str = "alias/aws/s3";

/// Reads GetBucketEncryption's `SSEAlgorithm` and `KMSMasterKeyID` (a key id, a key ARN, an alias
/// name or an alias ARN).
pub fn bucket_key(names: &Names, algorithm: Option<&str>, key_id: Option<&str>) -> BucketKey {
    if !matches!(algorithm, Some("aws:kms" | "aws:kms:dsse")) {
        return BucketKey::NotKms;
    }
    let given = match key_id.map(str::trim) {
        None | Some("") => return BucketKey::AwsManaged,
        Some(given) => given,
    };
    if given == AWS_MANAGED_ALIAS || given.ends_with(&format!(":{AWS_MANAGED_ALIAS}")) {
        return BucketKey::AwsManaged;
    }
    if given.starts_with("alias/") || (given.starts_with("arn:") && given.contains(":alias/")) {
        return BucketKey::Alias {
            given: given.to_string(),
        };
    }
    if given.starts_with("arn:") {
        return BucketKey::Key {
            arn: given.to_string(),
        };
    }
    BucketKey::KeyId {
        id: given.to_string(),
        arn: format!(
            "arn:{}:kms:{}:{}:key/{}",
            names.partition, names.region, names.account, given
        ),
    }
}

impl BucketKey {
    /// The key ARN IAM grants on, when there is one.
    pub fn arn(&self) -> Option<&str> {
        match self {
            BucketKey::Key { arn } | BucketKey::KeyId { arn, .. } => Some(arn),
            _ => None,
        }
    }
}

/// Only requests S3 makes for the bucket on the role's behalf may use the key.
fn via_s3(names: &Names) -> Value {
    json!({"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", names.region)}})
}

/// The forwarder reads SSE-KMS objects: `kms:Decrypt` on the key, through S3 only.
pub fn forwarder_grant(names: &Names, key_arn: &str) -> Value {
    json!({
        "Sid": "DecryptFlowLogObjects",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key_arn,
        "Condition": via_s3(names),
    })
}

/// Firehose writes failed records to the bucket: `kms:GenerateDataKey` on the key, through S3 only.
pub fn firehose_grant(names: &Names, key_arn: &str) -> Value {
    json!({
        "Sid": "EncryptFailedRecords",
        "Effect": "Allow",
        "Action": "kms:GenerateDataKey",
        "Resource": key_arn,
        "Condition": via_s3(names),
    })
}

/// The statement the key policy needs so that log delivery can write SSE-KMS objects (VPC user
/// guide, "Required key policy for use with SSE-KMS"). In a key policy, `*` is the key itself.
pub fn log_delivery_key_statement(names: &Names) -> Value {
    json!({
        "Sid": "AllowVpcFlowLogsDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "delivery.logs.amazonaws.com"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": names.account},
            "ArnLike": {"aws:SourceArn": format!("arn:{}:logs:{}:{}:*", names.partition, names.region, names.account)},
        },
    })
}

/// The desired stack with the grants the bucket's key needs added to our roles' policies. Only a
/// customer key (by ARN, or by id in the stack's account and region) is granted on; the other
/// cases are conflicts of the bucket's plan.
pub fn with_bucket_key(desired: &Desired, key: &BucketKey) -> Desired {
    let mut desired = desired.clone();
    let Some(arn) = key.arn() else {
        return desired;
    };
    let names = desired.names.clone();
    if let Some(forwarder) = desired.forwarder.as_mut() {
        // Failed events go to the failure bucket (SSE-S3, ours): the role only reads with the key.
        push_statement(&mut forwarder.role.policy, forwarder_grant(&names, arn));
    }
    if let Some(firehose) = desired.firehose.as_mut() {
        push_statement(&mut firehose.role.policy, firehose_grant(&names, arn));
    }
    desired
}

fn push_statement(policy: &mut Value, statement: Value) {
    match policy.get_mut("Statement") {
        Some(Value::Array(statements)) => statements.push(statement),
        _ => unreachable!("role policy templates have a Statement array"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy;

    fn desired(delivery: &str) -> Desired {
        let text = format!(
            "version: 1\nstack: s\nflow_log: {{ resources: {{ vpc_ids: [vpc-1] }} }}\nbucket: {{ name: shared-logs, create: false }}\ndelivery: {delivery}\n"
        );
        let c = crate::config::parse(&text, std::path::Path::new("t.yaml"), &|_| None).unwrap();
        crate::desired::build(&c, "123456789012", "eu-west-1", "h").unwrap()
    }

    const LAMBDA: &str = "{ otlp: { endpoint: http://x } }";
    const FIREHOSE: &str =
        "{ mode: firehose, firehose: { url: \"https://o2.example.com/f\", access_key: plain } }";
    const KEY_ARN: &str =
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn each_form_of_key_id_is_read_as_what_iam_can_use() {
        let d = desired(LAMBDA);
        let n = &d.names;
        let kms = Some("aws:kms");
        assert_eq!(bucket_key(n, Some("AES256"), None), BucketKey::NotKms);
        assert_eq!(bucket_key(n, None, None), BucketKey::NotKms);
        assert_eq!(bucket_key(n, kms, None), BucketKey::AwsManaged);
        assert_eq!(
            bucket_key(n, kms, Some("alias/aws/s3")),
            BucketKey::AwsManaged
        );
        assert_eq!(
            bucket_key(
                n,
                kms,
                Some("arn:aws:kms:eu-west-1:123456789012:alias/aws/s3")
            ),
            BucketKey::AwsManaged
        );
        assert_eq!(
            bucket_key(n, kms, Some(KEY_ARN)),
            BucketKey::Key {
                arn: KEY_ARN.into()
            }
        );
        assert_eq!(
            bucket_key(
                n,
                Some("aws:kms:dsse"),
                Some("1234abcd-12ab-34cd-56ef-1234567890ab")
            ),
            BucketKey::KeyId {
                id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
                arn: KEY_ARN.into()
            },
            "a key id is in the stack's account and region"
        );
        assert_eq!(
            bucket_key(n, kms, Some("alias/flow-logs")),
            BucketKey::Alias {
                given: "alias/flow-logs".into()
            }
        );
        assert!(matches!(
            bucket_key(
                n,
                kms,
                Some("arn:aws:kms:eu-west-1:123456789012:alias/flow-logs")
            ),
            BucketKey::Alias { .. }
        ));
    }

    fn statements_with_kms(policy: &Value) -> Vec<Value> {
        policy::statements(policy)
            .into_iter()
            .filter(|s| s.to_string().contains("kms:"))
            .collect()
    }

    #[test]
    fn the_forwarder_may_decrypt_with_that_key_through_s3_only() {
        let d = desired(LAMBDA);
        let key = BucketKey::Key {
            arn: KEY_ARN.into(),
        };
        let with = with_bucket_key(&d, &key);
        let grants = statements_with_kms(&with.forwarder.as_ref().unwrap().role.policy);
        // Reading only: failed events go to the failure bucket, never written with this key.
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0]["Action"], "kms:Decrypt");
        assert_eq!(grants[0]["Resource"], KEY_ARN);
        assert_eq!(
            grants[0]["Condition"]["StringEquals"]["kms:ViaService"],
            "s3.eu-west-1.amazonaws.com"
        );
        // A key named by its id is granted on by the ARN built from it.
        let by_id = with_bucket_key(
            &d,
            &BucketKey::KeyId {
                id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
                arn: KEY_ARN.into(),
            },
        );
        assert_eq!(
            by_id.forwarder.as_ref().unwrap().role.policy,
            with.forwarder.as_ref().unwrap().role.policy
        );
        // Without a key, or with one IAM cannot grant on, the policy is the config's alone.
        for key in [
            BucketKey::NotKms,
            BucketKey::AwsManaged,
            BucketKey::Alias {
                given: "alias/x".into(),
            },
        ] {
            let same = with_bucket_key(&d, &key);
            assert_eq!(
                same.forwarder.as_ref().unwrap().role.policy,
                d.forwarder.as_ref().unwrap().role.policy
            );
        }
    }

    #[test]
    fn firehose_may_generate_data_keys_for_its_backup_through_s3_only() {
        let d = desired(FIREHOSE);
        let key = BucketKey::Key {
            arn: KEY_ARN.into(),
        };
        let with = with_bucket_key(&d, &key);
        let grants = statements_with_kms(&with.firehose.as_ref().unwrap().role.policy);
        assert_eq!(grants.len(), 1);
        assert_eq!(grants[0]["Action"], "kms:GenerateDataKey");
        assert_eq!(grants[0]["Resource"], KEY_ARN);
        assert_eq!(
            grants[0]["Condition"]["StringEquals"]["kms:ViaService"],
            "s3.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn the_key_policy_statement_lets_log_delivery_of_this_account_and_region_use_the_key() {
        let d = desired(LAMBDA);
        let s = log_delivery_key_statement(&d.names);
        assert_eq!(s["Principal"]["Service"], "delivery.logs.amazonaws.com");
        let actions: Vec<&str> = s["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey"
            ]
        );
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        assert_eq!(
            s["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:logs:eu-west-1:123456789012:*"
        );
    }
}
