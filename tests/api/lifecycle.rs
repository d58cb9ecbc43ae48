//! Signed installs, uninstalls, enable/disable: everything forged or replayed is refused and
//! changes nothing stored.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn tenant_exists(app: &TestApp, site: &Site) -> bool {
    app.store.tenant(&site.client_key).await.is_ok()
}

/// A page call proves which secret Ferry holds for the site.
async fn secret_in_force(app: &TestApp, site: &Site, secret: &str) -> bool {
    let probe = Site {
        secret: secret.to_owned(),
        ..site.clone()
    };
    let auth = format!("JWT {}", app.context_token(&probe, "someone"));
    app.api(Method::GET, "/api/me", &auth, None).await.status() == 200
}

#[tokio::test]
async fn a_signed_install_creates_the_tenant_and_its_secret_works() {
    let app = TestApp::spawn().await;
    let site = app.site("acme");
    app.install(&site).await;
    assert!(tenant_exists(&app, &site).await);
    assert!(secret_in_force(&app, &site, &site.secret).await);
    let stored = app.store.tenant(&site.client_key).await.expect("tenant");
    assert!(
        !String::from_utf8_lossy(&stored.sealed_secret).contains(&site.secret),
        "secret stored in clear"
    );
}

#[tokio::test]
async fn install_without_authorization_is_401_and_stores_nothing() {
    // T1
    let app = TestApp::spawn().await;
    let site = app.site("t1");
    let r = app
        .lifecycle("installed", None, &app.install_body(&site))
        .await;
    assert_eq!(r.status(), 401);
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn install_signed_with_the_bodys_own_secret_is_refused() {
    // T2: the legacy self-signed install
    let app = TestApp::spawn().await;
    let site = app.site("t2");
    let token = app.install_token(&site, "/lifecycle/installed", |_, h| {
        *h = Header::new(Algorithm::HS256)
    });
    assert_eq!(
        app.lifecycle("installed", Some(&token), &app.install_body(&site))
            .await
            .status(),
        401
    );
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn install_with_alg_none_or_without_kid_is_refused() {
    // T3, T4
    let app = TestApp::spawn().await;
    let site = app.site("t3");
    let good = app.install_token(&site, "/lifecycle/installed", |_, _| {});
    let mut parts = good.split('.');
    let (_h, payload) = (parts.next().expect("h"), parts.next().expect("p"));
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    assert_eq!(
        app.lifecycle("installed", Some(&none), &app.install_body(&site))
            .await
            .status(),
        401
    );
    let no_kid = app.install_token(&site, "/lifecycle/installed", |_, h| h.kid = None);
    assert_eq!(
        app.lifecycle("installed", Some(&no_kid), &app.install_body(&site))
            .await
            .status(),
        401
    );
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn malicious_kids_are_refused_without_any_key_fetch() {
    // T5
    let app = TestApp::spawn().await;
    let site = app.site("t5");
    let long = "k".repeat(4096);
    for kid in [
        "../../x",
        "%2e%2e/",
        "http://evil/",
        long.as_str(),
        "a\nb",
        "a b",
        "..",
        "",
    ] {
        let token = app.install_token(&site, "/lifecycle/installed", |_, h| {
            h.kid = Some(kid.to_owned())
        });
        let status = app
            .lifecycle("installed", Some(&token), &app.install_body(&site))
            .await
            .status();
        assert_eq!(status, 401, "kid {kid:?}");
    }
    assert_eq!(
        app.key_requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a key was fetched for a bad kid"
    );
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn unknown_or_broken_keys_never_yield_2xx() {
    // T6
    let app = TestApp::spawn().await;
    let site = app.site("t6");
    for (kid, want) in [("unknown-kid", 401), ("garbage", 401), ("broken", 502)] {
        let token = app.install_token(&site, "/lifecycle/installed", |_, h| {
            h.kid = Some(kid.to_owned())
        });
        assert_eq!(
            app.lifecycle("installed", Some(&token), &app.install_body(&site))
                .await
                .status(),
            want,
            "kid {kid}"
        );
    }
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn an_install_signed_by_another_key_is_refused() {
    let app = TestApp::spawn().await;
    let site = app.site("forged");
    let claims = json!({ "iss": site.client_key, "aud": app.address, "iat": now(), "exp": now() + 180,
        "qsh": ferry::connect::qsh::qsh("POST", "/lifecycle/installed", "", None).expect("qsh") });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(ATTACKER_KEY).expect("key"),
    )
    .expect("enc");
    assert_eq!(
        app.lifecycle("installed", Some(&token), &app.install_body(&site))
            .await
            .status(),
        401
    );
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn wrong_audience_expiry_or_qsh_is_refused() {
    // T7, T9, T10
    let app = TestApp::spawn().await;
    let site = app.site("t7");
    type Edit = Box<dyn FnOnce(&mut Value, &mut Header)>;
    let cases: Vec<Edit> = vec![
        Box::new(|c, _| c["aud"] = json!("https://other-app.example.com")),
        Box::new(|c, _| {
            c.as_object_mut().expect("o").remove("aud");
        }),
        Box::new(|c, _| {
            c["exp"] = json!(now() - 120);
            c["iat"] = json!(now() - 300);
        }),
        Box::new(|c, _| {
            c.as_object_mut().expect("o").remove("iat");
        }),
        Box::new(|c, _| {
            c["qsh"] = json!(
                ferry::connect::qsh::qsh("POST", "/lifecycle/uninstalled", "", None).expect("q")
            )
        }),
        Box::new(|c, _| c["qsh"] = json!("context-qsh")),
    ];
    for edit in cases {
        let token = app.install_token(&site, "/lifecycle/installed", edit);
        assert_eq!(
            app.lifecycle("installed", Some(&token), &app.install_body(&site))
                .await
                .status(),
            401
        );
    }
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn an_issuer_that_differs_from_the_body_client_key_cannot_take_over_a_tenant() {
    // T8
    let app = TestApp::spawn().await;
    let victim = app.site("victim");
    app.install(&victim).await;
    let attacker = app.site("attacker");
    let token = app.install_token(&attacker, "/lifecycle/installed", |_, _| {});
    let body = json!({ "key": APP_KEY, "clientKey": victim.client_key, "sharedSecret": "attacker-chosen-secret-0123456789",
                       "baseUrl": victim.base_url });
    assert_eq!(
        app.lifecycle("installed", Some(&token), &body)
            .await
            .status(),
        401
    );
    assert!(secret_in_force(&app, &victim, &victim.secret).await);
    assert!(!secret_in_force(&app, &victim, "attacker-chosen-secret-0123456789").await);
}

#[tokio::test]
async fn alg_confusion_with_the_public_key_as_hmac_secret_is_refused() {
    // T11
    let app = TestApp::spawn().await;
    let site = app.site("t11");
    let claims = json!({ "iss": site.client_key, "aud": app.address, "iat": now(), "exp": now() + 180,
        "qsh": ferry::connect::qsh::qsh("POST", "/lifecycle/installed", "", None).expect("qsh") });
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(INSTALL_PUB.as_bytes()),
    )
    .expect("enc");
    assert_eq!(
        app.lifecycle("installed", Some(&token), &app.install_body(&site))
            .await
            .status(),
        401
    );
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn base_urls_outside_the_allowed_hosts_are_refused() {
    // T12
    let app = TestApp::spawn().await;
    for (i, base) in [
        "http://acme.atlassian.net",
        "https://evil.com",
        "https://a.atlassian.net.evil.com",
        "http://127.0.0.2:9",
        "javascript:alert(1)",
    ]
    .iter()
    .enumerate()
    {
        let site = Site {
            base_url: (*base).to_owned(),
            ..app.site(&format!("t12-{i}"))
        };
        let token = app.install_token(&site, "/lifecycle/installed", |_, _| {});
        assert_eq!(
            app.lifecycle("installed", Some(&token), &app.install_body(&site))
                .await
                .status(),
            400,
            "{base}"
        );
        assert!(!tenant_exists(&app, &site).await);
    }
}

#[tokio::test]
async fn a_reinstall_rotates_the_secret_and_a_replayed_older_install_never_rolls_it_back() {
    // T13
    let app = TestApp::spawn().await;
    let site = app.site("t13");
    let old = app.install_token(&site, "/lifecycle/installed", |c, _| {
        c["iat"] = json!(now() - 60)
    });
    assert_eq!(
        app.lifecycle("installed", Some(&old), &app.install_body(&site))
            .await
            .status(),
        204
    );
    let rotated = Site {
        secret: format!("rotated-{}", uuid::Uuid::new_v4()),
        ..site.clone()
    };
    app.install(&rotated).await;
    assert!(secret_in_force(&app, &site, &rotated.secret).await);
    assert!(
        !secret_in_force(&app, &site, &site.secret).await,
        "old secret still accepted"
    );
    let replay = app
        .lifecycle("installed", Some(&old), &app.install_body(&site))
        .await;
    assert_eq!(replay.status(), 409);
    assert!(secret_in_force(&app, &site, &rotated.secret).await);
}

#[tokio::test]
async fn wrong_app_key_malformed_json_and_oversized_bodies_are_rejected() {
    // T14
    let app = TestApp::spawn().await;
    let site = app.site("t14");
    let token = app.install_token(&site, "/lifecycle/installed", |_, _| {});
    let mut body = app.install_body(&site);
    body["key"] = json!("com.other.app");
    assert_eq!(
        app.lifecycle("installed", Some(&token), &body)
            .await
            .status(),
        400
    );
    let raw = app
        .http
        .post(format!("{}/lifecycle/installed", app.address))
        .header("Authorization", format!("JWT {token}"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(raw.status(), 400);
    let mut big = app.install_body(&site);
    big["description"] = json!("x".repeat(70 * 1024));
    assert_eq!(
        app.lifecycle("installed", Some(&token), &big)
            .await
            .status(),
        413
    );
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn uninstall_must_be_signed_and_then_deletes_every_tenant_row() {
    // T15, then the uninstall itself
    let app = TestApp::spawn().await;
    let site = app.site("t15");
    app.install(&site).await;
    app.create_api_token(&site, "admin-1").await;
    let hs = app.hs256(&site, json!({ "qsh": ferry::connect::qsh::qsh("POST", "/lifecycle/uninstalled", "", None).expect("q") }));
    assert_eq!(
        app.lifecycle("uninstalled", None, &app.install_body(&site))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.lifecycle("uninstalled", Some(&hs), &app.install_body(&site))
            .await
            .status(),
        401
    );
    assert!(tenant_exists(&app, &site).await);

    let token = app.install_token(&site, "/lifecycle/uninstalled", |_, _| {});
    assert_eq!(
        app.lifecycle("uninstalled", Some(&token), &app.install_body(&site))
            .await
            .status(),
        204
    );
    let tables = app.store.tenant_tables().await.expect("tables");
    assert!(tables.len() >= 3, "{tables:?}");
    for table in tables {
        if table == "install_watermarks" {
            // The one deliberate survivor: clientKey + the last lifecycle iat, no tenant data.
            // It is what refuses an older install replayed after the uninstall.
            continue;
        }
        assert_eq!(
            app.store
                .count_tenant_rows(&table, &site.client_key)
                .await
                .expect("count"),
            0,
            "{table} kept rows"
        );
    }
    // T17: its tokens are now refused.
    assert!(!secret_in_force(&app, &site, &site.secret).await);
}

#[tokio::test]
async fn an_install_older_than_the_uninstall_cannot_resurrect_the_tenant() {
    let app = TestApp::spawn().await;
    let site = app.site("resurrect");
    let old = app.install_token(&site, "/lifecycle/installed", |c, _| {
        c["iat"] = json!(now() - 30)
    });
    assert_eq!(
        app.lifecycle("installed", Some(&old), &app.install_body(&site))
            .await
            .status(),
        204
    );
    let un = app.install_token(&site, "/lifecycle/uninstalled", |_, _| {});
    assert_eq!(
        app.lifecycle("uninstalled", Some(&un), &app.install_body(&site))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.lifecycle("installed", Some(&old), &app.install_body(&site))
            .await
            .status(),
        409
    );
    assert!(!tenant_exists(&app, &site).await);
}

#[tokio::test]
async fn disabled_and_enabled_are_hs256_verified_and_gate_the_api() {
    // T16 and T22 on lifecycle routes
    let app = TestApp::spawn().await;
    let site = app.site("t16");
    app.install(&site).await;
    let me = format!("JWT {}", app.context_token(&site, "u1"));
    assert_eq!(
        app.lifecycle("disabled", None, &app.install_body(&site))
            .await
            .status(),
        401
    );
    let ctx = app.context_token(&site, "u1");
    assert_eq!(
        app.lifecycle("disabled", Some(&ctx), &app.install_body(&site))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.api(Method::GET, "/api/me", &me, None).await.status(),
        200
    );

    let signed = |event: &str| {
        app.hs256(&site, json!({ "sub": null,
        "qsh": ferry::connect::qsh::qsh("POST", &format!("/lifecycle/{event}"), "", None).expect("q") }))
    };
    assert_eq!(
        app.lifecycle(
            "disabled",
            Some(&signed("disabled")),
            &app.install_body(&site)
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.api(Method::GET, "/api/me", &me, None).await.status(),
        403
    );
    assert_eq!(
        app.lifecycle(
            "enabled",
            Some(&signed("enabled")),
            &app.install_body(&site)
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.api(Method::GET, "/api/me", &me, None).await.status(),
        200
    );
    let actions: Vec<String> = app
        .store
        .audit_entries(&site.client_key, None, 50)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["tenant.enabled", "tenant.disabled", "tenant.installed"]
    );
}
