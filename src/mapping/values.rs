//! Field values on their way to Jira: each field rule's converter, the checks against the
//! type's create screen, and the "From Azure DevOps" table that keeps every filled value no
//! rule placed, so nothing is lost silently.

use serde_json::{Map, Value, json};

use super::{
    adf::{self, JIRA_TEXT_LIMIT},
    draft::ADO_URL,
    known,
    model::{Converter, FieldRule, UnmappedFields, UnmappedValues},
    problem::{Code, Problem, Severity},
    transform::{Context, Planned},
};
use crate::{source::ado::models::WorkItem, target::jira::meta::IssueTypeMeta};

/// The value of a field the item does not fill.
static NULL: Value = Value::Null;

/// Jira's summary limit.
const SUMMARY_MAX: usize = 255;

/// The fields of one item being built.
pub struct Fields<'a> {
    item: &'a WorkItem,
    ctx: &'a Context<'a>,
    jira_type: &'a IssueTypeMeta,
    out: Map<String, Value>,
    /// ADF documents per Jira field, joined at the end (several ADO fields may feed one).
    docs: Vec<(String, String, Value)>,
    /// (ADO field name, value as text) for the description table.
    table: Vec<(String, String)>,
    labels: Vec<String>,
}

impl<'a> Fields<'a> {
    /// Starts the fields of `item` as an issue of `jira_type`.
    pub fn new(item: &'a WorkItem, ctx: &'a Context<'a>, jira_type: &'a IssueTypeMeta) -> Self {
        Self {
            item,
            ctx,
            jira_type,
            out: Map::new(),
            docs: Vec::new(),
            table: Vec::new(),
            labels: vec![format!("ado-id-{}", item.id)],
        }
    }

    /// Converts every field the item fills.
    pub fn convert_all(&mut self, plan: &mut Planned) {
        let mut names: Vec<&String> = self.item.fields.keys().collect();
        names.sort();
        for name in names {
            if known::is_bookkeeping(name) || !filled(&self.item.fields[name]) {
                continue;
            }
            if name == "System.IterationPath" {
                // Sprints are set through the Agile API after creation, whatever field rule
                // the Sprint field has (a site may not show it on the create screen).
                self.iteration(&as_text(&self.item.fields[name]), plan);
                continue;
            }
            match self
                .ctx
                .mapping
                .fields
                .iter()
                .find(|r| &r.ado_field == name)
            {
                Some(rule) if rule.jira_field.is_some() => self.convert(rule, plan),
                _ => self.keep(name),
            }
        }
        if let Some(rule) = self
            .ctx
            .mapping
            .fields
            .iter()
            .find(|r| r.ado_field == ADO_URL)
        {
            self.convert(rule, plan);
        }
    }

    /// The finished `fields` map: ADF fields joined (and split at Jira's cap), labels, and
    /// the description table.
    pub fn finish(mut self, plan: &mut Planned) -> Map<String, Value> {
        let on_screen = |id: &str| self.jira_type.create_field(id).is_some();
        if self.ctx.mapping.unmapped_fields == UnmappedFields::Keep
            && !self.table.is_empty()
            && on_screen("description")
        {
            let table = table_doc(&self.table);
            self.docs
                .push(("description".into(), "From Azure DevOps".into(), table));
        }
        // Grouped by field in order of first appearance (two fields may feed one with another
        // between them in name order: each field is still split, and its overflow kept, once).
        let mut groups: Vec<(String, Vec<(String, Value)>)> = Vec::new();
        for (field, source, doc) in std::mem::take(&mut self.docs) {
            match groups.iter_mut().find(|(f, _)| *f == field) {
                Some((_, parts)) => parts.push((source, doc)),
                None => groups.push((field, vec![(source, doc)])),
            }
        }
        for (field, parts) in groups {
            let doc = join_docs(parts);
            let mut pieces = adf::split_doc_owned(doc, JIRA_TEXT_LIMIT).into_iter();
            if let Some(first) = pieces.next() {
                self.out.insert(field.clone(), first);
            }
            let rest: Vec<Value> = pieces.collect();
            if !rest.is_empty() {
                plan.problems.push(
                    Problem::new(Code::TextSplit, Severity::Warning)
                        .field(&field)
                        .detail(format!("{} parts", rest.len() + 1)),
                );
                plan.overflow.extend(rest);
            }
        }
        if on_screen("labels") {
            self.labels.sort();
            self.labels.dedup();
            self.out.insert("labels".into(), json!(self.labels));
        }
        self.out
    }

    fn keep(&mut self, name: &str) {
        let value = &self.item.fields[name];
        self.table.push((name.to_owned(), as_text(value)));
    }

