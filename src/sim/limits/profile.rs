//! Jira rate-limit profiles: named presets from the reference, or a TOML/JSON file.
//!
//! `jira-cloud-2026` is reference §6.2 (points quota, burst buckets, per-issue windows,
//! latencies); `jira-cloud-2026-ci` keeps the same *rate* but a 360 s virtual hour with a
//! 6,500-point quota so the hour wall and its reset show within CI time; `jira-api-token` is
//! the burst-only world of API-token traffic; `unlimited` meters nothing and sleeps never.
//! Every field is public so tests and files can tune any knob.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::latency::LatencyRule;

/// Whose points a request spends (reference §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// Tier 1: one pool per app shared by all its tenants (`global-app-quota`).
    Global,
    /// Tier 2: one pool per app and tenant (`tenant-app-quota`).
    Tenant,
}

/// How bulk writes are charged: the reference's unresolved ambiguity (§1.2, §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkAccounting {
    /// One point per bulk request.
    PerRequest,
    /// One point per item in the bulk request (from the handler's [`super::CostHint`]).
    PerItem,
}

/// The hourly points quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaConfig {
    /// Global (Tier 1) or per tenant (Tier 2).
    pub pool: Pool,
    /// Points per (virtual) hour.
    pub points_per_hour: u64,
    /// Length of the virtual hour in real seconds (3600 in production).
    pub hour_secs: f64,
    /// Virtual seconds past the hour when the limiter starts (0 = hh:00:00, 2700 = hh:45:00).
    #[serde(default)]
    pub start_offset_secs: f64,
    /// Bulk write accounting.
    pub bulk_accounting: BulkAccounting,
    /// Fraction of the pool burnt by "other tenants" over each hour (Tier 1 only, [A]).
    #[serde(default)]
    pub background_burn: f64,
    /// Points of a GET the handler did not annotate: 1 base + 1 object.
    #[serde(default = "default_read_points")]
    pub default_read_points: u64,
}

fn default_read_points() -> u64 {
    2
}

/// A per-endpoint rate override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurstOverride {
    /// HTTP method.
    pub method: String,
    /// Path template; `{…}` names are ignored when matching, so `{issueIdOrKey}` = `{id}`.
    pub path: String,
    /// Steady-state requests per second.
    pub rps: f64,
}

/// Token buckets per (tenant, method, path template).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurstConfig {
    /// GET rate (rps).
    pub get: f64,
    /// POST rate.
    pub post: f64,
    /// PUT rate.
    pub put: f64,
    /// DELETE rate.
    pub delete: f64,
    /// Bucket capacity = rate × this ([A]: 10, as the page's 100-token / 10 rps example).
    pub capacity_factor: f64,
    /// Endpoint overrides.
    #[serde(default)]
    pub overrides: Vec<BurstOverride>,
}

/// One sliding window of the per-issue write limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueWindow {
    /// Writes allowed in the window.
    pub max: u32,
    /// Window length in seconds.
    pub secs: f64,
}

/// The user-search collective limit per tenant (reference §1.3; the rate is [A]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSearchConfig {
    /// Steady-state rps shared by all user-search endpoints of a tenant.
    pub rps: f64,
    /// Bucket capacity.
    pub capacity: f64,
}

/// A complete Jira limiter profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JiraProfile {
    /// Preset or file name, reported in logs.
    pub name: String,
    /// Points quota; `None` = not metered (API tokens, `unlimited`).
    #[serde(default)]
    pub quota: Option<QuotaConfig>,
    /// Burst buckets; `None` = off.
    #[serde(default)]
    pub burst: Option<BurstConfig>,
    /// Per-issue write windows; empty = off.
    #[serde(default)]
    pub per_issue: Vec<IssueWindow>,
    /// User-search collective limit; `None` = off.
    #[serde(default)]
    pub user_search: Option<UserSearchConfig>,
    /// Latency rules, first match wins.
    #[serde(default)]
    pub latency: Vec<LatencyRule>,
    /// Multiplier on sampled latencies (0 = none).
    #[serde(default)]
    pub latency_scale: f64,
    /// Probability of a 5–10 s slow tail, per request (§6.2: 0.1 %).
    #[serde(default)]
    pub slow_tail: f64,
    /// Probability of a 503 with `Retry-After: 2`, per request (§6.2: 0.1 %).
    #[serde(default)]
    pub error503: f64,
    /// Requests in flight per (tenant, principal) before a 429 (§6.2: optional 50, [A]).
    #[serde(default)]
    pub max_in_flight: Option<u32>,
    /// Fraction of a limit under which `X-RateLimit-NearLimit: true` is sent (0.2).
    #[serde(default = "default_near")]
    pub near_limit: f64,
    /// RNG seed for latency and tails.
    #[serde(default)]
    pub seed: u64,
}

