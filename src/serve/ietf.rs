//! The IETF resumable uploads draft, interop versions 3 and 5 to 8.
//!
//! The versions differ in a handful of details, and each one is a method on
//! `Interop` so the handlers read as the current draft does:
//! - 3 (draft -01) says `Upload-Incomplete: ?1` where later ones say
//!   `Upload-Complete: ?0`;
//! - 6 and later (drafts -04 on) require `application/partial-upload` on
//!   appends and announce `Upload-Limit`, whose lifetime key is `expires` in
//!   6 and `max-age` from 7 on.
//!
//! Appends answer with `Upload-Offset` in every version even where the draft
//! no longer requires it, because tus-js-client reads it in its IETF modes.
//! Completion answers `201 Created` (or `200 OK` when the name already held
//! identical content) with `Upload-Complete: ?1`, `Ferry-Path` and
//! `Repr-Digest`; a later `HEAD` repeats the last two.

use hyper::body::Incoming;
use hyper::{HeaderMap, Method, StatusCode};
use serde_json::json;

use super::body::{self, Ended};
use super::upload_name::choose_relative;
use super::writers::WriterGuard;
use super::{Reply, Server, blocking, store_error};
use crate::serve::store::{Completed, Upload, UploadError};
use crate::wire::{
    self,
    fields::UploadLimit,
    ietf::{Interop, PARTIAL_UPLOAD},
};

/// What only the receiver does with an interop version.
trait Receiving {
    fn name(self) -> String;
    fn required_complete(self, headers: &HeaderMap) -> Result<bool, Reply>;
    fn with_complete(self, reply: Reply, complete: bool) -> Reply;
    fn with_limits(self, server: &Server, reply: Reply, upload: Option<&Upload>) -> Reply;
}

impl Receiving for Interop {
    fn name(self) -> String {
        format!("IETF draft (interop {})", self.version())
    }

    /// Whether the request completes the upload; the field is required.
    fn required_complete(self, headers: &HeaderMap) -> Result<bool, Reply> {
        self.read_complete(headers)?.ok_or_else(|| {
            Reply::error(
                StatusCode::BAD_REQUEST,
                format!("the request has no {} field", self.complete_field()),
            )
        })
    }

    fn with_complete(self, reply: Reply, complete: bool) -> Reply {
        reply.header(self.complete_field(), self.complete_value(complete))
    }

    fn with_limits(self, server: &Server, reply: Reply, upload: Option<&Upload>) -> Reply {
        match self.announces_limits() {
            true => reply.header("Upload-Limit", upload_limit(server, self, upload)),
            false => reply,
        }
    }
}

/// The `Upload-Limit` dictionary for this server and upload.
pub fn upload_limit(server: &Server, interop: Interop, upload: Option<&Upload>) -> String {
    UploadLimit {
        max_size: server.settings.max_size,
        max_append_size: server.settings.max_append_size,
        max_age: Some(server.remaining_life(upload)),
        ..UploadLimit::default()
    }
    .write(interop.age_key())
}

fn inconsistent_length(title: &str) -> Reply {
    Reply::problem(
        StatusCode::BAD_REQUEST,
        "inconsistent-upload-length",
        title,
        json!({}),
    )
}

fn too_large(server: &Server, interop: Interop, what: String) -> Reply {
    Reply::error(StatusCode::PAYLOAD_TOO_LARGE, what)
        .header("Upload-Limit", upload_limit(server, interop, None))
}

/// Refuses sizes over the limits before any byte is stored.
fn check_limits(
    server: &Server,
    interop: Interop,
    length: Option<u64>,
    content_length: Option<u64>,
) -> Result<(), Reply> {
    let settings = &server.settings;
    if let (Some(length), Some(max)) = (length, settings.max_size)
        && length > max
    {
        return Err(too_large(
            server,
            interop,
            format!("the upload's {length} bytes exceed max-size={max}"),
        ));
    }
    if let (Some(content), Some(max)) = (content_length, settings.max_append_size)
        && content > max
    {
        return Err(too_large(
            server,
            interop,
            format!("a request of {content} bytes exceeds max-append-size={max}"),
        ));
    }
    Ok(())
}

/// What one body did to the upload.
enum Appended {
    Partial(u64),
    Done(Completed, u64),
}