    fn convert(&mut self, rule: &FieldRule, plan: &mut Planned) {
        let Some(jira) = rule.jira_field.as_deref() else {
            return;
        };
        let screen_id = jira.split('.').next().unwrap_or(jira);
        let Some(screen) = self.jira_type.create_field(screen_id) else {
            if rule.converter != Converter::AdoUrl {
                self.keep(&rule.ado_field);
            }
            return;
        };
        let is_adf = is_adf_field(screen_id, screen.schema.custom.as_deref());
        let item = self.item;
        let value = item.fields.get(&rule.ado_field).unwrap_or(&NULL);
        match rule.converter {
            Converter::Text => {
                let mut text = as_text(value);
                if screen_id == "summary" && text.chars().count() > SUMMARY_MAX {
                    plan.problems.push(
                        Problem::new(Code::SummaryShortened, Severity::Warning).field("summary"),
                    );
                    self.table.push((rule.ado_field.clone(), text.clone()));
                    text = text.chars().take(SUMMARY_MAX - 1).collect::<String>() + "…";
                }
                if is_adf {
                    self.docs
                        .push((screen_id.into(), rule.ado_field.clone(), text_doc(&text)));
                } else {
                    self.out
                        .insert(screen_id.into(), json!(text.replace(['\r', '\n'], " ")));
                }
            }
            Converter::Html => {
                let html = value.as_str().unwrap_or("");
                let doc = adf::html_to_adf(html, self.ctx.links).doc;
                if is_adf {
                    self.docs
                        .push((screen_id.into(), rule.ado_field.clone(), doc));
                } else {
                    self.out
                        .insert(screen_id.into(), json!(adf::adf_text(&doc)));
                }
            }
            Converter::Identity => {
                if let Some(account) = self.account(value, &rule.ado_field, plan) {
                    self.out
                        .insert(screen_id.into(), json!({ "accountId": account }));
                }
            }
            Converter::Date | Converter::DateTime => {
                match date(value, rule.converter == Converter::Date) {
                    Some(d) => {
                        self.out.insert(screen_id.into(), json!(d));
                    }
                    None => self.bad(rule, plan),
                }
            }
            Converter::Number => match value.as_f64().or_else(|| as_text(value).parse().ok()) {
                Some(n) => {
                    self.out.insert(screen_id.into(), json!(n));
                }
                None => self.bad(rule, plan),
            },
            Converter::Hours => match value.as_f64() {
                Some(h) => {
                    let key = jira.split_once('.').map_or("originalEstimate", |(_, k)| k);
                    let tt = self.out.entry("timetracking").or_insert_with(|| json!({}));
                    tt[key] = json!(hours(h));
                }
                None => self.bad(rule, plan),
            },
            Converter::Picklist | Converter::MultiPicklist => {
                self.picklist(rule, screen_id, value, plan)
            }
            Converter::Tags => {
                for tag in as_text(value)
                    .split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                {
                    self.labels
                        .push(tag.split_whitespace().collect::<Vec<_>>().join("-"));
                }
            }
            Converter::Area => {
                let path = as_text(value);
                if let Some(name) = self
                    .ctx
                    .mapping
                    .areas
                    .iter()
                    .find(|a| a.ado == path)
                    .and_then(|a| a.jira.clone())
                {
                    self.out.insert(screen_id.into(), json!([{ "name": name }]));
                }
            }
            Converter::Iteration => self.iteration(&as_text(value), plan),
            Converter::AdoUrl => {
                let url = format!("{}/_workitems/edit/{}", self.ctx.project_url, self.item.id);
                self.out.insert(screen_id.into(), json!(url));
            }
        }
    }

    /// The item's sprint, by the iteration rules; an existing closed Jira sprint takes no issues.
    fn iteration(&self, path: &str, plan: &mut Planned) {
        let rule = self.ctx.mapping.iterations.iter().find(|a| a.ado == path);
        if let Some(name) = rule.and_then(|a| a.jira.clone()) {
            let closed = self
                .ctx
                .target
                .sprints
                .iter()
                .any(|s| s.name == name && s.state == "closed");
            if closed {
                plan.problems
                    .push(Problem::new(Code::ClosedSprint, Severity::Error).detail(&name));
            }
            plan.sprint = Some(name);
        }
    }

    fn bad(&mut self, rule: &FieldRule, plan: &mut Planned) {
        plan.problems
            .push(Problem::new(Code::BadValue, Severity::Warning).field(&rule.ado_field));
        self.keep(&rule.ado_field);
    }

    /// The account for an identity value; the fallback (with a warning) for people Jira lacks.
    fn account(&mut self, value: &Value, field: &str, plan: &mut Planned) -> Option<String> {
        let key = ["id", "uniqueName", "displayName"].iter().find_map(|k| {
            value
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })?;
        let found = self
            .ctx
            .mapping
            .user(key)
            .and_then(|u| u.account_id.clone());
        if found.is_some() {
            return found;
        }
        let name = value
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_owned();
        plan.problems.push(
            Problem::new(Code::UnmappedUser, Severity::Warning)
                .field(field)
                .detail(&name),
        );
        self.table.push((field.to_owned(), name));
        self.ctx.mapping.fallback_user.clone()
    }

