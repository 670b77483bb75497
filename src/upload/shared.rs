//! The journal as the jobs of one run share it.
//!
//! One `Store` behind a mutex. The lock is held only to apply a change in
//! memory and append its line; the fsync that makes a change durable runs on
//! the blocking pool outside the lock, so jobs finishing together share one
//! (the journal's group commit).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::journal::job::{Job, JobId, TransitionError};
use crate::journal::store::{Durability, Store};

/// How long a job's end waits for others to share its fsync.
const GROUP_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// The store shared by concurrent jobs. The lock is held only to apply a
/// change in memory and append its line; fsyncs happen outside it.
#[derive(Clone)]
pub struct Shared {
    store: Arc<Mutex<Store>>,
}

impl Shared {
    pub fn new(store: Store) -> Shared {
        Shared {
            store: Arc::new(Mutex::new(store)),
        }
    }

    /// The store back, once no job shares it any more.
    pub fn into_store(self) -> Option<Store> {
        let store = Arc::into_inner(self.store)?;
        Some(store.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records how a job ended: applied at once, made durable after a short
    /// wait, so that one fsync covers every job that ended meanwhile (the
    /// recording runs outside the transfers' places, so the wait holds no
    /// transfer back). Returns once the record is on disk.
    pub async fn record_end(
        &self,
        id: &JobId,
        change: impl FnOnce(&mut Job) -> Result<(), TransitionError>,
    ) -> anyhow::Result<Job> {
        let (ticket, journal, job) = {
            let mut store = self.lock();
            let ticket = store.apply(id, Durability::Lazy, change)?;
            let job = store.job(id).cloned().expect("the job just changed");
            (ticket, store.journal_handle()?, job)
        };
        // Up to this job's own record: the ones written after it wait for
        // a later fsync, which they share in turn.
        tokio::time::sleep(GROUP_WINDOW).await;
        tokio::task::spawn_blocking(move || journal.sync(ticket)).await??;
        Ok(job)
    }

    /// Applies a change; a durable one returns after the fsync covering it.
    pub async fn change(
        &self,
        id: &JobId,
        durability: Durability,
        change: impl FnOnce(&mut Job) -> Result<(), TransitionError>,
    ) -> anyhow::Result<Job> {
        let (ticket, journal, job) = {
            let mut store = self.lock();
            let ticket = store.apply(id, Durability::Lazy, change)?;
            let job = store.job(id).cloned().expect("the job just changed");
            (ticket, store.journal_handle()?, job)
        };
        if durability == Durability::Durable {
            tokio::task::spawn_blocking(move || journal.sync(ticket)).await??;
        }
        Ok(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::job::{Destination, MediaKind, Protocol, Resource};
    use crate::journal::paths::JournalPath;
    use crate::journal::store::OpenOptions;

    /// Jobs that end a little apart, as small files do, share the fsync
    /// that records their end: 100 ends, 0.2 ms apart, took one fsync each
    /// when each synced at once; with the wait, a handful cover them all.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ends_a_little_apart_share_one_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("j.jsonl"), &OpenOptions::default()).unwrap();
        let ids: Vec<JobId> = (0..100u64)
            .map(|n| {
                let resource = Resource {
                    root: JournalPath::from("/photos"),
                    path: JournalPath::from(format!("{n}.jpg").as_str()),
                    size: n,
                    mtime_ns: 0,
                    inode: None,
                    sha256: crate::digest::Sha256::from_hex(&format!("{n:064x}")).unwrap(),
                    kind: MediaKind::Image,
                };
                let destination = Destination::new("http://127.0.0.1:9/files", Protocol::Auto);
                let id = store
                    .create(resource, destination, Durability::Lazy)
                    .unwrap();
                store
                    .apply(&id, Durability::Lazy, Job::start_attempt)
                    .unwrap();
                id
            })
            .collect();
        let journal = store.journal_handle().unwrap();
        journal.sync_all().unwrap();
        let before = journal.fsyncs();
        let shared = Shared::new(store);
        let mut ends = Vec::new();
        for id in ids {
            let shared = shared.clone();
            ends.push(tokio::spawn(async move {
                let error = crate::journal::job::JobError {
                    class: crate::journal::job::ErrorClass::Server,
                    status: Some(500),
                    message: "test".to_owned(),
                };
                shared.record_end(&id, |job| job.fail(error)).await.unwrap()
            }));
            tokio::time::sleep(std::time::Duration::from_micros(200)).await;
        }
        for end in ends {
            assert_eq!(end.await.unwrap().state, crate::journal::job::State::Failed);
        }
        let fsyncs = journal.fsyncs() - before;
        assert!(fsyncs <= 40, "{fsyncs} fsyncs recorded 100 job ends");
    }
}
