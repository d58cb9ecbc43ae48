//! Fault injection for either simulator, from a `--faults SPEC` string.
//!
//! Grammar (comma-separated `key=value`, each key at most once, whitespace ignored):
//!
//! ```text
//! spec     := item ("," item)*
//! item     := "latency=" DUR | "error5xx=" P | "storm429=" P ":" DUR
//!           | "reset=" P | "lost=" P [":all"] | "seed=" INT
//! P        := a number in [0, 1], or a percentage such as "2%"
//! DUR      := INT ("ms" | "s" | "m")
//! ```
//!
//! `latency` delays every request; `error5xx` answers 500/502/503 without running the
//! handler; `storm429` starts, with probability P, a storm of length DUR in which every
//! request gets 429 + `Retry-After`; `reset` cuts the connection before any response;
//! `lost` runs the handler to completion and then cuts the connection, so the write is
//! applied but the client sees a transport error (writes only, unless `:all`). Outcomes come
//! from one seeded RNG drawn a fixed number of times per request, so a given request order
//! always meets the same faults.

mod layer;

use std::time::Duration;

use thiserror::Error;

pub use layer::{FaultLayer, Faults};

/// A parsed fault specification.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSpec {
    /// Fixed delay before every request.
    pub latency: Duration,
    /// Probability of a 5xx.
    pub error5xx: f64,
    /// Probability of starting a 429 storm, and its length.
    pub storm429: Option<(f64, Duration)>,
    /// Probability of a connection reset.
    pub reset: f64,
    /// Probability of a lost response.
    pub lost: f64,
    /// Whether `lost` also applies to GET/HEAD.
    pub lost_reads: bool,
    /// RNG seed.
    pub seed: u64,
}

/// Why a fault spec was refused; the message names the offending item.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SpecError {
    /// Not `key=value`.
    #[error("fault `{0}` is not key=value (e.g. error5xx=0.02)")]
    Shape(String),
    /// Unknown key.
    #[error("unknown fault `{0}` (expected latency, error5xx, storm429, reset, lost or seed)")]
    Key(String),
    /// Same key twice.
    #[error("fault `{0}` is given twice")]
    Duplicate(String),
    /// Bad probability.
    #[error("`{0}`: `{1}` is not a probability between 0 and 1 (or 0%–100%)")]
    Probability(String, String),
    /// Bad duration.
    #[error("`{0}`: `{1}` is not a duration like 50ms, 5s or 2m")]
    Duration(String, String),
    /// Bad storm.
    #[error("`storm429={0}` needs PROBABILITY:DURATION, e.g. storm429=0.01:5s")]
    Storm(String),
    /// Bad seed or suffix.
    #[error("`{0}`: `{1}` is not valid here")]
    Value(String, String),
}

impl std::str::FromStr for FaultSpec {
    type Err = SpecError;

    fn from_str(spec: &str) -> Result<Self, SpecError> {
        let mut out = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| SpecError::Shape(item.into()))?;
            let (key, value) = (key.trim(), value.trim());
            if seen.iter().any(|k| k == key) {
                return Err(SpecError::Duplicate(key.into()));
            }
            seen.push(key.into());
            match key {
                "latency" => out.latency = duration(key, value)?,
                "error5xx" => out.error5xx = probability(key, value)?,
                "reset" => out.reset = probability(key, value)?,
                "storm429" => {
                    let (p, d) = value
                        .split_once(':')
                        .ok_or_else(|| SpecError::Storm(value.into()))?;
                    out.storm429 = Some((probability(key, p)?, duration(key, d)?));
                }
                "lost" => {
                    let (p, scope) = value.split_once(':').unwrap_or((value, ""));
                    out.lost = probability(key, p)?;
                    out.lost_reads = match scope {
                        "" | "writes" => false,
                        "all" => true,
                        other => return Err(SpecError::Value(key.into(), other.into())),
                    };
                }
                "seed" => {
                    out.seed = value
                        .parse()
                        .map_err(|_| SpecError::Value(key.into(), value.into()))?
                }
                other => return Err(SpecError::Key(other.into())),
            }
        }
        Ok(out)
    }
}

/// The `--faults` value: parses the spec or explains what is wrong with it.
pub fn parse_faults(spec: &str) -> Result<FaultSpec, SpecError> {
    spec.parse()
}

fn probability(key: &str, value: &str) -> Result<f64, SpecError> {
    let bad = || SpecError::Probability(key.into(), value.into());
    let p = match value.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => value.parse::<f64>().map_err(|_| bad())?,
    };
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(bad())
    }
}

fn duration(key: &str, value: &str) -> Result<Duration, SpecError> {
    let bad = || SpecError::Duration(key.into(), value.into());
    let (num, unit_ms) = if let Some(n) = value.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = value.strip_suffix('m') {
        (n, 60_000)
    } else {
        return Err(bad());
    };
    let n: u64 = num.trim().parse().map_err(|_| bad())?;
    Ok(Duration::from_millis(n * unit_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let spec =
            parse_faults("latency=50ms,error5xx=0.02,storm429=0.01:5s,reset=0.01,lost=0.01,seed=7")
                .expect("parse");
        assert_eq!(spec.latency, Duration::from_millis(50));
        assert_eq!(spec.storm429, Some((0.01, Duration::from_secs(5))));
        assert_eq!(
            (
                spec.error5xx,
                spec.reset,
                spec.lost,
                spec.seed,
                spec.lost_reads
            ),
            (0.02, 0.01, 0.01, 7, false)
        );
    }

    #[test]
    fn percentages_and_the_all_scope_are_accepted() {
        let spec = parse_faults("error5xx=2%, lost=50%:all").expect("parse");
        assert_eq!(
            (spec.error5xx, spec.lost, spec.lost_reads),
            (0.02, 0.5, true)
        );
    }
}
