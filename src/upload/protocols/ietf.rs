//! The IETF resumable uploads draft, as a client, for interop versions 3 to 8.
//!
//! Careful creation (an empty `POST` answered 201 with `Location`) gives the
//! engine the session URL before any data leaves, since 104 responses never
//! reach us; a small file instead goes whole in the creation request. Versions
//! differ in three places only: version 3 says `Upload-Incomplete` where later
//! ones say `Upload-Complete`, and from version 6 an append must be typed
//! `application/partial-upload`.

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::{Appended, Created, Exchange, Limits, Query, offset_of, read_deleted, read_query};
use crate::upload::http::{self, Failure, file_body};

pub const VERSIONS: [u8; 5] = [3, 5, 6, 7, 8];
pub const DEFAULT_VERSION: u8 = 8;

pub struct Ietf {
    pub version: u8,
}

impl Ietf {
    fn request(&self, x: &Exchange<'_>, method: Method, url: &str) -> reqwest::RequestBuilder {
        x.client
            .request(method, url)
            .headers(x.headers.clone())
            .header("Upload-Draft-Interop-Version", self.version.to_string())
    }

    /// `Upload-Complete: ?1`, or in version 3 `Upload-Incomplete: ?0`.
    fn completeness(
        &self,
        builder: reqwest::RequestBuilder,
        complete: bool,
    ) -> reqwest::RequestBuilder {
        let flag = |yes: bool| if yes { "?1" } else { "?0" };
        match self.version {
            3 => builder.header("Upload-Incomplete", flag(!complete)),
            _ => builder.header("Upload-Complete", flag(complete)),
        }
    }

    fn says_complete(&self, headers: &HeaderMap) -> bool {
        let flag = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        match self.version {
            3 => flag("upload-incomplete") == Some("?0"),
            _ => flag("upload-complete") == Some("?1"),
        }
    }

    pub async fn create(&self, x: &Exchange<'_>, first: Option<u64>) -> Result<Created, Failure> {
        let size = x.resource.size;
        let sent = first.unwrap_or(0);
        let complete = first == Some(size);
        let builder = self
            .request(x, Method::POST, x.endpoint)
            .header("Upload-Length", size)
            .header(
                "Content-Disposition",
                format!("attachment; filename*=UTF-8''{}", x.encoded_path()),
            )
            .header("Repr-Digest", crate::wire::repr_digest(&x.resource.sha256))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", sent)
            .body(file_body(x.resource.source(), 0, sent, x.activity.clone()));
        let builder = self.completeness(builder, complete);
        let response = x.send(builder).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(http::unexpected(response, "creating the upload").await);
        }
        let headers = response.headers();
        let limits = Limits::from_upload_limit(headers);
        let done = (complete || self.says_complete(headers))
            .then(|| http::recorded(status.as_u16(), headers));
        let url = match headers.get("location").and_then(|v| v.to_str().ok()) {
            Some(location) => Some(x.absolute(x.endpoint, location)?),
            None if done.is_some() => None,
            None => {
                return Err(Failure::permanent(
                    crate::journal::job::ErrorClass::Server,
                    format!(
                        "creating the upload: HTTP {status} without a Location; is {} an IETF resumable upload endpoint?",
                        x.endpoint
                    ),
                ));
            }
        };
        Ok(Created {
            url,
            offset: offset_of(headers).unwrap_or(sent),
            done,
            limits,
        })
    }

    pub async fn query(&self, x: &Exchange<'_>, url: &str) -> Result<Query, Failure> {
        let response = x.send(self.request(x, Method::HEAD, url)).await?;
        read_query(response, |headers, _| self.says_complete(headers)).await
    }

    pub async fn append(
        &self,
        x: &Exchange<'_>,
        url: &str,
        offset: u64,
        len: u64,
    ) -> Result<Appended, Failure> {
        let complete = offset + len == x.resource.size;
        let mut builder = self
            .request(x, Method::PATCH, url)
            .header("Upload-Offset", offset)
            .header("Content-Length", len)
            .body(file_body(
                x.resource.source(),
                offset,
                len,
                x.activity.clone(),
            ));
        if self.version >= 6 {
            builder = builder.header("Content-Type", "application/partial-upload");
        }
        let response = x.send(self.completeness(builder, complete)).await?;
        let status = response.status();
        let headers = response.headers();
        match status.as_u16() {
            409 => Ok(Appended::Conflict(offset_of(headers))),
            413 => Ok(Appended::TooLarge(
                Limits::from_upload_limit(headers).max_append,
            )),
            404 | 410 => Ok(Appended::Gone(status.as_u16())),
            _ if status.is_success() => {
                let done = complete.then(|| http::recorded(status.as_u16(), headers));
                Ok(Appended::At {
                    offset: offset_of(headers).unwrap_or(offset + len),
                    done,
                })
            }
            _ => Err(http::unexpected(response, "appending").await),
        }
    }

    pub async fn terminate(&self, x: &Exchange<'_>, url: &str) -> Result<(), Failure> {
        read_deleted(x.send(self.request(x, Method::DELETE, url)).await?).await
    }
}
