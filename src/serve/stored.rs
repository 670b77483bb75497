//! `HEAD /files/<path>`: what is stored there, for `ferry verify`.
//!
//! The answer carries the file's size and a `Repr-Digest` computed from
//! the file as it is on disk now, not the digest recorded when it arrived:
//! verification is meant to catch a file changed or damaged since. Hashing
//! costs a read of the file, on the blocking pool. A file that `--forward`
//! passed on and that left the folder is answered from the forward ledger:
//! the digest checked before forwarding, and `Ferry-Forward` with the
//! backend's answer, so that verify can name the forward.

use hyper::StatusCode;

use super::{Reply, Server};
use crate::digest::{HashError, sha256_now};
use crate::placement;
use crate::wire;

pub async fn head(server: &Server, target: &[u8]) -> Reply {
    let relative = match placement::safe_relative_path(target) {
        Ok(relative) => relative,
        Err(error) => return Reply::error(StatusCode::BAD_REQUEST, error.to_string()),
    };
    let path = server.store.root().join(&relative);
    let hashed = tokio::task::spawn_blocking(move || sha256_now(&path)).await;
    match hashed {
        Ok(Ok((size, sha256))) => Reply::new(StatusCode::OK)
            .header("Content-Length", size)
            .header("Repr-Digest", wire::fields::write_sha256_digest(&sha256)),
        Ok(Err(HashError::Vanished)) => match server.store.forwarded.get(&relative) {
            Some(record) => {
                let mut reply = Reply::new(StatusCode::OK)
                    .header("Content-Length", record.size)
                    .header(
                        "Repr-Digest",
                        wire::fields::write_sha256_digest(&record.sha256),
                    )
                    .header("Ferry-Forward", format!("answered HTTP {}", record.status));
                for (name, value) in &record.headers {
                    reply = reply.backend_header(name, value);
                }
                reply
            }
            None => Reply::new(StatusCode::NOT_FOUND),
        },
        Ok(Err(error)) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        Err(error) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}
