//! The authorization server of user impersonation (reference `connect-and-security.md` §4.3),
//! for one simulated site: `POST {server}/oauth2/token` takes a Connect app's JWT-bearer
//! assertion and answers a short-lived opaque token that the REST surface accepts as
//! `Authorization: Bearer <token>`, acting as the user the assertion names.
//!
//! The assertion is checked as strictly as the protocol allows: HS256 only, signed with the
//! shared secret of the app whose `oauthClientId` is in `iss`
//! (`urn:atlassian:connect:clientid:…`); `aud` = this server; `tnt` = this site's base URL;
//! `exp` in the future and `iat` not in it; `sub` = `urn:atlassian:connect:useraccountid:…` of
//! a user who exists and is active. Errors are RFC 6749 §5.2 shapes (`invalid_grant`, …) and
//! never echo the assertion. Served outside the `/rest` auth layer (it is another host in real
//! life), on whatever listener the caller mounts [`JiraSim::oauth_router`] at.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde_json::json;

use super::{JiraSim, clock};
use crate::connect::act_as::{AssertionClaims, GRANT_TYPE};

/// Lifetime of an issued token (Atlassian's are short-lived, minutes).
pub const TOKEN_TTL_SECS: i64 = 900;
/// Clock skew tolerated on `iat`/`exp`.
const LEEWAY_SECS: u64 = 5;
const ISS_PREFIX: &str = "urn:atlassian:connect:clientid:";
const SUB_PREFIX: &str = "urn:atlassian:connect:useraccountid:";
/// Scopes a Connect app may ask a user token for.
const SCOPES: [&str; 5] = ["READ", "WRITE", "DELETE", "PROJECT_ADMIN", "ADMIN"];

/// An issued token: whose, until when (unix seconds).
#[derive(Debug, Clone)]
pub(super) struct Issued {
    pub account_id: String,
    pub expires_at: i64,
}

#[derive(Clone)]
struct Server {
    sim: JiraSim,
    audience: String,
}

/// An RFC 6749 §5.2 error answer.
struct Refusal(StatusCode, &'static str, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Self(status, error, why) = self;
        tracing::debug!(error, why, "sim authorization server refused a grant");
        (
            status,
            Json(json!({ "error": error, "error_description": why })),
        )
            .into_response()
    }
}

fn refuse(status: StatusCode, error: &'static str, why: &'static str) -> Refusal {
    Refusal(status, error, why)
}

impl JiraSim {
    /// Lets the app with `oauth_client_id` (from its install) sign assertions with
    /// `shared_secret`.
    pub fn register_oauth_client(&self, oauth_client_id: &str, shared_secret: &str) {
        self.0
            .oauth_clients
            .write()
            .insert(oauth_client_id.to_owned(), shared_secret.to_owned());
    }

    /// Forgets an app's `oauthClientId` (after an uninstall).
    pub fn unregister_oauth_client(&self, oauth_client_id: &str) {
        self.0.oauth_clients.write().remove(oauth_client_id);
    }

    /// Deactivates a user from now on: their tokens stop working, grants are refused and the
    /// user API says `active: false`.
    pub fn deactivate_user(&self, account_id: &str) {
        self.0.deactivated.write().insert(account_id.to_owned());
    }

