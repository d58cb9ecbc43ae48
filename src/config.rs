//! Typed configuration from the `FERRY_*` environment, loaded and validated once at start.
//! (`FERRY_LOG` is read by [`crate::telemetry`] before this, so config warnings are logged.)
//!
//! Secrets are `SecretString`/`SecretKey` so that neither `Debug` nor a log line can print them,
//! and the database URL is shown with its password redacted. A bad value stops Ferry at
//! start with the variable's name in the message, never later in the middle of a run.

use std::{fmt, net::SocketAddr, path::PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use secrecy::SecretString;
use url::Url;

use crate::{
    connect::hosts::HostPatterns, crypto::SecretKey, intake::quote::Pricing,
    source::ado::SourcePolicy,
};

/// Atlassian's CDN for the public keys of signed installs.
pub const DEFAULT_INSTALL_KEYS_URL: &str = "https://connect-install-keys.atlassian.com";
/// Atlassian's authorization server for user impersonation (reference §4.3): the `aud` of
/// every assertion and the host of `/oauth2/token`.
pub const DEFAULT_OAUTH_URL: &str = "https://oauth-2-authorization-server.services.atlassian.com";
/// The app key in the descriptor; the `iss` of every JWT Ferry sends to Jira.
pub const DEFAULT_APP_KEY: &str = "io.ferry.ado-migrator";

/// Jira's two quota tiers (reference §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsTier {
    /// Tier 1: one pool shared by every tenant of the app.
    Global,
    /// Tier 2: one pool per tenant.
    Tenant,
}

/// Whether Ferry runs for development (lenient defaults) or production (everything explicit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Generates a secret key into the data folder when none is given.
    Development,
    /// Refuses to start without `FERRY_SECRET_KEY` and with a non-https base URL.
    Production,
}

/// Everything Ferry reads from its environment.
#[derive(Clone)]
pub struct Config {
    /// Public URL of the app; the descriptor's `baseUrl` and the `aud` of signed installs.
    pub base_url: Url,
    /// The Connect app key.
    pub app_key: String,
    /// Where `ferry serve` listens.
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// AES-256-GCM key for secrets at rest.
    pub secret_key: SecretKey,
    /// Base URL the signed-install public keys are fetched from (`{url}/{kid}`).
    pub install_keys_url: Url,
    /// Host patterns a tenant's `baseUrl` must match.
    pub allowed_hosts: HostPatterns,
    /// Azure DevOps hosts that may be reached over plain http or on internal addresses.
    pub source_policy: SourcePolicy,
    /// The price table for quotes.
    pub pricing: Pricing,
    /// Quota points per hour the run estimate assumes (Jira's Tier 1 pool by default).
    pub points_per_hour: f64,
    /// Whose pool the points come from (`FERRY_POINTS_TIER`: `global`, Jira's Tier 1 default,
    /// one pool for all tenants of the app; `tenant`, Tier 2, one pool per tenant).
    pub points_tier: PointsTier,
    /// The quota window (`FERRY_POINTS_WINDOW_SECS`, 3600: Jira resets at the top of each UTC
    /// hour); windows start at multiples of it since the Unix epoch. Shorter only for tests
    /// against a simulator's virtual hour.
    pub points_window: std::time::Duration,
    /// Run workers in this process (`FERRY_RUN_WORKERS`; 0 leaves migrations to `ferry
    /// worker` processes).
    pub run_workers: usize,
    /// Items a run follows at once in phases 3–7 (`FERRY_RUN_ITEMS_IN_FLIGHT`); `None` lets the
    /// engine choose by the tenant's kind (see `engine::followup::items_in_flight`).
    pub run_items_in_flight: Option<usize>,
    /// How long a claimed run stays a worker's without a heartbeat (`FERRY_RUN_LEASE_SECS`):
    /// after a crash, the run waits this long before another worker takes it over.
    pub run_lease: std::time::Duration,
    /// The authorization server that turns signed assertions into user tokens
    /// (`FERRY_OAUTH_URL`); only Atlassian's own in production, since it receives assertions
    /// signed with tenants' shared secrets.
    pub oauth_url: Url,
    /// Development or production.
    pub mode: Mode,
    /// Folder for the embedded database and the development key.
    pub data_dir: PathBuf,
    /// The optional model that suggests rules for what a draft leaves open; `None` = off.
    pub llm: Option<LlmConfig>,
    /// `ferry demo` only (development mode): the simulator's ADO URL and PAT the connect
    /// form is filled with (`FERRY_DEMO_ADO_URL`, `FERRY_DEMO_ADO_PAT`).
    pub demo_source: Option<(String, String)>,
}

