//! ADO's rules and limits: PAT auth, api-version, the WIQL caps and the 200-id batch cap.

use ferry::sim::ado::{MAX_BATCH_IDS, MAX_QUERY_LENGTH, WIQL_MAX_RESULTS};
use serde_json::{Value, json};

use crate::helpers::{PAT, spawn, tiny_dataset};

fn plain(id: i64) -> Value {
    json!({ "System.TeamProject": "Contoso", "System.WorkItemType": if id % 2 == 0 { "Task" } else { "Bug" }, "System.State": "New" })
}

#[tokio::test]
async fn a_wrong_or_missing_pat_is_401_and_the_right_one_with_any_user_name_is_200() {
    let sim = spawn(tiny_dataset(3, plain)).await;
    let url = format!("{}/_apis/projects?api-version=7.1", sim.org);
    let c = &sim.client;
    assert_eq!(c.get(&url).send().await.expect("send").status(), 401);
    assert_eq!(
        c.get(&url)
            .basic_auth("me", Some("wrong"))
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    assert_eq!(
        c.get(&url)
            .bearer_auth(PAT)
            .send()
            .await
            .expect("send")
            .status(),
        401
    );
    let resp = c
        .get(&url)
        .basic_auth("whoever", Some(PAT))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        c.get(&url)
            .basic_auth("", Some(PAT))
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
}

#[tokio::test]
async fn a_missing_or_unsupported_api_version_is_400_in_ados_error_shape() {
    let sim = spawn(tiny_dataset(3, plain)).await;
    let resp = sim.get("_apis/projects").send().await.expect("send");
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["$id"], "1");
    assert_eq!(body["typeKey"], "VssVersionNotSpecifiedException");
    assert_eq!(body["eventId"], 3000);
    assert_eq!(body["errorCode"], 0);
    assert!(body["innerException"].is_null());
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("api-version")
    );
    assert!(
        body["typeName"]
            .as_str()
            .expect("typeName")
            .contains("VssVersionNotSpecifiedException")
    );
    for (version, key) in [
        ("7.2", "VssInvalidPreviewVersionException"),
        ("9.0", "VssVersionOutOfRangeException"),
        ("banana", "VssInvalidApiVersionException"),
    ] {
        let resp = sim
            .get(&format!("_apis/projects?api-version={version}"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 400, "{version}");
        assert_eq!(resp.json::<Value>().await.expect("json")["typeKey"], key);
    }
    for ok in ["7.2-preview.4", "7.1", "6.0", "5.1-preview.1"] {
        let resp = sim
            .get(&format!("_apis/projects?api-version={ok}"))
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200, "{ok}");
    }
    let in_accept = sim
        .get("_apis/projects")
        .header("Accept", "application/json; api-version=7.1")
        .send()
        .await
        .expect("send");
    assert_eq!(in_accept.status(), 200, "the version may come in Accept");
}

#[tokio::test]
async fn wiql_matching_more_than_20000_items_fails_with_vs402337_and_top_avoids_it() {
    assert_eq!(WIQL_MAX_RESULTS, 20_000);
    let sim = spawn(tiny_dataset(20_001, plain)).await;
    let all = "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project ORDER BY [System.Id]";
    let resp = sim.wiql(all, None).await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .starts_with("VS402337:"),
        "{body}"
    );
    // Exactly at the cap is fine, and so is $top, and so is partitioning by id.
    let resp = sim
        .wiql(
            "SELECT [System.Id] FROM WorkItems WHERE [System.Id] > 1",
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["workItems"]
            .as_array()
            .expect("items")
            .len(),
        20_000
    );
    let resp = sim.wiql(all, Some(20_000)).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn wiql_longer_than_32768_characters_is_refused_and_bad_syntax_is_400() {
    assert_eq!(MAX_QUERY_LENGTH, 32_768);
    let sim = spawn(tiny_dataset(3, plain)).await;
    let base = "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = '";
    let long = format!("{base}{}'", "x".repeat(MAX_QUERY_LENGTH - base.len()));
    assert_eq!(sim.wiql(&long, None).await.status(), 400);
    let fits = format!("{base}{}'", "x".repeat(MAX_QUERY_LENGTH - base.len() - 1));
    assert_eq!(sim.wiql(&fits, None).await.status(), 200);
    for bad in [
        "SELECT FROM WorkItems",
        "SELECT [System.Id] FROM WorkItems WHERE [System.Id] >",
        "SELECT [System.Id] FROM WorkItems WHERE ([System.Id] = 1",
        "SELECT [Nope] FROM WorkItems",
    ] {
        assert_eq!(sim.wiql(bad, None).await.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn a_batch_of_201_ids_is_400_and_200_ids_are_served() {
    assert_eq!(MAX_BATCH_IDS, 200);
    let sim = spawn(tiny_dataset(250, plain)).await;
    let ids = |n: i64| (1..=n).collect::<Vec<_>>();
    let batch = |n| {
        sim.post(
            "_apis/wit/workitemsbatch?api-version=7.2-preview.1",
            &json!({ "ids": ids(n) }),
        )
    };
    assert_eq!(batch(201).send().await.expect("send").status(), 400);
    let ok = batch(200).send().await.expect("send");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.expect("json")["count"], 200);
    let list = |n: i64| {
        ids(n)
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let resp = sim
        .get(&format!(
            "_apis/wit/workitems?ids={}&api-version=7.2-preview.3",
            list(201)
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    let resp = sim
        .get(&format!(
            "_apis/wit/workitems?ids={}&api-version=7.2-preview.3",
            list(200)
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
}
