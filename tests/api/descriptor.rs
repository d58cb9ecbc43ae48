//! The descriptor Ferry serves validates against Atlassian's Connect descriptor schema.

use serde_json::Value;

use crate::helpers::*;

fn specs_dir() -> std::path::PathBuf {
    std::env::var_os("FERRY_SPECS_DIR")
        .map(Into::into)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs"))
}

#[tokio::test]
async fn the_served_descriptor_validates_against_the_connect_schema() {
    let app = TestApp::spawn().await;
    let descriptor: Value = app
        .http
        .get(format!("{}/atlassian-connect.json", app.address))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(descriptor["baseUrl"], app.address.as_str());
    assert_eq!(descriptor["key"], APP_KEY);
    assert_eq!(descriptor["authentication"]["type"], "jwt");
    assert_eq!(descriptor["apiMigrations"]["signed-install"], true);
    assert_eq!(descriptor["apiMigrations"]["context-qsh"], true);
    assert_eq!(descriptor["lifecycle"]["installed"], "/lifecycle/installed");

    let path = specs_dir().join("connect/jira-global-schema.json");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("the Connect schema under shared/specs"),
    )
    .expect("schema json");
    // The schema dates from 2019 and lags the platform in two places, so the copy validated
    // here is adjusted for exactly those, and nothing else:
    // - `apiMigrations` post-dates it (signed-install and context-qsh arrived in 2021);
    // - it types lifecycle URLs as absolute (`format: uri`), while Connect documents them as
    //   relative to baseUrl (as every framework's descriptor writes them), so they are
    //   resolved against baseUrl for the check.
    let mut checked = descriptor.clone();
    let migrations = checked
        .as_object_mut()
        .expect("object")
        .remove("apiMigrations");
    assert!(migrations.is_some());
    for (_, url) in checked["lifecycle"]
        .as_object_mut()
        .expect("lifecycle")
        .iter_mut()
    {
        *url = Value::String(format!(
            "{}{}",
            app.address,
            url.as_str().expect("relative url")
        ));
    }
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&checked)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "descriptor fails the Connect schema: {errors:#?}"
    );

    // The check can fail: a module without its required url is refused.
    let mut broken = checked.clone();
    broken["modules"]["adminPages"][0]
        .as_object_mut()
        .expect("page")
        .remove("url");
    assert!(!validator.is_valid(&broken));
}
