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

/// What a file is to its asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The still the asset is dated by (a RAW when there is no other).
    Photo,
    /// The asset's own video, with sidecars but no still.
    Video,
    /// A Live Photo's video.
    PairedVideo,
    /// The RAW of a RAW+JPEG pair.
    AlternatePhoto,
    /// XMP, AAE, THM or a Takeout JSON.
    Sidecar,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Photo => "photo",
            Role::Video => "video",
            Role::PairedVideo => "paired-video",
            Role::AlternatePhoto => "alternate-photo",
            Role::Sidecar => "sidecar",
        }
    }
}

/// A file's place in an asset: which asset (the first 64 bits of its
/// primary file's SHA-256, as hex), and its role there.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AssetRef {
    pub id: String,
    pub role: Role,
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
    /// The asset this file is a member of (a Live Photo, RAW+JPEG, a
    /// photo and its sidecars), and its role there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<AssetRef>,
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

    /// The modification time the scan saw, which copies keep.
    pub fn modified(&self) -> std::time::SystemTime {
        let since = std::time::Duration::from_nanos(self.mtime_ns.unsigned_abs());
        match self.mtime_ns >= 0 {
            true => std::time::UNIX_EPOCH + since,
            false => std::time::UNIX_EPOCH - since,
        }
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
