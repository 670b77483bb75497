//! `HEAD /files/<path>`: what is stored there, for `ferry verify`.
//!
//! The answer carries the file's size and a `Repr-Digest` computed from
//! the file as it is on disk, not the digest recorded when it arrived:
//! verification is meant to catch a file changed or replaced since.
//! Hashing costs a read of the file, on the blocking pool, so the digest
//! is kept by the file's size, mtime and inode and computed again only
//! when one of them moved: a loop of HEADs on a 4 GiB video does not keep
//! the disk busy. The cache holds at most `CACHED` files. A file that `--forward`
//! passed on and that left the folder is answered from the forward ledger:
//! the digest checked before forwarding, and `Ferry-Forward` with the
//! backend's answer, so that verify can name the forward.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hyper::StatusCode;

use super::{Reply, Server};
use crate::digest::{self, FileStat, HashError, Sha256};
use crate::placement;
use crate::wire;

/// Files whose digest is kept; the cache starts over beyond it.
const CACHED: usize = 10_000;

/// Digests of stored files by path, with the stat they were computed at.
#[derive(Default)]
pub struct Digests(Mutex<HashMap<PathBuf, (FileStat, Sha256)>>);

impl Digests {
    /// The file's size and SHA-256, read again only if its stat moved.
    fn of(&self, path: &Path) -> Result<(u64, Sha256), HashError> {
        let meta = std::fs::metadata(path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => HashError::Vanished,
            _ => HashError::Io(error),
        })?;
        let stat = FileStat::of(&meta);
        let known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, sha256)) = known.get(path)
            && *at == stat
            && meta.is_file()
        {
            return Ok((stat.size, *sha256));
        }
        drop(known);
        let (size, sha256) = digest::sha256_now(path)?;
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() >= CACHED {
            known.clear();
        }
        known.insert(path.to_owned(), (stat, sha256));
        Ok((size, sha256))
    }
}

pub async fn head(server: &Server, target: &[u8]) -> Reply {
    let relative = match placement::safe_relative_path(target) {
        Ok(relative) => relative,
        Err(error) => return Reply::error(StatusCode::BAD_REQUEST, error.to_string()),
    };
    let path = server.store.root().join(&relative);
    let hashed = tokio::task::block_in_place(|| Ok::<_, HashError>(server.digests.of(&path)));
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
