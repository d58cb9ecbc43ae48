//! The whole Connect protocol against the Jira simulator playing the host, over real HTTP:
//! a signed install Ferry verifies with the host's published key, the host page's iframe URL
//! opening Ferry's admin page, Ferry's signed permission check answered by the simulator,
//! a reinstall that rotates the secret, and an uninstall that removes the tenant.

use ferry::sim::{
    host::HostOptions,
    jira::{JiraSimOptions, Site},
    serve::jira_server,
};

use crate::helpers::*;

const ADMIN: &str = "712020:0001-admin";
const MEMBER: &str = "712020:0003";

/// The iframe URL (with its signed `jwt`) that the host page embeds.
async fn iframe_src(http: &reqwest::Client, host_page: &str) -> String {
    let html = http
        .get(host_page)
        .send()
        .await
        .expect("host page")
        .text()
        .await
        .expect("html");
    let start = html
        .find("src=\"")
        .unwrap_or_else(|| panic!("no iframe in {html}"))
        + 5;
    html[start..start + html[start..].find('"').expect("end")].replace("&amp;", "&")
}

async fn iframe_status(http: &reqwest::Client, host_page: &str) -> u16 {
    let src = iframe_src(http, host_page).await;
    http.get(&src)
        .send()
        .await
        .expect("iframe")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_jira_simulator_installs_ferry_and_shows_its_admin_page_to_admins_only() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let jira_url =
        url::Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("url");
    let server = jira_server(
        jira_url.clone(),
        Site::default_scrum(),
        JiraSimOptions::default(),
        None,
        None,
        HostOptions {
            private_key_pem: Some(String::from_utf8(INSTALL_KEY.to_vec()).expect("pem")),
            ..HostOptions::default()
        },
    )
    .expect("jira site");
    let keys = format!(
        "{}/_sim/install-keys",
        jira_url.as_str().trim_end_matches('/')
    );
    let app = TestApp::spawn_with(&[("FERRY_INSTALL_KEYS_URL", keys.as_str())]).await;
    app.serve_router(server.router, listener);
    let descriptor = format!("{}/atlassian-connect.json", app.address);

    let installed = server
        .host
        .install(&descriptor)
        .await
        .expect("signed install accepted");
    let tenant = app
        .store
        .tenant(&installed.client_key)
        .await
        .expect("tenant stored");
    assert_eq!(tenant.base_url, jira_url.as_str().trim_end_matches('/'));

    let http = reqwest::Client::new();
    assert_eq!(
        iframe_status(&http, &server.host.page_url("ferry-admin", ADMIN)).await,
        200
    );
    assert_eq!(
        iframe_status(&http, &server.host.page_url("ferry-admin", MEMBER)).await,
        403
    );

    // A reinstall sends a new secret: tokens signed with it verify.
    let again = server.host.install(&descriptor).await.expect("reinstall");
    assert_ne!(again.shared_secret, installed.shared_secret);
    assert_eq!(
        iframe_status(&http, &server.host.page_url("ferry-admin", ADMIN)).await,
        200
    );

    // After the uninstall, a page URL Jira signed before it no longer opens.
    let signed_before = iframe_src(&http, &server.host.page_url("ferry-admin", ADMIN)).await;
    server
        .host
        .uninstall(&installed.key)
        .await
        .expect("uninstall");
    assert!(
        app.store.tenant(&installed.client_key).await.is_err(),
        "uninstall left the tenant"
    );
    assert_eq!(
        http.get(&signed_before)
            .send()
            .await
            .expect("iframe")
            .status(),
        401
    );
}
