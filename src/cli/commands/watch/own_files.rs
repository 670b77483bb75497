//! The files ferry itself writes while `ferry watch` runs, so that their
//! events are told apart from a user's.
//!
//! A name is compared first and the folder only for a name that matches,
//! so the check costs nothing for the photos that make up nearly every
//! event; folders are compared canonical, as the watcher may name them
//! through another path.

use std::path::{Path, PathBuf};

use crate::cli::WatchArgs;
use crate::cli::settings::Config;

/// The files ferry itself writes while it watches: the journal, its lock
/// files and temporary files, the log, the failed list. Their events are
/// its own and never start a batch; a journal inside a watched folder
/// would otherwise start one after every batch, for ever.
pub(super) struct OwnFiles(Vec<OwnFile>);

struct OwnFile {
    folder: PathBuf,
    name: std::ffi::OsString,
    /// `name` starts the file's name (a temporary file) instead of being it.
    prefix: bool,
}

impl OwnFiles {
    pub(super) fn new(config: &Config, args: &WatchArgs) -> OwnFiles {
        let mut own = OwnFiles(Vec::new());
        let journal = &config.journal;
        for suffix in ["", ".lock", ".watch.lock"] {
            let mut name = journal.clone().into_os_string();
            name.push(suffix);
            own.add(Path::new(&name), false);
        }
        own.add(&journal.with_file_name(".ferry-journal-"), true);
        let written = [&config.output.log_file, &args.sync.transfer.failed_list];
        for path in written.into_iter().flatten() {
            own.add(path, false);
        }
        if let Some(list) = &args.sync.transfer.failed_list {
            own.add(&list.with_file_name(".ferry-failed-"), true);
        }
        own
    }

    fn add(&mut self, path: &Path, prefix: bool) {
        let (Some(name), Some(folder)) = (path.file_name(), path.parent()) else {
            return;
        };
        self.0.push(OwnFile {
            folder: real_folder(folder),
            name: name.to_owned(),
            prefix,
        });
    }

    /// Whether `path` is one of them.
    pub(super) fn hold(&self, path: &Path) -> bool {
        let (Some(name), Some(folder)) = (path.file_name(), path.parent()) else {
            return false;
        };
        let named = |own: &&OwnFile| match own.prefix {
            true => name
                .as_encoded_bytes()
                .starts_with(own.name.as_encoded_bytes()),
            false => name == own.name,
        };
        let mut candidates = self.0.iter().filter(named).peekable();
        // Only a matching name costs a look at the folder.
        candidates.peek().is_some() && {
            let folder = real_folder(folder);
            candidates.any(|own| own.folder == folder)
        }
    }
}

/// A folder as the watcher names it: canonical when it exists.
fn real_folder(folder: &Path) -> PathBuf {
    let folder = match folder.as_os_str().is_empty() {
        true => Path::new("."),
        false => folder,
    };
    std::fs::canonicalize(folder)
        .or_else(|_| std::path::absolute(folder))
        .unwrap_or_else(|_| folder.to_owned())
}
