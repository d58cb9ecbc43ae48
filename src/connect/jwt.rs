//! Verifying Connect JWTs, pure functions with the clock passed in.
//!
//! The algorithm is pinned per route, never taken from the token: HS256 with the tenant's
//! shared secret for everything Jira sends except installs, RS256 with Atlassian's key for
//! `installed`/`uninstalled` (reference §3.4, §2.3). Time claims are checked here rather than
//! by `jsonwebtoken` so tests can replay published, long-expired vectors with a fixed clock,
//! and because `iat` must be required and bounded, which `jsonwebtoken` does not do.
//! See <https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/>.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Clock skew tolerated on `exp`, `iat` and `nbf` (Atlassian Connect Spring Boot uses 30 s).
pub const LEEWAY_SECS: i64 = 30;
/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Why a token was refused. Logged, never returned to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url JSON segments, too long, or fields of the wrong type.
    #[error("malformed token")]
    Malformed,
    /// Header `alg` is not the one this route accepts.
    #[error("algorithm not allowed here")]
    Algorithm,
    /// RS256 token without a well-formed `kid`.
    #[error("missing or invalid kid")]
    KeyId,
    /// Signature does not verify.
    #[error("bad signature")]
    Signature,
    /// `exp` passed, `iat` in the future, or `nbf` not reached.
    #[error("token expired or not yet valid")]
    Time,
    /// `aud` does not name us.
    #[error("wrong audience")]
    Audience,
    /// `qsh` missing or not the hash of this request.
    #[error("query string hash mismatch")]
    Qsh,
    /// `iss` is unknown or does not match.
    #[error("unknown or mismatched issuer")]
    Issuer,
}

/// `aud` may be one string or a list.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        let norm = |s: &str| s.trim_end_matches('/').to_owned();
        match self {
            Self::One(a) => norm(a) == norm(wanted),
            Self::Many(v) => v.iter().any(|a| norm(a) == norm(wanted)),
        }
    }
}

/// The claims Ferry reads. `iat` and `exp` are required: unlimited lifetimes are refused.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    /// Tenant clientKey (Atlassian-issued) or our app key (Ferry-issued session tokens).
    pub iss: String,
    /// Acting user's accountId, if any.
    pub sub: Option<String>,
    /// Audience.
    pub aud: Option<Audience>,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expiry (seconds).
    pub exp: i64,
    /// Not before (seconds).
    pub nbf: Option<i64>,
    /// Query string hash, or `context-qsh`.
    pub qsh: Option<String>,
    /// Product context (context tokens carry the user here).
    #[serde(default)]
    pub context: serde_json::Value,
}

impl Claims {
    /// The acting user: `context.user.accountId` when present (as ACE prefers), else `sub`.
    pub fn account_id(&self) -> Option<&str> {
        self.context
            .pointer("/user/accountId")
            .and_then(|v| v.as_str())
            .or(self.sub.as_deref())
            .filter(|s| !s.is_empty())
    }
}

/// What `qsh` must be on this route.
#[derive(Debug, Clone, Copy)]
pub enum QshRule<'a> {
    /// Pages, webhooks, lifecycle: the hash of this exact request.
    Computed(&'a str),
    /// The page's own API calls: the literal `context-qsh`.
    Context,
    /// Ferry's own session tokens, which are not bound to a request.
    Session,
}

/// The parts of the header routes decide on, read without verifying anything.
#[derive(Debug, Clone)]
pub struct Peeked {
    /// Header algorithm.
    pub alg: Algorithm,
    /// Header key id.
    pub kid: Option<String>,
    /// Unverified claims, only to pick the key (never trusted before verification).
    pub claims: Claims,
}

/// Decodes header and claims without verification, after the cheap shape checks.
pub fn peek(token: &str) -> Result<Peeked, JwtError> {
    if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
        return Err(JwtError::Malformed);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
    let mut validation = Validation::new(header.alg);
    validation.insecure_disable_signature_validation();
    relax_time_checks(&mut validation);
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&[]), &validation)
        .map_err(|_| JwtError::Malformed)?;
    Ok(Peeked {
        alg: header.alg,
        kid: header.kid,
        claims: data.claims,
    })
}

/// Verifies an HS256 token signed with `secret`, at time `now` (unix seconds).
pub fn verify_hs256(
    token: &str,
    secret: &[u8],
    now: i64,
    qsh: QshRule<'_>,
) -> Result<Claims, JwtError> {
    let peeked = peek(token)?;
    if peeked.alg != Algorithm::HS256 {
        return Err(JwtError::Algorithm);
    }
    let claims = verify_signature(token, &DecodingKey::from_secret(secret), Algorithm::HS256)?;
    check_time(&claims, now)?;
    check_qsh(&claims, qsh)?;
    Ok(claims)
}

/// Checks the RS256 header of a signed install and returns its `kid`, before any fetch.
pub fn install_key_id(token: &str) -> Result<String, JwtError> {
    let peeked = peek(token)?;
    if peeked.alg != Algorithm::RS256 {
        return Err(JwtError::Algorithm);
    }
    let kid = peeked.kid.ok_or(JwtError::KeyId)?;
    let well_formed = !kid.is_empty()
        && kid.len() <= 256
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/".contains(&b));
    if !well_formed {
        return Err(JwtError::KeyId);
    }
    Ok(kid)
}

