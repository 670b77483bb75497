//! The SHA-256 of each upload's bytes so far, kept while this process
//! wrote them in order: finishing a 4 GiB upload does not read it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The SHA-256 of each upload's bytes so far, computed as they are written
/// while this process wrote them in order, so that finishing a 4 GiB upload
/// does not read 4 GiB again inside the request. Lost on a restart (or after
/// a discarded append): finishing then hashes the file from disk.
#[derive(Clone, Default)]
pub struct RunningDigests(Arc<Mutex<HashMap<String, (u64, sha2::Sha256)>>>);

impl RunningDigests {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (u64, sha2::Sha256)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The digest of the first `offset` bytes, when it was kept.
    pub fn take(&self, id: &str, offset: u64) -> Option<sha2::Sha256> {
        match self.lock().remove(id) {
            Some((at, digest)) if at == offset => Some(digest),
            _ => None,
        }
    }

    pub fn put(&self, id: &str, offset: u64, digest: sha2::Sha256) {
        self.lock().insert(id.to_owned(), (offset, digest));
    }
}
