//! The forwarder's resource-policy statement as Lambda's GetPolicy answers it: a JSON document in
//! a string, with the source bucket and account in `ArnLike`/`StringEquals` conditions under
//! `AWS:` keys; no policy at all (404 `ResourceNotFoundException`); access denied.

use aws_sdk_lambda::operation::get_policy::GetPolicyOutput;
use aws_sdk_lambda::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, desired, http, no_calls, said};
use crate::aws::Clients;
use crate::desired::DesiredPermission;
use crate::resources::permission;

fn lambda(rules: &[&Rule]) -> Clients {
    Clients {
        lambda: client!(aws_sdk_lambda, rules),
        ..no_calls()
    }
}

fn wanted() -> DesiredPermission {
    desired().forwarder.expect("lambda mode").permission
}

/// GetPolicy's answer for a function whose policy holds one statement from `source_arn`, as Lambda
/// writes the statement AddPermission made.
fn policy_from(d: &DesiredPermission, source_arn: &str) -> GetPolicyOutput {
    let statement = serde_json::json!({
        "Sid": d.statement_id,
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": format!("arn:aws:lambda:us-east-1:123456789012:function:{}", d.function),
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": d.source_account},
            "ArnLike": {"AWS:SourceArn": source_arn}
        }
    });
    let policy =
        serde_json::json!({"Version": "2012-10-17", "Id": "default", "Statement": [statement]});
    GetPolicyOutput::builder()
        .policy(policy.to_string())
        .revision_id("3c3d-example")
        .build()
}

#[tokio::test]
async fn the_statement_as_lambda_writes_it_is_recognised_as_ours() {
    let d = wanted();
    let answer = policy_from(&d, &d.source_arn);
    let function = d.function.clone();
    let get = mock!(Client::get_policy)
        .match_requests(move |r| r.function_name() == Some(function.as_str()))
        .then_output(move || answer.clone());
    let policy = permission::observe(&lambda(&[&get]), &d.function)
        .await
        .unwrap();
    assert!(policy.is_some());
    assert_eq!(
        permission::permission_matches(&d, policy.as_ref()),
        Some(true)
    );
}

#[tokio::test]
async fn our_statement_id_with_another_bucket_as_source_is_not_ours() {
    let d = wanted();
    let answer = policy_from(&d, "arn:aws:s3:::another-bucket");
    let get = mock!(Client::get_policy).then_output(move || answer.clone());
    let policy = permission::observe(&lambda(&[&get]), &d.function)
        .await
        .unwrap();
    assert_eq!(
        permission::permission_matches(&d, policy.as_ref()),
        Some(false)
    );
}

#[tokio::test]
async fn a_function_without_a_policy_answers_404_and_has_none() {
    let get = mock!(Client::get_policy).then_http_response(|| {
        http(
            404,
            &[("x-amzn-errortype", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.awslambda/")],
            r#"{"Type":"User","Message":"The resource you requested does not exist."}"#,
        )
    });
    let d = wanted();
    let policy = permission::observe(&lambda(&[&get]), &d.function)
        .await
        .unwrap();
    assert_eq!(policy, None);
    assert_eq!(permission::permission_matches(&d, None), None);
}

#[tokio::test]
async fn access_denied_names_the_function() {
    let get = mock!(Client::get_policy).then_http_response(|| {
        http(
            403,
            &[("x-amzn-errortype", "AccessDeniedException")],
            r#"{"Message":"User: arn:aws:iam::123456789012:user/u is not authorized to perform: lambda:GetPolicy"}"#,
        )
    });
    let d = wanted();
    let err = permission::observe(&lambda(&[&get]), &d.function)
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!(
            "reading the resource policy of Lambda function {}",
            d.function
        )),
        "{text}"
    );
    assert!(text.contains("AccessDeniedException"), "{text}");
}
