//! tus 1.0.0: core, creation, creation-with-upload, creation-defer-length,
//! checksum (sha1, sha256), termination and expiration.
//!
//! A chunk sent with `Upload-Checksum` is all or nothing: it is written as it
//! arrives (memory stays flat) and cut off again when its digest does not
//! match (460) or when it did not arrive whole, since a partial chunk cannot
//! be checked. Without a checksum, whatever arrived is kept, as the core
//! protocol expects. The `sha256` metadata key, when sent, is the whole
//! file's digest and is verified before the file is placed.

use hyper::body::Incoming;
use hyper::{HeaderMap, Method, StatusCode};

use super::body::{self, Ended};
use super::upload_name::choose_relative;
use super::writers::WriterGuard;
use super::{Reply, Server, blocking, store_error};
use crate::digest::Sha256;
use crate::serve::store::{Upload, UploadError};
use crate::wire::{
    self,
    tus::{Checksum, ChecksumHasher, OFFSET_OCTET_STREAM, TUS_VERSION},
};

const EXTENSIONS: &str =
    "creation,creation-with-upload,creation-defer-length,checksum,termination,expiration";
const NAME: &str = "tus 1.0.0";

/// 460 Checksum Mismatch, tus's own status code.
fn checksum_mismatch() -> StatusCode {
    StatusCode::from_u16(460).expect("460 is a valid status code")
}

/// The OPTIONS headers that describe tus support.
pub fn capabilities(server: &Server, reply: Reply) -> Reply {
    reply
        .header("Tus-Resumable", TUS_VERSION)
        .header("Tus-Version", TUS_VERSION)
        .header("Tus-Extension", EXTENSIONS)
        .header("Tus-Checksum-Algorithm", Checksum::LISTED)
        .header(wire::tus::RAW_METADATA.0, wire::tus::RAW_METADATA.1)
        .optional_header("Tus-Max-Size", server.settings.max_size)
}

fn check_version(headers: &HeaderMap) -> Result<(), Reply> {
    match wire::text(headers, "Tus-Resumable") {
        Some(TUS_VERSION) => Ok(()),
        other => Err(Reply::error(
            StatusCode::PRECONDITION_FAILED,
            format!("Tus-Resumable {other:?} is not supported; this server speaks {TUS_VERSION}"),
        )
        .header("Tus-Version", TUS_VERSION)),
    }
}

fn expires(server: &Server, reply: Reply, upload: &Upload) -> Reply {
    match upload.is_complete() {
        true => reply,
        false => reply.header(
            "Upload-Expires",
            httpdate::fmt_http_date(upload.expires_at(server.settings.lifetime)),
        ),
    }
}

/// The chunk checksum a request announces, ready to be computed.
fn chunk_checksum(headers: &HeaderMap) -> Result<Option<(ChecksumHasher, Vec<u8>)>, Reply> {
    let Some((algorithm, expected)) = wire::tus::read_checksum(headers)? else {
        return Ok(None);
    };
    match Checksum::named(&algorithm) {
        Some(checksum) => Ok(Some((checksum.hasher(), expected))),
        None => Err(Reply::error(
            StatusCode::BAD_REQUEST,
            format!(
                "Upload-Checksum algorithm {algorithm} is not supported (use {})",
                Checksum::LISTED
            ),
        )),
    }
}

