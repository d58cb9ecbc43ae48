//! PAT authentication as ADO does it: HTTP Basic, any user name, the token as the password.
//!
//! Anything else (no header, another scheme, a wrong token) is a 401 with an empty body; ADO
//! itself answers with an HTML sign-in page or nothing, and clients only look at the status.
//! The token is compared in constant time and never logged.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// Whether the request carries `Authorization: Basic base64(any:pat)`.
pub(crate) fn authorized(headers: &HeaderMap, pat: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|b| *b == b':') else {
        return false;
    };
    constant_time_eq(&decoded[colon + 1..], pat.as_bytes()) && !pat.is_empty()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The 401 ADO sends for a missing or bad PAT.
pub(crate) fn unauthorized() -> Response {
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"https://dev.azure.com/\""),
    );
    resp
}
