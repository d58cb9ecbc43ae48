//! Service-time distributions per endpoint class, sampled with a seeded RNG.
//!
//! No vendor publishes latencies, so the reference (§6.2, §6.3) gives a mean and a p99 per
//! class as calibration knobs; a lognormal with that mean and p99 is sampled here. Rules are
//! matched in order on method and a substring of the path template, so one table serves the
//! Jira and the ADO simulators.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// z-score of the 99th percentile of a standard normal.
const Z99: f64 = 2.326_348;

/// One latency class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRule {
    /// HTTP method this applies to; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Substring of the path template; empty matches every path.
    #[serde(default)]
    pub path: String,
    /// Mean service time in milliseconds.
    pub mean_ms: f64,
    /// 99th percentile in milliseconds; when absent, p99 = 3 × mean.
    #[serde(default)]
    pub p99_ms: Option<f64>,
}

impl LatencyRule {
    /// A rule from literal values (profiles are tables of these).
    pub fn new(method: Option<&str>, path: &str, mean_ms: f64, p99_ms: Option<f64>) -> Self {
        Self {
            method: method.map(str::to_owned),
            path: path.to_owned(),
            mean_ms,
            p99_ms,
        }
    }

    /// Whether this rule covers `method` on `template`.
    pub fn matches(&self, method: &str, template: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && template.contains(&self.path)
    }

    /// Draws one service time in milliseconds.
    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        if self.mean_ms <= 0.0 {
            return 0.0;
        }
        let p99 = self.p99_ms.unwrap_or(self.mean_ms * 3.0).max(self.mean_ms);
        // mean = exp(mu + s²/2), p99 = exp(mu + Z99·s): the smaller root of s²/2 − Z99·s + ln(p99/mean) = 0.
        let gap = (p99 / self.mean_ms).ln();
        let disc = (Z99 * Z99 - 2.0 * gap).max(0.0);
        let sigma = Z99 - disc.sqrt();
        let mu = self.mean_ms.ln() - sigma * sigma / 2.0;
        (mu + sigma * standard_normal(rng)).exp()
    }
}

/// Picks the first matching rule and samples it, scaled; 0 when nothing matches.
pub fn sample_ms(
    rules: &[LatencyRule],
    scale: f64,
    method: &str,
    template: &str,
    rng: &mut impl Rng,
) -> f64 {
    if scale <= 0.0 {
        return 0.0;
    }
    rules
        .iter()
        .find(|r| r.matches(method, template))
        .map_or(0.0, |r| r.sample(rng) * scale)
}

/// Box–Muller: one standard normal draw from two uniforms.
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.r#gen::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn samples_have_roughly_the_configured_mean_and_p99() {
        let rule = LatencyRule::new(None, "", 300.0, Some(1000.0));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut xs: Vec<f64> = (0..20_000).map(|_| rule.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let p99 = xs[xs.len() * 99 / 100];
        assert!((mean - 300.0).abs() < 15.0, "mean {mean}");
        assert!((p99 - 1000.0).abs() < 120.0, "p99 {p99}");
    }

    #[test]
    fn the_first_matching_rule_wins_and_scale_zero_means_no_latency() {
        let rules = [
            LatencyRule::new(Some("GET"), "/issue/", 150.0, None),
            LatencyRule::new(None, "", 1.0, None),
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assert!(sample_ms(&rules, 1.0, "GET", "/rest/api/3/issue/{id}", &mut rng) > 5.0);
        assert_eq!(
            sample_ms(&rules, 0.0, "GET", "/rest/api/3/issue/{id}", &mut rng),
            0.0
        );
    }
}
