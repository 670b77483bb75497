//! Handing a sync's new jobs to the upload that runs beside its scan.
//!
//! A job goes over only once its record is durable in the journal: a copy
//! begun for a job the journal then lost in a crash would be left behind
//! at the destination, never resumed. So the scan keeps the jobs it
//! queues here and syncs the journal once for many: before it would wait
//! for a hash (the upload may be what it waits for, since the hashing
//! keeps within the read-ahead budget), every 64 jobs or 32 MiB, and at
//! its end. The sync happens outside the store's lock, so the upload's
//! own journal changes do not wait for it.

use std::sync::{Arc, Mutex};

use super::ahead::{ReadAhead, Reserved};
use super::locked;
use crate::journal::job::JobId;
use crate::journal::store::Store;

/// A job the scan queued, handed to a sync's upload with the bytes its
/// hash reserved (none when the journal's hash was reused).
pub struct Handed {
    pub job: JobId,
    pub reserved: Option<Reserved>,
}

/// What a sync's scan tells its upload.
pub enum ToUpload {
    Job(Handed),
    /// The scan is over: `ok` when it ended as it should, rather than
    /// failing or being stopped. Then come none but the jobs it found
    /// waiting from earlier runs.
    Ended {
        ok: bool,
    },
}

/// Where a sync's scan hands its new jobs, and how far it may read ahead
/// of their upload.
pub struct Pipe {
    pub ahead: Arc<ReadAhead>,
    pub jobs: tokio::sync::mpsc::UnboundedSender<ToUpload>,
    /// Ctrl-C, or an upload that ended early: the scan stops too, keeping
    /// what it queued.
    pub stop: tokio_util::sync::CancellationToken,
}

const MOST_JOBS: usize = 64;
const MOST_BYTES: u64 = 32 << 20;

/// Jobs queued and not yet handed over, waiting for the journal's sync.
pub(super) struct Handover<'p> {
    pipe: &'p Pipe,
    waiting: Vec<Handed>,
    bytes: u64,
}

impl<'p> Handover<'p> {
    pub(super) fn new(pipe: &'p Pipe) -> Self {
        Handover {
            pipe,
            waiting: Vec::new(),
            bytes: 0,
        }
    }

    /// Keeps a queued job (of `size` bytes) for the next handing over.
    pub(super) fn push(&mut self, job: JobId, reserved: Option<Reserved>, size: u64) {
        self.waiting.push(Handed { job, reserved });
        self.bytes += size;
    }

    /// Hands the jobs over when enough have gathered.
    pub(super) fn when_due(&mut self, store: &Mutex<Store>) -> anyhow::Result<()> {
        match self.waiting.len() >= MOST_JOBS || self.bytes >= MOST_BYTES {
            true => self.now(store),
            false => Ok(()),
        }
    }

    /// Syncs the journal, then hands every kept job over.
    pub(super) fn now(&mut self, store: &Mutex<Store>) -> anyhow::Result<()> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        let journal = locked(store).journal_handle()?;
        journal.sync_all()?;
        for mut handed in self.waiting.drain(..) {
            if let Some(reserved) = handed.reserved.as_mut() {
                reserved.hand_over();
            }
            // An upload that has ended drops what it is sent: the scan
            // still records what it finds.
            let _ = self.pipe.jobs.send(ToUpload::Job(handed));
        }
        self.bytes = 0;
        Ok(())
    }
}