/// Appends a request body at `offset` and, when the request says so,
/// completes the upload at the offset reached.
async fn append_body(
    server: &Server,
    body: &mut Incoming,
    guard: &mut WriterGuard<'_>,
    id: &str,
    offset: u64,
    complete: bool,
    interop: Interop,
) -> Result<Appended, Reply> {
    let settings = &server.settings;
    let appender =
        blocking(|| server.store.append(id, offset, settings.max_size)).map_err(store_error)?;
    let (ended, appender) = body::receive(body, appender, guard, settings.max_append_size, None)
        .await
        .map_err(store_error)?;
    match ended {
        Ended::Complete => {
            let offset = blocking(|| appender.finish()).map_err(store_error)?;
            if !complete {
                return Ok(Appended::Partial(offset));
            }
            let info =
                blocking(|| server.store.set_length(id, offset)).map_err(|error| match error {
                    UploadError::LengthAlreadySet(length) => inconsistent_length(&format!(
                        "the upload was completed at {offset} bytes, but its length is {length}"
                    )),
                    other => store_error(other),
                })?;
            let completed = server
                .finish(&info, &interop.name())
                .await
                .map_err(store_error)?;
            Ok(Appended::Done(completed, offset))
        }
        Ended::Interrupted(why) => {
            let offset = blocking(|| appender.finish()).map_err(store_error)?;
            Err(Reply::error(
                StatusCode::BAD_REQUEST,
                format!("the request body ended early ({why}); resume at {offset}"),
            )
            .header("Upload-Offset", offset))
        }
        Ended::Preempted => {
            let offset = blocking(|| appender.finish()).map_err(store_error)?;
            Err(Reply::error(
                StatusCode::CONFLICT,
                "a newer request for this upload took over",
            )
            .header("Upload-Offset", offset))
        }
        Ended::OverAppendLimit(limit) => {
            blocking(|| appender.discard()).map_err(store_error)?;
            Err(too_large(
                server,
                interop,
                format!("the request carried more than max-append-size={limit} bytes"),
            ))
        }
        Ended::OverLength(length) => {
            drop(appender);
            let declared = blocking(|| server.store.get(id))
                .map(|upload| upload.info.length.is_some())
                .unwrap_or(true);
            blocking(|| server.store.delete(id)).map_err(store_error)?;
            Err(match declared {
                true => inconsistent_length(&format!(
                    "the upload grew past its length of {length} bytes and was deactivated"
                )),
                false => too_large(
                    server,
                    interop,
                    format!("the upload grew past max-size={length} and was deactivated"),
                ),
            })
        }
    }
}

fn completion_reply(interop: Interop, completed: &Completed, offset: u64) -> Reply {
    let reply = interop
        .with_complete(Server::completion(completed), true)
        .header("Upload-Offset", offset);
    Server::completed_headers(reply, completed)
}

/// Upload creation: any `POST` or `PUT` with `Upload-Complete` (or, in
/// version 3, `Upload-Incomplete`), with or without content.
pub async fn create(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    target: &[u8],
    interop: Interop,
) -> Reply {
    create_upload(server, headers, body, target, interop)
        .await
        .unwrap_or_else(|reply| reply)
}

async fn create_upload(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    target: &[u8],
    interop: Interop,
) -> Result<Reply, Reply> {
    let complete = interop.required_complete(headers)?;
    let metadata = wire::tus::read_metadata(headers)?;
    let relative = choose_relative(target, &metadata, headers, true)?;
    let content_length = wire::fields::integer(headers, "Content-Length")?;
    let declared = wire::fields::integer(headers, "Upload-Length")?;
    let length = match (declared, content_length.filter(|_| complete)) {
        (Some(declared), Some(implied)) if declared != implied => {
            return Err(inconsistent_length(&format!(
                "Upload-Length says {declared} bytes, the complete content has {implied}"
            )));
        }
        (declared, implied) => declared.or(implied),
    };
    check_limits(server, interop, length, content_length)?;
    let sha256 = wire::fields::sha256_digest(headers, "Repr-Digest")?;
    let whole = complete && content_length.is_some() && content_length == length;
    let info = blocking(|| {
        server
            .store
            .create(&relative, length, sha256, metadata, whole)
    })
    .map_err(store_error)?;
    let location = server.location(&info.id);
    let mut guard = server.writers.take_over(&info.id).await;
    let appended = match append_body(server, body, &mut guard, &info.id, 0, complete, interop).await
    {
        Ok(appended) => appended,
        Err(reply) => {
            // The answer names the upload: the client may come back to it.
            let _ = blocking(|| server.store.describe(&info.id));
            return Err(reply.header("Location", &location));
        }
    };
    let reply = match appended {
        Appended::Done(completed, offset) => completion_reply(interop, &completed, offset),
        Appended::Partial(offset) => {
            let reply = interop
                .with_complete(Reply::new(StatusCode::CREATED), false)
                .header("Upload-Offset", offset);
            // Just written: the whole lifetime is ahead of it.
            interop.with_limits(server, reply, None)
        }
    };
    Ok(reply.header("Location", location))
}

/// `HEAD`, `PATCH` and `DELETE` on an upload resource.
pub async fn resource(
    server: &Server,
    method: &Method,
    headers: &HeaderMap,
    body: &mut Incoming,
    id: &str,
    interop: Interop,
) -> Reply {
    let result = match *method {
        Method::HEAD => head(server, id, interop).await,
        Method::PATCH => append(server, headers, body, id, interop).await,
        Method::DELETE => delete(server, id).await,
        _ => Err(super::method_not_allowed("HEAD, PATCH, DELETE")),
    };
    result.unwrap_or_else(|reply| reply)
}

