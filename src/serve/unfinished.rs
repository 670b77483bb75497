//! The uploads created and not yet complete, counted so that `--max-uploads`
//! bounds them. Every body belongs to one such upload (a plain `PUT` too, for
//! the length of its request) and an upload has one writer at a time, so the
//! bound also caps the bodies being received, the BITS sessions, and the
//! part files a client can leave behind. The set lives in memory, filled
//! from the store once at start, and is kept by the store's own create,
//! finish and delete, the only ways an upload begins or ends. When it is
//! full, uploads nobody wrote to for `EVICT_IDLE` give their places up, so
//! clients that created uploads and went away cannot hold them for days.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

/// Unfinished uploads a server holds at most, unless told otherwise.
pub const DEFAULT_LIMIT: usize = 256;
/// An unfinished upload not written for this long gives its place up when
/// the limit is reached (it is deleted; its client starts it again).
pub const EVICT_IDLE: std::time::Duration = std::time::Duration::from_secs(600);

pub struct Unfinished {
    ids: Mutex<HashSet<String>>,
    limit: usize,
}

impl Unfinished {
    pub fn new(ids: impl IntoIterator<Item = String>, limit: usize) -> Self {
        Unfinished {
            ids: Mutex::new(ids.into_iter().collect()),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn with_limit(self, limit: usize) -> Self {
        Unfinished { limit, ..self }
    }

    /// Counts a new upload in, unless the limit is reached; the error is
    /// the limit.
    pub fn admit(&self, id: &str) -> Result<(), usize> {
        let mut ids = self.lock();
        if ids.len() >= self.limit {
            return Err(self.limit);
        }
        ids.insert(id.to_owned());
        Ok(())
    }

    /// The upload is complete or gone.
    pub fn ended(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn ids(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }
}
