//! File-system events for `ferry watch`, reduced to what a
//! backup acts on.
//!
//! The `notify` crate watches the roots recursively (inotify on Linux,
//! FSEvents on macOS) and adds watches for folders created or moved in.
//! Its events become `Change`s: a path that was created, written, renamed
//! into place or closed after writing is `Touched`; a folder that appears
//! is expanded into the files already in it (moving a folder in raises one
//! event, not one per file); deletions are dropped, since a backup never
//! deletes; a queue overflow or a watch error is `Rescan`, because events
//! were lost and only a full scan catches up. The `Settling` clock
//! (`settle.rs`) decides when a touched file is taken.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

/// What the watcher has to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A file that may be new or changed.
    Touched(PathBuf),
    /// Events were lost (`why`): scan everything again.
    Rescan(String),
}

pub struct Watcher {
    inner: notify::RecommendedWatcher,
    events: mpsc::Receiver<Message>,
    sender: mpsc::Sender<Message>,
}

enum Message {
    Event(notify::Result<notify::Event>),
    /// Something besides the file system wants the waiting loop (a signal).
    Wake,
}

/// Ends a `Watcher::next` wait early, from another thread.
#[derive(Clone)]
pub struct Waker(mpsc::Sender<Message>);

impl Waker {
    pub fn wake(&self) {
        // Nobody waits any more only when the watcher is gone.
        let _ = self.0.send(Message::Wake);
    }
}

/// A folder that could not be watched, and why, in words: notify's own
/// text for a missing folder is "No path was found.", naming none.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {}: {why}", shown.display())]
pub struct Unwatched {
    shown: PathBuf,
    why: String,
}

impl Unwatched {
    fn of(shown: &Path, error: notify::Error) -> Unwatched {
        let why = match error.kind {
            notify::ErrorKind::PathNotFound => {
                "it is not there (a card taken out, a disk unmounted?)".to_owned()
            }
            notify::ErrorKind::MaxFilesWatch => {
                "the system's limit of watched folders is reached (fs.inotify.max_user_watches)"
                    .to_owned()
            }
            notify::ErrorKind::Io(error) => error.to_string(),
            _ => error.to_string(),
        };
        Unwatched {
            shown: shown.to_owned(),
            why,
        }
    }
}

impl Watcher {
    /// Watches every root, recursively.
    pub fn new(roots: &[PathBuf]) -> Result<Watcher, Unwatched> {
        let (sender, events) = mpsc::channel();
        let events_sender = sender.clone();
        let mut inner = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // inotify also reports every open, so ferry's own reading while
            // a batch runs would pile up here; only what may act is kept.
            if event
                .as_ref()
                .is_ok_and(|event| !event.need_rescan() && !acts(&event.kind))
            {
                return;
            }
            // The receiver is gone only when the watcher is dropped.
            let _ = events_sender.send(Message::Event(event));
        })
        .map_err(|error| Unwatched::of(Path::new("the folders"), error))?;
        for root in roots {
            (inner.watch(root, RecursiveMode::Recursive)).map_err(|e| Unwatched::of(root, e))?;
        }
        Ok(Watcher {
            inner,
            events,
            sender,
        })
    }

    /// Watches the roots again (before a rescan): a root that went away
    /// and came back (a card taken out and put back) is watched anew. A
    /// root still watched is left as it is.
    pub fn rewatch(&mut self, roots: &[PathBuf]) -> Result<(), Unwatched> {
        for root in roots {
            (self.inner.watch(root, RecursiveMode::Recursive))
                .map_err(|error| Unwatched::of(root, error))?;
        }
        Ok(())
    }

    pub fn waker(&self) -> Waker {
        Waker(self.sender.clone())
    }

    /// The changes of the next event, waiting at most `timeout` (or until
    /// a `Waker` wakes it); none when nothing happened (or only what a
    /// backup ignores).
    pub fn next(&self, timeout: Duration) -> Option<Vec<Change>> {
        match self.events.recv_timeout(timeout) {
            Ok(Message::Event(Ok(event))) => Some(changes(&event)),
            Ok(Message::Event(Err(error))) => Some(vec![Change::Rescan(error.to_string())]),
            Ok(Message::Wake) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Some(vec![Change::Rescan("the watch ended".to_owned())])
            }
        }
    }
}

