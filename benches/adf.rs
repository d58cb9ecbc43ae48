//! HTML → ADF over the bodies of generated workload S (descriptions, repro steps, comments):
//! per body and per item (an item's description + repro steps + comments).
//! `cargo bench --bench adf -- --warm-up-time 1 --measurement-time 5`

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferry::{
    mapping::adf::{NoLinks, html_to_adf},
    sim::r#gen::{GenOptions, generate_string},
};
use serde_json::Value;

/// The HTML bodies of a generated dataset, grouped per item: description, repro steps, then
/// its comments (as the migration converts them).
fn bodies(items: usize, seed: u64) -> Vec<Vec<String>> {
    let (json, _) = generate_string(&GenOptions::new(items, seed)).expect("generate");
    let data: Value = serde_json::from_str(&json).expect("json");
    let mut out = Vec::new();
    for project in data["projects"].as_array().expect("projects") {
        let comments = project["comments"].as_object().expect("comments");
        for wi in project["workItems"].as_array().expect("items") {
            let mut item = Vec::new();
            for field in ["System.Description", "Microsoft.VSTS.TCM.ReproSteps"] {
                if let Some(html) = wi["fields"][field].as_str() {
                    item.push(html.to_owned());
                }
            }
            let id = wi["id"].to_string();
            for c in comments
                .get(&id)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                item.push(c["text"].as_str().unwrap_or_default().to_owned());
            }
            out.push(item);
        }
    }
    out
}

fn adf(c: &mut Criterion) {
    let items = bodies(1_000, 42);
    let flat: Vec<&String> = items.iter().flatten().collect();
    let bytes: usize = flat.iter().map(|b| b.len()).sum();
    eprintln!(
        "workload S: {} items, {} bodies, {bytes} bytes of HTML",
        items.len(),
        flat.len()
    );
    let mut g = c.benchmark_group("html_to_adf");
    g.sample_size(10);
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("workload_s_items", |b| {
        b.iter(|| {
            let mut n = 0;
            for body in &flat {
                n += html_to_adf(body, &NoLinks).stats.text_chars;
            }
            n
        })
    });
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("workload_s_bytes", |b| {
        b.iter(|| {
            flat.iter()
                .map(|body| html_to_adf(body, &NoLinks).stats.text_chars)
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, adf);
criterion_main!(benches);