/// An OpenAI-compatible chat-completions endpoint (`FERRY_LLM_*`). It only ever receives
/// schema metadata (see [`crate::mapping::suggest`]), so it is opt-in and off by default.
#[derive(Clone)]
pub struct LlmConfig {
    /// The API's base URL (`https://api.openai.com/v1`); Ferry posts to `{url}/chat/completions`.
    pub url: Url,
    /// The model name sent with every request and recorded on the rules it suggests.
    pub model: String,
    /// The bearer key, if the endpoint needs one; never printed.
    pub api_key: Option<SecretString>,
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &redact_url(self.url.as_str()))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url.as_str())
            .field("app_key", &self.app_key)
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("secret_key", &"[redacted]")
            .field("install_keys_url", &self.install_keys_url.as_str())
            .field("allowed_hosts", &self.allowed_hosts)
            .field("source_policy", &self.source_policy)
            .field("pricing", &self.pricing)
            .field("points_per_hour", &self.points_per_hour)
            .field("points_tier", &self.points_tier)
            .field("points_window", &self.points_window)
            .field("run_workers", &self.run_workers)
            .field("run_items_in_flight", &self.run_items_in_flight)
            .field("run_lease", &self.run_lease)
            .field("mode", &self.mode)
            .field("data_dir", &self.data_dir)
            .field("llm", &self.llm)
            .field(
                "demo_source",
                &self.demo_source.as_ref().map(|(url, _)| url),
            )
            .finish()
    }
}

