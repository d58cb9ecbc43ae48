//! Who posts an item's comments when the mapping says `commentsAsAuthor`: the comment's
//! original author, through Connect user impersonation ([`crate::connect::act_as`]), when the
//! author maps to an account preflight found active and the authorization server grants a
//! token; otherwise the app, with the author named in the header.
//!
//! Falling back is never a failure of the run: the comment is posted as the app and the item
//! gets the report note [`AUTHOR_FALLBACK`]. Only an authorization server that cannot be
//! reached (network, 5xx) ends the item's turn, as any transient error does, since it says
//! nothing about the user.
//!
//! A site reached with an API token (headless) cannot impersonate; the API refuses the option
//! for such sites, and should a mapping still carry it, it is ignored here with the same note.

use secrecy::SecretString;

use super::followup::Job;
use crate::{
    connect::{
        act_as::{Grant, GrantError},
        outbound::TenantCredentials,
    },
    source::ado::models::Comment,
    target::jira::JiraClient,
};

/// The report note of an item with a comment posted as the app instead of its author.
pub const AUTHOR_FALLBACK: &str = "comment_author_fallback";

/// The tenant's impersonation credentials for one item's comments.
pub(super) struct Authors {
    /// `oauthClientId` from the install and the tenant's credentials; `None` when the tenant
    /// cannot impersonate (no `oauthClientId`, or not a Connect tenant).
    grant: Option<(String, TenantCredentials)>,
    /// Whether a comment of this item fell back to the app (noted once per item).
    fell_back: bool,
}

impl Authors {
    /// `None` when the mapping leaves comments to the app.
    pub async fn new(job: &Job<'_>) -> anyhow::Result<Option<Self>> {
        if !job.ctx.mapping.comments_as_author {
            return Ok(None);
        }
        if !job.ctx.jira.client.is_connect() {
            return Ok(Some(Self {
                grant: None,
                fell_back: false,
            }));
        }
        let tenant = job.state.store.tenant(&job.run.client_key).await?;
        let grant = match tenant.oauth_client_id.clone().filter(|c| !c.is_empty()) {
            Some(client_id) => {
                let creds = job
                    .state
                    .credentials(&tenant)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Some((client_id, creds))
            }
            None => {
                tracing::warn!("the install gave no oauthClientId: comments are posted as the app");
                None
            }
        };
        Ok(Some(Self {
            grant,
            fell_back: false,
        }))
    }

    /// The active Jira account of a comment's author, by the mapping's user map (the same
    /// identity key the transform uses: id, then unique name, then display name).
    pub fn account(job: &Job<'_>, comment: &Comment) -> Option<String> {
        let who = comment.created_by.as_ref()?;
        let key = [&who.id, &who.unique_name, &who.display_name]
            .into_iter()
            .find(|k| !k.is_empty())?;
        job.ctx.mapping.user(key)?.account_id.clone()
    }

    /// A client acting as `account`, or `None` when it must be the app (the grant refused
    /// or impossible); the fallback is noted.
    pub async fn client(
        &mut self,
        job: &Job<'_>,
        account: Option<&str>,
    ) -> anyhow::Result<Option<JiraClient>> {
        let (Some(account), Some((client_id, creds))) = (account, &self.grant) else {
            self.fall_back(job).await?;
            return Ok(None);
        };
        let grant = job
            .state
            .act_as
            .grant(&job.run.client_key, client_id, creds, account)
            .await
            .map_err(|e: GrantError| anyhow::anyhow!("{e}"))?;
        match grant {
            Grant::Token(token) => Ok(Some(as_user(job, token))),
            Grant::Refused(status) => {
                tracing::info!(
                    item = job.plan.ado_id,
                    status,
                    "no token for a comment's author"
                );
                self.fall_back(job).await?;
                Ok(None)
            }
        }
    }

    /// Records that a comment of this item is posted as the app.
    pub async fn fall_back(&mut self, job: &Job<'_>) -> anyhow::Result<()> {
        if !self.fell_back {
            self.fell_back = true;
            job.state
                .store
                .note_items(job.run, &[(job.plan.ado_id, AUTHOR_FALLBACK)])
                .await?;
        }
        Ok(())
    }
}

fn as_user(job: &Job<'_>, token: SecretString) -> JiraClient {
    job.ctx.jira.client.acting_as(token)
}
