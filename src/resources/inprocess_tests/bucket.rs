//! The log bucket's AWS edge: HeadBucket's three ways of saying "not yours to use" (404, 403, 301
//! with the bucket's region), the five "setting never made" codes, S3 throttling, a new bucket's
//! `NoSuchBucket` window, and teardown's emptying (paged listings, DeleteObjects' 200 with errors,
//! `BucketNotEmpty` from a late flow-log file).

use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::delete_bucket::DeleteBucketOutput;
use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
use aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockOutput;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
use aws_sdk_s3::operation::put_bucket_tagging::PutBucketTaggingOutput;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    ObjectVersion, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag,
};
use aws_sdk_s3::Client;
use aws_smithy_mocks::{mock, Rule};

use super::{client, http, no_calls, s3_error, said, REGION};
use crate::aws::Clients;
use crate::resources::bucket::{self, ObservedBucket, LIFECYCLE_RULE_ID};
use crate::ui::Progress;

const BUCKET: &str = "flowlogs-s-123456789012-us-east-1";

fn s3(rules: &[&Rule]) -> Clients {
    Clients {
        s3: client!(aws_sdk_s3, rules),
        ..no_calls()
    }
}

fn head_here() -> Rule {
    mock!(Client::head_bucket)
        .match_requests(|r| r.bucket() == Some(BUCKET))
        .then_output(|| HeadBucketOutput::builder().bucket_region(REGION).build())
}

/// S3's "never set" answer for each of the four settings observe reads after HeadBucket.
fn nothing_set() -> [Rule; 4] {
    [
        mock!(Client::get_bucket_tagging).then_http_response(|| {
            http(
                404,
                &[],
                &s3_error("NoSuchTagSet", "The TagSet does not exist"),
            )
        }),
        mock!(Client::get_public_access_block).then_http_response(|| {
            http(
                404,
                &[],
                &s3_error(
                    "NoSuchPublicAccessBlockConfiguration",
                    "The public access block configuration was not found",
                ),
            )
        }),
        mock!(Client::get_bucket_encryption).then_http_response(|| {
            http(
                404,
                &[],
                &s3_error(
                    "ServerSideEncryptionConfigurationNotFoundError",
                    "The server side encryption configuration was not found",
                ),
            )
        }),
        mock!(Client::get_bucket_lifecycle_configuration).then_http_response(|| {
            http(
                404,
                &[],
                &s3_error(
                    "NoSuchLifecycleConfiguration",
                    "The lifecycle configuration does not exist",
                ),
            )
        }),
    ]
}

#[tokio::test]
async fn a_404_head_is_a_missing_bucket_and_nothing_else_is_read() {
    // HEAD answers carry no body: the SDK tells NotFound from the status alone.
    let head = mock!(Client::head_bucket).then_http_response(|| http(404, &[], ""));
    let observed = bucket::observe(&s3(&[&head]), BUCKET).await.unwrap();
    assert!(matches!(observed, ObservedBucket::Missing), "{observed:?}");
    assert_eq!(head.num_calls(), 1);
}

#[tokio::test]
async fn a_403_head_is_someone_elses_bucket() {
    let head = mock!(Client::head_bucket).then_http_response(|| http(403, &[], ""));
    let observed = bucket::observe(&s3(&[&head]), BUCKET).await.unwrap();
    assert!(
        matches!(observed, ObservedBucket::NotAccessible),
        "{observed:?}"
    );
}

#[tokio::test]
async fn a_301_head_names_the_region_the_bucket_is_in() {
    // S3 answers a HeadBucket sent to the wrong region with 301 and `x-amz-bucket-region`.
    let head = mock!(Client::head_bucket)
        .then_http_response(|| http(301, &[("x-amz-bucket-region", "eu-west-1")], ""));
    let observed = bucket::observe(&s3(&[&head]), BUCKET).await.unwrap();
    assert!(
        matches!(&observed, ObservedBucket::OtherRegion(r) if r == "eu-west-1"),
        "{observed:?}"
    );
}

#[tokio::test]
async fn a_200_head_from_another_region_is_that_region_too() {
    let head = mock!(Client::head_bucket)
        .then_http_response(|| http(200, &[("x-amz-bucket-region", "ap-southeast-2")], ""));
    let observed = bucket::observe(&s3(&[&head]), BUCKET).await.unwrap();
    assert!(
        matches!(&observed, ObservedBucket::OtherRegion(r) if r == "ap-southeast-2"),
        "{observed:?}"
    );
}

