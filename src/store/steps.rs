//! Sub-item checkpoints of phases 3–7: one row per link, remote link, attachment, inline-image
//! rewrite, comment and transition of an item, and the `followed` mark on the id map once all
//! of an item's are done. Every write is fenced by the run's lease, like the id map's.

use serde::Serialize;

use super::{Store, StoreResult, dispatch, now_ms};
use crate::store::{Run, RunItem, runs::fenced_tx_guard};

/// The kinds of sub-items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    /// A parent set after creation.
    Parent,
    /// An issue link; `ord` is ±(the other end's ADO id × 1,000,000 + the link type's number),
    /// negative when the item is the inward end (see `engine/links.rs`).
    Link,
    /// The remote link back to the ADO item; `ord` is 0.
    Remote,
    /// An attachment; `ord` is its number among the item's files (inline images that are not
    /// attached files come after them).
    File,
    /// The rewrite of rich-text fields whose inline images now point at migrated attachments;
    /// `ord` is 0.
    Images,
    /// A comment; `ord` is its number among the item's comments (overflow parts after them).
    Comment,
    /// The transition to the mapped status; `ord` is 0.
    Transition,
}

impl StepKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parent => "parent",
            Self::Link => "link",
            Self::Remote => "remote",
            Self::File => "file",
            Self::Images => "images",
            Self::Comment => "comment",
            Self::Transition => "transition",
        }
    }
}

/// One sub-item checkpoint.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StepRow {
    /// The item.
    pub ado_id: i64,
    /// Its kind (`StepKind::as_str`).
    pub kind: String,
    /// Which one of its kind.
    pub ord: i64,
    /// `sent`, `done` or `failed`.
    pub state: String,
    /// What Jira made.
    pub jira_ref: Option<String>,
    /// Why it failed.
    pub error_code: Option<String>,
}

/// What a sub-item checkpoint records.
#[derive(Debug, Clone, Copy)]
pub struct StepMark<'a> {
    /// `sent`, `done` or `failed`.
    pub state: &'a str,
    /// What Jira made.
    pub jira_ref: Option<&'a str>,
    /// Why it failed.
    pub error_code: Option<&'a str>,
}

/// Sub-items per kind and state, for progress.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct StepCount {
    /// Kind.
    pub kind: String,
    /// State.
    pub state: String,
    /// How many.
    pub items: i64,
}

