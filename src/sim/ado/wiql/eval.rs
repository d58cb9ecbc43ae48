//! Evaluating a parsed WIQL condition against one work item, with ADO's comparison rules.
//!
//! Strings compare case-insensitively; numbers numerically; dates as ISO text (a date-only
//! operand such as `'2024-01-01'` compares as the start of that day, UTC); identities match
//! their display name, unique name or `Name <unique name>`; tree paths match `UNDER` when equal
//! or below (`Proj\Web` is under `Proj`, `Proj\Website` is not).

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::parse::{CmpOp, Expr, Operand};
use crate::sim::ado::dataset::WorkItem;

/// Macros resolved once per query.
pub(crate) struct Env<'a> {
    pub(crate) project: Option<&'a str>,
    pub(crate) today: i64,
}

/// A field's value on an item; `System.Id` and `System.Rev` come from the item itself.
pub(crate) fn field_value(item: &WorkItem, field: &str) -> Value {
    if field.eq_ignore_ascii_case("System.Id") {
        return json!(item.id);
    }
    if field.eq_ignore_ascii_case("System.Rev") {
        if let Some(r) = item.rev {
            return json!(r);
        }
    }
    item.fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(field))
        .map(|(_, v)| v.clone())
        .unwrap_or(Value::Null)
}

fn resolve(op: &Operand, env: &Env) -> Result<Value, String> {
    Ok(match op {
        Operand::Str(s) => json!(s),
        Operand::Num(n) => json!(n),
        Operand::Macro(m, offset) => match m.as_str() {
            "project" => json!(env.project.ok_or("@project needs a project in the URL")?),
            "today" => json!(crate::sim::r#gen::calendar::date(env.today + offset)),
            other => {
                return Err(format!(
                    "the macro @{other} is not supported by the simulator"
                ));
            }
        },
    })
}

/// Whether `expr` holds for `item`.
pub(crate) fn matches(expr: &Expr, item: &WorkItem, env: &Env) -> Result<bool, String> {
    Ok(match expr {
        Expr::And(a, b) => matches(a, item, env)? && matches(b, item, env)?,
        Expr::Or(a, b) => matches(a, item, env)? || matches(b, item, env)?,
        Expr::Not(e) => !matches(e, item, env)?,
        Expr::Compare(f, op, v) => {
            let (lhs, rhs) = (field_value(item, f), resolve(v, env)?);
            match op {
                CmpOp::Eq => equal(&lhs, &rhs),
                CmpOp::Ne => !equal(&lhs, &rhs),
                _ => match compare(&lhs, &rhs) {
                    None => false,
                    Some(o) => match op {
                        CmpOp::Lt => o == Ordering::Less,
                        CmpOp::Le => o != Ordering::Greater,
                        CmpOp::Gt => o == Ordering::Greater,
                        _ => o != Ordering::Less,
                    },
                },
            }
        }
        Expr::In(f, values) => {
            let lhs = field_value(item, f);
            let mut hit = false;
            for v in values {
                hit |= equal(&lhs, &resolve(v, env)?);
            }
            hit
        }
        Expr::Under(f, v) => {
            let lhs = text(&field_value(item, f)).to_lowercase();
            let path = text(&resolve(v, env)?).to_lowercase();
            let path = path.trim_end_matches('\\');
            lhs == path
                || lhs
                    .strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('\\'))
        }
        Expr::Contains(f, v) => {
            let needle = text(&resolve(v, env)?).to_lowercase();
            text(&field_value(item, f)).to_lowercase().contains(&needle)
        }
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) => o
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        other => other.to_string(),
    }
}

fn equal(lhs: &Value, rhs: &Value) -> bool {
    if let Value::Object(o) = lhs {
        let r = text(rhs).to_lowercase();
        let name = o.get("displayName").and_then(Value::as_str).unwrap_or("");
        let unique = o.get("uniqueName").and_then(Value::as_str).unwrap_or("");
        return [
            name.to_string(),
            unique.to_string(),
            format!("{name} <{unique}>"),
        ]
        .iter()
        .any(|c| c.to_lowercase() == r);
    }
    compare(lhs, rhs) == Some(Ordering::Equal)
}

/// Orders two values: numerically when both are numbers, else as case-insensitive text.
pub(crate) fn compare(lhs: &Value, rhs: &Value) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (number(lhs), number(rhs)) {
        return a.partial_cmp(&b);
    }
    if lhs.is_null() {
        return (text(rhs).is_empty())
            .then_some(Ordering::Equal)
            .or(Some(Ordering::Less));
    }
    let (a, b) = (text(lhs).to_lowercase(), text(rhs).to_lowercase());
    if looks_like_date(&a) && looks_like_date(&b) {
        return Some(a.trim_end_matches('z').cmp(b.trim_end_matches('z')));
    }
    Some(a.cmp(&b))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|_| !looks_like_date(s)),
        _ => None,
    }
}

fn looks_like_date(s: &str) -> bool {
    crate::sim::r#gen::calendar::parse_date(s).is_some()
}
