//! Inline content being gathered: text with marks, collapsed as a browser shows it, and the
//! inline nodes between. Adjacent text with the same marks becomes one ADF text node.

use serde_json::{Value, json};

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
    for ch in src.chars() {
        if matches!(ch, ' ' | '\t' | '\n' | '\r' | '\x0c') {
            if !*space {
                dst.push(' ');
                *space = true;
            }
        } else {
            dst.push(ch);
            *space = false;
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
        self.items.push(if marks.is_empty() {
            json!({"type": "text", "text": text})
        } else {
            json!({"type": "text", "text": text, "marks": marks})
        });
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
    json!({"type": "paragraph", "content": []})
}
