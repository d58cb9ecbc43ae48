//! `ferry migrate --plan PLAN.toml`: the same engine without Jira's UI. The process starts
//! Ferry on the plan's store, on a loopback port, and walks the journey through Ferry's own
//! JSON API with a tenant API token, so the headless path runs exactly the validation, audit
//! and engine the pages do. The Jira site is a headless tenant reached with the plan's API
//! token (HTTP Basic), which may also use Jira's `/bulk/*` operations.
//!
//! Running the same command again resumes: the connection, catalog and mapping are found
//! again, and a paused or interrupted run of the mapping is continued, not started anew.

pub mod plan;
mod progress;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use rand::RngCore as _;
use reqwest::Method;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{
    app::{self, AppState},
    config::Config,
    connect::extract::hash_api_token,
    store::Store,
};
pub use plan::Plan;

/// What `ferry migrate` was asked.
#[derive(Debug, Clone)]
pub struct Args {
    /// The plan file.
    pub plan: PathBuf,
    /// Only the dry run.
    pub dry_run: bool,
    /// Approve the drafted mapping without a review.
    pub accept_draft: bool,
}

/// How `ferry migrate` ends; the process exit code is the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Completed with every item migrated (or the dry run done).
    Done = 0,
    /// The run failed, or Ferry could not go on (the message says why).
    Failed = 1,
    /// The plan or the mapping file is wrong.
    BadInput = 2,
    /// A mapping was drafted for review; nothing was migrated.
    DraftWritten = 3,
    /// Interrupted (Ctrl-C) and paused at a checkpoint; the same command resumes.
    Paused = 4,
    /// Completed, and some items failed (listed in the report).
    DoneWithFailures = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// A bad plan or mapping file: exit code 2 instead of 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadInput(String);

/// Runs `ferry migrate`; errors are printed and become exit codes.
pub async fn migrate(args: Args) -> Exit {
    match drive(&args).await {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("ferry migrate: {e:#}");
            if e.downcast_ref::<BadInput>().is_some() {
                Exit::BadInput
            } else {
                Exit::Failed
            }
        }
    }
}

async fn drive(args: &Args) -> anyhow::Result<Exit> {
    let plan = Plan::load(&args.plan, |n| std::env::var(n).ok())
        .map_err(|e| BadInput(format!("{e:#}")))?;
    let data_dir = plan.dir.join(".ferry");
    let config = Config::from_lookup(|k| match k {
        "FERRY_DATABASE_URL" => Some(plan.database_url.clone()),
        "FERRY_DATA_DIR" => Some(data_dir.display().to_string()),
        "FERRY_LISTEN" => Some("127.0.0.1:0".into()),
        // The organization is the operator's own; it may be a server on their network.
        "FERRY_ALLOWED_SOURCE_HOSTS" => std::env::var(k).ok().or_else(|| {
            url::Url::parse(&plan.source.organization_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        }),
        _ => std::env::var(k).ok(),
    })?;
    let store = Store::open(&config.database_url).await?;
    let state = AppState::new(config, store)?;
    let shutdown = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(app::run(listener, state.clone(), shutdown.clone()));
    let workers = app::spawn_workers(&state, &shutdown);
    let api = Api::open(&state, &plan, base).await?;
    let outcome = journey(&api, &plan, args).await;
    api.close(&state).await;
    shutdown.cancel();
    for w in workers {
        let _ = w.await;
    }
    outcome
}

/// How often progress is read while a scan, draft or run goes on. Each read counts the run's
/// items and checkpoints, so it costs the app more as the run grows; once a second is as often
/// as a progress bar needs (Ctrl-C does not wait for it).
const POLL: Duration = Duration::from_secs(1);

/// The longest pause between tries of a progress read (0.25 s doubling: ~30 s in all).
const GET_PATIENCE: Duration = Duration::from_secs(16);

/// Ferry's API on the loopback port, as the headless tenant.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    client_key: String,
    token_id: String,
}

