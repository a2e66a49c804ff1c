//! The IAM roles' AWS edge: GetRole's `NoSuchEntity`, trust and inline policy documents as IAM
//! returns them (URL-encoded JSON), IAM throttling, and access denied.

use aws_sdk_iam::operation::get_role::GetRoleOutput;
use aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput;
use aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
use aws_sdk_iam::types::{Role, Tag};
use aws_sdk_iam::Client;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::DateTime;
use serde_json::json;

use super::{client, http, iam_error, no_calls, said};
use crate::aws::Clients;
use crate::resources::role;

const ROLE: &str = "flowlogs-s-forwarder";

fn iam(rules: &[&Rule]) -> Clients {
    Clients {
        iam: client!(aws_sdk_iam, rules),
        ..no_calls()
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986), as GetRole and GetRolePolicy document.
const TRUST_ENCODED: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22lambda.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
const POLICY_ENCODED: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2FAWSLogs%2F%2A%22%7D%5D%7D";

fn get_role() -> Rule {
    mock!(Client::get_role)
        .match_requests(|r| r.role_name() == Some(ROLE))
        .then_output(|| {
            GetRoleOutput::builder()
                .role(
                    Role::builder()
                        .path("/")
                        .role_name(ROLE)
                        .role_id("AROAEXAMPLE")
                        .arn(format!("arn:aws:iam::123456789012:role/{ROLE}"))
                        .create_date(DateTime::from_secs(1_700_000_000))
                        .assume_role_policy_document(TRUST_ENCODED)
                        .tags(
                            Tag::builder()
                                .key("flowlogs:stack")
                                .value("s")
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
        })
}

#[tokio::test]
async fn no_such_entity_is_no_role_and_nothing_else_is_read() {
    let get = mock!(Client::get_role).then_http_response(|| {
        http(
            404,
            &[],
            &iam_error(
                "NoSuchEntity",
                &format!("The role with name {ROLE} cannot be found."),
            ),
        )
    });
    assert_eq!(role::observe(&iam(&[&get]), ROLE).await.unwrap(), None);
    assert_eq!(get.num_calls(), 1);
}

#[tokio::test]
async fn url_encoded_trust_and_inline_policies_are_read_as_json() {
    let get = get_role();
    let list = mock!(Client::list_role_policies).then_output(|| {
        ListRolePoliciesOutput::builder()
            .policy_names("forwarder")
            .is_truncated(false)
            .build()
            .unwrap()
    });
    let policy = mock!(Client::get_role_policy)
        .match_requests(|r| r.policy_name() == Some("forwarder"))
        .then_output(|| {
            GetRolePolicyOutput::builder()
                .role_name(ROLE)
                .policy_name("forwarder")
                .policy_document(POLICY_ENCODED)
                .build()
                .unwrap()
        });
    let observed = role::observe(&iam(&[&get, &list, &policy]), ROLE)
        .await
        .unwrap()
        .expect("a role");
    assert_eq!(
        observed.arn,
        format!("arn:aws:iam::123456789012:role/{ROLE}")
    );
    assert_eq!(
        observed.trust["Statement"][0]["Principal"]["Service"],
        json!("lambda.amazonaws.com")
    );
    assert_eq!(
        observed.policies["forwarder"]["Statement"][0]["Resource"],
        json!("arn:aws:s3:::b/AWSLogs/*")
    );
    assert_eq!(
        observed.tags.get("flowlogs:stack").map(String::as_str),
        Some("s")
    );
}

#[tokio::test]
async fn iam_throttling_is_retried() {
    let get = mock!(Client::get_role)
        .sequence()
        .http_response(|| http(400, &[], &iam_error("Throttling", "Rate exceeded")))
        .http_response(|| {
            http(
                404,
                &[],
                &iam_error("NoSuchEntity", "The role cannot be found."),
            )
        })
        .build();
    assert_eq!(role::observe(&iam(&[&get]), ROLE).await.unwrap(), None);
    assert_eq!(get.num_calls(), 2);
}

#[tokio::test]
async fn access_denied_names_the_role() {
    let get = mock!(Client::get_role).then_http_response(|| {
        http(
            403,
            &[],
            &iam_error(
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/u is not authorized to perform: iam:GetRole",
            ),
        )
    });
    let err = role::observe(&iam(&[&get]), ROLE).await.unwrap_err();
    let text = said(&err);
    assert!(text.contains(&format!("reading IAM role {ROLE}")), "{text}");
    assert!(text.contains("AccessDenied"), "{text}");
}

#[tokio::test]
async fn access_denied_on_the_inline_policies_names_the_role() {
    let get = get_role();
    let list = mock!(Client::list_role_policies).then_http_response(|| {
        http(
            403,
            &[],
            &iam_error(
                "AccessDenied",
                "not authorized to perform: iam:ListRolePolicies",
            ),
        )
    });
    let err = role::observe(&iam(&[&get, &list]), ROLE).await.unwrap_err();
    assert!(
        said(&err).contains(&format!("listing the inline policies of IAM role {ROLE}")),
        "{}",
        said(&err)
    );
}