/// Verifies a signed install (RS256) against Atlassian's `key` for our `audience`.
pub fn verify_rs256(
    token: &str,
    key: &DecodingKey,
    audience: &str,
    now: i64,
    qsh: &str,
) -> Result<Claims, JwtError> {
    install_key_id(token)?;
    let claims = verify_signature(token, key, Algorithm::RS256)?;
    check_time(&claims, now)?;
    if !claims.aud.as_ref().is_some_and(|a| a.contains(audience)) {
        return Err(JwtError::Audience);
    }
    check_qsh(&claims, QshRule::Computed(qsh))?;
    Ok(claims)
}

fn relax_time_checks(validation: &mut Validation) {
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
}

fn verify_signature(token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Claims, JwtError> {
    let mut validation = Validation::new(alg);
    relax_time_checks(&mut validation);
    jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => JwtError::Signature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwtError::Algorithm,
            _ => JwtError::Malformed,
        })
}

fn check_time(c: &Claims, now: i64) -> Result<(), JwtError> {
    let expired = now > c.exp.saturating_add(LEEWAY_SECS);
    let issued_in_future = c.iat > now.saturating_add(LEEWAY_SECS);
    let not_yet = c
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS));
    if expired || issued_in_future || not_yet || c.exp < c.iat {
        return Err(JwtError::Time);
    }
    Ok(())
}

fn check_qsh(c: &Claims, rule: QshRule<'_>) -> Result<(), JwtError> {
    let got = c.qsh.as_deref();
    let ok = match rule {
        QshRule::Computed(expected) => got == Some(expected),
        QshRule::Context => got == Some(super::qsh::CONTEXT_QSH),
        QshRule::Session => got == Some(super::session::SESSION_QSH),
    };
    if ok { Ok(()) } else { Err(JwtError::Qsh) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"7512836e-9137-48ac-baaf-a1935b96e17a";
    /// "Simple" from atlassian-jwt's interoperability file: GET /test?param=value.
    const SIMPLE: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJxc2giOiJiZTE2OTEwODU4YTQxZmQxOWVhNWMxYjRlOWRlY2NhOWE3ODRkMTAyNGNiMDBiMjE1OGRlZmUyZjI5ZGM4NmRkIiwiY29udGV4dCI6e30sImlzcyI6ImppcmE6MTIzNC01Njc4LTkwMDAiLCJleHAiOjE0NjY3MzEyNTUsImlhdCI6MTQ2NjczMTA3NX0.ssbmLUBemh6nQW3MH5o2fSdnOFTIKf2w0KASnnH8aXo";
    const WHEN: i64 = 1_466_731_100;

    fn simple_qsh() -> String {
        super::super::qsh::qsh("GET", "/test", "", Some("param=value")).expect("decodes")
    }

    #[test]
    fn published_token_verifies_at_its_own_time() {
        let claims =
            verify_hs256(SIMPLE, SECRET, WHEN, QshRule::Computed(&simple_qsh())).expect("valid");
        assert_eq!(claims.iss, "jira:1234-5678-9000");
    }

    #[test]
    fn published_token_is_expired_today_and_outside_leeway() {
        let q = simple_qsh();
        assert_eq!(
            verify_hs256(
                SIMPLE,
                SECRET,
                1_466_731_255 + LEEWAY_SECS + 1,
                QshRule::Computed(&q)
            )
            .unwrap_err(),
            JwtError::Time
        );
        assert!(
            verify_hs256(
                SIMPLE,
                SECRET,
                1_466_731_255 + LEEWAY_SECS,
                QshRule::Computed(&q)
            )
            .is_ok()
        );
        assert_eq!(
            verify_hs256(
                SIMPLE,
                SECRET,
                1_466_731_075 - LEEWAY_SECS - 1,
                QshRule::Computed(&q)
            )
            .unwrap_err(),
            JwtError::Time
        );
    }

    #[test]
    fn wrong_secret_qsh_or_rule_is_refused() {
        let q = simple_qsh();
        assert_eq!(
            verify_hs256(SIMPLE, b"other", WHEN, QshRule::Computed(&q)).unwrap_err(),
            JwtError::Signature
        );
        assert_eq!(
            verify_hs256(SIMPLE, SECRET, WHEN, QshRule::Computed("abc")).unwrap_err(),
            JwtError::Qsh
        );
        assert_eq!(
            verify_hs256(SIMPLE, SECRET, WHEN, QshRule::Context).unwrap_err(),
            JwtError::Qsh
        );
    }

    #[test]
    fn malformed_tokens_never_panic() {
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!!.@@@.###",
            "e30.e30.e30",
            long.as_str(),
            "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
            "eyJhbGciOiJIUzI1NiAifQ.e30.x",
        ] {
            assert!(
                verify_hs256(bad, SECRET, WHEN, QshRule::Context).is_err(),
                "{bad}"
            );
            assert!(install_key_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hs256_token_is_not_an_install_token() {
        assert_eq!(install_key_id(SIMPLE).unwrap_err(), JwtError::Algorithm);
    }
}
