//! Plain `PUT` (or `POST`) of a whole file to `/files/<path>`.
//!
//! For clients that speak no resumable protocol, and for ferry's own `put`
//! destinations. The body goes through the same store as resumable uploads
//! (so it is streamed, verified and placed the same way), but an upload that
//! does not arrive whole is deleted: a plain request has no URL to resume at.
//! A `Repr-Digest` or `Content-Digest` with `sha-256` is verified.

use std::collections::BTreeMap;

use hyper::body::Incoming;
use hyper::{HeaderMap, StatusCode};

use super::body::{self, Ended};
use super::upload_name::choose_relative;
use super::{Reply, Server, blocking, store_error};
use crate::serve::store::{Forward, UploadStore};
use crate::wire;

/// A plain upload in the store until it completes: whatever ends the
/// request first (an error, a refusal, the client gone and the handler
/// dropped) deletes it, since nobody could resume it, and frees its place
/// among `--max-uploads`.
struct Unresumable<'a> {
    store: &'a UploadStore,
    id: String,
    kept: bool,
}

impl Drop for Unresumable<'_> {
    fn drop(&mut self) {
        if !self.kept {
            let _ = self.store.delete(&self.id);
        }
    }
}

pub async fn put(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    target: &[u8],
) -> Reply {
    put_file(server, headers, body, target)
        .await
        .unwrap_or_else(|reply| reply)
}

async fn put_file(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    target: &[u8],
) -> Result<Reply, Reply> {
    let relative = choose_relative(target, &BTreeMap::new(), headers, false)?;
    let content_length = wire::fields::integer(headers, "Content-Length")?;
    let max_size = server.settings.max_size;
    if let (Some(length), Some(max)) = (content_length, max_size)
        && length > max
    {
        return Err(Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{length} bytes exceed the server's maximum of {max}"),
        ));
    }
    let sha256 = match wire::fields::sha256_digest(headers, "Repr-Digest")? {
        Some(digest) => Some(digest),
        None => wire::fields::sha256_digest(headers, "Content-Digest")?,
    };
    let info = blocking(|| {
        server
            .store
            .create(&relative, content_length, sha256, BTreeMap::new(), true)
    })
    .map_err(store_error)?;
    server.store.unnamed(&info.id);
    let mut unresumable = Unresumable {
        store: &server.store,
        id: info.id.clone(),
        kept: false,
    };
    let mut guard = server.writers.take_over(&info.id).await;
    let appender = blocking(|| server.store.append(&info.id, 0, max_size)).map_err(store_error)?;
    let (ended, appender) = body::receive(body, appender, &mut guard, None, None)
        .await
        .map_err(store_error)?;
    if ended != Ended::Complete {
        drop(appender);
        return Err(match ended {
            Ended::OverLength(length) => Reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is longer than {length} bytes"),
            ),
            other => Reply::error(
                StatusCode::BAD_REQUEST,
                format!("the body did not arrive whole ({other:?}); send it again"),
            ),
        });
    }
    let offset = blocking(|| appender.finish()).map_err(store_error)?;
    let info = blocking(|| server.store.set_length(&info.id, offset)).map_err(store_error)?;
    let completed = server
        .finish(&info, "plain PUT")
        .await
        .map_err(store_error)?;
    // Nobody can ask about a plain upload later: it has no URL. One still
    // waiting for the backend stays, so that it is retried.
    unresumable.kept = matches!(completed.forward, Some(Forward::Waiting { .. }));
    Ok(Server::completed_headers(
        Server::completion(&completed),
        &completed,
    ))
}
