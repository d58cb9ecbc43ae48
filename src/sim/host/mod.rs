//! The Jira simulator in its Connect-host role: installs apps and frames their pages.
//!
//! Real Jira fetches an app's descriptor, POSTs an RS256-signed `installed` callback with a
//! fresh shared secret, sends HS256-signed `enabled`/`disabled`, and renders page modules in
//! an iframe whose URL carries Jira's standard parameters and a qsh-bound JWT (reference
//! `connect-and-security.md` §1.4, §2, §3.5). [`ConnectHost`] does the same against any app,
//! so Ferry's lifecycle and page authentication are tested end to end with no mocks.

mod descriptor;
mod install;
mod keys;
mod page;
mod routes;

use std::{collections::BTreeMap, sync::Arc};

use parking_lot::Mutex;
use url::Url;

pub use descriptor::Descriptor;
pub use keys::InstallKeys;

/// Callback run after a successful install or before an uninstall is forgotten.
pub type AppHook = Arc<dyn Fn(&InstalledApp) + Send + Sync>;

/// How the simulated site presents itself.
#[derive(Clone)]
pub struct HostOptions {
    /// PKCS#8 or PKCS#1 PEM of the install-signing key; `None` generates one at start.
    pub private_key_pem: Option<String>,
    /// `kid` of that key.
    pub kid: String,
    /// The site's clientKey; a fresh UUID when `None`.
    pub client_key: Option<String>,
    /// `displayUrl` in payloads; the base URL when `None`.
    pub display_url: Option<String>,
    /// `description` in payloads.
    pub description: String,
    /// `serverVersion` in payloads.
    pub server_version: String,
    /// `pluginsVersion` in payloads.
    pub plugins_version: String,
    /// Run after each successful install (the Jira simulator registers the shared secret).
    pub on_installed: Option<AppHook>,
    /// Run after each uninstall callback was delivered.
    pub on_uninstalled: Option<AppHook>,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            private_key_pem: None,
            kid: "ferry-sim-install-key-1".into(),
            client_key: None,
            display_url: None,
            description: "Ferry's simulated Jira Cloud site".into(),
            server_version: "100296".into(),
            plugins_version: "1001.0.0-SNAPSHOT".into(),
            on_installed: None,
            on_uninstalled: None,
        }
    }
}

/// An app this site has installed.
#[derive(Debug, Clone)]
pub struct InstalledApp {
    /// The app key from the descriptor.
    pub key: String,
    /// This site's clientKey, as sent to the app.
    pub client_key: String,
    /// The shared secret sent in the last install.
    pub shared_secret: String,
    /// The `oauthClientId` sent in installs (the `iss` of impersonation assertions).
    pub oauth_client_id: String,
    /// The app's `baseUrl` from the descriptor.
    pub base_url: String,
    /// The whole descriptor (modules, lifecycle, licensing).
    pub descriptor: Descriptor,
}

/// The Connect host role of one simulated Jira site.
#[derive(Clone)]
pub struct ConnectHost {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: Url,
    client_key: String,
    options: HostOptions,
    keys: InstallKeys,
    http: reqwest::Client,
    apps: Mutex<BTreeMap<String, InstalledApp>>,
}

impl ConnectHost {
    /// A host for the site served at `base_url` (the simulator's own URL).
    pub fn new(base_url: Url, options: HostOptions) -> anyhow::Result<Self> {
        let keys = InstallKeys::new(options.private_key_pem.as_deref(), options.kid.clone())?;
        let client_key = options
            .client_key
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                base_url,
                client_key,
                options,
                keys,
                http,
                apps: Mutex::new(BTreeMap::new()),
            }),
        })
    }

    /// The site's clientKey.
    pub fn client_key(&self) -> &str {
        &self.inner.client_key
    }

    /// The install-signing key's `kid`.
    pub fn kid(&self) -> &str {
        &self.inner.keys.kid
    }

    /// The public install key (SPKI PEM).
    pub fn public_key_pem(&self) -> &str {
        &self.inner.keys.public_pem
    }

    /// Every installed app.
    pub fn installed(&self) -> Vec<InstalledApp> {
        self.inner.apps.lock().values().cloned().collect()
    }

    /// The installed app `key`.
    pub fn app(&self, key: &str) -> anyhow::Result<InstalledApp> {
        self.inner
            .apps
            .lock()
            .get(key)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("app `{key}` is not installed on this site"))
    }

    /// The URL of the host page that frames `module_key` for `account_id`.
    pub fn page_url(&self, module_key: &str, account_id: &str) -> String {
        let mut url = self.site_url(&format!("_sim/host/{module_key}"));
        url.query_pairs_mut().append_pair("accountId", account_id);
        url.to_string()
    }

    /// `base_url` joined with `rel`, keeping the base's path.
    fn site_url(&self, rel: &str) -> Url {
        let base = self.inner.base_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{rel}")).unwrap_or_else(|_| self.inner.base_url.clone())
    }

    /// The base URL without a trailing slash, as sent in `baseUrl` and `xdm_e`.
    fn base(&self) -> String {
        self.inner
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }
}
