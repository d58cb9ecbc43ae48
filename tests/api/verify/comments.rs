//! Comments: an issue holds its ADO item's comments (not the deleted ones), in ADO's order,
//! each once (a long one split into parts, each part once), each with the original author and
//! date in a header and all of its text; nothing else but the overflow note.

use std::collections::{BTreeMap, HashMap};

use ferry::mapping::adf::{adf_text, html_text};
use serde_json::Value;

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The `ferry-origin` property of a comment read with `expand=properties`.
pub(crate) fn origin(c: &Value) -> Value {
    c["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["key"] == "ferry-origin")
        .map(|p| p["value"].clone())
        .unwrap_or(Value::Null)
}

/// What one issue's comments came to.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// ADO comments found whole.
    pub comments: usize,
    /// Of those, the ones split over several Jira comments.
    pub split: usize,
}

/// Compares `jira`'s comments of issue `key` with the ADO item's comments (`ado`, as the
/// dataset lists them); every difference is pushed to `wrong`.
pub(crate) fn compare(key: &str, ado: &Value, jira: &[Value], wrong: &mut Vec<String>) -> Tally {
    let mut tally = Tally::default();
    let expected: Vec<&Value> = ado
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["isDeleted"] != true)
        .collect();
    // Each (origin, part) once; the parts of one ADO comment together, in ADO's order.
    let mut parts: BTreeMap<String, usize> = BTreeMap::new();
    let mut order: Vec<i64> = Vec::new();
    let mut by_ado: HashMap<i64, Vec<&Value>> = HashMap::new();
    for c in jira {
        let o = origin(c);
        if !o.is_object() {
            continue; // counted with the comments that are not ADO's
        }
        *parts.entry(o.to_string()).or_default() += 1;
        if let Some(id) = o["adoCommentId"].as_i64() {
            if order.last() != Some(&id) {
                order.push(id);
            }
            by_ado.entry(id).or_default().push(c);
        }
    }
    for (part, n) in &parts {
        if *n > 1 {
            wrong.push(format!("{key}: comment {part} posted {n} times"));
        }
    }
    let want_order: Vec<i64> = expected.iter().filter_map(|c| c["id"].as_i64()).collect();
    if order != want_order {
        wrong.push(format!(
            "{key}: ADO's comments {want_order:?}, in Jira in this order: {order:?}"
        ));
    }
    let mut from_ado = 0;
    for c in &expected {
        let id = c["id"].as_i64().expect("id");
        let Some(posted) = by_ado.get(&id) else {
            continue; // reported with the order
        };
        from_ado += posted.len();
        tally.comments += 1;
        if posted.len() > 1 {
            tally.split += 1;
        }
        let author = c["createdBy"]["displayName"].as_str().expect("author");
        let date = c["createdDate"].as_str().expect("date");
        let when = format!("{} {} UTC", &date[..10], &date[11..16]);
        let mut body = String::new();
        for p in posted {
            let blocks = p["body"]["content"].as_array().cloned().unwrap_or_default();
            let header = blocks.first().map(adf_text).unwrap_or_default();
            if !(header.contains(&format!("Originally posted by {author} on {when}"))
                && header.contains("Azure DevOps"))
            {
                wrong.push(format!("{key}: comment {id}'s header {header:?}"));
            }
            for b in blocks.iter().skip(1) {
                body.push_str(&adf_text(b));
            }
        }
        let html = c["text"].as_str().expect("text");
        if squeeze(&body) != squeeze(&html_text(html)) {
            wrong.push(format!("{key}: the text of ADO comment {id} differs"));
        }
    }
    let overflow = jira
        .iter()
        .filter(|c| origin(c)["overflow"].is_u64())
        .count();
    let others = jira.len() as i64 - overflow as i64 - from_ado as i64;
    if others != 0 {
        wrong.push(format!(
            "{key}: {others} comments that are neither ADO's (by their origin) nor the overflow note"
        ));
    }
    tally
}
