//! The output side of the conversion: a stack of open ADF containers, each gathering a run of
//! inline content, and the rules that keep every container's content valid under the schema.
//!
//! The stack, not the HTML, decides the ADF nesting, so it stays shallow whatever the input:
//! a table opens only at the top level, a quote only at the top level or in a cell, lists only
//! [`MAX_LIST_DEPTH`] deep; anything else that would nest becomes a paragraph boundary.

use serde_json::{Value, json};

use super::dom::Id;
use super::run::{Marks, Run, empty_paragraph, node, text_node};

/// How deep lists nest before deeper lists become paragraphs in the deepest item. Jira's
/// editor indents lists at most six levels, so deeper ones would not render as lists anyway.
pub(super) const MAX_LIST_DEPTH: usize = 6;

/// An open ADF container.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Doc,
    List {
        ordered: bool,
        order: u32,
    },
    Item,
    Quote,
    Table,
    Row,
    Cell {
        header: bool,
        colspan: u32,
        rowspan: u32,
    },
}

/// The innermost container that blocks and text land in (a list's item, a table's cell).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Flow {
    Doc,
    Item,
    Quote,
    Cell,
}

/// An open container with its finished blocks and its pending inline run.
struct Open {
    kind: Kind,
    /// The element that opened it; `None` for containers opened to hold stray content.
    owner: Option<Id>,
    content: Vec<Value>,
    run: Run,
    /// The heading the run belongs to (its element and level), if any.
    heading: Option<(Id, u8)>,
    /// Preformatted text being gathered for a code block (its element and text), if any.
    code: Option<(Id, String)>,
}

impl Open {
    fn new(kind: Kind, owner: Option<Id>) -> Self {
        Self {
            kind,
            owner,
            content: Vec::new(),
            run: Run::default(),
            heading: None,
            code: None,
        }
    }

    /// Ends the pending run (and code) as blocks of this container.
    fn flush(&mut self) {
        if let Some(items) = self.run.take() {
            self.content.push(match self.heading {
                Some((_, level)) => {
                    let mut heading = node("heading", items);
                    heading["attrs"] = json!({ "level": level });
                    heading
                }
                None => node("paragraph", items),
            });
        }
        if let Some((_, code)) = &mut self.code {
            let text = code.trim_end_matches('\n');
            if !text.is_empty() {
                let block = node("codeBlock", vec![text_node(text.to_owned(), Vec::new())]);
                self.content.push(block);
            }
            code.clear();
        }
    }

    /// The finished ADF node, or `None` where an empty one would be invalid and mean nothing.
    fn into_value(mut self) -> Option<Value> {
        self.flush();
        let mut content = self.content;
        Some(match self.kind {
            Kind::Doc => {
                let mut doc = node("doc", content);
                doc["version"] = json!(1);
                doc
            }
            _ if content.is_empty() && !matches!(self.kind, Kind::Item | Kind::Cell { .. }) => {
                return None;
            }
            Kind::List { ordered: false, .. } => node("bulletList", content),
            Kind::List { order, .. } => {
                let mut list = node("orderedList", content);
                list["attrs"] = json!({ "order": order });
                list
            }
            Kind::Item => {
                if content.first().is_none_or(|b| b["type"] != "paragraph") {
                    content.insert(0, empty_paragraph());
                }
                node("listItem", content)
            }
            Kind::Quote => node("blockquote", content),
            Kind::Table => node("table", content),
            Kind::Row => node("tableRow", content),
            Kind::Cell {
                header,
                colspan,
                rowspan,
            } => {
                if content.is_empty() {
                    content.push(empty_paragraph());
                }
                let t = if header { "tableHeader" } else { "tableCell" };
                let mut cell = node(t, content);
                if colspan > 1 || rowspan > 1 {
                    cell["attrs"] = json!({});
                    if colspan > 1 {
                        cell["attrs"]["colspan"] = json!(colspan);
                    }
                    if rowspan > 1 {
                        cell["attrs"]["rowspan"] = json!(rowspan);
                    }
                }
                cell
            }
        })
    }
}

/// The stack of open containers; the document is always at the bottom.
pub(super) struct Out {
    doc: Open,
    stack: Vec<Open>,
    lists: usize,
}

impl Out {
    pub fn new() -> Self {
        Self {
            doc: Open::new(Kind::Doc, None),
            stack: Vec::new(),
            lists: 0,
        }
    }

    fn top(&mut self) -> &mut Open {
        self.stack.last_mut().unwrap_or(&mut self.doc)
    }

    fn top_kind(&self) -> Kind {
        self.stack.last().map_or(Kind::Doc, |o| o.kind)
    }

    fn top_is_implicit(&self, kind: fn(Kind) -> bool) -> bool {
        self.stack
            .last()
            .is_some_and(|o| o.owner.is_none() && kind(o.kind))
    }

    /// Where content would land now.
    pub fn flow(&self) -> Flow {
        match self.top_kind() {
            Kind::Doc => Flow::Doc,
            Kind::List { .. } | Kind::Item => Flow::Item,
            Kind::Quote => Flow::Quote,
            Kind::Table | Kind::Row | Kind::Cell { .. } => Flow::Cell,
        }
    }

