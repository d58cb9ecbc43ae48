//! The `api-version` rules: required on every call, as a query parameter or in `Accept`.
//!
//! ADO refuses a call without a version (`VssVersionNotSpecifiedException`), a version it does
//! not know (`VssVersionOutOfRangeException`), and a preview-only version asked for without
//! `-preview` (`VssInvalidPreviewVersionException`). The simulator serves 1.0 to 7.1 released
//! and 7.2 as preview, like ADO Services in 2026.

use axum::http::{HeaderMap, Method, header};

use super::error::AdoError;

/// The newest released version; later ones need `-preview`.
const LATEST_RELEASED: (u32, u32) = (7, 1);
/// The newest version served at all.
const LATEST_PREVIEW: (u32, u32) = (7, 2);

/// Finds and checks the requested version.
pub(crate) fn check(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), AdoError> {
    let raw = query.or_else(|| {
        headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .and_then(|accept| {
                accept.split([';', ',']).find_map(|part| {
                    let (k, v) = part.split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("api-version")
                        .then(|| v.trim())
                })
            })
    });
    let Some(raw) = raw.filter(|v| !v.trim().is_empty()) else {
        return Err(AdoError::bad_request(
            "VssVersionNotSpecifiedException",
            format!(
                "No api-version was supplied for the \"{method}\" request. The version must be supplied either as part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. \"?api-version=1.0\")."
            ),
        ));
    };
    let invalid = || {
        AdoError::bad_request(
            "VssInvalidApiVersionException",
            format!(
                "The api-version '{raw}' is not valid. The version must be of the format 'major.minor[-stage[.resourceVersion]]'."
            ),
        )
    };
    let (number, stage) = match raw.split_once('-') {
        Some((n, s)) => (n, Some(s)),
        None => (raw, None),
    };
    let (major, minor) = number.split_once('.').unwrap_or((number, "0"));
    let version = (
        major.trim().parse::<u32>().map_err(|_| invalid())?,
        minor.trim().parse::<u32>().map_err(|_| invalid())?,
    );
    let preview = match stage {
        None => false,
        Some(s) => {
            let (name, rv) = s.split_once('.').unwrap_or((s, "1"));
            if !name.eq_ignore_ascii_case("preview") || rv.parse::<u32>().is_err() {
                return Err(invalid());
            }
            true
        }
    };
    if version < (1, 0) || version > LATEST_PREVIEW {
        return Err(AdoError::bad_request(
            "VssVersionOutOfRangeException",
            format!(
                "The requested REST API version of {}.{} is out of range for this server. The latest REST API version this server supports is {}.{}.",
                version.0, version.1, LATEST_PREVIEW.0, LATEST_PREVIEW.1
            ),
        ));
    }
    if version > LATEST_RELEASED && !preview {
        return Err(AdoError::bad_request(
            "VssInvalidPreviewVersionException",
            format!(
                "The requested version \"{}.{}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"{}.{}-preview\"",
                version.0, version.1, version.0, version.1
            ),
        ));
    }
    Ok(())
}
