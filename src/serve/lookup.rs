//! Finding an upload session by its ID, as every protocol's session
//! requests do: an unknown, expired or no longer held upload is refused
//! here, once for all protocols, before the protocol has its say.

use std::time::SystemTime;

use hyper::StatusCode;

use super::reply::Reply;
use super::store::{Upload, UploadError};
use super::{Server, blocking, store_error, stored};

/// How an upload lookup can fail before the protocol has its say.
pub enum Lookup {
    Missing,
    Expired,
    /// A completed upload whose placed file no longer holds what it
    /// completed with (cut short, changed or removed at the server).
    NoLongerHeld,
    /// A completed upload whose file could not be read to check it (a
    /// fault, such as EIO or too many open files): a client asks again.
    Unreadable(String),
    Failed(UploadError),
}

impl Lookup {
    pub(super) fn reply(self, id: &str) -> Reply {
        match self {
            Lookup::Missing => Reply::error(StatusCode::NOT_FOUND, format!("no upload {id}")),
            Lookup::Expired => Reply::error(
                StatusCode::GONE,
                format!("upload {id} expired and was deleted"),
            ),
            Lookup::NoLongerHeld => Reply::error(
                StatusCode::NOT_FOUND,
                format!("upload {id} completed, but its file no longer holds what it stored"),
            )
            .header("Cache-Control", "no-store"),
            Lookup::Unreadable(error) => Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "upload {id} completed, but its file could not be read to check it: {error}"
                ),
            )
            .header("Cache-Control", "no-store"),
            Lookup::Failed(error) => store_error(error),
        }
    }
}

impl Server {
    /// The upload, unless it is unknown or its lifetime ran out (then it is
    /// deleted here, so expiry holds even between sweeps). A completed
    /// upload is answered for only while its file holds what it completed
    /// with: every protocol's client resumes, verifies and clears on that
    /// answer, so a file cut short or changed at the server makes the
    /// session unknown, and the client starts over.
    pub(super) fn lookup(&self, id: &str) -> Result<Upload, Lookup> {
        match blocking(|| self.store.get_durable(id)) {
            Ok(upload) if upload.expires_at(self.settings.lifetime) <= SystemTime::now() => {
                let _ = blocking(|| self.store.delete(id));
                Err(Lookup::Expired)
            }
            Ok(upload) => match upload.info.completed.as_ref() {
                Some(completed) if completed.forward.is_none() => {
                    match stored::still_holds(self, completed) {
                        Ok(true) => Ok(upload),
                        Ok(false) => Err(Lookup::NoLongerHeld),
                        Err(error) => Err(Lookup::Unreadable(error.to_string())),
                    }
                }
                _ => Ok(upload),
            },
            Err(UploadError::NotFound(_)) => Err(Lookup::Missing),
            Err(error) => Err(Lookup::Failed(error)),
        }
    }
}
