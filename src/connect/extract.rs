//! "Who is calling, for which tenant": every authenticated route takes one of these extractors,
//! and no handler reads an `Authorization` header or a `jwt` parameter itself.
//!
//! - [`PageAuth`]: iframe pages. Jira's JWT in `?jwt=`, qsh computed from this request.
//! - [`ApiAuth`]: the JSON API. `Authorization: JWT` with a context token (`qsh` =
//!   `context-qsh`) or a Ferry session token, or `Authorization: Bearer` with a tenant API token.
//! - [`HostCallAuth`]: webhooks and `enabled`/`disabled`. Header JWT, qsh computed.
//!
//! The tenant always comes from the verified token (`iss`, or the API token's row), never from
//! a path, query or body. A second host identity (Forge Remote's invocation token) would be one
//! more branch in [`ApiAuth`] and one more extractor here; handlers would not change.

use axum::{extract::FromRequestParts, http::request::Parts};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::{
    jwt::{self, Claims, QshRule},
    outbound::TenantCredentials,
    qsh,
};
use crate::{
    app::AppState,
    error::AppError,
    store::{StoreError, Tenant},
};

/// A verified Jira-issued (or Ferry session) token and its tenant.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The tenant named by the token's issuer.
    pub tenant: Tenant,
    /// The verified claims.
    pub claims: Claims,
}

/// Who made an API call.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A Jira user, by accountId.
    User(String),
    /// A tenant API token (created by an admin).
    Token {
        /// The token's id.
        id: String,
        /// accountId of the admin who created it.
        created_by: String,
    },
}

impl Principal {
    /// How the audit log names this principal.
    pub fn actor(&self) -> String {
        match self {
            Self::User(account) => account.clone(),
            Self::Token { id, .. } => format!("token:{id}"),
        }
    }
}

/// An iframe page request, verified.
#[derive(Debug, Clone)]
pub struct PageAuth {
    /// The tenant.
    pub tenant: Tenant,
    /// The viewing user's accountId.
    pub account_id: String,
}

/// A JSON API request, verified.
#[derive(Debug, Clone)]
pub struct ApiAuth {
    /// The tenant.
    pub tenant: Tenant,
    /// The caller.
    pub principal: Principal,
}

/// A server-to-server call from Jira (webhook, enabled/disabled), verified.
#[derive(Debug, Clone)]
pub struct HostCallAuth(pub Verified);

const UNAUTHORIZED: AppError = AppError::Unauthorized("invalid or missing credentials");

/// The `Authorization: JWT …` token, if any. Any other scheme is `None`.
fn header_jwt(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("JWT ")
}

/// The `jwt` query parameter, if present (more than one is refused).
fn query_jwt(parts: &Parts) -> Result<Option<String>, AppError> {
    let mut found = None;
    for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
        if k == "jwt" {
            if found.is_some() {
                return Err(AppError::Unauthorized("two jwt parameters"));
            }
            found = Some(v.into_owned());
        }
    }
    Ok(found)
}

fn computed_qsh(state: &AppState, parts: &Parts) -> Result<String, AppError> {
    qsh::qsh(
        parts.method.as_str(),
        parts.uri.path(),
        state.config.base_url.path(),
        parts.uri.query(),
    )
    .map_err(|_| AppError::Unauthorized("undecodable query string"))
}

/// Verifies an HS256 token signed with its tenant's shared secret under `rule`.
pub async fn verify_tenant_token(
    state: &AppState,
    token: &str,
    rule: QshRule<'_>,
) -> Result<Verified, AppError> {
    let peeked = jwt::peek(token).map_err(|_| AppError::Unauthorized("malformed token"))?;
    let client_key = match rule {
        QshRule::Session => {
            // Ferry's own tokens: iss is us, aud names the tenant.
            if peeked.claims.iss != state.config.app_key {
                return Err(AppError::Unauthorized("session token with foreign issuer"));
            }
            match &peeked.claims.aud {
                Some(jwt::Audience::One(aud)) => aud.clone(),
                _ => {
                    return Err(AppError::Unauthorized(
                        "session token without tenant audience",
                    ));
                }
            }
        }
        _ => peeked.claims.iss.clone(),
    };
    let tenant = state
        .store
        .tenant(&client_key)
        .await
        .map_err(unauthorized_if_missing("unknown issuer"))?;
    // A headless tenant's sealed secret is a user's API token, not a key Jira signs with.
    if tenant.auth != "connect" {
        return Err(AppError::Unauthorized("unknown issuer"));
    }
    let secret = state.tenant_secret(&tenant)?;
    let claims = jwt::verify_hs256(
        token,
        secret.as_bytes(),
        crate::store::now_ms() / 1000,
        rule,
    )
    .map_err(|e| {
        tracing::debug!(reason = %e, "token refused");
        UNAUTHORIZED
    })?;
    Ok(Verified { tenant, claims })
}

