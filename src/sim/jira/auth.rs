//! Authentication on every `/rest` route: a Connect app's JWT, a user token the app got by
//! impersonation (`Bearer`, see [`super::oauth`]) or an API token over Basic.
//!
//! Connect: `Authorization: JWT <token>`, `iss` = a registered app key, HS256 with that app's
//! shared secret, and `qsh` = the hash of this exact request relative to the site's base path
//! (reusing `crate::connect`, so Ferry's signer and this verifier share one qsh
//! implementation). Basic: the `email:token` pair of `JiraSimOptions::api_user`. The caller's
//! kind and tenant are attached to the request and the response for the request log.
//! See <https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/>.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::Engine;

use super::{JiraSim, clock, error::JiraError};
use crate::connect::{jwt, qsh};

// The request log reads who called from `CallerTag` (`kind`: `connect`, `basic` or `anonymous`).
use crate::sim::reqlog::CallerTag;

/// The authenticated principal, available to handlers as a request extension.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Connect app (true) or API-token user (false).
    pub connect: bool,
    /// The accountId actions are attributed to.
    pub account_id: String,
}

/// Middleware: authenticates, then records [`CallerTag`] on the response.
pub async fn authenticate(State(sim): State<JiraSim>, mut req: Request, next: Next) -> Response {
    let tenant = sim.0.options.client_key.clone();
    match sim.identify(&req) {
        Ok(caller) => {
            let kind = if caller.connect { "connect" } else { "basic" };
            req.extensions_mut().insert(caller);
            let mut resp = next.run(req).await;
            resp.extensions_mut().insert(CallerTag { kind, tenant });
            resp
        }
        Err(why) => {
            tracing::debug!(why, "jira sim refused a request");
            let mut resp = JiraError::new(
                StatusCode::UNAUTHORIZED,
                "Client must be authenticated to access this resource.",
            )
            .into_response();
            resp.extensions_mut().insert(CallerTag {
                kind: "anonymous",
                tenant,
            });
            resp
        }
    }
}

impl JiraSim {
    fn identify(&self, req: &Request) -> Result<Caller, &'static str> {
        let header = header(req.headers()).ok_or("no Authorization header")?;
        if let Some(token) = header.strip_prefix("JWT ") {
            return self.identify_connect(req, token.trim());
        }
        if let Some(b64) = header.strip_prefix("Basic ") {
            return self.identify_basic(b64.trim());
        }
        if let Some(token) = header.strip_prefix("Bearer ") {
            // A user token from the authorization server ([`super::oauth`]): the app acting
            // as that user.
            let account_id = self
                .bearer_account(token.trim())
                .ok_or("unknown, expired or deactivated Bearer token")?;
            return Ok(Caller {
                connect: true,
                account_id,
            });
        }
        Err("unsupported Authorization scheme")
    }

    fn identify_connect(&self, req: &Request, token: &str) -> Result<Caller, &'static str> {
        let peeked = jwt::peek(token).map_err(|_| "malformed JWT")?;
        let app_key = peeked.claims.iss;
        let secret = self
            .0
            .apps
            .read()
            .get(&app_key)
            .cloned()
            .ok_or("unknown issuer")?;
        let uri = req.uri();
        let expected = qsh::qsh(
            req.method().as_str(),
            uri.path(),
            &self.0.context_path,
            uri.query(),
        )
        .map_err(|_| "undecodable query")?;
        jwt::verify_hs256(
            token,
            secret.as_bytes(),
            clock::now_secs(),
            jwt::QshRule::Computed(&expected),
        )
        .map_err(|_| "JWT refused")?;
        Ok(Caller {
            connect: true,
            account_id: app_account_id(&app_key),
        })
    }

    fn identify_basic(&self, b64: &str) -> Result<Caller, &'static str> {
        let (email, token) = self
            .0
            .options
            .api_user
            .as_ref()
            .ok_or("Basic auth is not enabled")?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| "bad base64")?;
        let pair = String::from_utf8(raw).map_err(|_| "bad utf-8")?;
        let (e, t) = pair.split_once(':').ok_or("no colon")?;
        let same = |a: &str, b: &str| {
            a.len() == b.len()
                && a.bytes()
                    .zip(b.bytes())
                    .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                    == 0
        };
        if !(e.eq_ignore_ascii_case(email) && same(t, token)) {
            return Err("wrong email or token");
        }
        let account_id = self
            .0
            .site
            .users
            .iter()
            .find(|u| {
                u["emailAddress"]
                    .as_str()
                    .is_some_and(|m| m.eq_ignore_ascii_case(email))
            })
            .and_then(|u| u["accountId"].as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("api-user:{email}"));
        Ok(Caller {
            connect: false,
            account_id,
        })
    }
}

/// The accountId Jira gives a Connect app's own user.
pub fn app_account_id(app_key: &str) -> String {
    format!("addon_{app_key}")
}

fn header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()
}
