//! Where the local folder's verified copies become durable, in batches.
//!
//! One thread per destination folder takes every copy waiting, syncs once
//! (so their data is on disk), links each into place, syncs once more (so
//! their names are), and only then answers them all. A batch is whatever
//! arrived while the last one was being synced, so a slow disk makes batches
//! bigger rather than the run slower; a fast one costs a sync pair for a few
//! files. One thread rather than a task per file: thousands of small files
//! would otherwise each wake a blocking thread twice, and those wake-ups,
//! not the copying, bounded a run on a fast disk.

use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use crate::group_sync::GroupSync;
use crate::placement::Placed;

/// Links one copy into place; answers where it landed and the folders whose
/// entries may have changed.
pub type PlaceCopy = Box<dyn FnOnce() -> io::Result<(Placed, Vec<PathBuf>)> + Send>;

/// Why a copy was not settled.
#[derive(Debug, thiserror::Error)]
pub enum Unsettled {
    /// This copy could not be linked into place.
    #[error(transparent)]
    Place(io::Error),
    /// Nothing can be made durable in this folder now: a sync failed, or
    /// the thread that syncs could not run.
    #[error(transparent)]
    Sync(io::Error),
}

type Answer = Result<Placed, Unsettled>;

struct Waiting {
    /// The copy's partial file, whose data must be durable before it is
    /// linked anywhere.
    partial: PathBuf,
    place: PlaceCopy,
    answer: tokio::sync::oneshot::Sender<Answer>,
}

pub struct Settler {
    group: Arc<GroupSync>,
    /// Started with the first copy, ended when the folder is dropped.
    waiting: Mutex<Option<Sender<Waiting>>>,
}

impl Settler {
    pub fn new(group: Arc<GroupSync>) -> Settler {
        Settler {
            group,
            waiting: Mutex::new(None),
        }
    }

    /// Hands a verified copy over and waits until it is placed and durable.
    pub async fn settle(&self, partial: PathBuf, place: PlaceCopy) -> Answer {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let waiting = Waiting {
            partial,
            place,
            answer,
        };
        {
            let mut sender = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            if sender.is_none() {
                let (started, receiver) = channel();
                let group = self.group.clone();
                std::thread::Builder::new()
                    .name("ferry-settle".to_owned())
                    .spawn(move || settle_batches(&group, &receiver))
                    .map_err(|error| {
                        Unsettled::Sync(io::Error::new(
                            error.kind(),
                            format!("could not start the thread that syncs copies: {error}"),
                        ))
                    })?;
                *sender = Some(started);
            }
            let sent = sender.as_ref().map(|sender| sender.send(waiting));
            if !matches!(sent, Some(Ok(()))) {
                // Ended by a panic: the next copy starts another.
                *sender = None;
                return Err(ended());
            }
        }
        answered.await.unwrap_or_else(|_| Err(ended()))
    }
}

fn ended() -> Unsettled {
    Unsettled::Sync(io::Error::other("the thread that syncs copies ended"))
}

fn settle_batches(group: &GroupSync, receiver: &Receiver<Waiting>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        batch.extend(receiver.try_iter());
        let partials: Vec<&std::path::Path> = batch.iter().map(|w| w.partial.as_path()).collect();
        let ticket = group.ticket(&partials);
        if let Err(error) = group.wait(ticket) {
            for waiting in batch {
                let _ = waiting.answer.send(Err(Unsettled::Sync(copy_of(&error))));
            }
            continue;
        }
        let mut placed = Vec::with_capacity(batch.len());
        let mut folders = Vec::new();
        for waiting in batch {
            // The partial file's name goes, too.
            folders.extend(waiting.partial.parent().map(PathBuf::from));
            match (waiting.place)() {
                Ok((landed, changed)) => {
                    folders.extend(changed);
                    placed.push((waiting.answer, landed));
                }
                Err(error) => {
                    let _ = waiting.answer.send(Err(Unsettled::Place(error)));
                }
            }
        }
        folders.sort();
        folders.dedup();
        let folders: Vec<&std::path::Path> = folders.iter().map(PathBuf::as_path).collect();
        let names = group.wait(group.ticket(&folders));
        for (answer, landed) in placed {
            let _ = answer.send(match &names {
                Ok(()) => Ok(landed),
                Err(error) => Err(Unsettled::Sync(copy_of(error))),
            });
        }
    }
}

fn copy_of(error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), error.to_string())
}
