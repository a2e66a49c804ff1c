//! The bucket's S3 notification entry against S3's answers: a bucket not there yet (404
//! `NoSuchBucket`), every kind of entry read back with the capitalised filter names S3 sends, the
//! read-modify-write that keeps everyone else's entries and the EventBridge switch, the
//! destination-validation refusal (400 `InvalidArgument`) retried until S3 can validate, a new
//! bucket's `NoSuchBucket` on the read, and refusals that are not waited on.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::operation::put_bucket_notification_configuration::PutBucketNotificationConfigurationOutput;
use aws_sdk_s3::types::{
    Event, EventBridgeConfiguration, LambdaFunctionConfiguration, NotificationConfiguration,
    QueueConfiguration, TopicConfiguration,
};
use aws_sdk_s3::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, desired, http, no_calls, s3_error, said};
use crate::aws::Clients;
use crate::desired::DesiredNotification;
use crate::resources::notification::{self, Notification};
use crate::resources::Resource;
use crate::ui::Progress;

fn s3(rules: &[&Rule]) -> Clients {
    Clients {
        s3: client!(aws_sdk_s3, rules),
        ..no_calls()
    }
}

fn ours() -> DesiredNotification {
    Notification::desired(&desired())
        .expect("the S3 notification trigger is the default")
        .clone()
}

/// S3's 404 for a bucket that is not there (or not yet visible after CreateBucket).
fn no_such_bucket() -> aws_smithy_runtime_api::http::Response {
    http(
        404,
        &[],
        &s3_error("NoSuchBucket", "The specified bucket does not exist"),
    )
}

/// S3's 400 when the test notification to a destination fails (AWS-FACTS.md "S3 notifications").
fn cannot_validate() -> aws_smithy_runtime_api::http::Response {
    http(
        400,
        &[],
        &s3_error(
            "InvalidArgument",
            "Unable to validate the following destination configurations",
        ),
    )
}

/// A configuration with an entry of each kind that is not ours, and S3's EventBridge switch.
fn theirs() -> GetBucketNotificationConfigurationOutput {
    GetBucketNotificationConfigurationOutput::builder()
        .lambda_function_configurations(
            LambdaFunctionConfiguration::builder()
                .id("their-function")
                .lambda_function_arn("arn:aws:lambda:us-east-1:123456789012:function:theirs")
                .events(Event::from("s3:ObjectRemoved:*"))
                .build()
                .unwrap(),
        )
        .queue_configurations(
            QueueConfiguration::builder()
                .id("their-queue")
                .queue_arn("arn:aws:sqs:us-east-1:123456789012:q")
                .events(Event::from("s3:ObjectRemoved:*"))
                .build()
                .unwrap(),
        )
        .topic_configurations(
            TopicConfiguration::builder()
                .id("their-topic")
                .topic_arn("arn:aws:sns:us-east-1:123456789012:t")
                .events(Event::from("s3:ObjectRestore:Completed"))
                .build()
                .unwrap(),
        )
        .event_bridge_configuration(EventBridgeConfiguration::builder().build())
        .build()
}

/// `notification::write` of `d`'s entry in `d`'s bucket (`wanted`: ours to keep, or none to take
/// it out), with S3 answering from `get` and `put`.
async fn write(
    get: &Rule,
    put: &Rule,
    d: &DesiredNotification,
    wanted: Option<&DesiredNotification>,
) -> anyhow::Result<()> {
    notification::write(
        &s3(&[get, put]),
        &d.bucket,
        &d.id,
        wanted,
        &Progress::quiet(),
    )
    .await
}

/// The configurations PutBucketNotificationConfiguration was sent by a `write` that succeeded.
async fn written(
    get: &Rule,
    d: &DesiredNotification,
    wanted: Option<&DesiredNotification>,
) -> Vec<NotificationConfiguration> {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let kept = sent.clone();
    let put = mock!(Client::put_bucket_notification_configuration).then_compute_output(move |r| {
        kept.lock()
            .unwrap()
            .push(r.notification_configuration().unwrap().clone());
        PutBucketNotificationConfigurationOutput::builder().build()
    });
    write(get, &put, d, wanted).await.unwrap();
    let configs = sent.lock().unwrap().clone();
    configs
}

