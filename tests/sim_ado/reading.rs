//! Reading a generated organization the way a migrator does: WIQL pages, batches, comments,
//! attachments, updates, metadata, identities.

use std::collections::HashSet;

use ferry::sim::ado::{AttachmentSource, Dataset, SyntheticContent, synthetic_bytes};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{dataset_s, spawn, tiny_dataset, workload_s};

#[tokio::test]
async fn a_generated_s_dataset_loads_and_every_item_is_served_through_wiql_pages_and_batches() {
    let sim = spawn(dataset_s()).await;
    assert_eq!(sim.sim.dataset().work_item_count(), 1_000);
    let mut last = 0;
    let mut ids = Vec::new();
    loop {
        let q = format!(
            "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Id] > {last} ORDER BY [System.Id] ASC"
        );
        let page: Value = sim.wiql(&q, Some(300)).await.json().await.expect("json");
        let got: Vec<i64> = page["workItems"]
            .as_array()
            .expect("items")
            .iter()
            .map(|w| w["id"].as_i64().expect("id"))
            .collect();
        let Some(&max) = got.last() else { break };
        last = max;
        ids.extend(got);
    }
    assert_eq!(ids, (1..=1_000).collect::<Vec<i64>>());
    let mut fetched = 0;
    for chunk in ids.chunks(200) {
        let body = json!({ "ids": chunk, "$expand": "relations" });
        let resp = sim
            .post(
                "Contoso/_apis/wit/workitemsbatch?api-version=7.2-preview.1",
                &body,
            )
            .send()
            .await
            .expect("send");
        let page: Value = resp.json().await.expect("json");
        for item in page["value"].as_array().expect("value") {
            assert!(item["relations"].is_array());
            assert!(
                item["url"].as_str().expect("url").starts_with(&sim.org),
                "URLs point at the simulator"
            );
            fetched += 1;
        }
    }
    assert_eq!(fetched, 1_000);
}

#[tokio::test]
async fn wiql_filters_by_type_state_area_date_with_and_or_and_parentheses() {
    let sim = spawn(tiny_dataset(40, |id| {
        json!({
            "System.TeamProject": "Contoso",
            "System.WorkItemType": (["Epic", "User Story", "Bug", "Task"][(id % 4) as usize]),
            "System.State": (["New", "Active", "Closed"][(id % 3) as usize]),
            "System.AreaPath": if id % 5 == 0 { "Contoso\\Web\\Core" } else if id % 5 == 1 { "Contoso\\Website" } else { "Contoso" },
            "System.ChangedDate": format!("2024-01-{:02}T10:00:00Z", id % 28 + 1),
        })
    }))
    .await;
    let ids = |q: &'static str| {
        let sim = &sim;
        async move {
            let v: Value = sim.wiql(q, None).await.json().await.expect("json");
            v["workItems"]
                .as_array()
                .expect("items")
                .iter()
                .map(|w| w["id"].as_i64().expect("id"))
                .collect::<Vec<_>>()
        }
    };
    let want = |f: &dyn Fn(i64) -> bool| (1..=40).filter(|i| f(*i)).collect::<Vec<_>>();
    let got = ids("select [System.Id] from workitems where [System.WorkItemType] in ('Bug', 'Task') and [System.State] <> 'Closed'").await;
    assert_eq!(got, want(&|i| (i % 4 == 2 || i % 4 == 3) && i % 3 != 2));
    let got =
        ids("SELECT [System.Id] FROM WorkItems WHERE [System.AreaPath] UNDER 'Contoso\\Web'").await;
    assert_eq!(
        got,
        want(&|i| i % 5 == 0),
        "UNDER is by path segment: Website is not under Web"
    );
    let got = ids("SELECT [System.Id] FROM WorkItems WHERE ([System.State] = 'New' OR [System.State] = 'Active') AND [System.Id] <= 10 ORDER BY [System.Id] DESC").await;
    let mut expect = want(&|i| i % 3 != 2 && i <= 10);
    expect.reverse();
    assert_eq!(got, expect);
    let got = ids("SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= '2024-01-20' AND [System.Id] >= 30 AND [System.Id] < 40").await;
    assert_eq!(got, want(&|i| (30..40).contains(&i) && i % 28 + 1 >= 20));
    let got = ids("SELECT [System.Id] FROM WorkItems WHERE [System.Id] = 7 OR [System.WorkItemType] = 'epic' AND [System.Id] < 9").await;
    assert_eq!(
        got,
        vec![4, 7, 8],
        "AND binds tighter than OR; strings compare case-insensitively"
    );
}

