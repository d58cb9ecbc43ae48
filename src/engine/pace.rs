//! Keeps one issue's writes below Jira's per-issue write windows (20 per 2 s and 100 per 30 s,
//! reference: api-limits-and-benchmark.md), instead of walking into them and paying a 429 with
//! a `Retry-After` per write past the wall.
//!
//! One item's writes are sequential, so a write is counted when its answer comes back: Jira
//! saw it somewhere between sending and answering, so a window measured from the answer never
//! opens earlier than Jira's. Counting from the send instead let writes through that Jira still
//! counted when the simulator ran under load.

use std::{collections::VecDeque, time::Duration};

use tokio::time::Instant;

/// The windows, each a little longer than Jira's.
const WINDOWS: [(usize, Duration); 2] = [
    (20, Duration::from_millis(2_050)),
    (100, Duration::from_millis(30_200)),
];

/// One issue's recent writes.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    done: VecDeque<Instant>,
}

impl Pacer {
    /// Waits until one more write fits in every window.
    pub async fn wait(&mut self) {
        if let Some(t) = self.free_at(Instant::now()) {
            tokio::time::sleep_until(t).await;
        }
    }

    /// Counts a write whose answer just came back (whatever it was: a lost answer may have
    /// been applied, and a refusal costs nothing but is counted to stay on the safe side).
    pub fn wrote(&mut self) {
        let now = Instant::now();
        let longest = WINDOWS.iter().map(|w| w.1).max().unwrap_or_default();
        while self
            .done
            .front()
            .is_some_and(|t| now.duration_since(*t) >= longest)
        {
            self.done.pop_front();
        }
        self.done.push_back(now);
    }

    /// When the next write fits, if not now.
    fn free_at(&self, now: Instant) -> Option<Instant> {
        WINDOWS
            .iter()
            .filter_map(|(max, len)| {
                let inside = self
                    .done
                    .iter()
                    .filter(|t| now.duration_since(**t) < *len)
                    .count();
                (inside >= *max).then(|| self.done[self.done.len() - max] + *len)
            })
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_stay_inside_both_windows() {
        // A virtual clock: each write is answered 5 ms after it is sent.
        let mut p = Pacer::default();
        let start = Instant::now();
        let mut now = start;
        let mut sent = Vec::new();
        for _ in 0..130 {
            if let Some(t) = p.free_at(now) {
                now = t;
            }
            sent.push(now - start);
            now += Duration::from_millis(5);
            p.done.push_back(now);
        }
        for (max, len) in WINDOWS {
            for (i, t) in sent.iter().enumerate().skip(max) {
                assert!(*t - sent[i - max] >= len, "write {i} at {t:?}");
            }
        }
        assert!(sent[129] < Duration::from_secs(35), "{:?}", sent[129]);
    }
}
