//! What Ferry knows about ADO's four process templates (Agile, Scrum, CMMI, Basic) and Jira's
//! defaults: where each standard type sits in a hierarchy, which Jira status each standard
//! state means, which Jira field each standard field feeds, and the synonyms between them.
//! <https://learn.microsoft.com/en-us/azure/devops/boards/work-items/guidance/choose-process>

/// Hierarchy level of a standard ADO type in Jira's terms: 2 above epics, 1 epic, 0 standard,
/// -1 sub-task. Unknown types are treated as level 0.
pub fn type_level(ado_type: &str) -> i32 {
    match ado_type {
        "Epic" => 2,
        "Feature" => 1,
        "Task" => -1,
        _ => 0,
    }
}

/// Jira type names that mean the same as an ADO type, best first.
pub fn type_synonyms(ado_type: &str) -> &'static [&'static str] {
    match ado_type {
        "Epic" => &["Initiative", "Epic"],
        "Feature" => &["Epic", "Feature"],
        "User Story" | "Product Backlog Item" | "Requirement" => &["Story"],
        "Bug" => &["Bug"],
        "Task" => &["Sub-task", "Subtask", "Task"],
        "Issue" | "Impediment" => &["Task", "Story"],
        "Risk" | "Review" | "Change Request" | "Test Case" => &["Task"],
        _ => &[],
    }
}

/// Jira status names that mean the same as an ADO state, best first.
pub fn state_synonyms(ado_state: &str) -> &'static [&'static str] {
    match ado_state {
        "New" | "Proposed" | "To Do" | "Approved" | "Design" => &["To Do", "Open", "Backlog"],
        "Active" | "Committed" | "Doing" | "In Progress" => &["In Progress"],
        "Resolved" | "Closed" | "Done" | "Completed" => &["Done", "Closed", "Resolved"],
        "Removed" | "Cut" => &["Won't Do", "Cancelled", "Rejected", "Done"],
        _ => &[],
    }
}

/// The Jira status category of an ADO state category.
pub fn state_category(ado_category: &str) -> &'static str {
    match ado_category {
        "Proposed" => "new",
        "InProgress" => "indeterminate",
        _ => "done",
    }
}

/// A standard ADO field's Jira destination, by Jira field id or (for custom fields, whose ids
/// differ per site) by Jira field name and custom type.
pub enum Destination {
    /// A system field id.
    System(&'static str),
    /// A custom field found by one of these names.
    CustomNamed(&'static [&'static str]),
}

/// The standard fields of the four templates and where they go.
pub fn standard_field(reference: &str) -> Option<Destination> {
    use Destination::{CustomNamed, System};
    Some(match reference {
        "System.Title" => System("summary"),
        "System.Description" | "Microsoft.VSTS.TCM.ReproSteps" => System("description"),
        "Microsoft.VSTS.TCM.SystemInfo" => System("environment"),
        "System.AssignedTo" => System("assignee"),
        "System.CreatedBy" => System("reporter"),
        "System.Tags" => System("labels"),
        "System.AreaPath" => System("components"),
        "System.IterationPath" => CustomNamed(&["Sprint"]),
        "Microsoft.VSTS.Common.Priority" => System("priority"),
        "Microsoft.VSTS.Common.Severity" => CustomNamed(&["Severity"]),
        "Microsoft.VSTS.Scheduling.StoryPoints"
        | "Microsoft.VSTS.Scheduling.Effort"
        | "Microsoft.VSTS.Scheduling.Size" => {
            CustomNamed(&["Story point estimate", "Story Points"])
        }
        "Microsoft.VSTS.Common.AcceptanceCriteria" => CustomNamed(&["Acceptance criteria"]),
        "Microsoft.VSTS.Scheduling.OriginalEstimate" => System("timetracking.originalEstimate"),
        "Microsoft.VSTS.Scheduling.RemainingWork" => System("timetracking.remainingEstimate"),
        "Microsoft.VSTS.Scheduling.DueDate" | "Microsoft.VSTS.Scheduling.TargetDate" => {
            System("duedate")
        }
        _ => return None,
    })
}

