//! The forwarder function's AWS edge: GetFunction's 404 `ResourceNotFoundException` (REST-JSON,
//! the type in `x-amzn-ErrorType`), the configuration read back (architecture defaulted, states),
//! Lambda's 429 throttling, access denied, and the wait for a function still Pending.

use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::types::{
    EnvironmentResponse, FunctionConfiguration, LastUpdateStatus, Runtime, State,
};
use aws_sdk_lambda::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, http, no_calls, said};
use crate::aws::Clients;
use crate::resources::function;
use crate::ui::Progress;

const FUNCTION: &str = "flowlogs-s-forwarder";

fn lambda(rules: &[&Rule]) -> Clients {
    Clients {
        lambda: client!(aws_sdk_lambda, rules),
        ..no_calls()
    }
}

fn lambda_error(
    status: u16,
    kind: &'static str,
    message: &str,
) -> aws_smithy_runtime_api::http::Response {
    http(
        status,
        &[("x-amzn-errortype", kind)],
        &format!(r#"{{"Type":"User","Message":"{message}"}}"#),
    )
}

fn configuration() -> FunctionConfiguration {
    FunctionConfiguration::builder()
        .function_name(FUNCTION)
        .function_arn(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
        ))
        .role("arn:aws:iam::123456789012:role/flowlogs-s-forwarder")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .memory_size(256)
        .timeout(60)
        .code_sha256("c2hhMjU2")
        .environment(
            EnvironmentResponse::builder()
                .variables("OTLP_ENDPOINT", "https://collector.example")
                .build(),
        )
        .state(State::Active)
        .last_update_status(LastUpdateStatus::Successful)
        .build()
}

#[tokio::test]
async fn resource_not_found_is_no_function() {
    let get = mock!(Client::get_function)
        .match_requests(|r| r.function_name() == Some(FUNCTION))
        .then_http_response(|| {
            lambda_error(
                404,
                "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.awslambda/",
                &format!("Function not found: arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"),
            )
        });
    assert_eq!(
        function::observe(&lambda(&[&get]), FUNCTION).await.unwrap(),
        None
    );
    assert_eq!(get.num_calls(), 1);
}

#[tokio::test]
async fn the_configuration_is_read_back_and_a_missing_architecture_is_x86_64() {
    // Lambda leaves `Architectures` out for functions made before arm64 existed.
    let get = mock!(Client::get_function).then_output(|| {
        GetFunctionOutput::builder()
            .configuration(configuration())
            .tags("flowlogs:stack", "s")
            .build()
    });
    let observed = function::observe(&lambda(&[&get]), FUNCTION)
        .await
        .unwrap()
        .expect("a function");
    assert_eq!(observed.architecture, "x86_64");
    assert_eq!(observed.runtime, "provided.al2023");
    assert_eq!((observed.memory_mb, observed.timeout_s), (256, 60));
    assert_eq!(observed.code_sha256, "c2hhMjU2");
    assert_eq!(
        observed
            .environment
            .get("OTLP_ENDPOINT")
            .map(String::as_str),
        Some("https://collector.example")
    );
    assert_eq!(
        observed.tags.get("flowlogs:stack").map(String::as_str),
        Some("s")
    );
    assert_eq!(observed.state, Some(State::Active));
}

#[tokio::test]
async fn lambda_too_many_requests_is_retried() {
    let get = mock!(Client::get_function)
        .sequence()
        .http_response(|| lambda_error(429, "TooManyRequestsException", "Rate exceeded"))
        .output(|| {
            GetFunctionOutput::builder()
                .configuration(configuration())
                .build()
        })
        .build();
    assert!(function::observe(&lambda(&[&get]), FUNCTION)
        .await
        .unwrap()
        .is_some());
    assert_eq!(get.num_calls(), 2);
}

#[tokio::test]
async fn access_denied_names_the_function() {
    let get = mock!(Client::get_function).then_http_response(|| {
        lambda_error(
            403,
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/u is not authorized to perform: lambda:GetFunction",
        )
    });
    let err = function::observe(&lambda(&[&get]), FUNCTION)
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!("reading Lambda function {FUNCTION}")),
        "{text}"
    );
    assert!(text.contains("AccessDeniedException"), "{text}");
}

#[tokio::test]
async fn a_pending_function_is_waited_for_until_active() {
    let states = mock!(Client::get_function_configuration)
        .sequence()
        .output(|| {
            GetFunctionConfigurationOutput::builder()
                .state(State::Pending)
                .build()
        })
        .output(|| {
            GetFunctionConfigurationOutput::builder()
                .state(State::Active)
                .last_update_status(LastUpdateStatus::Successful)
                .build()
        })
        .build();
    function::wait_until_ready(&lambda(&[&states]), FUNCTION, &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(states.num_calls(), 2);
}

#[tokio::test]
async fn a_failed_update_stops_the_wait_with_lambdas_reason() {
    let states = mock!(Client::get_function_configuration).then_output(|| {
        GetFunctionConfigurationOutput::builder()
            .state(State::Active)
            .last_update_status(LastUpdateStatus::Failed)
            .last_update_status_reason(
                "The role is not authorized to perform ec2:CreateNetworkInterface",
            )
            .build()
    });
    let err = function::wait_until_ready(&lambda(&[&states]), FUNCTION, &Progress::quiet())
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!(
            "the last update of Lambda function {FUNCTION} failed"
        )),
        "{text}"
    );
    assert!(text.contains("ec2:CreateNetworkInterface"), "{text}");
}
