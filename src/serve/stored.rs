//! `HEAD /files/<path>`: what is stored there, for `ferry verify`.
//!
//! The answer carries the file's size and a `Repr-Digest` computed from
//! the file as it is on disk, not the digest recorded when it arrived:
//! verification is meant to catch a file changed or replaced since.
//! Hashing costs a read of the file, on the blocking pool, so the digest
//! is kept by the file's size, mtime, inode, change time and device, and
//! computed again when any of them moved: a loop of HEADs on a 4 GiB video
//! does not keep the disk busy, while any write or `touch` (which moves the
//! change time even when the mtime is set back) is seen. A file changed in
//! the last 2 s is not kept, nor one that moved while it was read. The
//! cache holds at most `CACHED` files. Damage that touches none of these
//! (bit rot under the file system) is found only by a file system that
//! checksums its data. A file that `--forward`
//! passed on and that left the folder is answered from the forward ledger:
//! the digest checked before forwarding, and `Ferry-Forward` with the
//! backend's answer, so that verify can name the forward.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hyper::StatusCode;

use super::store::Completed;
use super::{Reply, Server};
use crate::digest::{self, FileStat, HashError, Sha256};
use crate::placement;
use crate::wire;

/// Files whose digest is kept; the cache starts over beyond it.
const CACHED: usize = 10_000;

/// What a file's digest is kept by: size, mtime and inode, and the
/// change time and device too, which every write and `touch` moves.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    stat: FileStat,
    ctime_ns: i64,
    dev: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            stat: FileStat::of(meta),
            ctime_ns: meta.ctime().saturating_mul(1_000_000_000) + meta.ctime_nsec(),
            dev: meta.dev(),
        }
    }

    /// Changed too recently to trust: a write within the file system's
    /// timestamp tick would not move it (git's "racy clean" rule).
    fn is_recent(&self) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(i64::MAX, |now| now.as_nanos() as i64);
        let newest = self.stat.mtime_ns.max(self.ctime_ns);
        now.saturating_sub(newest) < 2_000_000_000
    }
}

/// Digests of stored files by path, with the stamp they were computed at.
#[derive(Default)]
pub struct Digests(Mutex<HashMap<PathBuf, (Stamp, Sha256)>>);

impl Digests {
    /// The file's size and SHA-256, read again unless its stamp is the one
    /// a digest was kept for.
    fn of(&self, path: &Path) -> Result<(u64, Sha256), HashError> {
        let stamp = |path: &Path| match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => Ok(Stamp::of(&meta)),
            Ok(_) => Err(HashError::Vanished),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(HashError::Vanished),
            Err(error) => Err(HashError::Io(error)),
        };
        let before = stamp(path)?;
        let known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, sha256)) = known.get(path)
            && *at == before
        {
            return Ok((before.stat.size, *sha256));
        }
        drop(known);
        let (size, sha256) = digest::sha256_now(path)?;
        // Kept only when nothing moved while it was read, and not lately.
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        known.remove(path);
        if stamp(path).ok() == Some(before) && !before.is_recent() {
            if known.len() >= CACHED {
                known.clear();
            }
            known.insert(path.to_owned(), (before, sha256));
        }
        Ok((size, sha256))
    }
}

/// Whether the file a completed upload placed holds, now, the content it
/// completed with (its digest kept by stamp, as for `head`): `false` when
/// it is gone or holds other bytes; an error when it could not be read,
/// which is a fault to retry, not an answer.
pub fn still_holds(server: &Server, completed: &Completed) -> Result<bool, HashError> {
    let path = server.store.root().join(completed.placed.as_path());
    match tokio::task::block_in_place(|| server.digests.of(&path)) {
        Ok((_, sha256)) => Ok(sha256 == completed.sha256),
        Err(HashError::Vanished) => Ok(false),
        Err(error) => Err(error),
    }
}

pub async fn head(server: &Server, target: &[u8]) -> Reply {
    let relative = match placement::safe_relative_path(target) {
        Ok(relative) => relative,
        Err(error) => return Reply::error(StatusCode::BAD_REQUEST, error.to_string()),
    };
    let path = server.store.root().join(&relative);
    if placement::leads_outside(server.store.root(), &relative).unwrap_or(true) {
        return Reply::new(StatusCode::NOT_FOUND);
    }
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