async fn head(server: &Server, id: &str, interop: Interop) -> Result<Reply, Reply> {
    let _guard = server.writers.take_over(id).await;
    let upload = server.lookup(id).map_err(|lookup| lookup.reply(id))?;
    let mut reply = interop
        .with_complete(Reply::new(StatusCode::NO_CONTENT), upload.is_complete())
        .header("Upload-Offset", upload.offset)
        .optional_header("Upload-Length", upload.info.length)
        .header("Cache-Control", "no-store");
    match &upload.info.completed {
        Some(completed) => reply = Server::completed_headers(reply, completed),
        None => reply = interop.with_limits(server, reply, Some(&upload)),
    }
    Ok(reply)
}

async fn append(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    id: &str,
    interop: Interop,
) -> Result<Reply, Reply> {
    if interop.announces_limits() && wire::media_type(headers).as_deref() != Some(PARTIAL_UPLOAD) {
        return Err(Reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("appends need Content-Type: {PARTIAL_UPLOAD}"),
        ));
    }
    let claimed = wire::fields::integer(headers, "Upload-Offset")?
        .ok_or_else(|| Reply::error(StatusCode::BAD_REQUEST, "the append has no Upload-Offset"))?;
    let complete = interop.required_complete(headers)?;
    let content_length = wire::fields::integer(headers, "Content-Length")?;
    let declared = wire::fields::integer(headers, "Upload-Length")?;
    let sha256 = wire::fields::sha256_digest(headers, "Repr-Digest")?;

    let mut guard = server.writers.take_over(id).await;
    let upload = server.lookup(id).map_err(|lookup| lookup.reply(id))?;
    if upload.is_complete() {
        return Err(match content_length {
            Some(0) => Reply::problem(
                StatusCode::BAD_REQUEST,
                "completed-upload",
                "upload is already completed",
                json!({}),
            ),
            _ => inconsistent_length("the upload is already complete; nothing can be appended"),
        });
    }
    if claimed != upload.offset {
        return Err(Reply::problem(
            StatusCode::CONFLICT,
            "mismatching-upload-offset",
            "offset from request does not match offset of resource",
            json!({"expected-offset": upload.offset, "provided-offset": claimed}),
        )
        .header("Upload-Offset", upload.offset));
    }
    let implied = content_length
        .filter(|_| complete)
        .map(|content| upload.offset + content);
    for length in [declared, implied].into_iter().flatten() {
        blocking(|| server.store.set_length(id, length)).map_err(|error| match error {
            UploadError::LengthAlreadySet(known) => inconsistent_length(&format!(
                "this request implies a length of {length} bytes, the upload's is {known}"
            )),
            UploadError::TooLong { .. } => inconsistent_length(&format!(
                "a length of {length} bytes is less than the {} already received",
                upload.offset
            )),
            other => store_error(other),
        })?;
    }
    let length = declared.or(implied).or(upload.info.length);
    check_limits(server, interop, length, content_length)?;
    if let Some(sha256) = sha256 {
        blocking(|| server.store.set_sha256(id, sha256)).map_err(store_error)?;
    }
    let appended = append_body(
        server,
        body,
        &mut guard,
        id,
        upload.offset,
        complete,
        interop,
    )
    .await?;
    Ok(match appended {
        Appended::Done(completed, offset) => completion_reply(interop, &completed, offset),
        Appended::Partial(offset) => interop
            .with_complete(Reply::new(StatusCode::NO_CONTENT), false)
            .header("Upload-Offset", offset),
    })
}

async fn delete(server: &Server, id: &str) -> Result<Reply, Reply> {
    let _guard = server.writers.take_over(id).await;
    server.lookup(id).map_err(|lookup| lookup.reply(id))?;
    blocking(|| server.store.delete(id)).map_err(store_error)?;
    Ok(Reply::new(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_flag_with_parameters_reads_as_complete() {
        let mut headers = HeaderMap::new();
        headers.insert("upload-complete", "?1;x".parse().unwrap());
        assert!(matches!(
            Interop::default().required_complete(&headers),
            Ok(true)
        ));
        headers.insert("upload-complete", "?0;x=1".parse().unwrap());
        assert!(matches!(
            Interop::default().required_complete(&headers),
            Ok(false)
        ));
        headers.insert("upload-complete", "1".parse().unwrap());
        assert!(Interop::default().required_complete(&headers).is_err());
        let version_3 = Interop::new(3).unwrap();
        assert!(version_3.required_complete(&headers).is_err());
        headers.insert("upload-incomplete", "?0;x".parse().unwrap());
        assert!(matches!(version_3.required_complete(&headers), Ok(true)));
    }
}
