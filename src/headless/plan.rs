//! The plan file of `ferry migrate`: where to read, where to write, which mapping, which store.
//! Secrets are given literally or as `env:NAME`, so a plan can be committed without them.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// A parsed plan with its secrets resolved.
#[derive(Debug)]
pub struct Plan {
    /// The folder the plan is in: relative paths (mapping file, report, draft) are from here.
    pub dir: PathBuf,
    /// Azure DevOps.
    pub source: Source,
    /// Jira Cloud.
    pub target: Target,
    /// A reviewed mapping file, if any.
    pub mapping_file: Option<PathBuf>,
    /// Ferry's state (checkpoints, id map): `sqlite://…` or `postgres://…`.
    pub database_url: String,
}

/// Where to read.
#[derive(Debug)]
pub struct Source {
    /// `https://dev.azure.com/{org}` or an ADO Server collection URL.
    pub organization_url: String,
    /// The project.
    pub project: String,
    /// The personal access token.
    pub pat: SecretString,
    /// An optional WIQL where-clause narrowing the scope.
    pub wiql_where: Option<String>,
}

/// Where to write.
#[derive(Debug)]
pub struct Target {
    /// `https://{site}.atlassian.net`.
    pub site_url: Url,
    /// The API token's user.
    pub email: String,
    /// The API token.
    pub api_token: SecretString,
    /// The Jira project.
    pub project_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    source: RawSource,
    target: RawTarget,
    #[serde(default)]
    mapping: RawMapping,
    #[serde(default)]
    state: RawState,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    organization_url: String,
    project: String,
    pat: String,
    wiql_where: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    site_url: String,
    email: String,
    api_token: String,
    project_key: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    file: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawState {
    database_url: Option<String>,
}

impl Plan {
    /// Reads and checks the plan at `path`; `env` resolves `env:NAME` secrets.
    pub fn load(path: &Path, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the plan {}", path.display()))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        Self::parse(&text, dir, env)
    }

    /// Parses plan text; relative paths are taken from `dir`.
    pub fn parse(
        text: &str,
        dir: PathBuf,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let raw: Raw = basic_toml::from_str(text).context("the plan is not valid")?;
        let secret = |what: &str, value: &str| -> anyhow::Result<SecretString> {
            let resolved = match value.strip_prefix("env:") {
                Some(name) => env(name).with_context(|| {
                    format!("{what} names the environment variable {name}, which is not set")
                })?,
                None => value.to_owned(),
            };
            if resolved.trim().is_empty() {
                bail!("{what} is empty");
            }
            Ok(SecretString::from(resolved.trim().to_owned()))
        };
        let site_url =
            Url::parse(raw.target.site_url.trim()).context("target.site_url is not a URL")?;
        if !matches!(site_url.scheme(), "https" | "http") || site_url.host_str().is_none() {
            bail!("target.site_url must be an https URL such as https://contoso.atlassian.net");
        }
        let key = raw.target.project_key.trim().to_owned();
        if key.is_empty() || key.len() > 10 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("target.project_key must be a Jira project key such as FAB");
        }
        if !raw.target.email.contains('@') {
            bail!("target.email must be the API token's e-mail address");
        }
        if raw.source.project.trim().is_empty() {
            bail!("source.project is empty");
        }
        let database_url = raw.state.database_url.unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                dir.join("ferry-migrate.db").display()
            )
        });
        Ok(Self {
            source: Source {
                organization_url: raw.source.organization_url.trim().to_owned(),
                project: raw.source.project.trim().to_owned(),
                pat: secret("source.pat", &raw.source.pat)?,
                wiql_where: raw.source.wiql_where.filter(|w| !w.trim().is_empty()),
            },
            target: Target {
                site_url,
                email: raw.target.email.trim().to_owned(),
                api_token: secret("target.api_token", &raw.target.api_token)?,
                project_key: key,
            },
            mapping_file: raw.mapping.file.map(|f| dir.join(f)),
            database_url,
            dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    const PLAN: &str = r#"
[source]
organization_url = "https://dev.azure.com/contoso"
project = "Fabrikam"
pat = "env:ADO_PAT"
[target]
site_url = "https://contoso.atlassian.net"
email = "admin@contoso.com"
api_token = "literal-token"
project_key = "FAB"
[mapping]
file = "mapping.json"
"#;

    fn env(name: &str) -> Option<String> {
        (name == "ADO_PAT").then(|| "pat-from-env".to_owned())
    }

    #[test]
    fn a_plan_resolves_env_secrets_and_paths_from_its_folder() {
        let plan = Plan::parse(PLAN, PathBuf::from("/plans"), env).expect("plan");
        assert_eq!(plan.source.pat.expose_secret(), "pat-from-env");
        assert_eq!(plan.target.api_token.expose_secret(), "literal-token");
        assert_eq!(
            plan.mapping_file,
            Some(PathBuf::from("/plans/mapping.json"))
        );
        assert_eq!(
            plan.database_url,
            "sqlite:///plans/ferry-migrate.db?mode=rwc"
        );
        assert_eq!(plan.target.project_key, "FAB");
    }

    #[test]
    fn bad_plans_say_what_is_wrong() {
        let cases = [
            (
                PLAN.replace("env:ADO_PAT", "env:MISSING"),
                "MISSING, which is not set",
            ),
            (PLAN.replace("\"FAB\"", "\"F-B\""), "project_key"),
            (
                PLAN.replace("https://contoso.atlassian.net", "contoso"),
                "site_url",
            ),
            (
                PLAN.replace("[mapping]", "[mapping]\ncolour = \"red\""),
                "not valid",
            ),
            (
                PLAN.replace("literal-token", " "),
                "target.api_token is empty",
            ),
        ];
        for (text, want) in cases {
            let e = Plan::parse(&text, PathBuf::from("."), env).expect_err(want);
            let shown = format!("{e:#}");
            assert!(shown.contains(want), "{shown} should mention {want}");
            assert!(!shown.contains("literal-token") && !shown.contains("pat-from-env"));
        }
    }
}
