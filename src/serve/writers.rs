//! One writer per upload, and the newest request wins.
//!
//! A client whose connection died may resume before the server notices the
//! old request is gone. Waiting for it (or answering 423) would stall the
//! resume for as long as a dead TCP connection takes to time out, so, as the
//! IETF draft recommends, a new request for an upload tells the request that
//! holds it to stop. The old one saves what it received, syncs it, and lets go;
//! the new one then sees the true offset. Each upload has a generation
//! counter in a `watch` channel: taking over bumps it, and a holder is
//! preempted as soon as the counter moves past its own generation, so no
//! wake-up can be missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedMutexGuard, watch};

#[derive(Default)]
pub struct Writers {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

struct Slot {
    lock: Arc<tokio::sync::Mutex<()>>,
    generation: watch::Sender<u64>,
}

/// The right to touch one upload, until it is dropped or preempted.
pub struct WriterGuard<'a> {
    writers: &'a Writers,
    id: String,
    slot: Arc<Slot>,
    generation: u64,
    newer: watch::Receiver<u64>,
    held: Arc<OwnedMutexGuard<()>>,
}

/// The upload held on behalf of work that may outlive its request (a large
/// body's writer, still writing queued batches after the connection
/// dropped): a newer request waits until that work has let go too, so no
/// two writers ever append to one file.
pub struct Hold {
    _slot: Arc<Slot>,
    _held: Arc<OwnedMutexGuard<()>>,
}

impl Writers {
    /// Ends whatever request holds `id`, then holds it.
    pub async fn take_over(&self, id: &str) -> WriterGuard<'_> {
        let slot = {
            let mut slots = self.slots.lock().expect("writer table poisoned");
            slots
                .entry(id.to_owned())
                .or_insert_with(|| {
                    Arc::new(Slot {
                        lock: Arc::default(),
                        generation: watch::Sender::new(0),
                    })
                })
                .clone()
        };
        let mut generation = 0;
        slot.generation.send_modify(|current| {
            *current += 1;
            generation = *current;
        });
        let held = slot.lock.clone().lock_owned().await;
        let newer = slot.generation.subscribe();
        WriterGuard {
            writers: self,
            id: id.to_owned(),
            slot,
            generation,
            newer,
            held: Arc::new(held),
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.slots.lock().unwrap().len()
    }
}

impl WriterGuard<'_> {
    /// Keeps the upload held, beyond this guard, until dropped.
    pub fn hold(&self) -> Hold {
        Hold {
            _slot: self.slot.clone(),
            _held: self.held.clone(),
        }
    }

    /// Resolves once a newer request wants this upload.
    pub async fn preempted(&mut self) {
        let mine = self.generation;
        // The sender lives in the slot this guard holds, so this cannot fail.
        let _ = self.newer.wait_for(|current| *current != mine).await;
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        let mut slots = self.writers.slots.lock().expect("writer table poisoned");
        // Only the table and this guard still know the slot: nobody waits.
        if Arc::strong_count(&self.slot) == 2 {
            slots.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_newer_request_preempts_the_holder_and_the_table_empties() {
        let writers = Writers::default();
        let mut first = writers.take_over("a").await;
        let second = async {
            let guard = writers.take_over("a").await;
            guard.generation
        };
        let holder = async {
            tokio::time::timeout(Duration::from_secs(5), first.preempted())
                .await
                .expect("the holder is told to stop");
            drop(first);
        };
        let (generation, ()) = tokio::join!(second, holder);
        assert_eq!(generation, 2);
        assert_eq!(writers.tracked(), 0);
        let mut alone = writers.take_over("b").await;
        assert!(
            tokio::time::timeout(Duration::from_millis(50), alone.preempted())
                .await
                .is_err(),
            "nobody else asked for b"
        );
    }
}
