//! What each HTML element means to the conversion. One table, shared by the converter and by
//! [`super::html_text`], so that both agree on where lines break.

use html5ever::local_name;

use super::dom::Elem;

/// A text mark an element turns on for its descendants.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Mark {
    Strong,
    Em,
    Underline,
    Strike,
    Code,
    Sub,
    Sup,
}

/// The number of [`Mark`] kinds (the size of a counter array indexed by `Mark as usize`).
pub(super) const MARKS: usize = 7;

/// The role of an element.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Tag {
    /// Not shown at all (script, style, head matter): skipped with its contents.
    Hidden,
    /// Shown inline; no effect of its own (span, font, unknown elements, `html`).
    Inline,
    /// Turns on a mark.
    Mark(Mark),
    /// `<a>`: a link, a mention, or a link to a work item.
    Anchor,
    /// `<br>`.
    Break,
    /// `<img>`.
    Image,
    /// `<hr>`.
    Rule,
    /// A block with no ADF node of its own (p, div, section, dt, thead …): a paragraph boundary.
    Block,
    /// h1–h6.
    Heading(u8),
    /// pre, listing, xmp, plaintext: preformatted text.
    Pre,
    /// ul/ol (and the old menu/dir).
    List { ordered: bool },
    /// li.
    Item,
    /// blockquote.
    Quote,
    /// table.
    Table,
    /// tr.
    Row,
    /// td or th.
    Cell { header: bool },
}

impl Tag {
    /// Whether the element starts and ends a line of visible text.
    pub fn breaks_line(self) -> bool {
        !matches!(self, Tag::Hidden | Tag::Inline | Tag::Mark(_) | Tag::Anchor)
    }
}

/// Classifies an element; elements outside the HTML namespace (inline SVG, MathML) are inline.
pub(super) fn classify(e: &Elem) -> Tag {
    let Some(name) = e.html_name() else {
        return Tag::Inline;
    };
    match *name {
        local_name!("script")
        | local_name!("style")
        | local_name!("template")
        | local_name!("title")
        | local_name!("head")
        | local_name!("noscript")
        | local_name!("noembed")
        | local_name!("noframes")
        | local_name!("iframe")
        | local_name!("object")
        | local_name!("meta")
        | local_name!("link") => Tag::Hidden,
        local_name!("b") | local_name!("strong") => Tag::Mark(Mark::Strong),
        local_name!("i") | local_name!("em") | local_name!("cite") | local_name!("var") => {
            Tag::Mark(Mark::Em)
        }
        local_name!("u") | local_name!("ins") => Tag::Mark(Mark::Underline),
        local_name!("s") | local_name!("strike") | local_name!("del") => Tag::Mark(Mark::Strike),
        local_name!("code") | local_name!("kbd") | local_name!("samp") | local_name!("tt") => {
            Tag::Mark(Mark::Code)
        }
        local_name!("sub") => Tag::Mark(Mark::Sub),
        local_name!("sup") => Tag::Mark(Mark::Sup),
        local_name!("a") => Tag::Anchor,
        local_name!("br") => Tag::Break,
        local_name!("img") => Tag::Image,
        local_name!("hr") => Tag::Rule,
        local_name!("h1") => Tag::Heading(1),
        local_name!("h2") => Tag::Heading(2),
        local_name!("h3") => Tag::Heading(3),
        local_name!("h4") => Tag::Heading(4),
        local_name!("h5") => Tag::Heading(5),
        local_name!("h6") => Tag::Heading(6),
        local_name!("pre")
        | local_name!("listing")
        | local_name!("xmp")
        | local_name!("plaintext") => Tag::Pre,
        local_name!("ul") | local_name!("menu") | local_name!("dir") => {
            Tag::List { ordered: false }
        }
        local_name!("ol") => Tag::List { ordered: true },
        local_name!("li") => Tag::Item,
        local_name!("blockquote") => Tag::Quote,
        local_name!("table") => Tag::Table,
        local_name!("tr") => Tag::Row,
        local_name!("td") => Tag::Cell { header: false },
        local_name!("th") => Tag::Cell { header: true },
        local_name!("p")
        | local_name!("div")
        | local_name!("address")
        | local_name!("article")
        | local_name!("aside")
        | local_name!("center")
        | local_name!("details")
        | local_name!("dialog")
        | local_name!("dd")
        | local_name!("dl")
        | local_name!("dt")
        | local_name!("fieldset")
        | local_name!("figcaption")
        | local_name!("figure")
        | local_name!("footer")
        | local_name!("form")
        | local_name!("header")
        | local_name!("hgroup")
        | local_name!("legend")
        | local_name!("main")
        | local_name!("nav")
        | local_name!("section")
        | local_name!("summary")
        | local_name!("caption")
        | local_name!("thead")
        | local_name!("tbody")
        | local_name!("tfoot")
        | local_name!("option")
        | local_name!("textarea") => Tag::Block,
        _ => Tag::Inline,
    }
}
