//! Optional model suggestions for what a deterministic draft leaves open.
//!
//! The draft decides first; a model (an OpenAI-compatible endpoint, [`crate::llm`]) is asked
//! only about the rules the draft left unresolved or below [`LOW`] confidence, and only with
//! schema metadata: type, state and field names, field types, the enumerated values of
//! picklists, and the Jira project's issue types, statuses, fields, allowed values and link
//! types. Never titles, descriptions, comments, people or URLs ([`request`]).
//!
//! Every answer is checked against the Jira metadata before it lands ([`apply`]); what lands
//! is marked `suggestedBy: "llm:{model}"` with a confidence of [`SUGGESTED`], below every
//! deterministic match, so the admin reviews it. A failing model changes nothing.

mod apply;
mod request;

pub use apply::{Applied, apply};
pub use request::request;

use serde::Serialize;

use super::{model::Confidence, model::Mapping, source::Source};
use crate::{llm::LlmClient, target::jira::meta::TargetMeta};

/// Rules below this confidence (or without a choice) are put to the model; rules at or above
/// it are never changed by a suggestion.
pub const LOW: Confidence = 0.7;
/// The confidence of an applied suggestion: a model's guess ranks below any evidence.
pub const SUGGESTED: Confidence = 0.6;

/// Whether a rule is open to suggestions: no choice yet, or a doubtful one.
pub(crate) fn is_open(chosen: bool, confidence: Confidence) -> bool {
    !chosen || confidence < LOW
}

/// The `suggestedBy` marker of rules a model proposed.
pub fn marker(model: &str) -> String {
    format!("llm:{model}")
}

/// What the admin sees about the model's part in a draft (the response's `llm`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The configured model.
    pub model: String,
    /// Rules and value gaps put to the model (0: the draft left nothing open; no call made).
    pub asked: usize,
    /// Suggestions taken.
    pub applied: usize,
    /// Suggestions refused by validation.
    pub ignored: usize,
    /// Why the model's answer could not be used; the draft is then the deterministic one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Asks `llm` about what `draft` leaves open and applies the valid answers. Any failure leaves
/// `draft` as it was and says why in the report (logged without content).
pub async fn suggest(
    llm: &LlmClient,
    draft: &mut Mapping,
    source: &Source,
    target: &TargetMeta,
) -> Report {
    let model = llm.model().to_owned();
    let mut report = Report {
        model: model.clone(),
        asked: 0,
        applied: 0,
        ignored: 0,
        error: None,
    };
    let Some(questions) = request::questions(draft, source, target) else {
        return report;
    };
    report.asked = request::count(&questions);
    match llm.complete(&request::wrap(&questions)).await {
        Ok(answer) => {
            let done = apply(draft, source, target, &answer, &model);
            report.applied = done.applied;
            report.ignored = done.ignored;
        }
        Err(e) => {
            tracing::warn!(%model, error = %e, "model suggestions failed; the deterministic draft stands");
            report.error = Some(e.to_string());
        }
    }
    report
}
