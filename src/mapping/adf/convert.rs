//! The input side of the conversion: a walk over the parsed HTML that turns each element into
//! calls on the container stack in [`super::build`]; anchors, images and `#id` text go to the
//! ADO specifics in [`super::ado`].

use serde_json::json;

use super::build::{Flow, Kind, Out};
use super::depth;
use super::dom::{Dom, Elem, Id, ROOT, Visit};
use super::run::Marks;
use super::tags::{MARKS, Mark, Tag, classify};
use super::{Converted, Resolve, Stats, text};

/// The state of one conversion: output so far, counts, and the marks and anchors in force.
pub(super) struct Converter<'r> {
    pub(super) r: &'r dyn Resolve,
    pub(super) out: Out,
    pub(super) stats: Stats,
    pub(super) marks: [u32; MARKS],
    /// Open anchors, innermost last: the link target each gives its text, and whether its
    /// text is taken literally (an unresolved mention: no `#id` cards inside).
    pub(super) links: Vec<(Id, Option<String>, bool)>,
}

/// Converts HTML to an ADF document; see the module docs of [`super`] for the mapping.
pub(super) fn convert(html: &str, r: &dyn Resolve) -> Converted {
    let mut c = Converter {
        r,
        out: Out::new(),
        stats: Stats::default(),
        marks: [0; MARKS],
        links: Vec::new(),
    };
    if !html.bytes().all(|b| b.is_ascii_whitespace()) {
        let dom = depth::parse(html);
        dom.walk(ROOT, |v| match v {
            Visit::Enter(id, e) => c.enter(&dom, id, e),
            Visit::Leave(id, e) => {
                c.leave(id, e);
                true
            }
            Visit::Text(t) => {
                c.text(t);
                true
            }
        });
    }
    let doc = c.out.finish();
    let mut stats = c.stats;
    stats.text_chars = text::text_len(&doc);
    for list in [&mut stats.attachments, &mut stats.identities] {
        list.sort_unstable();
        list.dedup();
    }
    stats.work_items.sort_unstable();
    stats.work_items.dedup();
    Converted { doc, stats }
}

impl Converter<'_> {
    pub(super) fn current_marks(&self) -> Marks {
        Marks {
            on: self.marks.map(|n| n > 0),
            link: self.links.last().and_then(|(_, href, _)| href.clone()),
        }
    }

    fn enter(&mut self, dom: &Dom, id: Id, e: &Elem) -> bool {
        let tag = classify(e);
        match tag {
            Tag::Hidden => return false,
            Tag::Inline => return true,
            Tag::Mark(m) => {
                self.marks[m as usize] += 1;
                return true;
            }
            Tag::Anchor => return self.start_anchor(dom, id, e),
            Tag::Image => {
                self.image(e);
                return true;
            }
            _ => {}
        }
        if let Some(code) = self.out.code() {
            // In preformatted text a `<br>` is a newline, and a block starts a line.
            if tag == Tag::Break || !(code.is_empty() || code.ends_with('\n')) {
                code.push('\n');
            }
            return true;
        }
        let out = &mut self.out;
        match tag {
            Tag::Break => out.push_break(),
            Tag::Rule => {
                out.flush();
                if matches!(out.flow(), Flow::Doc | Flow::Cell) {
                    out.push_block(json!({"type": "rule"}));
                }
            }
            Tag::Heading(level) => out.start_heading(id, level),
            Tag::Pre => out.start_code(id),
            Tag::List { ordered } if out.list_allowed() => {
                let order = e.attr("start").and_then(|s| s.trim().parse().ok());
                out.flush();
                out.ensure_flow();
                let order = order.unwrap_or(1);
                out.open(Kind::List { ordered, order }, Some(id));
            }
            Tag::Item => {
                out.close_implicit(|k| k == Kind::Item);
                if out.top_is(|k| matches!(k, Kind::List { .. })) {
                    out.open(Kind::Item, Some(id));
                } else {
                    out.flush();
                }
            }
            Tag::Quote if matches!(out.flow(), Flow::Doc | Flow::Cell) => {
                out.flush();
                out.ensure_flow();
                out.open(Kind::Quote, Some(id));
            }
            Tag::Table if out.flow() == Flow::Doc => out.open(Kind::Table, Some(id)),
            Tag::Row => {
                out.close_implicit(|k| matches!(k, Kind::Row | Kind::Cell { .. }));
                if out.top_is(|k| k == Kind::Table) {
                    out.open(Kind::Row, Some(id));
                } else {
                    out.flush();
                }
            }
            Tag::Cell { header } => {
                out.close_implicit(|k| matches!(k, Kind::Cell { .. }));
                if out.top_is(|k| k == Kind::Table) {
                    out.open(Kind::Row, None);
                }
                if out.top_is(|k| k == Kind::Row) {
                    let span = |name| {
                        e.attr(name)
                            .and_then(|s| s.trim().parse::<u32>().ok())
                            .map_or(1, |n| n.clamp(1, 1000))
                    };
                    let (colspan, rowspan) = (span("colspan"), span("rowspan"));
                    let cell = Kind::Cell {
                        header,
                        colspan,
                        rowspan,
                    };
                    out.open(cell, Some(id));
                } else {
                    out.flush();
                }
            }
            _ => out.flush(),
        }
        true
    }

    fn leave(&mut self, id: Id, e: &Elem) {
        let tag = classify(e);
        match tag {
            Tag::Hidden | Tag::Inline | Tag::Image | Tag::Break => return,
            Tag::Mark(m) => {
                self.marks[m as usize] = self.marks[m as usize].saturating_sub(1);
                return;
            }
            Tag::Anchor => return self.end_anchor(id),
            _ => {}
        }
        if self.out.end_code(id) {
            return;
        }
        if let Some(code) = self.out.code() {
            if !code.is_empty() && !code.ends_with('\n') {
                code.push('\n');
            }
            return;
        }
        match tag {
            Tag::Heading(_) => self.out.end_heading(id),
            Tag::List { .. }
            | Tag::Item
            | Tag::Quote
            | Tag::Table
            | Tag::Row
            | Tag::Cell { .. }
                if self.out.close(id) => {}
            _ => self.out.flush(),
        }
    }

    fn text(&mut self, t: &str) {
        if let Some(code) = self.out.code() {
            code.push_str(t);
            return;
        }
        if t.bytes().all(|b| b.is_ascii_whitespace())
            && self
                .out
                .top_is(|k| matches!(k, Kind::List { .. } | Kind::Table | Kind::Row))
        {
            return;
        }
        let marks = self.current_marks();
        let literal = self.links.last().is_some_and(|(_, _, literal)| *literal);
        if literal || marks.link.is_some() || marks.on[Mark::Code as usize] {
            return self.out.push_text(t, &marks);
        }
        self.text_with_refs(t, &marks);
    }
}
