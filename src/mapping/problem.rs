//! What can go wrong with one item, in words an admin can act on. A problem names a field, a
//! picklist value, a person or a number — never a title, description or comment.

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// The item will not be created.
    Error,
    /// The item will be created, changed as the message says.
    Warning,
    /// The item is left out on purpose.
    Info,
}

impl Severity {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// Problem kinds. Their stored codes are the snake_case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The item's type is not migrated (the type rule says so).
    TypeExcluded,
    /// No type rule for the item's type.
    TypeNotMapped,
    /// No status for the item's state.
    StateNotMapped,
    /// The workflow cannot reach the mapped status from the initial one.
    NoTransitionPath,
    /// A required Jira field has no value.
    MissingRequired,
    /// A picklist value has no Jira counterpart and the rule is to reject.
    ValueNotAllowed,
    /// A picklist value has no Jira counterpart and is kept in the description table.
    ValueKeptInDescription,
    /// A person Jira does not have; the fallback user (or nobody) stands in, with a note.
    UnmappedUser,
    /// The item's sprint is an existing closed Jira sprint, which takes no issues.
    ClosedSprint,
    /// More comments than Jira keeps on one issue.
    TooManyComments,
    /// More attachments than Jira keeps on one issue.
    TooManyAttachments,
    /// More links than Jira keeps on one issue.
    TooManyLinks,
    /// A file over the site's upload limit.
    AttachmentTooLarge,
    /// The site has attachments turned off.
    AttachmentsDisabled,
    /// A rich text over Jira's 32,767 characters: the rest follows as comments.
    TextSplit,
    /// The summary is over 255 characters: shortened, the whole title kept in the description.
    SummaryShortened,
    /// The parent is not in the migration: set after creation only if an earlier run migrated it.
    ParentOutside,
    /// The parent is not one level up in Jira: kept as a Related link instead of a parent.
    ParentLevel,
    /// The mapped type cannot sit under this parent (or has none): the fallback type is used.
    TypeFallback,
    /// The parent item will fail, so this one is created without its parent.
    ParentFails,
    /// Already in Jira (found by its origin property): skipped.
    AlreadyInJira,
    /// A value the field rule could not convert (a malformed date or number).
    BadValue,
}

impl Code {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TypeExcluded => "type_excluded",
            Self::TypeNotMapped => "type_not_mapped",
            Self::StateNotMapped => "state_not_mapped",
            Self::NoTransitionPath => "no_transition_path",
            Self::MissingRequired => "missing_required",
            Self::ValueNotAllowed => "value_not_allowed",
            Self::ValueKeptInDescription => "value_kept_in_description",
            Self::UnmappedUser => "unmapped_user",
            Self::ClosedSprint => "closed_sprint",
            Self::TooManyComments => "too_many_comments",
            Self::TooManyAttachments => "too_many_attachments",
            Self::TooManyLinks => "too_many_links",
            Self::AttachmentTooLarge => "attachment_too_large",
            Self::AttachmentsDisabled => "attachments_disabled",
            Self::TextSplit => "text_split",
            Self::SummaryShortened => "summary_shortened",
            Self::ParentOutside => "parent_outside",
            Self::ParentLevel => "parent_level",
            Self::TypeFallback => "type_fallback",
            Self::ParentFails => "parent_fails",
            Self::AlreadyInJira => "already_in_jira",
            Self::BadValue => "bad_value",
        }
    }

    /// What it means, for the dry run page.
    pub fn explain(self) -> &'static str {
        match self {
            Self::TypeExcluded => "The mapping leaves this type out.",
            Self::TypeNotMapped => "No Jira issue type is chosen for this type.",
            Self::StateNotMapped => "No Jira status is chosen for this state.",
            Self::NoTransitionPath => "The Jira workflow cannot reach the mapped status.",
            Self::MissingRequired => "A field Jira requires has no value.",
            Self::ValueNotAllowed => "A value has no Jira counterpart; add it to the value map.",
            Self::ValueKeptInDescription => {
                "A value has no Jira counterpart; it is kept in the description."
            }
            Self::UnmappedUser => "A person not found in Jira; a note names them.",
            Self::ClosedSprint => "The sprint is closed in Jira and takes no issues.",
            Self::TooManyComments => "More comments than Jira allows on one issue (5,000).",
            Self::TooManyAttachments => "More attachments than Jira allows on one issue (2,000).",
            Self::TooManyLinks => "More links than Jira allows on one issue (2,000).",
            Self::AttachmentTooLarge => "A file is larger than the site's upload limit.",
            Self::AttachmentsDisabled => "Attachments are turned off on the Jira site.",
            Self::TextSplit => "Text over 32,767 characters; the rest follows as comments.",
            Self::SummaryShortened => {
                "Title over 255 characters; shortened, kept whole in the description."
            }
            Self::ParentOutside => {
                "The parent is not part of this migration; set when an earlier run migrated it."
            }
            Self::ParentLevel => {
                "The parent is not one level up in Jira; the issue is linked to it (Related) instead."
            }
            Self::TypeFallback => {
                "The mapped type cannot sit under this parent; the fallback type is used."
            }
            Self::ParentFails => "The parent will fail, so this item is created without it.",
            Self::AlreadyInJira => "Already migrated; skipped.",
            Self::BadValue => "A value could not be converted and is kept in the description.",
        }
    }
}

/// One problem of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// Kind.
    pub code: Code,
    /// How bad.
    pub severity: Severity,
    /// The field concerned (ADO reference name or Jira field id).
    pub field: Option<String>,
    /// A picklist value, a person's display name, a size: never free text.
    pub detail: Option<String>,
}

impl Problem {
    /// A problem without field or detail.
    pub fn new(code: Code, severity: Severity) -> Self {
        Self {
            code,
            severity,
            field: None,
            detail: None,
        }
    }

    /// With the field concerned.
    pub fn field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// With a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}
