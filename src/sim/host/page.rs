//! Framing an app's page module the way Jira does, and signing requests to the app.
//!
//! The iframe URL is the module `url` (context variables bound) plus Jira's standard
//! parameters `xdm_e`, `xdm_c`, `cp`, `lic`, `loc`, `tz`, `user_id` and a `jwt` whose `qsh`
//! is computed over exactly that URL relative to the app's base URL (reference §1.4, §3.5).

use anyhow::Context;
use serde_json::json;
use url::Url;

use super::{
    ConnectHost,
    descriptor::substitute,
    install::{TOKEN_SECS, hs256, now_secs, qsh_for},
};

impl ConnectHost {
    /// The iframe `src` for `module_key` as `account_id`, binding `context` variables.
    pub fn iframe_url(
        &self,
        module_key: &str,
        account_id: &str,
        context: &[(String, String)],
    ) -> anyhow::Result<String> {
        let app = self
            .installed()
            .into_iter()
            .find(|a| a.descriptor.page_module_url(module_key).is_some())
            .with_context(|| format!("no installed app has a page module `{module_key}`"))?;
        let module_url = app
            .descriptor
            .page_module_url(module_key)
            .unwrap_or_default();
        let mut url = Url::parse(&app.descriptor.absolute(&substitute(&module_url, context)))
            .context("page module URL is not a URL")?;
        let lic = if app.descriptor.enable_licensing {
            "active"
        } else {
            "none"
        };
        url.query_pairs_mut()
            .append_pair("xdm_e", &self.base())
            .append_pair("xdm_c", &format!("channel-{}__{module_key}", app.key))
            .append_pair("cp", "")
            .append_pair("lic", lic)
            .append_pair("loc", "en-US")
            .append_pair("tz", "UTC")
            .append_pair("user_id", "");
        let iat = now_secs();
        let claims = json!({
            "iss": app.client_key,
            "sub": account_id,
            "context": {},
            "qsh": qsh_for("GET", &url, &app.base_url)?,
            "iat": iat,
            "exp": iat + TOKEN_SECS,
        });
        let token = hs256(&claims, &app.shared_secret)?;
        url.query_pairs_mut().append_pair("jwt", &token);
        Ok(url.to_string())
    }

    /// An HS256 token for `method` on `path_and_query` (relative to the app's base URL), as
    /// Jira signs webhooks and `enabled`/`disabled`: `iss` = clientKey, computed `qsh`.
    pub fn sign_hs256_for(
        &self,
        app_key: &str,
        method: &str,
        path_and_query: &str,
    ) -> anyhow::Result<String> {
        let app = self.app(app_key)?;
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let qsh = crate::connect::qsh::qsh(method, path, "", query).context("malformed query")?;
        let iat = now_secs();
        let claims = json!({ "iss": app.client_key, "qsh": qsh, "context": {}, "iat": iat, "exp": iat + TOKEN_SECS });
        hs256(&claims, &app.shared_secret)
    }
}

/// The host page: a Jira-like frame of 1280×800 with the app's iframe.
pub(super) fn host_page(title: &str, iframe_src: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{title} · Jira (simulated)</title>\
<style>body{{margin:0;font-family:system-ui,sans-serif;background:#f4f5f7}}\
header{{height:48px;display:flex;align-items:center;padding:0 16px;background:#0c66e4;color:#fff;font-weight:600}}\
main{{max-width:1280px;margin:0 auto}}iframe{{display:block;width:100%;height:752px;border:0;background:#fff}}</style>\
</head><body><header>Jira (simulated) — {title}</header><main>\
<iframe id=\"connect-app\" src=\"{src}\" title=\"{title}\"></iframe></main></body></html>\n",
        title = esc(title),
        src = esc(iframe_src)
    )
}
