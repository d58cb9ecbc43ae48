//! Identity lookup: `GET {org}/_apis/identities?searchFilter=General&filterValue=…`.
//!
//! On Services this lives on `vssps.dev.azure.com/{org}`; the simulator serves it under the
//! organization URL. `General` matches display name, unique name (e-mail) or id,
//! case-insensitively; `MailAddress` and `AccountName` match the unique name;
//! `DisplayName` the display name. Results are the dataset's `IdentityRef`s with the
//! `Identity` keys a client reads (`providerDisplayName`, `properties.Mail`) added.

use axum::response::Response;
use serde_json::{Value, json};

use super::dispatch::{Ctx, list_response};
use super::error::AdoError;

/// The identity search.
pub(crate) fn search(ctx: &Ctx, _api: &[String]) -> Result<Response, AdoError> {
    let filter = ctx.query.get("searchFilter").unwrap_or("General");
    let Some(value) = ctx.query.get("filterValue") else {
        return Err(AdoError::argument("The filterValue parameter is required."));
    };
    let needle = value.trim().to_lowercase();
    let field = |i: &Value, k: &str| {
        i.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    };
    let matches = |i: &&Value| match filter.to_ascii_lowercase().as_str() {
        "mailaddress" | "accountname" => field(i, "uniqueName") == needle,
        "displayname" => field(i, "displayName") == needle,
        _ => ["displayName", "uniqueName", "id"]
            .iter()
            .any(|k| field(i, k) == needle),
    };
    let values = ctx
        .sim
        .data
        .identities
        .iter()
        .filter(matches)
        .map(as_identity)
        .collect();
    Ok(list_response(values))
}

fn as_identity(r: &Value) -> Value {
    let mut out = r.clone();
    let s = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
    if let Some(o) = out.as_object_mut() {
        o.insert("providerDisplayName".into(), s("displayName"));
        o.insert(
            "isActive".into(),
            json!(!r.get("inactive").and_then(Value::as_bool).unwrap_or(false)),
        );
        o.insert(
            "properties".into(),
            json!({
                "Mail": { "$type": "System.String", "$value": s("uniqueName") },
                "Account": { "$type": "System.String", "$value": s("uniqueName") },
            }),
        );
    }
    out
}
