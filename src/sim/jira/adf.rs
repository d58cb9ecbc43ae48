//! ADF validation against Atlassian's published JSON schema (`schemas/adf/full.json`).
//!
//! Jira refuses descriptions, environments, textarea custom fields and comment bodies that are
//! not Atlassian documents; Ferry's HTML→ADF conversion must be held to the same schema, so the
//! simulator validates with the official file rather than a hand-written approximation.

use serde_json::Value;

const SCHEMA: &str = include_str!("../../../schemas/adf/full.json");

/// A compiled validator for ADF documents.
pub struct AdfValidator(Option<jsonschema::Validator>);

impl AdfValidator {
    pub fn new() -> Self {
        let validator = serde_json::from_str::<Value>(SCHEMA)
            .ok()
            .and_then(|schema| jsonschema::draft4::new(&schema).ok());
        if validator.is_none() {
            tracing::error!("the embedded ADF schema did not compile; ADF is not validated");
        }
        Self(validator)
    }

    /// Whether `doc` is a valid ADF document.
    pub fn is_valid(&self, doc: &Value) -> bool {
        self.0.as_ref().is_none_or(|v| v.is_valid(doc))
    }
}

/// Jira's message for a field that must hold ADF.
pub const INVALID_ADF: &str =
    "Operation value must be an Atlassian Document (see the Atlassian Document Format)";

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn accepts_a_paragraph_and_refuses_plain_text() {
        let v = super::AdfValidator::new();
        assert!(v.0.is_some());
        let doc = json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]});
        assert!(v.is_valid(&doc));
        assert!(!v.is_valid(&json!("hi")));
        assert!(!v.is_valid(&json!({"type":"doc","version":1,"content":[{"type":"nope"}]})));
    }
}