    /// Ends the current paragraph, heading part or code block.
    pub fn flush(&mut self) {
        self.top().flush();
    }

    /// Makes the top container one that holds blocks and text: stray content in a list joins
    /// its last item (or a new one); in a table or row it gets a row and a cell.
    pub fn ensure_flow(&mut self) {
        loop {
            match self.top_kind() {
                Kind::List { .. } => {
                    let top = self.top();
                    let mut item = Open::new(Kind::Item, None);
                    if top.content.last().is_some_and(|v| v["type"] == "listItem")
                        && let Some(Value::Object(mut last)) = top.content.pop()
                        && let Some(Value::Array(c)) = last.remove("content")
                    {
                        item.content = c;
                    }
                    self.stack.push(item);
                }
                Kind::Table => self.open(Kind::Row, None),
                Kind::Row => self.open(
                    Kind::Cell {
                        header: false,
                        colspan: 1,
                        rowspan: 1,
                    },
                    None,
                ),
                _ => return,
            }
        }
    }

    /// Opens a container, ending the parent's pending run first.
    pub fn open(&mut self, kind: Kind, owner: Option<Id>) {
        self.flush();
        if matches!(kind, Kind::List { .. }) {
            self.lists += 1;
        }
        self.stack.push(Open::new(kind, owner));
    }

    /// Whether another list may open here.
    pub fn list_allowed(&self) -> bool {
        self.lists < MAX_LIST_DEPTH
    }

    fn pop(&mut self) {
        let Some(open) = self.stack.pop() else { return };
        if matches!(open.kind, Kind::List { .. }) {
            self.lists -= 1;
        }
        if let Some(v) = open.into_value() {
            self.top().content.push(v);
        }
    }

    /// Closes the container `owner` opened, with any opened inside it; false if it opened none.
    pub fn close(&mut self, owner: Id) -> bool {
        let Some(pos) = self.stack.iter().rposition(|o| o.owner == Some(owner)) else {
            return false;
        };
        while self.stack.len() > pos {
            self.pop();
        }
        true
    }

    /// Closes an item, row or cell that was opened only to hold stray content, so an explicit
    /// one can take its place.
    pub fn close_implicit(&mut self, kind: fn(Kind) -> bool) {
        while self.top_is_implicit(kind) {
            self.pop();
        }
    }

    /// Whether the top container is of a kind.
    pub fn top_is(&self, kind: fn(Kind) -> bool) -> bool {
        kind(self.top_kind())
    }

    /// Adds a finished block where content lands now.
    pub fn push_block(&mut self, v: Value) {
        self.flush();
        self.ensure_flow();
        self.top().content.push(v);
    }

    /// Adds text with marks to the current run.
    pub fn push_text(&mut self, s: &str, marks: &Marks) {
        self.ensure_flow();
        self.top().run.push_text(s, marks);
    }

    /// Adds an inline node (mention, card) to the current run.
    pub fn push_inline(&mut self, v: Value) {
        self.ensure_flow();
        self.top().run.push_node(v, false);
    }

    /// Adds a hard break to the current run.
    pub fn push_break(&mut self) {
        self.ensure_flow();
        let run = &mut self.top().run;
        run.push_node(json!({"type": "hardBreak"}), true);
        run.blank = true;
    }

    /// Starts a heading where headings are allowed; elsewhere its text becomes a paragraph.
    pub fn start_heading(&mut self, owner: Id, level: u8) {
        self.flush();
        if matches!(self.flow(), Flow::Doc | Flow::Cell) {
            self.ensure_flow();
            self.top().heading = Some((owner, level));
        }
    }

    /// Ends the heading `owner` started, if any.
    pub fn end_heading(&mut self, owner: Id) {
        self.flush();
        for open in self.stack.iter_mut().rev().chain([&mut self.doc]) {
            if open.heading.is_some_and(|(id, _)| id == owner) {
                open.heading = None;
            }
        }
    }

    /// Starts gathering preformatted text.
    pub fn start_code(&mut self, owner: Id) {
        self.flush();
        self.ensure_flow();
        self.top().code = Some((owner, String::new()));
    }

    /// The code being gathered, if the top container is in preformatted text.
    pub fn code(&mut self) -> Option<&mut String> {
        self.top().code.as_mut().map(|(_, s)| s)
    }

    /// Ends the preformatted text `owner` started; false if it started none.
    pub fn end_code(&mut self, owner: Id) -> bool {
        let top = self.top();
        if top.code.as_ref().is_none_or(|(id, _)| *id != owner) {
            return false;
        }
        top.flush();
        top.code = None;
        true
    }

    /// Closes everything and returns the document.
    pub fn finish(mut self) -> Value {
        while !self.stack.is_empty() {
            self.pop();
        }
        self.doc
            .into_value()
            .unwrap_or_else(|| json!({"type": "doc", "version": 1, "content": []}))
    }
}
