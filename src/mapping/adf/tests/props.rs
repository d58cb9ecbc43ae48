//! Properties every input must have: no panic, schema-valid, text kept, bounded depth.

use proptest::prelude::*;
use serde_json::Value;

use super::{All, Half, check, text_kept};
use crate::mapping::adf::{NoLinks, Resolve, html_to_adf};

/// Pieces of tag soup: tags with and without their ends, attributes, entities good and bad,
/// ADO constructs, and text with whitespace and non-ASCII. No `[`: the placeholder marker.
const ALPHABET: &[&str] = &[
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<br>",
    "<br/>",
    "<b>",
    "</b>",
    "<strong>",
    "<i>",
    "</i>",
    "<em>",
    "<u>",
    "</u>",
    "<s>",
    "<del>",
    "</s>",
    "<code>",
    "</code>",
    "<sub>",
    "<sup>",
    "</sup>",
    "<span style=\"x\">",
    "</span>",
    "<pre>",
    "</pre>",
    "<ul>",
    "</ul>",
    "<ol start=\"0\">",
    "<ol start=\"x\">",
    "</ol>",
    "<li>",
    "</li>",
    "<table>",
    "</table>",
    "<thead>",
    "<tbody>",
    "<caption>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    "<th colspan=\"2\">",
    "<td rowspan=9999999>",
    "</th>",
    "<blockquote>",
    "</blockquote>",
    "<hr>",
    "<h1>",
    "</h1>",
    "<h3>",
    "</h2>",
    "<h7>",
    "<a href=\"https://x.example/a?b=1&amp;c\">",
    "<a href=\"javascript:x()\">",
    "<a href=\"#\">",
    "<a href=\"https://dev.azure.com/c/P/_workitems/edit/77\">",
    "</a>",
    "<a href=\"#\" data-vss-mention=\"version:2.0,guid-2\">",
    "<a data-vss-mention=\"\">",
    "<a href=\"#\" data-vss-mention=\"version:2.0,{guid-1}\">@Ann Lee</a>",
    "<img src=\"https://dev.azure.com/c/_apis/wit/attachments/ab12?fileName=shot.png\">",
    "<img src=\"https://dev.azure.com/c/_apis/wit/attachments/cd13\" alt=\"x y\">",
    "<img src=\"data:image/png;base64,AA\">",
    "<img>",
    "<img src=\"https://cdn.example/i.gif\">",
    "<script>var a = '<p>';</script>",
    "<style>p{}</style>",
    "<!-- c -->",
    "<!--",
    "<title>t</title>",
    "<textarea>",
    "<select><option>o",
    "<svg><title>s</title></svg>",
    "<template>x</template>",
    "&amp;",
    "&lt;b&gt;",
    "&nbsp;",
    "&#x1F600;",
    "&#0;",
    "&bogus;",
    "&",
    "<",
    ">",
    "<h1",
    "</",
    "<div",
    "\"",
    "'",
    "=",
    "#12",
    " #345 ",
    "C#7",
    "#0",
    "#99999999999",
    "@Bob",
    "word",
    "ünïcödé",
    "日本語",
    "\u{200b}",
    "\t",
    "\n",
    "  ",
    " ",
    "\r\n",
    "\u{a0}",
    "a\u{0}b",
];

pub(super) fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..60).prop_map(|v| v.concat())
}

fn resolver(pick: u8) -> &'static dyn Resolve {
    match pick % 3 {
        0 => &NoLinks,
        1 => &Half,
        _ => &All,
    }
}

/// The deepest nesting of JSON arrays and objects in `v`.
fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|c| (c, d + 1))),
            _ => {}
        }
    }
    max
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tag_soup_converts_to_valid_adf_keeping_the_text(html in soup(), pick in any::<u8>()) {
        check(&html, resolver(pick));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_convert_to_valid_adf_keeping_the_text(s in any::<String>()) {
        check(&s, &All);
    }

    #[test]
    fn arbitrary_strings_in_markup_convert_to_valid_adf(s in "\\PC{0,40}", t in soup()) {
        check(&format!("<ul><li>{s}<table><tr><td>{t}</td></tr></table>{s}</li></ul>"), &Half);
    }
}

#[test]
fn the_text_check_can_fail() {
    let html = "<p>alpha beta</p><p>gamma</p>";
    let mut doc = html_to_adf(html, &NoLinks).doc;
    assert!(text_kept(html, &doc).is_ok());
    doc["content"][0]["content"][0]["text"] = "alpha".into();
    assert!(
        text_kept(html, &doc).is_err(),
        "a lost word must be noticed"
    );
    doc["content"][0]["content"][0]["text"] = "gamma alpha beta".into();
    doc["content"][1]["content"][0]["text"] = "x".into();
    assert!(text_kept(html, &doc).is_err(), "moved text must be noticed");
}

#[test]
fn ten_thousand_nested_elements_neither_overflow_nor_nest_deeply() {
    const N: usize = 10_000;
    let cases = [
        ("<div>", "</div>"),
        ("<ul><li>", "</li></ul>"),
        ("<b><i>", "</i></b>"),
        ("<blockquote>", "</blockquote>"),
        ("<table><tr><td>", "</td></tr></table>"),
        ("<span>", "</span>"),
    ];
    for (open, close) in cases {
        let closed = format!("{}deep{}", open.repeat(N), close.repeat(N));
        let unclosed = format!("{}deep", open.repeat(N));
        for html in [closed, unclosed] {
            let out = check(&html, &All);
            assert!(depth(&out.doc) < 64, "{open}: depth {}", depth(&out.doc));
        }
    }
}