/// Shows a connection URL without its password.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "[unparseable url]".to_owned(),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `get`, so tests can pass a map instead of the environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mode = match get("FERRY_ENV").as_deref() {
            None | Some("development") | Some("dev") => Mode::Development,
            Some("production") | Some("prod") => Mode::Production,
            Some(other) => bail!("FERRY_ENV must be `development` or `production`, not `{other}`"),
        };
        let data_dir = PathBuf::from(get("FERRY_DATA_DIR").unwrap_or_else(|| "ferry-data".into()));
        let listen: SocketAddr = get("FERRY_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("FERRY_LISTEN must be address:port, e.g. 0.0.0.0:8080")?;
        let base_url = match get("FERRY_BASE_URL") {
            Some(raw) => Url::parse(&raw).context("FERRY_BASE_URL is not a URL")?,
            None if mode == Mode::Production => bail!("FERRY_BASE_URL is required in production"),
            None => Url::parse(&format!("http://{listen}")).context("default base URL")?,
        };
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host_str().is_none() {
            bail!("FERRY_BASE_URL must be an http(s) URL with a host");
        }
        if mode == Mode::Production && base_url.scheme() != "https" {
            bail!("FERRY_BASE_URL must be https in production (Jira refuses plain http)");
        }
        let app_key = get("FERRY_APP_KEY").unwrap_or_else(|| DEFAULT_APP_KEY.into());
        if app_key.is_empty()
            || app_key.len() > 80
            || !app_key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            bail!("FERRY_APP_KEY must be 1-80 characters of [a-zA-Z0-9-._]");
        }
        let database_url = get("FERRY_DATABASE_URL").unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("ferry.db").display())
        });
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("FERRY_DATABASE_URL must start with sqlite: or postgres://");
        }
        let secret_key = match get("FERRY_SECRET_KEY") {
            Some(raw) => parse_key(&raw).context("FERRY_SECRET_KEY")?,
            None if mode == Mode::Production => {
                bail!("FERRY_SECRET_KEY is required in production (base64 of 32 random bytes)")
            }
            None => SecretKey::load_or_generate(&data_dir.join("secret.key"))
                .context("generating the development secret key")?,
        };
        let install_keys_url = Url::parse(
            &get("FERRY_INSTALL_KEYS_URL").unwrap_or_else(|| DEFAULT_INSTALL_KEYS_URL.into()),
        )
        .context("FERRY_INSTALL_KEYS_URL is not a URL")?;
        let allowed_hosts = HostPatterns::parse(
            &get("FERRY_ALLOWED_HOSTS").unwrap_or_else(|| "*.atlassian.net".into()),
        )
        .context("FERRY_ALLOWED_HOSTS")?;
        let pricing =
            Pricing::parse(&get("FERRY_PRICING").unwrap_or_default()).context("FERRY_PRICING")?;
        let points_per_hour = match get("FERRY_POINTS_PER_HOUR") {
            Some(raw) => raw
                .parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0)
                .context("FERRY_POINTS_PER_HOUR must be a positive number")?,
            None => crate::intake::quote::TIER1_POINTS_PER_HOUR,
        };
        let points_tier = match get("FERRY_POINTS_TIER").as_deref() {
            None | Some("global") | Some("1") => PointsTier::Global,
            Some("tenant") | Some("2") => PointsTier::Tenant,
            Some(other) => bail!("FERRY_POINTS_TIER must be `global` or `tenant`, not `{other}`"),
        };
        let points_window = match get("FERRY_POINTS_WINDOW_SECS") {
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=86_400).contains(n))
                .map(std::time::Duration::from_secs)
                .context(
                    "FERRY_POINTS_WINDOW_SECS must be a whole number of seconds from 1 to 86400",
                )?,
            None => std::time::Duration::from_secs(3600),
        };
        let run_workers = match get("FERRY_RUN_WORKERS") {
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= 64)
                .context("FERRY_RUN_WORKERS must be a whole number from 0 to 64")?,
            None => 2,
        };
        let run_items_in_flight = match get("FERRY_RUN_ITEMS_IN_FLIGHT") {
            Some(raw) => Some(
                raw.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .context("FERRY_RUN_ITEMS_IN_FLIGHT must be a whole number from 1 to 256")?,
            ),
            None => None,
        };
        let run_lease = match get("FERRY_RUN_LEASE_SECS") {
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=600).contains(n))
                .map(std::time::Duration::from_secs)
                .context("FERRY_RUN_LEASE_SECS must be a whole number of seconds from 1 to 600")?,
            None => std::time::Duration::from_secs(30),
        };
        let oauth_url = match get("FERRY_OAUTH_URL") {
            Some(raw) => {
                let url = Url::parse(raw.trim()).context("FERRY_OAUTH_URL is not a URL")?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    bail!("FERRY_OAUTH_URL must be an http(s) URL with a host");
                }
                let same = url.as_str().trim_end_matches('/') == DEFAULT_OAUTH_URL;
                if mode == Mode::Production && !same {
                    bail!(
                        "FERRY_OAUTH_URL may only point elsewhere than {DEFAULT_OAUTH_URL} outside \
                         production: it receives assertions signed with tenants' shared secrets"
                    );
                }
                url
            }
            None => Url::parse(DEFAULT_OAUTH_URL).context("default OAuth URL")?,
        };
        let llm = parse_llm(&get, mode)?;
        let demo_source = match (get("FERRY_DEMO_ADO_URL"), get("FERRY_DEMO_ADO_PAT")) {
            (Some(url), Some(pat)) if mode == Mode::Development => Some((url, pat)),
            _ => None,
        };
        Ok(Self {
            demo_source,
            llm,
            run_workers,
            run_items_in_flight,
            run_lease,
            source_policy: SourcePolicy::parse(
                &get("FERRY_ALLOWED_SOURCE_HOSTS").unwrap_or_default(),
            ),
            pricing,
            points_per_hour,
            points_tier,
            points_window,
            base_url,
            app_key,
            listen,
            database_url,
            secret_key,
            install_keys_url,
            allowed_hosts,
            oauth_url,
            mode,
            data_dir,
        })
    }
}

