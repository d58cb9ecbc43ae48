//! HS256 tokens on pages and the API: forged, expired, misbound or misplaced tokens are 401;
//! valid tokens without the rights are 403 (checked against Jira, never trusted from the token).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const ADMIN_PAGE: &str = "/pages/admin";

async fn installed_app() -> (TestApp, Site) {
    let app = TestApp::spawn().await;
    let site = app.site("auth");
    app.install(&site).await;
    app.make_admin("admin-1");
    (app, site)
}

#[tokio::test]
async fn an_admin_sees_the_admin_page_framable_only_by_their_site() {
    let (app, site) = installed_app().await;
    let token = app.page_token(&site, "admin-1", "GET", ADMIN_PAGE);
    let r = app.page(ADMIN_PAGE, &token).await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    let origin = url::Url::parse(&site.base_url)
        .expect("url")
        .origin()
        .ascii_serialization();
    assert_eq!(csp, format!("frame-ancestors {origin}"));
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.expect("body");
    assert!(html.contains("Azure DevOps migrations"));
    assert!(!html.contains(&token), "the page echoed Jira's token");
}

#[tokio::test]
async fn unknown_issuer_or_a_token_signed_with_another_tenants_secret_is_401() {
    // T17, T18
    let (app, site) = installed_app().await;
    let other = app.site("other");
    app.install(&other).await;
    let unknown = Site {
        client_key: "nobody".into(),
        ..site.clone()
    };
    let forged = Site {
        secret: other.secret.clone(),
        ..site.clone()
    };
    for s in [&unknown, &forged] {
        let token = app.page_token(s, "admin-1", "GET", ADMIN_PAGE);
        assert_eq!(app.page(ADMIN_PAGE, &token).await.status(), 401);
        let auth = format!("JWT {}", app.context_token(s, "admin-1"));
        assert_eq!(
            app.api(Method::GET, "/api/me", &auth, None).await.status(),
            401
        );
    }
}

#[tokio::test]
async fn other_algorithms_are_refused() {
    // T19
    let (app, site) = installed_app().await;
    let claims = json!({ "iss": site.client_key, "sub": "admin-1", "iat": now(), "exp": now() + 60, "qsh": "context-qsh" });
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(site.secret.as_bytes()),
    )
    .expect("enc");
    let rs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(INSTALL_KEY).expect("k"),
    )
    .expect("enc");
    let payload = hs512.split('.').nth(1).expect("payload").to_owned();
    let none = format!("eyJhbGciOiJub25lIn0.{payload}.");
    // {"alg":"HS256 ","typ":"JWT"}
    let spaced = format!(
        "eyJhbGciOiJIUzI1NiAiLCJ0eXAiOiJKV1QifQ.{payload}.{}",
        hs512.split('.').nth(2).expect("sig")
    );
    for token in [hs512, rs256, none, spaced] {
        assert_eq!(
            app.api(Method::GET, "/api/me", &format!("JWT {token}"), None)
                .await
                .status(),
            401
        );
    }
}

