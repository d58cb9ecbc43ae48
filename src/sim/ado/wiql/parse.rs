//! A parser for the WIQL a migrator writes: flat `SELECT … FROM WorkItems [WHERE …]
//! [ORDER BY …]`.
//!
//! Conditions: `=`, `<>`, `<`, `<=`, `>`, `>=`, `[NOT] IN (…)`, `[NOT] UNDER`, `[NOT] CONTAINS`,
//! combined with `AND`, `OR`, `NOT` and parentheses; operands are strings (`'it''s'`),
//! numbers and the macros `@project` and `@today[-n]`. Keywords are case-insensitive, as in ADO.
//! Anything else (link queries, `EVER`, `ASOF`) is a syntax error, so a client relying on it
//! finds out in tests rather than in production.

/// A parsed flat query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The SELECT list, as written.
    pub columns: Vec<String>,
    /// The WHERE clause.
    pub filter: Option<Expr>,
    /// ORDER BY: (field, descending).
    pub order: Vec<(String, bool)>,
}

/// A boolean expression over one work item.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both sides hold.
    And(Box<Expr>, Box<Expr>),
    /// Either side holds.
    Or(Box<Expr>, Box<Expr>),
    /// The inner expression does not hold.
    Not(Box<Expr>),
    /// `[field] op value`.
    Compare(String, CmpOp, Operand),
    /// `[field] IN (values…)`.
    In(String, Vec<Operand>),
    /// `[field] UNDER 'path'`: the path or anything below it.
    Under(String, Operand),
    /// `[field] CONTAINS 'text'`, case-insensitive.
    Contains(String, Operand),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>` or `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A literal or macro on the right of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `'text'`
    Str(String),
    /// `42`, `1.5`
    Num(f64),
    /// `@project`, `@today` (with a day offset), `@me`.
    Macro(String, i64),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Str(String),
    Num(f64),
    Word(String),
    Macro(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or("unclosed [")?
                    + i;
                out.push((
                    start,
                    Tok::Field(
                        chars[i + 1..end]
                            .iter()
                            .collect::<String>()
                            .trim()
                            .to_string(),
                    ),
                ));
                i = end + 1;
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unclosed string at {start}")),
                        Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                            s.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => break,
                        Some(&x) => {
                            s.push(x);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push((start, Tok::Str(s)));
            }
            '(' | ')' | ',' | '+' | '-' => {
                out.push((
                    start,
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        ',' => Tok::Comma,
                        '+' => Tok::Plus,
                        _ => Tok::Minus,
                    },
                ));
                i += 1;
            }
            '=' | '<' | '>' | '!' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "<>" => "<>",
                    "!=" => "<>",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ => match c {
                        '=' => "=",
                        '<' => "<",
                        '>' => ">",
                        _ => return Err(format!("unexpected '!' at {start}")),
                    },
                };
                i += if op.len() == 2 || two == "!=" { 2 } else { 1 };
                out.push((start, Tok::Op(op)));
            }
            '@' | 'a'..='z' | 'A'..='Z' | '_' => {
                i += 1;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push((
                    start,
                    match word.strip_prefix('@') {
                        Some(m) => Tok::Macro(m.to_ascii_lowercase()),
                        None => Tok::Word(word),
                    },
                ));
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let num: String = chars[start..i].iter().collect();
                out.push((
                    start,
                    Tok::Num(num.parse().map_err(|_| format!("bad number {num:?}"))?),
                ));
            }
            other => return Err(format!("unexpected character {other:?} at {start}")),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
}

