//! `TestApp`: Ferry on a real port with its own SQLite file, a key server playing Atlassian's
//! install-key CDN, and a Jira stub that answers permission checks only after verifying the
//! Connect JWT Ferry signed for it. Everything talks over real HTTP on 127.0.0.1.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, Uri},
    routing::{get, post},
};
use ferry::{app::AppState, config::Config, connect::qsh::qsh, store::Store};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const APP_KEY: &str = "io.ferry.test";
pub const KID: &str = "ferry-test/kid-1";
pub const INSTALL_KEY: &[u8] = include_bytes!("../fixtures/install-key.pem");
pub const INSTALL_PUB: &str = include_str!("../fixtures/install-key.pub.pem");
pub const ATTACKER_KEY: &[u8] = include_bytes!("../fixtures/attacker-key.pem");

pub fn now() -> i64 {
    ferry::store::now_ms() / 1000
}

/// A Jira site in the tests: its clientKey, secret and the stub URL it lives under.
#[derive(Clone, Debug)]
pub struct Site {
    pub client_key: String,
    pub secret: String,
    pub base_url: String,
}

/// The `oauthClientId` a test site's install carries (user impersonation).
pub fn oauth_client_id(site: &Site) -> String {
    format!("oauth-{}", site.client_key)
}

/// Who the Jira stub says is an admin, per site path segment.
#[derive(Default)]
struct JiraStub {
    admins: HashSet<String>,
    project_admins: HashMap<String, Vec<i64>>,
    secrets: HashMap<String, String>, // site segment -> shared secret
    calls: usize,
}

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub key_requests: Arc<AtomicUsize>,
    jira: Arc<Mutex<JiraStub>>,
    jira_url: String,
    /// The configuration the app was started with, for `ferry` child processes on its store.
    pub env: HashMap<String, String>,
    _db: tempfile_dir::TempDir,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A tiny temp-dir helper, so the tests need no extra crate.
pub mod tempfile_dir {
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let p = std::env::temp_dir().join(format!("ferry-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&p).expect("temp dir");
            Self(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn serve(router: Router, shutdown: CancellationToken) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
            .expect("serve");
    });
    format!("http://{addr}")
}

fn key_server(count: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/{*kid}",
        get(move |Path(kid): Path<String>| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                match kid.as_str() {
                    k if k == KID => (StatusCode::OK, INSTALL_PUB.to_owned()),
                    "broken" => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
                    "garbage" => (StatusCode::OK, "not a key".to_owned()),
                    _ => (StatusCode::NOT_FOUND, String::new()),
                }
            }
        }),
    )
}

