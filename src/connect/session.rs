//! Ferry's own short-lived session tokens, embedded in the pages Ferry renders.
//!
//! A page is loaded with Jira's qsh-bound JWT, which is single-purpose; the page's later API
//! calls need a token of their own. When Atlassian's `all.js` is present the page can use a
//! context JWT (`AP.context.getToken()`); when it is not (the pages must work alone), the page
//! uses this token instead. It is signed with the tenant's shared secret like ACE's session
//! token, with `iss` = our app key (so it can never pass as a Jira-issued token, whose `iss` is
//! the clientKey), `aud` = the clientKey, and the fixed qsh [`SESSION_QSH`], which no computed
//! hash can equal. It carries identity only; permissions are checked on every call.

use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;

/// The fixed `qsh` of session tokens.
pub const SESSION_QSH: &str = "ferry-session";
/// Session lifetime (ACE's default `maxTokenAge`).
pub const SESSION_TTL_SECS: i64 = 15 * 60;

#[derive(Serialize)]
struct SessionClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: i64,
    exp: i64,
    qsh: &'a str,
}

/// Issues a session token for `account_id` in tenant `client_key`.
pub fn issue(app_key: &str, client_key: &str, account_id: &str, secret: &[u8], now: i64) -> String {
    let claims = SessionClaims {
        iss: app_key,
        aud: client_key,
        sub: account_id,
        iat: now,
        exp: now + SESSION_TTL_SECS,
        qsh: SESSION_QSH,
    };
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 encoding of a small struct cannot fail")
}