/// Writes one request's body at the upload's offset and finishes the upload
/// when it reaches its length. Returns the upload as it now stands.
async fn write_chunk(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    guard: &mut WriterGuard<'_>,
    upload: &Upload,
) -> Result<Upload, Reply> {
    let id = upload.info.id.as_str();
    let mut checksum = chunk_checksum(headers)?;
    let settings = &server.settings;
    if let (Some(content), Some(length)) = (
        wire::fields::integer(headers, "Content-Length")?,
        upload.info.length,
    ) && upload.offset + content > length
    {
        return Err(Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{content} bytes at offset {} exceed the Upload-Length of {length}",
                upload.offset
            ),
        ));
    }
    let appender = blocking(|| server.store.append(id, upload.offset, settings.max_size))
        .map_err(store_error)?;
    let (ended, appender) = body::receive(
        body,
        appender,
        guard,
        settings.max_append_size,
        checksum.as_mut().map(|(digest, _)| digest),
    )
    .await
    .map_err(store_error)?;
    let checked = checksum.is_some();
    let verdict = match (&ended, checksum) {
        (Ended::Complete, Some((digest, expected))) => digest.finish() == expected,
        _ => true,
    };
    let offset = match ended {
        Ended::Complete if !verdict => {
            blocking(|| appender.discard()).map_err(store_error)?;
            return Err(Reply::error(
                checksum_mismatch(),
                "Upload-Checksum does not match the chunk; it was discarded",
            ));
        }
        Ended::Complete => blocking(|| appender.finish()).map_err(store_error)?,
        Ended::OverAppendLimit(limit) => {
            blocking(|| appender.discard()).map_err(store_error)?;
            return Err(Reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a request may carry at most {limit} bytes"),
            ));
        }
        Ended::OverLength(length) => {
            blocking(|| appender.discard()).map_err(store_error)?;
            return Err(Reply::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the upload may not grow past {length} bytes"),
            ));
        }
        Ended::Interrupted(_) | Ended::Preempted => {
            let offset = match checked {
                true => blocking(|| appender.discard()),
                false => blocking(|| appender.finish()),
            }
            .map_err(store_error)?;
            let status = match ended {
                Ended::Preempted => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            return Err(
                Reply::error(status, format!("the chunk did not arrive whole: {ended:?}"))
                    .header("Upload-Offset", offset),
            );
        }
    };
    let mut written = blocking(|| server.store.get(id)).map_err(store_error)?;
    if written.info.length == Some(offset) {
        let completed = server
            .finish(&written.info, NAME)
            .await
            .map_err(store_error)?;
        written.info.completed = Some(completed);
    }
    Ok(written)
}

/// The answer to a request that carried a chunk.
fn chunk_reply(server: &Server, status: StatusCode, upload: &Upload) -> Reply {
    let mut reply = Reply::new(status).header("Upload-Offset", upload.offset);
    if let Some(completed) = &upload.info.completed {
        reply = Server::completed_headers(reply, completed);
    }
    expires(server, reply, upload)
}

/// `POST` to the endpoint: creation, optionally with the first chunk.
pub async fn create(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    target: &[u8],
) -> Reply {
    create_upload(server, headers, body, target)
        .await
        .unwrap_or_else(|reply| reply)
        .header("Tus-Resumable", TUS_VERSION)
}

async fn create_upload(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    target: &[u8],
) -> Result<Reply, Reply> {
    check_version(headers)?;
    let length = wire::fields::integer(headers, "Upload-Length")?;
    let deferred = wire::text(headers, "Upload-Defer-Length");
    match (length, deferred) {
        (Some(_), None) | (None, Some("1")) => {}
        (Some(_), Some(_)) => {
            return Err(Reply::error(
                StatusCode::BAD_REQUEST,
                "send Upload-Length or Upload-Defer-Length, not both",
            ));
        }
        (None, _) => {
            return Err(Reply::error(
                StatusCode::BAD_REQUEST,
                "creation needs Upload-Length, or Upload-Defer-Length: 1",
            ));
        }
    }
    if let (Some(length), Some(max)) = (length, server.settings.max_size)
        && length > max
    {
        return Err(Reply::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Upload-Length {length} exceeds Tus-Max-Size {max}"),
        ));
    }
    let metadata = wire::tus::read_metadata(headers)?;
    let relative = choose_relative(target, &metadata, headers, true)?;
    let announced = metadata
        .get("sha256")
        .map(|hex| String::from_utf8_lossy(hex));
    let sha256 = match announced.map(|hex| Sha256::from_hex(&hex)) {
        None => None,
        Some(Ok(sha256)) => Some(sha256),
        Some(Err(_)) => {
            return Err(Reply::error(
                StatusCode::BAD_REQUEST,
                "Upload-Metadata sha256 must be 64 hex digits",
            ));
        }
    };
    let carries_chunk = wire::media_type(headers).as_deref() == Some(OFFSET_OCTET_STREAM);
    let whole = carries_chunk
        && length.is_some()
        && wire::fields::integer(headers, "Content-Length")? == length;
    let info = blocking(|| {
        server
            .store
            .create(&relative, length, sha256, metadata, whole)
    })
    .map_err(store_error)?;
    let location = server.location(&info.id);
    let with_location = |reply: Reply| reply.header("Location", &location);
    let upload = blocking(|| server.store.get(&info.id)).map_err(store_error)?;
    if !carries_chunk && info.length != Some(0) {
        return Ok(with_location(expires(
            server,
            Reply::new(StatusCode::CREATED),
            &upload,
        )));
    }
    let mut guard = server.writers.take_over(&info.id).await;
    let written = match write_chunk(server, headers, body, &mut guard, &upload).await {
        Ok(written) => written,
        Err(reply) => {
            // The answer names the upload: the client may come back to it.
            let _ = blocking(|| server.store.describe(&info.id));
            return Err(with_location(reply));
        }
    };
    Ok(with_location(chunk_reply(
        server,
        StatusCode::CREATED,
        &written,
    )))
}

