//! The splitter as it was before it moved nodes instead of copying them and summed lengths
//! instead of re-measuring each copy: the tests check that the faster one gives the very same
//! parts.

use serde_json::{Map, Value, json};

use crate::mapping::adf::run::{empty_paragraph, node};
use crate::mapping::adf::text::text_len;

type Piece = (Value, usize);

pub(super) fn split_doc(doc: &Value, max_chars: usize) -> Vec<Value> {
    let max = max_chars.max(2);
    let blocks = match doc.get("content") {
        Some(Value::Array(blocks)) => blocks.as_slice(),
        _ => &[],
    };
    let pieces = blocks.iter().flat_map(|b| split_node(b, max)).collect();
    let mut docs: Vec<Value> = group(pieces, max)
        .into_iter()
        .map(|content| {
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

/// Packs pieces greedily, in order, into groups whose lengths add up to at most `max`.
fn group(pieces: Vec<Piece>, max: usize) -> Vec<Vec<Value>> {
    let mut groups = Vec::new();
    let (mut current, mut len) = (Vec::new(), 0);
    for (v, n) in pieces {
        if !current.is_empty() && len + n > max {
            groups.push(std::mem::take(&mut current));
            len = 0;
        }
        current.push(v);
        len += n;
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// `node` as one or more copies, each with at most `max` characters of text.
fn split_node(node: &Value, max: usize) -> Vec<Piece> {
    let max = max.max(2);
    let len = text_len(node);
    let (Some(Value::Array(children)), Some(kind)) = (
        node.get("content"),
        node.get("type").and_then(Value::as_str),
    ) else {
        return vec![(node.clone(), len)];
    };
    if len <= max {
        return vec![(node.clone(), len)];
    }
    let textblock = matches!(kind, "paragraph" | "heading" | "codeBlock");
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
            .iter()
            .flat_map(|c| split_node(c, budget))
            .collect()
    };
    let mut order = node
        .get("attrs")
        .and_then(|a| a.get("order"))
        .and_then(Value::as_u64);
    group(pieces, budget)
        .into_iter()
        .map(|mut content| {
            let mut copy = without(node, "content");
            if kind == "listItem" && content.first().is_none_or(|b| b["type"] != "paragraph") {
                content.insert(0, empty_paragraph());
            }
            if let (Some(o), Some(Value::Object(attrs))) = (&mut order, copy.get_mut("attrs")) {
                attrs.insert("order".into(), json!(*o));
                *o += content.len() as u64;
            }
            copy.insert("content".into(), Value::Array(content));
            let copy = Value::Object(copy);
            let n = text_len(&copy);
            (copy, n)
        })
        .collect()
}

/// Inline nodes as pieces of at most `budget` characters: text nodes are cut (preferably after
/// a space, keeping their marks); other inline nodes are atoms.
fn split_inline(children: &[Value], budget: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    for child in children {
        let Some(text) = child.get("text").and_then(Value::as_str) else {
            out.push((child.clone(), text_len(child)));
            continue;
        };
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
            let mut piece = without(child, "text");
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
