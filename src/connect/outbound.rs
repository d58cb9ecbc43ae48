//! Calls from Ferry to a tenant's Jira, each signed with a Connect JWT.
//!
//! Per <https://developer.atlassian.com/cloud/jira/platform/understanding-jwt-for-connect-apps/>:
//! HS256 with the tenant's shared secret, `iss` = our app key, a short expiry, and the qsh of
//! exactly the request sent, computed from the final URL (after encoding) and relative to the
//! tenant's baseUrl path, so a site served under a path (`/jira`) still verifies. The token
//! travels in the `Authorization` header only, never in the query string.

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use url::Url;

use super::qsh;

/// Lifetime of outgoing tokens (ACE and jira.js use about three minutes).
pub const OUTBOUND_TTL_SECS: i64 = 180;

/// What is needed to call one tenant's Jira.
#[derive(Clone)]
pub struct TenantCredentials {
    /// The tenant's API base URL.
    pub base_url: Url,
    /// The tenant's current shared secret.
    pub shared_secret: SecretString,
}

impl std::fmt::Debug for TenantCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCredentials")
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct OutboundClaims<'a> {
    iss: &'a str,
    iat: i64,
    exp: i64,
    qsh: String,
}

/// A reqwest client that signs every request for the tenant it is given.
#[derive(Clone)]
pub struct HostClient {
    http: reqwest::Client,
    app_key: String,
}

impl HostClient {
    /// A client with the given timeout for each request.
    pub fn new(app_key: &str, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a client with static settings builds");
        Self {
            http,
            app_key: app_key.to_owned(),
        }
    }

    /// The full URL of `path_and_query` (e.g. `/rest/api/3/field?x=1`) under the tenant.
    pub fn url(tenant: &TenantCredentials, path_and_query: &str) -> Result<Url, url::ParseError> {
        let base = tenant.base_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}"))
    }

    /// The `Authorization` header value for `method url` at time `now`.
    pub fn sign(&self, tenant: &TenantCredentials, method: &Method, url: &Url, now: i64) -> String {
        let context = tenant.base_url.path();
        let qsh = qsh::qsh(method.as_str(), url.path(), context, url.query())
            .expect("a URL built by the url crate is valid UTF-8 form data");
        let claims = OutboundClaims {
            iss: &self.app_key,
            iat: now,
            exp: now + OUTBOUND_TTL_SECS,
            qsh,
        };
        let key = EncodingKey::from_secret(tenant.shared_secret.expose_secret().as_bytes());
        let token = jsonwebtoken::encode(&Header::default(), &claims, &key)
            .expect("HS256 encoding of a small struct cannot fail");
        format!("JWT {token}")
    }

    /// A request builder for the tenant, already signed.
    pub fn request(
        &self,
        tenant: &TenantCredentials,
        method: Method,
        path_and_query: &str,
    ) -> Result<reqwest::RequestBuilder, url::ParseError> {
        let url = Self::url(tenant, path_and_query)?;
        let auth = self.sign(tenant, &method, &url, crate::store::now_ms() / 1000);
        Ok(self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, auth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qsh_is_relative_to_a_tenant_base_path_and_covers_the_encoded_query() {
        let tenant = TenantCredentials {
            base_url: Url::parse("https://acme.example.com/jira").expect("url"),
            shared_secret: SecretString::from("s3cret".to_owned()),
        };
        let client = HostClient::new("app", Duration::from_secs(1));
        let url = HostClient::url(
            &tenant,
            "/rest/api/3/search/jql?jql=project%20%3D%20FAB&fields=id",
        )
        .expect("url");
        let header = client.sign(&tenant, &Method::GET, &url, 1_000);
        let token = header.strip_prefix("JWT ").expect("prefix");
        let expected = qsh::qsh(
            "GET",
            "/rest/api/3/search/jql",
            "",
            Some("jql=project%20%3D%20FAB&fields=id"),
        )
        .expect("qsh");
        let claims = crate::connect::jwt::verify_hs256(
            token,
            b"s3cret",
            1_000,
            crate::connect::jwt::QshRule::Computed(&expected),
        )
        .expect("verifies");
        assert_eq!(claims.iss, "app");
        assert_eq!(claims.exp - claims.iat, OUTBOUND_TTL_SECS);
    }
}
