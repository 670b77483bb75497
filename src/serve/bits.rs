//! BITS 1.5 upload ([MC-BUP]) on the same `/files/<path>` URLs.
//!
//! A session is an upload in the same durable store as the other protocols,
//! so it survives a restart and works from any connection (SimpleBITSServer
//! keeps sessions per connection, and loses them). Its ID is the upload's ID
//! written as a GUID. The length is learned from the first fragment's
//! `Content-Range` total and may not change afterwards. Fragments must start
//! at or before the next expected byte: what overlaps is trimmed, never
//! written twice, and a gap gets 416 with the offset to send next. The file
//! is committed by `Close-Session`, which verifies a `Repr-Digest` when the
//! client sent one (ferry does) and confirms it in the ack.

use std::collections::BTreeMap;

use hyper::body::Incoming;
use hyper::{HeaderMap, StatusCode};

use super::body::{self, Ended};
use super::upload_name::choose_relative;
use super::{Lookup, Reply, Server, blocking};
use crate::serve::store::{Upload, UploadError};
use crate::wire::bits::{
    CONTEXT_SERVER, ERROR_CODE, ERROR_CONTEXT, ErrorCode, FragmentRange, PACKET_TYPE, PROTOCOL,
    PROTOCOL_GUID, Packet, RECEIVED_CONTENT_RANGE, SESSION_ID, SUPPORTED_PROTOCOLS,
};
use crate::wire::{self, fields};

const NAME: &str = "BITS 1.5";

/// Every answer is an `Ack` without a body.
fn ack(status: StatusCode) -> Reply {
    Reply::new(status).header(PACKET_TYPE, "Ack")
}

/// An error `Ack`: the HRESULT by value, and one line for the server log.
fn refuse(status: StatusCode, code: ErrorCode, why: &str) -> Reply {
    super::log(&format!("BITS: refused with {code}: {why}"));
    ack(status)
        .header(ERROR_CODE, code.hex())
        .header(ERROR_CONTEXT, CONTEXT_SERVER)
}

fn invalid(why: &str) -> Reply {
    refuse(StatusCode::BAD_REQUEST, ErrorCode::INVALID_ARG, why)
}

fn session_not_found(id: &str) -> Reply {
    refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::SESSION_NOT_FOUND,
        &format!("no session {id}"),
    )
}

/// Store failures in BITS words.
fn store_refusal(error: UploadError) -> Reply {
    match error {
        UploadError::NotFound(id) => session_not_found(&id),
        UploadError::Io(error) if error.kind() == std::io::ErrorKind::StorageFull => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::DISK_FULL,
            &error.to_string(),
        ),
        // BITS retries a 503 later, as a transient error.
        busy @ UploadError::TooManyUploads(_) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::INTERNAL,
            &busy.to_string(),
        ),
        UploadError::Io(error) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::INTERNAL,
            &error.to_string(),
        ),
        other => invalid(&other.to_string()),
    }
}

/// The session ID for an upload: its 32 hex digits as a GUID.
fn session_id(upload_id: &str) -> String {
    let part = |from: usize, to: usize| upload_id.get(from..to).unwrap_or("");
    format!(
        "{{{}-{}-{}-{}-{}}}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// The upload a request's `BITS-Session-Id` names.
fn session(server: &Server, headers: &HeaderMap) -> Result<Upload, Reply> {
    let given = wire::text(headers, SESSION_ID).unwrap_or("").trim();
    let id: String = given
        .trim_start_matches('{')
        .trim_end_matches('}')
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    match server.lookup(&id) {
        Ok(upload) => Ok(upload),
        Err(Lookup::Missing | Lookup::Expired | Lookup::NoLongerHeld) => {
            Err(session_not_found(given))
        }
        // BITS retries a 503 later, as a transient error.
        Err(Lookup::Unreadable(error)) => Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::INTERNAL,
            &format!("session {given}: its file could not be read to check it: {error}"),
        )),
        Err(Lookup::Failed(error)) => Err(store_refusal(error)),
    }
}

/// A `BITS_POST` to `/files/<target>`.
pub async fn handle(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
    target: &[u8],
) -> Reply {
    let result = match Packet::of(headers) {
        None => Err(invalid("no known BITS-Packet-Type")),
        Some(Packet::Ping) => Ok(ack(StatusCode::OK)),
        Some(Packet::CreateSession) => create(server, headers, target),
        Some(Packet::Fragment) => fragment(server, headers, body).await,
        Some(Packet::CloseSession) => close(server, headers).await,
        Some(Packet::CancelSession) => cancel(server, headers),
    };
    result.unwrap_or_else(|reply| reply)
}

