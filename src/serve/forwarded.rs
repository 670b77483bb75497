//! What `ferry serve --forward` passed on, and where: a ledger that
//! outlives the placed files.
//!
//! After the backend accepted a file it leaves `--dir`, so the disk can no
//! longer answer `HEAD /files/<path>` for it. The ledger can: each accepted
//! forward appends one JSON line (the placed path, the SHA-256 checked
//! before forwarding, the size, the backend's status and the headers the
//! client may see) to `.ferry-uploads/forwarded.jsonl`, fsynced before the
//! upload is recorded as answered, so a file is never gone from `--dir`
//! without its line. Lines are read back at start (a torn last line after a
//! crash is skipped); the last line for a path wins. The ledger also keeps
//! a forwarded name taken: another content gets `name (1).ext`, as on disk,
//! so that one name never stands for two files at the backend.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::journal::paths::JournalPath;

const LEDGER: &str = "forwarded.jsonl";

/// One accepted forward.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub path: JournalPath,
    pub sha256: Sha256,
    pub size: u64,
    /// The backend's status.
    pub status: u16,
    /// The backend's headers the client is shown (`ETag`, `Location`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// The whole lines of a file of JSON lines (none when it is missing),
/// and whether a last line torn by a crash follows them.
pub(super) fn whole_lines(path: &Path) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = match fs_err::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error),
    };
    let whole = (bytes.iter().rposition(|&b| b == b'\n')).map_or(0, |at| at + 1);
    let torn = whole < bytes.len();
    bytes.truncate(whole);
    Ok((bytes, torn))
}

pub struct Forwarded {
    path: PathBuf,
    /// Opened for appending at the first record (a server that never
    /// forwards writes no ledger).
    file: Mutex<Option<std::fs::File>>,
    by_path: Mutex<HashMap<PathBuf, Record>>,
}

impl Forwarded {
    /// Reads the ledger in the server's state folder, if there is one. A
    /// last line torn by a crash is cut off (so the next record starts on
    /// a line of its own); any other line that does not read is an error
    /// naming the file and line, and the file is left as it is.
    pub fn open(state: &Path) -> io::Result<Forwarded> {
        let path = state.join(LEDGER);
        let mut by_path = HashMap::new();
        let (bytes, torn) = whole_lines(&path)?;
        for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let record: Record = serde_json::from_slice(line).map_err(|error| {
                io::Error::other(format!(
                    "{} line {}: {error}; the forward ledger is left as it is",
                    path.display(),
                    number + 1
                ))
            })?;
            by_path.insert(record.path.as_path().to_owned(), record);
        }
        if torn {
            let file = fs_err::OpenOptions::new().write(true).open(&path)?;
            file.set_len(bytes.len() as u64)?;
            file.sync_all()?;
        }
        Ok(Forwarded {
            path,
            file: Mutex::new(None),
            by_path: Mutex::new(by_path),
        })
    }

    /// Appends `record` durably; only then is it answered from.
    pub fn record(&self, record: Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(&record).map_err(io::Error::other)?;
        line.push(b'\n');
        {
            let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
            if file.is_none() {
                let opened = fs_err::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?;
                if let Some(folder) = self.path.parent() {
                    fs_err::File::open(folder)?.sync_all()?;
                }
                *file = Some(opened.into_parts().0);
            }
            let file = file.as_mut().expect("opened above");
            file.write_all(&line)?;
            file.sync_data()?;
        }
        let mut by_path = self.by_path.lock().unwrap_or_else(|p| p.into_inner());
        by_path.insert(record.path.as_path().to_owned(), record);
        Ok(())
    }

    /// The last accepted forward of the file placed at `path`.
    pub fn get(&self, path: &Path) -> Option<Record> {
        let by_path = self.by_path.lock().unwrap_or_else(|p| p.into_inner());
        by_path.get(path).cloned()
    }

    /// The content a forwarded name was taken by.
    pub fn taken_by(&self, path: &Path) -> Option<Sha256> {
        let by_path = self.by_path.lock().unwrap_or_else(|p| p.into_inner());
        by_path.get(path).map(|record| record.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, bytes: &[u8]) -> Record {
        Record {
            path: JournalPath::new(PathBuf::from(path)),
            sha256: Sha256::of(bytes),
            size: bytes.len() as u64,
            status: 201,
            headers: BTreeMap::new(),
        }
    }

    #[test]
    fn records_outlive_a_restart_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Forwarded::open(dir.path()).unwrap();
        ledger.record(record("2024/a.jpg", b"first")).unwrap();
        ledger.record(record("2024/a.jpg", b"second")).unwrap();
        ledger.record(record("b.jpg", b"other")).unwrap();
        drop(ledger);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(LEDGER))
            .unwrap();
        // Torn inside a two-byte character, as a crash may leave it.
        file.write_all(b"{\"path\":\"caf\xc3").unwrap();
        let reopened = Forwarded::open(dir.path()).unwrap();
        let a = reopened.get(Path::new("2024/a.jpg")).unwrap();
        assert_eq!(a.sha256, Sha256::of(b"second"));
        assert_eq!(reopened.get(Path::new("b.jpg")).unwrap().size, 5);
        // The next record after the torn line is read back too.
        reopened
            .record(record("d.jpg", b"after the crash"))
            .unwrap();
        drop(reopened);
        let again = Forwarded::open(dir.path()).unwrap();
        assert_eq!(
            again.taken_by(Path::new("d.jpg")),
            Some(Sha256::of(b"after the crash"))
        );
        assert!(again.taken_by(Path::new("2024/a.jpg")).is_some());
    }

    #[test]
    fn a_damaged_line_in_the_middle_is_an_error_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Forwarded::open(dir.path()).unwrap();
        ledger.record(record("a.jpg", b"a")).unwrap();
        drop(ledger);
        let path = dir.path().join(LEDGER);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"not json\n");
        bytes.extend_from_slice(&std::fs::read(&path).unwrap());
        std::fs::write(&path, &bytes).unwrap();
        let error = Forwarded::open(dir.path()).err().unwrap().to_string();
        assert!(error.contains("forwarded.jsonl line 2"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it is");
    }
}
