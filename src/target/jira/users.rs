//! Mapping ADO identities to Jira accounts.
//!
//! Writes name people by accountId only, so every ADO identity needs one or none. An e-mail
//! is the only reliable key; a display name is used only when exactly one active account bears
//! it, since a wrong guess would attribute work to the wrong person, which is worse than
//! leaving it unassigned. Many Jira users hide their e-mail, so the name fallback matters.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-user-search/#api-rest-api-3-user-search-get>

use std::collections::HashMap;

use anyhow::Context as _;
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::Value;

use super::{client::JiraClient, load::encode, meta::JiraUser, parse::str_of};

/// Identities looked up at once.
pub const CONCURRENCY: usize = 8;

/// Users per search page, and how many pages a display name may span (Jira stops at 1,000).
const PAGE: usize = 100;
const MAX_PAGES: usize = 10;

/// Resolves `(key, display name, e-mail or unique name)` triples: key → the Jira user, or
/// `None` when no account matches with certainty.
#[tracing::instrument(skip_all, fields(identities = identities.len()))]
pub async fn resolve_users(
    client: &JiraClient,
    identities: &[(String, String, String)],
) -> anyhow::Result<HashMap<String, Option<JiraUser>>> {
    // Owned items: a closure over borrowed tuples makes a future whose lifetime is not general
    // enough for `Send` callers such as axum handlers.
    futures_util::stream::iter(identities.iter().cloned())
        .map(|(key, display, email)| async move {
            let user = resolve_one(client, &display, &email)
                .await
                .with_context(|| format!("resolving identity {key}"))?;
            anyhow::Ok((key, user))
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
}

async fn resolve_one(
    client: &JiraClient,
    display: &str,
    email: &str,
) -> anyhow::Result<Option<JiraUser>> {
    let email = email.trim();
    if email.contains('@') {
        let hits = search(client, email, 1).await?;
        let mut same: Vec<JiraUser> = hits
            .into_iter()
            .filter(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .collect();
        // Should an e-mail appear twice, the active account is the one that can be assigned.
        same.sort_by_key(|u| !u.active);
        if let Some(user) = same.into_iter().next() {
            return Ok(Some(user));
        }
    }
    let display = display.trim();
    if display.is_empty() {
        return Ok(None);
    }
    let mut named: Vec<JiraUser> = search(client, display, MAX_PAGES)
        .await?
        .into_iter()
        .filter(|u| u.active && u.display_name.trim() == display)
        .collect();
    Ok(if named.len() == 1 { named.pop() } else { None })
}

/// Every person `user/search?query=` returns over up to `pages` pages (apps excluded).
async fn search(client: &JiraClient, query: &str, pages: usize) -> anyhow::Result<Vec<JiraUser>> {
    let mut out = Vec::new();
    for page in 0..pages {
        let path = format!(
            "/rest/api/3/user/search?query={}&startAt={}&maxResults={PAGE}",
            encode(query),
            page * PAGE
        );
        let got: Vec<Value> = client.get_json(&path).await.context("GET user/search")?;
        let n = got.len();
        out.extend(got.iter().filter_map(user));
        if n < PAGE {
            break;
        }
    }
    Ok(out)
}

/// A `User`, unless it is an app or customer account (those cannot own ADO work).
fn user(v: &Value) -> Option<JiraUser> {
    if v["accountType"].as_str().is_some_and(|t| t != "atlassian") {
        return None;
    }
    Some(JiraUser {
        account_id: str_of(v, "accountId")?,
        display_name: str_of(v, "displayName").unwrap_or_default(),
        email: str_of(v, "emailAddress"),
        active: v["active"].as_bool().unwrap_or(true),
    })
}
