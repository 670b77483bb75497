//! SHA-256 of a file, trusted only if the file held still.
//!
//! The content is streamed through one fixed buffer, so memory does not depend
//! on file size; `sha2` picks the CPU's SHA extensions (SHA-NI, ARMv8 SHA2)
//! at run time. The file is stat'ed when it is opened and again after the last
//! byte: if its size, mtime or inode moved, or it held more or fewer bytes than
//! its size said, the hash describes no real version of the file and is refused.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

const BUFFER: usize = 256 * 1024;

/// What identifies a version of a file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: Option<u64>,
}

impl FileStat {
    pub fn of(meta: &Metadata) -> FileStat {
        FileStat {
            size: meta.len(),
            mtime_ns: mtime_ns(meta),
            inode: inode(meta),
        }
    }
}

#[cfg(unix)]
fn mtime_ns(meta: &Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec())
}

#[cfg(not(unix))]
fn mtime_ns(meta: &Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos() as i64)
}

#[cfg(unix)]
fn inode(meta: &Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.ino())
}

#[cfg(not(unix))]
fn inode(_meta: &Metadata) -> Option<u64> {
    None
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("vanished before it could be read")]
    Vanished,
    #[error("changed while it was read ({0}); skipped, the next run picks it up")]
    Changed(&'static str),
    #[error("{0}")]
    Io(#[from] io::Error),
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The bytes of a hex digest (pairs that are not hex are skipped).
pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| text.get(2 * i..2 * i + 2))
        .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
        .collect()
}

/// Hashes `path`, which the walk saw as `seen`. Returns the lowercase hex digest.
pub fn sha256_file(path: &Path, seen: &FileStat) -> Result<String, HashError> {
    let mut file = File::open(path).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => HashError::Vanished,
        _ => HashError::Io(error),
    })?;
    if FileStat::of(&file.metadata()?) != *seen {
        return Err(HashError::Changed(
            "it differs from when the folder was listed",
        ));
    }
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; BUFFER];
    let mut remaining = seen.size;
    while remaining > 0 {
        let want = buffer
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let read = match file.read(&mut buffer[..want]) {
            Ok(0) => return Err(HashError::Changed("it shrank")),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        hasher.update(&buffer[..read]);
        remaining -= read as u64;
    }
    if file.read(&mut buffer[..1])? != 0 {
        return Err(HashError::Changed("it grew"));
    }
    if FileStat::of(&file.metadata()?) != *seen {
        return Err(HashError::Changed("its size or modification time moved"));
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let stat = FileStat::of(&std::fs::metadata(&path).unwrap());
        assert_eq!(
            sha256_file(&path, &stat).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_file_that_changed_since_the_listing_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"abc").unwrap();
        let stat = FileStat::of(&std::fs::metadata(&path).unwrap());
        std::fs::write(&path, b"abcdef").unwrap();
        assert!(matches!(
            sha256_file(&path, &stat),
            Err(HashError::Changed(_))
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            sha256_file(&path, &stat),
            Err(HashError::Vanished)
        ));
    }
}