fn create(server: &Server, headers: &HeaderMap, target: &[u8]) -> Result<Reply, Reply> {
    let offered = wire::text(headers, SUPPORTED_PROTOCOLS).unwrap_or("");
    let speaks = offered
        .split([' ', ','])
        .any(|guid| guid.trim().eq_ignore_ascii_case(PROTOCOL_GUID));
    if !speaks {
        return Err(invalid(&format!(
            "no protocol in common: offered {offered:?}, this server speaks {PROTOCOL_GUID}"
        )));
    }
    let relative = choose_relative(target, &BTreeMap::new(), headers, false)
        .map_err(|_| invalid("the URL names no file under /files/"))?;
    let info = blocking(|| {
        server
            .store
            .create(&relative, None, None, BTreeMap::new(), false)
    })
    .map_err(store_refusal)?;
    Ok(ack(StatusCode::OK)
        .header(PROTOCOL, PROTOCOL_GUID)
        .header(SESSION_ID, session_id(&info.id))
        .header("Accept-Encoding", "Identity"))
}

fn received(reply: Reply, offset: u64) -> Reply {
    reply.header(RECEIVED_CONTENT_RANGE, offset)
}

async fn fragment(
    server: &Server,
    headers: &HeaderMap,
    body: &mut Incoming,
) -> Result<Reply, Reply> {
    let upload = session(server, headers)?;
    let id = upload.info.id.clone();
    let range = FragmentRange::read(headers)
        .ok_or_else(|| invalid("Content-Range is not `bytes first-last/total`"))?;
    if fields::integer(headers, "Content-Length").ok().flatten() != Some(range.len()) {
        return Err(invalid(
            "Content-Length is not the size of the Content-Range",
        ));
    }
    if let Some(completed) = &upload.info.completed {
        let reply = received(ack(StatusCode::OK), upload.offset);
        return Ok(Server::completed_headers(reply, completed));
    }
    match upload.info.length {
        Some(length) if length != range.total => {
            return Err(invalid(&format!(
                "the total changed from {length} to {} bytes",
                range.total
            )));
        }
        Some(_) => {}
        None => {
            if let Some(max) = server.settings.max_size
                && range.total > max
            {
                return Err(refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::TOO_LARGE,
                    &format!("{} bytes is over the limit of {max}", range.total),
                ));
            }
            blocking(|| server.store.set_length(&id, range.total)).map_err(store_refusal)?;
        }
    }
    if let Some(max) = server.settings.max_append_size
        && range.len() > max
    {
        return Err(Reply::new(StatusCode::PAYLOAD_TOO_LARGE)
            .header(PACKET_TYPE, "Ack")
            .header(ERROR_CODE, ErrorCode::TOO_LARGE.hex())
            .header(ERROR_CONTEXT, CONTEXT_SERVER));
    }
    let mut guard = server.writers.take_over(&id).await;
    let offset = blocking(|| server.store.get(&id))
        .map_err(store_refusal)?
        .offset;
    if range.first > offset {
        return Ok(received(ack(StatusCode::RANGE_NOT_SATISFIABLE), offset));
    }
    if range.last < offset {
        return Ok(received(ack(StatusCode::OK), offset));
    }
    let appender = blocking(|| server.store.append(&id, offset, None)).map_err(store_refusal)?;
    let skip = offset - range.first;
    let (ended, appender) = body::receive_after(body, appender, &mut guard, None, None, skip)
        .await
        .map_err(store_refusal)?;
    let offset = blocking(|| appender.finish()).map_err(store_refusal)?;
    match ended {
        Ended::Complete => Ok(received(ack(StatusCode::OK), offset)),
        other => Err(received(
            refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_ARG,
                &format!("the fragment did not arrive whole: {other:?}"),
            ),
            offset,
        )),
    }
}

async fn close(server: &Server, headers: &HeaderMap) -> Result<Reply, Reply> {
    let upload = session(server, headers)?;
    let id = upload.info.id.as_str();
    if let Some(completed) = &upload.info.completed {
        return Ok(Server::completed_headers(ack(StatusCode::OK), completed));
    }
    let length = match upload.info.length {
        Some(length) => length,
        None if upload.offset == 0 => {
            blocking(|| server.store.set_length(id, 0)).map_err(store_refusal)?;
            0
        }
        None => return Err(invalid("no fragment said how long the file is")),
    };
    if upload.offset != length {
        return Err(received(
            invalid(&format!("only {} of {length} bytes arrived", upload.offset)),
            upload.offset,
        ));
    }
    if let Some(sha256) = fields::sha256_digest(headers, "Repr-Digest")
        .map_err(|error| invalid(&error.to_string()))?
    {
        blocking(|| server.store.set_sha256(id, sha256)).map_err(store_refusal)?;
    }
    let info = blocking(|| server.store.get(id))
        .map_err(store_refusal)?
        .info;
    let completed = server.finish(&info, NAME).await.map_err(store_refusal)?;
    Ok(Server::completed_headers(ack(StatusCode::OK), &completed))
}

fn cancel(server: &Server, headers: &HeaderMap) -> Result<Reply, Reply> {
    let upload = session(server, headers)?;
    if upload.info.completed.is_none() {
        blocking(|| server.store.delete(&upload.info.id)).map_err(store_refusal)?;
    }
    Ok(ack(StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_guids_of_the_upload_id() {
        assert_eq!(
            session_id("0123456789abcdef0123456789abcdef"),
            "{01234567-89ab-cdef-0123-456789abcdef}"
        );
    }
}