#[tokio::test]
async fn fields_filter_the_item_expand_conflicts_with_fields_and_omit_returns_null_for_missing_ids()
{
    let sim = spawn(dataset_s()).await;
    let v: Value = sim.json("_apis/wit/workitems?ids=1,2&fields=System.Title,System.State&api-version=7.2-preview.3").await;
    let fields = v["value"][0]["fields"].as_object().expect("fields");
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        vec!["System.State", "System.Title"]
    );
    assert!(v["value"][0].get("relations").is_none());
    let conflict = sim.get("_apis/wit/workitems?ids=1&fields=System.Title&$expand=relations&api-version=7.2-preview.3").send().await.expect("send");
    assert_eq!(conflict.status(), 400);
    let links = sim
        .get(
            "_apis/wit/workitems?ids=1&fields=System.Title&$expand=links&api-version=7.2-preview.3",
        )
        .send()
        .await
        .expect("send");
    assert_eq!(links.status(), 200);
    let missing = sim
        .get("_apis/wit/workitems?ids=1,999999&api-version=7.2-preview.3")
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status(), 404);
    assert!(
        missing.json::<Value>().await.expect("json")["message"]
            .as_str()
            .expect("m")
            .starts_with("TF401232")
    );
    let v: Value = sim
        .json("_apis/wit/workitems?ids=1,999999&errorPolicy=omit&api-version=7.2-preview.3")
        .await;
    assert_eq!(v["value"][0]["id"], 1);
    assert!(v["value"][1].is_null());
    let one: Value = sim
        .json("Contoso/_apis/wit/workitems/5?$expand=all&api-version=7.2-preview.3")
        .await;
    assert_eq!(one["id"], 5);
    assert!(one["relations"].is_array() && one["_links"].is_object());
}

#[tokio::test]
async fn comment_pages_linked_by_continuation_tokens_return_every_comment_exactly_once_in_order() {
    let (_, expected) = workload_s();
    let (hot, total) = expected.hot_items[0];
    let sim = spawn(dataset_s()).await;
    for (order, asc) in [("", false), ("&order=asc", true)] {
        let mut seen = Vec::new();
        let mut path = format!(
            "Contoso/_apis/wit/workItems/{hot}/comments?$top=37{order}&api-version=7.2-preview.4"
        );
        loop {
            let page: Value = sim.json(&path).await;
            assert_eq!(page["totalCount"], total);
            let comments = page["comments"].as_array().expect("comments");
            assert_eq!(
                page["count"].as_u64().expect("count") as usize,
                comments.len()
            );
            assert!(comments.len() <= 37);
            seen.extend(comments.iter().map(|c| c["id"].as_i64().expect("id")));
            match page["continuationToken"].as_str() {
                Some(token) => {
                    let next = page["nextPage"].as_str().expect("nextPage with a token");
                    assert!(next.contains(token));
                    path = format!(
                        "Contoso/_apis/wit/workItems/{hot}/comments?$top=37{order}&continuationToken={token}&api-version=7.2-preview.4"
                    );
                }
                None => {
                    assert!(page.get("nextPage").is_none());
                    break;
                }
            }
        }
        assert_eq!(seen.len(), total as usize);
        assert_eq!(
            seen.iter().collect::<HashSet<_>>().len(),
            seen.len(),
            "no comment twice"
        );
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        if !asc {
            sorted.reverse();
        }
        assert_eq!(
            seen, sorted,
            "newest first by default, oldest first with order=asc"
        );
    }
    let big: Value = sim
        .json(&format!(
            "Contoso/_apis/wit/workItems/{hot}/comments?$top=1000&api-version=7.2-preview.4"
        ))
        .await;
    assert_eq!(big["count"], 200, "pages hold at most 200");
}

#[tokio::test]
async fn deleted_comments_appear_only_with_include_deleted() {
    let (text, _) = workload_s();
    let doc: Value = serde_json::from_str(text).expect("json");
    let comments = doc["projects"][0]["comments"]
        .as_object()
        .expect("comments");
    let (id, list) = comments
        .iter()
        .find(|(_, v)| {
            v.as_array()
                .expect("list")
                .iter()
                .any(|c| c["isDeleted"] == true)
        })
        .expect("an item with a deleted comment");
    let visible = list
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["isDeleted"] == false)
        .count();
    let sim = spawn(dataset_s()).await;
    let plain: Value = sim
        .json(&format!(
            "Contoso/_apis/wit/workItems/{id}/comments?api-version=7.2-preview.4"
        ))
        .await;
    let all: Value = sim.json(&format!("Contoso/_apis/wit/workItems/{id}/comments?includeDeleted=true&api-version=7.2-preview.4")).await;
    assert_eq!(plain["totalCount"], visible);
    assert_eq!(all["totalCount"].as_u64().expect("n") as usize, visible + 1);
}

