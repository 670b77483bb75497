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
//! "complete" answer, never the placed file. Lines of uploads deleted since
//! are dropped when the file is rewritten at the next sweep; a torn last
//! line is cut off. At most `REMEMBERED` completed ones are kept (in
//! memory too); past that the oldest are forgotten, as if expired.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::described::UploadInfo;
use crate::journal::job::Timestamp;

const LOG: &str = "completed.jsonl";
/// Completed whole uploads remembered at most: about 50 MB of memory.
const REMEMBERED: usize = 100_000;

/// One completed whole upload, as a line of the log.
#[derive(Serialize, Deserialize)]
struct Line {
    info: UploadInfo,
    /// When it completed, from which its expiry is counted.
    at: Timestamp,
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
    /// Completed ones, oldest first (some may be gone since).
    completed: VecDeque<String>,
    /// Ones without a URL (plain `PUT`): nobody can ask about them once
    /// answered, so their completion writes no line.
    unnamed: HashSet<String>,
    /// Lines in the log for uploads no longer held.
    stale: usize,
}

impl State {
    fn remove(&mut self, id: &str) {
        self.unnamed.remove(id);
        if let Some(Held::Completed(..)) = self.held.remove(id) {
            self.stale += 1;
        }
    }

    /// Forgets the oldest completed ones past `REMEMBERED`.
    fn forget_oldest(&mut self) {
        while self.completed.len() > REMEMBERED {
            let Some(oldest) = self.completed.pop_front() else {
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
    /// Opened for appending at the first completion.
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
        let mut found = Vec::new();
        let lines = bytes.split(|&b| b == b'\n');
        let lines = lines.filter(|line| !line.is_empty());
        let mut count = 0;
        for line in lines {
            count += 1;
            let Ok(Line { info, at }) = serde_json::from_slice::<Line>(line) else {
                continue;
            };
            if !state.join(format!("{}.json", info.id)).exists() {
                found.push((at.0, info));
            }
        }
        found.sort_by_key(|(at, _)| *at);
        let mut state = State::default();
        for (at, info) in found {
            state.completed.push_back(info.id.clone());
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
        // The log's lock before the state's, as in `compact`.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.state();
        if !state.held.contains_key(&info.id) {
            return Ok(false);
        }
        let at = SystemTime::now();
        let held = match info.completed {
            None => Held::Receiving(info.clone()),
            Some(_) => Held::Completed(info.clone(), at),
        };
        if info.completed.is_some() && !state.unnamed.contains(&info.id) {
            let line = Line {
                info: info.clone(),
                at: Timestamp(at),
            };
            let mut line = serde_json::to_vec(&line).map_err(io::Error::other)?;
            line.push(b'\n');
            if file.is_none() {
                let opened = fs_err::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?;
                *file = Some(opened.into_parts().0);
            }
            file.as_mut().expect("opened above").write_all(&line)?;
            state.completed.push_back(info.id.clone());
        }
        state.held.insert(info.id.clone(), held);
        state.forget_oldest();
        Ok(true)
    }

    /// Forgets an upload (deleted, expired, or described by a file of its
    /// own from now on).
    pub fn remove(&self, id: &str) {
        self.state().remove(id);
    }

    /// Rewrites the log without the lines of uploads no longer held, when
    /// there are any.
    pub fn compact(&self) -> io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let mut state = self.state();
        if state.stale == 0 {
            return Ok(());
        }
        let folder = self.path.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(".completed-")
            .tempfile_in(folder)?;
        let mut text = Vec::new();
        for held in state.held.values() {
            if let Held::Completed(info, at) = held {
                let line = Line {
                    info: info.clone(),
                    at: Timestamp(*at),
                };
                serde_json::to_writer(&mut text, &line).map_err(io::Error::other)?;
                text.push(b'\n');
            }
        }
        temp.write_all(&text)?;
        temp.persist(&self.path).map_err(|error| error.error)?;
        // The next line goes to the new file.
        *file = None;
        state.stale = 0;
        let state = &mut *state;
        let held = &state.held;
        let completed = std::mem::take(&mut state.completed);
        state.completed = (completed.into_iter())
            .filter(|id| matches!(held.get(id), Some(Held::Completed(..))))
            .collect();
        Ok(())
    }
}
