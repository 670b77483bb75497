//! What can refuse a request to an upload, one variant per HTTP answer the
//! protocols give. Its own module so that the store and the appender that
//! writes for it both use it without using each other.

use std::io;
use std::path::Path;

use crate::digest::Sha256;
use crate::journal::paths::Readable;
use crate::placement;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no upload {0}")]
    NotFound(String),
    #[error("the upload is at offset {actual}, not {claimed}")]
    OffsetMismatch { claimed: u64, actual: u64 },
    #[error("the upload would exceed its length of {length} bytes")]
    TooLong { length: u64 },
    #[error("the upload's length is already set to {0} bytes")]
    LengthAlreadySet(u64),
    #[error("a length of {length} bytes exceeds this server's limit of {max} bytes")]
    OverMaxSize { length: u64, max: u64 },
    #[error("an upload of {length} bytes does not fit: {free} bytes are free on the server's disk")]
    NoSpace { length: u64, free: u64 },
    #[error(
        "this server already holds its limit of unfinished uploads ({0}, --max-uploads); try again when some are done"
    )]
    TooManyUploads(usize),
    #[error("the upload is already complete")]
    Completed,
    #[error("the upload is incomplete: {offset} of {length:?} bytes")]
    Incomplete { offset: u64, length: Option<u64> },
    #[error("the content's SHA-256 is {actual}, not the {expected} the client announced")]
    DigestMismatch { expected: Sha256, actual: Sha256 },
    #[error(transparent)]
    UnsafePath(#[from] placement::UnsafePath),
    /// A name this server cannot store: told by the name, never by the
    /// server's own path.
    #[error("cannot store {name}: {why}")]
    NotPlaceable { name: String, why: &'static str },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Why a name whose folder is a symlink out of the served folder is not
/// stored.
pub const OUTSIDE: &str = "its folder leads outside the served folder (a symlink)";

impl UploadError {
    /// Placing `relative` failed: the name's fault (a file where its folder
    /// would be, a name too long for the disk) is the client's to hear,
    /// anything else the server's.
    pub fn placing(relative: &Path, error: io::Error) -> UploadError {
        let why = match error.kind() {
            io::ErrorKind::NotADirectory => "a part of its folder is a file on the server",
            io::ErrorKind::IsADirectory => "a folder on the server has its name",
            io::ErrorKind::InvalidFilename => "its name is too long for the server's file system",
            _ => return UploadError::Io(error),
        };
        UploadError::not_placeable(relative, why)
    }

    /// `relative`'s folder is a symlink out of the served folder.
    pub fn outside(relative: &Path) -> UploadError {
        UploadError::not_placeable(relative, OUTSIDE)
    }

    /// `relative` cannot be stored, for `why`.
    pub fn not_placeable(relative: &Path, why: &'static str) -> UploadError {
        UploadError::NotPlaceable {
            name: Readable(relative).to_string(),
            why,
        }
    }
}
