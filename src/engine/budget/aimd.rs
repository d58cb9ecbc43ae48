//! Adaptive concurrency and pace per endpoint class: additive increase, multiplicative
//! decrease (AIMD), the rule TCP uses to share a link it cannot see the size of. Jira's burst
//! buckets are not published (reference §1.2: "design around the steady-state refill rate"):
//!
//! - calls in flight grow by one per round of successes and halve on a `jira-burst-based` 429;
//! - a burst 429 also sets a gap between call starts: the endpoint's steady-state rate when Jira
//!   names it (`RateLimit-Policy: "jira-burst-based";q=`), else twice the previous gap. Each
//!   success narrows the gap by 1 %, so the pace creeps back up until the next 429. Concurrency
//!   alone cannot do this: one call in flight at 15 ms is 60 calls a second;
//! - after a burst 429 the class rests for the `Retry-After` Jira asked.

use std::time::{Duration, Instant};

/// Calls in flight an endpoint class starts with.
pub const INITIAL: f64 = 8.0;
/// The most calls in flight one endpoint class may reach.
pub const MAX: f64 = 32.0;
/// The widest gap between call starts.
const MAX_GAP: Duration = Duration::from_secs(5);

/// One endpoint class's limits and use.
#[derive(Debug, Clone)]
pub struct Aimd {
    /// Calls allowed in flight (fractional: it grows by 1/limit per success).
    pub limit: f64,
    /// Calls in flight now.
    pub in_flight: u32,
    /// No call starts before this (the burst's `Retry-After`, or the pace).
    pub rest_until: Option<Instant>,
    /// Time between call starts (zero until the first burst 429).
    pub gap: Duration,
    /// The last decrease: 429s of calls that were already in flight then are one signal.
    last_cut: Option<Instant>,
}

impl Default for Aimd {
    fn default() -> Self {
        Self {
            limit: INITIAL,
            in_flight: 0,
            rest_until: None,
            gap: Duration::ZERO,
            last_cut: None,
        }
    }
}

impl Aimd {
    /// Takes a slot if the class is not resting and has room; else how long to wait at least.
    pub fn try_enter(&mut self, now: Instant) -> Result<(), Duration> {
        if let Some(until) = self.rest_until
            && until > now
        {
            return Err(until - now);
        }
        if f64::from(self.in_flight) < self.limit.floor().max(1.0) {
            self.in_flight += 1;
            if !self.gap.is_zero() {
                self.rest_until = Some(now + self.gap);
            }
            Ok(())
        } else {
            Err(Duration::from_millis(20))
        }
    }

    /// A call ended; a success lets the limit grow by one per `limit` successes and narrows
    /// the gap by 1 %.
    pub fn leave(&mut self, success: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if success {
            self.limit = (self.limit + 1.0 / self.limit).min(MAX);
            self.gap = self.gap.mul_f64(0.99);
            if self.gap < Duration::from_millis(1) {
                self.gap = Duration::ZERO;
            }
        }
    }

    /// A burst 429: halve the limit and widen the gap (once per `retry_after`, since the calls
    /// already in flight answer the same overload) and rest the class for `retry_after`.
    /// `rate` is the endpoint's steady-state rate if Jira named it.
    pub fn burst(&mut self, now: Instant, retry_after: Duration, rate: Option<f64>) {
        let fresh = self.last_cut.is_none_or(|t| now - t >= retry_after);
        if fresh {
            self.limit = (self.limit / 2.0).max(1.0);
            let steady = rate
                .filter(|r| *r > 0.0)
                .map_or(Duration::from_millis(10), |r| {
                    Duration::from_secs_f64(1.0 / r)
                });
            self.gap = (self.gap * 2).max(steady).min(MAX_GAP);
            self.last_cut = Some(now);
        }
        let until = now + retry_after;
        self.rest_until = Some(self.rest_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successes_add_one_per_round_and_a_burst_halves_once_and_rests() {
        let t0 = Instant::now();
        let mut a = Aimd::default();
        for _ in 0..8 {
            a.try_enter(t0).expect("room");
        }
        assert!(a.try_enter(t0).is_err(), "the ninth waits");
        for _ in 0..8 {
            a.leave(true);
        }
        assert!(
            (a.limit - 9.0).abs() < 0.1,
            "one round of successes adds about one: {}",
            a.limit
        );
        let before = a.limit;
        a.burst(t0, Duration::from_secs(1), None);
        a.burst(t0 + Duration::from_millis(10), Duration::from_secs(1), None);
        assert!(
            (a.limit - before / 2.0).abs() < 1e-9,
            "halved once for one overload"
        );
        assert!(
            a.try_enter(t0 + Duration::from_millis(500)).is_err(),
            "resting"
        );
        a.try_enter(t0 + Duration::from_millis(1100))
            .expect("rested");
        a.leave(false);
        a.burst(t0 + Duration::from_secs(3), Duration::from_secs(1), None);
        assert!(
            (a.limit - before / 4.0).abs() < 1e-9,
            "a later burst halves again"
        );
        for n in 0..100 {
            a.burst(t0 + Duration::from_secs(100 + n), Duration::ZERO, None);
        }
        assert!(a.limit >= 1.0, "never below one call");
        assert!(a.gap <= MAX_GAP);
    }

    #[test]
    fn after_a_burst_calls_start_at_the_named_rate_and_speed_up_slowly() {
        let t0 = Instant::now();
        let mut a = Aimd::default();
        a.burst(t0, Duration::from_secs(1), Some(4.0));
        assert_eq!(a.gap, Duration::from_millis(250));
        let t1 = t0 + Duration::from_secs(1);
        a.try_enter(t1).expect("rested");
        a.leave(true);
        assert!(
            a.try_enter(t1 + Duration::from_millis(100)).is_err(),
            "paced"
        );
        a.try_enter(t1 + Duration::from_millis(250))
            .expect("next start");
        a.leave(true);
        assert!(a.gap < Duration::from_millis(250) && a.gap > Duration::from_millis(240));
    }
}
