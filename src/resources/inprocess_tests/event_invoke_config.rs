//! The forwarder's asynchronous-invocation settings as Lambda answers them: no function yet (the
//! settings are not asked for), no settings (404 `ResourceNotFoundException`: Lambda's defaults),
//! the settings read back, and a function of someone else's.

use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::operation::get_function_event_invoke_config::GetFunctionEventInvokeConfigOutput;
use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
use aws_sdk_lambda::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, desired, http, no_calls, said};
use crate::aws::Clients;
use crate::resources::event_invoke_config;

fn lambda(rules: &[&Rule]) -> Clients {
    Clients {
        lambda: client!(aws_sdk_lambda, rules),
        ..no_calls()
    }
}

fn not_found() -> aws_smithy_runtime_api::http::Response {
    http(
        404,
        &[("x-amzn-errortype", "ResourceNotFoundException")],
        r#"{"Type":"User","Message":"The function doesn't have an EventInvokeConfig"}"#,
    )
}

fn function_tagged(stack: &'static str) -> Rule {
    mock!(Client::get_function).then_output(move || {
        GetFunctionOutput::builder()
            .tags("flowlogs:stack", stack)
            .build()
    })
}

#[tokio::test]
async fn no_function_yet_is_nothing_and_the_settings_are_not_asked_for() {
    let get = mock!(Client::get_function).then_http_response(not_found);
    let observed = event_invoke_config::observe(&lambda(&[&get]), &desired().names)
        .await
        .unwrap();
    assert!(observed.is_none());
}

#[tokio::test]
async fn no_settings_are_lambdas_defaults() {
    let get = function_tagged("s");
    let settings = mock!(Client::get_function_event_invoke_config).then_http_response(not_found);
    let observed = event_invoke_config::observe(&lambda(&[&get, &settings]), &desired().names)
        .await
        .unwrap()
        .expect("the function's");
    assert!(observed.function_ours);
    assert!(observed.current.is_none());
    assert_eq!(settings.num_calls(), 1);
}

#[tokio::test]
async fn the_settings_are_read_back_with_their_destination() {
    let get = function_tagged("other-stack");
    let settings = mock!(Client::get_function_event_invoke_config).then_output(|| {
        GetFunctionEventInvokeConfigOutput::builder()
            .maximum_retry_attempts(1)
            .maximum_event_age_in_seconds(3600)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(
                        OnFailure::builder()
                            .destination("arn:aws:s3:::s-failures-123456789012-us-east-1")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let observed = event_invoke_config::observe(&lambda(&[&get, &settings]), &desired().names)
        .await
        .unwrap()
        .expect("the function's");
    assert!(!observed.function_ours);
    let current = observed.current.expect("settings");
    assert_eq!(current.max_retry_attempts, Some(1));
    assert_eq!(current.max_event_age_s, Some(3600));
    assert_eq!(
        current.on_failure_destination.as_deref(),
        Some("arn:aws:s3:::s-failures-123456789012-us-east-1")
    );
}

#[tokio::test]
async fn access_denied_on_the_settings_names_the_function() {
    let get = function_tagged("s");
    let settings = mock!(Client::get_function_event_invoke_config).then_http_response(|| {
        http(
            403,
            &[("x-amzn-errortype", "AccessDeniedException")],
            r#"{"Message":"not authorized to perform: lambda:GetFunctionEventInvokeConfig"}"#,
        )
    });
    let names = desired().names;
    let err = event_invoke_config::observe(&lambda(&[&get, &settings]), &names)
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!(
            "reading the asynchronous invocation settings of Lambda function {}",
            names.function
        )),
        "{text}"
    );
}