/// Fields the migration handles itself (hierarchy, state, comments) or that are ADO
/// bookkeeping; they get no rule and never go to the description table.
pub fn is_bookkeeping(reference: &str) -> bool {
    matches!(
        reference,
        "System.Id"
            | "System.Rev"
            | "System.TeamProject"
            | "System.WorkItemType"
            | "System.State"
            | "System.Reason"
            | "System.Parent"
            | "System.CommentCount"
            | "System.BoardColumn"
            | "System.BoardColumnDone"
            | "System.BoardLane"
            | "System.ChangedBy"
            | "System.ChangedDate"
            | "System.AuthorizedAs"
            | "System.AuthorizedDate"
            | "System.RevisedDate"
            | "System.Watermark"
            | "System.NodeName"
            | "System.AreaId"
            | "System.IterationId"
            | "System.AreaLevel1"
            | "System.IterationLevel1"
            | "System.PersonId"
            | "System.History"
            | "System.ExternalLinkCount"
            | "System.HyperLinkCount"
            | "System.AttachedFileCount"
            | "System.RelatedLinkCount"
            | "System.RemoteLinkCount"
            | "Microsoft.VSTS.Common.StateChangeDate"
            | "Microsoft.VSTS.Common.ActivatedDate"
            | "Microsoft.VSTS.Common.ActivatedBy"
            | "Microsoft.VSTS.Common.ResolvedDate"
            | "Microsoft.VSTS.Common.ResolvedBy"
            | "Microsoft.VSTS.Common.ClosedDate"
            | "Microsoft.VSTS.Common.ClosedBy"
            | "Microsoft.VSTS.Common.StackRank"
            | "Microsoft.VSTS.Common.BacklogPriority"
    )
}

/// ADO relation → Jira link type names, best first. Hierarchy relations become `parent`.
pub fn link_synonyms(relation: &str) -> &'static [&'static str] {
    match relation {
        "System.LinkTypes.Related" | "Microsoft.VSTS.Common.Affects-Forward" => {
            &["Relates", "Related"]
        }
        "System.LinkTypes.Duplicate-Forward" => &["Duplicate"],
        "System.LinkTypes.Dependency-Forward" => &["Blocks", "Dependency"],
        "Microsoft.VSTS.Common.TestedBy-Forward" => &["Test", "Tests", "Relates"],
        _ => &["Relates"],
    }
}

/// The forward ends of the ADO relations a migration carries as Jira links.
pub const LINK_RELATIONS: [&str; 4] = [
    "System.LinkTypes.Related",
    "System.LinkTypes.Duplicate-Forward",
    "System.LinkTypes.Dependency-Forward",
    "Microsoft.VSTS.Common.TestedBy-Forward",
];

/// Known value equivalences of standard picklists: (ADO value, Jira value names best first).
/// ADO priorities are 1 (highest) to 4; severities `1 - Critical` to `4 - Low`.
pub fn value_synonyms(field: &str, value: &str) -> &'static [&'static str] {
    match (field, value) {
        ("Microsoft.VSTS.Common.Priority", "1") => &["Highest", "Critical", "Blocker"],
        ("Microsoft.VSTS.Common.Priority", "2") => &["High", "Major"],
        ("Microsoft.VSTS.Common.Priority", "3") => &["Medium", "Minor"],
        ("Microsoft.VSTS.Common.Priority", "4") => &["Low", "Lowest", "Trivial"],
        ("Microsoft.VSTS.Common.Severity", "1 - Critical") => &["Critical", "Blocker", "Highest"],
        ("Microsoft.VSTS.Common.Severity", "2 - High") => &["Major", "High"],
        ("Microsoft.VSTS.Common.Severity", "3 - Medium") => &["Minor", "Medium", "Moderate"],
        ("Microsoft.VSTS.Common.Severity", "4 - Low") => &["Minor", "Low", "Trivial"],
        _ => &[],
    }
}
