//! Durability shared by many files on one file system (a group commit).
//!
//! Syncing each small file and its folder on its own costs two or three
//! syncs per file, and the disk's flushes, not the copying, then bound a
//! backup of a photo library. Here a writer takes a ticket once its writes
//! are done and waits for a sync that *started* after that: one sync covers
//! every ticket taken before it began, and writers that finish while it runs
//! share the next one.
//!
//! On Linux 5.8 and later, on ext4, XFS, Btrfs, F2FS and tmpfs, the sync is
//! one `syncfs(2)` of the destination's file system, which writes back every
//! dirty file and folder there, names included, and reports a write-back
//! error that happened since. Elsewhere (older kernels, FUSE and network file
//! systems, whose `syncfs` may stop short of the storage; macOS, which has no
//! `syncfs` and whose `sync(2)` does not wait) each path registered with a
//! ticket is synced, once per sync however many writers named it, with
//! Rust's `sync_all`, which is `F_FULLFSYNC` on macOS. A failed sync breaks
//! the group for good: after one, the kernel may have dropped the pages, so
//! no later success proves anything.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How a sync is done: the whole file system, or each registered path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    FileSystem,
    EachPath,
}

impl Flush {
    /// What holds for the file system of `folder`: `syncfs` where it is
    /// known to write back everything and to report a failed write-back
    /// (Linux 5.8 and later, on ext4, XFS, Btrfs, F2FS or tmpfs); a sync
    /// of each path elsewhere, FUSE and network file systems included,
    /// whose `syncfs` may not reach the storage behind them.
    pub fn for_folder(folder: &Path) -> Flush {
        #[cfg(target_os = "linux")]
        if linux::reports_write_back_errors() && linux::syncfs_reaches_storage(folder) {
            return Flush::FileSystem;
        }
        let _ = folder;
        Flush::EachPath
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    /// `syncfs` reports write-back errors since Linux 5.8.
    pub fn reports_write_back_errors() -> bool {
        // SAFETY: uname fills the struct it is given, which outlives it.
        let mut name: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut name) } != 0 {
            return false;
        }
        // SAFETY: uname NUL-terminates release.
        let release = unsafe { CStr::from_ptr(name.release.as_ptr()) }.to_string_lossy();
        let mut numbers = release.split(|c: char| !c.is_ascii_digit());
        let major: u32 = numbers.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let minor: u32 = numbers.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        (major, minor) >= (5, 8)
    }

    /// Local file systems whose `syncfs` writes everything back.
    pub fn syncfs_reaches_storage(folder: &Path) -> bool {
        const EXT4: i64 = 0xEF53;
        const XFS: i64 = 0x5846_5342;
        const BTRFS: i64 = 0x9123_683E;
        const F2FS: i64 = 0xF2F5_2010;
        const TMPFS: i64 = 0x0102_1994;
        let Ok(path) = std::ffi::CString::new(folder.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: statfs fills the struct it is given; the path is NUL-terminated.
        let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statfs(path.as_ptr(), &mut stat) } != 0 {
            return false;
        }
        #[allow(clippy::unnecessary_cast)]
        let kind = stat.f_type as i64;
        [EXT4, XFS, BTRFS, F2FS, TMPFS].contains(&kind)
    }
}

/// A ticket: writes done before it was taken are covered by the first sync
/// that starts after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

struct Turn {
    /// Set by a failed sync; every later wait fails with it.
    broken: Option<String>,
}

pub struct GroupSync {
    root: PathBuf,
    handle: File,
    flush: Flush,
    issued: AtomicU64,
    synced: AtomicU64,
    syncs: AtomicU64,
    /// Held while syncing: writers behind it find their ticket covered.
    turn: Mutex<Turn>,
    /// Paths to sync, for `Flush::EachPath`; tickets are issued under it.
    pending: Mutex<BTreeSet<PathBuf>>,
}

