//! HTML → Atlassian Document Format, for ADO descriptions, repro steps and comments.
//!
//! Azure DevOps stores rich text as HTML; Jira Cloud's REST v3 takes only ADF for descriptions,
//! textarea fields and comment bodies, and refuses a document that fails
//! `schemas/adf/full.json`. So the conversion never fails: every input gives a valid document
//! that keeps all of the input's visible text, and what cannot be expressed degrades to text.
//!
//! # What maps to what
//!
//! | HTML | ADF |
//! |---|---|
//! | `p`, `div` and other blocks; text between them | `paragraph` (whitespace collapsed as a browser does) |
//! | `br` | `hardBreak`; a block holding only `<br>` is an empty `paragraph` (ADO's blank line) |
//! | `h1`–`h6` | `heading` with `level` |
//! | `b`/`strong`, `i`/`em`, `u`, `s`/`strike`/`del`, `sub`/`sup` | marks `strong`, `em`, `underline`, `strike`, `subsup` |
//! | `code` (and `kbd`, `samp`, `tt`) | mark `code`, which ADF lets combine only with `link`, so it drops the others |
//! | `a href` (http, https, mailto) | mark `link` |
//! | `pre` (with or without `code`) | `codeBlock` of the raw text |
//! | `ul`, `ol` (`start` → `order`), `li` | `bulletList`, `orderedList`, `listItem` |
//! | `table`, `tr`, `td`, `th` (`thead`/`tbody` are transparent) | `table`, `tableRow`, `tableCell`, `tableHeader` (with `colspan`/`rowspan`) |
//! | `blockquote` | `blockquote` |
//! | `hr` | `rule` |
//! | ADO mention `<a data-vss-mention="version:2.0,{id}">@Name</a>` | `mention` (`id` = accountId, `text` = "@Name") |
//! | plain-text `#1234` | `inlineCard` with the Jira issue URL |
//! | link to `…/_workitems/edit/1234` | the link now points at the Jira issue |
//! | `img` of an ADO attachment (`…/_apis/wit/attachments/{guid}?fileName=…`) | `mediaSingle` > `media` `external` with the Jira attachment URL |
//! | `img` with another http(s) `src` | `mediaSingle` > `media` `external` with that URL |
//! | `script`, `style`, `head` matter, comments | nothing (they are not visible) |
//!
//! # Fallbacks
//!
//! - What the [`Resolve`]r does not know stays as text: a mention as "@Name", a reference as
//!   "#1234", a work item link as the ADO link, an image as a paragraph "[image: name]"
//!   (alt text, else file name, else GUID). Nothing is dropped: [`Stats`] counts both outcomes
//!   and lists every ADO id referenced, so the transform can plan attachments and links.
//! - A mention anchor holding more than inline text (a block, a break, an image) is read as
//!   text, as if unresolved: one `mention` node could not hold it.
//! - `#1234` is a reference only as a word of its own (not `C#1`, `a#1`, `#12abc`, `&#1`) and
//!   not inside code or a link.
//! - Images with `data:` or relative sources become the same placeholder: Jira cannot fetch
//!   them. Links with other schemes (`javascript:`, `#`, relative) keep their text, not the link.
//! - ADF forbids some nestings HTML allows; the content then flattens rather than disappears:
//!   a heading inside a list item or quote becomes a paragraph; a quote inside a list item or
//!   quote, a table anywhere but the top level, and a rule inside a list item or quote become
//!   their content; lists nest at most six deep (Jira's editor indents no further) and deeper
//!   lists become paragraphs. A list item always starts with a paragraph (an empty one if
//!   needed); an empty cell holds an empty paragraph; empty lists, quotes, rows and tables are
//!   left out.
//! - HTML nested more than 128 elements deep is parsed flat below that depth (`depth.rs`):
//!   the text stays, the deeper structure goes.
//! - Stray content in a list (text or a nested `ul` directly inside a `ul`, as older ADO
//!   editors wrote) joins the previous item; stray content in a table gets its own cell.
//!
//! # Why it is built this way
//!
//! - html5ever's tree builder runs the HTML5 algorithm, so unclosed `li`/`p`/`td`, misnested
//!   marks and stray table content come out as the browser showed them in ADO. Its tokenizer
//!   alone would leave that repair to us. The tree goes into a small arena (`dom.rs`) instead
//!   of `markup5ever_rcdom`, which is documented as unsupported and costs an `Rc` per node.
//! - Nothing recurses on the input: the walk follows parent/sibling links, and ADF nesting
//!   comes from a container stack (`build.rs`) whose depth is bounded by the rules above, so
//!   10,000 nested `<div>`s or `<ul>`s neither overflow the stack nor nest the output. The
//!   depth cap keeps the parser linear too: html5ever scans its stack of open elements per
//!   tag, which at 10,000 levels takes seconds.
//! - Output is built as `serde_json::Value` once, with no intermediate tree, and adjacent text
//!   with the same marks is merged as it is gathered.

