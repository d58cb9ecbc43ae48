//! The JQL subset a migrator needs: `project`, `labels`, `key`/`issuekey`, `id` and
//! `issue.property[key].path` with `=` or `IN (…)`, joined by `AND`, plus
//! `ORDER BY key|created|id ASC|DESC`.
//!
//! Anything else is refused with a 400 naming the construct, rather than silently matching
//! too much, so a client that drifts outside the subset finds out in tests.

use super::error::JiraError;

/// One restriction.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Project(Vec<String>),
    Labels(Vec<String>),
    Key(Vec<String>),
    Id(Vec<String>),
    /// `issue.property[key].path`, any of the values.
    Property {
        key: String,
        path: String,
        values: Vec<String>,
    },
}

/// A sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Key,
    Created,
}

/// A parsed query.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub clauses: Vec<Clause>,
    pub order: Vec<(SortField, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Sym(char),
}

fn err(msg: impl std::fmt::Display) -> JiraError {
    JiraError::bad_request(format!("Error in the JQL Query: {msg}"))
}

fn tokenize(s: &str) -> Result<Vec<Tok>, JiraError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | '=' => {
                chars.next();
                out.push(Tok::Sym(c));
            }
            '!' | '<' | '>' | '~' => {
                return Err(err(format!(
                    "the operator starting with '{c}' is not supported by this simulator."
                )));
            }
            '"' | '\'' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        None => return Err(err("the quoted string is not terminated.")),
                        Some('\\') => v.extend(chars.next()),
                        Some(q) if q == c => break,
                        Some(x) => v.push(x),
                    }
                }
                out.push(Tok::Quoted(v));
            }
            _ => {
                let mut w = String::new();
                while let Some(&x) = chars.peek() {
                    if x.is_whitespace() || "(),=!<>~\"'".contains(x) {
                        break;
                    }
                    w.push(x);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

/// Parses the subset; an empty string parses to a query with no clauses.
pub fn parse(s: &str) -> Result<Query, JiraError> {
    let toks = tokenize(s)?;
    let mut q = Query::default();
    let mut i = 0;
    while i < toks.len() {
        if is_kw(toks.get(i), "order") {
            if !is_kw(toks.get(i + 1), "by") {
                return Err(err("expecting 'by' after 'order'."));
            }
            i += 2;
            loop {
                let field = match toks.get(i) {
                    Some(Tok::Word(w))
                        if w.eq_ignore_ascii_case("key")
                            || w.eq_ignore_ascii_case("issuekey")
                            || w.eq_ignore_ascii_case("id") =>
                    {
                        SortField::Key
                    }
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("created") => SortField::Created,
                    other => return Err(err(format!("ordering by {other:?} is not supported."))),
                };
                i += 1;
                let mut desc = false;
                if is_kw(toks.get(i), "desc") {
                    desc = true;
                    i += 1;
                } else if is_kw(toks.get(i), "asc") {
                    i += 1;
                }
                q.order.push((field, desc));
                if toks.get(i) == Some(&Tok::Sym(',')) {
                    i += 1;
                    continue;
                }
                break;
            }
            if i < toks.len() {
                return Err(err("unexpected input after ORDER BY."));
            }
            break;
        }
        let Some(Tok::Word(field)) = toks.get(i) else {
            return Err(err(format!("expecting a field name at token {}.", i + 1)));
        };
        i += 1;
        let values = match toks.get(i) {
            Some(Tok::Sym('=')) => {
                i += 1;
                vec![value(toks.get(i))?]
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => {
                i += 1;
                if toks.get(i) != Some(&Tok::Sym('(')) {
                    return Err(err("expecting '(' after IN."));
                }
                let mut vs = Vec::new();
                loop {
                    i += 1;
                    vs.push(value(toks.get(i))?);
                    i += 1;
                    match toks.get(i) {
                        Some(Tok::Sym(',')) => continue,
                        Some(Tok::Sym(')')) => break,
                        _ => return Err(err("expecting ',' or ')' in the IN list.")),
                    }
                }
                vs
            }
            other => {
                return Err(err(format!(
                    "the operator {other:?} is not supported by this simulator."
                )));
            }
        };
        i += 1;
        q.clauses.push(clause(field, values)?);
        if is_kw(toks.get(i), "and") {
            i += 1;
        } else if i < toks.len() && !is_kw(toks.get(i), "order") {
            return Err(err(format!(
                "expecting AND or ORDER BY, found {:?} (OR and NOT are not supported by this simulator).",
                toks[i]
            )));
        }
    }
    Ok(q)
}

fn value(t: Option<&Tok>) -> Result<String, JiraError> {
    match t {
        Some(Tok::Word(w) | Tok::Quoted(w)) => Ok(w.clone()),
        _ => Err(err("expecting a value.")),
    }
}

fn clause(field: &str, values: Vec<String>) -> Result<Clause, JiraError> {
    let lower = field.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("issue.property[") {
        let orig = &field[field.len() - rest.len()..];
        let (key, path) = orig
            .split_once(']')
            .ok_or_else(|| err("expecting ']' in issue.property."))?;
        let path = path.strip_prefix('.').unwrap_or(path);
        return Ok(Clause::Property {
            key: key.trim_matches('"').to_owned(),
            path: path.to_owned(),
            values,
        });
    }
    Ok(match lower.as_str() {
        "project" => Clause::Project(values),
        "labels" => Clause::Labels(values),
        "key" | "issuekey" => {
            Clause::Key(values.into_iter().map(|v| v.to_ascii_uppercase()).collect())
        }
        "id" => Clause::Id(values),
        _ => {
            return Err(JiraError::bad_request(format!(
                "Field '{field}' does not exist or you do not have permission to view it."
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_migration_queries() {
        let q = parse(r#"project = SCRUM AND labels in (ado-id-1, "ado-id-2") AND issue.property[ferry.ado].id = 42 ORDER BY key DESC"#).expect("parses");
        assert_eq!(q.clauses.len(), 3);
        assert_eq!(
            q.clauses[2],
            Clause::Property {
                key: "ferry.ado".into(),
                path: "id".into(),
                values: vec!["42".into()]
            }
        );
        assert_eq!(q.order, vec![(SortField::Key, true)]);
    }

    #[test]
    fn refuses_or_and_unknown_fields() {
        assert!(parse("project = A OR project = B").is_err());
        assert!(parse("reporter = x").is_err());
        assert!(parse("ORDER BY created").is_ok_and(|q| q.clauses.is_empty()));
    }
}
