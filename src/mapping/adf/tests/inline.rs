//! Inline constructs and ADO specifics: marks, links, mentions, references, images, stats.

use serde_json::{Value, json};

use super::{All, Half, check, content};
use crate::mapping::adf::NoLinks;

const GUID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const ORG: &str = "https://dev.azure.com/contoso";

fn para(inline: Value) -> Value {
    json!([{"type": "paragraph", "content": inline}])
}

fn text(t: &str) -> Value {
    json!({"type": "text", "text": t})
}

#[test]
fn each_mark_element_maps_to_its_adf_mark() {
    let cases = [
        ("b", json!({"type": "strong"})),
        ("strong", json!({"type": "strong"})),
        ("i", json!({"type": "em"})),
        ("em", json!({"type": "em"})),
        ("u", json!({"type": "underline"})),
        ("s", json!({"type": "strike"})),
        ("strike", json!({"type": "strike"})),
        ("del", json!({"type": "strike"})),
        ("code", json!({"type": "code"})),
        ("sub", json!({"type": "subsup", "attrs": {"type": "sub"}})),
        ("sup", json!({"type": "subsup", "attrs": {"type": "sup"}})),
    ];
    for (tag, mark) in cases {
        let got = content(&format!("<p>x<{tag}>y</{tag}></p>"));
        let want = para(json!([text("x"), {"type": "text", "text": "y", "marks": [mark]}]));
        assert_eq!(got, want, "<{tag}>");
    }
}

#[test]
fn code_mark_keeps_only_a_link_beside_it() {
    let got = content(
        "<p><b><i><code>f()</code></i></b> <a href=\"https://x.example/\"><code>g</code></a></p>",
    );
    let want = para(json!([
        {"type": "text", "text": "f()", "marks": [{"type": "code"}]},
        text(" "),
        {"type": "text", "text": "g", "marks": [
            {"type": "code"}, {"type": "link", "attrs": {"href": "https://x.example/"}}
        ]}
    ]));
    assert_eq!(got, want);
}

#[test]
fn web_links_become_link_marks_and_other_links_plain_text() {
    let got = content(
        "<p><a href=\"https://wiki.contoso.example/runbook\">runbook</a> \
         <a href=\"javascript:alert(1)\">js</a> <a href=\"#\">hash</a> <a>bare</a></p>",
    );
    let want = para(json!([
        {"type": "text", "text": "runbook", "marks": [
            {"type": "link", "attrs": {"href": "https://wiki.contoso.example/runbook"}}
        ]},
        text(" js hash bare")
    ]));
    assert_eq!(got, want);
}

#[test]
fn a_resolved_mention_becomes_a_mention_node() {
    let html = format!(
        "<div>Ping <a href=\"#\" data-vss-mention=\"version:2.0,{{{GUID}}}\">@Ada Lovelace</a> now</div>"
    );
    let out = check(&html, &All);
    let want = para(json!([
        text("Ping "),
        {"type": "mention", "attrs": {"id": format!("acct-{GUID}"), "text": "@Ada Lovelace"}},
        text(" now")
    ]));
    assert_eq!(out.doc["content"], want);
    assert_eq!(out.stats.mentions_resolved, 1);
    assert_eq!(out.stats.identities, vec![GUID.to_owned()]);
}

#[test]
fn an_unresolved_mention_keeps_its_text() {
    let html = format!(
        "<div><a href=\"#\" data-vss-mention=\"version:2.0,{GUID}\">@Ada Lovelace</a></div>"
    );
    let out = check(&html, &NoLinks);
    assert_eq!(out.doc["content"], para(json!([text("@Ada Lovelace")])));
    assert_eq!(out.stats.mentions_unresolved, 1);
    assert_eq!(out.stats.identities, vec![GUID.to_owned()]);
}

