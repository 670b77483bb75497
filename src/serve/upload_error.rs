//! What can refuse a request to an upload, one variant per HTTP answer the
//! protocols give. Its own module so that the store and the appender that
//! writes for it both use it without using each other.

use std::io;

use crate::digest::Sha256;
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
    #[error(transparent)]
    Io(#[from] io::Error),
}
