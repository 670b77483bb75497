//! The journal file: JSON Lines, append-only, like a write-ahead log.
//!
//! The first line is a header naming the format and its version; every later
//! line is one complete record. A change costs one appended line. Durability is
//! bought per change with a ticket: callers that need a change on disk wait for
//! an fsync that covers their ticket, and concurrent callers share one fsync
//! (group commit). Compaction writes the live records to a temp file in the same
//! directory, fsyncs it and renames it over the journal. A torn last line (a
//! write cut short by a crash) is dropped with a warning; any other damage is an
//! error naming the line, and the file is left exactly as it was.

pub mod asset_status;
pub mod atomic_file;
pub mod job;
pub mod lock;
pub mod paths;
pub mod resource;
pub mod store;

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "ferry-journal";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "{}:{line}: the journal is damaged ({reason}); it was left untouched: restore it from a backup, or move it aside to start a new one",
        path.display()
    )]
    Damaged {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("{}: not a ferry journal (its first line is not a ferry journal header)", path.display())]
    NotAJournal { path: PathBuf },
    #[error(
        "{}: written by a newer ferry (journal format version {found}; this ferry reads up to version {VERSION}); upgrade ferry",
        path.display()
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{}: not a regular file ({kind})",
        path.display()
    )]
    NotAFile { path: PathBuf, kind: &'static str },
}

/// A line longer than any record could be: the file is not a journal (or
/// is damaged), and reading on would only fill memory.
const MAX_LINE: u64 = 64 << 20;

/// The journal's own path: a symlink's target, so that the lock, the
/// appends and a compaction's replacement all meet the one file; an error
/// when something other than a regular file is there (a folder, a device
/// such as /dev/null, a FIFO), which reads as no journal, or never ends.
pub fn resolve(path: &Path) -> Result<PathBuf, JournalError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // A symlink to nowhere yet: the journal it names is made there.
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return match std::fs::read_link(path) {
                Ok(target) => Ok(path.parent().unwrap_or(Path::new("")).join(target)),
                Err(_) => Ok(path.to_owned()),
            };
        }
        Err(error) => return Err(io_error(path)(error)),
    };
    if !meta.is_file() {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        let kind = match () {
            _ if kind.is_dir() => "a folder",
            _ if kind.is_fifo() => "a FIFO",
            _ if kind.is_char_device() || kind.is_block_device() => "a device",
            _ if kind.is_socket() => "a socket",
            _ => "not a file",
        };
        return Err(JournalError::NotAFile {
            path: path.to_owned(),
            kind,
        });
    }
    std::fs::canonicalize(path).map_err(io_error(path))
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What replaying a journal found.
#[derive(Debug, Default)]
pub struct Replay {
    /// Records after the header.
    pub records: u64,
    /// Length of the file up to the end of the last complete line.
    pub valid_len: u64,
    /// Set when the last line was incomplete and dropped: its line number and length.
    pub torn_tail: Option<(u64, u64)>,
}

impl Replay {
    pub fn torn_warning(&self, path: &Path) -> Option<String> {
        self.torn_tail.map(|(line, bytes)| {
            format!(
                "{}:{line}: dropped an incomplete last line ({bytes} bytes), left by an interrupted write",
                path.display()
            )
        })
    }
}

/// Reads every record in order. Returns `None` when the file does not exist.
pub fn replay<R: DeserializeOwned>(
    path: &Path,
    mut on_record: impl FnMut(R),
) -> Result<Option<Replay>, JournalError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(path)(error)),
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut replay = Replay::default();
    let mut line = Vec::with_capacity(1024);
    let mut number = 0u64;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(io_error(path))?;
        if read == 0 {
            break;
        }
        number += 1;
        if read as u64 == MAX_LINE && line.last() != Some(&b'\n') {
            return Err(JournalError::Damaged {
                path: path.to_owned(),
                line: number,
                reason: format!("a line of over {} MiB", MAX_LINE >> 20),
            });
        }
        if line.last() != Some(&b'\n') {
            replay.torn_tail = Some((number, read as u64));
            break;
        }
        let text = &line[..line.len() - 1];
        if number == 1 {
            check_header(path, text)?;
        } else {
            let record = serde_json::from_slice(text).map_err(|error| JournalError::Damaged {
                path: path.to_owned(),
                line: number,
                reason: error.to_string(),
            })?;
            on_record(record);
            replay.records += 1;
        }
        replay.valid_len += read as u64;
    }
    if replay.valid_len == 0 && replay.torn_tail.is_some() {
        return Err(JournalError::NotAJournal {
            path: path.to_owned(),
        });
    }
    Ok(Some(replay))
}

