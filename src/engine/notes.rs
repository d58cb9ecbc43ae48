//! Hierarchy changes an item is created with (the dry run's `type_fallback`, `parent_level`
//! and `parent_outside`), recorded before its create call so the report can list them without
//! reading ADO and Jira again. The report keeps only those of items that were created.

use crate::{
    app::AppState,
    mapping::{problem::Code, transform::Planned},
    store::Run,
};

/// The codes the report lists as hierarchy changes.
pub const HIERARCHY: [Code; 3] = [Code::TypeFallback, Code::ParentLevel, Code::ParentOutside];

/// Records the hierarchy changes of `plans` (idempotent).
pub async fn hierarchy(state: &AppState, run: &Run, plans: &[Planned]) -> anyhow::Result<()> {
    let notes: Vec<(i64, &str)> = plans
        .iter()
        .flat_map(|p| {
            p.problems
                .iter()
                .filter(|x| HIERARCHY.contains(&x.code))
                .map(|x| (p.ado_id, x.code.as_str()))
        })
        .collect();
    state.store.note_items(run, &notes).await?;
    Ok(())
}
