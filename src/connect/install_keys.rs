//! Public keys for signed installs, fetched from `FERRY_INSTALL_KEYS_URL/{kid}` and cached.
//!
//! The `kid` has already passed [`super::jwt::install_key_id`]'s strict pattern, so it cannot
//! walk out of the key host's path. The fetch never follows redirects, is bounded in time and
//! size, and a key that does not parse as an RSA public key is an error, never a fallback.
//! Keys are immutable per kid (Atlassian rotates by issuing a new kid), so caching by kid is
//! safe; the cache is bounded so a flood of made-up kids cannot grow memory.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use jsonwebtoken::DecodingKey;
use url::Url;

const MAX_KEY_BYTES: usize = 16 * 1024;
const MAX_CACHED: usize = 64;

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key host answered, but not with a key for this kid.
    #[error("no install key for kid (status {0})")]
    Unknown(u16),
    /// The key host is unreachable, slow or broken.
    #[error("install key host unavailable: {0}")]
    Unavailable(String),
    /// The body is not an RSA public key.
    #[error("install key is not an RSA public key")]
    Invalid,
}

/// Fetches and caches install keys.
pub struct InstallKeys {
    base: Url,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, DecodingKey>>,
}

impl InstallKeys {
    /// Keys under `base` (Atlassian's CDN in production).
    pub fn new(base: Url) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a client with static settings builds");
        Self {
            base,
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The key for `kid`, from the cache or the key host.
    #[tracing::instrument(skip(self))]
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        if let Some(key) = self.cache.lock().expect("cache lock").get(kid) {
            return Ok(key.clone());
        }
        let url = format!("{}/{kid}", self.base.as_str().trim_end_matches('/'));
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| KeyError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(KeyError::Unavailable(format!("status {status}")));
        }
        if !status.is_success() {
            return Err(KeyError::Unknown(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n as usize > MAX_KEY_BYTES)
        {
            return Err(KeyError::Invalid);
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| KeyError::Unavailable(e.without_url().to_string()))?;
        if body.len() > MAX_KEY_BYTES {
            return Err(KeyError::Invalid);
        }
        let key = DecodingKey::from_rsa_pem(&body).map_err(|_| KeyError::Invalid)?;
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(kid.to_owned(), key.clone());
        Ok(key)
    }
}
