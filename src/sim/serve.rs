//! Assembling a whole simulated Jira site: REST routes, rate limiter, faults, request log and
//! the Connect host role, sharing one clientKey. `ferry sim jira`, `ferry demo` and the tests
//! build their sites here, so every caller gets the same wiring and layer order.

use std::sync::Arc;

use axum::Router;
use url::Url;

use super::{
    faults::Faults,
    host::{ConnectHost, HostOptions, InstalledApp},
    jira::{self, JiraSim, JiraSimOptions, Site},
    limits::{JiraLimiter, jira_layers},
    reqlog::RequestLog,
};

/// A simulated Jira Cloud site, ready to serve.
pub struct JiraServer {
    /// Everything under one router: `/rest/…` behind the layers, `/_sim/…` outside them.
    pub router: Router,
    /// The site's data.
    pub sim: JiraSim,
    /// The Connect host role (installs apps, serves host pages).
    pub host: ConnectHost,
    /// The request log.
    pub log: RequestLog,
}

/// The simulated authorization server of a site at `base_url` (user impersonation): point
/// Ferry's `FERRY_OAUTH_URL` at it.
pub fn oauth_url(base_url: &Url) -> String {
    format!("{}/_sim/oauth", base_url.as_str().trim_end_matches('/'))
}

/// Builds a site at `base_url`. Apps installed through the host are registered with the REST
/// surface, so their JWTs verify; uninstalled apps are forgotten.
pub fn jira_server(
    base_url: Url,
    site: Site,
    options: JiraSimOptions,
    limiter: Option<JiraLimiter>,
    faults: Option<Faults>,
    host_options: HostOptions,
) -> anyhow::Result<JiraServer> {
    let client_key = options.client_key.clone();
    let sim = JiraSim::new(site, base_url.clone(), options);
    let oauth_base = base_url.clone();
    let log = RequestLog::new();
    let on_reset = sim.clone();
    log.on_reset(Arc::new(move || on_reset.reset()));
    let (installed, uninstalled) = (sim.clone(), sim.clone());
    let host = ConnectHost::new(
        base_url,
        HostOptions {
            client_key: Some(client_key),
            on_installed: Some(Arc::new(move |app: &InstalledApp| {
                installed.register_app(&app.key, &app.shared_secret);
                installed.register_oauth_client(&app.oauth_client_id, &app.shared_secret);
            })),
            on_uninstalled: Some(Arc::new(move |app: &InstalledApp| {
                uninstalled.unregister_app(&app.key);
                uninstalled.unregister_oauth_client(&app.oauth_client_id);
            })),
            ..host_options
        },
    )?;
    let oauth = sim.oauth_router(&oauth_url(&oauth_base));
    let router = jira_layers(jira::router(sim.clone()), limiter, faults, log.clone())
        .merge(host.router())
        .merge(oauth);
    Ok(JiraServer {
        router,
        sim,
        host,
        log,
    })
}
