//! BITS 1.5 upload ([MC-BUP]), as a client: the chunked protocol of IIS and
//! Windows' Background Intelligent Transfer Service.
//!
//! The file's URL is the destination plus its relative path, as with PUT. A
//! `Create-Session` names the session (its ID is fsynced in the journal
//! before the first fragment); each `Fragment` carries `Content-Range`, and
//! the server's `BITS-Received-Content-Range` on a 200 or a 416 is where the
//! next one starts. BITS has no way to ask for the offset, so a resumed
//! session sends from the journal's offset and lets the ack correct it; the
//! server trims what it already has. `Close-Session` commits the file and
//! carries the file's `Repr-Digest`, which `ferry serve` checks and confirms.

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::{Adapter, Appended, Created, Exchange, Limits, Query, put};
use crate::journal::job::{ErrorClass, Protocol, Response, Session};
use crate::upload::body::file_body;
use crate::upload::http::{self, Failure};
use crate::wire::bits::{
    ErrorCode, FragmentRange, METHOD, PACKET_TYPE, PROTOCOL, PROTOCOL_GUID, Packet, SESSION_ID,
    SUPPORTED_PROTOCOLS, received,
};
use crate::wire::fields::{sha256_digest, write_sha256_digest};
use crate::wire::text;

pub struct Bits;

/// Fragments when `--chunk-size` says nothing.
pub const DEFAULT_FRAGMENT: u64 = 8 << 20;

fn method() -> Method {
    Method::from_bytes(METHOD.as_bytes()).expect("BITS_POST is a valid method token")
}

/// A request carrying one BITS packet. Every BITS request states its
/// `Content-Length` (IIS refuses one without), so packets other than
/// `Fragment` say 0.
pub fn packet(
    client: &reqwest::Client,
    headers: &HeaderMap,
    url: &str,
    packet: Packet,
) -> reqwest::RequestBuilder {
    let builder = client
        .request(method(), url)
        .headers(headers.clone())
        .header(PACKET_TYPE, packet.name());
    match packet {
        Packet::Fragment => builder,
        _ => builder.header("Content-Length", 0),
    }
}

/// The failure an unexpected answer means, named by its BITS error code.
async fn refused(response: reqwest::Response, doing: &str) -> Failure {
    let status = response.status().as_u16();
    match ErrorCode::of(response.headers()) {
        Some(ErrorCode::TOO_LARGE) => Failure::Permanent {
            class: ErrorClass::Client,
            status: Some(status),
            message: format!("{doing}: HTTP {status}, {}", ErrorCode::TOO_LARGE),
        },
        Some(code) => http::unexpected(response, &format!("{doing}: {code}")).await,
        None => http::unexpected(response, doing).await,
    }
}

fn session_id(session: &Session) -> Result<&str, Failure> {
    session.id.as_deref().ok_or_else(|| {
        Failure::permanent(
            ErrorClass::Client,
            "the journal holds no BITS session ID for this upload",
        )
    })
}

impl Bits {
    fn request(
        &self,
        x: &Exchange<'_>,
        session: &Session,
        kind: Packet,
    ) -> Result<reqwest::RequestBuilder, Failure> {
        let headers = x.headers_for(&session.url);
        Ok(packet(x.client, &headers, &session.url, kind).header(SESSION_ID, session_id(session)?))
    }

    /// Commits the file. The ack's `Repr-Digest`, when the server sends one,
    /// must be the file's: the server confirmed what it holds.
    async fn close(&self, x: &Exchange<'_>, session: &Session) -> Result<Response, Failure> {
        let builder = self
            .request(x, session, Packet::CloseSession)?
            .header("Repr-Digest", write_sha256_digest(&x.resource.sha256));
        let response = x.send(builder).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(refused(response, "closing the session").await);
        }
        let headers = response.headers();
        match sha256_digest(headers, "repr-digest") {
            Ok(Some(held)) if held != x.resource.sha256 => Err(Failure::Permanent {
                class: ErrorClass::Server,
                status: Some(status.as_u16()),
                message: format!(
                    "the server holds content with SHA-256 {held}, not the file's {}",
                    x.resource.sha256
                ),
            }),
            _ => Ok(crate::upload::secrets::recorded(status.as_u16(), headers)),
        }
    }
}

#[async_trait::async_trait]
impl Adapter for Bits {
    fn protocol(&self) -> Protocol {
        Protocol::Bits
    }

    fn name(&self) -> String {
        "bits".to_owned()
    }

    /// Creation never carries data in BITS.
    fn creates_with(&self, _bytes: u64, _small: u64) -> bool {
        false
    }

    /// IIS takes at most 30,000,000 bytes per request by default.
    fn default_append(&self) -> Option<u64> {
        Some(DEFAULT_FRAGMENT)
    }

