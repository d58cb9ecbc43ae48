//! LLM suggestions for a draft, against a fake OpenAI-compatible server that records every
//! request. The point is what leaves Ferry: the key in the header, only schema metadata in the
//! body (checked key by key), and none of the dataset's titles, descriptions, comments, people
//! or URLs. A model that fails or talks nonsense changes nothing in the draft.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use reqwest::Method;
use serde_json::{Value, json};

use crate::mapping::{World, draft, items, world_env};

const KEY: &str = "sk-test-key-0123456789";
const MODEL: &str = "test-model";

type Answer = dyn Fn(usize, &Value) -> (StatusCode, String) + Send + Sync;

/// One recorded call: the Authorization header and the raw body.
#[derive(Clone)]
struct Call {
    authorization: Option<String>,
    body: String,
}

#[derive(Clone)]
struct Fake {
    calls: Arc<Mutex<Vec<Call>>>,
    count: Arc<AtomicUsize>,
    answer: Arc<Answer>,
}

async fn completions(
    State(fake): State<Fake>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let n = fake.count.fetch_add(1, Ordering::SeqCst);
    fake.calls.lock().expect("calls").push(Call {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: body.clone(),
    });
    let parsed: Value = serde_json::from_str(&body).unwrap_or_default();
    (fake.answer)(n, &parsed)
}

/// Starts the fake model; returns its base URL (`…/v1`) and the recorded calls.
async fn fake_llm(answer: Arc<Answer>) -> (String, Arc<Mutex<Vec<Call>>>) {
    let fake = Fake {
        calls: Arc::default(),
        count: Arc::default(),
        answer,
    };
    let calls = fake.calls.clone();
    let router = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}/v1"), calls)
}

/// `items` from 250 up include a Bug with the retired Severity (a value gap to ask about).
async fn llm_world(url: &str, items: usize) -> World {
    world_env(
        items,
        None,
        &[
            ("FERRY_LLM_URL", url),
            ("FERRY_LLM_MODEL", MODEL),
            ("FERRY_LLM_API_KEY", KEY),
        ],
    )
    .await
}

fn completion(content: &Value) -> String {
    json!({ "choices": [{ "index": 0, "message": { "role": "assistant", "content": content.to_string() } }] })
        .to_string()
}

fn user_message(body: &Value) -> Value {
    serde_json::from_str(body["messages"][1]["content"].as_str().unwrap_or("")).unwrap_or_default()
}

/// A model that answers every question with the first offered Jira field of the same kind,
/// the first allowed value for every value gap, plus planted nonsense Ferry must refuse.
fn plausible(_: usize, body: &Value) -> (StatusCode, String) {
    let q = user_message(body);
    let offered = q["jira"]["fields"].as_array().cloned().unwrap_or_default();
    let kind = |ado: &str| match ado {
        "double" | "integer" => "number",
        "dateTime" => "date",
        _ => "string",
    };
    let mut fields: Vec<Value> = q["ask"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let jira = offered
                .iter()
                .find(|j| j["type"] == kind(f["type"].as_str().unwrap_or("")))?;
            Some(json!({ "adoField": f["adoField"], "jiraField": jira["id"] }))
        })
        .collect();
    for gap in q["ask"]["values"].as_array().into_iter().flatten() {
        let allowed = offered
            .iter()
            .find(|j| j["id"] == gap["jiraField"])
            .and_then(|j| j["allowedValues"][0].as_str())
            .unwrap_or("");
        let values: serde_json::Map<String, Value> = gap["adoValues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| Some((v.as_str()?.to_owned(), json!(allowed))))
            .collect();
        fields.push(json!({ "adoField": gap["adoField"], "values": values }));
    }
    fields.push(json!({ "adoField": "System.Title", "jiraField": "customfield_10030" }));
    fields.push(json!({ "adoField": "Custom.Invented", "jiraField": "summary" }));
    let answer = json!({
        "fields": fields,
        "links": [{ "adoRelation": "System.LinkTypes.Related", "jiraLinkType": "99999" }],
        "types": [{ "adoType": "Bug", "jiraType": "10000" }]
    });
    (StatusCode::OK, completion(&answer))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Every object in `list` has only keys from `allowed`.
fn only(list: &Value, allowed: &[&str], what: &str) {
    let allowed: BTreeSet<&str> = allowed.iter().copied().collect();
    for entry in list.as_array().into_iter().flatten() {
        assert!(keys(entry).is_subset(&allowed), "{what}: {entry}");
    }
}

/// Free text of the dataset: titles, rich text pieces, comments, customers; people; URLs.
fn never_sent(w: &World) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut text = |html: &str| {
        for piece in html.split(['<', '>']).step_by(2) {
            let piece = piece.trim();
            if piece.len() >= 12 {
                out.push(piece.to_owned());
            }
        }
    };
    for i in items(&w.dataset) {
        let f = &i["fields"];
        out_push(&mut text, f, "System.Title");
        for rich in [
            "System.Description",
            "Microsoft.VSTS.TCM.ReproSteps",
            "Microsoft.VSTS.TCM.SystemInfo",
            "Microsoft.VSTS.Common.AcceptanceCriteria",
            "Custom.Customer",
        ] {
            out_push(&mut text, f, rich);
        }
    }
    for list in w.dataset["projects"][0]["comments"]
        .as_object()
        .into_iter()
        .flat_map(|c| c.values())
    {
        for c in list.as_array().into_iter().flatten() {
            text(c["text"].as_str().unwrap_or(""));
        }
    }
    let titles = items(&w.dataset)
        .iter()
        .filter_map(|i| i["fields"]["System.Title"].as_str())
        .map(str::to_owned);
    out.extend(titles);
    for who in w.dataset["identities"].as_array().expect("identities") {
        for k in ["displayName", "uniqueName"] {
            out.extend(who[k].as_str().map(str::to_owned));
        }
    }
    out.extend([
        w.dataset["baseUrl"].as_str().unwrap_or("").to_owned(),
        w.site.base_url.clone(),
        w.site.client_key.clone(),
        "127.0.0.1".into(),
    ]);
    out.retain(|s| !s.is_empty());
    out
}

