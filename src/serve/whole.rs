//! Uploads whose one request carries them whole, described without a file
//! of their own.
//!
//! Such an upload's URL reaches the client only with the final answer (no
//! 104 is sent), so nobody can resume it before it completes: its
//! description is held in memory while its bytes arrive. Once placed, it
//! is remembered as one JSON line appended to
//! `.ferry-uploads/completed.jsonl`, so that `HEAD` on its URL still says
//! "complete" until it expires, as for any other upload. That is one file
//! created per upload (the part file, which becomes the placed file), not
//! three: on a disk where creating a file is the dearest step (ext4 without
//! a journal skips every inode freed in the last minutes), this is what
//! lets many small uploads go fast. The lines are written without a sync,
//! like the description of any finished upload: a crash loses only the
//! "complete" answer, never the placed file. A deletion (expiry, a DELETE)
//! appends a line too, so a restart does not bring the upload back; the
//! file is rewritten without either at the next sweep. A torn last line is
//! cut off. At most `REMEMBERED` completed ones, and `REMEMBERED_BYTES` of
//! their lines, are kept (in memory too); past that the oldest are
//! forgotten, as if expired. An upload whose request ends before it
//! completes gets a file of its own (`UploadStore::describe`): its answer
//! names it, so the client may come back to it, also after a restart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::described::UploadInfo;
use crate::journal::job::Timestamp;

const LOG: &str = "completed.jsonl";
/// Completed whole uploads remembered at most.
const REMEMBERED: usize = 100_000;
/// Bytes of their lines remembered at most (tus metadata can be long).
const REMEMBERED_BYTES: usize = 64 << 20;

/// A line of the log: an upload completed, or one deleted since.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Completed {
        info: Box<UploadInfo>,
        /// When it completed, from which its expiry is counted.
        at: Timestamp,
    },
    Deleted {
        deleted: String,
    },
}

fn line_of(line: &Line) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Where a whole upload stands.
#[derive(Clone)]
pub enum Held {
    /// Its bytes are arriving; the part file holds them.
    Receiving(UploadInfo),
    Completed(UploadInfo, SystemTime),
}

#[derive(Default)]
struct State {
    held: HashMap<String, Held>,
    /// Completed ones with a line, oldest first (some may be gone since).
    logged: VecDeque<String>,
    /// The length of each one's line.
    line_lengths: HashMap<String, usize>,
    /// Bytes of the lines of the completed ones held.
    logged_bytes: usize,
    /// Ones without a URL (plain `PUT`): nobody can ask about them once
    /// answered, so their completion writes no line.
    unnamed: HashSet<String>,
    /// Lines in the log that a rewrite would drop.
    stale: usize,
}

impl State {
    /// Forgets `id`; true when it had a line in the log.
    fn remove(&mut self, id: &str) -> bool {
        let named = !self.unnamed.remove(id);
        let completed = matches!(self.held.remove(id), Some(Held::Completed(..)));
        let logged = named && completed;
        if logged {
            self.stale += 1;
            self.logged_bytes -= self.line_lengths.remove(id).unwrap_or(0);
        }
        logged
    }

    /// Forgets the oldest completed ones past the limits.
    fn forget_oldest(&mut self) {
        while self.logged.len() > REMEMBERED || self.logged_bytes > REMEMBERED_BYTES {
            let Some(oldest) = self.logged.pop_front() else {
                break;
            };
            if let Some(Held::Completed(..)) = self.held.get(&oldest) {
                self.remove(&oldest);
            }
        }
    }
}

pub struct WholeUploads {
    path: PathBuf,
    /// Opened for appending at the first line; always locked before
    /// `state`.
    file: Mutex<Option<std::fs::File>>,
    state: Mutex<State>,
}

