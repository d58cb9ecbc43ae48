//! The parts of an app descriptor (`atlassian-connect.json`) the host acts on.

use serde::Deserialize;
use serde_json::Value;

/// An app descriptor; unknown fields are kept in `raw`.
#[derive(Debug, Clone)]
pub struct Descriptor {
    /// App key.
    pub key: String,
    /// App base URL (the `aud` of signed installs).
    pub base_url: String,
    /// Lifecycle paths, relative to `base_url`.
    pub lifecycle: Lifecycle,
    /// Whether Jira appends `lic=active`.
    pub enable_licensing: bool,
    /// The whole document.
    pub raw: Value,
}

/// `lifecycle` of a descriptor.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Lifecycle {
    /// `installed` path.
    pub installed: Option<String>,
    /// `uninstalled` path.
    pub uninstalled: Option<String>,
    /// `enabled` path.
    pub enabled: Option<String>,
    /// `disabled` path.
    pub disabled: Option<String>,
}

/// Page module collections the host page can frame.
const PAGE_MODULES: [&str; 3] = ["adminPages", "generalPages", "jiraProjectAdminTabPanels"];

impl Descriptor {
    /// Reads a descriptor, requiring `key` and `baseUrl`.
    pub fn parse(raw: Value) -> anyhow::Result<Self> {
        let text = |field: &str| raw.get(field).and_then(Value::as_str).map(str::to_owned);
        let key = text("key").ok_or_else(|| anyhow::anyhow!("descriptor has no `key`"))?;
        let base_url =
            text("baseUrl").ok_or_else(|| anyhow::anyhow!("descriptor has no `baseUrl`"))?;
        let lifecycle = raw
            .get("lifecycle")
            .map(|l| serde_json::from_value(l.clone()))
            .transpose()?
            .unwrap_or_default();
        let enable_licensing = raw
            .get("enableLicensing")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(Self {
            key,
            base_url,
            lifecycle,
            enable_licensing,
            raw,
        })
    }

    /// The `modules` object.
    pub fn modules(&self) -> &Value {
        self.raw.get("modules").unwrap_or(&Value::Null)
    }

    /// The `url` of page module `module_key` among the framable collections.
    pub fn page_module_url(&self, module_key: &str) -> Option<String> {
        PAGE_MODULES.iter().find_map(|collection| {
            self.modules()
                .get(collection)?
                .as_array()?
                .iter()
                .find(|m| m.get("key").and_then(Value::as_str) == Some(module_key))?
                .get("url")?
                .as_str()
                .map(str::to_owned)
        })
    }

    /// `base_url` joined with a path relative to it.
    pub fn absolute(&self, rel: &str) -> String {
        format!("{}{}", self.base_url.trim_end_matches('/'), rel)
    }
}

/// Replaces `{project.key}`-style variables from `context`; unbound ones become empty, as in Jira.
pub fn substitute(url: &str, context: &[(String, String)]) -> String {
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        if let Some((_, v)) = context.iter().find(|(k, _)| k == name) {
            out.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_variables_are_bound_and_unbound_ones_emptied() {
        let ctx = [("project.key".to_owned(), "AB C".to_owned())];
        assert_eq!(
            substitute("/p?k={project.key}&id={project.id}", &ctx),
            "/p?k=AB+C&id="
        );
    }
}