    /// Every token issued so far (for tests that check none leaked anywhere).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.0.tokens.read().keys().cloned().collect()
    }

    /// The authorization server, whose own URL (the `aud` it requires) is `audience`: serves
    /// `POST /oauth2/token` under whatever prefix `audience` has.
    pub fn oauth_router(&self, audience: &str) -> Router {
        let audience = audience.trim_end_matches('/').to_owned();
        let prefix = url::Url::parse(&audience)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Router::new()
            .route(&format!("{prefix}/oauth2/token"), post(token))
            .with_state(Server {
                sim: self.clone(),
                audience,
            })
    }

    /// The account of a live Bearer `token`, if it is one and its user is still active.
    pub(super) fn bearer_account(&self, token: &str) -> Option<String> {
        let issued = self.0.tokens.read().get(token).cloned()?;
        (issued.expires_at > clock::now_secs() && self.is_active(&issued.account_id))
            .then_some(issued.account_id)
    }

    fn verify_assertion(&self, audience: &str, assertion: &str) -> Result<String, Refusal> {
        let bad = |why| refuse(StatusCode::BAD_REQUEST, "invalid_grant", why);
        // Read `iss` to find the key; nothing else is trusted before the signature checks.
        let mut peek = Validation::new(Algorithm::HS256);
        peek.insecure_disable_signature_validation();
        peek.validate_exp = false;
        peek.validate_aud = false;
        peek.required_spec_claims.clear();
        let unverified = jsonwebtoken::decode::<AssertionClaims>(
            assertion,
            &DecodingKey::from_secret(b""),
            &peek,
        )
        .map_err(|_| bad("the assertion is not a JWT with the required claims"))?;
        let client_id = unverified
            .claims
            .iss
            .strip_prefix(ISS_PREFIX)
            .ok_or_else(|| bad("iss is not urn:atlassian:connect:clientid:{oauthClientId}"))?;
        let secret = self
            .0
            .oauth_clients
            .read()
            .get(client_id)
            .cloned()
            .ok_or_else(|| {
                refuse(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "unknown oauthClientId",
                )
            })?;
        let mut check = Validation::new(Algorithm::HS256);
        check.set_audience(&[audience]);
        check.set_issuer(&[unverified.claims.iss.as_str()]);
        check.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
        check.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<AssertionClaims>(
            assertion,
            &DecodingKey::from_secret(secret.as_bytes()),
            &check,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => bad("the assertion has expired"),
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                bad("aud is not this authorization server")
            }
            _ => bad("the assertion's signature or claims do not verify"),
        })?
        .claims;
        let now = clock::now_secs();
        if claims.iat > now + LEEWAY_SECS as i64 || claims.exp <= claims.iat {
            return Err(bad("iat is in the future or after exp"));
        }
        if claims.tnt.trim_end_matches('/') != self.base_url() {
            return Err(bad("tnt is not this site"));
        }
        let account = claims
            .sub
            .strip_prefix(SUB_PREFIX)
            .filter(|a| !a.is_empty() && !a.starts_with("addon_"))
            .ok_or_else(|| bad("sub is not urn:atlassian:connect:useraccountid:{accountId}"))?;
        if !self.0.catalog.users_by_id.contains_key(account) || !self.is_active(account) {
            return Err(bad("the user does not exist or is not active"));
        }
        Ok(account.to_owned())
    }
}

async fn token(State(server): State<Server>, headers: HeaderMap, body: String) -> Response {
    let form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        )
        .into_response();
    }
    let (mut grant, mut assertion, mut scope) = (None, None, None);
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "grant_type" => grant = Some(v.into_owned()),
            "assertion" => assertion = Some(v.into_owned()),
            "scope" => scope = Some(v.into_owned()),
            _ => {}
        }
    }
    if grant.as_deref() != Some(GRANT_TYPE) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be the JWT bearer grant",
        )
        .into_response();
    }
    let scopes_ok = scope.as_deref().is_some_and(|s| {
        let mut any = false;
        s.split([' ', '+']).filter(|x| !x.is_empty()).all(|x| {
            any = true;
            SCOPES.contains(&x)
        }) && any
    });
    if !scopes_ok {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope must be upper-case scopes such as READ WRITE",
        )
        .into_response();
    }
    let Some(assertion) = assertion else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_request", "no assertion").into_response();
    };
    let account = match server.sim.verify_assertion(&server.audience, &assertion) {
        Ok(a) => a,
        Err(refused) => return refused.into_response(),
    };
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    server.sim.0.tokens.write().insert(
        token.clone(),
        Issued {
            account_id: account,
            expires_at: clock::now_secs() + TOKEN_TTL_SECS,
        },
    );
    Json(json!({ "access_token": token, "expires_in": TOKEN_TTL_SECS, "token_type": "Bearer" }))
        .into_response()
}
