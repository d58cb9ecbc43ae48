//! Application state, the router, and the server loop with graceful shutdown.

use std::{ops::Deref, sync::Arc};

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    connect::{
        extract::Principal,
        install_keys::InstallKeys,
        outbound::HostClient,
        permissions::{Permissions, Right},
    },
    error::AppError,
    store::{Store, Tenant},
};

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<App>);

/// The shared parts behind [`AppState`].
pub struct App {
    /// Validated configuration.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// Signed-install public keys, cached by kid.
    pub install_keys: InstallKeys,
    /// Signed calls to tenants' Jira.
    pub host: HostClient,
    /// User tokens for posting as a comment's original author (memory only).
    pub act_as: crate::connect::act_as::ActAs,
    /// Server-side permission checks against Jira.
    pub permissions: Permissions,
    /// The rendered descriptor.
    pub descriptor: serde_json::Value,
    /// Wakes idle scan workers when a scan is queued (they also poll).
    pub scan_wakeup: tokio::sync::Notify,
    /// Wakes the dry-run workers when a dry run is queued.
    pub dry_run_wakeup: tokio::sync::Notify,
    /// Wakes the run workers when a run is queued or resumed.
    pub run_wakeup: tokio::sync::Notify,
    /// Posts run state changes to tenants' webhooks.
    pub notifier: crate::engine::notify::Notifier,
    /// Shares one progress reader per watched run between its event streams.
    pub run_watch: crate::web::run_events::Watchers,
    /// The model that suggests rules for what a draft leaves open, when configured.
    pub llm: Option<Arc<crate::llm::LlmClient>>,
    /// The Jira points budget and rate-limit governor every tenant client goes through.
    pub budget: crate::engine::budget::Budget,
}

impl App {
    /// The SSRF policy for Azure DevOps URLs.
    pub fn source_policy(&self) -> &crate::source::ado::SourcePolicy {
        &self.config.source_policy
    }
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    /// Builds the state; fails if the descriptor template does not render.
    pub fn new(config: Config, store: Store) -> anyhow::Result<Self> {
        let descriptor =
            crate::connect::descriptor::render(config.base_url.as_str(), &config.app_key)?;
        let host = HostClient::new(&config.app_key, std::time::Duration::from_secs(30));
        let llm = match &config.llm {
            Some(c) => Some(Arc::new(
                crate::llm::LlmClient::new(c, crate::llm::TIMEOUT).context("the LLM client")?,
            )),
            None => None,
        };
        let budget = crate::engine::budget::Budget::new(&config, store.clone());
        Ok(Self(Arc::new(App {
            llm,
            install_keys: InstallKeys::new(config.install_keys_url.clone()),
            permissions: Permissions::new(host.clone(), budget.clone()),
            act_as: crate::connect::act_as::ActAs::new(
                config.oauth_url.clone(),
                std::time::Duration::from_secs(30),
            ),
            host,
            descriptor,
            scan_wakeup: tokio::sync::Notify::new(),
            dry_run_wakeup: tokio::sync::Notify::new(),
            run_wakeup: tokio::sync::Notify::new(),
            budget,
            notifier: Default::default(),
            run_watch: Default::default(),
            config,
            store,
        })))
    }

    /// Refuses with 403 unless `principal` holds `right` in the tenant's Jira. API tokens are
    /// created by an admin and act with the tenant-wide rights of Ferry's admin pages.
    pub async fn require(
        &self,
        tenant: &Tenant,
        principal: &Principal,
        right: Right,
    ) -> Result<(), AppError> {
        let Principal::User(account) = principal else {
            return Ok(());
        };
        let creds = self.credentials(tenant)?;
        if self
            .permissions
            .has(&tenant.client_key, &creds, account, right.clone())
            .await?
        {
            return Ok(());
        }
        Err(AppError::Forbidden(match right {
            Right::Admin => "Jira administrator rights are required",
            Right::ProjectAdmin(_) => "project administrator rights are required",
        }))
    }
}

/// The whole HTTP surface as a function of state, so tests can drive it in-process.
pub fn router(state: AppState) -> Router {
    crate::web::router(state)
}

/// Serves `router(state)` on `listener` until `shutdown` is cancelled, then drains.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("HTTP server failed")
}

/// `ferry serve`: opens the store, binds, and runs until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.database_url).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(listen = %config.listen, base_url = %config.base_url, backend = store.backend(), "ferry serving");
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_shutdown(shutdown.clone()));
    let state = AppState::new(config, store)?;
    let workers = spawn_workers(&state, &shutdown);
    run(listener, state, shutdown).await?;
    for worker in workers {
        let _ = worker.await;
    }
    tracing::info!("ferry stopped");
    Ok(())
}

/// `ferry worker`: the background workers only (scans, dry runs, runs), no HTTP, for more
/// replicas against one PostgreSQL; runs until SIGTERM or Ctrl-C, then lets each job reach
/// its checkpoint.
pub async fn work(config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.database_url).await?;
    tracing::info!(backend = store.backend(), "ferry worker started");
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_shutdown(shutdown.clone()));
    let state = AppState::new(config, store)?;
    for worker in spawn_workers(&state, &shutdown) {
        let _ = worker.await;
    }
    tracing::info!("ferry worker stopped");
    Ok(())
}

/// Starts the background workers (catalog scans, dry runs, runs) of this process; they stop on `shutdown`.
pub fn spawn_workers(
    state: &AppState,
    shutdown: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4());
    let mut workers = vec![
        tokio::spawn(crate::intake::scan::worker(
            state.clone(),
            owner.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(crate::dryrun::worker(
            state.clone(),
            owner.clone(),
            shutdown.clone(),
        )),
    ];
    for n in 0..state.config.run_workers {
        workers.push(tokio::spawn(crate::engine::worker(
            state.clone(),
            format!("{owner}-run{n}"),
            shutdown.clone(),
        )));
    }
    workers
}

/// Cancels `token` on SIGTERM or Ctrl-C.
pub async fn signal_shutdown(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = term => tracing::info!("SIGTERM: shutting down"),
    }
    token.cancel();
}