/// Parses WIQL; the error says where and what was expected.
pub fn parse(text: &str) -> Result<Query, String> {
    let mut p = Parser {
        toks: lex(text)?,
        pos: 0,
    };
    p.keyword("SELECT")?;
    let mut columns = vec![p.field()?];
    while p.eat(&Tok::Comma) {
        columns.push(p.field()?);
    }
    p.keyword("FROM")?;
    match p.next() {
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("WorkItems") => {}
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("WorkItemLinks") => {
            return Err(
                "link queries (FROM WorkItemLinks) are not supported by the simulator".into(),
            );
        }
        _ => return Err(p.expected("WorkItems after FROM")),
    }
    let filter = if p.is_keyword("WHERE") {
        p.pos += 1;
        Some(p.or_expr()?)
    } else {
        None
    };
    let mut order = Vec::new();
    if p.is_keyword("ORDER") {
        p.pos += 1;
        p.keyword("BY")?;
        loop {
            let f = p.field()?;
            let desc = if p.is_keyword("DESC") {
                p.pos += 1;
                true
            } else {
                if p.is_keyword("ASC") {
                    p.pos += 1;
                }
                false
            };
            order.push((f, desc));
            if !p.eat(&Tok::Comma) {
                break;
            }
        }
    }
    if p.pos < p.toks.len() {
        return Err(p.expected("the end of the query"));
    }
    Ok(Query {
        columns,
        filter,
        order,
    })
}

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        let hit = self.peek() == Some(t);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn is_keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn keyword(&mut self, k: &str) -> Result<(), String> {
        if self.is_keyword(k) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(k))
        }
    }

    fn expected(&self, what: &str) -> String {
        match self.toks.get(self.pos) {
            Some((at, t)) => format!("expected {what} at character {at}, found {t:?}"),
            None => format!("expected {what} at the end of the query"),
        }
    }

    fn field(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Field(f)) => Ok(f),
            Some(Tok::Word(w)) if w.contains('.') => Ok(w),
            _ => {
                self.pos -= 1;
                Err(self.expected("a [field]"))
            }
        }
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and_expr()?;
        while self.is_keyword("OR") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.is_keyword("AND") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.is_keyword("NOT") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat(&Tok::LParen) {
            let e = self.or_expr()?;
            if !self.eat(&Tok::RParen) {
                return Err(self.expected(")"));
            }
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, String> {
        let field = self.field()?;
        let negated = self.is_keyword("NOT");
        if negated {
            self.pos += 1;
        }
        let expr = match self.next() {
            Some(Tok::Op(op)) if !negated => {
                let op = match op {
                    "=" => CmpOp::Eq,
                    "<>" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Expr::Compare(field, op, self.operand()?)
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => {
                if !self.eat(&Tok::LParen) {
                    return Err(self.expected("( after IN"));
                }
                let mut values = vec![self.operand()?];
                while self.eat(&Tok::Comma) {
                    values.push(self.operand()?);
                }
                if !self.eat(&Tok::RParen) {
                    return Err(self.expected(") closing IN"));
                }
                Expr::In(field, values)
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("UNDER") => {
                Expr::Under(field, self.operand()?)
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("CONTAINS") => {
                if self.is_keyword("WORDS") {
                    self.pos += 1;
                }
                Expr::Contains(field, self.operand()?)
            }
            _ => {
                self.pos -= 1;
                return Err(self.expected("an operator (=, <>, <, <=, >, >=, IN, UNDER, CONTAINS)"));
            }
        };
        Ok(if negated {
            Expr::Not(Box::new(expr))
        } else {
            expr
        })
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Operand::Str(s)),
            Some(Tok::Num(n)) => Ok(Operand::Num(n)),
            Some(Tok::Minus) => match self.next() {
                Some(Tok::Num(n)) => Ok(Operand::Num(-n)),
                _ => Err(self.expected("a number after -")),
            },
            Some(Tok::Macro(m)) => {
                let sign = if self.eat(&Tok::Plus) {
                    1
                } else if self.eat(&Tok::Minus) {
                    -1
                } else {
                    return Ok(Operand::Macro(m, 0));
                };
                match self.next() {
                    Some(Tok::Num(n)) => Ok(Operand::Macro(m, sign * n as i64)),
                    _ => Err(self.expected("a number of days")),
                }
            }
            _ => {
                self.pos -= 1;
                Err(self.expected("a value"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_override_it() {
        let q =
            parse("select [System.Id] from workitems where [A.a] = 1 or [B.b] = 2 and [C.c] = 3")
                .expect("parses");
        assert!(
            matches!(q.filter, Some(Expr::Or(_, ref right)) if matches!(**right, Expr::And(..)))
        );
        let q =
            parse("SELECT [System.Id] FROM WorkItems WHERE ([A.a] = 1 OR [B.b] = 2) AND [C.c] = 3")
                .expect("parses");
        assert!(matches!(q.filter, Some(Expr::And(ref left, _)) if matches!(**left, Expr::Or(..))));
    }

    #[test]
    fn strings_escape_quotes_by_doubling_and_macros_take_day_offsets() {
        let q = parse("SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'it''s' AND [System.ChangedDate] >= @today - 7").expect("parses");
        let Some(Expr::And(a, b)) = q.filter else {
            panic!("not an AND")
        };
        assert_eq!(
            *a,
            Expr::Compare(
                "System.Title".into(),
                CmpOp::Eq,
                Operand::Str("it's".into())
            )
        );
        assert_eq!(
            *b,
            Expr::Compare(
                "System.ChangedDate".into(),
                CmpOp::Ge,
                Operand::Macro("today".into(), -7)
            )
        );
    }

    #[test]
    fn not_in_not_under_and_order_by_several_fields_parse() {
        let q = parse("SELECT [System.Id], [System.Title] FROM WorkItems WHERE [System.State] NOT IN ('Closed', 'Removed') AND [System.AreaPath] NOT UNDER 'P\\X' ORDER BY [System.ChangedDate] DESC, [System.Id]").expect("parses");
        assert_eq!(q.columns, ["System.Id", "System.Title"]);
        assert_eq!(
            q.order,
            [
                ("System.ChangedDate".to_string(), true),
                ("System.Id".to_string(), false)
            ]
        );
        let Some(Expr::And(a, b)) = q.filter else {
            panic!("not an AND")
        };
        assert!(matches!(*a, Expr::Not(ref e) if matches!(**e, Expr::In(..))));
        assert!(matches!(*b, Expr::Not(ref e) if matches!(**e, Expr::Under(..))));
    }

    #[test]
    fn malformed_queries_say_what_was_expected() {
        for bad in [
            "",
            "SELECT",
            "SELECT [System.Id] FROM",
            "SELECT [System.Id] FROM WorkItemLinks",
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] = 1 extra",
            "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'open",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} is rejected");
        }
        let err = parse("SELECT [System.Id] FROM WorkItems WHERE [System.Id] ~ 1")
            .expect_err("bad operator");
        assert!(err.contains("unexpected character"), "{err}");
    }
}
