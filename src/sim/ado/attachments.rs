//! Attachment download: `GET _apis/wit/attachments/{id}`, streamed with `Content-Length`.
//!
//! Synthetic attachments are generated while they are sent, 64 KiB at a time, from a ChaCha8
//! stream seeded by the dataset, so a 1 GB file costs neither disk nor memory and every
//! download of it is the same bytes. Inline attachments are decoded from base64.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::dataset::{AttachmentSource, SyntheticContent};
use super::dispatch::Ctx;
use super::error::AdoError;

const CHUNK: usize = 64 * 1024;

/// The bytes of a synthetic attachment, in chunks of at most 64 KiB. Concatenated, they are
/// the first `size` bytes of `ChaCha8Rng::seed_from_u64(seed)`'s output.
pub fn synthetic_bytes(content: SyntheticContent) -> impl Iterator<Item = Bytes> + Send + 'static {
    let mut rng = ChaCha8Rng::seed_from_u64(content.seed);
    let mut remaining = content.size;
    std::iter::from_fn(move || {
        if remaining == 0 {
            return None;
        }
        let n = remaining.min(CHUNK as u64) as usize;
        let mut buf = vec![0u8; n];
        rng.fill_bytes(&mut buf);
        remaining -= n as u64;
        Some(Bytes::from(buf))
    })
}

/// The download.
pub(crate) fn get(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let id = &api[2];
    let source = ctx
        .sim
        .data
        .attachments
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(id))
        .map(|(_, v)| v)
        .ok_or_else(|| {
            AdoError::not_found(
                "AttachmentNotFoundException",
                format!("TF401001: The attachment {id} does not exist or you do not have permission to access it."),
            )
        })?;
    let (name, length, body) = match source {
        AttachmentSource::Inline {
            file_name,
            content_base64,
        } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(content_base64.trim())
                .map_err(|_| {
                    AdoError::argument(format!(
                        "The dataset's attachment {id} is not valid base64."
                    ))
                })?;
            (file_name, bytes.len() as u64, Body::from(bytes))
        }
        AttachmentSource::Synthetic {
            file_name,
            synthetic,
        } => {
            let stream =
                futures_util::stream::iter(synthetic_bytes(*synthetic).map(Ok::<_, Infallible>));
            (file_name, synthetic.size, Body::from_stream(stream))
        }
    };
    let name = ctx.query.get("fileName").unwrap_or(name);
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\r', '\n'], "_")
    );
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
