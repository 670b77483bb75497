//! A file range as a streamed request body, read by a thread of its own.
//!
//! Profiling the 1 GiB upload showed `tokio::fs` reading into its own buffer
//! and copying into ours (a tenth of the client's CPU), and a thread-pool hop
//! per read. Here one blocking-pool thread per body reads the range with plain `read`s
//! straight into the buffers hyper sends, handing them over through a short
//! channel: memory stays at `DEPTH` + 2 chunks whatever the file's size, the
//! kernel is told the reads are sequential, and a dropped request (a reset,
//! a stall, Ctrl-C) closes the channel, which ends the thread at its next
//! chunk. Reading on the async task instead, when the page cache can answer
//! (`RWF_NOWAIT`), was tried: tmpfs refuses that flag, so every read fell
//! back to the blocking pool and the client's CPU rose by a third.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::http::Activity;
use crate::drop_behind::DropBehind;

/// Bytes per read and per body frame: small enough to stay in the CPU's
/// cache between the read and the send (1 MiB chunks gave 0.80× curl against
/// 0.98× for 256 KiB, one run at 256 MiB), large
/// enough to keep wake-ups few (128 KiB doubled the context switches).
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the connection.
const DEPTH: usize = 4;

/// `len` bytes of `path` from `offset`, as a streamed request body; each
/// chunk handed to the connection counts as activity.
pub fn file_body(path: PathBuf, offset: u64, len: u64, activity: Arc<Activity>) -> reqwest::Body {
    activity.position.store(offset, Ordering::Relaxed);
    let (sender, mut receiver) = mpsc::channel(DEPTH);
    // A blocking-pool thread, reused from body to body: 1,000 small files
    // would otherwise start 1,000 threads.
    tokio::task::spawn_blocking(move || read_range(path, offset, len, sender));
    let chunks = futures_util::stream::poll_fn(move |context| receiver.poll_recv(context));
    let count = {
        let activity = activity.clone();
        move |chunk: std::io::Result<Bytes>| {
            if let Ok(bytes) = &chunk {
                let len = bytes.len() as u64;
                activity.sent.fetch_add(len, Ordering::Relaxed);
                activity.position.fetch_add(len, Ordering::Relaxed);
                activity.touch();
            }
            chunk
        }
    };
    if activity.throttles.is_empty() {
        return reqwest::Body::wrap_stream(chunks.map(count));
    }
    // Under a bandwidth limit, each slice waits for its turn.
    let paced = chunks
        .flat_map({
            let activity = activity.clone();
            move |chunk| futures_util::stream::iter(slices(chunk, activity.slice()))
        })
        .then(move |slice| {
            let activity = activity.clone();
            async move {
                if let Ok(bytes) = &slice {
                    activity.pace(bytes.len() as u64).await;
                }
                slice
            }
        })
        .map(count);
    reqwest::Body::wrap_stream(paced)
}

/// A chunk cut into slices of at most `most` bytes (without copying).
fn slices(chunk: std::io::Result<Bytes>, most: Option<usize>) -> Vec<std::io::Result<Bytes>> {
    match (chunk, most) {
        (Ok(mut bytes), Some(most)) => {
            let mut slices = Vec::with_capacity(bytes.len() / most + 1);
            while bytes.len() > most {
                slices.push(Ok(bytes.split_to(most)));
            }
            slices.push(Ok(bytes));
            slices
        }
        (chunk, _) => vec![chunk],
    }
}

