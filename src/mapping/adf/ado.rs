//! The ADO specifics of the conversion: `#1234` references, links to work items, mentions and
//! inline attachments, each made into what the [`Resolve`](super::Resolve)r decides.

use serde_json::json;

use super::convert::Converter;
use super::dom::{Dom, Elem, Id, Visit};
use super::run::{Marks, collapse_into, node, text_node};
use super::tags::{Tag, classify};

impl Converter<'_> {
    /// Pushes text, turning `#1234` work item references into inline cards where resolved.
    pub(super) fn text_with_refs(&mut self, t: &str, marks: &Marks) {
        let mut start = 0;
        let bytes = t.as_bytes();
        let mut i = 0;
        while let Some(off) = t[i..].find('#') {
            let at = i + off;
            i = at + 1;
            let boundary_before = at == 0 || {
                let b = bytes[at - 1];
                !(b.is_ascii_alphanumeric() || b >= 0x80 || b"#&/_-".contains(&b))
            };
            let Some((id, len)) = leading_id(&t[at + 1..]).filter(|_| boundary_before) else {
                continue;
            };
            let end = at + 1 + len;
            if bytes
                .get(end)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b >= 0x80)
            {
                continue;
            }
            self.stats.work_items.push(id);
            if let Some(url) = self.r.issue_url(id) {
                self.stats.issue_refs_resolved += 1;
                self.out.push_text(&t[start..at], marks);
                self.out
                    .push_inline(json!({"type": "inlineCard", "attrs": {"url": url}}));
                start = end;
            } else {
                self.stats.issue_refs_unresolved += 1;
            }
            i = end;
        }
        self.out.push_text(&t[start..], marks);
    }

    /// An `<a>`: a mention, a link, or neither; returns whether to descend into it.
    pub(super) fn start_anchor(&mut self, dom: &Dom, id: Id, e: &Elem) -> bool {
        if let Some(m) = e.attr("data-vss-mention")
            && self.out.code().is_none()
        {
            return self.mention(dom, id, m);
        }
        let href = e.attr("href").map(str::trim).unwrap_or("");
        let mut target = None;
        if let Some(rest) = after_ci(href, "/_workitems/edit/")
            && let Some((wi, _)) = leading_id(rest)
        {
            self.stats.work_items.push(wi);
            target = self.r.issue_url(wi);
            match target {
                Some(_) => self.stats.issue_refs_resolved += 1,
                None => self.stats.issue_refs_unresolved += 1,
            }
        }
        let safe = ["http://", "https://", "mailto:"]
            .iter()
            .any(|p| starts_with_ci(href, p));
        if target.is_none() && safe {
            target = Some(href.to_owned());
        }
        self.links.push((id, target, false));
        true
    }

    /// An ADO mention (`data-vss-mention="version:2.0,{guid}"`). Resolved, and holding only
    /// inline text, it becomes one `mention` node and its content is skipped; otherwise its
    /// content is read as ordinary text (no link, no `#id` cards).
    pub(super) fn mention(&mut self, dom: &Dom, id: Id, attr: &str) -> bool {
        let identity = attr.rsplit(',').next().unwrap_or("").trim();
        let identity = identity.trim_matches(|c| c == '{' || c == '}');
        let account = (!identity.is_empty())
            .then(|| self.r.account(identity))
            .flatten();
        if !identity.is_empty() {
            self.stats.identities.push(identity.to_owned());
        }
        let text = account.as_ref().and_then(|_| inline_text(dom, id));
        let (Some(account), Some(text)) = (account, text) else {
            self.stats.mentions_unresolved += 1;
            self.links.push((id, None, true));
            return true;
        };
        self.stats.mentions_resolved += 1;
        // Spaces at the anchor's edges separate words outside it: keep them as text.
        let marks = self.current_marks();
        if text.starts_with(' ') {
            self.out.push_text(" ", &marks);
        }
        let trimmed = text.trim_matches(' ');
        let mention = json!({"type": "mention", "attrs": {"id": account, "text": trimmed}});
        self.out.push_inline(mention);
        if text.ends_with(' ') {
            self.out.push_text(" ", &marks);
        }
        false
    }

    pub(super) fn end_anchor(&mut self, id: Id) {
        if self.links.last().is_some_and(|(owner, _, _)| *owner == id) {
            self.links.pop();
        }
    }

    /// An image: ADO attachments as the resolver says, other web images as they are, anything
    /// else (data URIs, relative paths) as a placeholder paragraph naming it.
    pub(super) fn image(&mut self, e: &Elem) {
        let src = e.attr("src").map(str::trim).unwrap_or("");
        let guid = after_ci(src, "/_apis/wit/attachments/")
            .map(|rest| rest.split(['?', '/', '#']).next().unwrap_or(""))
            .filter(|g| !g.is_empty());
        let file = src.split_once('?').and_then(|(_, query)| {
            query.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                k.eq_ignore_ascii_case("filename")
                    .then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy())
            })
        });
        let alt = e.attr("alt").map(str::trim).filter(|a| !a.is_empty());
        let name = alt
            .map(str::to_owned)
            .or(file.map(|f| f.into_owned()))
            .or(guid.map(str::to_owned))
            .unwrap_or_else(|| "image".to_owned());
        let url = match guid {
            Some(g) => {
                self.stats.attachments.push(g.to_owned());
                self.r.attachment_url(g)
            }
            None if starts_with_ci(src, "http://") || starts_with_ci(src, "https://") => {
                Some(src.to_owned())
            }
            None => None,
        };
        let block = match url {
            Some(url) => {
                self.stats.images_resolved += 1;
                let media = json!({"type": "media", "attrs": {"type": "external", "url": url, "alt": name}});
                let mut single = node("mediaSingle", vec![media]);
                single["attrs"] = json!({"layout": "center"});
                single
            }
            None => {
                self.stats.images_unresolved += 1;
                let text = format!("[image: {name}]");
                node("paragraph", vec![text_node(text, Vec::new())])
            }
        };
        self.out.push_block(block);
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The part of `s` after the first (ASCII case-insensitive) `marker`.
fn after_ci<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    let pos = s.to_ascii_lowercase().find(marker)?;
    s.get(pos + marker.len()..)
}

/// A number of 1–10 digits at the start of `s`, and its length.
fn leading_id(s: &str) -> Option<(u64, usize)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || n > 10 {
        return None;
    }
    s[..n].parse().ok().filter(|id| *id > 0).map(|id| (id, n))
}

/// The whitespace-collapsed text of element `id`, or `None` if it holds more than inline text
/// (a block, line break or image would have to be dropped or moved out of a mention node).
fn inline_text(dom: &Dom, id: Id) -> Option<String> {
    let (mut text, mut space, mut plain) = (String::new(), false, true);
    dom.walk(id, |v| match v {
        Visit::Enter(_, e) => match classify(e) {
            Tag::Hidden => false,
            t => {
                plain &= !t.breaks_line() && t != Tag::Anchor;
                plain
            }
        },
        Visit::Leave(..) => true,
        Visit::Text(t) => {
            collapse_into(&mut text, &mut space, t);
            true
        }
    });
    plain.then_some(text)
}
