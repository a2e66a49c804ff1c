//! The failure bucket as S3 answers: HeadBucket's 404 and 403 (its policy then never read), ours
//! with its hardening and policy gone (each setting's own "never set" code, `NoSuchBucketPolicy`),
//! a refused policy read naming the bucket, and the policy written right after CreateBucket while
//! S3 still answers `NoSuchBucket`.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_sdk_s3::operation::put_bucket_policy::PutBucketPolicyOutput;
use aws_sdk_s3::types::Tag;
use aws_sdk_s3::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, desired, http, no_calls, s3_error, said, REGION};
use crate::aws::Clients;
use crate::desired::{Desired, DesiredFailureBucket};
use crate::package::CodeSource;
use crate::plan::Action;
use crate::resources::bucket::ObservedBucket;
use crate::resources::failure_bucket::{FailureBucket, ObservedFailureBucket, Op};
use crate::resources::{Apply, Made, Observe, Resource};
use crate::ui::Progress;

fn s3(rules: &[&Rule]) -> Clients {
    Clients {
        s3: client!(aws_sdk_s3, rules),
        ..no_calls()
    }
}

fn wanted(d: &Desired) -> DesiredFailureBucket {
    FailureBucket::desired(d)
        .expect("the forwarder's failure bucket")
        .clone()
}

async fn observe(clients: &Clients, d: &Desired) -> anyhow::Result<ObservedFailureBucket> {
    FailureBucket::observe(&Observe {
        clients,
        names: &d.names,
        resource_ids: &[],
    })
    .await
}

fn not_set(code: &'static str) -> impl Fn() -> aws_smithy_runtime_api::http::Response {
    move || http(404, &[], &s3_error(code, "not set"))
}

/// HeadBucket 200 in our region, our tags, and no other setting ever made.
fn ours_bare(d: &Desired) -> Vec<Rule> {
    let tags: Vec<Tag> = wanted(d)
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap())
        .collect();
    vec![
        mock!(Client::head_bucket)
            .then_output(|| HeadBucketOutput::builder().bucket_region(REGION).build()),
        mock!(Client::get_bucket_tagging).then_output(move || {
            GetBucketTaggingOutput::builder()
                .set_tag_set(Some(tags.clone()))
                .build()
                .unwrap()
        }),
        mock!(Client::get_public_access_block)
            .then_http_response(not_set("NoSuchPublicAccessBlockConfiguration")),
        mock!(Client::get_bucket_encryption)
            .then_http_response(not_set("ServerSideEncryptionConfigurationNotFoundError")),
        mock!(Client::get_bucket_lifecycle_configuration)
            .then_http_response(not_set("NoSuchLifecycleConfiguration")),
    ]
}

#[tokio::test]
async fn a_missing_bucket_is_made_with_its_policy_and_the_policy_is_never_read() {
    let d = desired();
    // HEAD answers carry no body: a 404 is a missing bucket. No GetBucketPolicy rule: a call
    // would panic.
    let head = mock!(Client::head_bucket).then_http_response(|| http(404, &[], ""));
    let observed = observe(&s3(&[&head]), &d).await.unwrap();
    assert!(matches!(observed.bucket, ObservedBucket::Missing));
    assert!(observed.policy.is_none());
    let plan = FailureBucket::plan(&d.names, &wanted(&d), &observed);
    assert_eq!(plan.steps[0].action, Action::Create);
    assert!(matches!(plan.steps[0].ops.last(), Some(Op::Policy(_))));
}

#[tokio::test]
async fn a_same_named_bucket_we_cannot_use_is_a_conflict_read_no_further() {
    let d = desired();
    let head = mock!(Client::head_bucket).then_http_response(|| http(403, &[], ""));
    let observed = observe(&s3(&[&head]), &d).await.unwrap();
    assert!(matches!(observed.bucket, ObservedBucket::NotAccessible));
    let plan = FailureBucket::plan(&d.names, &wanted(&d), &observed);
    assert!(plan.steps.is_empty());
    assert!(
        plan.conflicts[0].problem.contains("cannot use it"),
        "{plan}"
    );
    assert_eq!(head.num_calls(), 1);
}

