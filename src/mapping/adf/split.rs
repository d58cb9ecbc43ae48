//! Splitting a document that is over Jira's text cap into several valid ones that are not.
//!
//! Jira Cloud refuses a description or comment over [`super::JIRA_TEXT_LIMIT`] characters, so
//! the transform posts the first part as the description (or comment) and the rest as follow-up
//! comments. Parts break between top-level blocks where they can; a block too big on its own
//! is split by its children (list items, table rows, cells, paragraphs) and a paragraph, heading
//! or code block by its text, so every part stays valid ADF.

use serde_json::{Map, Value, json};

use super::run::{empty_paragraph, node};
use super::text::text_len;

/// A node and the length of its text.
type Piece = (Value, usize);

/// Splits `doc` at block boundaries into documents whose text ([`super::adf_text`]) is at most
/// `max_chars` characters each, and that together hold all of its text in order.
///
/// A part exceeds `max_chars` only where it cannot be helped: an atom longer on its own (a
/// mention or card with longer text), or a limit below the overhead of nesting (a character
/// and its line break, plus one line break per list level for the empty paragraph an item may
/// need first). For documents from [`super::html_to_adf`] any `max_chars` of at least 8 holds.
/// A document with no content gives one empty document.
pub fn split_doc(doc: &Value, max_chars: usize) -> Vec<Value> {
    split_doc_owned(doc.clone(), max_chars)
}

/// [`split_doc`] of a document the caller no longer needs: its nodes move into the parts, so
/// a document within the limit (the usual case) comes back without a copy of any node.
pub fn split_doc_owned(doc: Value, max_chars: usize) -> Vec<Value> {
    let max = max_chars.max(2);
    let blocks = match doc {
        Value::Object(mut m) => match m.remove("content") {
            Some(Value::Array(blocks)) => blocks,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let pieces = blocks
        .into_iter()
        .flat_map(|b| {
            let len = text_len(&b);
            split_node(b, len, max)
        })
        .collect();
    let mut docs: Vec<Value> = group(pieces, max)
        .into_iter()
        .map(|(content, _)| {
            let mut doc = node("doc", content);
            doc["version"] = json!(1);
            doc
        })
        .collect();
    if docs.is_empty() {
        docs.push(json!({"type": "doc", "version": 1, "content": []}));
    }
    docs
}

/// Packs pieces greedily, in order, into groups whose lengths add up to at most `max`; each
/// group with the sum of its lengths.
fn group(pieces: Vec<Piece>, max: usize) -> Vec<(Vec<Value>, usize)> {
    let mut groups = Vec::new();
    let (mut current, mut len) = (Vec::new(), 0);
    for (v, n) in pieces {
        if !current.is_empty() && len + n > max {
            groups.push((std::mem::take(&mut current), len));
            len = 0;
        }
        current.push(v);
        len += n;
    }
    if !current.is_empty() {
        groups.push((current, len));
    }
    groups
}

/// `node` (whose text is `len` characters long) as one or more copies, each with at most
/// `max` characters of text. The node moves into the result when it fits; a copy's length is
/// the sum of its pieces' (plus its own line breaks), so no copy is walked again to measure it.
fn split_node(node: Value, len: usize, max: usize) -> Vec<Piece> {
    let max = max.max(2);
    if len <= max {
        return vec![(node, len)];
    }
    let Value::Object(mut shell) = node else {
        return vec![(node, len)];
    };
    let kind = match shell.get("type") {
        Some(Value::String(k)) => k.clone(),
        _ => return vec![(Value::Object(shell), len)],
    };
    let children = match shell.remove("content") {
        Some(Value::Array(children)) => children,
        other => {
            if let Some(v) = other {
                shell.insert("content".into(), v);
            }
            return vec![(Value::Object(shell), len)];
        }
    };
    let textblock = matches!(kind.as_str(), "paragraph" | "heading" | "codeBlock");
    // A paragraph, heading or code block ends with a line break; a list item may need an
    // empty paragraph put first, which is one line break too.
    let budget = if textblock || kind == "listItem" {
        max - 1
    } else {
        max
    };
    let pieces = if textblock {
        split_inline(children, budget)
    } else {
        children
            .into_iter()
            .flat_map(|c| {
                let n = text_len(&c);
                split_node(c, n, budget)
            })
            .collect()
    };
    // Inline kinds' text is not their content's (see `walk_text`): measured, not summed.
    let atom = matches!(
        kind.as_str(),
        "text" | "mention" | "emoji" | "status" | "inlineCard" | "hardBreak"
    );
    let mut order = shell
        .get("attrs")
        .and_then(|a| a.get("order"))
        .and_then(Value::as_u64);
    group(pieces, budget)
        .into_iter()
        .map(|(mut content, mut n)| {
            let mut copy = shell.clone();
            if kind == "listItem" && content.first().is_none_or(|b| b["type"] != "paragraph") {
                content.insert(0, empty_paragraph());
                n += 1;
            }
            if textblock {
                n += 1;
            }
            if let (Some(o), Some(Value::Object(attrs))) = (&mut order, copy.get_mut("attrs")) {
                attrs.insert("order".into(), json!(*o));
                *o += content.len() as u64;
            }
            copy.insert("content".into(), Value::Array(content));
            let copy = Value::Object(copy);
            let n = if atom { text_len(&copy) } else { n };
            (copy, n)
        })
        .collect()
}

/// Inline nodes as pieces of at most `budget` characters: text nodes are cut (preferably after
/// a space, keeping their marks); other inline nodes are atoms. A node that fits moves.
fn split_inline(children: Vec<Value>, budget: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    for child in children {
        let Some(text) = child.get("text").and_then(Value::as_str) else {
            let n = text_len(&child);
            out.push((child, n));
            continue;
        };
        let chars = text.chars().count();
        if chars == 0 {
            continue; // as before: an empty text node gives no piece
        }
        if chars <= budget {
            out.push((child, chars));
            continue;
        }
        let mut rest = text;
        while !rest.is_empty() {
            let mut cut = rest
                .char_indices()
                .nth(budget)
                .map_or(rest.len(), |(i, _)| i);
            if cut < rest.len()
                && let Some(space) = rest[..cut].rfind([' ', '\n'])
                && space >= cut / 2
            {
                cut = space + 1;
            }
            let mut piece = without(&child, "text");
            piece.insert("text".into(), Value::String(rest[..cut].to_owned()));
            out.push((Value::Object(piece), rest[..cut].chars().count()));
            rest = &rest[cut..];
        }
    }
    out
}

/// The fields of object `node` other than `key`.
fn without(node: &Value, key: &str) -> Map<String, Value> {
    node.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