fn out_push(text: &mut impl FnMut(&str), fields: &Value, name: &str) {
    if let Some(s) = fields[name].as_str() {
        text(s);
    }
}

#[tokio::test]
async fn the_model_gets_only_schema_metadata_and_its_valid_suggestions_land_marked() {
    let (url, calls) = fake_llm(Arc::new(plausible)).await;
    let w = llm_world(&url, 250).await;
    let m = draft(&w).await;

    // Exactly one call, with the key in the header only.
    let calls = calls.lock().expect("calls").clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].authorization.as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    let body: Value = serde_json::from_str(&calls[0].body).expect("a JSON body");
    assert_eq!(
        keys(&body),
        BTreeSet::from(["messages", "model", "response_format", "temperature"])
    );
    assert_eq!(
        (body["model"].as_str(), &body["response_format"]),
        (Some(MODEL), &json!({ "type": "json_object" }))
    );
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(2));
    let q = user_message(&body);
    assert_eq!(keys(&q), BTreeSet::from(["ask", "jira"]));
    let ask = &q["ask"];
    assert!(
        keys(ask).is_subset(&BTreeSet::from([
            "fields", "links", "states", "types", "values"
        ])),
        "{ask}"
    );
    only(&ask["types"], &["adoType"], "ask.types");
    only(
        &ask["states"],
        &["adoType", "adoState", "category"],
        "ask.states",
    );
    only(
        &ask["fields"],
        &["adoField", "name", "type", "values"],
        "ask.fields",
    );
    only(
        &ask["values"],
        &["adoField", "jiraField", "adoValues"],
        "ask.values",
    );
    only(&ask["links"], &["adoRelation"], "ask.links");
    let jira = &q["jira"];
    assert!(
        keys(jira).is_subset(&BTreeSet::from([
            "fields",
            "issueTypes",
            "linkTypes",
            "statuses"
        ])),
        "{jira}"
    );
    only(
        &jira["issueTypes"],
        &["id", "name", "hierarchyLevel", "subtask", "statuses"],
        "jira.issueTypes",
    );
    only(
        &jira["statuses"],
        &["id", "name", "category"],
        "jira.statuses",
    );
    only(
        &jira["fields"],
        &["id", "name", "type", "items", "custom", "allowedValues"],
        "jira.fields",
    );
    only(
        &jira["linkTypes"],
        &["id", "name", "inward", "outward"],
        "jira.linkTypes",
    );
    // Settled rules are not asked: the prompt stays small.
    let asked: Vec<&str> = ask["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["adoField"].as_str())
        .collect();
    assert!(
        !asked.is_empty() && !asked.contains(&"System.Title"),
        "{asked:?}"
    );
    assert!(
        !ask["values"].is_null(),
        "the retired Severity value is a gap to ask about: {ask}"
    );

    // Nothing of the items, the people or the sites.
    let haystacks = [
        calls[0].body.clone(),
        q.to_string(),
        body["messages"][0]["content"].to_string(),
    ];
    let needles = never_sent(&w);
    assert!(needles.len() > 100, "the scan covers the dataset");
    for needle in &needles {
        for hay in &haystacks {
            assert!(
                !hay.contains(needle.as_str()),
                "sent to the model: {needle}"
            );
        }
    }
    assert!(!calls[0].body.contains(KEY));

    // Valid suggestions land marked and below deterministic confidence; settled rules stay.
    let report = &m["llm"];
    assert_eq!(
        (report["model"].as_str(), report.get("error")),
        (Some(MODEL), None),
        "{report}"
    );
    let applied = report["applied"].as_u64().unwrap_or(0);
    assert!(applied >= 2, "{report}");
    assert!(report["ignored"].as_u64().unwrap_or(0) >= 4, "{report}");
    let rules = ["types", "states", "fields", "links"]
        .iter()
        .flat_map(|k| m["mapping"][k].as_array().cloned().unwrap_or_default());
    let marked: Vec<Value> = rules.filter(|r| r.get("suggestedBy").is_some()).collect();
    assert!(!marked.is_empty());
    for r in &marked {
        assert_eq!(r["suggestedBy"], format!("llm:{MODEL}"), "{r}");
        assert!(r["confidence"].as_f64().unwrap_or(1.0) <= 0.6 + 1e-6, "{r}");
    }
    let rule = |kind: &str, key: &str, name: &str| {
        m["mapping"][kind]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r[key] == name)
            .cloned()
            .unwrap_or_default()
    };
    let title = rule("fields", "adoField", "System.Title");
    assert_eq!(
        (
            title["jiraField"].as_str(),
            title["confidence"].as_f64(),
            title.get("suggestedBy")
        ),
        (Some("summary"), Some(1.0), None)
    );
    let bug = rule("types", "adoType", "Bug");
    assert_eq!(
        (bug["jiraType"].as_str(), bug.get("suggestedBy")),
        (Some("10003"), None)
    );
    let severity = rule("fields", "adoField", "Microsoft.VSTS.Common.Severity");
    assert_eq!(
        severity["suggestedBy"],
        format!("llm:{MODEL}"),
        "the retired value got a suggestion: {severity}"
    );

    // The audit says a model took part, with counts only.
    let audit: Value = w
        .app
        .api(Method::GET, "/api/audit", &w.auth, None)
        .await
        .json()
        .await
        .expect("json");
    let entry = audit
        .as_array()
        .and_then(|a| a.iter().find(|e| e["action"] == "mapping.suggested"))
        .cloned()
        .expect("an audit entry");
    assert!(entry.to_string().contains(MODEL), "{entry}");
}

