//! Parsing with a cap on nesting depth.
//!
//! html5ever keeps no depth limit, and several of its steps scan the stack of open elements
//! (is a `p` in button scope? is this `li` open?), so each tag costs time in proportion to the
//! depth: 10,000 nested `<ul><li>` take seconds. Browsers cap the tree instead (Chromium at 512
//! levels). Here the tokenizer feeds the tree builder through [`Capped`], which drops start
//! tags once insertions reach [`MAX_DEPTH`] levels (and the end tags that match them), so
//! deeper content lands flat in the deepest element and parsing stays linear. Only structure
//! is lost: the text, and void elements such as `<img>` and `<br>`, still go through.

use std::cell::RefCell;

use html5ever::buffer_queue::BufferQueue;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts, create_element};
use html5ever::{LocalName, QualName, TokenizerResult, local_name, ns};

use super::dom::{Dom, Handle, Sink};

/// How deep elements nest before further start tags are dropped. Far beyond any real ADO
/// body, and the ADF output nests much less anyway (see [`super::build`]).
pub(super) const MAX_DEPTH: u32 = 128;

/// Parses `html` as the body of a document, the way a browser (and so ADO's own view) would,
/// with nesting capped at [`MAX_DEPTH`].
pub(super) fn parse(html: &str) -> Dom {
    let sink = Sink::new(html.len());
    let context = create_element(
        &sink,
        QualName::new(None, ns!(html), local_name!("body")),
        Vec::new(),
    );
    let builder = TreeBuilder::new_for_fragment(sink, context, None, TreeBuilderOpts::default());
    let opts = TokenizerOpts {
        initial_state: Some(builder.tokenizer_state_for_context_elem(false)),
        ..TokenizerOpts::default()
    };
    let tokenizer = Tokenizer::new(
        Capped {
            inner: builder,
            dropped: RefCell::new(Vec::new()),
        },
        opts,
    );
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    tokenizer.sink.inner.sink.into_dom()
}

/// Elements that never hold others: they cannot deepen the tree, so they always pass.
fn is_void(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("area")
            | local_name!("base")
            | local_name!("br")
            | local_name!("col")
            | local_name!("embed")
            | local_name!("hr")
            | local_name!("img")
            | local_name!("input")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("param")
            | local_name!("source")
            | local_name!("track")
            | local_name!("wbr")
    )
}

/// Elements whose content the tokenizer reads as raw text once the builder has seen the start
/// tag: they must pass, or their content would be parsed as markup (and they cannot nest).
fn is_raw_text(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("script")
            | local_name!("style")
            | local_name!("textarea")
            | local_name!("title")
            | local_name!("xmp")
            | local_name!("iframe")
            | local_name!("noembed")
            | local_name!("noframes")
            | local_name!("noscript")
            | local_name!("plaintext")
    )
}

/// A token sink that passes tokens to the tree builder, less the start tags past the cap.
struct Capped {
    inner: TreeBuilder<Handle, Sink>,
    /// Names of dropped start tags with how many of each still await their end tag.
    dropped: RefCell<Vec<(LocalName, usize)>>,
}

impl Capped {
    /// Whether to drop `tag`, keeping count so that the matching end tag is dropped too.
    fn drop_tag(&self, tag: &Tag) -> bool {
        let mut dropped = self.dropped.borrow_mut();
        let entry = dropped.iter_mut().find(|(n, _)| *n == tag.name);
        match tag.kind {
            TagKind::StartTag => {
                if is_void(&tag.name)
                    || is_raw_text(&tag.name)
                    || self.inner.sink.last_depth() < MAX_DEPTH
                {
                    return false;
                }
                match entry {
                    Some((_, n)) => *n += 1,
                    None => dropped.push((tag.name.clone(), 1)),
                }
                true
            }
            TagKind::EndTag => match entry {
                Some((_, n)) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            },
        }
    }
}

impl TokenSink for Capped {
    type Handle = Handle;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<Handle> {
        if let Token::TagToken(tag) = &token
            && self.drop_tag(tag)
        {
            return TokenSinkResult::Continue;
        }
        self.inner.process_token(token, line)
    }

    fn end(&self) {
        self.inner.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.inner
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}
