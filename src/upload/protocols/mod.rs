//! The one interface the engine drives, and what each step can answer.
//!
//! Resumable protocols differ in header names and status codes but share one
//! shape: create a session (maybe with the first bytes), ask for its offset,
//! append from an offset, delete it. The adapters speak their protocol and
//! answer in these types, so the engine's loop (durable session, resume, 409,
//! 413, lost session) is written once. An enum, not a trait object: the set of
//! protocols is closed and `async fn` stays simple.

use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::upload::http::{self, Activity, Failure, within_idle};
pub mod ietf;
pub mod local;
pub mod put;
pub mod tus;

use crate::journal::job::{Resource, Response};
use ietf::Ietf;
use put::Put;
use tus::Tus;

/// Everything a request for one job needs.
pub struct Exchange<'a> {
    pub client: &'a reqwest::Client,
    /// The user's headers (`-H`, the token); never recorded.
    pub headers: &'a HeaderMap,
    pub endpoint: &'a str,
    pub resource: &'a Resource,
    pub activity: &'a Arc<Activity>,
    pub idle: Duration,
}

impl Exchange<'_> {
    /// Sends a request, ended as transient if nothing moves for `idle`.
    pub async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        within_idle(self.activity, self.idle, async {
            builder.send().await.map_err(http::send_failure)
        })
        .await
    }

    /// The path the file gets at the destination, percent-encoded.
    pub fn encoded_path(&self) -> String {
        crate::wire::encode_path_bytes(self.resource.path.as_path().as_os_str().as_bytes())
    }

    /// The path as text for metadata fields (lossy only for non-UTF-8 names).
    pub fn path_text(&self) -> String {
        self.resource.path.as_path().to_string_lossy().into_owned()
    }

    pub fn file_name(&self) -> String {
        self.resource
            .path
            .as_path()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path_text())
    }

    /// A relative `Location` made absolute against the URL it answered.
    pub fn absolute(&self, base: &str, location: &str) -> Result<String, Failure> {
        let base = reqwest::Url::parse(base).map_err(|error| {
            Failure::permanent(
                crate::journal::job::ErrorClass::Client,
                format!("{base}: {error}"),
            )
        })?;
        base.join(location).map(String::from).map_err(|error| {
            Failure::permanent(
                crate::journal::job::ErrorClass::Server,
                format!("the server gave an unusable Location {location:?}: {error}"),
            )
        })
    }
}

