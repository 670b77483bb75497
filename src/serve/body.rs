//! Streaming a request body to disk, whatever stops it.
//!
//! Bodies go frame by frame from hyper into the part file, so memory does not
//! depend on the upload's size. Every way a body can end is a value here (all
//! of it arrived, the connection dropped, a newer request took over, a limit
//! was crossed) so that each protocol decides what to keep and what to
//! answer, and the bytes that did arrive are never lost by accident.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use sha2::Digest;
use tokio::sync::mpsc;

use super::writers::WriterGuard;
use crate::serve::store::{Appender, UploadError};
use crate::wire::tus::ChecksumHasher;

/// A client that sends nothing for this long has gone away.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// After being preempted, bytes already on their way are still taken while
/// they keep coming this often, for at most `DRAIN_LIMIT`: a client that
/// resumes right after a reset finds them counted, not lost.
const DRAIN_GAP: Duration = Duration::from_millis(50);
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The whole body arrived.
    Complete,
    /// The connection failed or went quiet; what arrived is kept.
    Interrupted(String),
    /// A newer request for the same upload took over.
    Preempted,
    /// The body is larger than one request may carry (`max-append-size`).
    OverAppendLimit(u64),
    /// The upload would grow past its length or the size limit.
    OverLength(u64),
}

/// Copies `body` into `appender` until it ends one way or another. Only
/// disk errors are errors; the caller finishes or discards the append.
pub async fn receive(
    body: &mut Incoming,
    appender: &mut Appender,
    guard: &mut WriterGuard<'_>,
    max_append: Option<u64>,
    digest: Option<&mut ChecksumHasher>,
) -> Result<Ended, UploadError> {
    receive_after(body, appender, guard, max_append, digest, 0).await
}

/// `receive`, after dropping the body's first `skip` bytes: a BITS
/// fragment that overlaps what arrived before is trimmed, never written
/// twice.
pub async fn receive_after(
    body: &mut Incoming,
    appender: &mut Appender,
    guard: &mut WriterGuard<'_>,
    max_append: Option<u64>,
    digest: Option<&mut ChecksumHasher>,
    skip: u64,
) -> Result<Ended, UploadError> {
    let mut batch = Batch::default();
    let ended = take_frames(body, &mut batch, appender, guard, max_append, digest, skip).await;
    // However the body ended, what arrived is written before anyone is told.
    let flushed = match ended {
        Ok(_) => batch.write_out(appender, true).await,
        Err(_) => Ok(None),
    };
    batch.finish_hashing(appender).await;
    let ended = ended?;
    Ok(flushed?.unwrap_or(ended))
}

/// Frames waiting to be written. hyper hands a body over in socket-sized
/// frames; writing each from the async task meant a `block_in_place`
/// hand-off per frame, which profiling showed as wake-ups and context
/// switches. Frames are kept, without copying, until `BATCH` bytes wait or
/// the body ends. A body longer than one batch has its SHA-256 computed by
/// a `Hasher` beside the writes: hashing is a third of the server's work on
/// a large upload, and on its own thread it overlaps the socket and the disk.
#[derive(Default)]
struct Batch {
    frames: Vec<Bytes>,
    len: usize,
    hasher: Option<Hasher>,
}

/// Bytes gathered before one write to disk.
const BATCH: usize = 1 << 20;
/// How long gathered bytes wait for more before they are written anyway.
const LINGER: Duration = Duration::from_millis(20);
/// Batches written but not yet hashed, at most: the memory an upload holds.
const HASH_QUEUE: usize = 2;

impl Batch {
    fn push(&mut self, data: Bytes) {
        self.len += data.len();
        self.frames.push(data);
    }

    /// Writes what waits; `last` when the body has ended, so that a small
    /// body is hashed in place rather than on a thread started for it.
    async fn flush(&mut self, appender: &mut Appender, last: bool) -> Result<(), UploadError> {
        let mut frames = std::mem::take(&mut self.frames);
        self.len = 0;
        if frames.is_empty() {
            return Ok(());
        }
        if self.hasher.is_none()
            && !last
            && let Some(digest) = appender.take_digest()
        {
            self.hasher = Some(Hasher::start(digest));
        }
        let mut written = 0;
        let result = tokio::task::block_in_place(|| {
            frames.iter().try_for_each(|data| {
                appender.write(data)?;
                written += 1;
                Ok(())
            })
        });
        if let Some(hasher) = &self.hasher {
            // Only what reached the file is hashed.
            frames.truncate(written);
            hasher.add(frames).await;
        }
        result
    }