/// `FERRY_LLM_URL` and `FERRY_LLM_MODEL` turn suggestions on together; one without the
/// other (or a key without both) is a mistake worth stopping for, not a silent "off".
fn parse_llm(
    get: &impl Fn(&str) -> Option<String>,
    mode: Mode,
) -> anyhow::Result<Option<LlmConfig>> {
    let set = |k: &str| {
        get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (url, model, key) = (
        set("FERRY_LLM_URL"),
        set("FERRY_LLM_MODEL"),
        set("FERRY_LLM_API_KEY"),
    );
    let (url, model) = match (url, model) {
        (None, None) if key.is_some() => {
            bail!("FERRY_LLM_API_KEY is set but FERRY_LLM_URL and FERRY_LLM_MODEL are not")
        }
        (None, None) => return Ok(None),
        (Some(u), Some(m)) => (u, m),
        (Some(_), None) => bail!("FERRY_LLM_URL is set but FERRY_LLM_MODEL is not; set both"),
        (None, Some(_)) => bail!("FERRY_LLM_MODEL is set but FERRY_LLM_URL is not; set both"),
    };
    let url = Url::parse(&url).context("FERRY_LLM_URL is not a URL")?;
    let host = url.host_str().unwrap_or("");
    if !matches!(url.scheme(), "http" | "https") || host.is_empty() {
        bail!("FERRY_LLM_URL must be an http(s) URL with a host, e.g. https://api.openai.com/v1");
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        bail!("FERRY_LLM_URL must carry no query and no credentials (use FERRY_LLM_API_KEY)");
    }
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    if mode == Mode::Production && url.scheme() == "http" && !local {
        bail!("FERRY_LLM_URL must be https in production (plain http only to localhost)");
    }
    if model.len() > 200 || model.chars().any(char::is_control) {
        bail!("FERRY_LLM_MODEL must be a model name of at most 200 printable characters");
    }
    Ok(Some(LlmConfig {
        url,
        model,
        api_key: key.map(SecretString::from),
    }))
}

fn parse_key(raw: &str) -> anyhow::Result<SecretKey> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .context("not valid base64")?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|v: Vec<u8>| anyhow::anyhow!("must decode to 32 bytes, not {}", v.len()))?;
    Ok(SecretKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn production_refuses_to_start_without_a_secret_key() {
        let err = config(&[
            ("FERRY_ENV", "production"),
            ("FERRY_BASE_URL", "https://ferry.example.com"),
        ])
        .expect_err("must refuse");
        assert!(err.to_string().contains("FERRY_SECRET_KEY"), "{err:#}");
    }

    #[test]
    fn production_refuses_plain_http_base_url() {
        let err = config(&[
            ("FERRY_ENV", "production"),
            ("FERRY_BASE_URL", "http://ferry.example.com"),
            ("FERRY_SECRET_KEY", KEY),
        ])
        .expect_err("must refuse");
        assert!(err.to_string().contains("https"), "{err:#}");
    }

    #[test]
    fn the_oauth_server_is_atlassians_and_only_moves_outside_production() {
        let prod = [
            ("FERRY_ENV", "production"),
            ("FERRY_BASE_URL", "https://ferry.example.com"),
            ("FERRY_SECRET_KEY", KEY),
        ];
        let c = config(&prod).expect("defaults");
        assert_eq!(
            c.oauth_url.as_str().trim_end_matches('/'),
            DEFAULT_OAUTH_URL
        );
        let mut moved = prod.to_vec();
        moved.push(("FERRY_OAUTH_URL", "https://oauth.evil.example"));
        let err = config(&moved).expect_err("production keeps Atlassian's server");
        assert!(err.to_string().contains("FERRY_OAUTH_URL"), "{err:#}");
        let dev = config(&[
            ("FERRY_SECRET_KEY", KEY),
            ("FERRY_OAUTH_URL", "http://127.0.0.1:9/sim"),
        ])
        .expect("development may point at a simulator");
        assert_eq!(dev.oauth_url.as_str(), "http://127.0.0.1:9/sim");
    }

    #[test]
    fn a_short_secret_key_is_a_clear_error() {
        let err = config(&[("FERRY_SECRET_KEY", "c2hvcnQ=")]).expect_err("must refuse");
        assert!(format!("{err:#}").contains("32 bytes"), "{err:#}");
    }

    #[test]
    fn debug_output_redacts_the_key_and_database_password() {
        let cfg = config(&[
            ("FERRY_SECRET_KEY", KEY),
            ("FERRY_DATABASE_URL", "postgres://ferry:hunter2@db/ferry"),
        ])
        .expect("valid");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn the_llm_is_off_by_default_and_on_with_url_and_model() {
        assert!(
            config(&[("FERRY_SECRET_KEY", KEY)])
                .expect("valid")
                .llm
                .is_none()
        );
        let cfg = config(&[
            ("FERRY_SECRET_KEY", KEY),
            ("FERRY_LLM_URL", "https://api.openai.com/v1"),
            ("FERRY_LLM_MODEL", "gpt-4o-mini"),
            ("FERRY_LLM_API_KEY", "sk-very-secret"),
        ])
        .expect("valid");
        let llm = cfg.llm.as_ref().expect("on");
        assert_eq!(
            (llm.url.as_str(), llm.model.as_str()),
            ("https://api.openai.com/v1", "gpt-4o-mini")
        );
        assert!(!format!("{cfg:?}").contains("sk-very-secret"));
    }

    #[test]
    fn bad_llm_settings_are_clear_errors() {
        for (vars, says) in [
            (
                &[("FERRY_LLM_URL", "ftp://x/v1"), ("FERRY_LLM_MODEL", "m")][..],
                "http(s)",
            ),
            (
                &[("FERRY_LLM_URL", "not a url"), ("FERRY_LLM_MODEL", "m")][..],
                "FERRY_LLM_URL",
            ),
            (&[("FERRY_LLM_URL", "https://x/v1")][..], "FERRY_LLM_MODEL"),
            (&[("FERRY_LLM_MODEL", "m")][..], "FERRY_LLM_URL"),
            (&[("FERRY_LLM_API_KEY", "k")][..], "FERRY_LLM_URL"),
            (
                &[
                    ("FERRY_LLM_URL", "https://u:p@x/v1"),
                    ("FERRY_LLM_MODEL", "m"),
                ][..],
                "credentials",
            ),
        ] {
            let mut all = vec![("FERRY_SECRET_KEY", KEY)];
            all.extend_from_slice(vars);
            let err = config(&all).expect_err("must refuse");
            assert!(format!("{err:#}").contains(says), "{vars:?}: {err:#}");
        }
        let err = config(&[
            ("FERRY_ENV", "production"),
            ("FERRY_BASE_URL", "https://ferry.example.com"),
            ("FERRY_SECRET_KEY", KEY),
            ("FERRY_LLM_URL", "http://llm.example.com/v1"),
            ("FERRY_LLM_MODEL", "m"),
        ])
        .expect_err("plain http to a remote model in production");
        assert!(err.to_string().contains("https"), "{err:#}");
    }

    #[test]
    fn items_in_flight_is_left_to_the_engine_unless_set_within_range() {
        let base = [("FERRY_SECRET_KEY", KEY)];
        assert_eq!(config(&base).expect("config").run_items_in_flight, None);
        let set = config(&[base[0], ("FERRY_RUN_ITEMS_IN_FLIGHT", "12")]).expect("config");
        assert_eq!(set.run_items_in_flight, Some(12));
        for bad in ["0", "257", "many"] {
            let err = config(&[base[0], ("FERRY_RUN_ITEMS_IN_FLIGHT", bad)]).expect_err(bad);
            assert!(
                err.to_string().contains("FERRY_RUN_ITEMS_IN_FLIGHT"),
                "{err:#}"
            );
        }
    }

    #[test]
    fn unknown_database_scheme_is_rejected() {
        let err = config(&[
            ("FERRY_SECRET_KEY", KEY),
            ("FERRY_DATABASE_URL", "mysql://x/y"),
        ])
        .expect_err("must refuse");
        assert!(err.to_string().contains("FERRY_DATABASE_URL"));
    }
}
