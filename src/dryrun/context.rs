//! Everything a dry run (or a preview) needs before it reads an item: the mapping version, the
//! catalog's scope, a Jira client for the tenant and the target's current metadata.

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use crate::{
    app::AppState,
    mapping::{
        adf::Resolve,
        model::Mapping,
        transform::{Context, ORIGIN_PROPERTY},
    },
    target::jira::{
        TargetMeta,
        client::{JiraAuth, JiraClient},
        load::load_target,
    },
};

/// A loaded dry run context.
pub struct DryContext {
    /// The catalog mapped.
    pub catalog_id: String,
    /// Its ADO connection.
    pub connection_id: String,
    /// The ADO project.
    pub project: String,
    /// `{org}/{project}`, for links back to ADO.
    pub project_url: String,
    /// Every item in scope → its ADO type (from the catalog).
    pub scope: HashMap<i64, String>,
    /// The mapping checked.
    pub mapping: Mapping,
    /// The target as it is now.
    pub target: TargetMeta,
    /// The tenant's Jira.
    pub jira: JiraTarget,
}

/// The tenant's Jira for one project.
pub struct JiraTarget {
    /// The client.
    pub client: JiraClient,
    /// The project key.
    pub project_key: String,
}

/// A Jira client for a tenant, signed as the installed app.
pub async fn tenant_jira(state: &AppState, client_key: &str) -> anyhow::Result<JiraClient> {
    let tenant = state
        .store
        .tenant(client_key)
        .await
        .context("loading the tenant")?;
    let credentials = state
        .credentials(&tenant)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let auth = if tenant.auth == "basic" {
        // A headless site (`ferry migrate`): the sealed secret is `email:api_token`.
        let secret = credentials.shared_secret.expose_secret();
        let (email, token) = secret
            .split_once(':')
            .context("a headless tenant's secret is not email:token")?;
        JiraAuth::Basic {
            site: credentials.base_url.clone(),
            email: email.to_owned(),
            token: SecretString::from(token.to_owned()),
        }
    } else {
        JiraAuth::Connect {
            host: state.host.clone(),
            tenant: credentials,
        }
    };
    JiraClient::new(auth).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Loads the context of a mapping at `version` (the current one when `None`).
pub async fn load_context(
    state: &AppState,
    client_key: &str,
    mapping_id: &str,
    version: Option<i64>,
) -> anyhow::Result<DryContext> {
    let row = state
        .store
        .mapping(client_key, mapping_id)
        .await
        .context("loading the mapping")?;
    let body = match version {
        Some(v) if v != row.version => state
            .store
            .mapping_version(client_key, mapping_id, v)
            .await
            .context("loading the mapping version")?,
        _ => row.body.clone(),
    };
    let mapping = Mapping::from_json(&body)
        .map_err(|e| anyhow::anyhow!("the stored mapping is unreadable: {e}"))?;
    let catalog = state
        .store
        .catalog(client_key, &row.catalog_id)
        .await
        .context("loading the catalog")?;
    let connection = state
        .store
        .connection(client_key, &catalog.connection_id)
        .await
        .context("loading the connection")?;
    let scope = state
        .store
        .catalog_item_types(client_key, &catalog.id)
        .await?
        .into_iter()
        .collect();
    let client = tenant_jira(state, client_key).await?;
    let target = load_target(&client, &row.project_key)
        .await
        .context("reading the Jira project's metadata")?;
    Ok(DryContext {
        project_url: format!(
            "{}/{}",
            connection.org_url.trim_end_matches('/'),
            crate::source::ado::extract::enc(&catalog.project)
        ),
        catalog_id: catalog.id,
        connection_id: catalog.connection_id,
        project: catalog.project,
        scope,
        mapping,
        target,
        jira: JiraTarget {
            client,
            project_key: row.project_key,
        },
    })
}

/// Rich-text links during a dry run: people through the mapping; issues and attachments are
/// not migrated yet, so they stay as text.
pub struct MappingLinks<'a>(&'a Mapping);

impl Resolve for MappingLinks<'_> {
    fn account(&self, ado_identity: &str) -> Option<String> {
        self.0.user(ado_identity).and_then(|u| u.account_id.clone())
    }
    fn issue_url(&self, _ado_id: u64) -> Option<String> {
        None
    }
    fn attachment_url(&self, _guid: &str) -> Option<String> {
        None
    }
}

impl DryContext {
    /// The resolver for rich text.
    pub fn resolver(&self) -> MappingLinks<'_> {
        MappingLinks(&self.mapping)
    }

    /// The transform's context.
    pub fn transform_context<'a>(&'a self, links: &'a MappingLinks<'a>) -> Context<'a> {
        Context {
            mapping: &self.mapping,
            target: &self.target,
            scope: &self.scope,
            project_url: &self.project_url,
            links,
        }
    }
}

impl JiraTarget {
    /// Which of `ids` already have an issue in the project, found by the origin property that
    /// every migrated issue carries (the descriptor indexes it for JQL).
    pub async fn existing(&self, ids: &[i64]) -> anyhow::Result<HashSet<i64>> {
        let mut found = HashSet::new();
        if ids.is_empty() {
            return Ok(found);
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let jql = format!(
            "project = \"{}\" AND issue.property[{ORIGIN_PROPERTY}].adoId IN ({})",
            self.project_key,
            list.join(",")
        );
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "jql": jql, "fields": ["id"], "properties": [ORIGIN_PROPERTY], "maxResults": 5000 });
            if let Some(t) = &token {
                body["nextPageToken"] = json!(t);
            }
            let page: Value = self
                .client
                .post_json_idempotent("/rest/api/3/search/jql", &body)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for issue in page["issues"].as_array().into_iter().flatten() {
                if let Some(id) = issue["properties"][ORIGIN_PROPERTY]["adoId"].as_i64() {
                    found.insert(id);
                }
            }
            match page["nextPageToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(found),
            }
        }
    }
}
