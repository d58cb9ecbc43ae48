//! Outbound webhook: run state changes (queued, running, paused, completed, failed, cancelled)
//! posted to the URL the tenant configured, with ids and counts only.
//!
//! Why this shape:
//! - Never blocking the run: a change is put on the tenant's queue and the caller goes on;
//!   one task per tenant delivers its queue in order (so a receiver sees `queued` before
//!   `running`), retrying a few times with backoff, and gives up after the last try (logged).
//!   A slow or broken receiver delays only its own tenant's deliveries.
//! - Signed: `X-Ferry-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact body under the
//!   tenant's secret, shown once when the webhook was configured, so the receiver can tell
//!   Ferry's posts from anyone's.
//! - SSRF: the URL is checked again at every delivery with the same guard as ADO URLs
//!   (https only unless allowed, public addresses only), the checked addresses are pinned, and
//!   redirects are not followed.
//! - Deliveries live in memory: a change made just before the process dies may not be posted.
//!   The run itself, its audit log and its report are the record; the webhook is a courtesy.

use std::{collections::HashMap, time::Duration};

use anyhow::Context as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::app::AppState;

/// Pauses before each try; the first is at once.
const TRIES: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::from_secs(9),
];
/// A tenant's delivery task ends after this long with nothing to send.
const IDLE: Duration = Duration::from_secs(60);
/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-ferry-signature";

/// One state change to post.
#[derive(Debug, Clone)]
struct Change {
    run_id: String,
    status: String,
}

/// The per-tenant delivery queues of this process.
#[derive(Default)]
pub struct Notifier {
    queues: parking_lot::Mutex<HashMap<String, mpsc::UnboundedSender<Change>>>,
}

/// Posts that run `run_id` of `client_key` is now `status`, if the tenant has a webhook;
/// returns at once.
pub fn run_changed(state: &AppState, client_key: &str, run_id: &str, status: &str) {
    let change = Change {
        run_id: run_id.to_owned(),
        status: status.to_owned(),
    };
    let mut queues = state.notifier.queues.lock();
    if let Some(tx) = queues.get(client_key)
        && tx.send(change.clone()).is_ok()
    {
        return;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let _ = tx.send(change);
    queues.insert(client_key.to_owned(), tx);
    tokio::spawn(deliver_queue(state.clone(), client_key.to_owned(), rx));
}

/// Delivers a tenant's changes in order until it has been idle for a while.
async fn deliver_queue(
    state: AppState,
    client_key: String,
    mut rx: mpsc::UnboundedReceiver<Change>,
) {
    loop {
        let change = match tokio::time::timeout(IDLE, rx.recv()).await {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(_) => {
                // Idle: retire the queue, then send what slipped in before it was removed.
                state.notifier.queues.lock().remove(&client_key);
                rx.close();
                while let Some(c) = rx.recv().await {
                    deliver(&state, &client_key, &c).await;
                }
                return;
            }
        };
        deliver(&state, &client_key, &change).await;
    }
}

#[tracing::instrument(skip_all, fields(tenant = %client_key, run = %change.run_id, status = %change.status))]
async fn deliver(state: &AppState, client_key: &str, change: &Change) {
    let hook = match state.store.webhook(client_key).await {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "reading the webhook failed; change not posted");
            return;
        }
    };
    let body = match body(state, client_key, change).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "building the webhook body failed");
            return;
        }
    };
    let Ok(secret) = state
        .config
        .secret_key
        .open(&hook.secret, client_key.as_bytes())
    else {
        tracing::error!("the webhook secret does not open; change not posted");
        return;
    };
    let signature = sign(&secret, &body);
    let delivery = uuid::Uuid::new_v4().to_string();
    for (n, pause) in TRIES.iter().enumerate() {
        tokio::time::sleep(*pause).await;
        match post(
            state,
            &hook.url,
            &body,
            &signature,
            &delivery,
            &change.status,
        )
        .await
        {
            Ok(()) => {
                tracing::debug!(attempt = n + 1, "webhook delivered");
                return;
            }
            Err(e) => {
                tracing::warn!(attempt = n + 1, error = %format!("{e:#}"), "webhook delivery failed")
            }
        }
    }
    tracing::warn!("webhook delivery given up");
}

/// The body: ids, status, phase and counts, never content.
async fn body(state: &AppState, client_key: &str, change: &Change) -> anyhow::Result<Vec<u8>> {
    let run = state.store.run(client_key, &change.run_id).await?;
    let counts: serde_json::Map<String, Value> = state
        .store
        .run_counts(client_key, &change.run_id)
        .await?
        .into_iter()
        .map(|c| (c.state, json!(c.items)))
        .collect();
    let body = json!({
        "event": format!("run.{}", change.status),
        "runId": run.id,
        "mappingId": run.mapping_id,
        "mappingVersion": run.mapping_version,
        "status": change.status,
        "phase": run.phase,
        "itemsTotal": run.items_total,
        "items": counts,
        "at": crate::store::now_ms(),
    });
    Ok(serde_json::to_vec(&body)?)
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post(
    state: &AppState,
    url: &str,
    body: &[u8],
    signature: &str,
    delivery: &str,
    status: &str,
) -> anyhow::Result<()> {
    let checked = state
        .source_policy()
        .check(url)
        .await
        .map_err(|e| anyhow::anyhow!("webhook URL refused: {e}"))?;
    let host = checked.url.host_str().context("URL without host")?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5));
    for addr in &checked.addrs {
        builder = builder.resolve(host, *addr);
    }
    let answer = builder
        .build()?
        .post(checked.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header("x-ferry-event", format!("run.{status}"))
        .header("x-ferry-delivery", delivery)
        .body(body.to_vec())
        .send()
        .await
        .context("posting")?;
    anyhow::ensure!(
        answer.status().is_success(),
        "the receiver answered {}",
        answer.status()
    );
    Ok(())
}
