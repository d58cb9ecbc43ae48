//! The app descriptor served at `GET /atlassian-connect.json`.
//!
//! The repository's top-level `atlassian-connect.json` is a template with `{{base_url}}` and
//! `{{app_key}}`; it is rendered once at start, so a bad template stops Ferry immediately.
//!
//! Scopes, each for a reason (least privilege, Marketplace security requirement 4):
//! - `READ`: project, field, create-metadata, user and search reads; permission checks.
//! - `WRITE`: bulk create, edit, transitions, comments, links, attachments, issue properties.
//! - `PROJECT_ADMIN`: creating components and versions (their POSTs require it).
//! - `ADMIN`: reading workflows (`/rest/api/3/workflow/search`) to plan status transitions
//!   in the dry run; no admin write is made.
//! - `ACT_AS_USER`: posting comments as their original author when the admin opts in.
//! - `ACCESS_EMAIL_ADDRESSES`: matching ADO identities to Jira accounts by e-mail.
//!
//! `DELETE` is deliberately absent: cancelling a run removes nothing from Jira.

use anyhow::Context;

const TEMPLATE: &str = include_str!("../../atlassian-connect.json");

/// Renders the descriptor for `base_url` (no trailing slash) and `app_key`.
pub fn render(base_url: &str, app_key: &str) -> anyhow::Result<serde_json::Value> {
    let escape = |s: &str| {
        let quoted = serde_json::to_string(s).expect("a string serialises");
        quoted[1..quoted.len() - 1].to_owned()
    };
    let text = TEMPLATE
        .replace("{{base_url}}", &escape(base_url.trim_end_matches('/')))
        .replace("{{app_key}}", &escape(app_key));
    serde_json::from_str(&text).context("atlassian-connect.json template is not valid JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_base_url_and_key_everywhere() {
        let d = render("https://ferry.example.com/", "io.ferry.test").expect("renders");
        assert_eq!(d["baseUrl"], "https://ferry.example.com");
        assert_eq!(d["key"], "io.ferry.test");
        assert!(!d.to_string().contains("{{"));
    }

    #[test]
    fn scopes_are_exactly_the_documented_set() {
        let d = render("https://x.example.com", "k").expect("renders");
        let scopes: Vec<&str> = d["scopes"]
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(
            scopes,
            [
                "READ",
                "WRITE",
                "PROJECT_ADMIN",
                "ADMIN",
                "ACT_AS_USER",
                "ACCESS_EMAIL_ADDRESSES"
            ]
        );
    }
}