mod ado;
mod build;
mod convert;
mod depth;
mod dom;
mod run;
mod split;
mod tags;
mod text;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use split::{split_doc, split_doc_owned};
pub use text::html_text;

/// The most characters Jira Cloud accepts in a description or comment body.
pub const JIRA_TEXT_LIMIT: usize = 32_767;

/// What ADO identities, work items and attachments have become in Jira; the caller knows
/// (from earlier phases), the converter does not.
pub trait Resolve {
    /// The Jira accountId for an ADO identity id (the GUID in data-vss-mention).
    fn account(&self, ado_identity: &str) -> Option<String>;
    /// The browse URL of the migrated Jira issue for an ADO work item id, when already known.
    fn issue_url(&self, ado_id: u64) -> Option<String>;
    /// The URL of the migrated Jira attachment for an ADO attachment GUID, when known.
    fn attachment_url(&self, guid: &str) -> Option<String>;
}

/// A resolver that knows nothing: every mention, reference and ADO image falls back to text.
/// For dry runs and for checking what a body would look like before anything is migrated.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLinks;

impl Resolve for NoLinks {
    fn account(&self, _: &str) -> Option<String> {
        None
    }
    fn issue_url(&self, _: u64) -> Option<String> {
        None
    }
    fn attachment_url(&self, _: &str) -> Option<String> {
        None
    }
}

/// What a conversion produced and referred to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Characters of [`adf_text`] of the result, to compare with [`JIRA_TEXT_LIMIT`].
    pub text_chars: usize,
    /// Mentions that became `mention` nodes.
    pub mentions_resolved: usize,
    /// Mentions kept as "@Name" text.
    pub mentions_unresolved: usize,
    /// `#id` references and work item links that now point at a Jira issue.
    pub issue_refs_resolved: usize,
    /// `#id` references kept as text and work item links left pointing at ADO.
    pub issue_refs_unresolved: usize,
    /// Images shown as media.
    pub images_resolved: usize,
    /// Images replaced by a placeholder paragraph.
    pub images_unresolved: usize,
    /// ADO attachment GUIDs of inline images (sorted, deduplicated): to migrate first.
    pub attachments: Vec<String>,
    /// ADO identity ids mentioned (sorted, deduplicated): to map to accounts.
    pub identities: Vec<String>,
    /// ADO work item ids referenced (sorted, deduplicated): to link once migrated.
    pub work_items: Vec<u64>,
}

/// The result of [`html_to_adf`].
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// A valid ADF document (`{"type":"doc","version":1,…}`).
    pub doc: Value,
    /// Counts and references, for planning and reports.
    pub stats: Stats,
}

/// Converts ADO HTML to an ADF document. Never fails and never panics: any string gives a
/// schema-valid document holding all of its visible text (see the module docs for the
/// substitutions).
pub fn html_to_adf(html: &str, r: &dyn Resolve) -> Converted {
    convert::convert(html, r)
}

/// The plain text of an ADF document: text, mention text and card URLs, with a line break
/// after each hard break, paragraph, heading and code block. Used to check Jira's text caps and
/// that a conversion kept the text.
pub fn adf_text(doc: &Value) -> String {
    let mut out = String::new();
    text::walk_text(doc, |s| out.push_str(s));
    out
}
