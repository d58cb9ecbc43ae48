//! The Agile process the generator writes: work item types with states and transitions, and
//! the fields (standard and five custom ones) a migrator has to map.

use serde_json::{Value, json};

/// The five types, in create-wave order, with their reference names and colours.
pub const TYPES: [(&str, &str, &str); 5] = [
    ("Epic", "Microsoft.VSTS.WorkItemTypes.Epic", "FF7B00"),
    ("Feature", "Microsoft.VSTS.WorkItemTypes.Feature", "773B93"),
    (
        "User Story",
        "Microsoft.VSTS.WorkItemTypes.UserStory",
        "009CCC",
    ),
    ("Task", "Microsoft.VSTS.WorkItemTypes.Task", "F2CB1D"),
    ("Bug", "Microsoft.VSTS.WorkItemTypes.Bug", "CC293D"),
];

/// States of the Agile process with their colours and categories.
const STATES: [(&str, &str, &str); 5] = [
    ("New", "b2b2b2", "Proposed"),
    ("Active", "007acc", "InProgress"),
    ("Resolved", "ff9d00", "Resolved"),
    ("Closed", "339933", "Completed"),
    ("Removed", "ffffff", "Removed"),
];

/// The work item types as `GET _apis/wit/workitemtypes` returns them.
pub fn work_item_types(org: &str, project_id: &str) -> Vec<Value> {
    TYPES
        .iter()
        .map(|(name, reference, color)| {
            let states: Vec<Value> = STATES
                .iter()
                .filter(|(s, _, _)| !(*name == "Task" && *s == "Resolved"))
                .map(|(s, c, cat)| json!({ "name": s, "color": c, "category": cat }))
                .collect();
            let names: Vec<&str> = states.iter().filter_map(|s| s["name"].as_str()).collect();
            let mut transitions = serde_json::Map::new();
            transitions.insert(String::new(), json!([{ "to": "New" }]));
            for from in &names {
                let to: Vec<Value> = names.iter().filter(|t| t != &from).map(|t| json!({ "to": t })).collect();
                transitions.insert((*from).to_string(), Value::Array(to));
            }
            let encoded = name.replace(' ', "%20");
            json!({
                "name": name,
                "referenceName": reference,
                "description": format!("Tracks a {} in the Agile process.", name.to_lowercase()),
                "color": color,
                "icon": { "id": "icon_clipboard", "url": format!("{org}/_apis/wit/workItemIcons/icon_clipboard?color={color}&v=2") },
                "isDisabled": false,
                "states": states,
                "transitions": transitions,
                "fields": FIELDS.iter().map(|(n, r, _)| json!({ "referenceName": r, "name": n, "url": format!("{org}/_apis/wit/fields/{r}") })).collect::<Vec<_>>(),
                "url": format!("{org}/{project_id}/_apis/wit/workItemTypes/{encoded}"),
            })
        })
        .collect()
}

/// (name, reference name, type) of every field the generator fills.
pub const FIELDS: [(&str, &str, &str); 34] = [
    ("ID", "System.Id", "integer"),
    ("Rev", "System.Rev", "integer"),
    ("Team Project", "System.TeamProject", "string"),
    ("Work Item Type", "System.WorkItemType", "string"),
    ("Title", "System.Title", "string"),
    ("State", "System.State", "string"),
    ("Reason", "System.Reason", "string"),
    ("Area Path", "System.AreaPath", "treePath"),
    ("Iteration Path", "System.IterationPath", "treePath"),
    ("Assigned To", "System.AssignedTo", "identity"),
    ("Created By", "System.CreatedBy", "identity"),
    ("Created Date", "System.CreatedDate", "dateTime"),
    ("Changed By", "System.ChangedBy", "identity"),
    ("Changed Date", "System.ChangedDate", "dateTime"),
    ("Comment Count", "System.CommentCount", "integer"),
    ("Description", "System.Description", "html"),
    ("Tags", "System.Tags", "plainText"),
    ("Parent", "System.Parent", "integer"),
    ("Board Column", "System.BoardColumn", "string"),
    ("Priority", "Microsoft.VSTS.Common.Priority", "integer"),
    ("Severity", "Microsoft.VSTS.Common.Severity", "string"),
    ("Value Area", "Microsoft.VSTS.Common.ValueArea", "string"),
    (
        "State Change Date",
        "Microsoft.VSTS.Common.StateChangeDate",
        "dateTime",
    ),
    (
        "Story Points",
        "Microsoft.VSTS.Scheduling.StoryPoints",
        "double",
    ),
    ("Effort", "Microsoft.VSTS.Scheduling.Effort", "double"),
    (
        "Remaining Work",
        "Microsoft.VSTS.Scheduling.RemainingWork",
        "double",
    ),
    (
        "Original Estimate",
        "Microsoft.VSTS.Scheduling.OriginalEstimate",
        "double",
    ),
    ("Repro Steps", "Microsoft.VSTS.TCM.ReproSteps", "html"),
    ("System Info", "Microsoft.VSTS.TCM.SystemInfo", "html"),
    ("Customer", "Custom.Customer", "string"),
    ("Risk Score", "Custom.RiskScore", "double"),
    ("Due Date", "Custom.DueDate", "dateTime"),
    ("Environment", "Custom.Environment", "picklistString"),
    ("Platforms", "Custom.Platforms", "string"),
];

/// Allowed values of the single-select `Custom.Environment`.
pub const ENVIRONMENTS: [&str; 4] = ["Production", "Staging", "Test", "Development"];
/// Values of the multi-select `Custom.Platforms` (stored `;`-separated, as ADO extensions do).
pub const PLATFORMS: [&str; 5] = ["Web", "iOS", "Android", "Windows", "macOS"];

/// The fields as `GET _apis/wit/fields` returns them.
pub fn fields(org: &str) -> Vec<Value> {
    FIELDS
        .iter()
        .map(|(name, reference, ty)| {
            json!({
                "name": name,
                "referenceName": reference,
                "type": ty,
                "usage": "workItem",
                "readOnly": matches!(*reference, "System.Id" | "System.Rev" | "System.CreatedDate" | "System.ChangedDate" | "System.CommentCount"),
                "canSortBy": true,
                "isQueryable": true,
                "isIdentity": *ty == "identity",
                "isPicklist": ty.starts_with("picklist"),
                "isPicklistSuggested": false,
                "isLocked": false,
                "supportedOperations": [],
                "url": format!("{org}/_apis/wit/fields/{reference}"),
            })
        })
        .collect()
}
