//! Inline content being gathered: text with marks, collapsed as a browser shows it, and the
//! inline nodes between. Adjacent text with the same marks becomes one ADF text node.

use serde_json::{Map, Value, json};

use super::tags::{MARKS, Mark};

/// The marks in force on a piece of text.
#[derive(Clone, Default, PartialEq)]
pub(super) struct Marks {
    pub on: [bool; MARKS],
    pub link: Option<String>,
}

impl Marks {
    /// The marks as ADF; `code` may only be combined with `link`, so it wins over the others.
    fn to_json(&self) -> Vec<Value> {
        let on = |m: Mark| self.on[m as usize];
        let mut out = Vec::new();
        if on(Mark::Code) {
            out.push(json!({"type": "code"}));
        } else {
            for (m, t) in [
                (Mark::Strong, "strong"),
                (Mark::Em, "em"),
                (Mark::Underline, "underline"),
                (Mark::Strike, "strike"),
            ] {
                if on(m) {
                    out.push(json!({ "type": t }));
                }
            }
            if on(Mark::Sup) || on(Mark::Sub) {
                let t = if on(Mark::Sup) { "sup" } else { "sub" };
                out.push(json!({"type": "subsup", "attrs": {"type": t}}));
            }
        }
        if let Some(href) = &self.link {
            out.push(json!({"type": "link", "attrs": {"href": href}}));
        }
        out
    }
}

/// Appends `src` to `dst` with HTML whitespace collapsing: runs of ASCII whitespace become one
/// space, dropped when `space` says the output already ends in one (or is at a line start).
pub(super) fn collapse_into(dst: &mut String, space: &mut bool, src: &str) {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    let mut rest = src;
    while !rest.is_empty() {
        // Whitespace bytes are ASCII, so both cuts fall on character boundaries.
        let blank = rest.bytes().take_while(|b| is_space(*b)).count();
        if blank > 0 {
            if !*space {
                dst.push(' ');
                *space = true;
            }
            rest = &rest[blank..];
        }
        let word = rest.bytes().take_while(|b| !is_space(*b)).count();
        if word > 0 {
            dst.push_str(&rest[..word]);
            *space = false;
            rest = &rest[word..];
        }
    }
}

/// Inline content being gathered for the next paragraph or heading.
pub(super) struct Run {
    items: Vec<Value>,
    text: String,
    marks: Marks,
    /// At a line start or after a space: the next whitespace is dropped.
    space: bool,
    /// A `<br>` was seen, so an otherwise empty run is a deliberate blank line.
    pub blank: bool,
}

impl Default for Run {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            text: String::new(),
            marks: Marks::default(),
            space: true,
            blank: false,
        }
    }
}

impl Run {
    pub fn push_text(&mut self, s: &str, marks: &Marks) {
        if *marks != self.marks {
            let visible = s.chars().any(|c| !c.is_ascii_whitespace());
            if !visible && (self.space || s.is_empty()) {
                return;
            }
            self.flush_text();
            self.marks = marks.clone();
        }
        collapse_into(&mut self.text, &mut self.space, s);
    }

    fn flush_text(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        let marks = self.marks.to_json();
        self.items.push(text_node(text, marks));
    }

    pub fn push_node(&mut self, v: Value, space_after: bool) {
        self.flush_text();
        self.items.push(v);
        self.space = space_after;
    }

    /// The gathered inline nodes, trimmed; `None` when there is nothing to show.
    pub fn take(&mut self) -> Option<Vec<Value>> {
        if self.text.ends_with(' ') {
            self.text.pop();
        }
        self.flush_text();
        let mut run = std::mem::take(self);
        while run.items.last().is_some_and(|v| v["type"] == "hardBreak") {
            run.items.pop();
        }
        if let Some(Value::Object(last)) = run.items.last_mut()
            && let Some(Value::String(t)) = last.get_mut("text")
            && t.ends_with(' ')
        {
            t.pop();
            if t.is_empty() {
                run.items.pop();
            }
        }
        (!run.items.is_empty() || run.blank).then_some(run.items)
    }
}

/// An empty paragraph: a blank line, and the filler where ADF needs a paragraph first.
pub(super) fn empty_paragraph() -> Value {
    node("paragraph", Vec::new())
}

/// `{"type": kind, "content": content}`. Built by hand because `json!` would serialize a
/// copy of `content` rather than move it, which made building a document quadratic in depth.
pub(super) fn node(kind: &str, content: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(kind.into()));
    m.insert("content".into(), Value::Array(content));
    Value::Object(m)
}

/// A text node (`text` must not be empty), with its marks if any.
pub(super) fn text_node(text: String, marks: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String("text".into()));
    m.insert("text".into(), Value::String(text));
    if !marks.is_empty() {
        m.insert("marks".into(), Value::Array(marks));
    }
    Value::Object(m)
}
