//! Spawning the ADO simulator on a free port and calling it like an ADO client would.

use std::sync::OnceLock;

use ferry::sim::ado::{self, AdoSim, AdoSimOptions, Dataset};
use ferry::sim::r#gen::{self, Expected, GenOptions};
use serde_json::Value;

pub const PAT: &str = "test-pat-0123456789";

/// A running simulator.
pub struct TestSim {
    /// The organization URL (`http://127.0.0.1:port/contoso`).
    pub org: String,
    pub client: reqwest::Client,
    pub sim: AdoSim,
}

/// Binds port 0 and serves `dataset`.
pub async fn spawn(dataset: Dataset) -> TestSim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = url::Url::parse(&format!("http://{addr}/")).expect("url");
    let sim = AdoSim::new(dataset, base, AdoSimOptions { pat: PAT.into() });
    let router = ado::router(sim.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    TestSim {
        org: sim.org_url().to_string(),
        client: reqwest::Client::new(),
        sim,
    }
}

impl TestSim {
    /// GET `{org}/{path}` with the PAT.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}/{path}", self.org))
            .basic_auth("anyone", Some(PAT))
    }

    /// POST `{org}/{path}` with the PAT and a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/{path}", self.org))
            .basic_auth("", Some(PAT))
            .json(body)
    }

    /// GET and parse a 200 JSON body.
    pub async fn json(&self, path: &str) -> Value {
        let resp = self.get(path).send().await.expect("send");
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    /// Runs WIQL in the generated project and returns the ids.
    pub async fn wiql(&self, query: &str, top: Option<usize>) -> reqwest::Response {
        let top = top.map(|t| format!("&$top={t}")).unwrap_or_default();
        let path = format!("Contoso/_apis/wit/wiql?api-version=7.2-preview.2{top}");
        self.post(&path, &serde_json::json!({ "query": query }))
            .send()
            .await
            .expect("send")
    }
}

/// The S workload (1,000 items, seed 42), generated once per test run.
pub fn workload_s() -> &'static (String, Expected) {
    static S: OnceLock<(String, Expected)> = OnceLock::new();
    S.get_or_init(|| r#gen::generate_string(&GenOptions::new(1_000, 42)).expect("generate S"))
}

/// The S workload as a dataset.
pub fn dataset_s() -> Dataset {
    Dataset::from_json(&workload_s().0).expect("S loads")
}

/// A minimal hand-written dataset with `n` items whose fields are given by `fields(id)`.
pub fn tiny_dataset(n: i64, fields: impl Fn(i64) -> Value) -> Dataset {
    let items: Vec<Value> = (1..=n)
        .map(|id| serde_json::json!({ "id": id, "rev": 1, "fields": fields(id) }))
        .collect();
    let json = serde_json::json!({
        "baseUrl": "https://dev.azure.com/contoso",
        "projects": [{ "project": { "id": "00000000-0000-0000-0000-000000000001", "name": "Contoso" }, "workItems": items }],
    });
    Dataset::from_json(&json.to_string()).expect("tiny dataset loads")
}

/// The specs folder: `FERRY_SPECS_DIR`, else `../shared/specs` next to the crate.
pub fn specs_dir() -> std::path::PathBuf {
    std::env::var_os("FERRY_SPECS_DIR")
        .map(Into::into)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs"))
}

/// Reads a JSON spec or example file (Microsoft's carry a byte-order mark).
pub fn read_spec(relative: &str) -> Value {
    let path = specs_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(text.trim_start_matches('\u{feff}')).expect("spec JSON")
}