impl Store {
    /// Created items whose phases 3–7 are not done yet, lowest wave first, after the item
    /// `after` (`(wave, ado_id)`, a keyset cursor: items being followed are not marked yet, so
    /// a rolling window pages past them); at most `limit`.
    pub async fn items_to_follow(
        &self,
        run: &Run,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> StoreResult<Vec<RunItem>> {
        let (wave, ado_id) = after.unwrap_or((i64::MIN, i64::MIN));
        Ok(dispatch!(self, p => sqlx::query_as::<_, RunItem>(
            "select ado_id, wave, state, attempts, jira_id, jira_key, error_code, error_field from run_items \
             where run_id = $1 and state = 'created' and followed = 0 \
             and (wave > $2 or (wave = $2 and ado_id > $3)) order by wave, ado_id limit $4")
            .bind(&run.id).bind(wave).bind(ado_id).bind(limit).fetch_all(p).await)?)
    }

    /// Created items not followed yet that the scan counted at least `min_comments` comments
    /// on, most first; at most `limit`. Jira paces one issue's writes (20 per 2 s, 100 per
    /// 30 s), so an item with hundreds of comments takes minutes however wide the window is:
    /// started first, it runs beside everything else instead of after it (the critical path).
    pub async fn heavy_items_to_follow(
        &self,
        run: &Run,
        min_comments: i64,
        limit: i64,
    ) -> StoreResult<Vec<RunItem>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, RunItem>(
            "select ri.ado_id, ri.wave, ri.state, ri.attempts, ri.jira_id, ri.jira_key,              ri.error_code, ri.error_field from run_items ri              join runs r on r.id = ri.run_id              join mappings m on m.id = r.mapping_id              join catalog_items ci on ci.catalog_id = m.catalog_id and ci.ado_id = ri.ado_id              where ri.run_id = $1 and ri.state = 'created' and ri.followed = 0              and ci.comments >= $2 order by ci.comments desc, ri.ado_id limit $3")
            .bind(&run.id).bind(min_comments).bind(limit).fetch_all(p).await)?)
    }

    /// Marks items whose phases 3–7 are done.
    pub async fn mark_followed(&self, run: &Run, ids: &[i64]) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            for id in ids {
                sqlx::query("update run_items set followed = 1 where run_id = $1 and ado_id = $2")
                    .bind(&run.id).bind(*id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Items whose phases 3–7 are done.
    pub async fn followed_count(&self, client_key: &str, run_id: &str) -> StoreResult<i64> {
        Ok(dispatch!(self, p => sqlx::query_scalar::<_, i64>(
            "select count(*) from run_items where client_key = $1 and run_id = $2 and followed = 1")
            .bind(client_key).bind(run_id).fetch_one(p).await)?)
    }

    /// The sub-item checkpoints of `ids`.
    pub async fn run_steps(&self, run: &Run, ids: &[i64]) -> StoreResult<Vec<StepRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..ids.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = format!(
            "select ado_id, kind, ord, state, jira_ref, error_code from run_steps \
             where run_id = $1 and ado_id in ({}) order by ado_id, kind, ord",
            marks.join(", ")
        );
        Ok(dispatch!(self, p => {
            let mut q = sqlx::query_as::<_, StepRow>(&sql).bind(&run.id);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Writes one sub-item checkpoint of `(ado_id, kind, ord)` (`sent` before the write,
    /// `done` or `failed` after).
    pub async fn mark_step(
        &self,
        run: &Run,
        (ado_id, kind, ord): (i64, StepKind, i64),
        mark: StepMark<'_>,
    ) -> StoreResult<()> {
        let StepMark {
            state,
            jira_ref,
            error_code,
        } = mark;
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            sqlx::query(
                "insert into run_steps (client_key, run_id, ado_id, kind, ord, state, jira_ref, error_code) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8) \
                 on conflict (run_id, ado_id, kind, ord) do update set state = $6, jira_ref = $7, error_code = $8")
                .bind(&run.client_key).bind(&run.id).bind(ado_id).bind(kind.as_str()).bind(ord)
                .bind(state).bind(jira_ref).bind(error_code)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Writes several sub-item checkpoints of one item in one fenced transaction, in order
    /// (a later mark of the same sub-item wins).
    pub async fn mark_steps(
        &self,
        run: &Run,
        ado_id: i64,
        marks: &[(StepKind, i64, StepMark<'_>)],
    ) -> StoreResult<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            for (kind, ord, mark) in marks {
                sqlx::query(
                    "insert into run_steps (client_key, run_id, ado_id, kind, ord, state, jira_ref, error_code) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8) \
                     on conflict (run_id, ado_id, kind, ord) do update set state = $6, jira_ref = $7, error_code = $8")
                    .bind(&run.client_key).bind(&run.id).bind(ado_id).bind(kind.as_str()).bind(*ord)
                    .bind(mark.state).bind(mark.jira_ref).bind(mark.error_code)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Sub-items per kind and state.
    pub async fn step_counts(&self, client_key: &str, run_id: &str) -> StoreResult<Vec<StepCount>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, StepCount>(
            "select kind, state, count(*) as items from run_steps where client_key = $1 and run_id = $2 \
             group by kind, state order by kind, state")
            .bind(client_key).bind(run_id).fetch_all(p).await)?)
    }

    /// Moves a run to `phase` (fenced).
    pub async fn set_phase(&self, run: &Run, phase: &str) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            sqlx::query("update runs set phase = $2 where id = $1")
                .bind(&run.id).bind(phase).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
