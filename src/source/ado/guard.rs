//! SSRF defence for admin-supplied Azure DevOps URLs.
//!
//! An organization URL is chosen by a tenant admin, so Ferry must not become a way to reach
//! its own network: https only (plain http only for hosts listed in
//! `FERRY_ALLOWED_SOURCE_HOSTS`, which tests and the demo use), and every address the host
//! resolves to must be public. The checked addresses are pinned into the HTTP client, so a
//! DNS answer that changes between the check and the request (rebinding) cannot redirect it,
//! and redirects are never followed.

use std::net::{IpAddr, SocketAddr};

use url::Url;

/// Why a source URL is refused. The messages are shown to the admin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardError {
    /// Not a URL at all, or has credentials, a query or a fragment.
    #[error(
        "not a valid Azure DevOps URL (expected https://dev.azure.com/ORG or https://HOST/tfs/COLLECTION)"
    )]
    Invalid,
    /// Plain http to a host that is not explicitly allowed.
    #[error("Azure DevOps must be reached over https")]
    NotHttps,
    /// DNS failed.
    #[error("the host name does not resolve")]
    Unresolvable,
    /// Resolves to a private, loopback, link-local or otherwise internal address.
    #[error("the host resolves to a private or internal address")]
    Internal,
}

/// Hosts that may be reached over plain http and on internal addresses (`host` or `host:port`).
#[derive(Debug, Clone, Default)]
pub struct SourcePolicy {
    allowed: Vec<String>,
}

/// A URL that passed the guard, with the addresses to pin.
#[derive(Debug, Clone)]
pub struct CheckedUrl {
    /// The normalised URL (no trailing slash).
    pub url: Url,
    /// Resolved, checked addresses for the URL's host.
    pub addrs: Vec<SocketAddr>,
}

impl SourcePolicy {
    /// From `FERRY_ALLOWED_SOURCE_HOSTS` (comma-separated `host` or `host:port`).
    pub fn parse(spec: &str) -> Self {
        let allowed = spec
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        Self { allowed }
    }

    fn is_listed(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let with_port = format!("{host}:{}", url.port_or_known_default().unwrap_or_default());
        self.allowed.iter().any(|a| *a == host || *a == with_port)
    }

    /// Checks `raw` and resolves its host.
    pub async fn check(&self, raw: &str) -> Result<CheckedUrl, GuardError> {
        let mut url = Url::parse(raw.trim()).map_err(|_| GuardError::Invalid)?;
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(GuardError::Invalid);
        }
        let host = url.host_str().ok_or(GuardError::Invalid)?.to_owned();
        let listed = self.is_listed(&url);
        match url.scheme() {
            "https" => {}
            "http" if listed => {}
            "http" => return Err(GuardError::NotHttps),
            _ => return Err(GuardError::Invalid),
        }
        let port = url.port_or_known_default().ok_or(GuardError::Invalid)?;
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((host.trim_matches(|c| c == '[' || c == ']'), port))
                .await
                .map_err(|_| GuardError::Unresolvable)?
                .collect();
        if addrs.is_empty() {
            return Err(GuardError::Unresolvable);
        }
        if !listed && addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(GuardError::Internal);
        }
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(&trimmed);
        Ok(CheckedUrl { url, addrs })
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64/10 carrier-grade NAT
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18/15 benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 can reach v4 internals
                || (s[0] == 0x2001 && s[1] == 0xdb8))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_and_metadata_addresses_are_refused() {
        let policy = SourcePolicy::default();
        for bad in [
            "https://169.254.169.254/org",
            "https://localhost/org",
            "https://127.0.0.1/org",
            "https://10.1.2.3/tfs/c",
            "https://[::1]/org",
            "https://[fd00::1]/org",
            "https://[::ffff:127.0.0.1]/org",
            "https://0.0.0.0/org",
        ] {
            assert_eq!(
                policy.check(bad).await.unwrap_err(),
                GuardError::Internal,
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn plain_http_credentials_and_junk_are_refused() {
        let policy = SourcePolicy::default();
        assert_eq!(
            policy.check("http://dev.azure.com/org").await.unwrap_err(),
            GuardError::NotHttps
        );
        assert_eq!(
            policy
                .check("https://u:p@dev.azure.com/org")
                .await
                .unwrap_err(),
            GuardError::Invalid
        );
        assert_eq!(
            policy
                .check("https://dev.azure.com/org?x=1")
                .await
                .unwrap_err(),
            GuardError::Invalid
        );
        assert_eq!(
            policy.check("file:///etc/passwd").await.unwrap_err(),
            GuardError::Invalid
        );
        assert_eq!(
            policy.check("not a url").await.unwrap_err(),
            GuardError::Invalid
        );
    }

    #[tokio::test]
    async fn listed_hosts_may_use_http_and_loopback() {
        let policy = SourcePolicy::parse("127.0.0.1");
        let ok = policy
            .check("http://127.0.0.1:8081/contoso/")
            .await
            .expect("allowed");
        assert_eq!(ok.url.as_str(), "http://127.0.0.1:8081/contoso");
        assert!(ok.addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn public_addresses_are_public() {
        for ip in ["20.1.2.3", "13.107.6.183", "2620:1ec:4::1"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }
}
