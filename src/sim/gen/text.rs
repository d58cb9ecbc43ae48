//! Titles, HTML descriptions and comment bodies with the constructs a converter to ADF must
//! handle: headings, nested lists, tables, code blocks, inline images, @mentions and `#id`
//! references. Sizes are lognormal (description median 2 KB, comment median 300 B).

use std::fmt::Write;

use rand::Rng;

use super::plan::Person;
use super::rng::{self, Stream};

const WORDS: [&str; 40] = [
    "checkout",
    "latency",
    "customer",
    "dashboard",
    "invoice",
    "token",
    "sync",
    "export",
    "retry",
    "cache",
    "payment",
    "profile",
    "search",
    "index",
    "timeout",
    "upload",
    "release",
    "rollback",
    "metrics",
    "alert",
    "the",
    "a",
    "when",
    "after",
    "should",
    "must",
    "fails",
    "returns",
    "shows",
    "with",
    "user",
    "admin",
    "report",
    "session",
    "queue",
    "worker",
    "schema",
    "migration",
    "flag",
    "page",
];

fn sentence(rng: &mut Stream, out: &mut String) {
    let n = rng.gen_range(6..16);
    for i in 0..n {
        let w = rng::pick(rng, &WORDS);
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
    }
    out.push_str(". ");
}

/// A title of 3–9 words.
pub fn title(rng: &mut Stream, kind: &str) -> String {
    let mut s = String::new();
    sentence(rng, &mut s);
    let words: Vec<&str> = s
        .trim_end_matches(". ")
        .split(' ')
        .take(rng.gen_range(3..10))
        .collect();
    format!("{kind}: {}", words.join(" "))
}

/// Everything a description may point at.
pub struct Context<'a> {
    /// The organization URL (for inline image links).
    pub org: &'a str,
    /// People to mention.
    pub people: &'a [Person],
    /// The highest work item id (for `#id` references).
    pub max_id: u64,
    /// Inline images: (GUID, file name).
    pub images: &'a [(String, String)],
}

fn mention(rng: &mut Stream, ctx: &Context, out: &mut String) {
    let p = rng::pick(rng, ctx.people);
    let _ = write!(
        out,
        "<a href=\"#\" data-vss-mention=\"version:2.0,{}\">@{}</a> ",
        p.id, p.name
    );
}

fn paragraph(rng: &mut Stream, ctx: &Context, out: &mut String) {
    out.push_str("<div>");
    for _ in 0..rng.gen_range(1..4) {
        sentence(rng, out);
        match rng.gen_range(0..8) {
            0 => mention(rng, ctx, out),
            1 => {
                let _ = write!(out, "See #{} ", rng.gen_range(1..=ctx.max_id.max(1)));
            }
            2 => out.push_str("<b>Important:</b> "),
            3 => out.push_str("<i>unverified</i> "),
            4 => out.push_str("<a href=\"https://wiki.contoso.example/runbook\">runbook</a> "),
            _ => {}
        }
    }
    out.push_str("</div>");
}

fn list(rng: &mut Stream, out: &mut String, depth: u32) {
    let tag = if rng.gen_bool(0.5) { "ul" } else { "ol" };
    let _ = write!(out, "<{tag}>");
    for _ in 0..rng.gen_range(2..5) {
        out.push_str("<li>");
        sentence(rng, out);
        if depth < 2 && rng.gen_bool(0.3) {
            list(rng, out, depth + 1);
        }
        out.push_str("</li>");
    }
    let _ = write!(out, "</{tag}>");
}

fn table(rng: &mut Stream, out: &mut String) {
    out.push_str("<table><tr><th>Step</th><th>Expected</th><th>Actual</th></tr>");
    for i in 0..rng.gen_range(2..6) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            rng::pick(rng, &WORDS),
            rng::pick(rng, &WORDS)
        );
    }
    out.push_str("</table>");
}

fn code(rng: &mut Stream, out: &mut String) {
    out.push_str("<pre><code>");
    for i in 0..rng.gen_range(2..8) {
        let _ = writeln!(
            out,
            "let {}_{i} = call(&amp;{}, {});",
            rng::pick(rng, &WORDS),
            rng::pick(rng, &WORDS),
            rng.gen_range(0..100)
        );
    }
    out.push_str("</code></pre>");
}

/// An HTML description of lognormal length (median 2 KB, p99 ≈ 64 KB, at most 256 KB).
pub fn description(rng: &mut Stream, ctx: &Context) -> String {
    let target = rng::lognormal(rng, 2_000.0, 1.49, 80.0, 256_000.0) as usize;
    let mut out = String::with_capacity(target + 512);
    let mut images = ctx.images.iter();
    while out.len() < target {
        match rng.gen_range(0..10) {
            0 => {
                let _ = write!(
                    out,
                    "<h{0}>{1}</h{0}>",
                    rng.gen_range(1..4),
                    rng::pick(rng, &WORDS)
                );
            }
            1 | 2 => list(rng, &mut out, 0),
            3 => table(rng, &mut out),
            4 => code(rng, &mut out),
            _ => paragraph(rng, ctx, &mut out),
        }
        if let Some((guid, name)) = images.next() {
            let _ = write!(
                out,
                "<div><img src=\"{}/_apis/wit/attachments/{guid}?fileName={name}\" alt=\"{name}\"></div>",
                ctx.org
            );
        }
    }
    for (guid, name) in images {
        let _ = write!(
            out,
            "<div><img src=\"{}/_apis/wit/attachments/{guid}?fileName={name}\"></div>",
            ctx.org
        );
    }
    out
}

/// A comment body of lognormal length (median 300 B, p99 ≈ 8 KB).
pub fn comment(rng: &mut Stream, ctx: &Context) -> String {
    let target = rng::lognormal(rng, 300.0, 1.41, 20.0, 32_000.0) as usize;
    let mut out = String::with_capacity(target + 256);
    while out.len() < target {
        if rng.gen_range(0..12) == 0 {
            list(rng, &mut out, 1);
        } else {
            paragraph(rng, ctx, &mut out);
        }
    }
    out
}
