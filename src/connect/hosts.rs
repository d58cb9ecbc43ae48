//! Which sites may install Ferry: `FERRY_ALLOWED_HOSTS` patterns matched against a tenant's
//! `baseUrl` before anything is stored or fetched.
//!
//! A pattern is `[scheme://]host[:port]`. `*` stands for exactly one DNS label (as in
//! atlassian-connect-express), so `*.atlassian.net` matches `acme.atlassian.net` but neither
//! `atlassian.net` nor `a.atlassian.net.evil.com`. Without a scheme only https is allowed;
//! plain http must be named (`http://127.0.0.1:*`, for tests and the demo). Without a port
//! only the scheme's default port is allowed; `:*` allows any.

use url::Url;

/// Parsed `FERRY_ALLOWED_HOSTS`.
#[derive(Debug, Clone)]
pub struct HostPatterns(Vec<Pattern>);

#[derive(Debug, Clone)]
struct Pattern {
    scheme: String,
    labels: Vec<String>,
    port: Option<Option<u16>>, // None = default port only, Some(None) = any, Some(Some(p)) = p
}

/// Why a base URL is not acceptable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostError {
    /// Not an absolute http(s) URL.
    #[error("baseUrl is not a valid URL")]
    Invalid,
    /// Userinfo, query or fragment present.
    #[error("baseUrl must not carry credentials, a query or a fragment")]
    Extras,
    /// No pattern matches.
    #[error("baseUrl host is not allowed")]
    NotAllowed,
}

impl HostPatterns {
    /// Parses a comma-separated list.
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let mut out = Vec::new();
        for raw in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (scheme, rest) = match raw.split_once("://") {
                Some((s, r)) if s == "http" || s == "https" => (s.to_owned(), r),
                Some((s, _)) => anyhow::bail!("unsupported scheme `{s}` in host pattern `{raw}`"),
                None => ("https".to_owned(), raw),
            };
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, "*")) => (h, Some(None)),
                Some((h, p)) => (
                    h,
                    Some(Some(
                        p.parse()
                            .map_err(|_| anyhow::anyhow!("bad port in `{raw}`"))?,
                    )),
                ),
                None => (rest, None),
            };
            if host.is_empty() || host.contains('/') {
                anyhow::bail!("bad host pattern `{raw}`");
            }
            let labels = host
                .to_ascii_lowercase()
                .split('.')
                .map(str::to_owned)
                .collect();
            out.push(Pattern {
                scheme,
                labels,
                port,
            });
        }
        if out.is_empty() {
            anyhow::bail!("no host patterns given");
        }
        Ok(Self(out))
    }

    /// Checks a tenant baseUrl and returns it normalised (no trailing slash).
    pub fn check(&self, base_url: &str) -> Result<Url, HostError> {
        let url = Url::parse(base_url).map_err(|_| HostError::Invalid)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HostError::Invalid);
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(HostError::Extras);
        }
        let host = url
            .host_str()
            .ok_or(HostError::Invalid)?
            .to_ascii_lowercase();
        let labels: Vec<&str> = host.split('.').collect();
        let allowed = self.0.iter().any(|p| {
            p.scheme == url.scheme()
                && p.labels.len() == labels.len()
                && p.labels
                    .iter()
                    .zip(&labels)
                    .all(|(p, l)| p == "*" && !l.is_empty() || p == l)
                && match p.port {
                    None => url.port().is_none(),
                    Some(None) => true,
                    Some(Some(port)) => url.port_or_known_default() == Some(port),
                }
        });
        if !allowed {
            return Err(HostError::NotAllowed);
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_is_one_label_and_https_only_by_default() {
        let p = HostPatterns::parse("*.atlassian.net").expect("valid");
        assert!(p.check("https://acme.atlassian.net").is_ok());
        assert!(p.check("https://ACME.atlassian.net/").is_ok());
        for bad in [
            "http://acme.atlassian.net",
            "https://atlassian.net",
            "https://a.b.atlassian.net",
            "https://a.atlassian.net.evil.com",
            "https://evil.com",
            "https://acme.atlassian.net:8443",
            "https://user:pw@acme.atlassian.net",
            "https://acme.atlassian.net/?x=1",
            "ftp://acme.atlassian.net",
            "not a url",
        ] {
            assert!(p.check(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn explicit_http_pattern_with_any_port_serves_local_tests() {
        let p = HostPatterns::parse("*.atlassian.net, http://127.0.0.1:*").expect("valid");
        assert!(p.check("http://127.0.0.1:39211").is_ok());
        assert!(p.check("https://127.0.0.1:39211").is_err());
        assert!(p.check("http://127.0.0.2:1").is_err());
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(HostPatterns::parse("").is_err());
        assert!(HostPatterns::parse("gopher://x").is_err());
        assert!(HostPatterns::parse("x:notaport").is_err());
    }
}
