//! Partial uploads on the receiving side, durable across restarts.
//!
//! Each upload is two files in `<dir>/.ferry-uploads/`: `<id>.json`, its
//! description (written once through a temp file and rename, rewritten only
//! when a deferred length becomes known), and `<id>.part`, the bytes received
//! so far. The offset is the length of the part file, fsynced at the end of
//! each append, so there is no second copy of it to drift: after a crash or a
//! restart the server reports exactly what is on disk. Finishing verifies the
//! SHA-256 of the whole part file before the file is placed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hash::{self, FileStat};
use crate::job::Timestamp;
use crate::placement::{self, Placed};

const STATE_DIR: &str = ".ferry-uploads";

/// What the client told us about an upload when it created it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadInfo {
    pub id: String,
    /// `None` while the length is deferred (tus creation-defer-length).
    pub length: Option<u64>,
    /// Where the file goes under the destination folder, already validated.
    pub relative: String,
    /// Lowercase hex SHA-256 the finished file must have, when the client sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("no upload {0}")]
    NotFound(String),
    #[error("the upload is at offset {actual}, not {claimed}")]
    OffsetMismatch { claimed: u64, actual: u64 },
    #[error("the upload would exceed its length of {length} bytes")]
    TooLong { length: u64 },
    #[error("the upload's length is already set")]
    LengthAlreadySet,
    #[error("the upload is incomplete: {offset} of {length:?} bytes")]
    Incomplete { offset: u64, length: Option<u64> },
    #[error("the content's SHA-256 is {actual}, not the {expected} the client announced")]
    DigestMismatch { expected: String, actual: String },
    #[error(transparent)]
    UnsafePath(#[from] placement::UnsafePath),
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub struct UploadStore {
    dir: PathBuf,
    state: PathBuf,
}

/// An append in progress; `finish` fsyncs and returns the new offset.
pub struct Appender {
    file: File,
    offset: u64,
    limit: Option<u64>,
}

impl Appender {
    /// Writes one chunk of the body. Refuses to grow past the upload's length.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        if let Some(length) = self.limit
            && self.offset + chunk.len() as u64 > length
        {
            return Err(UploadError::TooLong { length });
        }
        self.file.write_all(chunk)?;
        self.offset += chunk.len() as u64;
        Ok(())
    }

    /// Makes the received bytes durable. Also right after an error or a
    /// dropped connection: what arrived is kept, and the client resumes there.
    pub fn finish(self) -> Result<u64, UploadError> {
        self.file.sync_data()?;
        Ok(self.offset)
    }
}

