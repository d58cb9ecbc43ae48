//! What the draft knows about the ADO side: the catalog's structure (types, states, fields,
//! area and iteration trees), how many items fill each field, the values enumerated fields
//! take, and the people. All of it is project metadata, read from the catalog, never content.

use std::collections::BTreeMap;

use serde_json::Value;

/// One ADO work item type.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceType {
    /// Type name (`User Story`).
    pub name: String,
    /// States with their category (`Proposed`, `InProgress`, `Resolved`, `Completed`, `Removed`).
    pub states: Vec<(String, String)>,
}

/// One ADO field.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceField {
    /// Reference name (`Microsoft.VSTS.Common.Priority`).
    pub reference: String,
    /// Display name.
    pub name: String,
    /// ADO field type (`string`, `html`, `identity`, `dateTime`, `double`, `integer`,
    /// `treePath`, `picklistString`…).
    pub kind: String,
    /// Items in scope that fill it.
    pub filled: i64,
}

/// One ADO person.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePerson {
    /// Identity id (or unique name).
    pub key: String,
    /// Display name.
    pub display_name: String,
    /// E-mail or account name.
    pub unique_name: String,
}

/// The ADO side of a mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    /// Types.
    pub types: Vec<SourceType>,
    /// Fields.
    pub fields: Vec<SourceField>,
    /// Enumerated field → (value, items).
    pub values: BTreeMap<String, Vec<(String, i64)>>,
    /// Area paths (every node, root first).
    pub areas: Vec<String>,
    /// Iteration paths of nodes with dates (sprints), in start order.
    pub iterations: Vec<String>,
    /// People named in identity fields.
    pub people: Vec<SourcePerson>,
}

impl Source {
    /// Types, fields and trees from a catalog's structure JSON; counts, values and people are
    /// filled in by the caller from the catalog tables.
    pub fn from_structure(structure: &Value) -> Self {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let list = |k: &str| {
            structure
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let types = list("types")
            .iter()
            .map(|t| SourceType {
                name: text(t, "name"),
                states: t
                    .get("states")
                    .and_then(Value::as_array)
                    .map(|s| {
                        s.iter()
                            .map(|s| (text(s, "name"), text(s, "category")))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let fields = list("fields")
            .iter()
            .map(|f| SourceField {
                reference: text(f, "referenceName"),
                name: text(f, "name"),
                kind: text(f, "type"),
                filled: 0,
            })
            .collect();
        let mut areas = Vec::new();
        if let Some(root) = structure.get("areas") {
            walk(root, &mut |n| areas.push(item_path(&text(n, "path"))));
        }
        let mut dated: Vec<(String, String)> = Vec::new();
        if let Some(root) = structure.get("iterations") {
            walk(root, &mut |n| {
                if let Some(start) = n.get("startDate").and_then(Value::as_str) {
                    dated.push((start.to_owned(), item_path(&text(n, "path"))));
                }
            });
        }
        dated.sort();
        Self {
            types,
            fields,
            areas: areas.into_iter().filter(|a| !a.is_empty()).collect(),
            iterations: dated.into_iter().map(|(_, p)| p).collect(),
            ..Self::default()
        }
    }

    /// Items in scope that fill a field (0 when unknown).
    pub fn filled(&self, reference: &str) -> i64 {
        self.fields
            .iter()
            .find(|f| f.reference == reference)
            .map_or(0, |f| f.filled)
    }
}

/// Visits every node of a classification tree, depth first, with a depth bound against
/// pathological input.
fn walk(node: &Value, visit: &mut dyn FnMut(&Value)) {
    fn go(node: &Value, visit: &mut dyn FnMut(&Value), depth: usize) {
        if depth > 32 {
            return;
        }
        visit(node);
        for child in node
            .get("children")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            go(child, visit, depth + 1);
        }
    }
    go(node, visit, 0);
}

/// A classification node's path as work items carry it: ADO names nodes
/// `\Project\Iteration\Sprint 1` (a leading `\` and the structure group after the project),
/// while `System.IterationPath` says `Project\Sprint 1`; rules are matched against the latter.
/// A path already in that form is kept.
pub fn item_path(node_path: &str) -> String {
    let Some(rest) = node_path.strip_prefix('\\') else {
        return node_path.to_owned();
    };
    let mut parts: Vec<&str> = rest.split('\\').collect();
    if parts.len() > 1 {
        parts.remove(1);
    }
    parts.join("\\")
}

/// ADO paths use `\`; the last segment is the node's own name.
pub fn leaf(path: &str) -> &str {
    path.rsplit('\\').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_types_fields_and_dated_iterations_in_start_order() {
        let s = Source::from_structure(&json!({
            "types": [{ "name": "Bug", "states": [{ "name": "New", "category": "Proposed" }] }],
            "fields": [{ "referenceName": "System.Title", "name": "Title", "type": "string" }],
            "areas": { "name": "Fab", "path": "Fab", "children": [{ "name": "Web", "path": "Fab\\Web", "children": [] }] },
            "iterations": { "name": "Fab", "path": "Fab", "children": [
                { "name": "S2", "path": "Fab\\S2", "startDate": "2026-02-01T00:00:00Z", "children": [] },
                { "name": "S1", "path": "Fab\\S1", "startDate": "2026-01-01T00:00:00Z", "children": [] },
                { "name": "Later", "path": "Fab\\Later", "children": [] }
            ] }
        }));
        assert_eq!(s.types[0].states, vec![("New".into(), "Proposed".into())]);
        assert_eq!(s.fields[0].kind, "string");
        assert_eq!(s.areas, vec!["Fab", "Fab\\Web"]);
        assert_eq!(s.iterations, vec!["Fab\\S1", "Fab\\S2"]);
        assert_eq!(leaf("Fab\\S1"), "S1");
    }

    #[test]
    fn node_paths_become_the_paths_work_items_carry() {
        let s = Source::from_structure(&json!({
            "areas": { "name": "Fab", "path": "\\Fab\\Area", "children": [{ "name": "Web", "path": "\\Fab\\Area\\Web", "children": [] }] },
            "iterations": { "name": "Fab", "path": "\\Fab\\Iteration", "children": [
                { "name": "S1", "path": "\\Fab\\Iteration\\R1\\S1", "startDate": "2026-01-01T00:00:00Z", "children": [] }
            ] }
        }));
        assert_eq!(s.areas, vec!["Fab", "Fab\\Web"]);
        assert_eq!(s.iterations, vec!["Fab\\R1\\S1"]);
        assert_eq!(item_path("Fab\\S1"), "Fab\\S1");
    }
}
