//! Replies under construction: a status, headers, and a body that is one
//! line for people, an RFC 9457 problem for the IETF draft, or nothing.
//!
//! Every protocol module builds a `Reply`, so the response is assembled in
//! one place, and a header the backend chose (`--forward`) never displaces
//! one the protocol set.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};

use crate::wire::{self, ietf::InteropError};

pub type HttpResponse = Response<Full<Bytes>>;

/// A response under construction; errors are one line of text.
pub struct Reply {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    content_type: Option<&'static str>,
    body: String,
}

impl Reply {
    pub fn new(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: None,
            body: String::new(),
        }
    }

    /// The reply to a `HEAD`: its status and headers, no body.
    pub fn without_body(mut self) -> Reply {
        self.body.clear();
        self.content_type = None;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl ToString) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    /// A header from the backend (`--forward`): `ETag`, and `Location` and
    /// `Content-Type` where the protocol set none of its own.
    pub fn backend_header(self, name: &str, value: &str) -> Reply {
        let taken = |wanted: &str| {
            self.headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
        };
        match name {
            "etag" => self.header("ETag", value),
            "location" if !taken("Location") => self.header("Location", value),
            "content-type" if self.content_type.is_none() && !taken("Content-Type") => {
                self.header("Content-Type", value)
            }
            _ => self,
        }
    }

    pub fn optional_header(self, name: &'static str, value: Option<impl ToString>) -> Reply {
        match value {
            Some(value) => self.header(name, value),
            None => self,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// An error's message, as its body says it.
    pub fn message(&self) -> &str {
        self.body.trim_end()
    }

    /// An error for people: one line saying what is wrong.
    pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Reply {
        let mut reply = Reply::new(status);
        reply.content_type = Some("text/plain; charset=utf-8");
        reply.body = format!("{message}\n");
        reply
    }

    /// An RFC 9457 problem, as the IETF draft defines for its errors.
    pub fn problem(status: StatusCode, kind: &str, title: &str, extra: serde_json::Value) -> Reply {
        let mut document = serde_json::json!({
            "type": format!("https://iana.org/assignments/http-problem-types#{kind}"),
            "title": title,
        });
        if let (Some(document), serde_json::Value::Object(extra)) =
            (document.as_object_mut(), extra)
        {
            document.extend(extra);
        }
        let mut reply = Reply::new(status);
        reply.content_type = Some("application/problem+json");
        reply.body = format!("{document}\n");
        reply
    }

    pub fn into_response(self) -> HttpResponse {
        let mut builder = Response::builder().status(self.status);
        if let Some(content_type) = self.content_type {
            builder = builder.header("Content-Type", content_type);
        }
        for (name, value) in self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(Full::new(Bytes::from(self.body)))
            .unwrap_or_else(|error| {
                let mut response = Response::new(Full::new(Bytes::from(format!(
                    "could not build the response: {error}\n"
                ))));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            })
    }
}

impl From<InteropError> for Reply {
    fn from(error: InteropError) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, error)
    }
}

impl From<wire::BadField> for Reply {
    fn from(error: wire::BadField) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, error)
    }
}