fn ids(config: &NotificationConfiguration) -> Vec<String> {
    notification::destinations(config, "-")
}

#[tokio::test]
async fn a_bucket_not_there_has_no_entries() {
    let d = ours();
    let get =
        mock!(Client::get_bucket_notification_configuration).then_http_response(no_such_bucket);
    let entries = notification::observe(&s3(&[&get]), &d.bucket)
        .await
        .unwrap();
    assert!(entries.is_empty(), "{entries:?}");
    // ... so the plan creates our entry.
    let plan = notification::plan(&d, &entries);
    assert_eq!(plan.steps.len(), 1, "{plan}");
}

#[tokio::test]
async fn entries_of_every_kind_are_read_with_the_filter_names_s3_sends() {
    // S3 writes `Prefix`/`Suffix` with a capital (AWS-FACTS.md), and the value as the encoded key.
    let d = ours();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CloudFunctionConfiguration><Id>{id}</Id><CloudFunction>{arn}</CloudFunction>{events}<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>{prefix}</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>{suffix}</Value></FilterRule></S3Key></Filter></CloudFunctionConfiguration><QueueConfiguration><Id>their-queue</Id><Queue>arn:aws:sqs:us-east-1:123456789012:q</Queue><Event>s3:ObjectRemoved:*</Event></QueueConfiguration><TopicConfiguration><Id>their-topic</Id><Topic>arn:aws:sns:us-east-1:123456789012:t</Topic><Event>s3:ObjectRestore:Completed</Event><Filter><S3Key><FilterRule><Name>Suffix</Name><Value>.json</Value></FilterRule></S3Key></Filter></TopicConfiguration></NotificationConfiguration>"#,
        id = d.id,
        arn = d.function_arn,
        events = d
            .events
            .iter()
            .map(|e| format!("<Event>{e}</Event>"))
            .collect::<String>(),
        prefix = d.prefix,
        suffix = d.suffix,
    );
    let get = mock!(Client::get_bucket_notification_configuration)
        .then_http_response(move || http(200, &[("content-type", "application/xml")], &body));
    let entries = notification::observe(&s3(&[&get]), &d.bucket)
        .await
        .unwrap();
    let kinds: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.kind, e.id.as_str(), e.suffix.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("lambda", d.id.as_str(), d.suffix.as_str()),
            ("queue", "their-queue", ""),
            ("topic", "their-topic", ".json"),
        ]
    );
    // Ours as S3 returns it is in sync, and the foreign entries do not overlap it.
    let plan = notification::plan(&d, &entries);
    assert!(plan.steps.is_empty() && plan.conflicts.is_empty(), "{plan}");
    assert_eq!(plan.in_sync.len(), 1);
}

#[tokio::test]
async fn reading_refused_names_the_bucket() {
    let d = ours();
    let get = mock!(Client::get_bucket_notification_configuration)
        .then_http_response(|| http(403, &[], &s3_error("AccessDenied", "Access Denied")));
    let err = notification::observe(&s3(&[&get]), &d.bucket)
        .await
        .unwrap_err();
    assert!(
        said(&err).contains(&format!(
            "reading the event notifications of bucket {}",
            d.bucket
        )),
        "{}",
        said(&err)
    );
    assert_eq!(get.num_calls(), 1);
}

