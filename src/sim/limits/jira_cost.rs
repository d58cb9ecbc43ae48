//! What a Jira request costs in points (reference §1.2 costs, §6.2 `bulk_write_accounting`).

use axum::http::Method;

use super::{
    CostHint,
    profile::{BulkAccounting, JiraProfile},
};

/// Points a finished request costs (reference §1.2 and §6.2's cost table).
pub(super) fn points_for(
    profile: &JiraProfile,
    method: &Method,
    template: &str,
    hint: Option<&CostHint>,
) -> u64 {
    let Some(q) = &profile.quota else { return 0 };
    if is_read(method, template) {
        return match hint {
            Some(h) => 1 + u64::from(h.core_objects) + 2 * u64::from(h.identity_objects),
            None => q.default_read_points,
        };
    }
    let bulk = ["/issue/bulk", "/bulk/", "/sprint/{", "/backlog/issue"]
        .iter()
        .any(|p| template.contains(p));
    match (q.bulk_accounting, hint) {
        (BulkAccounting::PerItem, Some(h)) if bulk && h.items > 0 => u64::from(h.items),
        _ => 1,
    }
}

/// Reads pay per object returned; POST searches are reads too.
fn is_read(method: &Method, template: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
        || ["/search", "/bulkfetch", "/comment/list", "/user/bulk"]
            .iter()
            .any(|p| template.contains(p))
}

/// Whether a template is one of the user-search endpoints sharing the collective limit.
pub(super) fn is_user_search(normalized: &str) -> bool {
    [
        "/user/search",
        "/users/search",
        "/user/picker",
        "/user/assignable/",
        "/user/viewissue/search",
        "/user/permission/search",
        "/groupuserpicker",
    ]
    .iter()
    .any(|p| normalized.contains(p))
}