#[tokio::test]
async fn ours_with_its_hardening_and_policy_gone_is_restored() {
    let d = desired();
    let mut rules = ours_bare(&d);
    rules.push(mock!(Client::get_bucket_policy).then_http_response(|| {
        http(
            404,
            &[],
            &s3_error("NoSuchBucketPolicy", "The bucket policy does not exist"),
        )
    }));
    let observed = observe(&s3(&rules.iter().collect::<Vec<_>>()), &d)
        .await
        .unwrap();
    assert!(matches!(observed.bucket, ObservedBucket::Present(_)));
    assert!(observed.policy.is_none());
    let plan = FailureBucket::plan(&d.names, &wanted(&d), &observed);
    assert!(plan.conflicts.is_empty(), "{plan}");
    let step = &plan.steps[0];
    assert_eq!(step.action, Action::Update);
    let fields: Vec<&str> = step.changes.iter().map(|c| c.field.as_str()).collect();
    assert!(
        fields.contains(&"policy") && fields.contains(&"encryption"),
        "{fields:?}"
    );
    assert!(matches!(step.ops.last(), Some(Op::Policy(_))));
}

#[tokio::test]
async fn a_refused_policy_read_names_the_bucket() {
    let d = desired();
    let mut rules = ours_bare(&d);
    rules.push(
        mock!(Client::get_bucket_policy)
            .then_http_response(|| http(403, &[], &s3_error("AccessDenied", "Access Denied"))),
    );
    let err = observe(&s3(&rules.iter().collect::<Vec<_>>()), &d)
        .await
        .unwrap_err();
    assert!(
        said(&err).contains(&format!(
            "reading the policy of bucket {}",
            d.names.failure_bucket
        )) && said(&err).contains("AccessDenied"),
        "{}",
        said(&err)
    );
}

#[tokio::test]
async fn the_policy_of_a_bucket_just_made_waits_out_no_such_bucket() {
    // Right after CreateBucket S3 may answer NoSuchBucket for about a minute (AWS-FACTS.md): the
    // policy's read and write each wait (1 s here), and the TLS-only deny is written.
    let d = desired();
    let plan = FailureBucket::plan(&d.names, &wanted(&d), &ObservedFailureBucket::default());
    let Some(op @ Op::Policy(_)) = plan.steps[0].ops.last() else {
        panic!("{plan}")
    };
    let no_such_bucket = || {
        http(
            404,
            &[],
            &s3_error("NoSuchBucket", "The specified bucket does not exist"),
        )
    };
    let get = mock!(Client::get_bucket_policy)
        .sequence()
        .http_response(no_such_bucket)
        .http_response(|| {
            http(
                404,
                &[],
                &s3_error("NoSuchBucketPolicy", "The bucket policy does not exist"),
            )
        })
        .build();
    let written = Arc::new(Mutex::new(Vec::new()));
    let record = written.clone();
    // Once NoSuchBucket (a sequence of one, then exhausted), then the recording answer.
    let put_early = mock!(Client::put_bucket_policy)
        .sequence()
        .http_response(no_such_bucket)
        .build();
    let put = mock!(Client::put_bucket_policy).then_compute_output(move |r| {
        record.lock().unwrap().push(r.policy().unwrap().to_string());
        PutBucketPolicyOutput::builder().build()
    });
    let clients = s3(&[&get, &put_early, &put]);
    FailureBucket::apply(
        &Apply {
            clients: &clients,
            code: &CodeSource::none(),
            progress: &Progress::quiet(),
            made: Made::default(),
        },
        op,
    )
    .await
    .unwrap();
    assert_eq!(
        (get.num_calls(), put_early.num_calls(), put.num_calls()),
        (2, 1, 1)
    );
    let policy: serde_json::Value = serde_json::from_str(&written.lock().unwrap()[0]).unwrap();
    assert_eq!(
        policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
}
