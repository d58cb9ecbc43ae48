//! Pages shown inside Jira's iframe. Each is a typed askama template; rendering failures
//! become `AppError`. Pages check rights server-side: descriptor conditions only hide them.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::header,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    app::AppState,
    connect::{
        extract::{PageAuth, Principal},
        permissions::Right,
        session,
    },
    error::{AppError, Result},
    store::Tenant,
};

/// The page routes, plus the static assets they load.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pages/admin", get(admin))
        .route("/pages/project", get(project))
        .route("/static/{file}", get(asset))
}

/// The pages' assets, compiled in: no build step, nothing fetched from elsewhere.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "ferry.css",
        "text/css",
        include_str!("../../static/ferry.css"),
    ),
    (
        "ferry.js",
        "text/javascript",
        include_str!("../../static/ferry.js"),
    ),
    (
        "journey.js",
        "text/javascript",
        include_str!("../../static/journey.js"),
    ),
    (
        "mapping.js",
        "text/javascript",
        include_str!("../../static/mapping.js"),
    ),
    (
        "run.js",
        "text/javascript",
        include_str!("../../static/run.js"),
    ),
    (
        "settings.js",
        "text/javascript",
        include_str!("../../static/settings.js"),
    ),
];

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => ([(header::CONTENT_TYPE, *mime)], *body).into_response(),
        None => AppError::NotFound.into_response(),
    }
}

#[derive(Template)]
#[template(path = "pages/admin.html")]
struct AdminPage {
    session: String,
    site: String,
    /// `ferry demo` fills the connect form with its simulator (empty otherwise).
    demo_url: String,
    demo_pat: String,
}

#[derive(Template)]
#[template(path = "pages/project.html")]
struct ProjectPage {
    session: String,
    site: String,
    project_key: String,
}

/// A rendered page that may be framed by the tenant's Jira only.
fn framed(tenant: &Tenant, html: std::result::Result<String, askama::Error>) -> Result<Response> {
    let html = html.map_err(|e| AppError::Internal(e.into()))?;
    let csp =
        crate::web::security::frame_ancestors(&tenant.base_url, tenant.display_url.as_deref());
    Ok(([(header::CONTENT_SECURITY_POLICY, csp)], Html(html)).into_response())
}

/// What every page shows: the site's name and a session token for the page's API calls,
/// after checking the viewer holds `right`.
async fn page_context(state: &AppState, auth: &PageAuth, right: Right) -> Result<(String, String)> {
    state
        .require(
            &auth.tenant,
            &Principal::User(auth.account_id.clone()),
            right,
        )
        .await?;
    let site = auth
        .tenant
        .display_url
        .clone()
        .unwrap_or_else(|| auth.tenant.base_url.clone());
    Ok((session_for(state, auth)?, site))
}

fn session_for(state: &AppState, auth: &PageAuth) -> Result<String> {
    let secret = state.tenant_secret(&auth.tenant)?;
    Ok(session::issue(
        &state.config.app_key,
        &auth.tenant.client_key,
        &auth.account_id,
        secret.as_bytes(),
        crate::store::now_ms() / 1000,
    ))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn admin(State(state): State<AppState>, auth: PageAuth) -> Result<Response> {
    let (session, site) = page_context(&state, &auth, Right::Admin).await?;
    let (demo_url, demo_pat) = state.config.demo_source.clone().unwrap_or_default();
    let page = AdminPage {
        session,
        site,
        demo_url,
        demo_pat,
    };
    framed(&auth.tenant, page.render())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectParams {
    project_key: String,
    project_id: i64,
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn project(
    State(state): State<AppState>,
    auth: PageAuth,
    Query(p): Query<ProjectParams>,
) -> Result<Response> {
    let (session, site) = page_context(&state, &auth, Right::ProjectAdmin(p.project_id)).await?;
    let page = ProjectPage {
        session,
        site,
        project_key: p.project_key,
    };
    framed(&auth.tenant, page.render())
}