async fn download(sim: &crate::helpers::TestSim, guid: &str) -> (Option<u64>, Vec<u8>) {
    let resp = sim
        .get(&format!(
            "Contoso/_apis/wit/attachments/{guid}?api-version=7.2-preview.4"
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    let len = resp.content_length();
    (len, resp.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn attachments_stream_with_their_length_and_the_same_bytes_every_time() {
    let data = dataset_s();
    let (guid, synthetic) = data
        .attachments
        .iter()
        .find_map(|(g, a)| match a {
            AttachmentSource::Synthetic { synthetic, .. } if synthetic.size > 200_000 => {
                Some((g.clone(), *synthetic))
            }
            _ => None,
        })
        .expect("a synthetic attachment over 200 KB");
    let sim = spawn(data).await;
    let (len, first) = download(&sim, &guid).await;
    let (_, second) = download(&sim, &guid).await;
    assert_eq!(len, Some(synthetic.size));
    assert_eq!(first.len() as u64, synthetic.size);
    assert_eq!(Sha256::digest(&first), Sha256::digest(&second));
    let mut local = Sha256::new();
    synthetic_bytes(synthetic).for_each(|c| local.update(&c));
    assert_eq!(
        Sha256::digest(&first),
        local.finalize(),
        "the bytes are the seed's stream"
    );
    let other: Vec<u8> = synthetic_bytes(SyntheticContent {
        size: 64,
        seed: synthetic.seed + 1,
    })
    .flatten()
    .collect();
    assert_ne!(&first[..64], &other[..]);
    let bad = sim.get("Contoso/_apis/wit/attachments/00000000-0000-0000-0000-00000000dead?api-version=7.2-preview.4").send().await.expect("send");
    assert_eq!(bad.status(), 404);
}

#[tokio::test]
async fn a_one_gigabyte_synthetic_attachment_costs_nothing_until_it_is_read() {
    let mut data = tiny_dataset(1, |_| json!({}));
    let big = SyntheticContent {
        size: 1 << 30,
        seed: 5,
    };
    data.attachments.insert(
        "11111111-1111-1111-1111-111111111111".into(),
        AttachmentSource::Synthetic {
            file_name: "huge.bin".into(),
            synthetic: big,
        },
    );
    let sim = spawn(data).await;
    let resp = sim
        .get("_apis/wit/attachments/11111111-1111-1111-1111-111111111111?api-version=7.1")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.content_length(), Some(1 << 30));
    let mut stream = resp;
    let chunk = stream.chunk().await.expect("chunk").expect("some bytes");
    let expected: Vec<u8> = synthetic_bytes(big).next().expect("first chunk").to_vec();
    assert_eq!(&chunk[..], &expected[..chunk.len()]);
}

#[tokio::test]
async fn updates_page_by_top_and_skip_in_revision_order() {
    let sim = spawn(dataset_s()).await;
    let item: Value = sim.json("_apis/wit/workitems/3?api-version=7.1").await;
    let rev = item["rev"].as_i64().expect("rev");
    let first: Value = sim
        .json("_apis/wit/workItems/3/updates?$top=2&api-version=7.1")
        .await;
    let rest: Value = sim
        .json("_apis/wit/workItems/3/updates?$skip=2&api-version=7.1")
        .await;
    let revs: Vec<i64> = [&first, &rest]
        .iter()
        .flat_map(|p| {
            p["value"]
                .as_array()
                .expect("value")
                .iter()
                .map(|u| u["rev"].as_i64().expect("rev"))
        })
        .collect();
    assert_eq!(revs, (1..=rev).collect::<Vec<_>>());
}

#[tokio::test]
async fn metadata_projects_types_fields_nodes_and_identities_are_served() {
    let sim = spawn(dataset_s()).await;
    let projects: Value = sim.json("_apis/projects?api-version=7.2-preview.4").await;
    assert_eq!(projects["count"], 1);
    assert!(
        projects["value"][0].get("capabilities").is_none(),
        "the list holds references"
    );
    let id = projects["value"][0]["id"].as_str().expect("id");
    let project: Value = sim
        .json(&format!("_apis/projects/{id}?api-version=7.2-preview.4"))
        .await;
    assert_eq!(
        project["capabilities"]["processTemplate"]["templateName"],
        "Agile"
    );
    let types: Value = sim
        .json("Contoso/_apis/wit/workitemtypes?api-version=7.2-preview.2")
        .await;
    let names: Vec<&str> = types["value"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["Epic", "Feature", "User Story", "Task", "Bug"]);
    let states: Value = sim
        .json("Contoso/_apis/wit/workitemtypes/User%20Story/states?api-version=7.2-preview.1")
        .await;
    let states: Vec<&str> = states["value"]
        .as_array()
        .expect("states")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(states, ["New", "Active", "Resolved", "Closed", "Removed"]);
    let fields: Value = sim.json("_apis/wit/fields?api-version=7.2-preview.3").await;
    assert!(fields["count"].as_u64().expect("n") >= 30);
    let root: Value = sim
        .json("Contoso/_apis/wit/classificationnodes/Areas?api-version=7.2-preview.2")
        .await;
    assert!(
        root.get("children").is_none() && root["hasChildren"] == true,
        "$depth defaults to 0"
    );
    let deep: Value = sim
        .json("Contoso/_apis/wit/classificationnodes/Areas?$depth=1&api-version=7.2-preview.2")
        .await;
    let web = &deep["children"][0];
    assert_eq!(web["name"], "Web");
    assert!(web.get("children").is_none() && web["hasChildren"] == true);
    let core: Value = sim
        .json("Contoso/_apis/wit/classificationnodes/Areas/Web/Core?api-version=7.2-preview.2")
        .await;
    assert_eq!(core["name"], "Core");
    let sprints: Value = sim
        .json("Contoso/_apis/wit/classificationnodes/Iterations?$depth=2&api-version=7.2-preview.2")
        .await;
    assert_eq!(sprints["children"].as_array().expect("sprints").len(), 6);
    let person = sim.sim.dataset().identities[3].clone();
    let email = person["uniqueName"].as_str().expect("mail");
    let found: Value = sim
        .json(&format!(
            "_apis/identities?searchFilter=General&filterValue={email}&api-version=7.1"
        ))
        .await;
    assert_eq!(found["count"], 1);
    assert_eq!(found["value"][0]["id"], person["id"]);
    assert_eq!(found["value"][0]["properties"]["Mail"]["$value"], email);
    let none: Value = sim.json("_apis/identities?searchFilter=General&filterValue=nobody@nowhere.example&api-version=7.1").await;
    assert_eq!(none["count"], 0);
    let unknown = sim
        .get("Nope/_apis/wit/workitemtypes?api-version=7.1")
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn an_ado_server_collection_path_is_the_prefix_and_unknown_fields_are_served_back() {
    let json = json!({
        "baseUrl": "https://tfs.contoso.example/tfs/DefaultCollection",
        "somethingNew": { "kept": true },
        "projects": [{
            "project": { "id": "p1", "name": "Legacy", "futureKey": 1 },
            "workItems": [{ "id": 9, "rev": 1, "fields": { "System.Title": "t" }, "url": "https://tfs.contoso.example/tfs/DefaultCollection/_apis/wit/workItems/9", "x-custom": { "a": [1, 2] } }],
        }],
    });
    let data = Dataset::from_json(&json.to_string()).expect("loads");
    assert_eq!(data.extra["somethingNew"]["kept"], true);
    let sim = spawn(data).await;
    assert!(sim.org.ends_with("/tfs/DefaultCollection"), "{}", sim.org);
    let item: Value = sim
        .json("Legacy/_apis/wit/workItems/9?api-version=7.1")
        .await;
    assert_eq!(item["x-custom"]["a"], json!([1, 2]));
    assert_eq!(item["url"], format!("{}/_apis/wit/workItems/9", sim.org));
    let project: Value = sim.json("_apis/projects/Legacy?api-version=7.1").await;
    assert_eq!(project["futureKey"], 1);
    let wrong_prefix = sim
        .client
        .get(
            sim.org.replace("/tfs/DefaultCollection", "/other") + "/_apis/projects?api-version=7.1",
        )
        .basic_auth("", Some(crate::helpers::PAT))
        .send()
        .await
        .expect("send");
    assert_eq!(wrong_prefix.status(), 404);
}
