//! Reading a project without holding it in memory: ids page by page (WIQL partitioned so no
//! query meets the 20,000-result cap), work items in batches of 200, comments paged to the end.
//! <https://learn.microsoft.com/rest/api/azure/devops/wit/wiql/query-by-wiql>

use serde::Serialize;
use serde_json::json;

use super::{
    client::{AdoClient, AdoError, Area},
    models::{Comment, CommentList, WorkItem, WorkItemQueryResult},
};

/// Ids per WIQL page: under the cap with room to spare.
pub const ID_PAGE: usize = 10_000;
/// `workitemsbatch` takes at most 200 ids.
pub const BATCH: usize = 200;
/// The widest id window tried when ADO refuses `$top` paging; ADO ids are 32-bit.
const MAX_ID: i64 = i32::MAX as i64;

/// Which items of a project a scan or run covers.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// `[System.AreaPath] UNDER …`.
    #[serde(default)]
    pub area_path: Option<String>,
    /// Work item types (empty: all).
    #[serde(default)]
    pub types: Vec<String>,
    /// States (empty: all).
    #[serde(default)]
    pub states: Vec<String>,
    /// `[System.ChangedDate] >= …` (ISO date).
    #[serde(default)]
    pub changed_since: Option<String>,
    /// An extra WIQL where-clause, and-ed with the rest.
    #[serde(default)]
    pub wiql_where: Option<String>,
}

/// A WIQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Scope {
    /// The scope as WIQL conditions, each prefixed with ` AND `.
    pub fn wiql(&self) -> String {
        let mut out = String::new();
        if let Some(area) = &self.area_path {
            out += &format!(" AND [System.AreaPath] UNDER {}", lit(area));
        }
        let list = |v: &[String]| v.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ");
        if !self.types.is_empty() {
            out += &format!(" AND [System.WorkItemType] IN ({})", list(&self.types));
        }
        if !self.states.is_empty() {
            out += &format!(" AND [System.State] IN ({})", list(&self.states));
        }
        if let Some(since) = &self.changed_since {
            out += &format!(" AND [System.ChangedDate] >= {}", lit(since));
        }
        if let Some(extra) = self
            .wiql_where
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            out += &format!(" AND ({extra})");
        }
        out
    }
}

impl AdoClient {
    async fn wiql(
        &self,
        project: &str,
        conditions: &str,
        top: Option<usize>,
    ) -> Result<Vec<i64>, AdoError> {
        let query = format!(
            "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project{conditions} ORDER BY [System.Id] ASC"
        );
        let path = match top {
            Some(n) => format!("{}/_apis/wit/wiql?$top={n}", enc(project)),
            None => format!("{}/_apis/wit/wiql", enc(project)),
        };
        let result: WorkItemQueryResult = self
            .post_json(&path, Area::General, &json!({ "query": query }))
            .await?;
        Ok(result.work_items.into_iter().map(|r| r.id).collect())
    }

    /// The next ids of the scope after `after`, ascending; empty when there are no more.
    pub async fn ids_after(
        &self,
        project: &str,
        scope: &Scope,
        after: i64,
    ) -> Result<Vec<i64>, AdoError> {
        let conditions = format!(" AND [System.Id] > {after}{}", scope.wiql());
        match self.wiql(project, &conditions, Some(ID_PAGE)).await {
            Err(AdoError::QueryTooLarge) => self.ids_in_windows(project, scope, after).await,
            other => other,
        }
    }

    /// Fallback when ADO applies the cap despite `$top`: bounded id windows, halved when
    /// still too large, doubled while empty, until the 32-bit id space is exhausted.
    async fn ids_in_windows(
        &self,
        project: &str,
        scope: &Scope,
        mut after: i64,
    ) -> Result<Vec<i64>, AdoError> {
        let mut width: i64 = 5_000;
        loop {
            let high = after.saturating_add(width).min(MAX_ID);
            let conditions = format!(
                " AND [System.Id] > {after} AND [System.Id] <= {high}{}",
                scope.wiql()
            );
            match self.wiql(project, &conditions, None).await {
                Ok(ids) if !ids.is_empty() => return Ok(ids),
                Ok(_) if high >= MAX_ID => return Ok(Vec::new()),
                Ok(_) => {
                    after = high;
                    width = width.saturating_mul(2);
                }
                Err(AdoError::QueryTooLarge) if width > 1 => width /= 2,
                Err(e) => return Err(e),
            }
        }
    }

    /// Work items by id (at most [`BATCH`]), with relations, in the order ADO returns them.
    pub async fn work_items(&self, project: &str, ids: &[i64]) -> Result<Vec<WorkItem>, AdoError> {
        assert!(
            ids.len() <= BATCH,
            "workitemsbatch takes at most {BATCH} ids"
        );
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({ "ids": ids, "$expand": "relations", "errorPolicy": "omit" });
        let list: super::models::ListOf<Option<WorkItem>> = self
            .post_json(
                &format!("{}/_apis/wit/workitemsbatch", enc(project)),
                Area::General,
                &body,
            )
            .await?;
        Ok(list.value.into_iter().flatten().collect())
    }

    /// Every comment of an item, oldest first, deleted ones included (callers decide).
    pub async fn comments(&self, project: &str, id: i64) -> Result<Vec<Comment>, AdoError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!(
                "{}/_apis/wit/workItems/{id}/comments?$top=200&includeDeleted=true&order=asc",
                enc(project)
            );
            if let Some(t) = &token {
                path += &format!("&continuationToken={}", enc(t));
            }
            let page: CommentList = self.get_json(&path, Area::Comments).await?;
            all.extend(page.comments);
            match page.continuation_token.filter(|t| !t.is_empty()) {
                Some(next) if Some(&next) != token.as_ref() => token = Some(next),
                _ => return Ok(all),
            }
        }
    }
}

/// Percent-encodes one path segment or query value.
pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_quotes_every_literal() {
        let scope = Scope {
            area_path: Some("Fab\\O'Brien".into()),
            types: vec!["Bug".into(), "User Story".into()],
            states: vec![],
            changed_since: Some("2024-01-01".into()),
            wiql_where: Some("  [System.Tags] CONTAINS 'x' ".into()),
        };
        assert_eq!(
            scope.wiql(),
            " AND [System.AreaPath] UNDER 'Fab\\O''Brien' AND [System.WorkItemType] IN ('Bug', 'User Story') \
             AND [System.ChangedDate] >= '2024-01-01' AND ([System.Tags] CONTAINS 'x')"
        );
        assert_eq!(Scope::default().wiql(), "");
    }
}
