//! Splitting: every part valid and within the limit, together holding all the text in order.

use std::fmt::Write;

use proptest::prelude::*;
use serde_json::Value;

use super::{All, assert_valid, check, split_reference};
use crate::mapping::adf::text::text_len;
use crate::mapping::adf::{JIRA_TEXT_LIMIT, NoLinks, html_to_adf, split_doc};

/// The text of the leaves, with no line breaks between blocks (splitting adds those).
fn leaves(v: &Value, out: &mut String) {
    match v["type"].as_str() {
        Some("text") => out.push_str(v["text"].as_str().unwrap_or("")),
        Some("mention") => out.push_str(v["attrs"]["text"].as_str().unwrap_or("")),
        Some("inlineCard") => out.push_str(v["attrs"]["url"].as_str().unwrap_or("")),
        Some("hardBreak") => out.push('\n'),
        _ => {
            for c in v["content"].as_array().into_iter().flatten() {
                leaves(c, out);
            }
        }
    }
}

fn assert_split_ok(doc: &Value, max: usize) -> Vec<Value> {
    let parts = split_doc(doc, max);
    let (mut whole, mut joined) = (String::new(), String::new());
    leaves(doc, &mut whole);
    for part in &parts {
        assert_valid(part, "split part");
        assert!(
            text_len(part) <= max,
            "part of {} > {max}: {part:#}",
            text_len(part)
        );
        leaves(part, &mut joined);
    }
    assert_eq!(joined, whole);
    parts
}

/// A big body (about 700 × `n` characters of text): many paragraphs, one huge paragraph, a
/// huge code block, a long list, a long table, a long quote.
fn big_html(n: usize) -> String {
    let mut h = String::new();
    for i in 0..n {
        let _ = write!(h, "<p>Paragraph {i} with <b>bold</b> and #{i} text.</p>");
    }
    let _ = write!(h, "<p>{}</p>", "huge paragraph words ".repeat(10 * n));
    let _ = write!(h, "<pre>{}</pre>", "let x = 1;\n".repeat(13 * n));
    h.push_str("<ol start=\"5\">");
    for i in 0..7 * n {
        let _ = write!(h, "<li>item {i}<ul><li>sub {i}</li></ul></li>");
    }
    h.push_str("</ol><table><tr><th>a</th><th>b</th></tr>");
    for i in 0..7 * n {
        let _ = write!(h, "<tr><td>cell {i}</td><td>other {i}</td></tr>");
    }
    let _ = write!(
        h,
        "</table><blockquote>{}</blockquote>",
        "<p>quoted</p>".repeat(10 * n)
    );
    h
}

#[test]
fn a_big_document_splits_into_valid_parts_within_jiras_limit() {
    let doc = check(&big_html(300), &All).doc;
    assert!(text_len(&doc) > 3 * JIRA_TEXT_LIMIT);
    let parts = assert_split_ok(&doc, JIRA_TEXT_LIMIT);
    assert!(parts.len() >= 4, "{} parts", parts.len());
}

#[test]
fn small_limits_split_blocks_down_to_their_text() {
    let doc = check(&big_html(3), &NoLinks).doc;
    for max in [8, 13, 100, 1_000] {
        assert_split_ok(&doc, max);
    }
}

#[test]
fn ordered_list_parts_continue_the_numbering() {
    let doc = html_to_adf(
        "<ol start=\"3\"><li>aaaa</li><li>bbbb</li><li>cccc</li></ol>",
        &NoLinks,
    )
    .doc;
    let parts = assert_split_ok(&doc, 6);
    let orders: Vec<_> = parts
        .iter()
        .map(|p| p["content"][0]["attrs"]["order"].as_u64())
        .collect();
    assert_eq!(orders, vec![Some(3), Some(4), Some(5)]);
}

#[test]
fn a_document_within_the_limit_is_one_part_and_an_empty_one_stays_empty() {
    let doc = html_to_adf("<p>short</p>", &NoLinks).doc;
    assert_eq!(split_doc(&doc, JIRA_TEXT_LIMIT), vec![doc]);
    let empty = html_to_adf("", &NoLinks).doc;
    assert_eq!(split_doc(&empty, 10), vec![empty]);
}

/// Nested lists, quotes and tables whose lengths sit right at small limits: a list item that
/// fits exactly, one character over (the empty paragraph it may need first), an ordered list
/// that continues its numbering across parts.
fn nested_html() -> String {
    let mut h = String::from("<ol start=\"7\">");
    for i in 0..6 {
        let _ = write!(
            h,
            "<li>{}<ul><li>{}</li><li><ol><li>deep {i}</li></ol></li></ul></li>",
            "x".repeat(i),
            "y".repeat(6 - i)
        );
    }
    h.push_str("</ol><blockquote><ul><li>q</li><li>qq</li></ul><p>abcdefg</p></blockquote>");
    h.push_str("<table><tr><td><ul><li>cell list</li></ul></td><td>abcdefghij</td></tr></table>");
    h
}

#[test]
fn parts_are_those_of_the_copying_splitter_at_and_around_every_limit() {
    for html in [nested_html(), big_html(2)] {
        let doc = check(&html, &NoLinks).doc;
        let total = text_len(&doc);
        for max in (1..=total + 2).filter(|m| *m < 40 || m % 7 == 0 || *m + 2 >= total) {
            let parts = split_doc(&doc, max);
            assert_eq!(parts, split_reference::split_doc(&doc, max), "max {max}");
            if max >= 8 {
                assert_split_ok(&doc, max);
            }
        }
    }
}

#[test]
fn a_document_exactly_at_the_limit_is_one_part_and_one_over_is_two() {
    let doc = html_to_adf("<p>abcd</p><p>efg</p>", &NoLinks).doc;
    assert_eq!(text_len(&doc), 9);
    assert_eq!(split_doc(&doc, 9), vec![doc.clone()]);
    let parts = assert_split_ok(&doc, 8);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts.iter().map(text_len).collect::<Vec<_>>(), vec![5, 4]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_converted_document_splits_correctly(html in super::props::soup(), max in 8usize..200) {
        let doc = html_to_adf(&html, &NoLinks).doc;
        assert_split_ok(&doc, max);
    }

    #[test]
    fn any_converted_document_splits_as_the_copying_splitter_did(html in super::props::soup(), max in 1usize..120) {
        let doc = html_to_adf(&html, &NoLinks).doc;
        prop_assert_eq!(split_doc(&doc, max), split_reference::split_doc(&doc, max));
    }
}
