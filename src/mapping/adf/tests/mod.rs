//! Tests of the HTML→ADF conversion: exact output per construct, the properties every input
//! must have (schema-valid, text kept, no panic, bounded depth), a generated workload, and
//! splitting.
//!
//! Every conversion in these tests goes through [`check`], which validates against the
//! official schema and compares the text of the output with the text of the input.

mod blocks;
mod inline;
mod props;
mod split;
mod split_reference;
mod workload;

use std::sync::OnceLock;

use serde_json::Value;

use super::{Converted, Resolve, adf_text, html_text, html_to_adf};

const SCHEMA: &str = include_str!("../../../../schemas/adf/full.json");

/// Issue URLs the test resolvers hand out; [`undo_substitutions`] maps them back to `#id`.
pub(super) const ISSUE_URL: &str = "https://jira.test/browse/ADO-";

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        jsonschema::draft4::new(&schema).unwrap()
    })
}

/// Panics with the schema's complaints if `doc` is not valid ADF.
pub(super) fn assert_valid(doc: &Value, input: &str) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid ADF for {input:?}:\n{errors:#?}\n{doc:#}"
    );
}

/// Resolves everything, with recognisable URLs.
pub(super) struct All;

impl Resolve for All {
    fn account(&self, id: &str) -> Option<String> {
        Some(format!("acct-{id}"))
    }
    fn issue_url(&self, id: u64) -> Option<String> {
        Some(format!("{ISSUE_URL}{id}"))
    }
    fn attachment_url(&self, guid: &str) -> Option<String> {
        Some(format!("https://jira.test/attachment/{guid}"))
    }
}

/// Resolves about half of everything (by the parity of the last character or id), so both
/// outcomes occur in one document.
pub(super) struct Half;

fn even(s: &str) -> bool {
    s.bytes().last().is_some_and(|b| b % 2 == 0)
}

impl Resolve for Half {
    fn account(&self, id: &str) -> Option<String> {
        even(id).then(|| All.account(id)).flatten()
    }
    fn issue_url(&self, id: u64) -> Option<String> {
        (id % 2 == 0).then(|| All.issue_url(id)).flatten()
    }
    fn attachment_url(&self, guid: &str) -> Option<String> {
        even(guid).then(|| All.attachment_url(guid)).flatten()
    }
}

/// Undoes the documented substitutions in [`adf_text`] output: image placeholders go (images
/// have no text in HTML either) and inline cards of [`All`]/[`Half`] become `#id` again.
/// Mentions need no undoing: their `text` is the anchor's text.
pub(super) fn undo_substitutions(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let image = rest.find("[image: ");
        let card = rest.find(ISSUE_URL);
        match (image, card) {
            (Some(i), c) if c.is_none_or(|c| i < c) => {
                out.push_str(&rest[..i]);
                match rest[i..].find(']') {
                    Some(end) => rest = &rest[i + end + 1..],
                    None => {
                        out.push_str(&rest[i..]);
                        return out;
                    }
                }
            }
            (_, Some(c)) => {
                out.push_str(&rest[..c]);
                out.push('#');
                rest = &rest[c + ISSUE_URL.len()..];
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Whitespace-collapsed text.
pub(super) fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `doc` holds exactly the visible text of `html`, modulo the substitutions.
pub(super) fn text_kept(html: &str, doc: &Value) -> Result<(), String> {
    let want = norm(&html_text(html));
    let got = norm(&undo_substitutions(&adf_text(doc)));
    if want == got {
        Ok(())
    } else {
        let at = want
            .chars()
            .zip(got.chars())
            .take_while(|(a, b)| a == b)
            .count();
        let near = |s: &str| {
            s.chars()
                .skip(at.saturating_sub(20))
                .take(60)
                .collect::<String>()
        };
        Err(format!(
            "text differs at char {at}:\n html: {:?}\n  adf: {:?}",
            near(&want),
            near(&got)
        ))
    }
}

/// Converts, and asserts the result is schema-valid and keeps the text.
pub(super) fn check(html: &str, r: &dyn Resolve) -> Converted {
    let out = html_to_adf(html, r);
    assert_valid(&out.doc, html);
    if let Err(e) = text_kept(html, &out.doc) {
        panic!("{e}\ninput: {html:?}\noutput: {:#}", out.doc);
    }
    out
}

/// The top-level content of the converted document (resolving everything).
pub(super) fn content(html: &str) -> Value {
    check(html, &All).doc["content"].clone()
}
