//! One writer per journal.
//!
//! The lock is an OS file lock (`File::try_lock`, flock on Unix) on a file
//! beside the journal, so that it dies with its process, even under SIGKILL,
//! and survives compaction renaming the journal itself. The holder writes its
//! PID, host and start time into the lock file so that a second run can say
//! who is in the way.

use std::ffi::OsString;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::journal::job::Timestamp;

#[derive(Debug, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub started: Timestamp,
}

/// Another run holds the journal. Maps to exit code 4.
#[derive(Debug, thiserror::Error)]
#[error(
    "journal {} is locked by another ferry ({holder}); wait for it with --wait-lock DURATION, or stop that run",
    journal.display()
)]
pub struct LockedError {
    pub journal: PathBuf,
    pub holder: String,
}

/// Held for as long as it lives; dropping it releases the lock.
#[derive(Debug)]
pub struct JournalLock {
    _file: File,
}

pub fn lock_path(journal: &Path) -> PathBuf {
    let mut name = OsString::from(journal.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock_file(journal: &Path) -> anyhow::Result<File> {
    let path = lock_path(journal);
    let file = fs_err::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    Ok(file.into_file())
}

/// Takes the lock, or waits for it up to `wait`. Fails with [`LockedError`].
pub fn acquire(journal: &Path, wait: Option<Duration>) -> anyhow::Result<JournalLock> {
    let mut file = open_lock_file(journal)?;
    let deadline = wait.map(|wait| Instant::now() + wait);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => match deadline {
                Some(deadline) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    return Err(LockedError {
                        journal: journal.to_owned(),
                        holder: describe_holder(&mut file),
                    }
                    .into());
                }
            },
            Err(TryLockError::Error(error)) => {
                return Err(error)
                    .with_context(|| format!("cannot lock {}", lock_path(journal).display()));
            }
        }
    }
    let holder = Holder {
        pid: std::process::id(),
        host: gethostname::gethostname().to_string_lossy().into_owned(),
        started: Timestamp::now(),
    };
    let text = serde_json::to_string(&holder)?;
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write {}", lock_path(journal).display()))?;
    Ok(JournalLock { _file: file })
}

fn describe_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    match serde_json::from_str::<Holder>(&text) {
        Ok(holder) => format!(
            "pid {} on host {}, running since {}",
            holder.pid, holder.host, holder.started
        ),
        Err(_) => "holder unknown: it is still starting".to_owned(),
    }
}

/// Whether a writer holds the journal right now, so that a reader knows an
/// incomplete last line is a write in progress rather than a crash.
pub fn writer_active(journal: &Path) -> bool {
    let Ok(file) = File::open(lock_path(journal)) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}
