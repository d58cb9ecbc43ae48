//! Application state, the router, and the server loop with graceful shutdown.

use std::{ops::Deref, sync::Arc};

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{config::Config, store::Store};

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<App>);

/// The shared parts behind [`AppState`].
pub struct App {
    /// Validated configuration.
    pub config: Config,
    /// The database.
    pub store: Store,
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    /// Builds the state from its parts.
    pub fn new(config: Config, store: Store) -> Self {
        Self(Arc::new(App { config, store }))
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
    run(listener, AppState::new(config, store), shutdown).await?;
    tracing::info!("ferry stopped");
    Ok(())
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
