//! A simulator on a random port, a reqwest client with Basic or Connect auth, and a validator
//! built from the official Jira OpenAPI components.

use std::{
    path::PathBuf,
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

use ferry::sim::jira::{JiraSim, JiraSimOptions, Site, router};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const EMAIL: &str = "ada.admin@acme.example";
pub const TOKEN: &str = "api-token-123";
pub const APP_KEY: &str = "com.example.ferry";
pub const SECRET: &str = "shared-secret-of-at-least-32-bytes!!";

/// A running simulator.
pub struct TestJira {
    pub sim: JiraSim,
    pub base: String,
    pub client: reqwest::Client,
}

/// Default options: Basic auth enabled, no index lag.
pub fn options() -> JiraSimOptions {
    JiraSimOptions {
        api_user: Some((EMAIL.into(), TOKEN.into())),
        ..JiraSimOptions::default()
    }
}

pub async fn spawn() -> TestJira {
    spawn_with(options()).await
}

pub async fn spawn_with(options: JiraSimOptions) -> TestJira {
    spawn_site(Site::default_scrum(), options).await
}

pub async fn spawn_site(site: Site, options: JiraSimOptions) -> TestJira {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let sim = JiraSim::new(site, url::Url::parse(&base).expect("url"), options);
    sim.register_app(APP_KEY, SECRET);
    let app = router(sim.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    TestJira {
        sim,
        base,
        client: reqwest::Client::new(),
    }
}

/// A Connect JWT for `method path?query`, signed with `secret`.
pub fn connect_jwt(method: &str, path_and_query: &str, secret: &str) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let qsh = ferry::connect::qsh::qsh(method, path, "", query).expect("qsh");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = json!({ "iss": APP_KEY, "iat": now, "exp": now + 180, "qsh": qsh });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

impl TestJira {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        connect: bool,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        req = if connect {
            req.header(
                "Authorization",
                format!("JWT {}", connect_jwt(method.as_str(), path, SECRET)),
            )
        } else {
            req.basic_auth(EMAIL, Some(TOKEN))
        };
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, false).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body), false).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body), false).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None, false).await
    }

    pub async fn connect_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body), true).await
    }

    pub async fn connect_get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, true).await
    }

    /// Creates one Story with `extra` fields merged in; returns its key.
    pub async fn create_story(&self, summary: &str, extra: Value) -> String {
        let (status, body) = self
            .post(
                "/rest/api/3/issue",
                json!({ "fields": story_fields(summary, extra) }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["key"].as_str().expect("key").to_owned()
    }
}

/// The fields of a valid Story.
pub fn story_fields(summary: &str, extra: Value) -> Value {
    let mut f = json!({ "project": { "key": "SCRUM" }, "issuetype": { "id": "10002" }, "summary": summary });
    if let (Some(f), Some(extra)) = (f.as_object_mut(), extra.as_object()) {
        f.extend(extra.clone());
    }
    f
}

/// A one-paragraph ADF document.
pub fn adf(text: &str) -> Value {
    json!({ "type": "doc", "version": 1, "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": text }] }] })
}

fn specs_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("FERRY_SPECS_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/specs")
}

fn platform_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = specs_dir().join("jira/platform/swagger-v3.v3.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e} (set FERRY_SPECS_DIR)", path.display()));
        serde_json::from_str(&text).expect("spec is JSON")
    })
}

/// Asserts that `body` validates against `#/components/schemas/{schema}` of the platform spec.
pub fn assert_schema(schema: &str, body: &Value) {
    let spec = platform_spec();
    let root = json!({ "$ref": format!("#/components/schemas/{schema}"), "components": spec["components"] });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .with_format("date-time", jira_date_time)
        .build(&root)
        .expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{schema} does not validate: {errors:#?}\nbody: {body}"
    );
}

/// `date-time` as Jira Cloud really writes it: RFC 3339, except that the offset may lack its
/// colon (`2026-11-23T16:01:55.123+0000`). The spec says `date-time` but every Jira response
/// uses the colon-less form, so the simulator copies Jira and the contract accepts both.
fn jira_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    };
    let head = b.len() >= 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !head {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}
