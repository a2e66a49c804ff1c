//! The Firehose stream's AWS edge in teardown: a stream still being created answers DeleteDeliveryStream
//! with `ResourceInUseException` and is retried, then read until DescribeDeliveryStream says it
//! is gone; a stream already gone is fine; DELETING_FAILED stops the wait with AWS's word for it.

use aws_sdk_firehose::operation::delete_delivery_stream::DeleteDeliveryStreamOutput;
use aws_sdk_firehose::operation::describe_delivery_stream::DescribeDeliveryStreamOutput;
use aws_sdk_firehose::types::{
    DeliveryStreamDescription, DeliveryStreamStatus, DeliveryStreamType,
};
use aws_sdk_firehose::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, http, no_calls, said};
use crate::aws::Clients;
use crate::resources::stream;
use crate::ui::Progress;

const STREAM: &str = "flowlogs-s-stream";

fn firehose(rules: &[&Rule]) -> Clients {
    Clients {
        firehose: client!(aws_sdk_firehose, rules),
        ..no_calls()
    }
}

/// Firehose's JSON error (awsJson1_1: the type in `__type`).
fn firehose_error(kind: &str, message: &str) -> aws_smithy_runtime_api::http::Response {
    http(
        400,
        &[("content-type", "application/x-amz-json-1.1")],
        &format!(r#"{{"__type":"{kind}","message":"{message}"}}"#),
    )
}

fn described(status: DeliveryStreamStatus) -> DescribeDeliveryStreamOutput {
    DescribeDeliveryStreamOutput::builder()
        .delivery_stream_description(
            DeliveryStreamDescription::builder()
                .delivery_stream_name(STREAM)
                .delivery_stream_arn(format!(
                    "arn:aws:firehose:us-east-1:123456789012:deliverystream/{STREAM}"
                ))
                .delivery_stream_status(status)
                .delivery_stream_type(DeliveryStreamType::DirectPut)
                .version_id("1")
                .set_destinations(Some(vec![]))
                .has_more_destinations(false)
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn a_stream_still_creating_is_deleted_once_firehose_lets_go_and_then_awaited_until_gone() {
    let deletes = mock!(Client::delete_delivery_stream)
        .sequence()
        .http_response(|| {
            firehose_error(
                "ResourceInUseException",
                &format!("Firehose {STREAM} is not in the ACTIVE state."),
            )
        })
        .output(|| DeleteDeliveryStreamOutput::builder().build())
        .build();
    let reads = mock!(Client::describe_delivery_stream)
        .sequence()
        .output(|| described(DeliveryStreamStatus::Deleting))
        .http_response(|| {
            firehose_error(
                "ResourceNotFoundException",
                &format!("Firehose {STREAM} under account 123456789012 not found."),
            )
        })
        .build();
    stream::delete(&firehose(&[&deletes, &reads]), STREAM, &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(deletes.num_calls(), 2, "the busy delete is asked again");
    assert_eq!(
        reads.num_calls(),
        2,
        "read until DescribeDeliveryStream says it is gone"
    );
}

#[tokio::test]
async fn a_stream_already_gone_is_fine_and_a_failed_delete_names_the_stream() {
    let gone = mock!(Client::delete_delivery_stream)
        .then_http_response(|| firehose_error("ResourceNotFoundException", "not found"));
    let absent = mock!(Client::describe_delivery_stream)
        .then_http_response(|| firehose_error("ResourceNotFoundException", "not found"));
    stream::delete(&firehose(&[&gone, &absent]), STREAM, &Progress::quiet())
        .await
        .unwrap();

    let accepted = mock!(Client::delete_delivery_stream)
        .then_output(|| DeleteDeliveryStreamOutput::builder().build());
    let failed = mock!(Client::describe_delivery_stream)
        .then_output(|| described(DeliveryStreamStatus::DeletingFailed));
    let err = stream::delete(&firehose(&[&accepted, &failed]), STREAM, &Progress::quiet())
        .await
        .unwrap_err();
    assert_eq!(
        said(&err),
        format!("AWS could not delete Firehose stream {STREAM} (DELETING_FAILED)")
    );
}
