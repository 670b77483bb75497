//! Content identity: the `Sha256` digest type, and hashing a file that held still.
//!
//! Every part of ferry (scan, journal, both protocols' headers, the receiver)
//! speaks of content by its SHA-256, so the digest is one 32-byte type with
//! one text form: lowercase hex (the `hex` crate), in the journal, the JSON
//! events and tus metadata alike. Headers carry it as base64 (`wire`).
//!
//! The content is streamed through one fixed buffer, so memory does not depend
//! on file size; `sha2` picks the CPU's SHA extensions (SHA-NI, ARMv8 SHA2)
//! at run time. The file is stat'ed when it is opened and again after the last
//! byte: if its size, mtime or inode moved, or it held more or fewer bytes than
//! its size said, the hash describes no real version of the file and is refused.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

use sha2::Digest;

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

    /// What moved between the scan (`self`) and `now`, if anything: the
    /// same three facts everywhere a file is checked before it is read.
    pub fn what_changed(&self, now: &FileStat) -> Option<&'static str> {
        if self.size != now.size {
            Some("its size differs")
        } else if self.mtime_ns != now.mtime_ns {
            Some("its modification time differs")
        } else if self.inode != now.inode {
            Some("its inode differs: it was replaced")
        } else {
            None
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
    #[error("not read: the scan stopped")]
    Stopped,
}

/// A SHA-256 digest. Written and read as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256(pub [u8; 32]);

/// Text that is not 64 hex digits, where a SHA-256 was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a SHA-256 (64 hex digits)")]
pub struct NotSha256(pub String);

impl Sha256 {
    /// The digest of some bytes in memory.
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// From 32 raw bytes, as a header carries them once decoded.
    pub fn from_slice(bytes: &[u8]) -> Option<Sha256> {
        bytes.try_into().ok().map(Sha256)
    }

    pub fn from_hex(text: &str) -> Result<Sha256, NotSha256> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| NotSha256(text.to_owned()))?;
        Ok(Sha256(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Display for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sha256({self})")
    }
}

impl std::str::FromStr for Sha256 {
    type Err = NotSha256;
    fn from_str(text: &str) -> Result<Sha256, NotSha256> {
        Sha256::from_hex(text)
    }
}

impl serde::Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Sha256, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Sha256::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// Hashes the file at `path` as it is now: its size and SHA-256, or
/// `Vanished` when nothing is there (a folder counts as nothing).
pub fn sha256_now(path: &Path) -> Result<(u64, Sha256), HashError> {
    let meta = std::fs::metadata(path).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => HashError::Vanished,
        _ => HashError::Io(error),
    })?;
    if !meta.is_file() {
        return Err(HashError::Vanished);
    }
    let seen = FileStat::of(&meta);
    sha256_file(path, &seen).map(|sha256| (seen.size, sha256))
}

/// Opens a file met as a regular one, to read, without ever blocking: a
/// FIFO or a device put in its place since (`mv`, then `mkfifo`) would
/// hang a plain `open` until a writer came. Opened non-blocking (which
/// changes nothing for a regular file's reads), then refused unless it is
/// still a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a regular file any more", path.display()),
        ));
    }
    // Reads block again, as a network file system's may need to.
    use std::os::fd::AsRawFd;
    // SAFETY: F_GETFL/F_SETFL on a descriptor this function owns.
    unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(file)
}

/// Hashes `path`, which the walk saw as `seen`.
pub fn sha256_file(path: &Path, seen: &FileStat) -> Result<Sha256, HashError> {
    sha256_file_paced(path, seen, &mut |_| true)
}

/// `sha256_file`, asking `pace` before each read whether it may read up to
/// the offset given (it may wait); a `false` stops the hash.
pub fn sha256_file_paced(
    path: &Path,
    seen: &FileStat,
    pace: &mut dyn FnMut(u64) -> bool,
) -> Result<Sha256, HashError> {
    let mut file = open_regular(path).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => HashError::Vanished,
        _ => HashError::Io(error),
    })?;
    if FileStat::of(&file.metadata()?) != *seen {
        return Err(HashError::Changed(
            "it differs from when the folder was listed",
        ));
    }
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; BUFFER];
    let mut remaining = seen.size;
    while remaining > 0 {
        let want = buffer
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        if !pace(seen.size - remaining + want as u64) {
            return Err(HashError::Stopped);
        }
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
    Ok(Sha256(hasher.finalize().into()))
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
        let digest = sha256_file(&path, &stat).unwrap();
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(digest.to_hex(), hex);
        assert_eq!(digest, Sha256::of(b"abc"));
        assert_eq!(Sha256::from_hex(hex).unwrap(), digest);
        assert_eq!(
            serde_json::to_string(&digest).unwrap(),
            format!("\"{hex}\"")
        );
        assert_eq!(
            serde_json::from_str::<Sha256>(&format!("\"{hex}\"")).unwrap(),
            digest
        );
    }

    #[test]
    fn text_that_is_not_a_digest_is_refused_whole() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), &"a".repeat(66)] {
            assert!(Sha256::from_hex(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Sha256>("\"zz\"").is_err());
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