fn changes(event: &notify::Event) -> Vec<Change> {
    if event.need_rescan() {
        return vec![Change::Rescan("the event queue overflowed".to_owned())];
    }
    if !acts(&event.kind) {
        return Vec::new();
    }
    event
        .paths
        .iter()
        .flat_map(|path| files_at(path))
        .map(Change::Touched)
        .collect()
}

/// Whether an event of this kind may mean a new or changed file: not a
/// read, an open, a metadata change or a deletion.
fn acts(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Any | EventKind::Other => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(notify::event::AccessKind::Close(notify::event::AccessMode::Write)) => {
            true
        }
        EventKind::Access(_) | EventKind::Remove(_) => false,
    }
}

/// The path itself, or, for a folder, every file below it; nothing for a
/// path that is gone again (a rename's old name, a temporary file).
fn files_at(path: &Path) -> Vec<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => walkdir::WalkDir::new(path)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_type().is_file())
            .map(walkdir::DirEntry::into_path)
            .collect(),
        Ok(meta) if meta.is_file() => vec![path.to_owned()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::time::Instant;

    /// Collects touched paths until `wanted` are all seen (or 10 s pass).
    fn touched_until(watcher: &Watcher, wanted: &BTreeSet<PathBuf>) -> BTreeSet<PathBuf> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = BTreeSet::new();
        while !wanted.is_subset(&seen) && Instant::now() < deadline {
            for change in watcher.next(Duration::from_millis(200)).unwrap_or_default() {
                if let Change::Touched(path) = change {
                    seen.insert(path);
                }
            }
        }
        seen
    }

    #[test]
    fn new_files_and_folders_moved_in_are_touched_and_deletions_are_not() {
        let base = tempfile::tempdir().unwrap();
        let card = base.path().join("card");
        std::fs::create_dir_all(&card).unwrap();
        let watcher = Watcher::new(std::slice::from_ref(&card)).unwrap();

        let photo = card.join("IMG_0001.jpg");
        std::fs::write(&photo, b"jpeg").unwrap();
        let outside = base.path().join("outside/DCIM");
        std::fs::create_dir_all(&outside).unwrap();
        for name in ["a.jpg", "b.jpg", "c.mov"] {
            std::fs::write(outside.join(name), name).unwrap();
        }
        std::fs::rename(base.path().join("outside"), card.join("moved")).unwrap();
        let moved: BTreeSet<PathBuf> = ["a.jpg", "b.jpg", "c.mov"]
            .iter()
            .map(|name| card.join("moved/DCIM").join(name))
            .collect();
        let mut wanted = moved.clone();
        wanted.insert(photo.clone());
        let seen = touched_until(&watcher, &wanted);
        assert!(wanted.is_subset(&seen), "saw {seen:?}");

        // Events arrive in order: once a file written after the deletion
        // is seen, the deletion has been passed over.
        std::fs::remove_file(&photo).unwrap();
        let sentinel = card.join("after.jpg");
        std::fs::write(&sentinel, b"later").unwrap();
        let after_delete = touched_until(&watcher, &BTreeSet::from([sentinel.clone()]));
        assert!(after_delete.contains(&sentinel), "saw {after_delete:?}");
        assert!(
            !after_delete.contains(&photo),
            "a deletion touched {after_delete:?}"
        );
    }

    #[test]
    fn a_waker_ends_a_long_wait() {
        let base = tempfile::tempdir().unwrap();
        let watcher = Watcher::new(&[base.path().to_owned()]).unwrap();
        let waker = watcher.waker();
        let started = Instant::now();
        let thread = std::thread::spawn(move || waker.wake());
        // Nothing happens on disk: only the wake can end this wait early.
        assert_eq!(watcher.next(Duration::from_secs(600)), None);
        assert!(started.elapsed() < Duration::from_secs(300));
        thread.join().unwrap();
    }
}
