//! Time helpers: ISO 8601 formatting and the limiter's monotonic clock.
//!
//! Limiters measure with [`Instant`] (monotonic, so a wall-clock jump cannot refill a bucket)
//! and report wall-clock instants in headers (`X-RateLimit-Reset` is ISO 8601 for Jira, epoch
//! seconds for ADO), so each limiter remembers both at its start.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A monotonic start paired with the wall clock at that moment.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    /// Monotonic start.
    pub start: Instant,
    /// Unix time at `start`, in seconds.
    pub wall_start: f64,
}

impl Epoch {
    /// Now.
    pub fn now() -> Self {
        Self {
            start: Instant::now(),
            wall_start: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_secs_f64(),
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.start).as_secs_f64()
    }

    /// Unix seconds at `elapsed` seconds after the start.
    pub fn wall(&self, elapsed: f64) -> f64 {
        self.wall_start + elapsed
    }
}

/// Formats unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn iso8601(unix_secs: f64) -> String {
    let secs = unix_secs.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Whole seconds a client should wait, at least 1 (a `Retry-After: 0` invites a hot loop).
pub fn retry_after_secs(wait: f64) -> u64 {
    wait.ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_772_409_600.5), "2026-03-02T00:00:00Z");
        assert_eq!(iso8601(951_782_400.0), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn retry_after_is_never_zero() {
        assert_eq!(retry_after_secs(0.01), 1);
        assert_eq!(retry_after_secs(1846.2), 1847);
    }
}
