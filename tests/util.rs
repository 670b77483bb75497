//! Helpers shared by the integration tests: a scrubbed environment for the
//! real binary, and jobs made through the library API.

use std::path::{Path, PathBuf};

use ferry::job::{Destination, MediaKind, Protocol, Resource};
use ferry::paths::JournalPath;
use ferry::store::{OpenOptions, Store};
use std::process::Command;
use tempfile::TempDir;

/// A temp directory with its own HOME and XDG folders and a journal path in it.
pub struct TestEnv {
    pub dir: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn journal(&self) -> PathBuf {
        self.path().join("journal.jsonl")
    }

    /// `ferry` with HOME and XDG folders inside the temp dir and no FERRY_ variables.
    pub fn ferry_bare(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
        command.env_clear().current_dir(self.path());
        for (name, sub) in [
            ("HOME", "home"),
            ("XDG_DATA_HOME", "home/.local/share"),
            ("XDG_CONFIG_HOME", "home/.config"),
            ("XDG_CACHE_HOME", "home/.cache"),
            ("XDG_STATE_HOME", "home/.local/state"),
        ] {
            command.env(name, self.path().join(sub));
        }
        command
    }

    /// `ferry --journal <temp journal>`.
    pub fn ferry(&self) -> Command {
        let mut command = self.ferry_bare();
        command.arg("--journal").arg(self.journal());
        command
    }

    pub fn store(&self) -> Store {
        Store::open(&self.journal(), &OpenOptions::default()).unwrap()
    }
}

pub fn resource(name: &str, size: u64) -> Resource {
    Resource {
        root: JournalPath::from("/photos"),
        path: JournalPath::from(name),
        size,
        mtime_ns: 1_700_000_000_000_000_000,
        inode: Some(42),
        sha256: format!("{:064x}", size),
        kind: MediaKind::Image,
    }
}

pub fn destination() -> Destination {
    Destination::new("http://127.0.0.1:9/files", Protocol::Auto)
}

pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
