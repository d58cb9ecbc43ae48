//! `DELETE /rest/api/3/issue/{issueIdOrKey}` and the `jira:issue_deleted` webhook it fires.
//!
//! As in Jira: an issue with children is refused (400) unless `deleteSubtasks=true`, which
//! deletes them too; links to a deleted issue go with it; the delete reaches search after the
//! index lag. Each deleted issue is then posted to the app's `/webhooks/issue-deleted` the way
//! Connect delivers webhooks: asynchronously, `Authorization: JWT` (HS256 with the tenant's
//! shared secret, `iss` = clientKey, `qsh` of the POST), with the issue as it was (its fields,
//! content included, as Jira sends them). Only when an app asked for webhooks with
//! [`JiraSim::send_webhooks`].
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-delete>

use axum::{
    Router,
    extract::{Path, RawQuery, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::{JiraSim, error::JiraError, error::JiraResult, params::Params, render::FieldSel};

/// Where the app wants its webhooks.
#[derive(Clone, Debug)]
pub struct HookTarget {
    /// The app's base URL (no trailing slash).
    pub base_url: String,
    /// The tenant's clientKey (the JWT's `iss`).
    pub client_key: String,
    /// The shared secret the JWT is signed with.
    pub shared_secret: String,
}

pub fn router() -> Router<JiraSim> {
    Router::new().route("/rest/api/3/issue/{issue}", axum::routing::delete(remove))
}

impl JiraSim {
    /// Posts `jira:issue_deleted` webhooks to the app at `base_url` for `client_key`.
    pub fn send_webhooks(&self, base_url: &str, client_key: &str, shared_secret: &str) {
        *self.0.hooks.write() = Some(HookTarget {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client_key: client_key.to_owned(),
            shared_secret: shared_secret.to_owned(),
        });
    }
}

async fn remove(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    RawQuery(q): RawQuery,
) -> JiraResult<StatusCode> {
    let params = Params::parse(q.as_deref());
    let with_subtasks = params.one("deleteSubtasks") == Some("true");
    let gone: Vec<Value> = {
        let mut data = sim.0.data.write();
        let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
        let children = data.issues[&id].children.clone();
        if !children.is_empty() && !with_subtasks {
            return Err(JiraError::bad_request(
                "The issue has subtasks; set deleteSubtasks=true to delete them too.",
            ));
        }
        let sel = FieldSel::parse(&[], "*all");
        let mut gone = Vec::new();
        for victim in children.into_iter().chain([id]) {
            let Some(i) = data.issues.get(&victim) else {
                continue;
            };
            gone.push(sim.render_issue(&data, i, &sel, &["ferry-origin".to_owned()]));
            let Some(i) = data.issues.remove(&victim) else {
                continue;
            };
            data.by_key.remove(&i.key);
            if let Some(parent) = i.parent.and_then(|p| data.issues.get_mut(&p)) {
                parent.children.retain(|c| *c != victim);
            }
            for link in &i.links {
                if let Some(l) = data.links.remove(link) {
                    let other = if l.inward == victim {
                        l.outward
                    } else {
                        l.inward
                    };
                    if let Some(o) = data.issues.get_mut(&other) {
                        o.links.retain(|x| x != link);
                    }
                }
            }
            for a in &i.attachments {
                data.attachments.remove(a);
            }
            sim.touch(&data, victim);
        }
        gone
    };
    let target = sim.0.hooks.read().clone();
    if let Some(target) = target {
        tokio::spawn(async move {
            for issue in gone {
                if let Err(e) = post(&target, issue).await {
                    tracing::warn!(error = %format!("{e:#}"), "jira sim: webhook not delivered");
                }
            }
        });
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn post(target: &HookTarget, issue: Value) -> anyhow::Result<()> {
    let path = "/webhooks/issue-deleted";
    let qsh =
        crate::connect::qsh::qsh("POST", path, "", None).map_err(|_| anyhow::anyhow!("qsh"))?;
    let iat = now_secs();
    let claims = json!({ "iss": target.client_key, "qsh": qsh, "context": {}, "iat": iat, "exp": iat + 180 });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(target.shared_secret.as_bytes()),
    )?;
    let body = json!({
        "timestamp": iat * 1000,
        "webhookEvent": "jira:issue_deleted",
        "issue_event_type_name": "issue_deleted",
        "issue": issue,
    });
    let answer = reqwest::Client::new()
        .post(format!("{}{path}", target.base_url))
        .header("Authorization", format!("JWT {token}"))
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        answer.status().is_success(),
        "app answered {}",
        answer.status()
    );
    Ok(())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