/// `POST /{site}/rest/api/3/permissions/check`, answered only for a correctly signed request.
async fn permissions_check(
    State(stub): State<Arc<Mutex<JiraStub>>>,
    Path(site): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut stub = stub.lock().expect("stub");
    stub.calls += 1;
    let Some(secret) = stub.secrets.get(&site).cloned() else {
        return (StatusCode::NOT_FOUND, Json(json!({})));
    };
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("JWT "));
    let expected = qsh("POST", uri.path(), &format!("/{site}"), uri.query()).expect("qsh");
    let verified = token.and_then(|t| {
        ferry::connect::jwt::verify_hs256(
            t,
            secret.as_bytes(),
            now(),
            ferry::connect::jwt::QshRule::Computed(&expected),
        )
        .ok()
    });
    match verified {
        Some(c) if c.iss == APP_KEY => {}
        _ => return (StatusCode::UNAUTHORIZED, Json(json!({}))),
    }
    let account = body["accountId"].as_str().unwrap_or_default().to_owned();
    let global: Vec<&str> = if stub.admins.contains(&account) {
        vec!["ADMINISTER"]
    } else {
        vec![]
    };
    let projects = stub
        .project_admins
        .get(&account)
        .cloned()
        .unwrap_or_default();
    (
        StatusCode::OK,
        Json(json!({ "globalPermissions": global,
        "projectPermissions": [{ "permission": "ADMINISTER_PROJECTS", "projects": projects, "issues": [] }] })),
    )
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra_env: &[(&str, &str)]) -> Self {
        // `FERRY_TEST_LOG=warn,ferry=debug` shows the app's log while chasing a failure.
        if let Ok(filter) = std::env::var("FERRY_TEST_LOG") {
            ferry::telemetry::init(&filter);
        }
        let shutdown = CancellationToken::new();
        let key_requests = Arc::new(AtomicUsize::new(0));
        let keys_url = serve(key_server(key_requests.clone()), shutdown.clone()).await;
        let jira = Arc::new(Mutex::new(JiraStub::default()));
        let jira_url = serve(
            Router::new()
                .route(
                    "/{site}/rest/api/3/permissions/check",
                    post(permissions_check),
                )
                .with_state(jira.clone()),
            shutdown.clone(),
        )
        .await;
        let db = tempfile_dir::TempDir::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        let mut env: HashMap<String, String> = [
            ("FERRY_BASE_URL", address.clone()),
            ("FERRY_APP_KEY", APP_KEY.into()),
            (
                "FERRY_DATABASE_URL",
                format!("sqlite://{}/ferry.db", db.0.display()),
            ),
            (
                "FERRY_SECRET_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
            ),
            ("FERRY_INSTALL_KEYS_URL", keys_url),
            (
                "FERRY_ALLOWED_HOSTS",
                "*.atlassian.net,http://127.0.0.1:*".into(),
            ),
            ("FERRY_DATA_DIR", db.0.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra_env {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
        let store = Store::open(&config.database_url).await.expect("store");
        let state = AppState::new(config, store.clone()).expect("state");
        ferry::app::spawn_workers(&state, &shutdown);
        tokio::spawn(ferry::app::run(listener, state, shutdown.clone()));
        Self {
            address,
            http: reqwest::Client::new(),
            store,
            key_requests,
            jira,
            jira_url,
            env,
            _db: db,
            shutdown,
        }
    }

    /// Serves `router` on `listener` until the app stops.
    pub fn serve_router(&self, router: Router, listener: tokio::net::TcpListener) {
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await
                .expect("serve");
        });
    }

    /// A server on 127.0.0.1 whose every answer is a redirect to `location`.
    pub async fn redirect_server(&self, location: &'static str) -> String {
        let router = Router::new()
            .fallback(move || async move { (StatusCode::FOUND, [("location", location)]) });
        format!("{}/org", serve(router, self.shutdown.clone()).await)
    }

    /// The raw bytes of the database files (main file and write-ahead log).
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for name in ["ferry.db", "ferry.db-wal"] {
            if let Ok(b) = std::fs::read(self._db.0.join(name)) {
                bytes.extend(b);
            }
        }
        bytes
    }

    /// A new site living under the Jira stub at `/{segment}`.
    pub fn site(&self, segment: &str) -> Site {
        let secret = format!("secret-{}-{}", segment, uuid::Uuid::new_v4());
        self.jira
            .lock()
            .expect("stub")
            .secrets
            .insert(segment.to_owned(), secret.clone());
        Site {
            client_key: format!("client-{segment}-{}", uuid::Uuid::new_v4()),
            secret,
            base_url: format!("{}/{segment}", self.jira_url),
        }
    }

    pub fn make_admin(&self, account: &str) {
        self.jira
            .lock()
            .expect("stub")
            .admins
            .insert(account.to_owned());
    }

    pub fn make_project_admin(&self, account: &str, project: i64) {
        self.jira
            .lock()
            .expect("stub")
            .project_admins
            .entry(account.to_owned())
            .or_default()
            .push(project);
    }

    pub fn jira_calls(&self) -> usize {
        self.jira.lock().expect("stub").calls
    }

    pub fn install_body(&self, site: &Site) -> Value {
        json!({ "key": APP_KEY, "clientKey": site.client_key, "sharedSecret": site.secret, "baseUrl": site.base_url,
                "productType": "jira", "eventType": "installed", "description": "test site",
                "oauthClientId": oauth_client_id(site) })
    }

    /// A signed-install token as Atlassian makes it, with claims overridable by `edit`.
    pub fn install_token(
        &self,
        site: &Site,
        path: &str,
        edit: impl FnOnce(&mut Value, &mut Header),
    ) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.into());
        let mut claims = json!({ "iss": site.client_key, "aud": self.address, "iat": now(), "exp": now() + 180,
                                 "qsh": qsh("POST", path, "", None).expect("qsh") });
        edit(&mut claims, &mut header);
        let key = match header.alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(INSTALL_KEY).expect("key"),
            _ => EncodingKey::from_secret(site.secret.as_bytes()),
        };
        jsonwebtoken::encode(&header, &claims, &key).expect("encode")
    }

    pub async fn lifecycle(
        &self,
        event: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}/lifecycle/{event}", self.address))
            .json(body);
        if let Some(t) = token {
            req = req.header("Authorization", format!("JWT {t}"));
        }
        req.send().await.expect("request")
    }

    /// Installs `site` the way Jira does; asserts it worked.
    pub async fn install(&self, site: &Site) {
        let token = self.install_token(site, "/lifecycle/installed", |_, _| {});
        let r = self
            .lifecycle("installed", Some(&token), &self.install_body(site))
            .await;
        assert_eq!(
            r.status(),
            204,
            "install failed: {}",
            r.text().await.unwrap_or_default()
        );
    }

    /// An HS256 token from `site` with the given claims merged over sensible defaults.
    pub fn hs256(&self, site: &Site, claims: Value) -> String {
        let mut base = json!({ "iss": site.client_key, "sub": "user-admin", "iat": now(), "exp": now() + 180, "context": {} });
        for (k, v) in claims.as_object().expect("object") {
            if v.is_null() {
                base.as_object_mut().expect("object").remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &base,
            &EncodingKey::from_secret(site.secret.as_bytes()),
        )
        .expect("encode")
    }

    /// A page token bound (qsh) to `method path?query`.
    pub fn page_token(
        &self,
        site: &Site,
        account: &str,
        method: &str,
        path_and_query: &str,
    ) -> String {
        let (path, query) = path_and_query
            .split_once('?')
            .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
        self.hs256(
            site,
            json!({ "sub": account, "qsh": qsh(method, path, "", query).expect("qsh") }),
        )
    }

    /// A context token (`AP.context.getToken()`).
    pub fn context_token(&self, site: &Site, account: &str) -> String {
        self.hs256(site, json!({ "sub": account, "qsh": "context-qsh" }))
    }

    /// GET a page with Jira's jwt appended, as the iframe does.
    pub async fn page(&self, path_and_query: &str, token: &str) -> reqwest::Response {
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        self.http
            .get(format!("{}{path_and_query}{sep}jwt={token}", self.address))
            .send()
            .await
            .expect("request")
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.address))
            .header("Authorization", auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    /// Creates an API token as admin `account` of `site`; returns (id, token).
    pub async fn create_api_token(&self, site: &Site, account: &str) -> (String, String) {
        self.make_admin(account);
        let auth = format!("JWT {}", self.context_token(site, account));
        let r = self
            .api(
                reqwest::Method::POST,
                "/api/tokens",
                &auth,
                Some(json!({ "name": "ci" })),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.expect("json");
        (
            v["id"].as_str().expect("id").to_owned(),
            v["token"].as_str().expect("token").to_owned(),
        )
    }
}
