//! Rate limiters of the simulators: Jira's three limiters and ADO's TSTU throttle.
//!
//! Rate limits are the physics a migrator lives in (DESIGN "Rate limits are the physics"), so
//! the simulators enforce them as tower layers over any `Router`, driven by profiles taken
//! from `shared/reference/api-limits-and-benchmark.md` §1.2, §2, §6.2 and §6.3. Handlers
//! refine what a request cost by putting a [`CostHint`] (Jira) or [`TstuHint`] (ADO) in the
//! response extensions; everything else is derived from the method and the path template.
//! `docs/sim-limits.md` describes the profiles and headers.

mod ado;
mod ado_profile;
mod assemble;
pub mod caller;
pub mod clock;
mod jira;
mod jira_cost;
mod jira_headers;
mod jira_state;
pub mod latency;
pub mod middleware;
pub mod profile;

pub use ado::{AdoLimitLayer, AdoLimiter};
pub use ado_profile::{AdoProfile, TstuRule, parse_ado_profile};
pub use assemble::{ado_layers, jira_layers};
pub use jira::{JiraLimitLayer, JiraLimiter, SiteLimiter};
pub use profile::{JiraProfile, parse_jira_profile};

/// What a Jira response really cost, set by the handler in the response extensions.
///
/// Reads cost 1 + 1 per core object (issues, projects, …) + 2 per identity object (users,
/// groups); bulk writes under `per_item` accounting cost `items`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CostHint {
    /// Core objects returned.
    pub core_objects: u32,
    /// Users, groups or roles returned.
    pub identity_objects: u32,
    /// Items written by a bulk request.
    pub items: u32,
}

/// What an ADO request really cost in TSTUs, set by the handler in the response extensions
/// (e.g. a WIQL answer knows its result count only after running).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TstuHint(pub f64);

/// A path template with parameter names erased: `/issue/{issueIdOrKey}` → `/issue/{}`.
pub fn normalize_template(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut depth = 0;
    for c in template.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push('{');
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                }
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// The issue id or key a request writes to: the raw path segment where the template has a
/// parameter right after an `issue` segment.
pub fn issue_in_path(template: &str, raw_path: &str) -> Option<String> {
    let tpl: Vec<&str> = template.split('/').collect();
    let raw: Vec<&str> = raw_path.split('/').collect();
    (1..tpl.len()).find_map(|i| {
        (tpl[i - 1] == "issue" && tpl[i].starts_with('{') && !tpl[i].starts_with("{*"))
            .then(|| raw.get(i).map(|s| (*s).to_owned()))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compare_without_parameter_names() {
        assert_eq!(
            normalize_template("/rest/api/3/issue/{issueIdOrKey}/comment"),
            "/rest/api/3/issue/{}/comment"
        );
    }

    #[test]
    fn the_issue_is_read_from_the_raw_path_at_the_templates_parameter() {
        let t = "/rest/api/3/issue/{issueIdOrKey}/comment";
        assert_eq!(
            issue_in_path(t, "/rest/api/3/issue/ABC-1/comment").as_deref(),
            Some("ABC-1")
        );
        assert_eq!(
            issue_in_path("/rest/api/3/issue", "/rest/api/3/issue"),
            None
        );
        assert_eq!(
            issue_in_path("/rest/api/3/issue/bulk", "/rest/api/3/issue/bulk"),
            None
        );
    }
}
