//! Attachments: what ADO serves for every file of an item (attached, or an image inline in its
//! rich text), and what Jira holds, each as (file name, size, SHA-256 of the bytes).

use std::collections::{BTreeMap, HashMap};

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::read::Jira;
use crate::mapping::items;

/// (file name, size, SHA-256) of one file.
pub(crate) type File = (String, u64, String);

/// The bytes of one ADO attachment, hashed as they stream (a 50 MB file is never held).
async fn ado_file(http: &reqwest::Client, org: &str, pat: &str, guid: &str) -> (u64, String) {
    let mut r = http
        .get(format!("{org}/_apis/wit/attachments/{guid}"))
        .query(&[("api-version", "7.1")])
        .basic_auth("", Some(pat))
        .send()
        .await
        .expect("ado");
    assert!(
        r.status().is_success(),
        "ADO attachment {guid}: {}",
        r.status()
    );
    let (mut size, mut hash) = (0u64, Sha256::new());
    while let Some(chunk) = r.chunk().await.expect("chunk") {
        size += chunk.len() as u64;
        hash.update(&chunk);
    }
    (size, hex::encode(hash.finalize()))
}

/// (GUID, file name) of every file an item has: its attached files, then the images in its
/// rich text (description, repro steps) that are not attached too.
pub(crate) fn files_of(item: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in item["relations"].as_array().into_iter().flatten() {
        if r["rel"] != "AttachedFile" {
            continue;
        }
        // The dataset names ADO's host; the simulator serves under its own.
        let guid = r["url"]
            .as_str()
            .expect("url")
            .rsplit('/')
            .next()
            .expect("guid");
        let name = r["attributes"]["name"].as_str().expect("name");
        out.push((guid.to_lowercase(), name.to_owned()));
    }
    for (guid, name) in inline_images(item) {
        if !out.iter().any(|(g, _)| *g == guid) {
            out.push((guid, name));
        }
    }
    out
}

/// What ADO serves for every file of every item in `ids`: ADO id → files, sorted.
pub(crate) async fn ado_files(
    dataset: &Value,
    org: &str,
    pat: &str,
    wanted: impl Fn(i64) -> bool,
) -> BTreeMap<i64, Vec<File>> {
    let http = reqwest::Client::new();
    let jobs: Vec<(i64, String, String)> = items(dataset)
        .iter()
        .filter(|i| wanted(i["id"].as_i64().expect("id")))
        .flat_map(|i| {
            let id = i["id"].as_i64().expect("id");
            files_of(i).into_iter().map(move |(g, n)| (id, g, n))
        })
        .collect();
    let fetched: Vec<(i64, File)> = futures_util::stream::iter(jobs)
        .map(|(id, guid, name)| {
            let http = &http;
            async move {
                let (size, sha) = ado_file(http, org, pat, &guid).await;
                Ok::<_, ()>((id, (name, size, sha)))
            }
        })
        .buffer_unordered(4)
        .try_collect()
        .await
        .expect("files");
    let mut out: BTreeMap<i64, Vec<File>> = items(dataset)
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .filter(|id| wanted(*id))
        .map(|id| (id, Vec::new()))
        .collect();
    for (id, f) in fetched {
        out.entry(id).or_default().push(f);
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// An issue's attachments as Jira's REST API lists them, each with the SHA-256 the simulator
/// computed of the bytes it received, sorted; `None` for one the simulator has no digest of.
pub(crate) fn jira_files(jira: &Jira, issue: &Value) -> Vec<(String, u64, Option<String>)> {
    let key = issue["key"].as_str().expect("key");
    let digests: HashMap<String, String> = jira
        .sim
        .attachments_of(key)
        .into_iter()
        .map(|f| (f.id, f.sha256))
        .collect();
    let mut files: Vec<_> = issue["fields"]["attachment"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let id = a["id"].as_str().expect("id");
            (
                a["filename"].as_str().expect("name").to_owned(),
                a["size"].as_u64().expect("size"),
                digests.get(id).cloned(),
            )
        })
        .collect();
    files.sort();
    files
}

/// (GUID, file name) of the images in an item's rich text (description, repro steps).
pub(crate) fn inline_images(item: &Value) -> Vec<(String, String)> {
    let fields = item["fields"].as_object().expect("fields");
    let mut out: Vec<(String, String)> = fields
        .values()
        .filter_map(Value::as_str)
        .flat_map(|html| html.split("/_apis/wit/attachments/").skip(1))
        .filter_map(|rest| {
            let (guid, rest) = rest.split_once("?fileName=")?;
            let name = rest.split(['"', '&']).next()?;
            Some((guid.to_lowercase(), name.to_owned()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