#[test]
fn work_item_references_become_inline_cards_where_resolved() {
    let html = "<div>See #12 and #35. Not C#7, a#1, #12abc, &amp;#9 or <code>#4</code>.</div>";
    let out = check(html, &Half);
    let want = para(json!([
        text("See "),
        {"type": "inlineCard", "attrs": {"url": "https://jira.test/browse/ADO-12"}},
        text(" and #35. Not C#7, a#1, #12abc, &#9 or "),
        {"type": "text", "text": "#4", "marks": [{"type": "code"}]},
        text(".")
    ]));
    assert_eq!(out.doc["content"], want);
    assert_eq!(out.stats.issue_refs_resolved, 1);
    assert_eq!(out.stats.issue_refs_unresolved, 1);
    assert_eq!(out.stats.work_items, vec![12, 35]);
}

#[test]
fn links_to_work_items_point_at_the_jira_issue_once_known() {
    let html = format!("<p><a href=\"{ORG}/Contoso/_workitems/edit/42\">Bug 42</a></p>");
    let link = |href: &str| {
        para(json!([{"type": "text", "text": "Bug 42", "marks": [
            {"type": "link", "attrs": {"href": href}}
        ]}]))
    };
    let out = check(&html, &All);
    assert_eq!(out.doc["content"], link("https://jira.test/browse/ADO-42"));
    assert_eq!(
        (out.stats.issue_refs_resolved, out.stats.work_items),
        (1, vec![42])
    );
    let out = check(&html, &NoLinks);
    assert_eq!(
        out.doc["content"],
        link(&format!("{ORG}/Contoso/_workitems/edit/42"))
    );
    assert_eq!(out.stats.issue_refs_unresolved, 1);
}

fn ado_image(alt: &str) -> String {
    format!(
        "<div><img src=\"{ORG}/_apis/wit/attachments/{GUID}?fileName=screen%20shot.png\"{alt}></div>"
    )
}

#[test]
fn a_resolved_ado_image_becomes_external_media() {
    let out = check(&ado_image(""), &All);
    let want = json!([{"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
        {"type": "media", "attrs": {
            "type": "external",
            "url": format!("https://jira.test/attachment/{GUID}"),
            "alt": "screen shot.png"
        }}
    ]}]);
    assert_eq!(out.doc["content"], want);
    assert_eq!(out.stats.images_resolved, 1);
    assert_eq!(out.stats.attachments, vec![GUID.to_owned()]);
}

#[test]
fn an_unresolved_image_becomes_a_placeholder_paragraph() {
    let out = check(&ado_image(""), &NoLinks);
    assert_eq!(
        out.doc["content"],
        para(json!([text("[image: screen shot.png]")]))
    );
    let out = check(&ado_image(" alt=\"The dialog\""), &NoLinks);
    assert_eq!(
        out.doc["content"],
        para(json!([text("[image: The dialog]")]))
    );
    let out = check("<p><img src=\"data:image/png;base64,AAAA\"></p>", &All);
    assert_eq!(out.doc["content"], para(json!([text("[image: image]")])));
    assert_eq!(out.stats.images_unresolved, 1);
    assert!(out.stats.attachments.is_empty());
}

#[test]
fn an_image_inside_text_splits_the_paragraph() {
    let got = content("<p>before <img src=\"https://cdn.example/x.png\"> after</p>");
    let want = json!([
        {"type": "paragraph", "content": [text("before")]},
        {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
            {"type": "media", "attrs": {"type": "external", "url": "https://cdn.example/x.png", "alt": "image"}}
        ]},
        {"type": "paragraph", "content": [text("after")]}
    ]);
    assert_eq!(got, want);
}

#[test]
fn referenced_ids_are_listed_once_each_in_order() {
    let m = |g: &str| format!("<a data-vss-mention=\"version:2.0,{g}\">@X</a>");
    let html = format!("<p>#9 #3 #9 {} {} {}</p>", m("b"), m("a"), m("b"));
    let out = check(&html, &NoLinks);
    assert_eq!(out.stats.work_items, vec![3, 9]);
    assert_eq!(out.stats.identities, vec!["a".to_owned(), "b".to_owned()]);
    assert_eq!(out.stats.issue_refs_unresolved, 3);
    assert_eq!(out.stats.mentions_unresolved, 3);
}