fn default_near() -> f64 {
    0.2
}

/// The Tier 2 per-tenant quota by edition and user count (reference §1.2), capped at 500,000.
pub fn tier2_points(edition: &str, users: u64) -> u64 {
    let points = match edition {
        "standard" => 100_000 + 10 * users,
        "premium" => 130_000 + 20 * users,
        "enterprise" => 150_000 + 30 * users,
        _ => 65_000,
    };
    points.min(500_000)
}

/// The §6.2 latency table, in milliseconds.
pub fn jira_latency_table() -> Vec<LatencyRule> {
    let r = LatencyRule::new;
    vec![
        r(Some("POST"), "/issue/bulk", 2500.0, Some(8000.0)),
        r(Some("POST"), "/bulk/", 500.0, None),
        r(Some("GET"), "/bulk/queue", 150.0, None),
        r(Some("POST"), "/comment", 300.0, Some(1000.0)),
        r(None, "/issueLink", 250.0, Some(800.0)),
        r(None, "/attachments", 400.0, None),
        r(Some("POST"), "/transitions", 300.0, None),
        r(Some("GET"), "/transitions", 150.0, None),
        r(None, "/search/jql", 300.0, None),
        r(None, "/user", 250.0, None),
        r(Some("POST"), "/sprint/{", 500.0, None),
        r(None, "/sprint", 400.0, None),
        r(Some("POST"), "/rest/api/3/issue", 400.0, Some(1500.0)),
        r(Some("GET"), "/issue/{", 150.0, None),
        r(Some("GET"), "", 300.0, None),
        r(None, "", 300.0, None),
    ]
}

impl JiraProfile {
    /// A preset by name: `jira-cloud-2026`, `jira-cloud-2026-ci`, `jira-cloud-2026-tier2`,
    /// `jira-api-token` or `unlimited`.
    pub fn named(name: &str) -> anyhow::Result<Self> {
        let full = Self {
            name: name.into(),
            quota: Some(QuotaConfig {
                pool: Pool::Global,
                points_per_hour: 65_000,
                hour_secs: 3600.0,
                start_offset_secs: 0.0,
                bulk_accounting: BulkAccounting::PerRequest,
                background_burn: 0.0,
                default_read_points: 2,
            }),
            burst: Some(BurstConfig {
                get: 100.0,
                post: 100.0,
                put: 50.0,
                delete: 50.0,
                capacity_factor: 10.0,
                overrides: vec![
                    BurstOverride {
                        method: "GET".into(),
                        path: "/rest/api/3/issue/{}".into(),
                        rps: 150.0,
                    },
                    BurstOverride {
                        method: "GET".into(),
                        path: "/rest/api/3/issue/{}/changelog".into(),
                        rps: 200.0,
                    },
                    BurstOverride {
                        method: "GET".into(),
                        path: "/rest/api/3/attachment/content/{}".into(),
                        rps: 300.0,
                    },
                    BurstOverride {
                        method: "POST".into(),
                        path: "/rest/api/3/search/approximate-count".into(),
                        rps: 150.0,
                    },
                ],
            }),
            per_issue: vec![
                IssueWindow { max: 20, secs: 2.0 },
                IssueWindow {
                    max: 100,
                    secs: 30.0,
                },
            ],
            user_search: Some(UserSearchConfig {
                rps: 100.0,
                capacity: 1000.0,
            }),
            latency: jira_latency_table(),
            latency_scale: 1.0,
            slow_tail: 0.001,
            error503: 0.001,
            max_in_flight: Some(50),
            near_limit: 0.2,
            seed: 0,
        };
        let profile = match name {
            "jira-cloud-2026" => full,
            "jira-cloud-2026-ci" => {
                let mut p = full;
                if let Some(q) = p.quota.as_mut() {
                    q.hour_secs = 360.0;
                    q.points_per_hour = 6_500;
                }
                p.latency_scale = 0.1;
                p.slow_tail = 0.0;
                p.error503 = 0.0;
                p
            }
            "jira-cloud-2026-tier2" => {
                let mut p = full;
                if let Some(q) = p.quota.as_mut() {
                    q.pool = Pool::Tenant;
                    q.points_per_hour = tier2_points("standard", 2_000);
                }
                p
            }
            "jira-api-token" => Self {
                quota: None,
                ..full
            },
            "unlimited" => Self {
                name: name.into(),
                quota: None,
                burst: None,
                per_issue: Vec::new(),
                user_search: None,
                latency: Vec::new(),
                latency_scale: 0.0,
                slow_tail: 0.0,
                error503: 0.0,
                max_in_flight: None,
                near_limit: 0.2,
                seed: 0,
            },
            other => bail!(
                "unknown Jira profile `{other}` (expected jira-cloud-2026, jira-cloud-2026-ci, \
                 jira-cloud-2026-tier2, jira-api-token, unlimited, or a .toml/.json file)"
            ),
        };
        Ok(profile)
    }