fn require_enabled(tenant: &Tenant) -> Result<(), AppError> {
    if tenant.enabled == 0 {
        return Err(AppError::Forbidden("Ferry is disabled on this Jira site"));
    }
    Ok(())
}

impl FromRequestParts<AppState> for PageAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if header_jwt(parts).is_some() {
            return Err(AppError::Unauthorized("token in both query and header"));
        }
        let token = query_jwt(parts)?.ok_or(AppError::Unauthorized("page without jwt"))?;
        let expected = computed_qsh(state, parts)?;
        let verified = verify_tenant_token(state, &token, QshRule::Computed(&expected)).await?;
        require_enabled(&verified.tenant)?;
        let account_id = verified
            .claims
            .account_id()
            .ok_or(AppError::Unauthorized("page token without user"))?
            .to_owned();
        Ok(Self {
            tenant: verified.tenant,
            account_id,
        })
    }
}

impl FromRequestParts<AppState> for HostCallAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if query_jwt(parts)?.is_some() {
            return Err(AppError::Unauthorized(
                "token in query on a server-to-server route",
            ));
        }
        let token = header_jwt(parts).ok_or(AppError::Unauthorized("missing JWT header"))?;
        let expected = computed_qsh(state, parts)?;
        Ok(Self(
            verify_tenant_token(state, token, QshRule::Computed(&expected)).await?,
        ))
    }
}

/// A credential naming a row the store does not have is the caller's fault (401, with `why`
/// for the log); a store that cannot answer is ours (500), or a client would drop a good
/// credential (`ferry migrate` stops on a 401).
fn unauthorized_if_missing(why: &'static str) -> impl Fn(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::Unauthorized(why),
        other => other.into(),
    }
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if query_jwt(parts)?.is_some() {
            return Err(AppError::Unauthorized("token in query on an API route"));
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthorized("missing Authorization"))?;
        if let Some(token) = header.strip_prefix("Bearer ") {
            let hash = hash_api_token(token);
            let row = state
                .store
                .use_api_token(&hash)
                .await
                .map_err(unauthorized_if_missing("unknown API token"))?;
            let tenant = state
                .store
                .tenant(&row.client_key)
                .await
                .map_err(unauthorized_if_missing("invalid or missing credentials"))?;
            require_enabled(&tenant)?;
            return Ok(Self {
                tenant,
                principal: Principal::Token {
                    id: row.id,
                    created_by: row.created_by,
                },
            });
        }
        let token = header
            .strip_prefix("JWT ")
            .ok_or(AppError::Unauthorized("unsupported scheme"))?;
        let peeked = jwt::peek(token).map_err(|_| AppError::Unauthorized("malformed token"))?;
        let rule = if peeked.claims.iss == state.config.app_key {
            QshRule::Session
        } else {
            QshRule::Context
        };
        let verified = verify_tenant_token(state, token, rule).await?;
        require_enabled(&verified.tenant)?;
        let account = verified
            .claims
            .account_id()
            .ok_or(AppError::Unauthorized("token without user"))?
            .to_owned();
        Ok(Self {
            tenant: verified.tenant,
            principal: Principal::User(account),
        })
    }
}

/// Tenant API tokens are 256-bit random strings, so an unsalted SHA-256 is a safe lookup key.
pub fn hash_api_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl AppState {
    /// Opens a tenant's sealed shared secret.
    pub fn tenant_secret(&self, tenant: &Tenant) -> Result<String, AppError> {
        let bytes = self
            .config
            .secret_key
            .open(&tenant.sealed_secret, tenant.client_key.as_bytes())
            .map_err(|e| {
                AppError::Internal(
                    anyhow::Error::new(e)
                        .context("opening a tenant secret (wrong FERRY_SECRET_KEY?)"),
                )
            })?;
        String::from_utf8(bytes).map_err(|e| AppError::Internal(e.into()))
    }

    /// What the outbound client needs to call this tenant's Jira.
    pub fn credentials(&self, tenant: &Tenant) -> Result<TenantCredentials, AppError> {
        let base_url =
            url::Url::parse(&tenant.base_url).map_err(|e| AppError::Internal(e.into()))?;
        Ok(TenantCredentials {
            base_url,
            shared_secret: SecretString::from(self.tenant_secret(tenant)?),
        })
    }
}
