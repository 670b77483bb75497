//! `--log-file`: plain lines, each stamped with the UTC time, appended
//! whatever the terminal shows. Written at the verbose level, so the file
//! holds every job's start and end even when stderr is quiet.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use super::{Event, Reporter, Verbosity, text};

pub struct LogFile {
    file: Mutex<fs_err::File>,
}

impl LogFile {
    pub fn open(path: &Path) -> anyhow::Result<LogFile> {
        let file = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| crate::error::UsageError(format!("--log-file: {error}")))?;
        Ok(LogFile {
            file: Mutex::new(file),
        })
    }
}

impl Reporter for LogFile {
    fn event(&self, event: Event<'_>) {
        let Some(text) = text(&event, Verbosity::Verbose) else {
            return;
        };
        let stamp = humantime::format_rfc3339_millis(std::time::SystemTime::now());
        let mut lines = String::new();
        for line in text.lines() {
            lines.push_str(&format!("{stamp} {line}\n"));
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // A log that cannot be written must not stop the uploads.
        let _ = file.write_all(lines.as_bytes());
    }
}