/// `HEAD`, `PATCH` and `DELETE` on an upload.
pub async fn resource(
    server: &Server,
    method: &Method,
    headers: &HeaderMap,
    body: &mut Incoming,
    id: &str,
) -> Reply {
    let result = match check_version(headers) {
        Err(reply) => Err(reply),
        Ok(()) => match *method {
            Method::HEAD => head(server, id).await,
            Method::PATCH => patch(server, headers, body, id).await,
            Method::DELETE => delete(server, id).await,
            _ => Err(super::method_not_allowed("HEAD, PATCH, DELETE")),
        },
    };
    result
        .unwrap_or_else(|reply| reply)
        .header("Tus-Resumable", TUS_VERSION)
}

async fn head(server: &Server, id: &str) -> Result<Reply, Reply> {
    let _guard = server.writers.take_over(id).await;
    let upload = server.lookup(id).map_err(|lookup| lookup.reply(id))?;
    let info = &upload.info;
    let mut reply = Reply::new(StatusCode::OK)
        .header("Upload-Offset", upload.offset)
        .header("Cache-Control", "no-store");
    reply = match info.length {
        Some(length) => reply.header("Upload-Length", length),
        None => reply.header("Upload-Defer-Length", 1),
    };
    if !info.metadata.is_empty() {
        reply = reply.header(
            "Upload-Metadata",
            wire::tus::write_metadata(
                info.metadata
                    .iter()
                    .map(|(key, value)| (key.as_str(), value.0.as_slice())),
            ),
        );
    }
    if let Some(completed) = &info.completed {
        reply = Server::completed_headers(reply, completed);
    }
    Ok(expires(server, reply, &upload))
}

async fn patch(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    id: &str,
) -> Result<Reply, Reply> {
    if wire::media_type(headers).as_deref() != Some(OFFSET_OCTET_STREAM) {
        return Err(Reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("PATCH needs Content-Type: {OFFSET_OCTET_STREAM}"),
        ));
    }
    let claimed = wire::fields::integer(headers, "Upload-Offset")?
        .ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "PATCH needs Upload-Offset"))?;
    let declared = wire::fields::integer(headers, "Upload-Length")?;
    let mut guard = server.writers.take_over(id).await;
    let mut upload = server.lookup(id).map_err(|lookup| lookup.reply(id))?;
    if claimed != upload.offset {
        return Err(Reply::error(
            StatusCode::CONFLICT,
            format!(
                "Upload-Offset {claimed} does not match the upload's {}",
                upload.offset
            ),
        )
        .header("Upload-Offset", upload.offset));
    }
    if let Some(length) = declared {
        upload.info =
            blocking(|| server.store.set_length(id, length)).map_err(|error| match error {
                UploadError::LengthAlreadySet(known) => Reply::error(
                    StatusCode::BAD_REQUEST,
                    format!("Upload-Length is already {known}"),
                ),
                other => store_error(other),
            })?;
    }
    if upload.is_complete() {
        return match wire::fields::integer(headers, "Content-Length")? {
            Some(0) => Ok(expires(server, Reply::new(StatusCode::NO_CONTENT), &upload)
                .header("Upload-Offset", upload.offset)),
            _ => Err(Reply::error(
                StatusCode::BAD_REQUEST,
                "the upload is already complete",
            )),
        };
    }
    let written = write_chunk(server, headers, body, &mut guard, &upload).await?;
    Ok(chunk_reply(server, StatusCode::NO_CONTENT, &written))
}

async fn delete(server: &Server, id: &str) -> Result<Reply, Reply> {
    let _guard = server.writers.take_over(id).await;
    server.lookup(id).map_err(|lookup| lookup.reply(id))?;
    blocking(|| server.store.delete(id)).map_err(store_error)?;
    Ok(Reply::new(StatusCode::NO_CONTENT))
}
