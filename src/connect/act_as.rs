//! User impersonation ("act as user", the OAuth 2.0 JWT bearer grant of Connect apps): Ferry
//! asks the authorization server for a short-lived token of one Jira user, then calls Jira
//! with `Authorization: Bearer <token>`, so what it writes (comments) is that user's.
//!
//! Reference `connect-and-security.md` §4.3: the assertion is an HS256 JWT signed with the
//! tenant's shared secret, `iss` = `urn:atlassian:connect:clientid:{oauthClientId}` (from the
//! install), `sub` = `urn:atlassian:connect:useraccountid:{accountId}`, `tnt` = the tenant's
//! baseUrl, `aud` = the authorization server; it is POSTed as a form to `{aud}/oauth2/token`
//! with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and the scopes wanted. The
//! descriptor must declare `ACT_AS_USER`.
//!
//! Tokens are cached per (tenant, accountId) in memory only, until shortly before they expire
//! (ACE subtracts a few seconds; we keep a larger margin so a token never expires mid-call).
//! They are never stored, never logged and never put in an error: [`SecretString`] holds them
//! and errors carry the status only. A refusal (4xx: the user is gone, inactive or has no
//! access) is cached briefly too, so one missing user costs one grant call per few minutes, not
//! one per comment.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use jsonwebtoken::{EncodingKey, Header};
use parking_lot::Mutex;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::outbound::TenantCredentials;

/// The scopes asked for: what posting a comment needs.
pub const SCOPES: &str = "READ WRITE";
/// The grant type of the JWT bearer flow (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime of an assertion; seen in the wild: 30-60 s.
pub const ASSERTION_TTL_SECS: i64 = 60;
/// A cached token is not used in its last minute.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// How long a refused grant is remembered.
const REFUSAL_TTL: Duration = Duration::from_secs(300);
/// Above this many cached entries, expired ones are swept on insert.
const SWEEP_AT: usize = 10_000;

/// The claims of an assertion (also what the simulator's authorization server checks).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// `urn:atlassian:connect:clientid:{oauthClientId}`.
    pub iss: String,
    /// `urn:atlassian:connect:useraccountid:{accountId}`.
    pub sub: String,
    /// The tenant's baseUrl.
    pub tnt: String,
    /// The authorization server.
    pub aud: String,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expires at (unix seconds).
    pub exp: i64,
}

/// The `iss` of an assertion for `oauth_client_id`.
pub fn issuer(oauth_client_id: &str) -> String {
    format!("urn:atlassian:connect:clientid:{oauth_client_id}")
}

/// The `sub` of an assertion for `account_id`.
pub fn subject(account_id: &str) -> String {
    format!("urn:atlassian:connect:useraccountid:{account_id}")
}

/// The assertion for `account_id` on `tenant`, signed at `now` (unix seconds).
pub fn assertion(
    server: &Url,
    oauth_client_id: &str,
    tenant: &TenantCredentials,
    account_id: &str,
    now: i64,
) -> String {
    let claims = AssertionClaims {
        iss: issuer(oauth_client_id),
        sub: subject(account_id),
        tnt: tenant.base_url.as_str().trim_end_matches('/').to_owned(),
        aud: audience(server),
        iat: now,
        exp: now + ASSERTION_TTL_SECS,
    };
    let key = EncodingKey::from_secret(tenant.shared_secret.expose_secret().as_bytes());
    jsonwebtoken::encode(&Header::default(), &claims, &key)
        .expect("HS256 encoding of a small struct cannot fail")
}

/// The `aud` for `server`: its URL without a trailing slash.
pub fn audience(server: &Url) -> String {
    server.as_str().trim_end_matches('/').to_owned()
}

/// What the authorization server said about one user.
#[derive(Clone)]
pub enum Grant {
    /// A token to call Jira as the user.
    Token(SecretString),
    /// Refused for this user (the HTTP status): post as the app instead.
    Refused(u16),
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(..)"),
            Self::Refused(s) => write!(f, "Refused({s})"),
        }
    }
}

/// A grant that could not be asked or answered (network, 5xx, an unreadable answer): worth
/// trying again later; it says nothing about the user.
#[derive(Debug, thiserror::Error)]
#[error("the authorization server could not be asked: {0}")]
pub struct GrantError(String);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

enum Cached {
    Token(SecretString, Instant),
    Refused(u16, Instant),
}