#[tokio::test]
async fn missing_or_out_of_range_time_claims_are_refused() {
    // T20
    let (app, site) = installed_app().await;
    for claims in [
        json!({ "exp": null }),
        json!({ "iat": null }),
        json!({ "exp": now() - 31, "iat": now() - 200 }),
        json!({ "iat": now() + 31 }),
        json!({ "nbf": now() + 31 }),
    ] {
        let mut c = claims.clone();
        c["qsh"] = json!("context-qsh");
        let token = app.hs256(&site, c);
        assert_eq!(
            app.api(Method::GET, "/api/me", &format!("JWT {token}"), None)
                .await
                .status(),
            401,
            "{claims}"
        );
    }
    let within_leeway = app.hs256(
        &site,
        json!({ "exp": now() - 20, "iat": now() - 200, "qsh": "context-qsh" }),
    );
    assert_eq!(
        app.api(
            Method::GET,
            "/api/me",
            &format!("JWT {within_leeway}"),
            None
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn pages_require_the_computed_qsh_and_refuse_context_tokens() {
    // T21, T22, T23
    let (app, site) = installed_app().await;
    let no_qsh = app.hs256(&site, json!({ "sub": "admin-1" }));
    assert_eq!(app.page(ADMIN_PAGE, &no_qsh).await.status(), 401);
    assert_eq!(
        app.page(ADMIN_PAGE, &app.context_token(&site, "admin-1"))
            .await
            .status(),
        401
    );
    let for_project = app.page_token(
        &site,
        "admin-1",
        "GET",
        "/pages/project?projectKey=FAB&projectId=1",
    );
    assert_eq!(app.page(ADMIN_PAGE, &for_project).await.status(), 401);
    let post_token = app.page_token(&site, "admin-1", "POST", ADMIN_PAGE);
    assert_eq!(app.page(ADMIN_PAGE, &post_token).await.status(), 401);
    // a page token is not an API credential
    let page_token = app.page_token(&site, "admin-1", "GET", "/api/me");
    assert_eq!(
        app.api(Method::GET, "/api/me", &format!("JWT {page_token}"), None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn tampering_with_the_iframe_query_breaks_the_qsh_but_reordering_does_not() {
    // T24, T25, T26
    let (app, site) = installed_app().await;
    app.make_project_admin("lead-1", 10001);
    let path = "/pages/project?projectKey=FAB&projectId=10001&lic=active&xdm_e=https%3A%2F%2Facme.atlassian.net";
    let token = app.page_token(&site, "lead-1", "GET", path);
    assert_eq!(app.page(path, &token).await.status(), 200);
    let reordered = "/pages/project?lic=active&xdm_e=https%3A%2F%2Facme.atlassian.net&projectId=10001&projectKey=FAB";
    assert_eq!(app.page(reordered, &token).await.status(), 200);
    for tampered in [
        "/pages/project?projectKey=EVIL&projectId=10001&lic=active&xdm_e=https%3A%2F%2Facme.atlassian.net",
        "/pages/project?projectKey=FAB&projectId=10001&lic=none&xdm_e=https%3A%2F%2Facme.atlassian.net",
        "/pages/project?projectKey=FAB&projectId=10001&lic=active&xdm_e=https%3A%2F%2Fevil.example",
        "/pages/project?projectKey=FAB&projectId=10001&lic=active&xdm_e=https%3A%2F%2Facme.atlassian.net&extra=1",
        "/pages/project?projectKey=FAB&projectKey=EVIL&projectId=10001&lic=active&xdm_e=https%3A%2F%2Facme.atlassian.net",
    ] {
        assert_eq!(app.page(tampered, &token).await.status(), 401, "{tampered}");
    }
    let spoof = app
        .page(
            &path
                .replacen('?', "&", 1)
                .replacen("&projectId", "?projectId", 1),
            &token,
        )
        .await;
    assert_ne!(spoof.status(), 200);
}

#[tokio::test]
async fn tokens_in_two_places_or_in_the_query_of_an_api_route_are_refused() {
    // T27, T28
    let (app, site) = installed_app().await;
    let page = app.page_token(&site, "admin-1", "GET", ADMIN_PAGE);
    let r = app
        .http
        .get(format!("{}{ADMIN_PAGE}?jwt={page}", app.address))
        .header(
            "Authorization",
            format!("JWT {}", app.context_token(&site, "admin-1")),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let ctx = app.context_token(&site, "admin-1");
    let r = app
        .http
        .get(format!("{}/api/me?jwt={ctx}", app.address))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let twice = app
        .http
        .get(format!("{}/api/me?jwt={ctx}", app.address))
        .header("Authorization", format!("JWT {ctx}"))
        .send()
        .await
        .expect("send");
    assert_eq!(twice.status(), 401);
}

#[tokio::test]
async fn malformed_credentials_get_one_uniform_401_and_never_crash() {
    // T29
    let (app, site) = installed_app().await;
    let good = app.context_token(&site, "admin-1");
    let sig = good.split('.').nth(2).expect("sig");
    let big = "a".repeat(16 * 1024);
    let dup = format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.{sig}",
        base64_url(br#"{"iss":"x","iss":"y","iat":1,"exp":2}"#)
    );
    let headers = [
        "JWT a.b".to_owned(),
        "JWT a.b.c.d".to_owned(),
        "JWT !!!.@@@.###".to_owned(),
        format!(
            "JWT {}.{}.{sig}",
            base64_url(b"not json"),
            base64_url(b"{}")
        ),
        format!("JWT {dup}"),
        format!("JWT {big}"),
        format!("Bearer {good}"),
        "Bearer ferry_nope".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        "JWT".to_owned(),
        String::new(),
    ];
    for h in headers {
        let r = app.api(Method::GET, "/api/me", &h, None).await;
        assert_eq!(r.status(), 401, "{}", &h[..h.len().min(40)]);
        assert_eq!(
            r.text().await.expect("body"),
            r#"{"error":"authentication required"}"#
        );
    }
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[tokio::test]
async fn a_valid_token_of_a_non_admin_is_403_on_admin_surfaces() {
    // T30
    let (app, site) = installed_app().await;
    let token = app.page_token(&site, "plain-user", "GET", ADMIN_PAGE);
    assert_eq!(app.page(ADMIN_PAGE, &token).await.status(), 403);
    let auth = format!("JWT {}", app.context_token(&site, "plain-user"));
    assert_eq!(
        app.api(Method::GET, "/api/tokens", &auth, None)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.api(
            Method::POST,
            "/api/tokens",
            &auth,
            Some(json!({"name": "x"}))
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        app.api(Method::GET, "/api/audit", &auth, None)
            .await
            .status(),
        403
    );
    assert!(app.jira_calls() > 0, "permissions were never asked of Jira");
}

#[tokio::test]
async fn the_project_tab_needs_project_admin_on_that_project() {
    // T31
    let (app, site) = installed_app().await;
    app.make_project_admin("lead-2", 20002);
    let path = |id: i64| format!("/pages/project?projectKey=FAB&projectId={id}");
    let own = app.page_token(&site, "lead-2", "GET", &path(20002));
    assert_eq!(app.page(&path(20002), &own).await.status(), 200);
    let other = app.page_token(&site, "lead-2", "GET", &path(30003));
    assert_eq!(app.page(&path(30003), &other).await.status(), 403);
}

#[tokio::test]
async fn the_session_token_in_the_page_works_for_the_api_only() {
    let (app, site) = installed_app().await;
    let token = app.page_token(&site, "admin-1", "GET", ADMIN_PAGE);
    let html = app
        .page(ADMIN_PAGE, &token)
        .await
        .text()
        .await
        .expect("html");
    let marker = r#"name="ferry-session" content=""#;
    let start = html.find(marker).expect("session meta") + marker.len();
    let session = &html[start..start + html[start..].find('"').expect("end")];
    let r = app
        .api(Method::GET, "/api/me", &format!("JWT {session}"), None)
        .await;
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.expect("json");
    assert_eq!(me["principal"]["accountId"], "admin-1");
    assert_eq!(app.page(ADMIN_PAGE, session).await.status(), 401);
    // A session token re-signed with another tenant's secret is refused.
    let other = app.site("other-session");
    app.install(&other).await;
    let claims = json!({ "iss": APP_KEY, "aud": site.client_key, "sub": "admin-1", "iat": now(), "exp": now() + 60, "qsh": "ferry-session" });
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(other.secret.as_bytes()),
    )
    .expect("enc");
    assert_eq!(
        app.api(Method::GET, "/api/me", &format!("JWT {forged}"), None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_as_bearer_and_die_when_revoked() {
    let (app, site) = installed_app().await;
    let (id, token) = app.create_api_token(&site, "admin-1").await;
    let bearer = format!("Bearer {token}");
    let me: serde_json::Value = app
        .api(Method::GET, "/api/me", &bearer, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["principal"]["tokenId"], id.as_str());
    let listed = app
        .api(Method::GET, "/api/tokens", &bearer, None)
        .await
        .text()
        .await
        .expect("list");
    assert!(listed.contains(&id) && !listed.contains(&token), "{listed}");
    let rows: serde_json::Value = serde_json::from_str(&listed).expect("json");
    let row = rows[0].as_object().expect("a token row");
    let mut keys: Vec<&str> = row.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "createdBy",
            "id",
            "lastUsedAt",
            "name",
            "revokedAt"
        ]
    );
    // A token cannot mint tokens.
    assert_eq!(
        app.api(
            Method::POST,
            "/api/tokens",
            &bearer,
            Some(json!({"name": "x"}))
        )
        .await
        .status(),
        403
    );
    let admin = format!("JWT {}", app.context_token(&site, "admin-1"));
    assert_eq!(
        app.api(Method::DELETE, &format!("/api/tokens/{id}"), &admin, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.api(Method::GET, "/api/me", &bearer, None)
            .await
            .status(),
        401
    );
    let actions: Vec<String> = app
        .store
        .audit_entries(&site.client_key, None, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(&actions[..2], ["token.revoked", "token.created"]);
}

#[tokio::test]
async fn a_store_that_cannot_look_up_an_api_token_answers_500_not_401() {
    // A 401 tells a client its token is bad (`ferry migrate` stops on it); a busy or broken
    // database is ours to answer for.
    let (app, site) = installed_app().await;
    let (_, token) = app.create_api_token(&site, "admin-1").await;
    let bearer = format!("Bearer {token}");
    let db = sqlx::SqlitePool::connect(&app.env["FERRY_DATABASE_URL"])
        .await
        .expect("db");
    sqlx::query("alter table api_tokens rename to api_tokens_away")
        .execute(&db)
        .await
        .expect("rename");
    let r = app.api(Method::GET, "/api/me", &bearer, None).await;
    assert_eq!(r.status(), 500);
    let body = r.text().await.expect("body");
    assert!(!body.contains("token"), "no token talk in {body}");
    sqlx::query("alter table api_tokens_away rename to api_tokens")
        .execute(&db)
        .await
        .expect("rename back");
    assert_eq!(
        app.api(Method::GET, "/api/me", &bearer, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.api(Method::GET, "/api/me", "Bearer not-a-token", None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn bad_token_names_are_clear_400s() {
    let (app, site) = installed_app().await;
    let admin = format!("JWT {}", app.context_token(&site, "admin-1"));
    for body in [json!({"name": ""}), json!({"name": "x".repeat(101)})] {
        let r = app
            .api(Method::POST, "/api/tokens", &admin, Some(body))
            .await;
        assert_eq!(r.status(), 400);
        assert!(r.text().await.expect("b").contains("1 to 100"));
    }
    assert!(
        app.store
            .api_tokens(&site.client_key)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn a_headless_tenant_cannot_be_reached_with_jwts_signed_by_its_api_token() {
    let app = TestApp::spawn().await;
    app.make_admin("admin-1");
    // `ferry migrate` stores `email:api_token` as the headless tenant's sealed secret; whoever
    // knows that token must still not get a Connect session out of it.
    let site = Site {
        client_key: "cli:jira.example".into(),
        secret: "ops@example.com:api-token".into(),
        base_url: "http://127.0.0.1:9/cli".into(),
    };
    let key = ferry::crypto::SecretKey::from_bytes(std::array::from_fn(|n| n as u8));
    let sealed = key.seal(site.secret.as_bytes(), site.client_key.as_bytes());
    app.store
        .ensure_cli_tenant(&site.client_key, &site.base_url, &sealed)
        .await
        .expect("headless tenant");
    let token = app.context_token(&site, "admin-1");
    let r = app
        .api(
            Method::GET,
            "/api/connections",
            &format!("JWT {token}"),
            None,
        )
        .await;
    assert_eq!(r.status(), 401);
    let page = app.page_token(&site, "admin-1", "GET", ADMIN_PAGE);
    assert_eq!(app.page(ADMIN_PAGE, &page).await.status(), 401);
}