/// Sends the range chunk by chunk until it is all sent, the file fails, or
/// nobody listens any more.
fn read_range(path: PathBuf, offset: u64, len: u64, sender: mpsc::Sender<std::io::Result<Bytes>>) {
    let file = match open_at(&path, offset) {
        Ok(file) => file,
        Err(error) => {
            let _ = sender.blocking_send(Err(error));
            return;
        }
    };
    let chunk = CHUNK;
    let mut buffers = Buffers::new(chunk, DEPTH + 2);
    let mut left = len;
    let mut behind = DropBehind::from(offset);
    while left > 0 {
        // What went before the read-ahead chunks has been handed over.
        let handed = (offset + len - left).saturating_sub(((DEPTH + 2) * chunk) as u64);
        behind.sent_to(&file, handed);
        let buffer = buffers.next();
        let want = chunk.min(usize::try_from(left).unwrap_or(chunk));
        let read = match read_full(&file, buffer, want) {
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{} ended {left} bytes early", path.display()),
            )),
            Ok(read) => Ok(read),
            Err(error) => Err(error),
        };
        let item = read.map(|read| {
            left -= read as u64;
            buffer.split().freeze()
        });
        let failed = item.is_err();
        if sender.blocking_send(item).is_err() || failed {
            return;
        }
    }
    // The request may yet fail and be sent again: from the cache, if the
    // kernel still has it; these pages go only once the range is read.
    behind.drop_to(&file, offset + len);
}

/// A ring of chunk buffers, each taken back once hyper has dropped what was
/// sent from it: steady state allocates nothing, where fresh buffers cost a
/// page fault per 4 KiB (12,000 per 256 MiB, measured).
struct Buffers {
    ring: Vec<BytesMut>,
    chunk: usize,
    next: usize,
}

impl Buffers {
    fn new(chunk: usize, count: usize) -> Self {
        Buffers {
            ring: (0..count).map(|_| BytesMut::new()).collect(),
            chunk,
            next: 0,
        }
    }

    /// An empty buffer with room for a chunk: a free one from the ring, or,
    /// when all are still in flight, a new one in the oldest one's place.
    fn next(&mut self) -> &mut BytesMut {
        let count = self.ring.len();
        let free = (0..count)
            .map(|step| (self.next + step) % count)
            .find(|&slot| self.ring[slot].try_reclaim(self.chunk));
        let slot = free.unwrap_or(self.next);
        if free.is_none() {
            self.ring[slot] = BytesMut::with_capacity(self.chunk);
        }
        self.next = (slot + 1) % count;
        &mut self.ring[slot]
    }
}

fn open_at(path: &Path, offset: u64) -> std::io::Result<File> {
    let mut file = crate::digest::open_regular(path)?;
    advise_sequential(&file);
    file.seek(SeekFrom::Start(offset))?;
    Ok(file)
}

/// Appends `want` bytes from the file to the empty `buffer`, fewer only if
/// the file ends first; returns how many.
fn read_full(file: &File, buffer: &mut BytesMut, want: usize) -> std::io::Result<usize> {
    while buffer.len() < want {
        match read_some(file, buffer, want - buffer.len()) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(buffer.len())
}

/// One `read` into the buffer's spare room, which is not zeroed first:
/// zeroing each chunk before the read overwrote it was 5% of the client's
/// CPU (profiled).
#[cfg(unix)]
fn read_some(file: &File, buffer: &mut BytesMut, most: usize) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    buffer.reserve(most);
    let spare = buffer.spare_capacity_mut();
    let room = most.min(spare.len());
    // SAFETY: read(2) writes at most `room` bytes into the spare capacity,
    // which `spare` keeps borrowed for the call.
    let read = unsafe { libc::read(file.as_raw_fd(), spare.as_mut_ptr().cast(), room) };
    let read = usize::try_from(read).map_err(|_| std::io::Error::last_os_error())?;
    // SAFETY: the kernel initialised the first `read` bytes of the spare room.
    unsafe { buffer.set_len(buffer.len() + read) };
    Ok(read)
}

#[cfg(not(unix))]
fn read_some(mut file: &File, buffer: &mut BytesMut, most: usize) -> std::io::Result<usize> {
    use std::io::Read;
    let start = buffer.len();
    buffer.resize(start + most, 0);
    let read = file.read(&mut buffer[start..]);
    buffer.truncate(start + *read.as_ref().unwrap_or(&0));
    read
}

#[cfg(target_os = "linux")]
fn advise_sequential(file: &File) {
    use std::os::fd::AsRawFd;
    // Advice only: the read works the same if the kernel ignores it.
    // SAFETY: the descriptor is open for the duration of the call.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_sequential(_file: &File) {}