/// `Upload-Offset`, in both protocols.
pub fn offset_of(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("upload-offset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A HEAD answer in both protocols: 404/410 gone, 2xx with `Upload-Offset`
/// (complete when `is_complete` says so), anything else a failure.
pub async fn read_query(
    response: reqwest::Response,
    is_complete: impl Fn(&HeaderMap, u64) -> bool,
) -> Result<Query, Failure> {
    let status = response.status();
    match status.as_u16() {
        404 | 410 => Ok(Query::Gone(status.as_u16())),
        _ if status.is_success() => {
            let headers = response.headers();
            let offset = offset_of(headers).ok_or_else(|| {
                Failure::permanent(
                    crate::journal::job::ErrorClass::Server,
                    format!("asking for the offset: HTTP {status} without Upload-Offset"),
                )
            })?;
            let done =
                is_complete(headers, offset).then(|| http::recorded(status.as_u16(), headers));
            Ok(Query::At { offset, done })
        }
        _ => Err(http::unexpected(response, "asking for the offset").await),
    }
}

/// A DELETE answer in both protocols: gone already counts as deleted.
pub async fn read_deleted(response: reqwest::Response) -> Result<(), Failure> {
    match response.status().as_u16() {
        404 | 410 => Ok(()),
        _ if response.status().is_success() => Ok(()),
        _ => Err(http::unexpected(response, "ending the upload session").await),
    }
}

/// Limits a server announced (`Upload-Limit`, `Tus-Max-Size`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_size: Option<u64>,
    pub max_append: Option<u64>,
}

impl Limits {
    /// `Upload-Limit: max-size=…, max-append-size=…` (other keys ignored).
    pub fn from_upload_limit(headers: &HeaderMap) -> Limits {
        let mut limits = Limits::default();
        let Some(value) = headers.get("upload-limit").and_then(|v| v.to_str().ok()) else {
            return limits;
        };
        for item in value.split(',') {
            let Some((key, number)) = item.split_once('=') else {
                continue;
            };
            let number = number.split(';').next().unwrap_or("").trim().parse().ok();
            match key.trim() {
                "max-size" => limits.max_size = number,
                "max-append-size" => limits.max_append = number,
                _ => {}
            }
        }
        limits
    }

    pub fn merge(self, newer: Limits) -> Limits {
        Limits {
            max_size: newer.max_size.or(self.max_size),
            max_append: newer.max_append.or(self.max_append),
        }
    }
}

/// A session was created.
#[derive(Debug)]
pub struct Created {
    /// Where to resume; `None` when the whole file went in one request.
    pub url: Option<String>,
    /// Bytes the server holds after the creation request.
    pub offset: u64,
    /// Set when the creation request finished the upload.
    pub done: Option<Response>,
    pub limits: Limits,
}

/// What the server says about a session.
#[derive(Debug)]
pub enum Query {
    At {
        offset: u64,
        done: Option<Response>,
    },
    /// 404 or 410: the session expired or was lost.
    Gone(u16),
}

/// What an append did.
#[derive(Debug)]
pub enum Appended {
    At {
        offset: u64,
        done: Option<Response>,
    },
    /// 409: our offset was not the server's; ask again (its number when given).
    Conflict(Option<u64>),
    /// 413: too large for one request; the server's limit when it gave one.
    TooLarge(Option<u64>),
    Gone(u16),
}

pub enum Adapter {
    Ietf(Ietf),
    Tus(Tus),
    Put(Put),
}

impl Adapter {
    /// Creates a session; with `first` set, sends that many bytes in the same
    /// request (small files: one request for the whole upload).
    pub async fn create(&self, x: &Exchange<'_>, first: Option<u64>) -> Result<Created, Failure> {
        match self {
            Adapter::Ietf(ietf) => ietf.create(x, first).await,
            Adapter::Tus(tus) => tus.create(x, first).await,
            Adapter::Put(put) => put.send(x).await,
        }
    }

    /// Whether creation can carry this many bytes.
    pub fn creates_with(&self, bytes: u64, small: u64) -> bool {
        match self {
            Adapter::Ietf(_) => bytes <= small,
            Adapter::Tus(tus) => bytes <= small && tus.creation_with_upload,
            Adapter::Put(_) => true,
        }
    }

    pub async fn query(&self, x: &Exchange<'_>, url: &str) -> Result<Query, Failure> {
        match self {
            Adapter::Ietf(ietf) => ietf.query(x, url).await,
            Adapter::Tus(tus) => tus.query(x, url).await,
            Adapter::Put(_) => Ok(Query::Gone(404)),
        }
    }

    pub async fn append(
        &self,
        x: &Exchange<'_>,
        url: &str,
        offset: u64,
        len: u64,
    ) -> Result<Appended, Failure> {
        match self {
            Adapter::Ietf(ietf) => ietf.append(x, url, offset, len).await,
            Adapter::Tus(tus) => tus.append(x, url, offset, len).await,
            Adapter::Put(_) => Ok(Appended::Gone(404)),
        }
    }

    pub async fn terminate(&self, x: &Exchange<'_>, url: &str) -> Result<(), Failure> {
        match self {
            Adapter::Ietf(ietf) => ietf.terminate(x, url).await,
            Adapter::Tus(tus) => tus.terminate(x, url).await,
            Adapter::Put(_) => Ok(()),
        }
    }

    /// The protocol a session it opens belongs to.
    pub fn protocol(&self) -> crate::journal::job::Protocol {
        match self {
            Adapter::Ietf(_) => crate::journal::job::Protocol::Ietf,
            Adapter::Tus(_) => crate::journal::job::Protocol::Tus,
            Adapter::Put(_) => crate::journal::job::Protocol::Put,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Adapter::Ietf(ietf) => format!("ietf (interop {})", ietf.version),
            Adapter::Tus(_) => "tus".to_owned(),
            Adapter::Put(put) => put.method.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_limit_keys() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "upload-limit",
            "max-size=1000, min-size=1, max-append-size=100, max-age=60"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            Limits::from_upload_limit(&headers),
            Limits {
                max_size: Some(1000),
                max_append: Some(100)
            }
        );
        let older = Limits {
            max_size: Some(5),
            max_append: None,
        };
        assert_eq!(
            older.merge(Limits {
                max_size: None,
                max_append: Some(2)
            }),
            Limits {
                max_size: Some(5),
                max_append: Some(2)
            }
        );
    }
}