    /// `flush`, where a write past the upload's length ends the body.
    async fn write_out(
        &mut self,
        appender: &mut Appender,
        last: bool,
    ) -> Result<Option<Ended>, UploadError> {
        match self.flush(appender, last).await {
            Ok(()) => Ok(None),
            Err(UploadError::TooLong { length }) => Ok(Some(Ended::OverLength(length))),
            Err(error) => Err(error),
        }
    }

    /// Hands the digest of everything written back to the appender.
    async fn finish_hashing(&mut self, appender: &mut Appender) {
        if let Some(hasher) = self.hasher.take()
            && let Some(digest) = hasher.finish().await
        {
            appender.restore_digest(digest);
        }
    }
}

/// A running SHA-256 on a blocking thread, fed batches in order.
struct Hasher {
    batches: mpsc::Sender<Vec<Bytes>>,
    done: tokio::task::JoinHandle<sha2::Sha256>,
}

impl Hasher {
    fn start(mut digest: sha2::Sha256) -> Self {
        let (batches, mut receiver) = mpsc::channel::<Vec<Bytes>>(HASH_QUEUE);
        let done = tokio::task::spawn_blocking(move || {
            while let Some(frames) = receiver.blocking_recv() {
                frames.iter().for_each(|data| digest.update(data));
            }
            digest
        });
        Hasher { batches, done }
    }

    async fn add(&self, frames: Vec<Bytes>) {
        // The thread only stops once the sender is gone, so this cannot fail.
        let _ = self.batches.send(frames).await;
    }

    /// The digest, or none if the thread died: then finishing the upload
    /// hashes the file from disk, as after a restart.
    async fn finish(self) -> Option<sha2::Sha256> {
        drop(self.batches);
        self.done.await.ok()
    }
}

async fn take_frames(
    body: &mut Incoming,
    batch: &mut Batch,
    appender: &mut Appender,
    guard: &mut WriterGuard<'_>,
    max_append: Option<u64>,
    mut digest: Option<&mut ChecksumHasher>,
    mut skip: u64,
) -> Result<Ended, UploadError> {
    let mut received = 0u64;
    let mut draining_until: Option<Instant> = None;
    loop {
        // Bytes wait in memory only while more keep coming: a client that
        // pauses finds them on disk, where a HEAD or a crash sees them.
        let wait = match batch.len {
            0 => IDLE_TIMEOUT,
            _ => LINGER,
        };
        let frame = match draining_until {
            None => tokio::select! {
                biased;
                () = guard.preempted() => {
                    draining_until = Some(Instant::now() + DRAIN_LIMIT);
                    continue;
                }
                frame = tokio::time::timeout(wait, body.frame()) => frame,
            },
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                tokio::time::timeout(DRAIN_GAP.min(left), body.frame()).await
            }
        };
        let data = match frame {
            Err(_) if draining_until.is_some() => return Ok(Ended::Preempted),
            Err(_) if batch.len > 0 => {
                if let Some(ended) = batch.write_out(appender, false).await? {
                    return Ok(ended);
                }
                continue;
            }
            Err(_) => {
                return Ok(Ended::Interrupted(format!(
                    "no data for {} s",
                    IDLE_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => return Ok(Ended::Complete),
            Ok(Some(Err(error))) => return Ok(Ended::Interrupted(error.to_string())),
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => data,
                Err(_trailers) => continue,
            },
        };
        let data = match skip {
            0 => data,
            _ => {
                let dropped = skip.min(data.len() as u64);
                skip -= dropped;
                data.slice(dropped as usize..)
            }
        };
        received += data.len() as u64;
        if let Some(limit) = max_append
            && received > limit
        {
            return Ok(Ended::OverAppendLimit(limit));
        }
        if let Some(digest) = digest.as_deref_mut() {
            digest.update(&data);
        }
        batch.push(data);
        if batch.len >= BATCH
            && let Some(ended) = batch.write_out(appender, false).await?
        {
            return Ok(ended);
        }
    }
}
