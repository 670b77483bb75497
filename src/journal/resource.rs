//! The file a job uploads, as the scan saw it: kept apart from the job's
//! states and transitions (`job.rs`) because the protocols read only this.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::journal::paths::JournalPath;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Other,
}

/// The file a job uploads, as it was when it was hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub root: JournalPath,
    /// Relative to `root`; also the name the file gets at the destination.
    pub path: JournalPath,
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
    /// The content's SHA-256 (hex in the journal).
    pub sha256: Sha256,
    pub kind: MediaKind,
    /// When the photo or video was taken, and how that is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken: Option<crate::capture::Taken>,
    /// Where it lands at the destination when a `--layout` chose the
    /// place; otherwise at `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<JournalPath>,
}

impl Resource {
    /// The path the file gets at the destination.
    pub fn target_path(&self) -> &JournalPath {
        self.target.as_ref().unwrap_or(&self.path)
    }

    /// The file on this machine.
    pub fn source(&self) -> PathBuf {
        self.root.as_path().join(self.path.as_path())
    }

    /// Size, mtime and inode as the scan saw them.
    pub fn stat(&self) -> crate::digest::FileStat {
        crate::digest::FileStat {
            size: self.size,
            mtime_ns: self.mtime_ns,
            inode: self.inode,
        }
    }
}
