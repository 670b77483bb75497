//! Letting go of a source file's pages once they have been sent.
//!
//! A sync reads each file twice in quick succession: the scan hashes it,
//! and the upload sends it while the hash has just left it in the page
//! cache (`scan::ahead`). On a card bigger than the cache, the pages already
//! sent are the ones the kernel should drop, yet it drops by age, and the
//! oldest pages are the hashed ones not sent yet: the upload would read
//! them from the card again. So every reader of a source file tells the
//! kernel, as it goes, that what it has sent is done with
//! (`POSIX_FADV_DONTNEED`, which drops clean pages only). A local copy does
//! the same with what it writes (`WriteBehind`): it starts the writeback of
//! each few MiB as it goes (`sync_file_range`, which promises nothing about
//! durability; the shared syncs still do that) and then drops those pages,
//! so the copy does not push the source's pages out either, and a later
//! check of the copy reads it from storage. Where there are no such calls
//! (macOS), this does nothing.

use std::os::fd::AsFd;
use std::path::Path;

/// Bytes sent between two calls to the kernel.
const STEP: u64 = 8 << 20;

/// How far a reader has let go of one file.
pub struct DropBehind {
    dropped_to: u64,
}

impl DropBehind {
    /// A reader starting at `offset`.
    pub fn from(offset: u64) -> DropBehind {
        DropBehind { dropped_to: offset }
    }

    /// The bytes before `offset` have been sent: drops them every `STEP`.
    pub fn sent_to(&mut self, file: &impl AsFd, offset: u64) {
        if offset >= self.dropped_to + STEP {
            self.drop_to(file, offset);
        }
    }

    /// Drops everything up to `offset` (at the end of the file).
    pub fn drop_to(&mut self, file: &impl AsFd, offset: u64) {
        if offset > self.dropped_to {
            forget(file, self.dropped_to, offset - self.dropped_to);
            self.dropped_to = offset;
        }
    }
}

/// How far a writer has handed its bytes to the disk and let go of them.
pub struct WriteBehind {
    started_to: u64,
    dropped_to: u64,
}

impl WriteBehind {
    /// A writer starting at `offset`.
    pub fn from(offset: u64) -> WriteBehind {
        WriteBehind {
            started_to: offset,
            dropped_to: offset,
        }
    }

    /// Bytes up to `offset` have been written: every `STEP`, their
    /// writeback starts, and the step before (written back by now, or
    /// soon) leaves the cache.
    pub fn written_to(&mut self, file: &impl AsFd, offset: u64) {
        if offset < self.started_to + STEP {
            return;
        }
        start_writeback(file, self.started_to, offset - self.started_to);
        forget(file, self.dropped_to, self.started_to - self.dropped_to);
        self.dropped_to = self.started_to;
        self.started_to = offset;
    }
}

/// Drops what the cache holds of `path` (its clean pages), so that the
/// next read of it comes from storage: a local copy checked before its
/// source is cleared, or by `ferry verify`. A file that cannot be opened is
/// left to the read that follows to report.
pub fn read_from_storage_next(path: &Path) {
    if let Ok(file) = crate::digest::open_regular(path) {
        forget(&file, 0, 0);
    }
}

/// A range as the kernel's calls take it: the descriptor and two offsets
/// (none past what an `off_t` holds).
#[cfg(target_os = "linux")]
fn kernel_range(file: &impl AsFd, offset: u64, len: u64) -> Option<(i32, i64, i64)> {
    use std::os::fd::AsRawFd;
    let fd = file.as_fd().as_raw_fd();
    Some((fd, i64::try_from(offset).ok()?, i64::try_from(len).ok()?))
}

#[cfg(target_os = "linux")]
fn start_writeback(file: &impl AsFd, offset: u64, len: u64) {
    if let Some((fd, offset, len)) = kernel_range(file, offset, len) {
        // SAFETY: the descriptor is borrowed, so open, for the whole call.
        unsafe { libc::sync_file_range(fd, offset, len, libc::SYNC_FILE_RANGE_WRITE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &impl AsFd, _offset: u64, _len: u64) {}

/// Drops the clean cached pages of `len` bytes from `offset` (0: to the end).
#[cfg(target_os = "linux")]
fn forget(file: &impl AsFd, offset: u64, len: u64) {
    if let Some((fd, offset, len)) = kernel_range(file, offset, len) {
        // Advice only: a failure changes nothing but the cache.
        // SAFETY: the descriptor is borrowed, so open, for the whole call.
        unsafe { libc::posix_fadvise(fd, offset, len, libc::POSIX_FADV_DONTNEED) };
    }
}

#[cfg(not(target_os = "linux"))]
fn forget(_file: &impl AsFd, _offset: u64, _len: u64) {}