    /// Reads a profile file: TOML when the name ends in `.toml`, JSON otherwise.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading profile {}", path.display()))?;
        parse_file_text(&text, path)
    }
}

/// Deserialises TOML or JSON by the file's extension.
pub(crate) fn parse_file_text<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> anyhow::Result<T> {
    if path.extension().is_some_and(|e| e == "toml") {
        basic_toml::from_str(text)
            .with_context(|| format!("parsing TOML profile {}", path.display()))
    } else {
        serde_json::from_str(text)
            .with_context(|| format!("parsing JSON profile {}", path.display()))
    }
}

/// The `--profile` value of `ferry sim jira`: a preset name or a path to a file.
pub fn parse_jira_profile(value: &str) -> anyhow::Result<JiraProfile> {
    if value.ends_with(".toml") || value.ends_with(".json") {
        JiraProfile::from_file(Path::new(value))
    } else {
        JiraProfile::named(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_profile_keeps_the_production_rate_in_a_shorter_hour() {
        let prod = JiraProfile::named("jira-cloud-2026").expect("preset");
        let ci = JiraProfile::named("jira-cloud-2026-ci").expect("preset");
        let rate = |p: &JiraProfile| {
            p.quota
                .as_ref()
                .map(|q| q.points_per_hour as f64 / q.hour_secs)
        };
        assert_eq!(rate(&prod), rate(&ci));
        assert_eq!(ci.quota.as_ref().map(|q| q.hour_secs), Some(360.0));
    }

    #[test]
    fn tier2_quota_follows_the_edition_formula_and_the_cap() {
        assert_eq!(tier2_points("standard", 2_000), 120_000);
        assert_eq!(tier2_points("standard", 10), 100_100);
        assert_eq!(tier2_points("enterprise", 15_000), 500_000);
    }

    #[test]
    fn an_unknown_profile_name_lists_the_presets() {
        let err = parse_jira_profile("jira-2019").expect_err("unknown");
        assert!(err.to_string().contains("jira-cloud-2026-ci"), "{err}");
    }

    #[test]
    fn a_profile_round_trips_through_json_and_toml() {
        let p = JiraProfile::named("jira-cloud-2026").expect("preset");
        let json = serde_json::to_string(&p).expect("json");
        let back: JiraProfile = parse_file_text(&json, Path::new("p.json")).expect("parse json");
        assert_eq!(back, p);
        let toml = "name = \"t\"\nlatency_scale = 0.0\n[quota]\npool = \"tenant\"\npoints_per_hour = 10\nhour_secs = 2.0\nbulk_accounting = \"per_item\"\n";
        let t: JiraProfile = parse_file_text(toml, Path::new("p.toml")).expect("parse toml");
        assert_eq!(
            t.quota.map(|q| (q.pool, q.points_per_hour)),
            Some((Pool::Tenant, 10))
        );
    }
}
