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

use super::appender::Appender;
use super::writers::{Hold, WriterGuard};
use crate::serve::store::UploadError;
use crate::wire::tus::ChecksumHasher;

/// A body that sends nothing for this long is cut, and what arrived is
/// kept for the client to resume (tusd's network timeout is 60 s too).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
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

/// Copies `body` into `appender` until it ends one way or another, and
/// hands the appender back. Only disk errors are errors; the caller
/// finishes or discards the append.
pub async fn receive(
    body: &mut Incoming,
    appender: Appender,
    guard: &mut WriterGuard<'_>,
    max_append: Option<u64>,
    digest: Option<&mut ChecksumHasher>,
) -> Result<(Ended, Appender), UploadError> {
    receive_after(body, appender, guard, max_append, digest, 0).await
}

/// `receive`, after dropping the body's first `skip` bytes: a BITS
/// fragment that overlaps what arrived before is trimmed, never written
/// twice.
pub async fn receive_after(
    body: &mut Incoming,
    appender: Appender,
    guard: &mut WriterGuard<'_>,
    max_append: Option<u64>,
    digest: Option<&mut ChecksumHasher>,
    skip: u64,
) -> Result<(Ended, Appender), UploadError> {
    let mut batch = Batch::new(appender, guard.hold());
    let ended = take_frames(body, &mut batch, guard, max_append, digest, skip).await;
    // However the body ended, what arrived is written before anyone is told.
    let flushed = match ended {
        Ok(_) => batch.write_out(true).await,
        Err(_) => Ok(None),
    };
    let (written, appender) = batch.settle().await?;
    let ended = ended?;
    let ended = match (flushed?, written) {
        (Some(over), _) => over,
        (None, Err(UploadError::TooLong { length })) => Ended::OverLength(length),
        (None, Err(error)) => return Err(error),
        (None, Ok(())) => ended,
    };
    Ok((ended, appender))
}

/// Frames on their way to disk. hyper hands a body over in socket-sized
/// frames; writing each from the async task took a `block_in_place` per
/// frame, which profiling showed as wake-ups and threads taking turns as
/// the runtime's worker. Frames are kept, without copying, until `BATCH`
/// bytes wait or the body ends. A body longer than one batch is written
/// (and hashed, a third of the server's work) by a `Writer` that owns the
/// appender meanwhile, so the socket, the disk and SHA-256 overlap; a small
/// body is written in place in one go.
struct Batch {
    frames: Vec<Bytes>,
    len: usize,
    sink: Sink,
    /// Given to the writer, which may outlive this request.
    hold: Option<Hold>,
}

enum Sink {
    Here(Box<Appender>),
    Writer(Writer),
    /// Only while changing from one to the other.
    Moving,
}

/// Bytes gathered before one write to disk.
const BATCH: usize = 1 << 20;
/// How long gathered bytes wait for more before they are written anyway.
const LINGER: Duration = Duration::from_millis(20);
/// Batches queued for the writer, at most: with the one it writes
/// and the one being gathered, the memory an upload holds.
const QUEUE: usize = 2;

impl Batch {
    fn new(appender: Appender, hold: Hold) -> Self {
        Batch {
            frames: Vec::new(),
            len: 0,
            sink: Sink::Here(Box::new(appender)),
            hold: Some(hold),
        }
    }

    fn push(&mut self, data: Bytes) {
        self.len += data.len();
        self.frames.push(data);
    }

    /// Writes what waits, or queues it for the writer; `last` when
    /// the body has ended, so that a small body needs no writer.
    async fn flush(&mut self, last: bool) -> Result<(), UploadError> {
        let frames = std::mem::take(&mut self.frames);
        self.len = 0;
        if frames.is_empty() {
            return Ok(());
        }
        self.sink = match std::mem::replace(&mut self.sink, Sink::Moving) {
            Sink::Here(mut appender) if last => {
                let written = tokio::task::block_in_place(|| write_all(&mut appender, &frames));
                self.sink = Sink::Here(appender);
                return written;
            }
            Sink::Here(appender) => Sink::Writer(Writer::start(*appender, self.hold.take())),
            other => other,
        };
        let Sink::Writer(writer) = &self.sink else {
            unreachable!("the sink was just made a writer");
        };
        if writer.batches.send(frames).await.is_err() {
            // The writer stopped at an error: say which.
            let (written, appender) = self.settle_writer().await?;
            self.sink = Sink::Here(Box::new(appender));
            return written;
        }
        Ok(())
    }

    /// `flush`, where a write past the upload's length ends the body.
    async fn write_out(&mut self, last: bool) -> Result<Option<Ended>, UploadError> {
        match self.flush(last).await {
            Ok(()) => Ok(None),
            Err(UploadError::TooLong { length }) => Ok(Some(Ended::OverLength(length))),
            Err(error) => Err(error),
        }
    }

