//! One append to an upload's part file, on its own: it is handed from the
//! async task to a disk worker and back, so it owns everything it needs (the
//! file, the limit, the running digest) and touches no shared state but the
//! digests it leaves for `finish`.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::Digest;

use super::running::RunningDigests;
use super::upload_error::UploadError;
use crate::group_sync::GroupSync;

/// An append in progress; `finish` makes it durable and returns the new
/// offset.
pub struct Appender {
    file: File,
    path: PathBuf,
    /// The sync shared with every upload finishing at the same time.
    group: Arc<GroupSync>,
    start: u64,
    offset: u64,
    limit: Option<u64>,
    id: String,
    digest: Option<sha2::Sha256>,
    running: RunningDigests,
}

impl Appender {
    /// An append to `file` (opened for appending) at `offset`, which may
    /// not grow past `limit`; `digest` is the running SHA-256 of the bytes
    /// before `offset`, when it was kept.
    pub fn new(
        (file, path): (File, PathBuf),
        offset: u64,
        limit: Option<u64>,
        id: &str,
        digest: Option<sha2::Sha256>,
        (running, group): (RunningDigests, Arc<GroupSync>),
    ) -> Self {
        Appender {
            file,
            path,
            group,
            start: offset,
            offset,
            limit,
            id: id.to_owned(),
            digest,
            running,
        }
    }

    /// Writes one chunk of the body. Refuses to grow past the upload's length.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        if let Some(length) = self.limit
            && self.offset + chunk.len() as u64 > length
        {
            return Err(UploadError::TooLong { length });
        }
        self.file.write_all(chunk)?;
        self.offset += chunk.len() as u64;
        if let Some(digest) = &mut self.digest {
            digest.update(chunk);
        }
        Ok(())
    }

    /// Takes the running digest out, for a caller that hashes the written
    /// bytes beside the writes and gives it back before `finish`.
    pub fn take_digest(&mut self) -> Option<sha2::Sha256> {
        self.digest.take()
    }

    pub fn restore_digest(&mut self, digest: sha2::Sha256) {
        self.digest = Some(digest);
    }

    /// Makes the received bytes durable. Also right after an error or a
    /// dropped connection: what arrived is kept, and the client resumes there.
    pub fn finish(self) -> Result<u64, UploadError> {
        self.group.wait(self.group.ticket(&[&self.path]))?;
        if let Some(digest) = self.digest {
            self.running.put(&self.id, self.offset, digest);
        }
        Ok(self.offset)
    }

    /// Throws away everything this append wrote (a chunk whose checksum did
    /// not match, or one over a limit): the upload is back where it started.
    pub fn discard(self) -> Result<u64, UploadError> {
        self.file.set_len(self.start)?;
        self.group.wait(self.group.ticket(&[&self.path]))?;
        Ok(self.start)
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }
}