fn check_header(path: &Path, text: &[u8]) -> Result<(), JournalError> {
    let header: Header = serde_json::from_slice(text).map_err(|_| JournalError::NotAJournal {
        path: path.to_owned(),
    })?;
    if header.format != FORMAT {
        return Err(JournalError::NotAJournal {
            path: path.to_owned(),
        });
    }
    if header.version > VERSION {
        return Err(JournalError::TooNew {
            path: path.to_owned(),
            found: header.version,
        });
    }
    Ok(())
}

fn header_line() -> Vec<u8> {
    let mut line = serde_json::to_vec(&Header {
        format: FORMAT.to_owned(),
        version: VERSION,
    })
    .expect("the header serializes");
    line.push(b'\n');
    line
}

/// A position in the journal; `Journal::sync` makes everything up to it durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

struct SyncState {
    synced: u64,
    syncing: bool,
    file: Arc<File>,
}

/// An open journal that records are appended to. Holding one assumes the
/// caller holds the journal lock.
pub struct Journal {
    path: PathBuf,
    /// The file appended to, and its length (known without asking the OS on
    /// every append: a failed write is cut back to it).
    writer: Mutex<(File, u64)>,
    written: AtomicU64,
    records: AtomicU64,
    bytes_appended: AtomicU64,
    fsyncs: AtomicU64,
    sync: Mutex<SyncState>,
    synced_changed: Condvar,
    /// Set by a failed write or fsync: from then on nothing is taken as
    /// recorded, and every append and sync says why.
    broken: Mutex<Option<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Journal {
    /// Opens for appending after a replay, cutting off a torn tail, or
    /// creates a new journal (header written through a temp file and rename,
    /// so the file never exists without its header).
    pub fn open(path: &Path, replay: Option<&Replay>) -> Result<Journal, JournalError> {
        let records = match replay {
            Some(replay) if replay.valid_len > 0 => {
                if replay.torn_tail.is_some() {
                    let file = fs_err::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(io_error(path))?;
                    file.set_len(replay.valid_len).map_err(io_error(path))?;
                    file.sync_all().map_err(io_error(path))?;
                }
                replay.records
            }
            _ => {
                write_atomically(path, |out| out.write_all(&header_line()))?;
                0
            }
        };
        let file = fs_err::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_error(path))?
            .into_file();
        Self::from_file(path, file, records)
    }

    fn from_file(path: &Path, file: File, records: u64) -> Result<Journal, JournalError> {
        let sync_file = file.try_clone().map_err(io_error(path))?;
        let length = file.metadata().map_err(io_error(path))?.len();
        Ok(Journal {
            path: path.to_owned(),
            writer: Mutex::new((file, length)),
            written: AtomicU64::new(0),
            records: AtomicU64::new(records),
            bytes_appended: AtomicU64::new(0),
            fsyncs: AtomicU64::new(0),
            sync: Mutex::new(SyncState {
                synced: 0,
                syncing: false,
                file: Arc::new(sync_file),
            }),
            synced_changed: Condvar::new(),
            broken: Mutex::new(None),
        })
    }

    /// The error every call gets once a write or an fsync has failed.
    fn refuse_if_broken(&self) -> Result<(), JournalError> {
        match lock(&self.broken).as_ref() {
            None => Ok(()),
            Some(why) => Err(JournalError::Io {
                path: self.path.clone(),
                source: io::Error::other(format!(
                    "{why}; nothing more is recorded in this run, the next one resumes from what was"
                )),
            }),
        }
    }

    fn break_with(&self, why: String) {
        lock(&self.broken).get_or_insert(why);
    }

