//! The transform (`ferry::mapping::transform::transform`) of generated workload S's work items
//! against the default simulated Jira site's metadata, with the mapping Ferry drafts for it.
//! The setup reads both simulators over loopback HTTP as a scan and a dry run would; only the
//! transform itself is timed.
//! `cargo bench --bench transform -- --warm-up-time 1 --measurement-time 5`

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::collections::HashMap;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferry::{
    mapping::{
        adf::NoLinks,
        draft::draft,
        source::Source,
        transform::{Context, transform},
    },
    sim::{
        ado::{AdoSim, AdoSimOptions, Dataset},
        r#gen::{GenOptions, generate_string},
        jira::{JiraSim, JiraSimOptions, Site},
    },
    source::ado::models::WorkItem,
    target::jira::{
        TargetMeta,
        client::{JiraAuth, JiraClient},
        load::load_target,
    },
};
use serde_json::{Value, json};

const PAT: &str = "bench-pat";
const USER: (&str, &str) = ("bench@example.com", "bench-token");

/// A classification node as the scan stores it: path, start date, children.
fn node(n: &Value) -> Value {
    json!({
        "path": n["path"],
        "startDate": n["attributes"]["startDate"],
        "children": n["children"].as_array().map(|c| c.iter().map(node).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

struct Setup {
    items: Vec<WorkItem>,
    source: Source,
    target: TargetMeta,
    org: String,
}

async fn setup(count: usize) -> Setup {
    let (text, _) = generate_string(&GenOptions::new(count, 42)).expect("generate");
    let data: Value = serde_json::from_str(&text).expect("json");
    let ado_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ado_base = url::Url::parse(&format!(
        "http://{}/",
        ado_listener.local_addr().expect("addr")
    ))
    .expect("url");
    let ado = AdoSim::new(
        Dataset::from_json(&text).expect("dataset"),
        ado_base,
        AdoSimOptions { pat: PAT.into() },
    );
    let org = ado.org_url().trim_end_matches('/').to_owned();
    tokio::spawn(async move { axum::serve(ado_listener, ferry::sim::ado::router(ado)).await });
    let jira_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let jira_base = format!("http://{}", jira_listener.local_addr().expect("addr"));
    let jira = JiraSim::new(
        Site::default_scrum(),
        jira_base.parse().expect("url"),
        JiraSimOptions {
            api_user: Some((USER.0.into(), USER.1.into())),
            ..JiraSimOptions::default()
        },
    );
    tokio::spawn(async move { axum::serve(jira_listener, ferry::sim::jira::router(jira)).await });

    let http = reqwest::Client::new();
    let get = |path: &str| {
        let req = http
            .get(format!("{org}/Contoso/_apis/{path}"))
            .query(&[("api-version", "7.1")])
            .basic_auth("", Some(PAT));
        async move {
            req.send()
                .await
                .expect("ado")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let types = get("wit/workitemtypes").await;
    let fields = get("wit/fields").await;
    let areas = get("wit/classificationnodes/Areas?$depth=20").await;
    let iterations = get("wit/classificationnodes/Iterations?$depth=20").await;
    let structure = json!({
        "types": types["value"],
        "fields": fields["value"],
        "areas": node(&areas),
        "iterations": node(&iterations),
    });
    let mut source = Source::from_structure(&structure);
    // What the catalog adds from the items: how many fill each field, and enumerated values.
    let mut values: HashMap<String, HashMap<String, i64>> = HashMap::new();
    for wi in data["projects"][0]["workItems"].as_array().expect("items") {
        for (k, v) in wi["fields"].as_object().expect("fields") {
            if let Some(f) = source.fields.iter_mut().find(|f| &f.reference == k) {
                f.filled += 1;
            }
            let v = match v {
                Value::String(s) if s.len() < 40 => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            *values.entry(k.clone()).or_default().entry(v).or_insert(0) += 1;
        }
    }
    for (field, counts) in values.into_iter().filter(|(_, c)| c.len() <= 20) {
        source.values.insert(field, counts.into_iter().collect());
    }
    let client = JiraClient::new(JiraAuth::Basic {
        site: jira_base.parse().expect("url"),
        email: USER.0.into(),
        token: USER.1.to_owned().into(),
    })
    .expect("client");
    let target = load_target(&client, "SCRUM").await.expect("target");
    let items = data["projects"][0]["workItems"]
        .as_array()
        .expect("items")
        .iter()
        .map(|wi| serde_json::from_value(wi.clone()).expect("work item"))
        .collect();
    Setup {
        items,
        source,
        target,
        org,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let s = rt.block_on(setup(1_000));
    let mapping = draft(&s.source, &s.target, &HashMap::new());
    let scope: HashMap<i64, String> = s
        .items
        .iter()
        .map(|i| {
            let t = i.fields["System.WorkItemType"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            (i.id, t)
        })
        .collect();
    let project_url = format!("{}/Contoso", s.org);
    let ctx = Context {
        mapping: &mapping,
        target: &s.target,
        scope: &scope,
        project_url: &project_url,
        links: &NoLinks,
    };
    let failing = s
        .items
        .iter()
        .filter(|i| transform(i, &ctx).fails())
        .count();
    if let Some(p) = s
        .items
        .iter()
        .map(|i| transform(i, &ctx))
        .find(|p| p.fails())
    {
        eprintln!("first failing item's problems: {:?}", p.problems);
    }
    eprintln!(
        "workload S: {} items, {} types mapped, {failing} would fail",
        s.items.len(),
        mapping.types.len()
    );
    let mut g = c.benchmark_group("transform");
    g.sample_size(10);
    g.throughput(Throughput::Elements(s.items.len() as u64));
    g.bench_function("workload_s_items", |b| {
        b.iter(|| {
            s.items
                .iter()
                .map(|i| transform(i, &ctx).comments)
                .sum::<i64>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