#[tokio::test]
async fn our_entry_is_written_beside_everyone_elses_and_the_eventbridge_switch() {
    let d = ours();
    let get = mock!(Client::get_bucket_notification_configuration).then_output(theirs);
    let sent = written(&get, &d, Some(&d)).await;
    let config = &sent[0];
    assert_eq!(
        ids(config),
        [
            "function arn:aws:lambda:us-east-1:123456789012:function:theirs (entry `their-function`)".to_string(),
            format!("function {} (entry `{}`)", d.function_arn, d.id),
            "queue arn:aws:sqs:us-east-1:123456789012:q (entry `their-queue`)".to_string(),
            "topic arn:aws:sns:us-east-1:123456789012:t (entry `their-topic`)".to_string(),
        ]
    );
    assert!(config.event_bridge_configuration().is_some());
    // Our filter is sent with the names as the API model spells them, the values as S3 matches.
    let mine = &config.lambda_function_configurations()[1];
    assert_eq!(
        notification::filter_value(mine.filter(), "prefix"),
        d.prefix
    );
    assert_eq!(
        notification::filter_value(mine.filter(), "suffix"),
        d.suffix
    );
}

#[tokio::test]
async fn teardown_takes_out_our_entry_only() {
    let d = ours();
    let mut current = theirs();
    current.lambda_function_configurations = Some(vec![
        current.lambda_function_configurations()[0].clone(),
        LambdaFunctionConfiguration::builder()
            .id(&d.id)
            .lambda_function_arn(&d.function_arn)
            .set_events(Some(
                d.events.iter().map(|e| Event::from(e.as_str())).collect(),
            ))
            .build()
            .unwrap(),
    ]);
    let get =
        mock!(Client::get_bucket_notification_configuration).then_output(move || current.clone());
    let sent = written(&get, &d, None).await;
    assert_eq!(
        ids(&sent[0]),
        [
            "function arn:aws:lambda:us-east-1:123456789012:function:theirs (entry `their-function`)",
            "queue arn:aws:sqs:us-east-1:123456789012:q (entry `their-queue`)",
            "topic arn:aws:sns:us-east-1:123456789012:t (entry `their-topic`)",
        ]
    );
    assert!(sent[0].event_bridge_configuration().is_some());
}

#[tokio::test]
async fn a_destination_s3_cannot_validate_yet_is_waited_for() {
    // Right after AddPermission, S3's test notification to the function can fail for a while:
    // the write is retried (1 s here) and succeeds.
    let d = ours();
    let get = mock!(Client::get_bucket_notification_configuration).then_output(theirs);
    let put = mock!(Client::put_bucket_notification_configuration)
        .sequence()
        .http_response(cannot_validate)
        .output(|| PutBucketNotificationConfigurationOutput::builder().build())
        .build();
    write(&get, &put, &d, Some(&d)).await.unwrap();
    assert_eq!(put.num_calls(), 2);
    assert_eq!(get.num_calls(), 1);
}

#[tokio::test]
async fn a_new_buckets_no_such_bucket_on_the_read_is_waited_for() {
    let d = ours();
    let get = mock!(Client::get_bucket_notification_configuration)
        .sequence()
        .http_response(no_such_bucket)
        .output(|| GetBucketNotificationConfigurationOutput::builder().build())
        .build();
    let sent = written(&get, &d, Some(&d)).await;
    assert_eq!(get.num_calls(), 2);
    assert_eq!(
        ids(&sent[0]),
        [format!("function {} (entry `{}`)", d.function_arn, d.id)]
    );
}

#[tokio::test]
async fn a_write_refused_for_another_reason_is_not_waited_on_and_names_the_bucket() {
    let d = ours();
    let get = mock!(Client::get_bucket_notification_configuration).then_output(theirs);
    let put = mock!(Client::put_bucket_notification_configuration)
        .then_http_response(|| http(403, &[], &s3_error("AccessDenied", "Access Denied")));
    let err = write(&get, &put, &d, Some(&d)).await.unwrap_err();
    assert_eq!(put.num_calls(), 1);
    assert!(
        said(&err).contains(&format!(
            "writing the event notifications of bucket {}",
            d.bucket
        )) && said(&err).contains("AccessDenied"),
        "{}",
        said(&err)
    );
}