    fn picklist(&mut self, rule: &FieldRule, screen_id: &str, value: &Value, plan: &mut Planned) {
        let raw = as_text(value);
        let multi = rule.converter == Converter::MultiPicklist;
        let wanted: Vec<&str> = if multi {
            raw.split(';')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect()
        } else {
            vec![raw.as_str()]
        };
        let mut mapped = Vec::new();
        for v in wanted {
            match rule.values.get(v) {
                Some(j) => mapped.push(j.clone()),
                None if self.ctx.mapping.unmapped_values == UnmappedValues::Reject => {
                    plan.problems.push(
                        Problem::new(Code::ValueNotAllowed, Severity::Error)
                            .field(&rule.ado_field)
                            .detail(v),
                    );
                }
                None => {
                    plan.problems.push(
                        Problem::new(Code::ValueKeptInDescription, Severity::Warning)
                            .field(&rule.ado_field)
                            .detail(v),
                    );
                    self.table.push((rule.ado_field.clone(), v.to_owned()));
                }
            }
        }
        let key = if screen_id == "priority" {
            "name"
        } else {
            "value"
        };
        let as_obj = |v: &String| json!({ key: v });
        if multi && !mapped.is_empty() {
            self.out.insert(
                screen_id.into(),
                Value::Array(mapped.iter().map(as_obj).collect()),
            );
        } else if let Some(v) = mapped.first() {
            self.out.insert(screen_id.into(), as_obj(v));
        }
    }
}

/// Fields Jira stores as Atlassian documents.
fn is_adf_field(id: &str, custom: Option<&str>) -> bool {
    matches!(id, "description" | "environment") || custom.is_some_and(|c| c.ends_with(":textarea"))
}

fn filled(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

/// A value as text: identities by display name, HTML by its visible text.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) if s.contains('<') => adf::html_text(s),
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `2026-01-03T10:00:00Z` → `2026-01-03` or Jira's `2026-01-03T10:00:00.000+0000`.
fn date(v: &Value, date_only: bool) -> Option<String> {
    let s = v.as_str()?;
    let (day, rest) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let ok = day.len() == 10
        && day.as_bytes()[4] == b'-'
        && day.as_bytes()[7] == b'-'
        && day.bytes().filter(u8::is_ascii_digit).count() == 8;
    if !ok {
        return None;
    }
    if date_only {
        return Some(day.to_owned());
    }
    let time: String = rest.chars().take(8).collect();
    (time.len() == 8).then(|| format!("{day}T{time}.000+0000"))
}

/// Hours as Jira duration text: `3.5` → `3h 30m`.
fn hours(h: f64) -> String {
    let minutes = (h.max(0.0) * 60.0).round() as i64;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

fn text_doc(text: &str) -> Value {
    let content: Vec<Value> = text
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(|l| json!({ "type": "paragraph", "content": [{ "type": "text", "text": l }] }))
        .collect();
    json!({ "type": "doc", "version": 1, "content": content })
}

/// The "From Azure DevOps" table: one row per kept field.
fn table_doc(rows: &[(String, String)]) -> Value {
    let cell = |kind: &str, text: &str| {
        let para = if text.is_empty() {
            json!({ "type": "paragraph" })
        } else {
            json!({ "type": "paragraph", "content": [{ "type": "text", "text": text }] })
        };
        json!({ "type": kind, "content": [para] })
    };
    let mut trs = vec![
        json!({ "type": "tableRow", "content": [cell("tableHeader", "Field"), cell("tableHeader", "Value")] }),
    ];
    for (k, v) in rows {
        trs.push(
            json!({ "type": "tableRow", "content": [cell("tableCell", k), cell("tableCell", v)] }),
        );
    }
    json!({ "type": "doc", "version": 1, "content": [{ "type": "table", "content": trs }] })
}

/// Several documents into one; each after the first under a heading naming its source. The
/// blocks move: a document's nodes are never copied on the way to Jira.
fn join_docs(parts: Vec<(String, Value)>) -> Value {
    let mut content = Vec::new();
    for (i, (source, doc)) in parts.into_iter().enumerate() {
        let blocks = match doc {
            Value::Object(mut m) => match m.remove("content") {
                Some(Value::Array(blocks)) => blocks,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        if i > 0 && !blocks.is_empty() {
            content.push(json!({ "type": "heading", "attrs": { "level": 3 }, "content": [{ "type": "text", "text": source }] }));
        }
        content.extend(blocks);
    }
    doc(content)
}

/// A document around `content`, moved in (`json!` would serialize a copy of every block).
fn doc(content: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::from("doc"));
    m.insert("version".into(), Value::from(1));
    m.insert("content".into(), Value::Array(content));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_hours_and_text_values() {
        assert_eq!(
            date(&json!("2026-01-03T10:20:30.5Z"), true).as_deref(),
            Some("2026-01-03")
        );
        assert_eq!(
            date(&json!("2026-01-03T10:20:30Z"), false).as_deref(),
            Some("2026-01-03T10:20:30.000+0000")
        );
        assert_eq!(date(&json!("soon"), true), None);
        assert_eq!(
            (
                hours(3.5).as_str(),
                hours(2.0).as_str(),
                hours(0.25).as_str()
            ),
            ("3h 30m", "2h", "15m")
        );
        assert_eq!(as_text(&json!({ "displayName": "Ann" })), "Ann");
        assert_eq!(as_text(&json!(3)), "3");
    }
}
