//! The one interface the engine drives, and what each step can answer.
//!
//! Resumable protocols differ in header names and status codes but share one
//! shape: create a session (maybe with the first bytes), ask for its offset,
//! append from an offset, delete it. Each protocol is one file here that
//! implements `Adapter` and answers in these types, so the engine's loop
//! (durable session, resume, 409, 413, lost session) is written once. A trait
//! object, so that adding a protocol is a new file plus one line in
//! `route::adapter`; the protocol files depend on this module, never on each
//! other or on the engine. Two are exceptions, routes of their own: the local
//! folder moves no HTTP and resumes by its own partial file, and S3 has no
//! offset to ask for but a list of parts (`s3`, with `s3_store`).

pub mod bits;
pub mod ietf;
pub mod local;
mod local_settle;
pub mod put;
pub mod s3;
pub mod s3_probe;
mod s3_store;
pub mod sftp;
pub mod tus;

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::journal::job::{ErrorClass, Protocol, Resource, Response, Session};
use crate::upload::http::{self, Activity, Failure, within_idle};
use crate::wire::tus::Checksum;
use crate::wire::{self, fields::UploadLimit};

/// A resumable-upload protocol as the engine sees it.
#[async_trait::async_trait]
pub trait Adapter: Send + Sync {
    /// The protocol a session it opens belongs to.
    fn protocol(&self) -> Protocol;

    /// How a job's `started` line names it, e.g. "ietf (interop 8)".
    fn name(&self) -> String;

    /// Whether creation can carry `bytes` bytes (`small`: the engine's
    /// one-request ceiling).
    fn creates_with(&self, bytes: u64, small: u64) -> bool;

    /// The most bytes per append when `--chunk-size` says nothing (`None`:
    /// the rest of the file).
    fn default_append(&self) -> Option<u64> {
        None
    }