    /// Records in the file after the header, dead ones included.
    pub fn record_count(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// Bytes appended since this journal was opened (compaction not counted).
    pub fn bytes_appended(&self) -> u64 {
        self.bytes_appended.load(Ordering::Relaxed)
    }

    /// fsyncs run for appends since this journal was opened.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Appends one record as one line. The line reaches the OS at once but is
    /// durable only after `sync` with the returned ticket.
    pub fn append<R: Serialize>(&self, record: &R) -> Result<Ticket, JournalError> {
        let mut line = serde_json::to_vec(record).map_err(|error| JournalError::Io {
            path: self.path.clone(),
            source: io::Error::other(error),
        })?;
        line.push(b'\n');
        let mut writer = lock(&self.writer);
        let (file, length) = &mut *writer;
        self.refuse_if_broken()?;
        let before = *length;
        if let Err(error) = file.write_all(&line) {
            // Never leave half a line for the next record to be glued onto:
            // cut the file back to where this append began.
            let undone = file.set_len(before).is_ok();
            self.break_with(match undone {
                true => format!("a write failed ({error})"),
                false => format!("a write failed ({error}) and could not be undone"),
            });
            return Err(io_error(&self.path)(error));
        }
        *length += line.len() as u64;
        let ticket = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        self.records.fetch_add(1, Ordering::Relaxed);
        self.bytes_appended
            .fetch_add(line.len() as u64, Ordering::Relaxed);
        Ok(Ticket(ticket))
    }

    /// Waits until everything up to `ticket` is on disk. One caller runs the
    /// fsync for all who are waiting; the others wait for it (group commit).
    pub fn sync(&self, ticket: Ticket) -> Result<(), JournalError> {
        let mut state = lock(&self.sync);
        loop {
            self.refuse_if_broken()?;
            if state.synced >= ticket.0 {
                return Ok(());
            }
            if state.syncing {
                state = self
                    .synced_changed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            state.syncing = true;
            let target = self.written.load(Ordering::SeqCst);
            let file = Arc::clone(&state.file);
            drop(state);
            let result = file.sync_data();
            self.fsyncs.fetch_add(1, Ordering::Relaxed);
            state = lock(&self.sync);
            state.syncing = false;
            match &result {
                Ok(()) => state.synced = state.synced.max(target),
                // After a failed fsync the kernel may have dropped the
                // pages: a later fsync that succeeds proves nothing.
                Err(error) => self.break_with(format!("an fsync failed ({error})")),
            }
            self.synced_changed.notify_all();
            result.map_err(io_error(&self.path))?;
        }
    }

    /// Makes every appended record durable.
    pub fn sync_all(&self) -> Result<(), JournalError> {
        self.sync(self.last_ticket())
    }

    /// The ticket of the last record appended.
    pub fn last_ticket(&self) -> Ticket {
        Ticket(self.written.load(Ordering::SeqCst))
    }

    /// Replaces the file with just `live` records: temp file in the same
    /// directory, fsync, rename, fsync of the directory.
    pub fn compact<'a, R: Serialize + 'a>(
        &self,
        live: impl IntoIterator<Item = &'a R>,
    ) -> Result<(), JournalError> {
        let mut writer = lock(&self.writer);
        let mut count = 0u64;
        write_atomically(&self.path, |out| {
            out.write_all(&header_line())?;
            for record in live {
                serde_json::to_writer(&mut *out, record).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
                count += 1;
            }
            Ok(())
        })?;
        let file = fs_err::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io_error(&self.path))?
            .into_file();
        let sync_file = file.try_clone().map_err(io_error(&self.path))?;
        let length = file.metadata().map_err(io_error(&self.path))?.len();
        *writer = (file, length);
        let mut state = lock(&self.sync);
        state.file = Arc::new(sync_file);
        state.synced = self.written.load(Ordering::SeqCst);
        self.records.store(count, Ordering::Relaxed);
        Ok(())
    }
}

/// Replaces a journal file atomically (see `atomic_file`).
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), JournalError> {
    crate::journal::atomic_file::write(path, ".ferry-journal-", fill)
        .map_err(|(path, source)| JournalError::Io { path, source })
}
