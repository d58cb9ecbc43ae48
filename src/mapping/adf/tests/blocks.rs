//! Block constructs: the exact ADF each produces.

use serde_json::json;

use super::{All, check, content};
use crate::mapping::adf::{NoLinks, html_to_adf};

fn para(text: &str) -> serde_json::Value {
    json!({"type": "paragraph", "content": [{"type": "text", "text": text}]})
}

fn empty() -> serde_json::Value {
    json!({"type": "paragraph", "content": []})
}

fn item(blocks: serde_json::Value) -> serde_json::Value {
    json!({"type": "listItem", "content": blocks})
}

#[test]
fn empty_or_blank_input_gives_an_empty_document() {
    for html in ["", "  \n\t ", "<div></div>", "<!-- nothing -->", "<p> </p>"] {
        let out = check(html, &NoLinks);
        assert_eq!(
            out.doc,
            json!({"type": "doc", "version": 1, "content": []}),
            "{html:?}"
        );
        assert_eq!(out.stats.text_chars, 0);
    }
}

#[test]
fn paragraphs_collapse_whitespace_like_a_browser() {
    let got = content("<p>  Hello \n  <b>big</b>\n world </p>\n<div>Second</div>text after");
    let want = json!([
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Hello "},
            {"type": "text", "text": "big", "marks": [{"type": "strong"}]},
            {"type": "text", "text": " world"}
        ]},
        para("Second"),
        para("text after")
    ]);
    assert_eq!(got, want);
}

#[test]
fn br_is_a_hard_break_and_a_block_of_only_br_is_a_blank_line() {
    let got = content("<div>one<br>two<br></div><div><br></div><div>three</div>");
    let want = json!([
        {"type": "paragraph", "content": [
            {"type": "text", "text": "one"},
            {"type": "hardBreak"},
            {"type": "text", "text": "two"}
        ]},
        empty(),
        para("three")
    ]);
    assert_eq!(got, want);
}

#[test]
fn headings_keep_their_level() {
    for level in 1..=6 {
        let got = content(&format!("<h{level}>Title <i>it</i></h{level}>"));
        let want = json!([{"type": "heading", "attrs": {"level": level}, "content": [
            {"type": "text", "text": "Title "},
            {"type": "text", "text": "it", "marks": [{"type": "em"}]}
        ]}]);
        assert_eq!(got, want);
    }
}

#[test]
fn pre_becomes_a_code_block_of_the_raw_text() {
    let got =
        content("<pre><code>let a = call(&amp;b,  1);\n  <b>let</b> c = 2;<br>end\n</code></pre>");
    let text = "let a = call(&b,  1);\n  let c = 2;\nend";
    assert_eq!(
        got,
        json!([{"type": "codeBlock", "content": [{"type": "text", "text": text}]}])
    );
}

#[test]
fn nested_lists_nest_and_ol_start_becomes_order() {
    let got = content("<ul><li>a<ol start=\"3\"><li>b</li></ol></li><li>c</li></ul>");
    let want = json!([{"type": "bulletList", "content": [
        item(json!([para("a"), {"type": "orderedList", "attrs": {"order": 3}, "content": [
            item(json!([para("b")]))
        ]}])),
        item(json!([para("c")]))
    ]}]);
    assert_eq!(got, want);
}

#[test]
fn a_list_directly_inside_a_list_joins_the_previous_item() {
    let got = content("<ul><li>a</li><ul><li>b</li></ul><li>c</li></ul>");
    let want = json!([{"type": "bulletList", "content": [
        item(json!([para("a"), {"type": "bulletList", "content": [item(json!([para("b")]))]}])),
        item(json!([para("c")]))
    ]}]);
    assert_eq!(got, want);
}

#[test]
fn a_list_item_always_starts_with_a_paragraph() {
    let got = content("<ol><li><ul><li>x</li></ul></li><li></li></ol>");
    let want = json!([{"type": "orderedList", "attrs": {"order": 1}, "content": [
        item(json!([empty(), {"type": "bulletList", "content": [item(json!([para("x")]))]}])),
        item(json!([empty()]))
    ]}]);
    assert_eq!(got, want);
}