#[tokio::test]
async fn a_failing_or_nonsensical_model_leaves_the_deterministic_draft() {
    let answer: Arc<Answer> = Arc::new(|n, _| match n {
        0 | 1 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{KEY} overloaded"),
        ),
        2 => (
            StatusCode::OK,
            json!({ "choices": [{ "message": { "content": "Sure! Here is a mapping:" } }] })
                .to_string(),
        ),
        _ => (StatusCode::OK, completion(&json!({}))),
    });
    let (url, calls) = fake_llm(answer).await;
    let w = llm_world(&url, 60).await;

    let failed = draft(&w).await;
    assert_eq!(
        failed["llm"]["error"], "the model endpoint answered HTTP 500",
        "{}",
        failed["llm"]
    );
    assert!(!failed.to_string().contains(KEY));
    assert_eq!(calls.lock().expect("calls").len(), 2, "one retry on a 5xx");
    let garbage = draft(&w).await;
    assert_eq!(
        garbage["llm"]["error"],
        "the model's answer is not a JSON object"
    );
    let empty = draft(&w).await;
    assert_eq!(
        (empty["llm"]["applied"].as_u64(), empty["llm"].get("error")),
        (Some(0), None)
    );
    assert_eq!(empty["version"].as_i64(), Some(3));
    // The third answer changed nothing, so it is the deterministic draft; the failed ones match it.
    assert_eq!(failed["mapping"], empty["mapping"]);
    assert_eq!(garbage["mapping"], empty["mapping"]);
    assert!(!failed["mapping"].to_string().contains("suggestedBy"));
}
