//! Reducing fetched work items to catalog metadata. This is the boundary where ticket content
//! stops: only ids, types, states, paths, revisions and counts leave this function, plus which
//! fields are filled (names, not values), the people named in identity fields, and the values
//! of enumerated fields (picklists such as priority and severity: the process's vocabulary,
//! which value maps need, not free text).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::{
    source::ado::models::WorkItem,
    store::{CatalogItem, ScanBatch, SeenIdentity},
};

/// Standard enumerated fields whose ADO type is not `picklist…` (ADO reports them as strings
/// or integers), so their values are recorded too.
pub const ENUMERATED: [&str; 6] = [
    "Microsoft.VSTS.Common.Priority",
    "Microsoft.VSTS.Common.Severity",
    "Microsoft.VSTS.Common.ValueArea",
    "Microsoft.VSTS.Common.Activity",
    "Microsoft.VSTS.Common.Risk",
    "Microsoft.VSTS.Common.Triage",
];

/// A recorded value is at most this long; longer ones are not vocabulary.
const MAX_VALUE: usize = 128;

/// The catalog batch for `items`; `enumerated` names the fields whose values are recorded.
pub fn summarize(items: &[WorkItem], enumerated: &HashSet<String>) -> ScanBatch {
    let mut batch = ScanBatch::default();
    let mut people: HashMap<String, SeenIdentity> = HashMap::new();
    for item in items {
        let text = |name: &str| item.str_field(name).map(str::to_owned);
        let (mut attachments, mut bytes, mut links) = (0, 0, 0);
        for r in &item.relations {
            if r.rel == "AttachedFile" {
                attachments += 1;
                bytes += r
                    .attributes
                    .get("resourceSize")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
            } else if !r.rel.contains("Hierarchy") {
                links += 1;
            }
        }
        batch.items.push(CatalogItem {
            ado_id: item.id,
            item_type: text("System.WorkItemType").unwrap_or_default(),
            state: text("System.State").unwrap_or_default(),
            parent_id: item
                .parent_id()
                .or_else(|| item.fields.get("System.Parent").and_then(Value::as_i64)),
            area_path: text("System.AreaPath"),
            iteration_path: text("System.IterationPath"),
            rev: item.rev,
            comments: item
                .fields
                .get("System.CommentCount")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            attachments,
            attachment_bytes: bytes,
            links,
        });
        for (name, value) in &item.fields {
            if is_filled(value) {
                *batch.fields.entry(name.clone()).or_default() += 1;
            }
            if enumerated.contains(name) {
                let text = match value {
                    Value::String(s) => s.trim().to_owned(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                if !text.is_empty() && text.len() <= MAX_VALUE {
                    *batch.values.entry((name.clone(), text)).or_default() += 1;
                }
            }
            if let Some(who) = identity(value) {
                people
                    .entry(who.identity_key.clone())
                    .and_modify(|p| p.seen += 1)
                    .or_insert(who);
            }
        }
        batch.last_id = batch.last_id.max(item.id);
    }
    batch.identities = people.into_values().collect();
    batch
        .identities
        .sort_by(|a, b| a.identity_key.cmp(&b.identity_key));
    batch
}

fn is_filled(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// An identity field value (`IdentityRef`), if this is one.
fn identity(value: &Value) -> Option<SeenIdentity> {
    let obj = value.as_object()?;
    let unique = obj
        .get("uniqueName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let display = obj
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if unique.is_empty() && display.is_empty() {
        return None;
    }
    let key = obj
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(unique);
    Some(SeenIdentity {
        identity_key: if key.is_empty() {
            display.to_owned()
        } else {
            key.to_owned()
        },
        display_name: display.to_owned(),
        unique_name: unique.to_owned(),
        seen: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_metadata_and_drops_content() {
        let item: WorkItem = serde_json::from_value(json!({
            "id": 42, "rev": 7,
            "fields": {
                "System.WorkItemType": "Bug", "System.State": "Active", "System.Title": "SECRET TITLE",
                "System.Description": "<p>SECRET BODY</p>", "System.AreaPath": "Fab\\Web", "System.CommentCount": 3,
                "System.Tags": "", "Microsoft.VSTS.Common.Priority": 2, "System.AssignedTo": { "id": "u-1", "displayName": "Ann", "uniqueName": "ann@x.com" }
            },
            "relations": [
                { "rel": "System.LinkTypes.Hierarchy-Reverse", "url": "https://x/_apis/wit/workItems/41" },
                { "rel": "System.LinkTypes.Related", "url": "https://x/_apis/wit/workItems/7" },
                { "rel": "AttachedFile", "url": "https://x/_apis/wit/attachments/g", "attributes": { "resourceSize": 1024, "name": "a.png" } }
            ]
        })).unwrap();
        let enumerated: HashSet<String> = ["Microsoft.VSTS.Common.Priority".to_owned()].into();
        let batch = summarize(&[item], &enumerated);
        let debug = format!("{batch:?}");
        assert!(
            !debug.contains("SECRET"),
            "content leaked into the catalog: {debug}"
        );
        let i = &batch.items[0];
        assert_eq!(
            (
                i.parent_id,
                i.comments,
                i.attachments,
                i.attachment_bytes,
                i.links,
                i.rev
            ),
            (Some(41), 3, 1, 1024, 1, 7)
        );
        assert_eq!(batch.fields.get("System.Title"), Some(&1));
        assert_eq!(
            batch.fields.get("System.Tags"),
            None,
            "an empty value is not a filled field"
        );
        assert_eq!(batch.identities[0].unique_name, "ann@x.com");
        assert_eq!(batch.last_id, 42);
        assert_eq!(
            batch
                .values
                .get(&("Microsoft.VSTS.Common.Priority".into(), "2".into())),
            Some(&1)
        );
    }
}
