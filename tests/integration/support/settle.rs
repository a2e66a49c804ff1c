//! The tests' own setup calls (a foreign bucket, its policy, a foreign notification entry) under
//! the stack's eventual-consistency behaviours: retried, like the product retries, while the stack
//! answers one of the injected propagation errors, for a short bounded time.

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// Longer than the stack's consistency window (2.5 s by default).
const LIMIT: Duration = Duration::from_secs(30);

/// An injected eventual-consistency error (`devstack/consistency.py`), told by code and message.
pub fn is_propagation<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    let Some(service) = err.as_service_error() else {
        return false;
    };
    let (code, message) = (
        service.code().unwrap_or_default(),
        service.message().unwrap_or_default(),
    );
    code == "NoSuchBucket"
        || (code == "ResourceConflictException" && message.contains("update is in progress"))
        || message.contains("Unable to validate the following destination configurations")
        || message.contains("cannot be assumed by Lambda")
        || message.contains("is unable to assume role")
}

/// Runs `call` until it succeeds; panics naming `what` on any other error or after the limit.
pub async fn settled<T, E, R, F, Fut>(what: &str, call: F) -> T
where
    E: ProvideErrorMetadata + Debug,
    R: Debug,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let started = Instant::now();
    loop {
        match call().await {
            Ok(out) => return out,
            Err(e) if is_propagation(&e) && started.elapsed() < LIMIT => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("{what}: {e:?}"),
        }
    }
}

/// Waits until a bucket the test just made answers HeadBucket (the stack answers 404 for a short
/// window after CreateBucket, as AWS may).
pub async fn bucket_usable(s3: &aws_sdk_s3::Client, bucket: &str) {
    let started = Instant::now();
    while s3.head_bucket().bucket(bucket).send().await.is_err() {
        assert!(
            started.elapsed() < LIMIT,
            "bucket {bucket} still not usable after {LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
