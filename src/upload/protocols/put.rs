//! Plain PUT (or POST): the whole file in one request, for servers that speak
//! no resumable protocol (WebDAV, S3-style presigned URLs, simple handlers).
//!
//! There is nothing to resume, so an interrupted upload starts again from 0.
//! The URL is a template: `{path}`, `{name}` and `{sha256}` are filled in;
//! a URL without any of them gets the file's relative path appended.

use super::{Adapter, Appended, Created, Exchange, Limits, Query};
use crate::journal::job::{Protocol, Session};
use crate::upload::body::file_body;
use crate::upload::http::{self, Failure};
use crate::wire::{self, fields::write_sha256_digest};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PutMethod {
    Put,
    Post,
}

impl std::fmt::Display for PutMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PutMethod::Put => "PUT",
            PutMethod::Post => "POST",
        })
    }
}

pub struct Put {
    pub method: PutMethod,
}

/// The URL for one file.
pub fn target(x: &Exchange<'_>) -> String {
    let name = wire::encode_path_bytes(&x.name_bytes());
    wire::file_url(x.endpoint, &x.encoded_path(), &name, &x.resource.sha256)
}

#[async_trait::async_trait]
impl Adapter for Put {
    fn protocol(&self) -> Protocol {
        Protocol::Put
    }

    fn name(&self) -> String {
        self.method.to_string()
    }

    /// Every size: the whole file always goes in one request.
    fn creates_with(&self, _bytes: u64, _small: u64) -> bool {
        true
    }

    async fn create(&self, x: &Exchange<'_>, _first: Option<u64>) -> Result<Created, Failure> {
        let size = x.resource.size;
        let method = match self.method {
            PutMethod::Put => reqwest::Method::PUT,
            PutMethod::Post => reqwest::Method::POST,
        };
        let url = target(x);
        let builder = x
            .client
            .request(method, &url)
            .headers(x.headers_for(&url))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", size)
            .header("Repr-Digest", write_sha256_digest(&x.resource.sha256))
            .body(file_body(x.resource.source(), 0, size, x.activity.clone()));
        let response = x.send(builder).await?;
        let status = response.status();
        if !status.is_success() {
            let doing = format!("{} of the file", self.method);
            return Err(http::unexpected(response, &doing).await.at_creation());
        }
        x.check_sent_to(size, status)?;
        Ok(Created {
            url: None,
            session_id: None,
            offset: size,
            done: Some(crate::upload::secrets::recorded(
                status.as_u16(),
                response.headers(),
            )),
            limits: Limits::default(),
        })
    }

    /// A PUT leaves no session: a lost one starts again from 0.
    async fn query(&self, _x: &Exchange<'_>, _session: &Session) -> Result<Query, Failure> {
        Ok(Query::Gone(404))
    }

    async fn append(
        &self,
        _x: &Exchange<'_>,
        _session: &Session,
        _offset: u64,
        _len: u64,
    ) -> Result<Appended, Failure> {
        Ok(Appended::Gone(404))
    }

    async fn terminate(&self, _x: &Exchange<'_>, _session: &Session) -> Result<(), Failure> {
        Ok(())
    }
}
