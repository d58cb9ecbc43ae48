//! `/_sim/…` routes of the host role.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use super::{ConnectHost, page::host_page};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstallBody {
    descriptor_url: String,
    #[expect(
        dead_code,
        reason = "accepted for symmetry with the page URL; installs are not per user"
    )]
    account_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AppBody {
    app_key: Option<String>,
}

impl ConnectHost {
    /// `GET /_sim/install-keys/{kid}`, `POST /_sim/install`, `POST /_sim/uninstall`,
    /// `POST /_sim/lifecycle/{event}` and `GET /_sim/host/{moduleKey}`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_sim/install-keys/{kid}", get(install_key))
            .route("/_sim/install", post(install))
            .route("/_sim/uninstall", post(uninstall))
            .route("/_sim/lifecycle/{event}", post(lifecycle))
            .route("/_sim/host/{module_key}", get(page))
            .with_state(self.clone())
    }

    fn pick_app(&self, body: Option<AppBody>) -> Result<String, Box<Response>> {
        if let Some(key) = body.and_then(|b| b.app_key) {
            return Ok(key);
        }
        let apps = self.installed();
        match apps.as_slice() {
            [only] => Ok(only.key.clone()),
            _ => Err(Box::new(fail(
                StatusCode::BAD_REQUEST,
                "name the app: {\"appKey\": \"…\"}",
            ))),
        }
    }
}

fn fail(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

async fn install_key(State(host): State<ConnectHost>, Path(kid): Path<String>) -> Response {
    if kid != host.kid() {
        return fail(StatusCode::NOT_FOUND, "no such kid");
    }
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        host.public_key_pem().to_owned(),
    )
        .into_response()
}

async fn install(State(host): State<ConnectHost>, Json(body): Json<InstallBody>) -> Response {
    match host.install(&body.descriptor_url).await {
        Ok(app) => {
            Json(json!({ "appKey": app.key, "clientKey": app.client_key, "baseUrl": app.base_url }))
                .into_response()
        }
        Err(e) => fail(StatusCode::BAD_GATEWAY, format!("{e:#}")),
    }
}

async fn uninstall(State(host): State<ConnectHost>, body: Option<Json<AppBody>>) -> Response {
    let key = match host.pick_app(body.map(|Json(b)| b)) {
        Ok(k) => k,
        Err(resp) => return *resp,
    };
    match host.uninstall(&key).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => fail(StatusCode::BAD_GATEWAY, format!("{e:#}")),
    }
}

async fn lifecycle(
    State(host): State<ConnectHost>,
    Path(event): Path<String>,
    body: Option<Json<AppBody>>,
) -> Response {
    let key = match host.pick_app(body.map(|Json(b)| b)) {
        Ok(k) => k,
        Err(resp) => return *resp,
    };
    match host.lifecycle(&key, &event).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => fail(StatusCode::BAD_GATEWAY, format!("{e:#}")),
    }
}

async fn page(
    State(host): State<ConnectHost>,
    Path(module_key): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let account_id = params
        .iter()
        .find(|(k, _)| k == "accountId")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match host.iframe_url(&module_key, &account_id, &params) {
        Ok(src) => Html(host_page(&module_key, &src)).into_response(),
        Err(e) => fail(StatusCode::NOT_FOUND, format!("{e:#}")),
    }
}