    /// Creates a session; with `first` set, sends that many bytes in the same
    /// request (small files: one request for the whole upload).
    async fn create(&self, x: &Exchange<'_>, first: Option<u64>) -> Result<Created, Failure>;

    async fn query(&self, x: &Exchange<'_>, session: &Session) -> Result<Query, Failure>;

    async fn append(
        &self,
        x: &Exchange<'_>,
        session: &Session,
        offset: u64,
        len: u64,
    ) -> Result<Appended, Failure>;

    /// Ends the server's session (`ferry cancel`).
    async fn terminate(&self, x: &Exchange<'_>, session: &Session) -> Result<(), Failure>;
}

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
    /// The user's headers for a request to `url`: credentials only when it
    /// is the destination's own origin.
    pub fn headers_for(&self, url: &str) -> HeaderMap {
        crate::upload::secrets::headers_for(self.headers, self.endpoint, url)
    }

    /// An error when a server says it holds the file up to `at` while this
    /// request's body has not been handed to the connection that far: it
    /// answered before reading it (or miscounts), and cannot hold bytes it
    /// never got. Sent again, as a transient fault.
    pub fn check_sent_to(&self, at: u64, status: reqwest::StatusCode) -> Result<(), Failure> {
        let handed = self
            .activity
            .position
            .load(std::sync::atomic::Ordering::Relaxed);
        if at <= handed {
            return Ok(());
        }
        Err(Failure::transient(format!(
            "the server answered HTTP {status} for the file up to byte {at}, but only {handed} bytes had been sent; sending them again"
        )))
    }

    /// `check_sent_to`, and an error too when a server says it holds the
    /// file up to `at`, past `sent_to`, the end of what this request sent.
    pub fn check_claim(
        &self,
        at: u64,
        sent_to: u64,
        status: reqwest::StatusCode,
    ) -> Result<(), Failure> {
        if at > sent_to {
            return Err(Failure::transient(format!(
                "the server answered HTTP {status} for the file up to byte {at}, but this request sent it only up to byte {sent_to}; sending it again"
            )));
        }
        self.check_sent_to(at, status)
    }

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

    /// The path the file gets at the destination, its raw bytes
    /// percent-encoded (a name that is not UTF-8 arrives byte for byte).
    pub fn encoded_path(&self) -> String {
        wire::encode_path_bytes(&self.resource.target_path().to_bytes())
    }

    /// The file's name (its path's last part), as raw bytes.
    pub fn name_bytes(&self) -> Vec<u8> {
        let path = self.resource.target_path().as_path();
        path.file_name()
            .unwrap_or(path.as_os_str())
            .as_bytes()
            .to_vec()
    }

    /// A relative `Location` made absolute against the URL it answered.
    pub fn absolute(&self, base: &str, location: &str) -> Result<String, Failure> {
        let base = reqwest::Url::parse(base)
            .map_err(|error| Failure::permanent(ErrorClass::Client, format!("{base}: {error}")))?;
        base.join(location).map(String::from).map_err(|error| {
            Failure::permanent(
                ErrorClass::Server,
                format!("the server gave an unusable Location {location:?}: {error}"),
            )
        })
    }

    /// `Location` of a creation answer, made absolute.
    pub fn location(&self, headers: &HeaderMap) -> Result<Option<String>, Failure> {
        wire::text(headers, "location")
            .map(|location| self.absolute(self.endpoint, location))
            .transpose()
    }
}

/// Whether a resource's path is plain and relative (not empty, no root, no
/// `.` or `..`): what a destination ferry places files in itself accepts.
pub fn is_plain_relative(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// The answer a job records for a file ferry placed itself (a local
/// folder, an SFTP server): where it landed, its raw bytes too when the
/// name is not UTF-8 (`path` is for people; `verify` and `--move-to` read
/// `path-bytes`), and whether identical content was already there.
pub fn placed_response(relative: &Path, identical: bool) -> Response {
    let mut headers = std::collections::BTreeMap::new();
    headers.insert("path".to_owned(), relative.to_string_lossy().into_owned());
    if relative.to_str().is_none() {
        let raw = relative.as_os_str().as_bytes();
        headers.insert("path-bytes".to_owned(), hex::encode(raw));
    }
    if identical {
        headers.insert("identical".to_owned(), "true".to_owned());
    }
    Response {
        status: 201,
        headers,
    }
}

/// The digest of `len` bytes of the file from `offset`, read on the
/// blocking pool: a tus chunk's `Upload-Checksum`, an S3 part's SHA-256.
/// The bytes are then in the page cache for the request that sends them.
pub async fn digest_range(
    path: PathBuf,
    offset: u64,
    len: u64,
    checksum: Checksum,
) -> Result<Vec<u8>, Failure> {
    tokio::task::spawn_blocking(move || read_digest(&path, offset, len, checksum))
        .await
        .map_err(|error| Failure::permanent(ErrorClass::File, error.to_string()))?
        .map_err(|error| Failure::permanent(ErrorClass::File, error.to_string()))
}

fn read_digest(
    path: &std::path::Path,
    offset: u64,
    len: u64,
    checksum: Checksum,
) -> std::io::Result<Vec<u8>> {
    let mut file = crate::digest::open_regular(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut hasher = checksum.hasher();
    let mut buffer = vec![0; 1 << 20];
    let mut left = len;
    while left > 0 {
        let want = buffer.len().min(left as usize);
        let read = file.read(&mut buffer[..want])?;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{}: shorter than when it was scanned", path.display()),
            ));
        }
        hasher.update(&buffer[..read]);
        left -= read as u64;
    }
    Ok(hasher.finish())
}

/// `Upload-Offset`, in both protocols (absent or unreadable: `None`).
pub fn offset_of(headers: &HeaderMap) -> Option<u64> {
    wire::fields::integer(headers, "upload-offset")
        .ok()
        .flatten()
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
                    ErrorClass::Server,
                    format!("asking for the offset: HTTP {status} without Upload-Offset"),
                )
            })?;
            let done = is_complete(headers, offset)
                .then(|| crate::upload::secrets::recorded(status.as_u16(), headers));
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

/// Limits a server announced (`Upload-Limit`, `Tus-Max-Size`) that the
/// engine obeys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_size: Option<u64>,
    pub max_append: Option<u64>,
}

impl Limits {
    pub fn from_upload_limit(headers: &HeaderMap) -> Limits {
        let limit = UploadLimit::read(headers);
        Limits {
            max_size: limit.max_size,
            max_append: limit.max_append_size,
        }
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
    /// The session's name, where the URL alone does not name it (BITS).
    pub session_id: Option<String>,
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