/// Issues and caches user tokens for every tenant.
pub struct ActAs {
    http: reqwest::Client,
    server: Url,
    cache: Mutex<HashMap<(String, String), Cached>>,
}

impl ActAs {
    /// A token source asking `server` (the configured authorization server).
    pub fn new(server: Url, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client with static settings builds");
        Self {
            http,
            server,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A token of `account_id` on the tenant `client_key`, from the cache when still good.
    pub async fn grant(
        &self,
        client_key: &str,
        oauth_client_id: &str,
        tenant: &TenantCredentials,
        account_id: &str,
    ) -> Result<Grant, GrantError> {
        let key = (client_key.to_owned(), account_id.to_owned());
        let now = Instant::now();
        match self.cache.lock().get(&key) {
            Some(Cached::Token(t, until)) if *until > now => return Ok(Grant::Token(t.clone())),
            Some(Cached::Refused(s, until)) if *until > now => return Ok(Grant::Refused(*s)),
            _ => {}
        }
        let signed = assertion(
            &self.server,
            oauth_client_id,
            tenant,
            account_id,
            crate::store::now_ms() / 1000,
        );
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", GRANT_TYPE)
            .append_pair("assertion", &signed)
            .append_pair("scope", SCOPES)
            .finish();
        let url = format!("{}/oauth2/token", audience(&self.server));
        let answer = self
            .http
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| GrantError(e.without_url().to_string()))?;
        let status = answer.status();
        if status.is_client_error() && status.as_u16() != 429 {
            // The answer body is not read into any message: it may echo the assertion.
            tracing::info!(
                status = status.as_u16(),
                "the authorization server refused a user token; posting as the app"
            );
            let mut cache = self.cache.lock();
            sweep(&mut cache, now);
            cache.insert(key, Cached::Refused(status.as_u16(), now + REFUSAL_TTL));
            return Ok(Grant::Refused(status.as_u16()));
        }
        if !status.is_success() {
            return Err(GrantError(format!("HTTP {}", status.as_u16())));
        }
        let parsed: TokenAnswer = answer
            .json()
            .await
            .map_err(|_| GrantError("an answer without access_token/expires_in".into()))?;
        let token = SecretString::from(parsed.access_token);
        let lifetime = Duration::from_secs(parsed.expires_in);
        if lifetime > EXPIRY_MARGIN {
            let mut cache = self.cache.lock();
            sweep(&mut cache, now);
            cache.insert(
                key,
                Cached::Token(token.clone(), now + lifetime - EXPIRY_MARGIN),
            );
        }
        Ok(Grant::Token(token))
    }
}

fn sweep(cache: &mut HashMap<(String, String), Cached>, now: Instant) {
    if cache.len() >= SWEEP_AT {
        cache.retain(|_, c| match c {
            Cached::Token(_, until) | Cached::Refused(_, until) => *until > now,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assertion_carries_the_documented_claims_signed_with_the_shared_secret() {
        let tenant = TenantCredentials {
            base_url: Url::parse("https://acme.atlassian.net/").expect("url"),
            shared_secret: SecretString::from("s3cret".to_owned()),
        };
        let server =
            Url::parse("https://oauth-2-authorization-server.services.atlassian.com").expect("url");
        let token = assertion(&server, "cid", &tenant, "712020:abc", 1_000);
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.set_audience(&["https://oauth-2-authorization-server.services.atlassian.com"]);
        v.validate_exp = false;
        let claims = jsonwebtoken::decode::<AssertionClaims>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(b"s3cret"),
            &v,
        )
        .expect("verifies with the shared secret")
        .claims;
        assert_eq!(claims.iss, "urn:atlassian:connect:clientid:cid");
        assert_eq!(claims.sub, "urn:atlassian:connect:useraccountid:712020:abc");
        assert_eq!(claims.tnt, "https://acme.atlassian.net");
        assert_eq!(claims.exp - claims.iat, ASSERTION_TTL_SECS);
        assert!(
            jsonwebtoken::decode::<AssertionClaims>(
                &token,
                &jsonwebtoken::DecodingKey::from_secret(b"other"),
                &v
            )
            .is_err()
        );
    }

    #[test]
    fn a_grant_shows_no_token_in_debug_output() {
        let g = Grant::Token(SecretString::from("tok-123".to_owned()));
        assert!(!format!("{g:?}").contains("tok-123"));
    }
}
