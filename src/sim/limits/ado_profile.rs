//! ADO throttling profiles: `ado-services-2026` (reference §2, §6.3), its CI scaling, and
//! `unlimited`, or a TOML/JSON file.
//!
//! TSTU costs cannot be computed from Microsoft's docs, so every cost here is a calibration
//! knob ([A] in the reference): rules matched in order on method and path-template substring.

use std::path::Path;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::{latency::LatencyRule, profile::parse_file_text};

/// TSTU cost of a class of requests; rules are tried in order, so specific paths go first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TstuRule {
    /// HTTP method; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Substring of the path template.
    pub path: String,
    /// TSTUs charged before the handler refines it with a [`super::TstuHint`].
    pub tstu: f64,
}

/// A complete ADO throttling profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdoProfile {
    /// Preset or file name.
    pub name: String,
    /// Whether TSTU throttling is on.
    pub enabled: bool,
    /// Sliding window length in seconds (300).
    pub window_secs: f64,
    /// TSTUs per window before requests are delayed (200).
    pub threshold: f64,
    /// Above `threshold × block_factor`, requests get 429 `TF400733` (2.0, [A]).
    pub block_factor: f64,
    /// Delay per TSTU of overage, in ms (100, [A]).
    pub delay_ms_per_tstu: f64,
    /// Longest delay, seconds (30).
    pub max_delay_secs: f64,
    /// Send `X-RateLimit-*` once usage exceeds this fraction of the threshold (0.8).
    pub header_fraction: f64,
    /// `X-RateLimit-Resource` value.
    pub resource: String,
    /// Cost rules, first match wins.
    pub costs: Vec<TstuRule>,
    /// Cost when no rule matches.
    pub default_tstu: f64,
    /// Latency rules.
    #[serde(default)]
    pub latency: Vec<LatencyRule>,
    /// Latency multiplier (0 = none).
    #[serde(default)]
    pub latency_scale: f64,
    /// RNG seed for latencies.
    #[serde(default)]
    pub seed: u64,
}

impl AdoProfile {
    /// A preset: `ado-services-2026`, `ado-services-2026-ci` (30 s window, threshold 20: the
    /// same rate) or `unlimited`.
    pub fn named(name: &str) -> anyhow::Result<Self> {
        let rule = |method: Option<&str>, path: &str, tstu: f64| TstuRule {
            method: method.map(str::to_owned),
            path: path.into(),
            tstu,
        };
        let l = LatencyRule::new;
        let full = Self {
            name: name.into(),
            enabled: true,
            window_secs: 300.0,
            threshold: 200.0,
            block_factor: 2.0,
            delay_ms_per_tstu: 100.0,
            max_delay_secs: 30.0,
            header_fraction: 0.8,
            resource: "Core.TSTU".into(),
            costs: vec![
                rule(None, "/wiql", 1.0),
                rule(None, "/comments", 0.05),
                rule(None, "/attachments", 0.02),
                rule(None, "/workitemsbatch", 0.5),
                rule(Some("GET"), "/workitems", 0.5),
            ],
            default_tstu: 0.05,
            latency: vec![
                l(None, "/wiql", 300.0, None),
                l(None, "/comments", 150.0, None),
                l(None, "/attachments", 100.0, None),
                l(None, "/workitemsbatch", 1000.0, None),
                l(Some("GET"), "/workitems", 1000.0, None),
                l(None, "", 150.0, None),
            ],
            latency_scale: 1.0,
            seed: 0,
        };
        Ok(match name {
            "ado-services-2026" => full,
            "ado-services-2026-ci" => Self {
                window_secs: 30.0,
                threshold: 20.0,
                latency_scale: 0.1,
                ..full
            },
            "unlimited" => Self {
                enabled: false,
                latency: Vec::new(),
                latency_scale: 0.0,
                ..full
            },
            other => bail!(
                "unknown ADO profile `{other}` (expected ado-services-2026, ado-services-2026-ci, \
                 unlimited, or a .toml/.json file)"
            ),
        })
    }

    /// The TSTU cost of `method` on `template` before any hint.
    pub fn cost(&self, method: &str, template: &str) -> f64 {
        self.costs
            .iter()
            .find(|r| {
                r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                    && template.contains(&r.path)
            })
            .map_or(self.default_tstu, |r| r.tstu)
    }
}

/// The `--profile` value of `ferry sim ado`: a preset name or a path to a file.
pub fn parse_ado_profile(value: &str) -> anyhow::Result<AdoProfile> {
    if value.ends_with(".toml") || value.ends_with(".json") {
        let text = std::fs::read_to_string(value)?;
        parse_file_text(&text, Path::new(value))
    } else {
        AdoProfile::named(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_profile_keeps_the_tstu_rate() {
        let (p, ci) = (
            AdoProfile::named("ado-services-2026").expect("p"),
            AdoProfile::named("ado-services-2026-ci").expect("ci"),
        );
        assert!((p.threshold / p.window_secs - ci.threshold / ci.window_secs).abs() < 1e-9);
    }

    #[test]
    fn costs_follow_the_first_matching_rule() {
        let p = AdoProfile::named("ado-services-2026").expect("p");
        assert_eq!(p.cost("POST", "/{org}/{project}/_apis/wit/wiql"), 1.0);
        assert_eq!(
            p.cost("GET", "/{org}/_apis/wit/workitems/{id}/comments"),
            0.05
        );
        assert_eq!(p.cost("GET", "/_apis/connectionData"), 0.05);
    }
}