impl GroupSync {
    /// A group for the file system holding `root` (a folder).
    pub fn open(root: &Path, flush: Flush) -> io::Result<Arc<GroupSync>> {
        let handle = File::open(root)?;
        Ok(Arc::new(GroupSync {
            root: root.to_owned(),
            handle,
            flush,
            issued: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            turn: Mutex::new(Turn { broken: None }),
            pending: Mutex::new(BTreeSet::new()),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Turn> {
        self.turn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn pending(&self) -> MutexGuard<'_, BTreeSet<PathBuf>> {
        (self.pending.lock()).unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a ticket for writes already done to `paths` (files, and the
    /// folders whose entries changed). Only `Flush::EachPath` reads them.
    pub fn ticket(&self, paths: &[&Path]) -> Ticket {
        let mut pending = self.pending();
        if self.flush == Flush::EachPath {
            pending.extend(paths.iter().map(|path| path.to_path_buf()));
        }
        // Under the lock, so the sync that drains these paths covers it.
        Ticket(self.issued.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Waits until a sync that started after `ticket` was taken has ended.
    pub fn wait(&self, ticket: Ticket) -> io::Result<()> {
        let mut turn = self.lock();
        if let Some(broken) = &turn.broken {
            return Err(io::Error::other(broken.clone()));
        }
        if self.synced.load(Ordering::SeqCst) >= ticket.0 {
            return Ok(());
        }
        let (covers, paths) = {
            let mut pending = self.pending();
            (
                self.issued.load(Ordering::SeqCst),
                std::mem::take(&mut *pending),
            )
        };
        let result = self.sync(&paths);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(()) => {
                self.synced.fetch_max(covers, Ordering::SeqCst);
                Ok(())
            }
            Err(Unsynced::Open(path, error)) => Err(io::Error::new(
                error.kind(),
                format!("{}: {error}; not synced", path.display()),
            )),
            Err(Unsynced::Sync(error)) => {
                let message = format!("syncing {} failed ({error})", self.root.display());
                turn.broken = Some(message.clone());
                Err(io::Error::new(error.kind(), message))
            }
        }
    }

    /// Syncs run so far.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// How this group syncs.
    pub fn flush(&self) -> Flush {
        self.flush
    }

    /// Tickets taken so far.
    pub fn tickets(&self) -> u64 {
        self.issued.load(Ordering::SeqCst)
    }

    /// Holds the turn as a running sync does, so that a test can gather
    /// writers behind it.
    #[cfg(test)]
    pub fn hold_turn(&self) -> impl Drop + '_ {
        self.lock()
    }

    /// A path that could not be opened is not synced, and the waiters are
    /// told; only a sync that failed breaks the group.
    fn sync(&self, paths: &BTreeSet<PathBuf>) -> Result<(), Unsynced> {
        match self.flush {
            Flush::FileSystem => sync_file_system(&self.handle).map_err(Unsynced::Sync),
            Flush::EachPath => {
                let mut unopened = None;
                for path in paths {
                    match File::open(path) {
                        Ok(file) => file.sync_all().map_err(Unsynced::Sync)?,
                        // Moved into place since: its new name's folder
                        // is registered too, and the data went with it.
                        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                        Err(error) => unopened = Some(Unsynced::Open(path.clone(), error)),
                    }
                }
                unopened.map_or(Ok(()), Err)
            }
        }
    }
}

enum Unsynced {
    Open(PathBuf, io::Error),
    Sync(io::Error),
}

#[cfg(target_os = "linux")]
fn sync_file_system(handle: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs reads nothing but the descriptor, which `handle` owns.
    match unsafe { libc::syncfs(handle.as_raw_fd()) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Never chosen here (`Flush::for_folder`); a sync of the folder alone.
#[cfg(not(target_os = "linux"))]
fn sync_file_system(handle: &File) -> io::Result<()> {
    handle.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 writers that finish while a sync runs share the next one, on
    /// either kind of flush, and each returns only after a sync that began
    /// after its ticket.
    #[test]
    fn writers_finishing_together_share_syncs() {
        for flush in [Flush::FileSystem, Flush::EachPath] {
            let dir = tempfile::tempdir().unwrap();
            let group = GroupSync::open(dir.path(), flush).unwrap();
            let held = group.lock();
            let writers: Vec<_> = (0..40)
                .map(|n| {
                    let (group, dir) = (group.clone(), dir.path().to_owned());
                    std::thread::spawn(move || {
                        let path = dir.join(format!("{n}.jpg"));
                        std::fs::write(&path, [n as u8; 2048]).unwrap();
                        let ticket = group.ticket(&[&path, &dir]);
                        group.wait(ticket).unwrap();
                        (ticket, group.synced.load(Ordering::SeqCst))
                    })
                })
                .collect();
            // As if a sync were running: every writer takes its ticket.
            while group.issued.load(Ordering::SeqCst) < 40 {
                std::thread::yield_now();
            }
            drop(held);
            for writer in writers {
                let (ticket, synced) = writer.join().unwrap();
                assert!(synced >= ticket.0);
            }
            let syncs = group.syncs();
            assert_eq!(syncs, 1, "{flush:?}: {syncs} syncs for 40 files");
            assert!(group.pending().is_empty(), "{flush:?}: paths left unsynced");
        }
    }

    /// A ticket taken after a sync began is not covered by it.
    #[test]
    fn a_ticket_taken_after_a_sync_needs_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let group = GroupSync::open(dir.path(), Flush::FileSystem).unwrap();
        let first = group.ticket(&[]);
        group.wait(first).unwrap();
        group.wait(first).unwrap();
        assert_eq!(group.syncs(), 1, "a covered ticket asks for no sync");
        let second = group.ticket(&[]);
        group.wait(second).unwrap();
        assert_eq!(group.syncs(), 2);
    }

    /// A path that cannot be opened fails the waiters of that sync, named,
    /// without breaking the group (no write-back failed).
    #[test]
    fn a_path_that_cannot_be_opened_fails_its_wait_only() {
        let dir = tempfile::tempdir().unwrap();
        let group = GroupSync::open(dir.path(), Flush::EachPath).unwrap();
        let ticket = group.ticket(&[&dir.path().join("not-a-name\0")]);
        let error = group.wait(ticket).unwrap_err();
        assert!(error.to_string().contains("not synced"), "{error}");
        let later = group.ticket(&[dir.path()]);
        group.wait(later).unwrap();
    }

    /// Where syncfs may not reach the storage, or where the file system
    /// cannot be asked, each path is synced.
    #[test]
    fn syncfs_is_not_trusted_where_it_may_stop_short() {
        assert_eq!(Flush::for_folder(Path::new("/proc")), Flush::EachPath);
        let missing = tempfile::tempdir().unwrap().path().join("not-made-yet");
        assert_eq!(Flush::for_folder(&missing), Flush::EachPath);
    }
}
