//! When a file that something is still writing may be taken: once its size
//! and modification time have held still for the settle time.
//!
//! A video copied off a card grows for seconds; one taken early would be
//! uploaded half-written and then superseded. Each file-system event for a
//! path (re)starts that path's clock with the file's state as it is then;
//! `due_together` hands out the paths whose state is unchanged after the
//! settle time, restarts those that moved, and forgets those that vanished. It
//! keeps no file open and reads nothing but metadata, so a watcher can hold
//! thousands of paths in it. Time and metadata come in from the caller,
//! which keeps this testable without a clock or a disk. It hands out a
//! group's paths (a photo's family) in one batch: one settled
//! while another is still being written waits for it.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::digest::FileStat;

pub struct Settling {
    settle: Duration,
    /// Per path: its state when last seen to move, and since when.
    waiting: HashMap<PathBuf, (Option<FileStat>, Instant)>,
    /// Settled, and kept for a path of their group still waiting
    /// (`due_together`), with the state they settled in.
    held: HashMap<PathBuf, FileStat>,
}

impl Settling {
    pub fn new(settle: Duration) -> Settling {
        Settling {
            settle,
            waiting: HashMap::new(),
            held: HashMap::new(),
        }
    }

    /// Something happened to `path` (its state now is `stat`, none if it
    /// cannot be read yet): its clock starts again.
    pub fn touched(&mut self, path: PathBuf, stat: Option<FileStat>, now: Instant) {
        self.held.remove(&path);
        self.waiting.insert(path, (stat, now));
    }

    /// The paths settled (`settled`), sorted; but a settled path whose
    /// group (`group_of`) still has a path waiting is held until that one
    /// settles too, so that a group's paths are handed out together. A
    /// held path that moved waits again; one that vanished is forgotten.
    pub fn due_together<G: Eq + Hash>(
        &mut self,
        now: Instant,
        stat_of: impl Fn(&Path) -> StatNow,
        group_of: impl Fn(&Path) -> Option<G>,
    ) -> Vec<PathBuf> {
        let mut ready = self.settled(now, &stat_of);
        for (path, settled) in std::mem::take(&mut self.held) {
            match stat_of(&path) {
                StatNow::Is(stat) if stat == settled => ready.push((path, stat)),
                StatNow::Gone => {}
                StatNow::Is(stat) => self.touched(path, Some(stat), now),
                StatNow::Unreadable => self.touched(path, None, now),
            }
        }
        let still: HashSet<G> = self.waiting.keys().filter_map(|p| group_of(p)).collect();
        let mut handed = Vec::new();
        for (path, stat) in ready {
            match group_of(&path).is_some_and(|group| still.contains(&group)) {
                true => {
                    self.held.insert(path, stat);
                }
                false => handed.push(path),
            }
        }
        handed.sort();
        handed
    }

    /// Whether `path` is waiting to settle, or held for its group.
    pub fn holds(&self, path: &Path) -> bool {
        self.waiting.contains_key(path) || self.held.contains_key(path)
    }

    /// The paths that have held still for the settle time, given their
    /// state now, each with that state. A path whose state moved waits a
    /// full settle time again; one that is gone is forgotten (a backup
    /// never acts on deletions).
    fn settled(
        &mut self,
        now: Instant,
        stat_of: impl Fn(&Path) -> StatNow,
    ) -> Vec<(PathBuf, FileStat)> {
        let mut ready = Vec::new();
        self.waiting.retain(|path, (seen, since)| {
            if now.duration_since(*since) < self.settle {
                return true;
            }
            match stat_of(path) {
                StatNow::Gone => false,
                StatNow::Is(stat) if Some(stat) == *seen => {
                    ready.push((path.clone(), stat));
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
        ready
    }

    /// When `due_together` may next have something to hand out.
    pub fn next_due(&self) -> Option<Instant> {
        self.waiting
            .values()
            .map(|(_, since)| *since + self.settle)
            .min()
    }

    pub fn len(&self) -> usize {
        self.waiting.len() + self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty() && self.held.is_empty()
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

    /// Each path its own group.
    fn due(
        settling: &mut Settling,
        now: Instant,
        stat_of: impl Fn(&Path) -> StatNow,
    ) -> Vec<PathBuf> {
        settling.due_together(now, stat_of, |_| None::<()>)
    }

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
            due(&mut settling, at(1), now_of).is_empty(),
            "too early for anything"
        );

        // The video grew without an event reaching us: it waits again.
        sizes
            .borrow_mut()
            .insert(video.clone(), StatNow::Is(stat(300)));
        assert_eq!(due(&mut settling, at(2), now_of), vec![photo.clone()]);
        assert_eq!(settling.len(), 1, "the vanished file is forgotten");
        assert_eq!(settling.next_due(), Some(at(4)));
        assert!(due(&mut settling, at(3), now_of).is_empty());
        assert_eq!(due(&mut settling, at(4), now_of), vec![video.clone()]);
        assert!(settling.is_empty());

        // An event restarts the clock even when the size is the same.
        settling.touched(photo.clone(), Some(stat(7)), at(5));
        settling.touched(photo.clone(), Some(stat(7)), at(6));
        assert!(due(&mut settling, at(7), now_of).is_empty());
        assert_eq!(due(&mut settling, at(8), now_of), vec![photo]);
    }

    #[test]
    fn a_groups_settled_path_waits_for_one_still_written_and_they_go_together() {
        let settle = Duration::from_secs(2);
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        let mut settling = Settling::new(settle);
        let (photo, video, other) = (
            PathBuf::from("IMG_1.JPG"),
            PathBuf::from("IMG_1.MOV"),
            PathBuf::from("IMG_2.JPG"),
        );
        let sizes = RefCell::new(HashMap::from([
            (photo.clone(), StatNow::Is(stat(7))),
            (video.clone(), StatNow::Is(stat(100))),
            (other.clone(), StatNow::Is(stat(9))),
        ]));
        let now_of = |path: &Path| sizes.borrow()[path];
        let group = |path: &Path| path.file_stem().map(|stem| stem.to_owned());
        settling.touched(photo.clone(), Some(stat(7)), at(0));
        settling.touched(other.clone(), Some(stat(9)), at(0));
        settling.touched(video.clone(), Some(stat(100)), at(1));
        // The video grew: the photo is held for it, the other goes.
        sizes
            .borrow_mut()
            .insert(video.clone(), StatNow::Is(stat(200)));
        assert_eq!(settling.due_together(at(3), now_of, group), vec![other]);
        assert!(settling.holds(&photo) && settling.holds(&video));
        assert_eq!(settling.len(), 2);
        assert_eq!(
            settling.next_due(),
            Some(at(5)),
            "the held photo sets no time"
        );
        assert!(settling.due_together(at(4), now_of, group).is_empty());
        assert_eq!(
            settling.due_together(at(5), now_of, group),
            vec![photo.clone(), video]
        );
        assert!(settling.is_empty());
        // A held path that moves waits again on its own.
        settling.touched(photo.clone(), Some(stat(7)), at(6));
        settling.touched(PathBuf::from("IMG_1.XMP"), None, at(6));
        sizes
            .borrow_mut()
            .insert(PathBuf::from("IMG_1.XMP"), StatNow::Unreadable);
        assert!(settling.due_together(at(8), now_of, group).is_empty());
        sizes
            .borrow_mut()
            .insert(photo.clone(), StatNow::Is(stat(8)));
        assert!(settling.due_together(at(9), now_of, group).is_empty());
        assert!(settling.holds(&photo));
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
