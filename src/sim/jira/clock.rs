//! Timestamps in the two formats Jira uses, from the system clock, without a date crate.
//!
//! The platform API writes `2026-11-23T16:01:55.123+0000`; the agile API writes ISO 8601 with
//! `Z`. Only formatting is needed, so a civil-from-days conversion is enough.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// `yyyy-mm-ddThh:mm:ss.SSS` for a millisecond timestamp.
fn civil(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// The platform API's format.
pub fn jira(ms: i64) -> String {
    format!("{}+0000", civil(ms))
}

/// The agile API's format.
pub fn iso(ms: i64) -> String {
    format!("{}Z", civil(ms))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_a_known_instant() {
        assert_eq!(
            super::jira(1_795_449_715_123),
            "2026-11-23T16:01:55.123+0000"
        );
        assert_eq!(super::iso(0), "1970-01-01T00:00:00.000Z");
    }
}
