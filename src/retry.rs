//! Bounded retries for the errors AWS documents as transient while IAM changes propagate.

use std::future::Future;
use std::time::Duration;

use crate::ui::Progress;

/// How long IAM propagation may take before we give up.
pub const IAM_PROPAGATION_LIMIT: Duration = Duration::from_secs(180);

/// The wait before attempt `n` (1-based): 1, 2, 4, 8, then 10 seconds.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(3)).min(Duration::from_secs(10))
}

/// Runs `request` until it succeeds, fails with an error `is_propagating` does not accept, or the limit
/// is reached, showing what it is waiting for.
pub async fn while_iam_propagates<T, E, F, Fut>(
    progress: &Progress,
    waiting_for: &str,
    request: F,
    is_propagating: impl Fn(&E) -> bool,
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
            Err(e) if is_propagating(&e) && started.elapsed() < IAM_PROPAGATION_LIMIT => {
                let wait = backoff(attempt);
                progress.detail(&format!(
                    "waiting for IAM: {waiting_for} (attempt {attempt}, {}s so far, retrying in {}s)",
                    started.elapsed().as_secs(),
                    wait.as_secs()
                ));
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
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

    #[tokio::test(start_paused = true)]
    async fn retries_only_propagation_errors() {
        let calls = AtomicU32::new(0);
        let progress = Progress::quiet();
        let result: Result<u32, &str> = while_iam_propagates(
            &progress,
            "role",
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
        let result: Result<u32, &str> = while_iam_propagates(
            &progress,
            "role",
            || async { Err("denied") },
            |e| *e == "not yet",
        )
        .await;
        assert_eq!(result, Err("denied"));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_limit() {
        let progress = Progress::quiet();
        let result: Result<(), &str> =
            while_iam_propagates(&progress, "role", || async { Err("not yet") }, |_| true).await;
        assert_eq!(result, Err("not yet"));
    }
}