    /// The appender back from wherever it is, with the writer's
    /// first error if it stopped at one.
    async fn settle(mut self) -> Result<Settled, UploadError> {
        match std::mem::replace(&mut self.sink, Sink::Moving) {
            Sink::Here(appender) => Ok((Ok(()), *appender)),
            thread => {
                self.sink = thread;
                self.settle_writer().await
            }
        }
    }

    async fn settle_writer(&mut self) -> Result<Settled, UploadError> {
        match std::mem::replace(&mut self.sink, Sink::Moving) {
            Sink::Writer(writer) => writer.finish().await,
            _ => unreachable!("settle_writer is only called with a writer"),
        }
    }
}

fn write_all(appender: &mut Appender, frames: &[Bytes]) -> Result<(), UploadError> {
    frames.iter().try_for_each(|data| appender.write(data))
}

async fn take_frames(
    body: &mut Incoming,
    batch: &mut Batch,
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
                if let Some(ended) = batch.write_out(false).await? {
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
            && let Some(ended) = batch.write_out(false).await?
        {
            return Ok(ended);
        }
    }
}

/// How a body's writes ended (a write error, if one stopped them) and
/// the appender, back for the caller to finish or discard.
type Settled = (Result<(), UploadError>, Appender);

/// The appender's keeper while a large body arrives: a task that writes
/// the batches in order, each on a disk worker, and hashes each written
/// batch on another while the next one is written. With the socket on the
/// connection's task, the three overlap; and a body that pauses holds no
/// thread, only its queued batches.
struct Writer {
    batches: mpsc::Sender<Vec<Bytes>>,
    done: tokio::task::JoinHandle<Result<Settled, UploadError>>,
}

/// Where the running SHA-256 is: with the writer, or on a worker being fed
/// a batch.
enum Hashing {
    Off,
    Idle(sha2::Sha256),
    Busy(tokio::task::JoinHandle<Result<sha2::Sha256, tokio::task::JoinError>>),
}

impl Hashing {
    /// The digest of every batch handed over so far; none if a worker
    /// died, and finishing then hashes the file from disk, as after a
    /// restart.
    async fn settled(self) -> Option<sha2::Sha256> {
        match self {
            Hashing::Off => None,
            Hashing::Idle(digest) => Some(digest),
            Hashing::Busy(worker) => worker.await.ok()?.ok(),
        }
    }
}

/// Disk workers (writes and hashes of large bodies) running at once, in
/// the runtime's blocking pool: enough to keep a disk and two cores busy,
/// and a bound on threads however many bodies arrive together.
const DISK_WORKERS: usize = 8;
static DISK_WORKER_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DISK_WORKERS);

/// Runs `work` on a disk worker once one is free.
async fn on_disk_worker<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    // The semaphore is never closed.
    let slot = DISK_WORKER_SLOTS.acquire().await.ok();
    let done = tokio::task::spawn_blocking(work).await;
    drop(slot);
    done
}

fn worker_died(error: tokio::task::JoinError) -> UploadError {
    UploadError::Io(std::io::Error::other(format!(
        "a disk worker stopped: {error}"
    )))
}

impl Writer {
    /// Starts the writer; it keeps `hold` until its last write is done,
    /// even when the request that started it is dropped.
    fn start(mut appender: Appender, hold: Option<Hold>) -> Self {
        let (batches, mut receiver) = mpsc::channel::<Vec<Bytes>>(QUEUE);
        let mut hashing = match appender.take_digest() {
            Some(digest) => Hashing::Idle(digest),
            None => Hashing::Off,
        };
        let done = tokio::spawn(async move {
            let _hold = hold;
            while let Some(frames) = receiver.recv().await {
                let written = frames.clone();
                let (result, back) = on_disk_worker(move || {
                    let result = write_all(&mut appender, &written);
                    (result, appender)
                })
                .await
                .map_err(worker_died)?;
                appender = back;
                if result.is_err() {
                    // The upload is discarded or left unfinished: its
                    // running digest no longer matters.
                    return Ok((result, appender));
                }
                hashing = match hashing.settled().await {
                    None => Hashing::Off,
                    Some(mut digest) => Hashing::Busy(tokio::spawn(on_disk_worker(move || {
                        frames.iter().for_each(|data| digest.update(data));
                        digest
                    }))),
                };
            }
            if let Some(digest) = hashing.settled().await {
                appender.restore_digest(digest);
            }
            Ok((Ok(()), appender))
        });
        Writer { batches, done }
    }

    async fn finish(self) -> Result<Settled, UploadError> {
        drop(self.batches);
        self.done.await.map_err(worker_died)?
    }
}
