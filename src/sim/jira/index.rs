//! The search index: what `search/jql` sees, lagging the store by `index_lag`.
//!
//! Jira's search is eventually consistent; a migrator that reads its own writes through search
//! must use `reconcileIssues`. Writes enqueue the issue id with a due time; each search first
//! re-indexes the ids that are due, from the issue's current state. Postings are per project,
//! label, key and flattened property leaf, so the migration's lookups stay O(result).

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::store::{Data, Issue};

/// A property leaf: (property key, dotted path, value as text).
pub type PropTerm = (String, String, String);

/// What one issue contributes to the index.
#[derive(Clone, Default)]
pub struct Terms {
    pub project: String,
    pub key: String,
    pub labels: Vec<String>,
    pub props: Vec<PropTerm>,
}

impl Terms {
    /// The terms of an issue in its current state.
    pub fn of(issue: &Issue, project_key: &str) -> Self {
        let labels = issue
            .fields
            .get("labels")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let mut props = Vec::new();
        for (k, v) in &issue.properties {
            flatten(k, "", v, &mut props, 0);
        }
        Self {
            project: project_key.to_owned(),
            key: issue.key.clone(),
            labels,
            props,
        }
    }
}

fn flatten(key: &str, path: &str, v: &Value, out: &mut Vec<PropTerm>, depth: usize) {
    let leaf = |s: String| (key.to_owned(), path.to_owned(), s);
    match v {
        Value::Object(m) if depth < 4 => {
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(key, &p, child, out, depth + 1);
            }
        }
        Value::Array(a) if depth < 4 => {
            a.iter().for_each(|c| flatten(key, path, c, out, depth + 1))
        }
        Value::String(s) => out.push(leaf(s.clone())),
        Value::Number(n) => out.push(leaf(n.to_string())),
        Value::Bool(b) => out.push(leaf(b.to_string())),
        _ => {}
    }
}

/// The lagging index.
pub struct SearchIndex {
    lag: Duration,
    pending: VecDeque<(Instant, u64)>,
    docs: HashMap<u64, Terms>,
    pub by_project: HashMap<String, BTreeSet<u64>>,
    pub by_label: HashMap<String, BTreeSet<u64>>,
    pub by_key: HashMap<String, u64>,
    pub by_prop: HashMap<PropTerm, BTreeSet<u64>>,
}

impl SearchIndex {
    pub fn new(lag: Duration) -> Self {
        Self {
            lag,
            pending: VecDeque::new(),
            docs: HashMap::new(),
            by_project: HashMap::new(),
            by_label: HashMap::new(),
            by_key: HashMap::new(),
            by_prop: HashMap::new(),
        }
    }

    /// Records a write to `id`; it becomes searchable after the lag.
    pub fn touch(&mut self, data: &Data, project_key: &dyn Fn(usize) -> String, id: u64) {
        if self.lag.is_zero() {
            self.reindex(data, project_key, id);
        } else {
            self.pending.push_back((Instant::now() + self.lag, id));
        }
    }

    /// Applies every write whose lag has passed.
    pub fn catch_up(&mut self, data: &Data, project_key: &dyn Fn(usize) -> String) {
        let now = Instant::now();
        while self.pending.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, id)) = self.pending.pop_front() {
                self.reindex(data, project_key, id);
            }
        }
    }

    fn reindex(&mut self, data: &Data, project_key: &dyn Fn(usize) -> String, id: u64) {
        if let Some(old) = self.docs.remove(&id) {
            remove(&mut self.by_project, &old.project, id);
            for l in &old.labels {
                remove(&mut self.by_label, l, id);
            }
            for p in &old.props {
                remove(&mut self.by_prop, p, id);
            }
            self.by_key.remove(&old.key);
        }
        let Some(issue) = data.issues.get(&id) else {
            return;
        };
        let terms = Terms::of(issue, &project_key(issue.project));
        self.by_project
            .entry(terms.project.clone())
            .or_default()
            .insert(id);
        for l in &terms.labels {
            self.by_label.entry(l.clone()).or_default().insert(id);
        }
        for p in &terms.props {
            self.by_prop.entry(p.clone()).or_default().insert(id);
        }
        self.by_key.insert(terms.key.clone(), id);
        self.docs.insert(id, terms);
    }
}

fn remove<K: std::hash::Hash + Eq>(map: &mut HashMap<K, BTreeSet<u64>>, k: &K, id: u64) {
    if let Some(set) = map.get_mut(k) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(k);
        }
    }
}
