//! tus 1.0.0, as a client: creation, creation-with-upload, checksum, termination.
//!
//! What the server supports comes from its OPTIONS answer (`probe`), so a
//! checksum is sent only in an algorithm it lists (sha256 first, else sha1)
//! and small files go in the creation request only where it offers
//! creation-with-upload. A chunk's checksum must be in the headers, before
//! the body, so the chunk is read twice: once to hash it, once to send it;
//! a whole file from offset 0 needs no extra read, its SHA-256 is the job's.

use reqwest::Method;

use super::{
    Adapter, Appended, Created, Exchange, Limits, Query, digest_range, offset_of, read_deleted,
    read_query,
};
use crate::journal::job::{ErrorClass, Protocol, Session};
use crate::upload::body::file_body;
use crate::upload::http::{self, Failure};
use crate::wire::tus::{Checksum, OFFSET_OCTET_STREAM, TUS_VERSION, write_metadata};

#[derive(Clone, Debug, Default)]
pub struct Tus {
    pub creation_with_upload: bool,
    pub checksum: Option<Checksum>,
    /// The server takes metadata values that are not UTF-8 (ferry serve
    /// says so with `Ferry-Metadata: bytes`): names go as their exact bytes.
    /// Other servers get names spelled by `wire::utf8_escaped` (`caf%E9.jpg`),
    /// since the tus spec leaves the values' encoding open and strict
    /// servers decode them as UTF-8.
    pub raw_metadata: bool,
}

impl Tus {
    fn request(&self, x: &Exchange<'_>, method: Method, url: &str) -> reqwest::RequestBuilder {
        x.client
            .request(method, url)
            .headers(x.headers_for(url))
            .header("Tus-Resumable", TUS_VERSION)
    }

    /// `Upload-Checksum: <algorithm> <base64>` for the chunk, when the server takes one.
    async fn checksum(
        &self,
        x: &Exchange<'_>,
        offset: u64,
        len: u64,
    ) -> Result<Option<String>, Failure> {
        let Some(algorithm) = self.checksum else {
            return Ok(None);
        };
        let whole_file = offset == 0 && len == x.resource.size;
        let digest = if algorithm == Checksum::Sha256 && whole_file {
            x.resource.sha256.as_bytes().to_vec()
        } else {
            digest_range(x.resource.source(), offset, len, algorithm).await?
        };
        Ok(Some(algorithm.header_value(&digest)))
    }

    fn with_chunk(
        &self,
        x: &Exchange<'_>,
        builder: reqwest::RequestBuilder,
        offset: u64,
        len: u64,
        checksum: Option<String>,
    ) -> reqwest::RequestBuilder {
        let builder = builder
            .header("Content-Type", OFFSET_OCTET_STREAM)
            .header("Content-Length", len)
            .body(file_body(
                x.resource.source(),
                offset,
                len,
                x.activity.clone(),
            ));
        match checksum {
            Some(checksum) => builder.header("Upload-Checksum", checksum),
            None => builder,
        }
    }

    fn metadata(&self, x: &Exchange<'_>) -> String {
        let mut path = x.resource.target_path().to_bytes();
        let mut name = x.name_bytes();
        if !self.raw_metadata {
            path = crate::wire::utf8_escaped(&path).into_bytes();
            name = crate::wire::utf8_escaped(&name).into_bytes();
        }
        let sha256 = x.resource.sha256.to_hex();
        write_metadata([
            ("filename", name.as_slice()),
            ("relativePath", path.as_slice()),
            ("sha256", sha256.as_bytes()),
        ])
    }
}

#[async_trait::async_trait]
impl Adapter for Tus {
    fn protocol(&self) -> Protocol {
        Protocol::Tus
    }

    fn name(&self) -> String {
        "tus".to_owned()
    }

    fn creates_with(&self, bytes: u64, small: u64) -> bool {
        bytes <= small && self.creation_with_upload
    }

    async fn create(&self, x: &Exchange<'_>, first: Option<u64>) -> Result<Created, Failure> {
        let size = x.resource.size;
        let mut builder = self
            .request(x, Method::POST, x.endpoint)
            .header("Upload-Length", size)
            .header("Upload-Metadata", self.metadata(x));
        match first {
            Some(len) => {
                let checksum = self.checksum(x, 0, len).await?;
                builder = self.with_chunk(x, builder, 0, len, checksum);
            }
            None => builder = builder.header("Content-Length", 0),
        }
        let response = x.send(builder).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(http::unexpected(response, "creating the upload")
                .await
                .at_creation());
        }
        let headers = response.headers();
        let url = x.location(headers)?.ok_or_else(|| {
            Failure::permanent(
                ErrorClass::Server,
                format!(
                    "creating the upload: HTTP {status} without a Location; is {} a tus endpoint?",
                    x.endpoint
                ),
            )
        })?;
        let offset = match first {
            Some(_) => offset_of(headers).unwrap_or(0),
            None => 0,
        };
        let done =
            (offset == size).then(|| crate::upload::secrets::recorded(status.as_u16(), headers));
        Ok(Created {
            session_id: None,
            url: Some(url),
            offset,
            done,
            limits: Limits::default(),
        })
    }

    async fn query(&self, x: &Exchange<'_>, session: &Session) -> Result<Query, Failure> {
        let response = x.send(self.request(x, Method::HEAD, &session.url)).await?;
        read_query(response, |_, offset| offset == x.resource.size).await
    }

    async fn append(
        &self,
        x: &Exchange<'_>,
        session: &Session,
        offset: u64,
        len: u64,
    ) -> Result<Appended, Failure> {
        let url = &session.url;
        let checksum = self.checksum(x, offset, len).await?;
        let builder = self
            .request(x, Method::PATCH, url)
            .header("Upload-Offset", offset);
        let builder = self.with_chunk(x, builder, offset, len, checksum);
        let response = x.send(builder).await?;
        let status = response.status();
        let headers = response.headers();
        match status.as_u16() {
            409 => Ok(Appended::Conflict(None)),
            413 => Ok(Appended::TooLarge(None)),
            404 | 410 => Ok(Appended::Gone(status.as_u16())),
            460 => Err(Failure::Transient {
                status: Some(460),
                message: "the server's checksum of the chunk did not match; sending it again"
                    .to_owned(),
                retry_after: None,
            }),
            _ if status.is_success() => {
                // tus 1.0: the answer must say the new offset; one missing,
                // or past what was sent, is asked for again (HEAD).
                let Some(offset) = offset_of(headers).filter(|at| *at <= offset + len) else {
                    return Ok(Appended::Conflict(None));
                };
                x.check_sent_to(offset, status)?;
                let done = (offset == x.resource.size)
                    .then(|| crate::upload::secrets::recorded(status.as_u16(), headers));
                Ok(Appended::At { offset, done })
            }
            _ => Err(http::unexpected(response, "appending").await),
        }
    }

    async fn terminate(&self, x: &Exchange<'_>, session: &Session) -> Result<(), Failure> {
        read_deleted(
            x.send(self.request(x, Method::DELETE, &session.url))
                .await?,
        )
        .await
    }
}
