//! What a Jira call costs in points and which limits it falls under, from its method and path
//! (reference §1.2): a write costs 1 (base only); a read costs 1 plus 1 per object returned,
//! 2 per identity object (users, groups). Burst buckets are per endpoint and method; per-issue
//! windows count writes to one issue.

use reqwest::Method;
use serde_json::Value;

/// How a call is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// 1 point.
    Write,
    /// 1 point plus each object returned (2 each when they are users or groups).
    Read {
        /// The objects are identities.
        identity: bool,
    },
}

impl Cost {
    /// The charge of `method` on `path` (no query).
    pub fn of(method: &Method, path: &str) -> Self {
        let read_post = ["/search", "/bulkfetch", "/comment/list", "/user/bulk"]
            .iter()
            .any(|p| path.contains(p));
        if matches!(*method, Method::GET | Method::HEAD) || (*method == Method::POST && read_post) {
            let identity = ["/user", "/users", "/myself", "/group", "/role"]
                .iter()
                .any(|p| path.contains(p));
            Self::Read { identity }
        } else {
            Self::Write
        }
    }

    /// Points assumed before the answer: a write, or a read of one object.
    pub fn estimate(self) -> u64 {
        match self {
            Self::Write => 1,
            Self::Read { identity } => 1 + per_object(identity),
        }
    }

    /// Points of an answer with `body`.
    pub fn points(self, body: &[u8]) -> u64 {
        match self {
            Self::Write => 1,
            // At least one object: an empty answer is charged like one (the simulator and
            // Jira's worked example price a plain read at 2); over-counting only makes the
            // budget wait a little early, under-counting would run into Jira's wall.
            Self::Read { identity } => 1 + objects(body).max(1) * per_object(identity),
        }
    }
}

fn per_object(identity: bool) -> u64 {
    if identity { 2 } else { 1 }
}

/// Objects in a read's answer: the items of its list (a top-level array, or the array under
/// Jira's paging keys), else one object (none for an empty answer).
pub fn objects(body: &[u8]) -> u64 {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return 1;
    };
    let len = |a: &Vec<Value>| a.len() as u64;
    match &v {
        Value::Array(a) => len(a),
        Value::Object(o) => [
            "issues", "values", "comments", "worklogs", "users", "sprints",
        ]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_array))
        .map_or(1, len),
        Value::Null => 0,
        _ => 1,
    }
}

/// The endpoint class of a call: its method and path with ids and keys erased, so every
/// `POST /issue/{}/remotelink` shares one burst bucket and one concurrency limit.
pub fn class(method: &Method, path: &str) -> String {
    let template: Vec<&str> = path
        .split('/')
        .enumerate()
        .map(|(i, seg)| {
            // `/rest/api/3/…` and `/rest/agile/1.0/…`: the version is not an id.
            if i >= 4 && seg.bytes().any(|b| b.is_ascii_digit()) {
                "{}"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {}", template.join("/"))
}

/// The issue a write goes to (`/issue/{idOrKey}/…`), for Jira's per-issue write windows.
pub fn issue_written<'a>(method: &Method, path: &'a str) -> Option<&'a str> {
    if matches!(*method, Method::GET | Method::HEAD) {
        return None;
    }
    let mut segs = path.split('/');
    segs.find(|s| *s == "issue")?;
    segs.next()
        .filter(|s| s.bytes().any(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_cost_one_and_reads_one_plus_their_objects() {
        let post = Method::POST;
        assert_eq!(Cost::of(&post, "/rest/api/3/issue/bulk"), Cost::Write);
        assert_eq!(Cost::of(&post, "/rest/api/3/issue/bulk").points(b"{}"), 1);
        let search = Cost::of(&post, "/rest/api/3/search/jql");
        assert_eq!(search, Cost::Read { identity: false });
        assert_eq!(search.points(br#"{"issues":[{},{},{}]}"#), 4);
        assert_eq!(
            search.points(br#"{"issues":[]}"#),
            2,
            "charged as one object"
        );
        let issue = Cost::of(&Method::GET, "/rest/api/3/issue/SCRUM-1");
        assert_eq!(
            issue.points(br#"{"id":"1"}"#),
            2,
            "GET /issue/ABC-123 = 2 points"
        );
        let users = Cost::of(&Method::GET, "/rest/api/3/user/search");
        assert_eq!(
            users.points(b"[{},{},{},{},{},{},{},{}]"),
            17,
            "8 users = 17 points"
        );
        assert_eq!(
            Cost::of(&Method::PUT, "/rest/agile/1.0/sprint/4").estimate(),
            1
        );
    }

    #[test]
    fn classes_erase_ids_and_keys_but_not_versions() {
        assert_eq!(
            class(&Method::POST, "/rest/api/3/issue/SCRUM-12/remotelink"),
            "POST /rest/api/3/issue/{}/remotelink"
        );
        assert_eq!(
            class(&Method::POST, "/rest/agile/1.0/sprint/7/issue"),
            "POST /rest/agile/1.0/sprint/{}/issue"
        );
        assert_eq!(
            class(&Method::POST, "/rest/api/3/issue/bulk"),
            "POST /rest/api/3/issue/bulk"
        );
    }

    #[test]
    fn only_writes_to_one_issue_count_for_its_windows() {
        let post = Method::POST;
        assert_eq!(
            issue_written(&post, "/rest/api/3/issue/SCRUM-3/comment"),
            Some("SCRUM-3")
        );
        assert_eq!(issue_written(&post, "/rest/api/3/issue/bulk"), None);
        assert_eq!(issue_written(&post, "/rest/agile/1.0/sprint/7/issue"), None);
        assert_eq!(issue_written(&Method::GET, "/rest/api/3/issue/10001"), None);
        assert_eq!(
            issue_written(&Method::PUT, "/rest/api/3/issue/10001"),
            Some("10001")
        );
    }
}
