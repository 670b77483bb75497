//! The jobs a run takes, in the order it takes them.
//!
//! `ferry upload` takes the journal's processable jobs. A sync's upload runs
//! beside its scan and takes each new job as the scan hands it over, while
//! the hash has just left the file in the page cache; the jobs earlier runs
//! left pending are handed over once the scan has ended well, so that a
//! file the scan found changed is never sent under its old hash, and none
//! when it failed. A job no longer processable when its turn comes is
//! passed over.
//! Each job handed over keeps its file's reservation of the scan's read
//! ahead (`scan::ahead`) until it has been sent, so the hashing waits for
//! the upload rather than pushing its files out of the cache. The run's
//! totals grow as jobs arrive: `RunStarted` with the first, `RunGrew` after.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::record::Transferred;
use super::run::Run;
use super::shared::Shared;
use crate::journal::job::{Action, JobId};
use crate::report::{Event, Reporter};
use crate::scan::{Handed, ToUpload};

/// A sync's scan, seen from its upload.
pub struct Fed {
    /// The new jobs, as the scan queues them, then how it ended.
    pub jobs: UnboundedReceiver<ToUpload>,
    /// Ctrl-C: ends the scan as well as the upload.
    pub cancel: CancellationToken,
}

/// Jobs taken so far, the totals reported, and how the scan ended.
#[derive(Default)]
pub struct Taken {
    pub ids: HashSet<JobId>,
    jobs: u64,
    bytes: u64,
    /// Set when the scan said it ended well (`ferry upload` has no scan).
    pub scan_ended_well: bool,
}

/// The run's jobs: what the scan hands over (a sync), or `waiting` (`ferry
/// upload`: the journal's processable jobs when the run began, whose
/// totals `RunStarted` already told), each once and only while still
/// processable.
pub fn jobs(
    shared: &Shared,
    fed: Option<UnboundedReceiver<ToUpload>>,
    waiting: Vec<JobId>,
    reporter: Arc<dyn Reporter>,
) -> (BoxStream<'static, Handed>, Arc<Mutex<Taken>>) {
    let taken = Arc::new(Mutex::new(Taken::default()));
    let fed_run = fed.is_some();
    let handed = match fed {
        Some(receiver) => {
            let ended = taken.clone();
            stream::unfold(receiver, move |mut receiver| {
                let ended = ended.clone();
                async move {
                    match receiver.recv().await? {
                        ToUpload::Job(handed) => Some((handed, receiver)),
                        ToUpload::Ended { ok } => {
                            let mut ended = ended.lock().unwrap_or_else(|p| p.into_inner());
                            ended.scan_ended_well = ok;
                            None
                        }
                    }
                }
            })
            .boxed()
        }
        None => stream::empty().boxed(),
    };
    let grow = {
        let (shared, taken) = (shared.clone(), taken.clone());
        move |handed: &Handed| {
            let size = shared
                .lock()
                .job(&handed.job)
                .map_or(0, |j| j.resource.size);
            let mut taken = taken.lock().unwrap_or_else(|p| p.into_inner());
            let first = taken.jobs == 0;
            taken.jobs += 1;
            taken.bytes += size;
            let (jobs, bytes) = (taken.jobs, taken.bytes);
            drop(taken);
            reporter.event(match first {
                true => Event::RunStarted { jobs, bytes },
                false => Event::RunGrew { jobs, bytes },
            });
        }
    };
    let waiting = stream::iter(waiting).map(|job| Handed {
        job,
        reserved: None,
    });
    let (shared, noted) = (shared.clone(), taken.clone());
    let all = handed.chain(waiting).filter(move |handed| {
        let processable =
            (shared.lock().job(&handed.job)).is_some_and(|job| Action::Process.selects(job));
        let mut noted = noted.lock().unwrap_or_else(|p| p.into_inner());
        let first_time = processable && noted.ids.insert(handed.job.clone());
        std::future::ready(first_time)
    });
    // `ferry upload` told its totals when it began.
    match fed_run {
        true => (all.inspect(grow).boxed(), taken),
        false => (all.boxed(), taken),
    }
}

/// Files bigger than this have their reservation follow their upload.
const FOLLOWED: u64 = 16 << 20;
/// How often it does.
const FOLLOW: std::time::Duration = std::time::Duration::from_millis(50);

/// Transfers one job. Its reservation shrinks as the bytes go out, so the
/// scan hashes the next file while this one is sent, and ends with the
/// transfer (sent, failed or left).
pub async fn sent(run: &Arc<Run>, handed: Handed) -> Transferred {
    let Handed { job, reserved } = handed;
    let transfer = run.clone().job(job.clone());
    let mut reserved = match reserved {
        Some(reserved) if reserved.bytes() > FOLLOWED => reserved,
        // Held until the file is sent.
        small => return (transfer.await, drop(small)).0,
    };
    let size = reserved.bytes();
    tokio::pin!(transfer);
    loop {
        tokio::select! {
            transferred = &mut transfer => return transferred,
            _ = tokio::time::sleep(FOLLOW) => {
                let active = run.active();
                if let Some((_, activity)) = active.get(&job) {
                    let at = activity.position.load(std::sync::atomic::Ordering::Relaxed);
                    reserved.keep(size.saturating_sub(at));
                }
            }
        }
    }
}