fn new_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl UploadStore {
    pub fn open(dir: &Path) -> io::Result<UploadStore> {
        let state = dir.join(STATE_DIR);
        fs_err::create_dir_all(&state)?;
        Ok(UploadStore {
            dir: dir.to_owned(),
            state,
        })
    }

    fn info_path(&self, id: &str) -> PathBuf {
        self.state.join(format!("{id}.json"))
    }

    fn part_path(&self, id: &str) -> PathBuf {
        self.state.join(format!("{id}.part"))
    }

    fn write_info(&self, info: &UploadInfo) -> io::Result<()> {
        let mut temp = tempfile::Builder::new()
            .prefix(".info-")
            .tempfile_in(&self.state)?;
        serde_json::to_writer(&mut temp, info).map_err(io::Error::other)?;
        temp.as_file().sync_all()?;
        temp.persist(self.info_path(&info.id))
            .map_err(|error| error.error)?;
        File::open(&self.state)?.sync_all()
    }

    /// Registers a new upload; its relative path must be safe.
    pub fn create(
        &self,
        relative: &str,
        length: Option<u64>,
        sha256: Option<String>,
        metadata: BTreeMap<String, String>,
        expires_at: Option<Timestamp>,
    ) -> Result<UploadInfo, UploadError> {
        placement::safe_relative_path(relative)?;
        let info = UploadInfo {
            id: new_id(),
            length,
            relative: relative.to_owned(),
            sha256,
            metadata,
            created_at: Timestamp::now(),
            expires_at,
        };
        File::create(self.part_path(&info.id))?.sync_all()?;
        self.write_info(&info)?;
        Ok(info)
    }

    /// The upload and its durable offset.
    pub fn get(&self, id: &str) -> Result<(UploadInfo, u64), UploadError> {
        if !valid_id(id) {
            return Err(UploadError::NotFound(id.to_owned()));
        }
        let text = match std::fs::read(self.info_path(id)) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(UploadError::NotFound(id.to_owned()));
            }
            Err(error) => return Err(error.into()),
        };
        let info: UploadInfo = serde_json::from_slice(&text).map_err(io::Error::other)?;
        let offset = std::fs::metadata(self.part_path(id))?.len();
        Ok((info, offset))
    }

    /// Starts appending at `offset`, which must be the current one.
    pub fn append(&self, id: &str, offset: u64) -> Result<Appender, UploadError> {
        let (info, actual) = self.get(id)?;
        if offset != actual {
            return Err(UploadError::OffsetMismatch {
                claimed: offset,
                actual,
            });
        }
        let file = fs_err::OpenOptions::new()
            .append(true)
            .open(self.part_path(id))?
            .into_file();
        Ok(Appender {
            file,
            offset,
            limit: info.length,
        })
    }

    /// Sets a deferred length; it may not be below what already arrived.
    pub fn set_length(&self, id: &str, length: u64) -> Result<UploadInfo, UploadError> {
        let (mut info, offset) = self.get(id)?;
        if info.length.is_some() {
            return Err(UploadError::LengthAlreadySet);
        }
        if offset > length {
            return Err(UploadError::TooLong { length });
        }
        info.length = Some(length);
        self.write_info(&info)?;
        Ok(info)
    }

    /// Verifies the complete upload and moves it into place. On a digest
    /// mismatch the upload is discarded: its bytes are known to be wrong.
    pub fn finish(&self, id: &str) -> Result<(Placed, String), UploadError> {
        let (info, offset) = self.get(id)?;
        if info.length != Some(offset) {
            return Err(UploadError::Incomplete {
                offset,
                length: info.length,
            });
        }
        let part = self.part_path(id);
        let stat = FileStat::of(&std::fs::metadata(&part)?);
        let actual = hash::sha256_file(&part, &stat).map_err(|error| match error {
            hash::HashError::Io(error) => UploadError::Io(error),
            other => UploadError::Io(io::Error::other(other.to_string())),
        })?;
        if let Some(expected) = &info.sha256
            && *expected != actual
        {
            self.delete(id)?;
            return Err(UploadError::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        let relative = placement::safe_relative_path(&info.relative)?;
        let placed = placement::place(&self.dir, &relative, &part, &actual)?;
        fs_err::remove_file(self.info_path(id))?;
        Ok((placed, actual))
    }

    /// Removes an upload and its bytes (termination, expiry, a bad digest).
    pub fn delete(&self, id: &str) -> Result<(), UploadError> {
        self.get(id)?;
        for path in [self.info_path(id), self.part_path(id)] {
            match std::fs::remove_file(&path) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error.into()),
                _ => {}
            }
        }
        Ok(())
    }

    /// Deletes uploads whose expiry has passed; returns their IDs.
    pub fn sweep_expired(&self, now: Timestamp) -> Result<Vec<String>, UploadError> {
        let mut swept = Vec::new();
        for entry in fs_err::read_dir(&self.state)? {
            let name = entry?.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if let Ok((info, _)) = self.get(id)
                && info.expires_at.is_some_and(|expires| expires <= now)
            {
                self.delete(id)?;
                swept.push(id.to_owned());
            }
        }
        Ok(swept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        use sha2::Digest;
        hash::hex(&sha2::Sha256::digest(bytes))
    }

    #[test]
    fn an_upload_resumes_after_a_restart_and_lands_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"0123456789abcdefghij".to_vec();
        let id = {
            let store = UploadStore::open(dir.path()).unwrap();
            let info = store
                .create(
                    "2024/IMG.jpg",
                    Some(20),
                    Some(sha(&body)),
                    BTreeMap::new(),
                    None,
                )
                .unwrap();
            let mut appender = store.append(&info.id, 0).unwrap();
            appender.write(&body[..7]).unwrap();
            assert_eq!(appender.finish().unwrap(), 7);
            info.id
        };
        let store = UploadStore::open(dir.path()).unwrap();
        assert_eq!(store.get(&id).unwrap().1, 7);
        assert!(matches!(
            store.append(&id, 3),
            Err(UploadError::OffsetMismatch {
                claimed: 3,
                actual: 7
            })
        ));
        assert!(matches!(
            store.finish(&id),
            Err(UploadError::Incomplete { offset: 7, .. })
        ));
        let mut appender = store.append(&id, 7).unwrap();
        assert!(matches!(
            appender.write(&[0; 14]),
            Err(UploadError::TooLong { length: 20 })
        ));
        appender.write(&body[7..]).unwrap();
        assert_eq!(appender.finish().unwrap(), 20);
        let (placed, digest) = store.finish(&id).unwrap();
        assert_eq!(placed.relative, PathBuf::from("2024/IMG.jpg"));
        assert_eq!(digest, sha(&body));
        assert_eq!(
            std::fs::read(dir.path().join("2024/IMG.jpg")).unwrap(),
            body
        );
        assert!(matches!(store.get(&id), Err(UploadError::NotFound(_))));
    }

    #[test]
    fn a_wrong_digest_is_refused_and_the_bytes_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::open(dir.path()).unwrap();
        let info = store
            .create("a.jpg", Some(3), Some(sha(b"abc")), BTreeMap::new(), None)
            .unwrap();
        let mut appender = store.append(&info.id, 0).unwrap();
        appender.write(b"abd").unwrap();
        appender.finish().unwrap();
        assert!(matches!(
            store.finish(&info.id),
            Err(UploadError::DigestMismatch { .. })
        ));
        assert!(!dir.path().join("a.jpg").exists());
        assert!(matches!(store.get(&info.id), Err(UploadError::NotFound(_))));
    }

    #[test]
    fn deferred_lengths_unsafe_names_unknown_ids_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let store = UploadStore::open(dir.path()).unwrap();
        assert!(matches!(
            store.create("../x", None, None, BTreeMap::new(), None),
            Err(UploadError::UnsafePath(_))
        ));
        for id in [
            "../../etc/passwd",
            "ABC",
            "00000000000000000000000000000000",
        ] {
            assert!(
                matches!(store.get(id), Err(UploadError::NotFound(_))),
                "{id}"
            );
        }
        let deferred = store
            .create("d.jpg", None, None, BTreeMap::new(), None)
            .unwrap();
        let mut appender = store.append(&deferred.id, 0).unwrap();
        appender.write(b"hello").unwrap();
        appender.finish().unwrap();
        assert!(matches!(
            store.set_length(&deferred.id, 4),
            Err(UploadError::TooLong { .. })
        ));
        store.set_length(&deferred.id, 5).unwrap();
        assert!(matches!(
            store.set_length(&deferred.id, 5),
            Err(UploadError::LengthAlreadySet)
        ));
        assert!(store.finish(&deferred.id).is_ok());

        let past = Timestamp(std::time::SystemTime::now() - std::time::Duration::from_secs(60));
        let old = store
            .create("old.jpg", Some(1), None, BTreeMap::new(), Some(past))
            .unwrap();
        let fresh = store
            .create("new.jpg", Some(1), None, BTreeMap::new(), None)
            .unwrap();
        assert_eq!(
            store.sweep_expired(Timestamp::now()).unwrap(),
            std::slice::from_ref(&old.id)
        );
        assert!(store.get(&old.id).is_err());
        assert!(store.get(&fresh.id).is_ok());
    }
}
