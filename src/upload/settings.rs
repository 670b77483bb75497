//! What a run is told: concurrency, retries, timeouts, and per destination
//! the request shape and credentials.
//!
//! `config` builds these from flags, variables and the config file; the
//! upload modules only read them, so nothing below `upload` knows where a
//! setting came from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;

use super::protocols::put::PutMethod;
use super::throttle::Schedule;
use super::window::Window;
use crate::digest::FileStat;
use crate::journal::job::{Destination, JobId};
use crate::upload::s3_access::Configured;
use crate::wire::ietf::DEFAULT_INTEROP;

/// The protocol asked for a URL destination (`--protocol`, the config
/// file's `protocol`); `s3://` and local folders need none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolChoice {
    /// Whatever the server announces: IETF, else tus, else PUT.
    Auto,
    Ietf,
    Tus,
    Put,
    Bits,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// A dry run: the destination is met (connected, asked), never written.
    pub dry_run: bool,
    pub concurrency: usize,
    pub retries: u32,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub auto_ack: bool,
    /// S3: parts of one file in flight at once.
    pub part_concurrency: usize,
    /// S3: replace an object holding different content.
    pub overwrite: bool,
    /// The run's own bandwidth limit (`--bwlimit`), on all jobs together.
    pub bwlimit: Option<Schedule>,
    /// When the run must end (`--max-duration`, `--stop-at`).
    pub window: Option<Window>,
    /// `--delete-after` or `--move-to`: what happens to a verified upload's source.
    pub after_upload: Option<AfterUpload>,
    /// Only jobs for this destination (sync); every processable job otherwise.
    pub only: Option<Destination>,
    /// The folders a sync scanned: its "nothing to upload" counts their
    /// jobs only. Empty: every job.
    pub only_roots: Vec<PathBuf>,
    /// How to talk to a destination that `destinations` does not name.
    pub transfer: Transfer,
    /// Per destination URL, from the config file's named destinations.
    pub destinations: HashMap<String, Transfer>,
    /// With `after_upload`: what the scan found for clearing, filled in
    /// as it goes (a sync's upload runs beside its scan).
    pub clearing: Arc<Clearing>,
    /// Trusted besides the system's roots (`--ca-cert`).
    pub ca_certs: Vec<reqwest::Certificate>,
}

/// What may differ between destinations: request shape and credentials.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub chunk_size: Option<u64>,
    /// One of `wire::ietf::INTEROP_VERSIONS` (checked where it is read).
    pub ietf_version: u8,
    pub put_method: PutMethod,
    /// `-H` headers, the token and configured headers; sent, never recorded.
    pub headers: HeaderMap,
    /// For `s3://` destinations: the config file's endpoint, region and
    /// keys; never recorded.
    pub s3: Configured,
    /// The destination's own bandwidth limit, from the config file.
    pub bwlimit: Option<Schedule>,
}

impl Default for Transfer {
    fn default() -> Self {
        Transfer {
            chunk_size: None,
            ietf_version: DEFAULT_INTEROP,
            put_method: PutMethod::Put,
            headers: HeaderMap::new(),
            s3: Configured::default(),
            bwlimit: None,
        }
    }
}

impl Settings {
    /// The transfer settings for one destination URL.
    pub fn transfer(&self, url: &str) -> &Transfer {
        self.destinations.get(url).unwrap_or(&self.transfer)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dry_run: false,
            concurrency: 4,
            retries: 8,
            idle_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            auto_ack: true,
            part_concurrency: 4,
            overwrite: false,
            bwlimit: None,
            window: None,
            after_upload: None,
            only: None,
            only_roots: Vec::new(),
            transfer: Transfer::default(),
            destinations: HashMap::new(),
            clearing: Arc::default(),
            ca_certs: Vec::new(),
        }
    }
}

/// What happens to a source file once its upload is verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterUpload {
    Delete,
    MoveTo(PathBuf),
}

impl AfterUpload {
    pub fn flag(&self) -> &'static str {
        match self {
            AfterUpload::Delete => "--delete-after",
            AfterUpload::MoveTo(_) => "--move-to",
        }
    }

    /// What a dry run says would happen to `source` (`relative` below its
    /// scanned folder) uploaded to `destination`.
    pub fn would(&self, source: &Path, relative: &Path, destination: &Destination) -> String {
        if let Some(why) = super::own_copy::may_be_own_copy(source, destination) {
            return format!("then keep it: {why}");
        }
        match self {
            AfterUpload::Delete => "then delete it once its upload is verified".to_owned(),
            // The real run never replaces a file there, and keeps the
            // file (and its asset) on the card instead.
            AfterUpload::MoveTo(dir) if dir.join(relative).symlink_metadata().is_ok() => format!(
                "then keep it, since {} already exists (a move never replaces a file)",
                dir.join(relative).display()
            ),
            AfterUpload::MoveTo(dir) => format!(
                "then move it to {} once its upload is verified",
                dir.join(relative).display()
            ),
        }
    }
}

/// A scanned file whose content a job already carries to the destination:
/// the job of its own path (`same_path`), or another file's, its `twin`.
#[derive(Clone, Debug)]
pub struct CarriedSource {
    pub source: PathBuf,
    /// Below its scanned folder (where `--move-to` puts it).
    pub relative: PathBuf,
    /// As the scan saw it.
    pub stat: FileStat,
    pub twin: JobId,
    pub same_path: bool,
    /// Read by this run (its scan hashed it, or its upload sent it): its
    /// hash is not the journal's memory of an unchanged size and mtime,
    /// which an edit in place that kept them would fool.
    pub read_now: bool,
    /// The asset the file is a member of on the card: cleared only with
    /// all of it.
    pub asset: Option<String>,
}

/// What a sync's scan tells the clearing of a card. Shared with the upload,
/// which runs beside the scan: a file is held before any job of its family
/// is handed over, and the carried files are read after the last job.
#[derive(Debug, Default)]
pub struct Clearing {
    /// Scanned files whose content a job already carries, cleared once the
    /// destination confirms it.
    carried: Mutex<Vec<CarriedSource>>,
    /// Files never cleared this run, and why (a file of their asset could
    /// not be read).
    held: Mutex<HashMap<PathBuf, String>>,
}

impl Clearing {
    pub fn carry(&self, carried: CarriedSource) {
        self.carried
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(carried);
    }

    pub fn hold(&self, source: PathBuf, because: String) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.insert(source, because);
    }

    /// Why `source` stays on the card this run, if it must.
    pub fn held(&self, source: &Path) -> Option<String> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.get(source).cloned()
    }

    /// The carried files found so far.
    pub fn carried(&self) -> Vec<CarriedSource> {
        self.carried
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn carries_any(&self) -> bool {
        !self
            .carried
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }
}
