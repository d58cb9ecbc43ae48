//! Opening a verified client for a connection: the URL passes the SSRF guard (again at every
//! use, since DNS answers change), and the PAT is opened from its seal only in memory.

use secrecy::SecretString;

use crate::{
    app::AppState,
    error::AppError,
    source::ado::{
        AdoClient, AdoError, Area, GuardError,
        models::{ListOf, TeamProject},
    },
};

/// The associated data binding a sealed PAT to its tenant and connection.
pub fn pat_context(client_key: &str, connection_id: &str) -> Vec<u8> {
    format!("ado-pat/{client_key}/{connection_id}").into_bytes()
}

/// A client for `org_url` with `pat`, after the guard. Guard failures are the admin's to fix.
pub async fn client_for(
    state: &AppState,
    org_url: &str,
    pat: &SecretString,
) -> Result<AdoClient, AppError> {
    let checked = state
        .source_policy()
        .check(org_url)
        .await
        .map_err(|e: GuardError| AppError::BadRequest(e.to_string()))?;
    AdoClient::new(&checked, pat).map_err(|e| AppError::Internal(e.into()))
}

/// Proves the URL and PAT work by listing one project; maps failures to clear messages.
pub async fn verify(client: &AdoClient) -> Result<Vec<TeamProject>, AppError> {
    let projects: Result<ListOf<TeamProject>, AdoError> = client
        .get_json("_apis/projects?$top=100", Area::General)
        .await;
    match projects {
        Ok(list) => Ok(list.value),
        Err(AdoError::Unauthorized(_)) => Err(AppError::BadRequest("Azure DevOps refused the personal access token (it needs Work Items: Read and Project: Read)".into())),
        Err(AdoError::NotFound) => Err(AppError::BadRequest("no Azure DevOps organization or collection at that URL".into())),
        Err(AdoError::Transport(_)) => Err(AppError::BadRequest("Azure DevOps is unreachable at that URL".into())),
        Err(e) => Err(AppError::BadRequest(format!("that URL does not answer as Azure DevOps does ({e})"))),
    }
}

/// The client of a stored connection, with its PAT unsealed.
pub async fn stored_client(
    state: &AppState,
    client_key: &str,
    connection_id: &str,
) -> Result<AdoClient, AppError> {
    let connection = state.store.connection(client_key, connection_id).await?;
    let sealed = state
        .store
        .connection_pat(client_key, connection_id)
        .await?;
    let pat = state
        .config
        .secret_key
        .open(&sealed, &pat_context(client_key, connection_id))
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("opening a sealed PAT")))?;
    let pat = SecretString::from(String::from_utf8(pat).map_err(|e| AppError::Internal(e.into()))?);
    client_for(state, &connection.org_url, &pat).await
}
