//! The journal as the jobs of one run share it.
//!
//! One `Store` behind a mutex. The lock is held only to apply a change in
//! memory and append its line; the fsync that makes a change durable runs on
//! the blocking pool outside the lock, so jobs finishing together share one
//! (the journal's group commit).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::journal::job::{Job, JobId, TransitionError};
use crate::journal::store::{Durability, Store};
use crate::journal::{Journal, Ticket};

/// How long a job's end waits for others to share its fsync.
const GROUP_WINDOW: std::time::Duration = std::time::Duration::from_millis(5);

/// The store shared by concurrent jobs. The lock is held only to apply a
/// change in memory and append its line; fsyncs happen outside it.
#[derive(Clone)]
pub struct Shared {
    store: Arc<Mutex<Store>>,
    /// One recorded end at a time asks for its fsync: the first covers all
    /// the records written before it, and those behind it find theirs done,
    /// so hundreds of waiting ends hold one blocking thread, not hundreds.
    sync_turn: Arc<tokio::sync::Mutex<()>>,
}

impl Shared {
    pub fn new(store: Store) -> Shared {
        Shared {
            store: Arc::new(Mutex::new(store)),
            sync_turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The store back, once no job shares it any more.
    pub fn into_store(self) -> Option<Store> {
        let store = Arc::into_inner(self.store)?;
        Some(store.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// The store's mutex, for a scan that runs beside the jobs.
    pub fn store(&self) -> &Mutex<Store> {
        &self.store
    }

    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies a change in memory and appends its line (none when
    /// `Deferred`), under the lock; the caller decides when to sync up to
    /// the ticket.
    fn append(
        &self,
        id: &JobId,
        durability: Durability,
        change: impl FnOnce(&mut Job) -> Result<(), TransitionError>,
    ) -> anyhow::Result<(Ticket, Arc<Journal>, Job)> {
        let mut store = self.lock();
        let written = match durability {
            Durability::Deferred => Durability::Deferred,
            Durability::Durable | Durability::Lazy => Durability::Lazy,
        };
        let ticket = store.apply(id, written, change)?;
        let job = store.job(id).cloned().expect("the job just changed");
        Ok((ticket, store.journal_handle()?, job))
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
        let (ticket, journal, job) = self.append(id, Durability::Lazy, change)?;
        // Up to this job's own record: the ones written after it wait for
        // a later fsync, which they share in turn.
        tokio::time::sleep(GROUP_WINDOW).await;
        let _turn = self.sync_turn.lock().await;
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
        let (ticket, journal, job) = self.append(id, durability, change)?;
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

    /// Two jobs that end 1 ms apart, as small files do, share the fsync
    /// that records their ends. Before, the first synced at once and the
    /// second needed one of its own, however fast or slow the disk (its
    /// record came after the first fsync had started): 2 per pair, 20 for
    /// 10 pairs. Now the first waits 5 ms, and its fsync covers both.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ends_a_little_apart_share_one_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("j.jsonl"), &OpenOptions::default()).unwrap();
        let ids: Vec<JobId> = (0..20u64)
            .map(|n| {
                let resource = Resource {
                    root: JournalPath::from("/photos"),
                    path: JournalPath::from(format!("{n}.jpg").as_str()),
                    size: n,
                    mtime_ns: 0,
                    inode: None,
                    sha256: crate::digest::Sha256::from_hex(&format!("{n:064x}")).unwrap(),
                    kind: MediaKind::Image,
                    taken: None,
                    target: None,
                    asset: None,
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
        let end = |id: JobId| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let error = crate::journal::job::JobError {
                    class: crate::journal::job::ErrorClass::Server,
                    status: Some(500),
                    message: "test".to_owned(),
                };
                shared.record_end(&id, |job| job.fail(error)).await.unwrap()
            })
        };
        for pair in ids.chunks(2) {
            let first = end(pair[0].clone());
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            let second = end(pair[1].clone());
            for ended in [first.await.unwrap(), second.await.unwrap()] {
                assert_eq!(ended.state, crate::journal::job::State::Failed);
            }
        }
        let fsyncs = journal.fsyncs() - before;
        assert!(
            fsyncs <= 15,
            "{fsyncs} fsyncs recorded 10 pairs of job ends"
        );
    }
}