impl WholeUploads {
    /// Reads the completed ones back from the log in `state` (a folder);
    /// an upload described by a file of its own there is not taken.
    pub fn open(state: &Path) -> io::Result<WholeUploads> {
        let path = state.join(LOG);
        // A last line torn by a crash is cut off, so that the next one
        // starts a line of its own; it loses only a "complete" answer.
        let (bytes, torn) = super::forwarded::whole_lines(&path)?;
        if torn {
            let file = fs_err::OpenOptions::new().write(true).open(&path)?;
            file.set_len(bytes.len() as u64)?;
        }
        let mut found: HashMap<String, (SystemTime, UploadInfo, usize)> = HashMap::new();
        let mut count = 0;
        for line in bytes.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
            count += 1;
            match serde_json::from_slice::<Line>(line) {
                Ok(Line::Completed { info, at }) => {
                    if !state.join(format!("{}.json", info.id)).exists() {
                        found.insert(info.id.clone(), (at.0, *info, line.len() + 1));
                    }
                }
                Ok(Line::Deleted { deleted }) => {
                    found.remove(&deleted);
                }
                Err(_) => {}
            }
        }
        let mut found: Vec<_> = found.into_values().collect();
        found.sort_by_key(|(at, ..)| *at);
        let mut state = State::default();
        for (at, info, len) in found {
            state.logged.push_back(info.id.clone());
            state.line_lengths.insert(info.id.clone(), len);
            state.logged_bytes += len;
            state
                .held
                .insert(info.id.clone(), Held::Completed(info, at));
        }
        state.stale = count - state.held.len();
        state.forget_oldest();
        Ok(WholeUploads {
            path,
            file: Mutex::new(None),
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        (self.state.lock()).unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn file(&self) -> MutexGuard<'_, Option<std::fs::File>> {
        (self.file.lock()).unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends `line` to the log, opening it at the first.
    fn append(&self, file: &mut Option<std::fs::File>, line: &[u8]) -> io::Result<()> {
        if file.is_none() {
            use std::os::unix::fs::OpenOptionsExt;
            // Private, as the descriptions written through a temp file are.
            let opened = (std::fs::OpenOptions::new().create(true).append(true))
                .mode(0o600)
                .open(&self.path)
                .map_err(|error| {
                    io::Error::new(error.kind(), format!("{}: {error}", self.path.display()))
                })?;
            *file = Some(opened);
        }
        file.as_mut().expect("opened above").write_all(line)
    }

    /// A new whole upload, whose bytes are about to arrive.
    pub fn begin(&self, info: &UploadInfo) {
        let held = Held::Receiving(info.clone());
        self.state().held.insert(info.id.clone(), held);
    }

    /// Marks a whole upload that has no URL: its completion is kept in
    /// memory only, until it is removed.
    pub fn unnamed(&self, id: &str) {
        self.state().unnamed.insert(id.to_owned());
    }

    pub fn get(&self, id: &str) -> Option<Held> {
        self.state().held.get(id).cloned()
    }

    pub fn ids(&self) -> Vec<String> {
        self.state().held.keys().cloned().collect()
    }

    /// Takes a new description of an upload held here: kept in memory
    /// while it is received, appended to the log once completed. False
    /// when the upload is not held here.
    pub fn update(&self, info: &UploadInfo) -> io::Result<bool> {
        let mut file = self.file();
        let mut state = self.state();
        if !state.held.contains_key(&info.id) {
            return Ok(false);
        }
        let at = SystemTime::now();
        if info.completed.is_none() {
            state
                .held
                .insert(info.id.clone(), Held::Receiving(info.clone()));
            return Ok(true);
        }
        if !state.unnamed.contains(&info.id) {
            let line = line_of(&Line::Completed {
                info: Box::new(info.clone()),
                at: Timestamp(at),
            })?;
            self.append(&mut file, &line)?;
            state.logged.push_back(info.id.clone());
            state.line_lengths.insert(info.id.clone(), line.len());
            state.logged_bytes += line.len();
        }
        state
            .held
            .insert(info.id.clone(), Held::Completed(info.clone(), at));
        state.forget_oldest();
        Ok(true)
    }

    /// Forgets an upload (deleted, expired, or described by a file of its
    /// own from now on); one with a line gets a line saying so.
    pub fn remove(&self, id: &str) -> io::Result<()> {
        let mut file = self.file();
        let logged = self.state().remove(id);
        if logged {
            let line = line_of(&Line::Deleted {
                deleted: id.to_owned(),
            })?;
            self.append(&mut file, &line)?;
            self.state().stale += 1;
        }
        Ok(())
    }

    /// Rewrites the log with the lines of the completed uploads still
    /// held only, when others are there. Lookups are not held up (the
    /// state is locked only to copy them); a completion or deletion waits
    /// for the log's lock until the new file is in place.
    pub fn compact(&self) -> io::Result<()> {
        let mut file = self.file();
        let (kept, stale) = {
            let state = self.state();
            if state.stale == 0 {
                return Ok(());
            }
            let kept: Vec<(UploadInfo, SystemTime)> = (state.logged.iter())
                .filter_map(|id| match state.held.get(id) {
                    Some(Held::Completed(info, at)) => Some((info.clone(), *at)),
                    _ => None,
                })
                .collect();
            (kept, state.stale)
        };
        let folder = self.path.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(".completed-")
            .tempfile_in(folder)?;
        let mut text = Vec::new();
        for (info, at) in kept {
            text.extend(line_of(&Line::Completed {
                info: Box::new(info),
                at: Timestamp(at),
            })?);
        }
        temp.write_all(&text)?;
        // Rare, and it replaces every line: durable before the rename.
        temp.as_file().sync_all()?;
        temp.persist(&self.path).map_err(|error| error.error)?;
        // The next line goes to the new file.
        *file = None;
        let mut state = self.state();
        state.stale -= stale;
        let state = &mut *state;
        let held = &state.held;
        state
            .logged
            .retain(|id| matches!(held.get(id), Some(Held::Completed(..))));
        Ok(())
    }
}
