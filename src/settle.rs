//! When a file that something is still writing may be taken: once its size
//! and modification time have held still for the settle time.
//!
//! A video copied off a card grows for seconds; one taken early would be
//! uploaded half-written and then superseded. Each file-system event for a
//! path (re)starts that path's clock with the file's state as it is then;
//! `due` hands out the paths whose state is unchanged after the settle
//! time, restarts those that moved, and forgets those that vanished. It
//! keeps no file open and reads nothing but metadata, so a watcher can hold
//! thousands of paths in it. Time and metadata come in from the caller,
//! which keeps this testable without a clock or a disk. This is the core
//! of the coming `ferry watch` (issue 18); nothing calls it yet.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::digest::FileStat;

pub struct Settling {
    settle: Duration,
    /// Per path: its state when last seen to move, and since when.
    waiting: HashMap<PathBuf, (Option<FileStat>, Instant)>,
}

impl Settling {
    pub fn new(settle: Duration) -> Settling {
        Settling {
            settle,
            waiting: HashMap::new(),
        }
    }

    /// Something happened to `path` (its state now is `stat`, none if it
    /// cannot be read yet): its clock starts again.
    pub fn touched(&mut self, path: PathBuf, stat: Option<FileStat>, now: Instant) {
        self.waiting.insert(path, (stat, now));
    }

    /// The paths that have held still for the settle time, given their
    /// state now. A path whose state moved waits a full settle time again;
    /// one that is gone is forgotten (a backup never acts on deletions).
    pub fn due(&mut self, now: Instant, stat_of: impl Fn(&Path) -> StatNow) -> Vec<PathBuf> {
        let mut ready = Vec::new();
        self.waiting.retain(|path, (seen, since)| {
            if now.duration_since(*since) < self.settle {
                return true;
            }
            match stat_of(path) {
                StatNow::Gone => false,
                StatNow::Is(stat) if Some(stat) == *seen => {
                    ready.push(path.clone());
                    false
                }
                StatNow::Is(stat) => {
                    (*seen, *since) = (Some(stat), now);
                    true
                }
                StatNow::Unreadable => {
                    (*seen, *since) = (None, now);
                    true
                }
            }
        });
        ready.sort();
        ready
    }

    /// When `due` may next have something to hand out.
    pub fn next_due(&self) -> Option<Instant> {
        self.waiting
            .values()
            .map(|(_, since)| *since + self.settle)
            .min()
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// What a path's metadata says now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatNow {
    Is(FileStat),
    /// It exists but cannot be read (yet): wait again.
    Unreadable,
    Gone,
}

impl StatNow {
    /// Reads `path`'s metadata, following no link.
    pub fn of(path: &Path) -> StatNow {
        match std::fs::symlink_metadata(path) {
            Ok(meta) => StatNow::Is(FileStat::of(&meta)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => StatNow::Gone,
            Err(_) => StatNow::Unreadable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn stat(size: u64) -> FileStat {
        FileStat {
            size,
            mtime_ns: size as i64,
            inode: Some(1),
        }
    }

    #[test]
    fn a_growing_file_waits_until_it_holds_still_for_the_settle_time() {
        let settle = Duration::from_secs(2);
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        let mut settling = Settling::new(settle);
        let video = PathBuf::from("DCIM/clip.mov");
        let photo = PathBuf::from("DCIM/IMG_0001.jpg");
        let gone = PathBuf::from("DCIM/tmp.part");
        let sizes = RefCell::new(HashMap::from([
            (video.clone(), StatNow::Is(stat(100))),
            (photo.clone(), StatNow::Is(stat(7))),
            (gone.clone(), StatNow::Gone),
        ]));
        let now_of = |path: &Path| sizes.borrow()[path];

        settling.touched(video.clone(), Some(stat(100)), at(0));
        settling.touched(photo.clone(), Some(stat(7)), at(0));
        settling.touched(gone.clone(), Some(stat(1)), at(0));
        assert_eq!(settling.next_due(), Some(at(2)));
        assert!(
            settling.due(at(1), now_of).is_empty(),
            "too early for anything"
        );

        // The video grew without an event reaching us: it waits again.
        sizes
            .borrow_mut()
            .insert(video.clone(), StatNow::Is(stat(300)));
        assert_eq!(settling.due(at(2), now_of), vec![photo.clone()]);
        assert_eq!(settling.len(), 1, "the vanished file is forgotten");
        assert_eq!(settling.next_due(), Some(at(4)));
        assert!(settling.due(at(3), now_of).is_empty());
        assert_eq!(settling.due(at(4), now_of), vec![video.clone()]);
        assert!(settling.is_empty());

        // An event restarts the clock even when the size is the same.
        settling.touched(photo.clone(), Some(stat(7)), at(5));
        settling.touched(photo.clone(), Some(stat(7)), at(6));
        assert!(settling.due(at(7), now_of).is_empty());
        assert_eq!(settling.due(at(8), now_of), vec![photo]);
    }

    #[test]
    fn metadata_is_read_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.jpg");
        std::fs::write(&file, b"12345").unwrap();
        assert!(matches!(StatNow::of(&file), StatNow::Is(stat) if stat.size == 5));
        assert_eq!(StatNow::of(&dir.path().join("none.jpg")), StatNow::Gone);
    }
}
