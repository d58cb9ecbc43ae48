//! Lifecycle callbacks as Jira sends them: signed install/uninstall, HS256 enable/disable.
//!
//! The install JWT is RS256 with header `kid`, claims `iss` = clientKey, `aud` = the app's
//! `baseUrl`, `qsh` of `POST` + the lifecycle path relative to that base URL, `iat`, and
//! `exp = iat + 180`, no `sub` (reference §2.3). Each install sends a fresh shared secret.

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use serde_json::{Value, json};
use url::Url;

use super::{ConnectHost, InstalledApp, descriptor::Descriptor};
use crate::connect::qsh::qsh;

/// Lifetime of the tokens the host signs, as jira.js and ACE use.
pub(super) const TOKEN_SECS: i64 = 180;

/// Unix seconds now.
pub(super) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The qsh of `method` on an absolute `target`, relative to `base` (the app's baseUrl).
pub(super) fn qsh_for(method: &str, target: &Url, base: &str) -> anyhow::Result<String> {
    let base_path = Url::parse(base)
        .context("app baseUrl is not a URL")?
        .path()
        .to_owned();
    qsh(method, target.path(), &base_path, target.query())
        .context("target URL has a malformed query")
}

impl ConnectHost {
    /// Installs the app whose descriptor is at `descriptor_url`, as `POST /_sim/install` does.
    pub async fn install(&self, descriptor_url: &str) -> anyhow::Result<InstalledApp> {
        let raw: Value = self
            .inner
            .http
            .get(descriptor_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("fetching descriptor {descriptor_url}"))?
            .json()
            .await
            .context("descriptor is not JSON")?;
        let descriptor = Descriptor::parse(raw)?;
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let app = InstalledApp {
            key: descriptor.key.clone(),
            client_key: self.inner.client_key.clone(),
            shared_secret: URL_SAFE_NO_PAD.encode(secret),
            oauth_client_id: format!(
                "sim-oauth-{}",
                &self.inner.client_key[..8.min(self.inner.client_key.len())]
            ),
            base_url: descriptor.base_url.clone(),
            descriptor,
        };
        let path = app
            .descriptor
            .lifecycle
            .installed
            .clone()
            .context("descriptor declares no lifecycle.installed")?;
        self.signed_callback(&app, "installed", &path).await?;
        self.inner.apps.lock().insert(app.key.clone(), app.clone());
        if let Some(hook) = &self.inner.options.on_installed {
            hook(&app);
        }
        Ok(app)
    }

    /// Sends the RS256-signed `uninstalled` callback and forgets the app.
    pub async fn uninstall(&self, app_key: &str) -> anyhow::Result<InstalledApp> {
        let app = self.app(app_key)?;
        if let Some(path) = app.descriptor.lifecycle.uninstalled.clone() {
            self.signed_callback(&app, "uninstalled", &path).await?;
        }
        self.inner.apps.lock().remove(app_key);
        if let Some(hook) = &self.inner.options.on_uninstalled {
            hook(&app);
        }
        Ok(app)
    }

    /// Sends `enabled` or `disabled`, HS256-signed with the app's shared secret.
    pub async fn lifecycle(&self, app_key: &str, event: &str) -> anyhow::Result<()> {
        let app = self.app(app_key)?;
        let path = match event {
            "enabled" => app.descriptor.lifecycle.enabled.clone(),
            "disabled" => app.descriptor.lifecycle.disabled.clone(),
            other => bail!("unknown lifecycle event `{other}` (expected enabled or disabled)"),
        }
        .with_context(|| format!("descriptor declares no lifecycle.{event}"))?;
        let target = Url::parse(&app.descriptor.absolute(&path))?;
        let rel = match target.query() {
            Some(q) => format!("{}?{q}", target.path()),
            None => target.path().to_owned(),
        };
        let token = self.sign_hs256_for(&app.key, "POST", &self.relative(&app, &rel))?;
        self.post(&target, &token, &self.payload(&app, event)).await
    }

    /// The lifecycle payload, exactly the fields Jira sends (reference §2.1).
    fn payload(&self, app: &InstalledApp, event: &str) -> Value {
        let base = self.base();
        json!({
            "key": app.key,
            "clientKey": app.client_key,
            "sharedSecret": app.shared_secret,
            "baseUrl": base,
            "displayUrl": self.inner.options.display_url.clone().unwrap_or_else(|| base.clone()),
            "productType": "jira",
            "description": self.inner.options.description,
            "eventType": event,
            "serverVersion": self.inner.options.server_version,
            "pluginsVersion": self.inner.options.plugins_version,
            "oauthClientId": app.oauth_client_id,
        })
    }

    /// `path` with the app's base path removed, for [`Self::sign_hs256_for`].
    fn relative(&self, app: &InstalledApp, path: &str) -> String {
        let base_path = Url::parse(&app.base_url)
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        path.strip_prefix(&base_path)
            .filter(|r| r.starts_with('/') || r.is_empty())
            .unwrap_or(path)
            .to_owned()
    }

    async fn signed_callback(
        &self,
        app: &InstalledApp,
        event: &str,
        path: &str,
    ) -> anyhow::Result<()> {
        let target =
            Url::parse(&app.descriptor.absolute(path)).context("lifecycle URL is not a URL")?;
        let iat = now_secs();
        let claims = json!({
            "iss": app.client_key,
            "aud": app.base_url,
            "qsh": qsh_for("POST", &target, &app.base_url)?,
            "iat": iat,
            "exp": iat + TOKEN_SECS,
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.inner.keys.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.inner.keys.encoding)
            .context("signing install JWT")?;
        self.post(&target, &token, &self.payload(app, event)).await
    }

    async fn post(&self, target: &Url, token: &str, body: &Value) -> anyhow::Result<()> {
        let resp = self
            .inner
            .http
            .post(target.clone())
            .header("authorization", format!("JWT {token}"))
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {target}"))?;
        if !resp.status().is_success() {
            bail!("the app answered {} to POST {target}", resp.status());
        }
        Ok(())
    }
}

/// An HS256 token from claims, with the shared secret as raw bytes (as Jira uses it).
pub(super) fn hs256(claims: &Value, secret: &str) -> anyhow::Result<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .context("signing HS256 JWT")
}