#[test]
fn tables_keep_header_cells_spans_and_empty_cells() {
    let html = "<table><thead><tr><th>Step</th><th>Expected</th></tr></thead>\
        <tbody><tr><td>1</td><td></td></tr><tr><td colspan=\"2\">both</td></tr></tbody></table>";
    let cell = |t: &str, blocks| json!({"type": t, "content": blocks});
    let want = json!([{"type": "table", "content": [
        {"type": "tableRow", "content": [
            cell("tableHeader", json!([para("Step")])),
            cell("tableHeader", json!([para("Expected")]))
        ]},
        {"type": "tableRow", "content": [
            cell("tableCell", json!([para("1")])),
            cell("tableCell", json!([empty()]))
        ]},
        {"type": "tableRow", "content": [
            {"type": "tableCell", "attrs": {"colspan": 2}, "content": [para("both")]}
        ]}
    ]}]);
    assert_eq!(content(html), want);
}

#[test]
fn blockquote_and_hr_map_to_blockquote_and_rule() {
    let got = content("<blockquote><p>quoted</p>more</blockquote><hr><p>after</p>");
    let want = json!([
        {"type": "blockquote", "content": [para("quoted"), para("more")]},
        {"type": "rule"},
        para("after")
    ]);
    assert_eq!(got, want);
}

#[test]
fn nestings_adf_forbids_flatten_into_their_content() {
    // A heading, quote, table and rule inside a list item.
    let got = content(
        "<ul><li><h2>h</h2><blockquote>q</blockquote><table><tr><td>t</td></tr></table><hr></li></ul>",
    );
    let want = json!([{"type": "bulletList", "content": [
        item(json!([para("h"), para("q"), para("t")]))
    ]}]);
    assert_eq!(got, want);
    // A quote in a quote, a table in a table.
    let got = content("<blockquote>a<blockquote>b</blockquote></blockquote>");
    assert_eq!(
        got,
        json!([{"type": "blockquote", "content": [para("a"), para("b")]}])
    );
    let got =
        content("<table><tr><td>a<table><tr><td>b</td><td>c</td></tr></table></td></tr></table>");
    let want = json!([{"type": "table", "content": [{"type": "tableRow", "content": [
        {"type": "tableCell", "content": [para("a"), para("b"), para("c")]}
    ]}]}]);
    assert_eq!(got, want);
}

#[test]
fn lists_deeper_than_the_limit_become_paragraphs_in_the_deepest_item() {
    let html = format!("{}x{}", "<ul><li>".repeat(8), "</li></ul>".repeat(8));
    let doc = check(&html, &All).doc;
    let mut depth = 0;
    let mut node = &doc["content"][0];
    while node["type"] == "bulletList" {
        depth += 1;
        let last = node["content"][0]["content"].as_array().unwrap();
        node = last.last().unwrap();
    }
    assert_eq!(depth, crate::mapping::adf::build::MAX_LIST_DEPTH);
    assert_eq!(node, &para("x"));
}

#[test]
fn malformed_html_is_repaired_as_a_browser_would() {
    let got = content("<ul><li>a<li>b</ul><p>c<p>d");
    let want = json!([
        {"type": "bulletList", "content": [item(json!([para("a")])), item(json!([para("b")]))]},
        para("c"),
        para("d")
    ]);
    assert_eq!(got, want);
    let got = content("<b>a<i>b</b>c</i>");
    let want = json!([{"type": "paragraph", "content": [
        {"type": "text", "text": "a", "marks": [{"type": "strong"}]},
        {"type": "text", "text": "b", "marks": [{"type": "strong"}, {"type": "em"}]},
        {"type": "text", "text": "c", "marks": [{"type": "em"}]}
    ]}]);
    assert_eq!(got, want);
}

#[test]
fn hidden_elements_are_left_out() {
    let got = content("<style>p{}</style><p>a<script>alert(1)</script>b</p><template>t</template>");
    assert_eq!(got, json!([para("ab")]));
}

#[test]
fn stats_count_the_text_of_the_result() {
    let out = html_to_adf("<p>ab</p><ul><li>c<br>d</li></ul>", &NoLinks);
    // "ab\n" + "c\nd\n"
    assert_eq!(out.stats.text_chars, 7);
}
