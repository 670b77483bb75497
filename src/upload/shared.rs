//! The journal as the jobs of one run share it.
//!
//! One `Store` behind a mutex. The lock is held only to apply a change in
//! memory and append its line; the fsync that makes a change durable runs on
//! the blocking pool outside the lock, so jobs finishing together share one
//! (the journal's group commit).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::journal::job::{Job, JobId, TransitionError};
use crate::journal::store::{Durability, Store};

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
