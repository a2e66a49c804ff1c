//! The stack's secret as Secrets Manager answers it: not found (JSON 1.1 `__type`), a secret still
//! shown with `DeletedDate` during its background deletion, `VersionIdsToStages` listing labelled
//! versions only (unlabelled ones come from ListSecretVersionIds, paged), and a foreign secret
//! whose value is never read.

use std::collections::HashMap;

use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::operation::list_secret_version_ids::ListSecretVersionIdsOutput;
use aws_sdk_secretsmanager::types::{SecretVersionsListEntry, Tag};
use aws_sdk_secretsmanager::Client;
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::DateTime;

use super::{client, desired, http, no_calls, said};
use crate::aws::Clients;
use crate::desired::Names;
use crate::resources::secret;

fn secrets(rules: &[&Rule]) -> Clients {
    Clients {
        secrets: client!(aws_sdk_secretsmanager, rules),
        ..no_calls()
    }
}

fn names() -> Names {
    desired().names
}

fn described(
    stack: &str,
) -> aws_sdk_secretsmanager::operation::describe_secret::builders::DescribeSecretOutputBuilder {
    let name = names().secret;
    DescribeSecretOutput::builder()
        .name(&name)
        .arn(format!(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf"
        ))
        .tags(Tag::builder().key("flowlogs:stack").value(stack).build())
        // labelled versions only, as AWS lists them
        .set_version_ids_to_stages(Some(HashMap::from([(
            "v2".to_string(),
            vec!["AWSCURRENT".to_string()],
        )])))
}

#[tokio::test]
async fn resource_not_found_is_no_secret() {
    let describe = mock!(Client::describe_secret).then_http_response(|| {
        http(
            400,
            &[],
            r#"{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}"#,
        )
    });
    assert_eq!(
        secret::observe(&secrets(&[&describe]), &names())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_secret_being_deleted_in_the_background_is_gone() {
    // After DeleteSecret with ForceDeleteWithoutRecovery AWS still describes the secret, with
    // DeletedDate, for a while (AWS-FACTS.md "Secrets Manager"): nothing else is read of it.
    let describe = mock!(Client::describe_secret).then_output(|| {
        described("s")
            .deleted_date(DateTime::from_secs(1_700_000_000))
            .build()
    });
    assert_eq!(
        secret::observe(&secrets(&[&describe]), &names())
            .await
            .unwrap(),
        None
    );
    assert_eq!(describe.num_calls(), 1);
}

#[tokio::test]
async fn our_secret_lists_unlabelled_versions_from_every_page() {
    let describe = mock!(Client::describe_secret).then_output(|| described("s").build());
    let page_1 = mock!(Client::list_secret_version_ids)
        .match_requests(|r| r.include_deprecated() == Some(true) && r.next_token().is_none())
        .then_output(|| {
            ListSecretVersionIdsOutput::builder()
                .versions(
                    SecretVersionsListEntry::builder()
                        .version_id("v2")
                        .version_stages("AWSCURRENT")
                        .build(),
                )
                .next_token("more")
                .build()
        });
    let page_2 = mock!(Client::list_secret_version_ids)
        .match_requests(|r| r.next_token() == Some("more"))
        .then_output(|| {
            ListSecretVersionIdsOutput::builder()
                // an unlabelled version: DescribeSecret does not show it
                .versions(SecretVersionsListEntry::builder().version_id("v1").build())
                .build()
        });
    let value = mock!(Client::get_secret_value).then_output(|| {
        GetSecretValueOutput::builder()
            .secret_string(r#"{"x-api-key":"the-value"}"#)
            .build()
    });
    let observed = secret::observe(&secrets(&[&describe, &page_1, &page_2, &value]), &names())
        .await
        .unwrap()
        .expect("a secret");
    assert_eq!(observed.current_version.as_deref(), Some("v2"));
    assert_eq!(observed.versions, ["v1", "v2"]);
    assert!(observed.value.is_some());
    assert_eq!((page_1.num_calls(), page_2.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_foreign_secret_of_the_same_name_is_never_read() {
    // Only the clients' panics on unexpected calls stand between this test and a read of the
    // value: no ListSecretVersionIds, no GetSecretValue.
    let describe = mock!(Client::describe_secret).then_output(|| described("other-stack").build());
    let observed = secret::observe(&secrets(&[&describe]), &names())
        .await
        .unwrap()
        .expect("a secret");
    assert_eq!(observed.value, None);
    assert_eq!(observed.versions, ["v2"]);
}

#[tokio::test]
async fn a_refused_value_read_names_the_secret_and_says_the_value_is_never_shown() {
    let describe = mock!(Client::describe_secret).then_output(|| described("s").build());
    let list = mock!(Client::list_secret_version_ids)
        .then_output(|| ListSecretVersionIdsOutput::builder().build());
    let value = mock!(Client::get_secret_value).then_http_response(|| {
        http(
            400,
            &[],
            r#"{"__type":"AccessDeniedException","Message":"User is not authorized to perform: secretsmanager:GetSecretValue"}"#,
        )
    });
    let err = secret::observe(&secrets(&[&describe, &list, &value]), &names())
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!("reading the value of secret {}", names().secret)),
        "{text}"
    );
    assert!(text.contains("it is never shown"), "{text}");
}