#[tokio::test]
async fn a_bare_bucket_answers_each_setting_with_its_own_not_found_code() {
    let [tags, block, encryption, lifecycle] = nothing_set();
    let head = head_here();
    let clients = s3(&[&head, &tags, &block, &encryption, &lifecycle]);
    let ObservedBucket::Present(state) = bucket::observe(&clients, BUCKET).await.unwrap() else {
        panic!("a bucket that answers HeadBucket is present");
    };
    assert!(state.tags.is_empty());
    assert!(!state.public_access_blocked);
    assert_eq!(state.encryption, None);
    assert_eq!(state.kms_master_key_id, None);
    assert_eq!(state.retention, None);
    for rule in [&head, &tags, &block, &encryption, &lifecycle] {
        assert_eq!(rule.num_calls(), 1);
    }
}

#[tokio::test]
async fn a_hardened_bucket_is_read_back_setting_by_setting() {
    let head = head_here();
    let tags = mock!(Client::get_bucket_tagging).then_output(|| {
        GetBucketTaggingOutput::builder()
            .tag_set(
                Tag::builder()
                    .key("flowlogs:stack")
                    .value("s")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    });
    let block = mock!(Client::get_public_access_block).then_output(|| {
        GetPublicAccessBlockOutput::builder()
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .build()
    });
    let encryption = mock!(Client::get_bucket_encryption).then_output(|| {
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id("arn:aws:kms:us-east-1:123456789012:key/k")
            .build()
            .unwrap();
        GetBucketEncryptionOutput::builder()
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(default)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let lifecycle = mock!(Client::get_bucket_lifecycle_configuration).then_output(|| {
        let rule = |id: &str, status, days| {
            LifecycleRule::builder()
                .id(id)
                .status(status)
                .expiration(LifecycleExpiration::builder().days(days).build())
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(7)
                        .build(),
                )
                .build()
                .unwrap()
        };
        GetBucketLifecycleConfigurationOutput::builder()
            // a rule of the user's comes first; ours is found by its id
            .rules(rule("theirs", ExpirationStatus::Enabled, 3))
            .rules(rule(LIFECYCLE_RULE_ID, ExpirationStatus::Enabled, 30))
            .build()
    });
    let clients = s3(&[&head, &tags, &block, &encryption, &lifecycle]);
    let ObservedBucket::Present(state) = bucket::observe(&clients, BUCKET).await.unwrap() else {
        panic!("present");
    };
    assert_eq!(
        state.tags.get("flowlogs:stack").map(String::as_str),
        Some("s")
    );
    assert!(state.public_access_blocked);
    assert_eq!(state.encryption.as_deref(), Some("aws:kms"));
    assert_eq!(
        state.kms_master_key_id.as_deref(),
        Some("arn:aws:kms:us-east-1:123456789012:key/k")
    );
    assert_eq!(state.retention, Some((30, 7)));
}

#[tokio::test]
async fn a_disabled_retention_rule_of_ours_is_no_retention() {
    let head = head_here();
    let [tags, block, encryption, _] = nothing_set();
    let lifecycle = mock!(Client::get_bucket_lifecycle_configuration).then_output(|| {
        GetBucketLifecycleConfigurationOutput::builder()
            .rules(
                LifecycleRule::builder()
                    .id(LIFECYCLE_RULE_ID)
                    .status(ExpirationStatus::Disabled)
                    .expiration(LifecycleExpiration::builder().days(30).build())
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let clients = s3(&[&head, &tags, &block, &encryption, &lifecycle]);
    let ObservedBucket::Present(state) = bucket::observe(&clients, BUCKET).await.unwrap() else {
        panic!("present");
    };
    assert_eq!(state.retention, None);
}

#[tokio::test]
async fn access_denied_on_a_setting_names_the_bucket_and_what_was_read() {
    let head = head_here();
    let tags = mock!(Client::get_bucket_tagging)
        .then_http_response(|| http(403, &[], &s3_error("AccessDenied", "Access Denied")));
    let err = bucket::observe(&s3(&[&head, &tags]), BUCKET)
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(
        text.contains(&format!("reading the tags of bucket {BUCKET}")),
        "{text}"
    );
    assert!(text.contains("AccessDenied"), "{text}");
}

#[tokio::test]
async fn s3_slow_down_is_retried_by_the_sdk() {
    let head = head_here();
    let [_, block, encryption, lifecycle] = nothing_set();
    let tags = mock!(Client::get_bucket_tagging)
        .sequence()
        .http_response(|| {
            http(
                503,
                &[],
                &s3_error("SlowDown", "Please reduce your request rate."),
            )
        })
        .times(2)
        .output(|| {
            GetBucketTaggingOutput::builder()
                .tag_set(Tag::builder().key("k").value("v").build().unwrap())
                .build()
                .unwrap()
        })
        .build();
    let clients = s3(&[&head, &tags, &block, &encryption, &lifecycle]);
    let ObservedBucket::Present(state) = bucket::observe(&clients, BUCKET).await.unwrap() else {
        panic!("present");
    };
    assert_eq!(state.tags.len(), 1);
    assert_eq!(tags.num_calls(), 3);
}

#[tokio::test]
async fn throttling_past_the_sdks_attempts_is_an_error_naming_the_bucket() {
    let head = mock!(Client::head_bucket)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    let err = bucket::observe(&s3(&[&head]), BUCKET).await.unwrap_err();
    assert!(
        said(&err).contains(&format!(
            "checking whether bucket {BUCKET} exists (s3:HeadBucket)"
        )),
        "{}",
        said(&err)
    );
    // standard retry mode: three attempts in all
    assert_eq!(head.num_calls(), 3);
}

#[tokio::test]
async fn a_new_bucket_answering_no_such_bucket_is_waited_for() {
    // Right after CreateBucket, S3 may answer NoSuchBucket for about a minute (AWS-FACTS.md,
    // "New bucket"): tagging waits (1 s here) and succeeds.
    let put = mock!(Client::put_bucket_tagging)
        .sequence()
        .http_response(|| {
            http(
                404,
                &[],
                &s3_error("NoSuchBucket", "The specified bucket does not exist"),
            )
        })
        .output(|| PutBucketTaggingOutput::builder().build())
        .build();
    let wanted = crate::aws::tags::from_pairs([("flowlogs:stack", "s")]);
    bucket::tag(&s3(&[&put]), BUCKET, &wanted, &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(put.num_calls(), 2);
}

#[tokio::test]
async fn tagging_refused_is_not_waited_on_and_names_the_bucket() {
    let put = mock!(Client::put_bucket_tagging)
        .then_http_response(|| http(403, &[], &s3_error("AccessDenied", "Access Denied")));
    let wanted = crate::aws::tags::from_pairs([("flowlogs:stack", "s")]);
    let err = bucket::tag(&s3(&[&put]), BUCKET, &wanted, &Progress::quiet())
        .await
        .unwrap_err();
    assert!(
        said(&err).contains(&format!("tagging bucket {BUCKET}")),
        "{}",
        said(&err)
    );
    assert_eq!(put.num_calls(), 1);
}

fn version(key: &str, id: &str) -> ObjectVersion {
    ObjectVersion::builder().key(key).version_id(id).build()
}

/// A DeleteObjects that records the keys it was asked to delete and deletes them all.
fn recording_delete(deleted: &Arc<Mutex<Vec<String>>>) -> Rule {
    let deleted = deleted.clone();
    mock!(Client::delete_objects).then_compute_output(move |req| {
        let mut d = deleted.lock().unwrap();
        for o in req.delete().map(|d| d.objects()).unwrap_or_default() {
            d.push(o.key().to_string());
        }
        DeleteObjectsOutput::builder().build()
    })
}

#[tokio::test]
async fn teardown_empties_every_page_of_versions_then_deletes_the_bucket() {
    let first = mock!(Client::list_object_versions)
        .match_requests(|r| r.key_marker().is_none())
        .then_output(|| {
            ListObjectVersionsOutput::builder()
                .versions(version("AWSLogs/a.gz", "v1"))
                .versions(version("AWSLogs/b.gz", "v1"))
                .is_truncated(true)
                .next_key_marker("AWSLogs/b.gz")
                .next_version_id_marker("v1")
                .build()
        });
    let second = mock!(Client::list_object_versions)
        .match_requests(|r| {
            r.key_marker() == Some("AWSLogs/b.gz") && r.version_id_marker() == Some("v1")
        })
        .then_output(|| {
            ListObjectVersionsOutput::builder()
                .versions(version("AWSLogs/c.gz", "v2"))
                .is_truncated(false)
                .build()
        });
    let deleted = Arc::new(Mutex::new(Vec::new()));
    let delete = recording_delete(&deleted);
    let drop_bucket = mock!(Client::delete_bucket)
        .match_requests(|r| r.bucket() == Some(BUCKET))
        .then_output(|| DeleteBucketOutput::builder().build());
    let clients = s3(&[&first, &second, &delete, &drop_bucket]);
    bucket::delete_with_objects(&clients, BUCKET, &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(
        *deleted.lock().unwrap(),
        ["AWSLogs/a.gz", "AWSLogs/b.gz", "AWSLogs/c.gz"]
    );
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    assert_eq!(delete.num_calls(), 2);
    assert_eq!(drop_bucket.num_calls(), 1);
}

#[tokio::test]
async fn objects_deletes_refused_in_a_200_answer_stop_teardown_naming_them_and_the_fix() {
    // DeleteObjects answers 200 with an Errors list for what it could not delete (AWS-FACTS.md,
    // "Deleting"): S3 did not fail the call, the objects are still there.
    let list = mock!(Client::list_object_versions).then_output(|| {
        ListObjectVersionsOutput::builder()
            .versions(version("AWSLogs/locked.gz", "v9"))
            .build()
    });
    let delete = mock!(Client::delete_objects).then_output(|| {
        DeleteObjectsOutput::builder()
            .errors(
                aws_sdk_s3::types::Error::builder()
                    .key("AWSLogs/locked.gz")
                    .version_id("v9")
                    .code("AccessDenied")
                    .message("Access Denied because object protected by object lock.")
                    .build(),
            )
            .build()
    });
    let err = bucket::delete_with_objects(&s3(&[&list, &delete]), BUCKET, &Progress::quiet())
        .await
        .unwrap_err();
    let text = said(&err);
    assert!(text.contains(BUCKET), "{text}");
    assert!(
        text.contains("`AWSLogs/locked.gz` (version v9): AccessDenied"),
        "{text}"
    );
    assert!(text.contains("Object Lock"), "{text}");
    assert!(text.contains("teardown --delete-data"), "{text}");
}

#[tokio::test]
async fn a_late_flow_log_file_empties_the_bucket_again() {
    // Flow logs may deliver a file minutes after DeleteFlowLogs: DeleteBucket answers 409
    // BucketNotEmpty, and teardown lists and deletes again (after 1 s) before retrying.
    let list = mock!(Client::list_object_versions)
        .sequence()
        .output(|| ListObjectVersionsOutput::builder().build())
        .output(|| {
            ListObjectVersionsOutput::builder()
                .versions(version("AWSLogs/late.gz", "v1"))
                .build()
        })
        .build();
    let deleted = Arc::new(Mutex::new(Vec::new()));
    let delete = recording_delete(&deleted);
    let drop_bucket = mock!(Client::delete_bucket)
        .sequence()
        .http_response(|| {
            http(
                409,
                &[],
                &s3_error(
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                ),
            )
        })
        .output(|| DeleteBucketOutput::builder().build())
        .build();
    let clients = s3(&[&list, &delete, &drop_bucket]);
    bucket::delete_with_objects(&clients, BUCKET, &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(*deleted.lock().unwrap(), ["AWSLogs/late.gz"]);
    assert_eq!((list.num_calls(), drop_bucket.num_calls()), (2, 2));
}

#[tokio::test]
async fn a_bucket_already_gone_at_delete_is_done() {
    let list = mock!(Client::list_object_versions)
        .then_output(|| ListObjectVersionsOutput::builder().build());
    let drop_bucket = mock!(Client::delete_bucket).then_http_response(|| {
        http(
            404,
            &[],
            &s3_error("NoSuchBucket", "The specified bucket does not exist"),
        )
    });
    bucket::delete_with_objects(&s3(&[&list, &drop_bucket]), BUCKET, &Progress::quiet())
        .await
        .unwrap();
    assert_eq!(drop_bucket.num_calls(), 1);
}

#[tokio::test]
async fn create_accepts_a_bucket_we_already_own_and_refuses_a_taken_name() {
    let owned = mock!(Client::create_bucket).then_http_response(|| {
        http(
            409,
            &[],
            &s3_error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
            ),
        )
    });
    bucket::create(&s3(&[&owned]), BUCKET, REGION)
        .await
        .unwrap();

    let taken = mock!(Client::create_bucket).then_http_response(|| {
        http(
            409,
            &[],
            &s3_error(
                "BucketAlreadyExists",
                "The requested bucket name is not available.",
            ),
        )
    });
    let err = bucket::create(&s3(&[&taken]), BUCKET, REGION)
        .await
        .unwrap_err();
    assert!(
        said(&err).contains(&format!("creating bucket {BUCKET}")),
        "{}",
        said(&err)
    );
    assert!(said(&err).contains("BucketAlreadyExists"), "{}", said(&err));
}

#[tokio::test]
async fn create_outside_us_east_1_names_the_region_as_location_constraint() {
    let create = mock!(Client::create_bucket)
        .match_requests(|r| {
            r.create_bucket_configuration()
                .and_then(|c| c.location_constraint())
                .map(|l| l.as_str())
                == Some("eu-west-1")
        })
        .then_output(|| {
            aws_sdk_s3::operation::create_bucket::CreateBucketOutput::builder().build()
        });
    bucket::create(&s3(&[&create]), BUCKET, "eu-west-1")
        .await
        .unwrap();
    // us-east-1 takes no LocationConstraint (S3 refuses "us-east-1" as one)
    let bare = mock!(Client::create_bucket)
        .match_requests(|r| r.create_bucket_configuration().is_none())
        .then_output(|| {
            aws_sdk_s3::operation::create_bucket::CreateBucketOutput::builder().build()
        });
    bucket::create(&s3(&[&bare]), BUCKET, "us-east-1")
        .await
        .unwrap();
    assert_eq!((create.num_calls(), bare.num_calls()), (1, 1));
}
