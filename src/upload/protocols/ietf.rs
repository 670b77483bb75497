//! The IETF resumable uploads draft, as a client, for every interop version.
//!
//! Careful creation (an empty `POST` answered 201 with `Location`) gives the
//! engine the session URL before any data leaves, since 104 responses never
//! reach us; a small file instead goes whole in the creation request. What
//! differs between versions (the completeness field, the partial-upload
//! media type) comes from `wire::ietf::Interop`, which `ferry serve` reads
//! too.

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::{
    Adapter, Appended, Created, Exchange, Limits, Query, offset_of, read_deleted, read_query,
};
use crate::journal::job::{ErrorClass, Protocol, Session};
use crate::upload::body::file_body;
use crate::upload::http::{self, Failure};
use crate::wire::fields::write_sha256_digest;
use crate::wire::ietf::{INTEROP_HEADER, Interop, PARTIAL_UPLOAD};

pub struct Ietf {
    pub interop: Interop,
}

impl Ietf {
    fn request(&self, x: &Exchange<'_>, method: Method, url: &str) -> reqwest::RequestBuilder {
        x.client
            .request(method, url)
            .headers(x.headers_for(url))
            .header(INTEROP_HEADER, self.interop.version().to_string())
    }

    fn completeness(
        &self,
        builder: reqwest::RequestBuilder,
        complete: bool,
    ) -> reqwest::RequestBuilder {
        builder.header(
            self.interop.complete_field(),
            self.interop.complete_value(complete),
        )
    }

    /// Whether an answer says the upload is complete; a field that does not
    /// parse says nothing.
    fn says_complete(&self, headers: &HeaderMap) -> bool {
        self.interop.read_complete(headers).ok().flatten() == Some(true)
    }
}

#[async_trait::async_trait]
impl Adapter for Ietf {
    fn protocol(&self) -> Protocol {
        Protocol::Ietf
    }

    fn name(&self) -> String {
        format!("ietf (interop {})", self.interop.version())
    }

    fn creates_with(&self, bytes: u64, small: u64) -> bool {
        bytes <= small
    }

    async fn create(&self, x: &Exchange<'_>, first: Option<u64>) -> Result<Created, Failure> {
        let size = x.resource.size;
        let sent = first.unwrap_or(0);
        let complete = first == Some(size);
        let builder = self
            .request(x, Method::POST, x.endpoint)
            .header("Upload-Length", size)
            .header(
                "Content-Disposition",
                crate::wire::write_disposition(&x.encoded_path()),
            )
            .header("Repr-Digest", write_sha256_digest(&x.resource.sha256))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", sent)
            .body(file_body(x.resource.source(), 0, sent, x.activity.clone()));
        let builder = self.completeness(builder, complete);
        let response = x.send(builder).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(http::unexpected(response, "creating the upload")
                .await
                .at_creation());
        }
        let headers = response.headers();
        let limits = Limits::from_upload_limit(headers);
        let offset = offset_of(headers).unwrap_or(sent);
        x.check_claim(offset, sent, status)?;
        // Done only when the server's offset, said or implied, is the end.
        let done = (offset == size && (complete || self.says_complete(headers)))
            .then(|| crate::upload::secrets::recorded(status.as_u16(), headers));
        let url = match x.location(headers)? {
            Some(url) => Some(url),
            None if done.is_some() => None,
            None => {
                return Err(Failure::permanent(
                    ErrorClass::Server,
                    format!(
                        "creating the upload: HTTP {status} without a Location; is {} an IETF resumable upload endpoint?",
                        x.endpoint
                    ),
                ));
            }
        };
        Ok(Created {
            session_id: None,
            url,
            offset,
            done,
            limits,
        })
    }

    async fn query(&self, x: &Exchange<'_>, session: &Session) -> Result<Query, Failure> {
        let response = x.send(self.request(x, Method::HEAD, &session.url)).await?;
        let size = x.resource.size;
        read_query(response, |headers, at| {
            at == size && self.says_complete(headers)
        })
        .await
    }

    async fn append(
        &self,
        x: &Exchange<'_>,
        session: &Session,
        offset: u64,
        len: u64,
    ) -> Result<Appended, Failure> {
        let url = &session.url;
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
        if self.interop.announces_limits() {
            builder = builder.header("Content-Type", PARTIAL_UPLOAD);
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
                let at = offset_of(headers).unwrap_or(offset + len);
                if at > offset + len {
                    // More than was sent: ask where the upload stands.
                    return Ok(Appended::Conflict(None));
                }
                x.check_sent_to(at, status)?;
                // A final append the server took only part of goes on from
                // where it stopped: the file is not whole.
                let done = (complete && at == offset + len)
                    .then(|| crate::upload::secrets::recorded(status.as_u16(), headers));
                Ok(Appended::At { offset: at, done })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_flag_with_parameters_reads_as_complete() {
        let mut headers = HeaderMap::new();
        headers.insert("upload-complete", "?1;x".parse().unwrap());
        let client = Ietf {
            interop: Interop::default(),
        };
        assert!(client.says_complete(&headers));
        headers.insert("upload-complete", "?0;x".parse().unwrap());
        assert!(!client.says_complete(&headers));
        headers.insert("upload-complete", "yes".parse().unwrap());
        assert!(!client.says_complete(&headers));
        let version_3 = Ietf {
            interop: Interop::new(3).unwrap(),
        };
        headers.insert("upload-incomplete", "?0;x".parse().unwrap());
        assert!(version_3.says_complete(&headers));
    }
}
