//! When to try a Jira call again, and how long to wait first.
//!
//! Jira says how long with `Retry-After` on 429 (and on 503 when it sheds load); everything
//! else backs off exponentially with jitter, so a fleet of workers does not retry in step.
//! <https://developer.atlassian.com/cloud/jira/platform/rate-limiting/>

use std::time::Duration;

use reqwest::header::HeaderMap;

/// When and how long to retry. Injectable so tests need not wait real backoffs.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The longest `Retry-After` the client sleeps through; longer asks are returned.
    pub max_retry_after: Duration,
    /// Total time one call may spend waiting between attempts.
    pub budget: Duration,
    /// First backoff step for errors without `Retry-After`; doubles per attempt, plus jitter.
    pub backoff_base: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            max_retry_after: Duration::from_secs(60),
            budget: Duration::from_secs(180),
            backoff_base: Duration::from_millis(250),
        }
    }
}

/// `base · 2^(attempt-1)` plus up to as much again of jitter.
pub(super) fn backoff(base: Duration, attempt: u32) -> Duration {
    let step = base.saturating_mul(1 << attempt.saturating_sub(1).min(10));
    let jitter_ms = u64::try_from(step.as_millis()).unwrap_or(u64::MAX).max(1);
    step + Duration::from_millis(rand::random::<u64>() % jitter_ms)
}

pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    Some(headers.get(name)?.to_str().ok()?.trim().to_owned())
}

/// `Retry-After` in (possibly fractional) seconds; Jira does not send the HTTP-date form.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = header(headers, "retry-after")?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_ignores_garbage() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().expect("value"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", "soon".parse().expect("value"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_doubles_and_stays_below_twice_the_step() {
        let base = Duration::from_millis(10);
        for attempt in 1..5 {
            let step = base * (1 << (attempt - 1));
            let d = backoff(base, attempt);
            assert!(d >= step && d < step * 2, "{attempt}: {d:?}");
        }
    }
}
