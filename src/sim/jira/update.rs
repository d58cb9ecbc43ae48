//! Jira's `update` verbs (`set`, `add`, `remove`) folded into plain `fields`, so that one
//! validator serves both styles of create and edit request.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::site::text;

/// Merges `update` operations (`set`, `add`, `remove`) into `fields`, starting from `current`.
pub fn merge_update(
    fields: &Map<String, Value>,
    update: Option<&Value>,
    current: Option<&Map<String, Value>>,
    errors: &mut BTreeMap<String, String>,
) -> Map<String, Value> {
    let mut out = fields.clone();
    let Some(update) = update.and_then(Value::as_object) else {
        return out;
    };
    for (fid, ops) in update {
        if fields.contains_key(fid) {
            errors.insert(
                fid.clone(),
                format!("Field '{fid}' cannot be set in both fields and update."),
            );
            continue;
        }
        let Some(ops) = ops.as_array() else {
            errors.insert(fid.clone(), "Operations must be a list.".into());
            continue;
        };
        for op in ops {
            let Some((verb, value)) = op.as_object().and_then(|o| o.iter().next()) else {
                continue;
            };
            let base = out
                .get(fid)
                .cloned()
                .or_else(|| current.and_then(|c| c.get(fid).cloned()));
            match verb.as_str() {
                "set" => {
                    out.insert(fid.clone(), value.clone());
                }
                "add" => {
                    let mut arr = base.and_then(|b| b.as_array().cloned()).unwrap_or_default();
                    if !arr.contains(value) {
                        arr.push(value.clone());
                    }
                    out.insert(fid.clone(), Value::Array(arr));
                }
                "remove" => {
                    let mut arr = base.and_then(|b| b.as_array().cloned()).unwrap_or_default();
                    arr.retain(|v| !same_item(v, value));
                    out.insert(fid.clone(), Value::Array(arr));
                }
                other => {
                    errors.insert(
                        fid.clone(),
                        format!("Operation '{other}' is not supported for field {fid}."),
                    );
                }
            }
        }
    }
    out
}

fn same_item(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    ["id", "name", "value"]
        .iter()
        .any(|k| text(b, k).is_some() && text(a, k) == text(b, k))
}
