//! Every description, repro steps and comment of generated workload S (1,000 items; M with
//! `FERRY_ADF_ITEMS=10000`) converts to valid ADF with its text kept, and the ids it
//! references are found.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::Value;

use super::{Half, check};
use crate::mapping::adf::{NoLinks, html_to_adf};
use crate::sim::r#gen::{GenOptions, generate_string};

/// The HTML bodies of a generated dataset: descriptions, repro steps, then comments.
fn bodies(items: usize, seed: u64) -> Vec<String> {
    let (json, _) = generate_string(&GenOptions::new(items, seed)).unwrap();
    let data: Value = serde_json::from_str(&json).unwrap();
    let mut out = Vec::new();
    for project in data["projects"].as_array().unwrap() {
        for wi in project["workItems"].as_array().unwrap() {
            for field in ["System.Description", "Microsoft.VSTS.TCM.ReproSteps"] {
                if let Some(html) = wi["fields"][field].as_str() {
                    out.push(html.to_owned());
                }
            }
        }
        for comments in project["comments"].as_object().unwrap().values() {
            for c in comments.as_array().unwrap() {
                out.push(c["text"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// Workload S by default; `FERRY_ADF_ITEMS=10000` checks workload M (use `--release`).
#[test]
fn every_body_of_workload_s_converts_to_valid_adf_keeping_its_text() {
    let items = std::env::var("FERRY_ADF_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let bodies = bodies(items, 42);
    assert!(bodies.len() > 2_000, "{} bodies", bodies.len());
    let (mut mentions, mut refs, mut images) = (0, 0, 0);
    let mut identities = BTreeSet::new();
    for html in &bodies {
        let s = check(html, &Half).stats;
        mentions += s.mentions_resolved + s.mentions_unresolved;
        refs += s.issue_refs_resolved + s.issue_refs_unresolved;
        images += s.images_resolved + s.images_unresolved;
        identities.extend(s.identities);
        // Everything the generator references is an ADO id the transform must plan for.
        assert_eq!(s.images_resolved + s.images_unresolved, s.attachments.len());
    }
    assert!(
        mentions > 0 && refs > 0 && images > 0,
        "{mentions} {refs} {images}"
    );
    assert!(identities.len() > 1);
    println!(
        "{} bodies of {items} items: valid ADF with all their text; {mentions} mentions, \
         {refs} #id references, {images} images",
        bodies.len()
    );
}

/// Throughput in the build at hand, of parsing alone and of the whole conversion; meaningful
/// with `--release`.
#[test]
#[ignore = "timing; run with --release --ignored"]
fn workload_s_throughput() {
    let bodies = bodies(1_000, 42);
    let bytes: usize = bodies.iter().map(String::len).sum();
    let descriptions = 1_000;
    let time = |what: &str, f: &dyn Fn(&str) -> usize| {
        let start = Instant::now();
        let n: usize = bodies.iter().map(|b| f(b)).sum();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{what}: {} bodies ({descriptions} items), {:.1} MB in {secs:.3} s: \
             {:.0} items/s, {:.1} MB/s ({n})",
            bodies.len(),
            bytes as f64 / 1e6,
            descriptions as f64 / secs,
            bytes as f64 / 1e6 / secs
        );
    };
    for _ in 0..2 {
        time("parse", &|h| {
            let dom = crate::mapping::adf::depth::parse(h);
            let mut n = 0;
            dom.walk(crate::mapping::adf::dom::ROOT, |_| {
                n += 1;
                true
            });
            n
        });
        time("html_to_adf", &|h| {
            html_to_adf(h, &NoLinks).stats.text_chars
        });
    }
}
