//! Plain text of an ADF document and of HTML, for Jira's text caps and for checking that the
//! conversion keeps every word.

use serde_json::Value;

use super::depth;
use super::dom::{ROOT, Visit};
use super::tags::{Tag, classify};

/// Feeds the text of `node` to `f` in document order, without recursion (a document handed in
/// from elsewhere may nest deeply). Paragraphs, headings and code blocks end with a line
/// break, so the text of a document is the sum of the texts of its blocks.
pub(super) fn walk_text<'a>(node: &'a Value, mut f: impl FnMut(&'a str)) {
    let mut stack: Vec<(&Value, bool)> = vec![(node, false)];
    while let Some((v, after)) = stack.pop() {
        if after {
            f("\n");
            continue;
        }
        let attr = |k: &str| {
            v.get("attrs")
                .and_then(|a| a.get(k))
                .and_then(Value::as_str)
        };
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => f(v.get("text").and_then(Value::as_str).unwrap_or("")),
            "mention" | "emoji" | "status" => f(attr("text").unwrap_or("")),
            "inlineCard" => f(attr("url").unwrap_or("")),
            "hardBreak" => f("\n"),
            t => {
                if matches!(t, "paragraph" | "heading" | "codeBlock") {
                    stack.push((v, true));
                }
                if let Some(Value::Array(children)) = v.get("content") {
                    stack.extend(children.iter().rev().map(|c| (c, false)));
                }
            }
        }
    }
}

/// The number of characters of [`super::adf_text`] of `node`, without building the string.
pub(super) fn text_len(node: &Value) -> usize {
    let mut n = 0;
    walk_text(node, |s| n += s.chars().count());
    n
}

/// The visible text of HTML: text outside hidden elements, with a line break at each block
/// boundary, `<br>` and `<img>` (the converter makes images blocks of their own).
pub fn html_text(html: &str) -> String {
    let dom = depth::parse(html);
    let mut out = String::with_capacity(html.len());
    dom.walk(ROOT, |v| match v {
        Visit::Enter(_, e) => {
            let tag = classify(e);
            if tag.breaks_line() {
                out.push('\n');
            }
            tag != Tag::Hidden
        }
        Visit::Leave(_, e) => {
            if classify(e).breaks_line() {
                out.push('\n');
            }
            true
        }
        Visit::Text(t) => {
            out.push_str(t);
            true
        }
    });
    out
}
