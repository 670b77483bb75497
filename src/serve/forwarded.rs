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
use std::io::{self, BufRead, Write};
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

pub struct Forwarded {
    path: PathBuf,
    /// Opened for appending at the first record (a server that never
    /// forwards writes no ledger).
    file: Mutex<Option<std::fs::File>>,
    by_path: Mutex<HashMap<PathBuf, Record>>,
}

impl Forwarded {
    /// Reads the ledger in the server's state folder, if there is one.
    pub fn open(state: &Path) -> io::Result<Forwarded> {
        let path = state.join(LEDGER);
        let mut by_path = HashMap::new();
        match fs_err::File::open(&path) {
            Ok(file) => {
                for line in io::BufReader::new(file).lines() {
                    // A line torn by a crash is skipped; every whole one counts.
                    if let Ok(record) = serde_json::from_str::<Record>(&line?) {
                        by_path.insert(record.path.as_path().to_owned(), record);
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
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
        file.write_all(b"{\"path\":\"c.jp").unwrap();
        let reopened = Forwarded::open(dir.path()).unwrap();
        let a = reopened.get(Path::new("2024/a.jpg")).unwrap();
        assert_eq!(a.sha256, Sha256::of(b"second"));
        assert_eq!(reopened.get(Path::new("b.jpg")).unwrap().size, 5);
        assert!(reopened.get(Path::new("c.jpg")).is_none());
    }
}