    async fn create(&self, x: &Exchange<'_>, _first: Option<u64>) -> Result<Created, Failure> {
        let url = put::target(x);
        let headers = x.headers_for(&url);
        let builder = packet(x.client, &headers, &url, Packet::CreateSession)
            .header(SUPPORTED_PROTOCOLS, PROTOCOL_GUID);
        let response = x.send(builder).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(refused(response, "creating the BITS session").await);
        }
        let headers = response.headers();
        let chosen = text(headers, PROTOCOL).map(str::trim);
        if !chosen.is_some_and(|chosen| chosen.eq_ignore_ascii_case(PROTOCOL_GUID)) {
            return Err(Failure::permanent(
                ErrorClass::Server,
                format!(
                    "creating the BITS session: HTTP {status} with BITS-Protocol {chosen:?}; is {url} a BITS upload endpoint?"
                ),
            ));
        }
        let id = text(headers, SESSION_ID)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Failure::permanent(
                    ErrorClass::Server,
                    format!("creating the BITS session: HTTP {status} without BITS-Session-Id"),
                )
            })?;
        Ok(Created {
            url: Some(url),
            session_id: Some(id.to_owned()),
            offset: 0,
            done: None,
            limits: Limits::default(),
        })
    }

    /// BITS cannot be asked: the journal's offset is the guess, and the
    /// next fragment's ack corrects it.
    async fn query(&self, _x: &Exchange<'_>, session: &Session) -> Result<Query, Failure> {
        Ok(Query::At {
            offset: session.offset,
            done: None,
        })
    }

    async fn append(
        &self,
        x: &Exchange<'_>,
        session: &Session,
        offset: u64,
        len: u64,
    ) -> Result<Appended, Failure> {
        let size = x.resource.size;
        if len == 0 {
            let done = self.close(x, session).await?;
            return Ok(Appended::At {
                offset,
                done: Some(done),
            });
        }
        let range = FragmentRange::new(offset, len, size);
        let builder = self
            .request(x, session, Packet::Fragment)?
            .header("Content-Range", range.write())
            .header("Content-Length", len)
            .header("Content-Name", x.encoded_path())
            .body(file_body(
                x.resource.source(),
                offset,
                len,
                x.activity.clone(),
            ));
        let response = x.send(builder).await?;
        let status = response.status().as_u16();
        let headers = response.headers();
        match (status, ErrorCode::of(headers)) {
            (200 | 201, _) => {
                let next = received(headers).unwrap_or(offset + len);
                let done = match next == size {
                    true => Some(self.close(x, session).await?),
                    false => None,
                };
                Ok(Appended::At { offset: next, done })
            }
            (416, _) => Ok(Appended::Conflict(received(headers))),
            (413, _) => Ok(Appended::TooLarge(None)),
            (_, Some(ErrorCode::SESSION_NOT_FOUND)) | (404 | 410, _) => Ok(Appended::Gone(status)),
            _ => Err(refused(response, "sending a fragment").await),
        }
    }

    async fn terminate(&self, x: &Exchange<'_>, session: &Session) -> Result<(), Failure> {
        let response = x
            .send(self.request(x, session, Packet::CancelSession)?)
            .await?;
        let gone = ErrorCode::of(response.headers()) == Some(ErrorCode::SESSION_NOT_FOUND);
        match response.status().is_success() || gone {
            true => Ok(()),
            false => Err(refused(response, "cancelling the BITS session").await),
        }
    }
}

/// What a `Ping` got back (`ferry probe --protocol bits`).
#[derive(Debug, serde::Serialize)]
pub struct PingReport {
    pub url: String,
    pub status: u16,
    /// Whether the answer was a BITS `Ack`.
    pub ack: bool,
    /// The BITS error, by name, when the answer carried one.
    pub error: Option<String>,
    /// "accepted", "refused", or "none sent".
    pub credentials: &'static str,
}

pub async fn ping(
    client: &reqwest::Client,
    headers: &HeaderMap,
    url: &str,
    timeout: std::time::Duration,
) -> Result<PingReport, Failure> {
    let response = packet(client, headers, url, Packet::Ping)
        .timeout(timeout)
        .send()
        .await
        .map_err(http::send_failure)?;
    let status = response.status().as_u16();
    let answer = response.headers();
    Ok(PingReport {
        url: url.to_owned(),
        status,
        ack: text(answer, PACKET_TYPE).is_some_and(|kind| kind.trim().eq_ignore_ascii_case("ack")),
        error: ErrorCode::of(answer).map(|code| code.to_string()),
        credentials: match (matches!(status, 401 | 403), headers.is_empty()) {
            (true, _) => "refused",
            (false, true) => "none sent",
            (false, false) => "accepted",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_default_to_8_mib_under_iis_request_limit() {
        let fragment = Bits.default_append().unwrap();
        assert_eq!(fragment, 8 << 20);
        assert!(fragment < 30_000_000);
    }
}