impl Api {
    /// Registers the headless tenant for the plan's site and mints this session's API token.
    async fn open(state: &AppState, plan: &Plan, base: String) -> anyhow::Result<Self> {
        let site = &plan.target.site_url;
        let client_key = format!(
            "cli:{}{}",
            site.host_str().unwrap_or(""),
            site.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        let secret = format!(
            "{}:{}",
            plan.target.email,
            plan.target.api_token.expose_secret()
        );
        let sealed = state
            .config
            .secret_key
            .seal(secret.as_bytes(), client_key.as_bytes());
        state
            .store
            .ensure_cli_tenant(&client_key, site.as_str().trim_end_matches('/'), &sealed)
            .await?;
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = format!(
            "ferry_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        );
        let row = state
            .store
            .create_api_token(
                &client_key,
                "ferry migrate",
                &hash_api_token(&token),
                "ferry-cli",
            )
            .await?;
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()?,
            base,
            token,
            client_key,
            token_id: row.id,
        })
    }

    /// Revokes this session's token.
    async fn close(&self, state: &AppState) {
        if let Err(e) = state
            .store
            .revoke_api_token(&self.client_key, &self.token_id, "ferry-cli")
            .await
        {
            tracing::warn!(error = %e, "revoking the session token failed");
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        self.attempt(method, path, body).await.map_err(|(e, _)| e)
    }

    /// One call; on failure, also whether trying again may help (no answer, or a 5xx).
    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (anyhow::Error, bool)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request
            .send()
            .await
            .context("calling Ferry")
            .map_err(|e| (e, true))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let why = value["error"]
                .as_str()
                .or(value["message"].as_str())
                .unwrap_or(&text);
            return Err((anyhow!("{path}: {status}: {why}"), status.is_server_error()));
        }
        Ok(value)
    }

    /// A read, tried again on a 5xx or no answer for up to ~30 s: the app shares this process
    /// and its SQLite file with the run, and a progress poll that meets a busy database must
    /// not end a migration that is going well.
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let mut pause = Duration::from_millis(250);
        loop {
            match self.attempt(Method::GET, path, None).await {
                Ok(v) => return Ok(v),
                Err((e, true)) if pause <= GET_PATIENCE => {
                    tracing::warn!(error = %e, "reading progress failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Polls `path` until `pointer` is a final status; returns the last answer.
    async fn until_done(
        &self,
        path: &str,
        pointer: &str,
        show: &mut progress::Progress,
    ) -> anyhow::Result<Value> {
        loop {
            let v = self.get(path).await?;
            show.update(&v);
            match v.pointer(pointer).and_then(Value::as_str) {
                Some("completed" | "failed" | "cancelled") => return Ok(v),
                _ => tokio::time::sleep(POLL).await,
            }
        }
    }
}

async fn journey(api: &Api, plan: &Plan, args: &Args) -> anyhow::Result<Exit> {
    let connection = connection(api, plan).await?;
    let catalog = scan(api, plan, &connection).await?;
    let Some(mapping) = mapping(api, plan, args, &catalog).await? else {
        return Ok(Exit::DraftWritten);
    };
    if args.dry_run {
        return dry_run(api, plan, &mapping).await;
    }
    run::migrate(api, plan, &mapping).await
}

/// The connection for the plan's organization, created or with its PAT refreshed.
async fn connection(api: &Api, plan: &Plan) -> anyhow::Result<String> {
    let url = plan.source.organization_url.trim_end_matches('/');
    let pat = plan.source.pat.expose_secret();
    let existing = api.get("/api/connections").await?;
    let found = existing
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["orgUrl"].as_str().map(|u| u.trim_end_matches('/')) == Some(url));
    if let Some(id) = found.and_then(|c| c["id"].as_str()) {
        api.call(
            Method::PUT,
            &format!("/api/connections/{id}/pat"),
            Some(json!({ "pat": pat })),
        )
        .await
        .map_err(|e| BadInput(format!("{e:#}")))?;
        return Ok(id.to_owned());
    }
    let made = api
        .post("/api/connections", json!({ "url": url, "pat": pat }))
        .await
        .map_err(|e| BadInput(format!("{e:#}")))?;
    Ok(made["id"].as_str().context("connection id")?.to_owned())
}

/// Scans the project (in place when it was scanned before); returns the catalog id.
async fn scan(api: &Api, plan: &Plan, connection: &str) -> anyhow::Result<String> {
    let mut scope = json!({});
    if let Some(w) = &plan.source.wiql_where {
        scope["wiqlWhere"] = json!(w);
    }
    let started = api
        .post(
            "/api/scans",
            json!({ "connectionId": connection, "project": plan.source.project, "scope": scope }),
        )
        .await
        .map_err(|e| BadInput(format!("{e:#}")))?;
    let id = started["scan"]["id"].as_str().context("scan id")?;
    let mut show = progress::Progress::new("scan");
    let done = api
        .until_done(&format!("/api/scans/{id}"), "/status", &mut show)
        .await?;
    show.finish(&format!("scanned {} items", done["itemsDone"]));
    if done["status"] != "completed" {
        bail!(
            "the scan failed: {}",
            done["error"].as_str().unwrap_or("no reason given")
        );
    }
    Ok(started["catalogId"]
        .as_str()
        .context("catalog id")?
        .to_owned())
}

/// The approved mapping to run, or `None` when a draft was written for review.
async fn mapping(
    api: &Api,
    plan: &Plan,
    args: &Args,
    catalog: &str,
) -> anyhow::Result<Option<String>> {
    let key = &plan.target.project_key;
    let list = api
        .get(&format!("/api/catalogs/{catalog}/mappings"))
        .await?;
    let existing = list
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["projectKey"].as_str() == Some(key))
        .max_by_key(|m| m["createdAt"].as_i64().unwrap_or(0))
        .and_then(|m| m["id"].as_str())
        .map(str::to_owned);
    let id = match existing {
        Some(id) => id,
        None => {
            let made = api
                .post(
                    &format!("/api/catalogs/{catalog}/mappings"),
                    json!({ "projectKey": key }),
                )
                .await
                .map_err(|e| BadInput(format!("{e:#}")))?;
            made["id"].as_str().context("mapping id")?.to_owned()
        }
    };
    let mut current = api.get(&format!("/api/mappings/{id}")).await?;
    if let Some(file) = &plan.mapping_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| BadInput(format!("reading the mapping file {}: {e}", file.display())))?;
        let wanted: Value = serde_json::from_str(&text).map_err(|e| {
            BadInput(format!(
                "the mapping file {} is not JSON: {e}",
                file.display()
            ))
        })?;
        if wanted != current["mapping"] {
            current = api
                .call(
                    Method::PUT,
                    &format!("/api/mappings/{id}"),
                    Some(json!({ "version": current["version"], "mapping": wanted })),
                )
                .await
                .map_err(|e| BadInput(format!("the mapping file was refused: {e:#}")))?;
        }
    } else if current["status"] != "approved" {
        let draft = plan.dir.join("mapping.draft.json");
        let body = serde_json::to_string_pretty(&current["mapping"])?;
        std::fs::write(&draft, body).with_context(|| format!("writing {}", draft.display()))?;
        if !args.accept_draft {
            eprintln!(
                "A mapping was drafted: {}\nReview it, name it in the plan ([mapping] file = \"…\"), and run again (or pass --accept-draft).",
                draft.display()
            );
            return Ok(None);
        }
        eprintln!(
            "Draft written to {} and accepted (--accept-draft).",
            draft.display()
        );
    }
    if current["status"] != "approved" {
        api.post(
            &format!("/api/mappings/{id}/approve"),
            json!({ "version": current["version"] }),
        )
        .await?;
    }
    Ok(Some(id))
}

async fn dry_run(api: &Api, plan: &Plan, mapping: &str) -> anyhow::Result<Exit> {
    let started = api
        .post(&format!("/api/mappings/{mapping}/dry-runs"), json!({}))
        .await?;
    let id = started["id"]
        .as_str()
        .or(started["dryRun"]["id"].as_str())
        .context("dry run id")?
        .to_owned();
    let mut show = progress::Progress::new("dry run");
    let done = api
        .until_done(&format!("/api/dry-runs/{id}"), "/dryRun/status", &mut show)
        .await?;
    let t = &done["totals"];
    show.finish(&format!(
        "dry run: {} to create, {} to skip, {} would fail, {} with warnings",
        t["create"], t["skip"], t["fail"], t["warned"]
    ));
    for p in done["problems"].as_array().into_iter().flatten() {
        println!(
            "  {:>6}  {:<24} {}",
            p["items"],
            p["code"].as_str().unwrap_or(""),
            p["explain"].as_str().unwrap_or("")
        );
    }
    let report = plan.dir.join("ferry-dry-run.json");
    std::fs::write(&report, serde_json::to_string_pretty(&done)?)?;
    println!("Report: {}", report.display());
    Ok(Exit::Done)
}

mod run;
