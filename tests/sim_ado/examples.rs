//! Microsoft's official example payloads load as a dataset and are served back unchanged.

use ferry::sim::ado::Dataset;
use serde_json::{Value, json};

use crate::helpers::{read_spec, spawn};

fn body(relative: &str) -> Value {
    read_spec(&format!("ado/specification/{relative}"))["responses"]["200"]["body"].clone()
}

/// A dataset assembled from the `httpExamples` files, exactly as published.
fn examples_dataset() -> (Value, Dataset) {
    let wit = "wit/7.2/httpExamples";
    let mut items = body(&format!(
        "{wit}/workItems/GET__wit_WorkItems_ids-_ids___expand-all.json"
    ))["value"]
        .as_array()
        .expect("items")
        .clone();
    let single = body(&format!("{wit}/workItems/GET__wit_WorkItems_id.json"));
    let person = single["fields"]["System.AssignedTo"].clone();
    items.push(single);
    let mut comments = body(&format!(
        "{wit}/comments/GET__wit_workitems__issueId__comments_1.json"
    ))["comments"]
        .as_array()
        .expect("c1")
        .clone();
    comments.extend(
        body(&format!(
            "{wit}/comments/GET__wit_workitems__issueId__comments_2.json"
        ))["comments"]
            .as_array()
            .expect("c2")
            .clone(),
    );
    let json = json!({
        "baseUrl": "https://dev.azure.com/fabrikam",
        "identities": [person],
        "projects": [{
            "project": body("core/7.2/httpExamples/projects/GET__projects.json")["value"][1],
            "workItemTypes": body(&format!("{wit}/workItemTypes/GET__wit_workItemTypes.json"))["value"],
            "fields": body(&format!("{wit}/fields/GET__wit_fields.json"))["value"],
            "areas": body(&format!("{wit}/classificationNodes/GET__wit_classificationNodes_areas__depth-2.json")),
            "iterations": body(&format!("{wit}/classificationNodes/GET__wit_classificationNodes_iterations__depth-2.json")),
            "workItems": items,
            "comments": { "299": comments },
            "updates": { "12": body(&format!("{wit}/updates/GET__list_of_workitem_updates.json"))["value"] },
        }],
    });
    let dataset =
        Dataset::from_json(&json.to_string()).expect("the official examples load as a dataset");
    (json, dataset)
}

#[tokio::test]
async fn the_official_examples_load_and_their_work_items_are_served_back_with_urls_rewritten() {
    let (source, dataset) = examples_dataset();
    assert_eq!(dataset.work_item_count(), 4);
    let sim = spawn(dataset).await;
    let rewrite = |v: &Value| -> Value {
        serde_json::from_str(
            &v.to_string()
                .replace("https://dev.azure.com/fabrikam", &sim.org),
        )
        .expect("json")
    };
    for item in source["projects"][0]["workItems"]
        .as_array()
        .expect("items")
    {
        let id = item["id"].as_i64().expect("id");
        let served: Value = sim
            .json(&format!(
                "Fabrikam-Fiber-Git/_apis/wit/workitems/{id}?$expand=all&api-version=7.2-preview.3"
            ))
            .await;
        assert_eq!(served, rewrite(item), "work item {id}");
    }
    let batch = json!({ "ids": [297, 299, 300], "fields": ["System.Id", "System.Title", "System.WorkItemType", "Microsoft.VSTS.Scheduling.RemainingWork"] });
    let resp: Value = sim
        .post(
            "Fabrikam-Fiber-Git/_apis/wit/workitemsbatch?api-version=7.2-preview.1",
            &batch,
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(resp["count"], 3);
    for item in resp["value"].as_array().expect("value") {
        let keys: Vec<&String> = item["fields"].as_object().expect("fields").keys().collect();
        assert!(
            keys.contains(&&"System.Title".to_string()) && keys.len() <= 4,
            "{keys:?}"
        );
    }
}

#[tokio::test]
async fn the_official_comment_examples_page_newest_first_with_their_legacy_comment_ids() {
    let (_, dataset) = examples_dataset();
    let sim = spawn(dataset).await;
    let first: Value = sim
        .json(
            "Fabrikam-Fiber-Git/_apis/wit/workItems/299/comments?$top=2&api-version=7.2-preview.4",
        )
        .await;
    let ids = |p: &Value| {
        p["comments"]
            .as_array()
            .expect("c")
            .iter()
            .map(|c| c["commentId"].as_i64().expect("commentId"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&first),
        vec![45, 44],
        "as in GET__wit_workitems__issueId__comments_1.json"
    );
    let token = first["continuationToken"].as_str().expect("token");
    let second: Value = sim.json(&format!("Fabrikam-Fiber-Git/_apis/wit/workItems/299/comments?$top=2&continuationToken={token}&api-version=7.2-preview.4")).await;
    assert_eq!(ids(&second), vec![43, 42], "as in …_comments_2.json");
    assert!(second.get("continuationToken").is_none());
}

#[tokio::test]
async fn the_official_classification_examples_serve_by_depth_and_wiql_runs_over_the_examples() {
    let (source, dataset) = examples_dataset();
    let sim = spawn(dataset).await;
    let areas: Value = sim.json("Fabrikam-Fiber-Git/_apis/wit/classificationnodes/Areas?$depth=2&api-version=7.2-preview.2").await;
    let want = &source["projects"][0]["areas"];
    assert_eq!(areas["name"], want["name"]);
    assert_eq!(
        areas["children"].as_array().map(Vec::len),
        want["children"].as_array().map(Vec::len)
    );
    let iterations: Value = sim.json("Fabrikam-Fiber-Git/_apis/wit/classificationnodes/Iterations?$depth=2&api-version=7.2-preview.2").await;
    let dated = iterations["children"]
        .as_array()
        .expect("children")
        .iter()
        .flat_map(|c| c["children"].as_array().cloned().unwrap_or_default())
        .any(|s| s["attributes"]["startDate"].is_string());
    assert!(dated, "sprint dates come through");
    let resp = sim
        .post("Fabrikam-Fiber-Git/_apis/wit/wiql?api-version=7.2-preview.2", &json!({ "query": "Select [System.Id], [System.Title] From WorkItems Where [System.WorkItemType] <> '' order by [System.Id] desc" }))
        .send()
        .await
        .expect("send");
    let result: Value = resp.json().await.expect("json");
    let ids: Vec<i64> = result["workItems"]
        .as_array()
        .expect("items")
        .iter()
        .map(|w| w["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, vec![300, 299, 297, 12]);
    assert_eq!(
        result["columns"][1]["name"], "Title",
        "column names come from the fields list"
    );
}
