//! Who is calling, read from the `Authorization` header without verifying anything.
//!
//! Limiters meter callers; they do not authenticate them (the simulators' handlers do that).
//! A Connect app signs its calls with `Authorization: JWT …` whose `iss` is the app key and,
//! as ACE does, `aud = [clientKey]` (reference `connect-and-security.md` §4.1); API-token
//! traffic uses Basic auth (`email:token`), ADO uses Basic auth with a PAT. Secrets are never
//! kept: a PAT or bearer token is reduced to a short SHA-256 prefix.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use sha2::{Digest, Sha256};

/// The caller of one request, as a limiter and the request log see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `jwt`, `api_token` (Basic), `bearer` or `anonymous`.
    pub kind: &'static str,
    /// The app that pays for Tier 1 points: the JWT `iss` (app key), else the tenant.
    pub app: String,
    /// The tenant (site) the request is for.
    pub tenant: String,
    /// The principal inside the tenant: the Basic user, a token hash, or the app key.
    pub principal: String,
}

impl Caller {
    /// Reads the caller from `headers`; `site` names the simulated site serving the request, if
    /// the simulator runs several, and then is the tenant.
    pub fn identify(headers: &HeaderMap, site: Option<&str>) -> Self {
        let auth = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
        let value = value.trim();
        let (kind, app, tenant, principal) = match scheme.to_ascii_lowercase().as_str() {
            "jwt" => {
                let (iss, aud) = jwt_iss_aud(value);
                let iss = iss.unwrap_or_else(|| "unknown-app".into());
                let tenant = aud.unwrap_or_else(|| iss.clone());
                ("jwt", iss.clone(), tenant, iss)
            }
            "basic" => {
                let (user, secret) = basic_parts(value);
                let principal = if user.is_empty() {
                    format!("pat:{}", short_hash(&secret))
                } else {
                    user
                };
                ("api_token", principal.clone(), principal.clone(), principal)
            }
            "bearer" => {
                let principal = format!("bearer:{}", short_hash(value));
                ("bearer", principal.clone(), principal.clone(), principal)
            }
            _ => (
                "anonymous",
                "anonymous".into(),
                "anonymous".into(),
                "anonymous".into(),
            ),
        };
        let tenant = site.map(str::to_owned).unwrap_or(tenant);
        Self {
            kind,
            app,
            tenant,
            principal,
        }
    }

    /// A stable identity for per-user limits (ADO TSTU): never the credential itself.
    pub fn identity(headers: &HeaderMap) -> String {
        let auth = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth.is_empty() {
            "anonymous".into()
        } else {
            format!("id:{}", short_hash(auth))
        }
    }
}

/// First 12 hex digits of SHA-256: enough to tell callers apart, useless to an attacker.
pub fn short_hash(secret: &str) -> String {
    hex::encode(&Sha256::digest(secret.as_bytes())[..6])
}

fn basic_parts(value: &str) -> (String, String) {
    let decoded = STANDARD
        .decode(value)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let (user, secret) = decoded.split_once(':').unwrap_or((&decoded, ""));
    (user.to_owned(), secret.to_owned())
}

/// `iss` and the first `aud` of a JWT, read from its middle segment without verification.
fn jwt_iss_aud(token: &str) -> (Option<String>, Option<String>) {
    let Some(payload) = token.split('.').nth(1) else {
        return (None, None);
    };
    let Some(claims) = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    else {
        return (None, None);
    };
    let iss = claims
        .get("iss")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let aud = match claims.get("aud") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Array(a)) => a.first().and_then(|v| v.as_str()).map(str::to_owned),
        _ => None,
    };
    (iss, aud)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, auth.parse().expect("header"));
        h
    }

    #[test]
    fn a_connect_jwt_names_the_app_by_iss_and_the_tenant_by_aud() {
        let claims = URL_SAFE_NO_PAD.encode(br#"{"iss":"ferry","aud":["client-1"]}"#);
        let caller = Caller::identify(&headers(&format!("JWT e30.{claims}.sig")), None);
        assert_eq!(
            (caller.kind, caller.app.as_str(), caller.tenant.as_str()),
            ("jwt", "ferry", "client-1")
        );
    }

    #[test]
    fn a_basic_pat_is_reduced_to_a_hash_never_kept() {
        let caller = Caller::identify(
            &headers(&format!("Basic {}", STANDARD.encode(":s3cret-pat"))),
            None,
        );
        assert!(caller.principal.starts_with("pat:"));
        assert!(!caller.principal.contains("s3cret"));
    }

    #[test]
    fn the_site_overrides_the_tenant_read_from_the_token() {
        let caller = Caller::identify(
            &headers(&format!("Basic {}", STANDARD.encode("a@b.c:tok"))),
            Some("site-2"),
        );
        assert_eq!(
            (caller.tenant.as_str(), caller.principal.as_str()),
            ("site-2", "a@b.c")
        );
    }
}
