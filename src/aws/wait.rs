//! The bounded waits, each with a progress line and a limit that says how long that kind of
//! propagation may take: `retry`, a request retried while AWS answers with an error a named
//! predicate in `errors` calls transient (eventual consistency); and `until`, a resource's state
//! read until it is where the next step needs it (a function Active, a stream ACTIVE or gone).

use std::future::Future;
use std::time::Duration;

use crate::ui::Progress;

/// How long IAM propagation may take before we give up.
pub const IAM_PROPAGATION: Duration = Duration::from_secs(180);
/// How long a new bucket may answer `NoSuchBucket` (terraform-provider-aws waits one minute).
pub const NEW_BUCKET: Duration = Duration::from_secs(90);
/// How long S3 may fail to validate a notification's destination after AddPermission.
pub const DESTINATION_VALIDATION: Duration = Duration::from_secs(120);

/// How long a new or updated Lambda function may take to become Active (VPC functions take minutes).
pub const FUNCTION_READY: Duration = Duration::from_secs(300);

/// How long teardown keeps emptying a bucket that flow logs still deliver to after DeleteFlowLogs
/// (AWS may deliver a file several minutes late).
pub const LATE_DELIVERIES: Duration = Duration::from_secs(600);

/// What is awaited and for how long at most.
#[derive(Debug, Clone, Copy)]
pub struct Patience<'a> {
    /// Shown in the progress line: "waiting for <what>".
    pub what: &'a str,
    pub limit: Duration,
}

impl<'a> Patience<'a> {
    pub fn iam(what: &'a str) -> Patience<'a> {
        Patience {
            what,
            limit: IAM_PROPAGATION,
        }
    }
}

/// The wait before attempt `n` (1-based): 1, 2, 4, 8, then 10 seconds.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(3)).min(Duration::from_secs(10))
}

/// Runs `request` until it succeeds, fails with an error `is_transient` does not accept, or the limit
/// is reached, showing what it is waiting for.
pub async fn retry<T, E, F, Fut>(
    progress: &Progress,
    patience: Patience<'_>,
    request: F,
    is_transient: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let started = tokio::time::Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match request().await {
            Err(e) if is_transient(&e) && started.elapsed() < patience.limit => {
                let wait = backoff(attempt);
                progress.detail(&format!(
                    "waiting for {} (attempt {attempt}, {}s so far, retrying in {}s)",
                    patience.what,
                    started.elapsed().as_secs(),
                    wait.as_secs()
                ));
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

/// What one look at a resource's state found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look<T> {
    /// Where the next step needs it.
    Ready(T),
    /// Not yet: what it is now, shown in the progress line and in the error at the limit.
    Pending(String),
}

/// Reads a resource's state with `look` every `interval` until it is ready, `look` fails (a state
/// that will never become ready is an error there), or the limit is reached. The progress line
/// says what is awaited and what it is now, once per change of state.
pub async fn until<T, F, Fut>(
    progress: &Progress,
    patience: Patience<'_>,
    interval: Duration,
    mut look: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Look<T>>>,
{
    let started = tokio::time::Instant::now();
    let mut shown: Option<String> = None;
    loop {
        let now = match look().await? {
            Look::Ready(value) => return Ok(value),
            Look::Pending(now) => now,
        };
        if started.elapsed() >= patience.limit {
            anyhow::bail!(
                "gave up waiting for {} after {} s: it is still {now}",
                patience.what,
                started.elapsed().as_secs()
            );
        }
        if shown.as_deref() != Some(now.as_str()) {
            progress.detail(&format!(
                "waiting for {} (it is {now}; {} s so far)",
                patience.what,
                started.elapsed().as_secs()
            ));
            shown = Some(now);
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let waits: Vec<u64> = (1..=6).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 8, 8].map(|s: u64| s.min(10)));
    }

    // Real time, not tokio's paused clock: its `test-util` feature in the test build alone would
    // give the tests another tokio than `cargo build`'s, and so another build of every crate on it.
    #[tokio::test]
    async fn retries_only_propagation_errors() {
        let calls = AtomicU32::new(0);
        let progress = Progress::quiet();
        let result: Result<u32, &str> = retry(
            &progress,
            Patience::iam("role"),
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    if n < 3 {
                        Err("not yet")
                    } else {
                        Ok(n)
                    }
                }
            },
            |e| *e == "not yet",
        )
        .await;
        assert_eq!(result, Ok(3));

        calls.store(0, Ordering::SeqCst);
        let result: Result<u32, &str> = retry(
            &progress,
            Patience::iam("role"),
            || async { Err("denied") },
            |e| *e == "not yet",
        )
        .await;
        assert_eq!(result, Err("denied"));
    }

    #[tokio::test]
    async fn gives_up_after_the_limit() {
        let progress = Progress::quiet();
        let calls = AtomicU32::new(0);
        let started = std::time::Instant::now();
        let patience = Patience {
            what: "role",
            limit: Duration::from_millis(1500),
        };
        let result: Result<(), &str> = retry(
            &progress,
            patience,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err("not yet") }
            },
            |_| true,
        )
        .await;
        assert_eq!(result, Err("not yet"));
        // Tried at 0 s, 1 s and 3 s (backoff 1 s, then 2 s); the third failure is past the limit.
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(started.elapsed() >= patience.limit);
    }

    #[tokio::test]
    async fn until_reads_the_state_until_it_is_ready() {
        let looks = AtomicU32::new(0);
        let patience = Patience {
            what: "Lambda function f",
            limit: Duration::from_secs(60),
        };
        let ready = until(
            &Progress::quiet(),
            patience,
            Duration::from_millis(1),
            || {
                let n = looks.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    Ok(if n < 3 {
                        Look::Pending("Pending".into())
                    } else {
                        Look::Ready(n)
                    })
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(ready, 3);
    }

    #[tokio::test]
    async fn until_stops_at_an_error_and_at_the_limit_naming_the_state() {
        let patience = Patience {
            what: "Firehose stream s",
            limit: Duration::from_millis(30),
        };
        let failed = until::<(), _, _>(
            &Progress::quiet(),
            patience,
            Duration::from_millis(1),
            || async { anyhow::bail!("Firehose stream s failed to create") },
        )
        .await
        .unwrap_err();
        assert_eq!(failed.to_string(), "Firehose stream s failed to create");

        let late = until::<(), _, _>(
            &Progress::quiet(),
            patience,
            Duration::from_millis(5),
            || async { Ok(Look::Pending("CREATING".into())) },
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            late.starts_with("gave up waiting for Firehose stream s after"),
            "{late}"
        );
        assert!(late.ends_with("it is still CREATING"), "{late}");
    }
}
