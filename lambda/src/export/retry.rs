//! What to do after an export attempt, and how long to wait before the next one.
//!
//! Pure functions, table-tested. Per the OTLP/HTTP specification: 429, 502, 503 and 504 and
//! failures to reach the endpoint are retried, honouring `Retry-After`; every other status is
//! final, and so is a certificate the client does not trust. Waits grow exponentially with full jitter, up to a cap.

use super::config::Compression;
use std::time::{Duration, SystemTime};

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The endpoint answered with this HTTP status.
    Status(u16),
    /// No answer: connection refused or reset, DNS, TLS or the attempt's timeout.
    Transport,
    /// The endpoint's TLS certificate is not one the client trusts: the same on every attempt.
    Untrusted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAction {
    /// Delivered (the response may still report a partial success).
    Done,
    /// Try again after a wait.
    Retry,
    /// Give up: resending the same request cannot succeed.
    Fail,
}

pub fn classify(attempt: Attempt) -> RetryAction {
    match attempt {
        Attempt::Status(200..=299) => RetryAction::Done,
        Attempt::Status(429 | 502 | 503 | 504) | Attempt::Transport => RetryAction::Retry,
        Attempt::Status(_) | Attempt::Untrusted => RetryAction::Fail,
    }
}

/// The compression to send again with after a refusal, if another may succeed: an endpoint
/// that answers 415 (Unsupported Media Type) to zstd gets gzip, which every OTLP/HTTP receiver
/// must take. Every other answer, and a 415 to anything else, is for [`classify`].
pub fn fallback(sent: Compression, status: u16) -> Option<Compression> {
    (sent == Compression::Zstd && status == 415).then_some(Compression::Gzip)
}

/// Reads a `Retry-After` value: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait before retry number `retry` (0 for the first retry): `Retry-After` when the
/// endpoint gave one, else a uniformly random duration below `min(cap, base * 2^retry)`
/// ("full jitter"); `jitter` is that random draw, in `[0, 1)`.
pub fn delay(
    retry: u32,
    base: Duration,
    cap: Duration,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Duration {
    if let Some(after) = retry_after {
        return after;
    }
    let ceiling = base
        .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
        .min(cap);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        use RetryAction::*;
        let table: &[(Attempt, RetryAction)] = &[
            (Attempt::Status(200), Done),
            (Attempt::Status(202), Done),
            (Attempt::Status(204), Done),
            (Attempt::Status(400), Fail),
            (Attempt::Status(401), Fail),
            (Attempt::Status(403), Fail),
            (Attempt::Status(404), Fail),
            (Attempt::Status(408), Fail),
            (Attempt::Status(413), Fail),
            (Attempt::Status(429), Retry),
            (Attempt::Status(500), Fail),
            (Attempt::Status(501), Fail),
            (Attempt::Status(502), Retry),
            (Attempt::Status(503), Retry),
            (Attempt::Status(504), Retry),
            (Attempt::Status(301), Fail),
            (Attempt::Transport, Retry),
            (Attempt::Untrusted, Fail),
        ];
        for &(attempt, want) in table {
            assert_eq!(classify(attempt), want, "{attempt:?}");
        }
    }

    #[test]
    fn only_a_415_to_zstd_falls_back_to_gzip() {
        use Compression::*;
        assert_eq!(fallback(Zstd, 415), Some(Gzip));
        for (sent, status) in [
            (Gzip, 415),
            (None, 415),
            (Zstd, 400),
            (Zstd, 503),
            (Zstd, 200),
        ] {
            assert_eq!(fallback(sent, status), Option::None, "{sent:?} {status}");
        }
    }

    #[test]
    fn retry_after_values() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_is_exponential_jittered_and_capped() {
        let (base, cap) = (Duration::from_millis(100), Duration::from_secs(2));
        let max = |r| delay(r, base, cap, None, 0.999_999);
        assert!(max(0) < Duration::from_millis(100) && max(0) > Duration::from_millis(99));
        assert!(max(1) > Duration::from_millis(199) && max(1) < Duration::from_millis(200));
        assert!(max(3) > Duration::from_millis(799));
        assert!(max(10) <= cap && max(40) <= cap);
        assert_eq!(delay(2, base, cap, None, 0.0), Duration::ZERO);
        assert_eq!(delay(5, base, cap, None, 0.5), Duration::from_secs(1));
        assert_eq!(
            delay(0, base, cap, Some(Duration::from_secs(7)), 0.5),
            Duration::from_secs(7)
        );
    }
}
