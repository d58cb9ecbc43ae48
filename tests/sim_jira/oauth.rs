//! The authorization server of user impersonation: a valid assertion gets a token that acts as
//! its user on the REST API; every tampered, stale or misdirected assertion is refused, and so
//! is a token after its user is deactivated. Assertions are made by Ferry's own signer
//! (`ferry::connect::act_as::assertion`), so the two sides are held to one protocol.

use std::time::{SystemTime, UNIX_EPOCH};

use ferry::{
    connect::{act_as, outbound::TenantCredentials},
    sim::jira::{JiraSim, Site, router},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{APP_KEY, SECRET, options, story_fields};

const CLIENT_ID: &str = "oauth-client-1";
const USER: &str = "712020:0003";

struct Auth {
    sim: JiraSim,
    base: String,
    server: url::Url,
    http: reqwest::Client,
}

async fn spawn() -> Auth {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let sim = JiraSim::new(
        Site::default_scrum(),
        url::Url::parse(&base).expect("url"),
        options(),
    );
    sim.register_app(APP_KEY, SECRET);
    sim.register_oauth_client(CLIENT_ID, SECRET);
    let server = url::Url::parse(&format!("{base}/_sim/oauth")).expect("url");
    let app = router(sim.clone()).merge(sim.oauth_router(server.as_str()));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    Auth {
        sim,
        base,
        server,
        http: reqwest::Client::new(),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

impl Auth {
    fn tenant(&self, secret: &str) -> TenantCredentials {
        TenantCredentials {
            base_url: self.base.parse().expect("url"),
            shared_secret: SecretString::from(secret.to_owned()),
        }
    }

    /// Ferry's assertion for `account`.
    fn assertion(&self, account: &str) -> String {
        act_as::assertion(
            &self.server,
            CLIENT_ID,
            &self.tenant(SECRET),
            account,
            now(),
        )
    }

    /// The claims of a good assertion, to tamper with.
    fn claims(&self, account: &str) -> Value {
        json!({
            "iss": act_as::issuer(CLIENT_ID), "sub": act_as::subject(account),
            "tnt": self.base, "aud": act_as::audience(&self.server),
            "iat": now(), "exp": now() + 60,
        })
    }

    async fn grant_form(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = self
            .http
            .post(format!("{}/oauth2/token", self.server))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("send");
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn grant(&self, assertion: &str) -> (StatusCode, Value) {
        self.grant_form(&[
            ("grant_type", act_as::GRANT_TYPE),
            ("assertion", assertion),
            ("scope", act_as::SCOPES),
        ])
        .await
    }

    async fn comment_as(&self, token: &str, key: &str) -> (StatusCode, Value) {
        let body = json!({ "body": { "type": "doc", "version": 1, "content": [
            { "type": "paragraph", "content": [{ "type": "text", "text": "hi" }] }] } });
        let r = self
            .http
            .post(format!("{}/rest/api/3/issue/{key}/comment", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .json(&body)
            .send()
            .await
            .expect("send");
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
}

fn signed(claims: &Value, secret: &str, alg: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

async fn an_issue(a: &Auth) -> String {
    let jira = crate::helpers::TestJira {
        sim: a.sim.clone(),
        base: a.base.clone(),
        client: a.http.clone(),
    };
    let (status, created) = jira
        .connect_post(
            "/rest/api/3/issue",
            json!({ "fields": story_fields("impersonation", json!({})) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["key"].as_str().expect("key").to_owned()
}

#[tokio::test]
async fn a_valid_assertion_gets_a_bearer_token_that_acts_as_its_user() {
    let a = spawn().await;
    let key = an_issue(&a).await;
    let (status, answer) = a.grant(&a.assertion(USER)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert!(answer["expires_in"].as_u64().is_some_and(|s| s > 60));
    let token = answer["access_token"].as_str().expect("token");
    let (status, comment) = a.comment_as(token, &key).await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    assert_eq!(comment["author"]["accountId"], USER);

    // The user deactivated: the token stops working and no new one is granted.
    a.sim.deactivate_user(USER);
    let (status, _) = a.comment_as(token, &key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = a.grant(&a.assertion(USER)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"], "invalid_grant");
}

#[tokio::test]
async fn tampered_stale_or_misdirected_assertions_are_refused() {
    let a = spawn().await;
    let good = a.claims(USER);
    // The untouched claims pass, so each refusal below is for its one change.
    let (status, answer) = a.grant(&signed(&good, SECRET, Algorithm::HS256)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "another secret",
            signed(&good, "not-the-shared-secret-0123456789", Algorithm::HS256),
        ),
        ("HS512", signed(&good, SECRET, Algorithm::HS512)),
        (
            "sub of an unknown user",
            signed(
                &with("sub", json!(act_as::subject("712020:nobody"))),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "sub of an inactive user",
            signed(
                &with("sub", json!(act_as::subject("712020:0010"))),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "sub of the app itself",
            signed(
                &with("sub", json!(act_as::subject(&format!("addon_{APP_KEY}")))),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "sub in the deprecated userkey form",
            signed(
                &with(
                    "sub",
                    json!(format!("urn:atlassian:connect:userkey:{USER}")),
                ),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "aud of another server",
            signed(
                &with(
                    "aud",
                    json!("https://oauth-2-authorization-server.services.atlassian.com"),
                ),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "tnt of another site",
            signed(
                &with("tnt", json!("https://other.atlassian.net")),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "expired",
            signed(
                &json!({ "iat": now() - 600, "exp": now() - 300, "iss": good["iss"], "sub": good["sub"],
                         "tnt": good["tnt"], "aud": good["aud"] }),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "issued in the future",
            signed(&with("iat", json!(now() + 600)), SECRET, Algorithm::HS256),
        ),
        (
            "unknown oauthClientId",
            signed(
                &with("iss", json!(act_as::issuer("someone-else"))),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "iss that is the app key",
            signed(&with("iss", json!(APP_KEY)), SECRET, Algorithm::HS256),
        ),
        (
            "no exp",
            signed(
                &{
                    let mut c = good.clone();
                    c.as_object_mut().expect("object").remove("exp");
                    c
                },
                SECRET,
                Algorithm::HS256,
            ),
        ),
    ];
    for (what, assertion) in &cases {
        let (status, answer) = a.grant(assertion).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
            "{what}: {status} {answer}"
        );
        assert!(answer["access_token"].is_null(), "{what}: {answer}");
        assert!(
            !answer.to_string().contains(assertion.as_str()),
            "{what}: the error echoes the assertion"
        );
    }
    assert_eq!(
        a.sim.issued_tokens().len(),
        1,
        "only the good one got a token"
    );

    // The form itself: another grant type, a missing or lower-case scope.
    let assertion = signed(&good, SECRET, Algorithm::HS256);
    for form in [
        vec![
            ("grant_type", "client_credentials"),
            ("assertion", assertion.as_str()),
            ("scope", "READ"),
        ],
        vec![
            ("grant_type", act_as::GRANT_TYPE),
            ("assertion", assertion.as_str()),
        ],
        vec![
            ("grant_type", act_as::GRANT_TYPE),
            ("assertion", assertion.as_str()),
            ("scope", "read write"),
        ],
    ] {
        let (status, answer) = a.grant_form(&form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {answer}");
    }
}

#[tokio::test]
async fn a_made_up_or_jwt_shaped_bearer_token_is_refused() {
    let a = spawn().await;
    let key = an_issue(&a).await;
    for token in ["made-up-token", &a.assertion(USER)] {
        let (status, _) = a.comment_as(token, &key).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
    }
}
