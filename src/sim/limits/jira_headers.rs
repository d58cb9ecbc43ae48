//! The 429 responses of the Jira limiter and the headers they carry (reference §1.2 "Headers").

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use super::{
    clock::{Epoch, iso8601, retry_after_secs},
    jira_state::{Refusal, quota_policy},
    profile::JiraProfile,
};

/// `RateLimit-Reason` of a refusal (reference §1.2).
pub(super) fn refusal_reason(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Quota { reason, .. } => reason,
        Refusal::Burst { .. } => "jira-burst-based",
        Refusal::PerIssue { .. } => "jira-per-issue-on-write",
        Refusal::Concurrent { .. } => {
            "jira-max-concurrent-threads-across-all-instances-per-tenant-per-user"
        }
    }
}

/// The 429 of a refusal, with every header the reference lists.
pub(super) fn refusal_response(
    refusal: &Refusal,
    profile: &JiraProfile,
    epoch: &Epoch,
    now: f64,
) -> Response {
    let mut headers = HeaderMap::new();
    let reason = refusal_reason(refusal);
    let (limit, wait) = match refusal {
        Refusal::Quota {
            limit, reset_at, ..
        } => (*limit, reset_at - now),
        Refusal::Burst { rate, wait } => (rate.round() as u64, *wait),
        Refusal::PerIssue { max, wait } => (u64::from(*max), *wait),
        Refusal::Concurrent { max } => (u64::from(*max), 1.0),
    };
    let retry = retry_after_secs(wait);
    put(&mut headers, "retry-after", retry.to_string());
    put(&mut headers, "ratelimit-reason", reason.into());
    put(&mut headers, "x-ratelimit-limit", limit.to_string());
    put(&mut headers, "x-ratelimit-remaining", "0".into());
    put(
        &mut headers,
        "x-ratelimit-reset",
        iso8601(epoch.wall(now + wait)),
    );
    put(&mut headers, "x-ratelimit-nearlimit", "true".into());
    match refusal {
        Refusal::Quota { limit, .. } => {
            if let Some(q) = &profile.quota {
                let policy = quota_policy(q.pool);
                let w = q.hour_secs.round() as u64;
                put(
                    &mut headers,
                    "ratelimit-policy",
                    format!("\"{policy}\";q={limit};w={w}"),
                );
                put(
                    &mut headers,
                    "ratelimit",
                    format!("\"{policy}\";r=0;t={retry}"),
                );
                put(
                    &mut headers,
                    "beta-ratelimit-policy",
                    format!("\"{policy}\";q={limit};w={w}"),
                );
                put(
                    &mut headers,
                    "beta-ratelimit",
                    format!("\"{policy}\";r=0;t={retry}"),
                );
            }
        }
        Refusal::Burst { .. } => {
            put(
                &mut headers,
                "beta-ratelimit-policy",
                format!("\"jira-burst-based\";q={limit};w=1"),
            );
            put(
                &mut headers,
                "beta-ratelimit",
                format!("\"jira-burst-based\";r=0;t={retry}"),
            );
        }
        Refusal::PerIssue { .. } | Refusal::Concurrent { .. } => {}
    }
    let body = serde_json::json!({ "errorMessages": [format!("Rate limit exceeded ({reason}).")], "errors": {} });
    (StatusCode::TOO_MANY_REQUESTS, headers, Json(body)).into_response()
}

/// Sets a header, dropping values that are not valid header text.
pub(super) fn put(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(name, v);
    }
}
