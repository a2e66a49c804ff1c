//! The log bucket's policy as GetBucketPolicy answers it: the JSON document, "no policy"
//! (`NoSuchBucketPolicy`), no bucket yet (`NoSuchBucket`), and access denied.

use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput;
use aws_sdk_s3::Client;
use aws_smithy_mocks::{mock, Rule};
use serde_json::json;

use super::{client, http, no_calls, s3_error, said};
use crate::aws::Clients;
use crate::resources::bucket_policy;

const BUCKET: &str = "flowlogs-s-123456789012-us-east-1";

fn s3(rules: &[&Rule]) -> Clients {
    Clients {
        s3: client!(aws_sdk_s3, rules),
        ..no_calls()
    }
}

#[tokio::test]
async fn the_policy_document_is_read_as_json() {
    let get = mock!(Client::get_bucket_policy)
        .match_requests(|r| r.bucket() == Some(BUCKET))
        .then_output(|| {
            GetBucketPolicyOutput::builder()
                .policy(r#"{"Version":"2012-10-17","Statement":[{"Sid":"AWSLogDeliveryWrite","Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/AWSLogs/*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}"#)
                .build()
        });
    let policy = bucket_policy::observe(&s3(&[&get]), BUCKET)
        .await
        .unwrap()
        .expect("a policy");
    assert_eq!(policy["Statement"][0]["Sid"], json!("AWSLogDeliveryWrite"));
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        json!("123456789012")
    );
}

#[tokio::test]
async fn no_policy_and_no_bucket_are_both_no_policy() {
    for (code, message) in [
        ("NoSuchBucketPolicy", "The bucket policy does not exist"),
        ("NoSuchBucket", "The specified bucket does not exist"),
    ] {
        let body = s3_error(code, message);
        let get =
            mock!(Client::get_bucket_policy).then_http_response(move || http(404, &[], &body));
        let policy = bucket_policy::observe(&s3(&[&get]), BUCKET).await.unwrap();
        assert_eq!(policy, None, "{code}");
        assert_eq!(get.num_calls(), 1, "{code}: not retried");
    }
}

#[tokio::test]
async fn access_denied_is_an_error_naming_the_bucket() {
    let get = mock!(Client::get_bucket_policy)
        .then_http_response(|| http(403, &[], &s3_error("AccessDenied", "Access Denied")));
    let err = bucket_policy::observe(&s3(&[&get]), BUCKET)
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!("reading the policy of bucket {BUCKET}")),
        "{text}"
    );
    assert!(text.contains("AccessDenied"), "{text}");
}
