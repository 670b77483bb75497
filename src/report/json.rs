//! `--json`: one object per line on stdout, each with a `type` tag; the
//! first (`start`) carries the schema version, which changes only when a
//! field is removed or changes meaning. Progress is sampled at most once a
//! second per job, so a pipe is not flooded. The stdout lock held across a
//! line keeps lines from concurrent jobs whole. README's "JSON events"
//! table documents every type, and a test checks each line against it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Cutoff;
use super::{Event, Phase, Reporter, UploadSummary, error_text};
use crate::digest::Sha256;
use crate::journal::job::{ClearedBy, Job, JobError, Response};
use crate::scan::ScanSummary;

/// Bumped when a field is removed or changes meaning; new fields and new
/// types keep the version.
pub const SCHEMA_VERSION: u32 = 1;

/// The least time between two progress lines of one job (or of the scan).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

pub struct Json {
    /// When each job (and "" for the scan) last had a progress line.
    last_progress: Mutex<HashMap<String, Instant>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Start {
        schema: u32,
        version: &'a str,
    },
    ScanWalked {
        files: u64,
        bytes_to_hash: u64,
    },
    ScanProgress {
        files: u64,
        hashed_bytes: u64,
    },
    Warning {
        path: String,
        message: &'a str,
    },
    Queued {
        path: String,
        target: String,
        size: u64,
        sha256: &'a Sha256,
        #[serde(skip_serializing_if = "Option::is_none")]
        taken: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        taken_from: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        asset: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        role: Option<&'static str>,
        dry_run: bool,
    },
    ScanSummary(&'a ScanSummary),
    UploadStarted {
        jobs: u64,
        bytes: u64,
    },
    UploadGrew {
        jobs: u64,
        bytes: u64,
    },
    NothingToDo {
        done_before: u64,
    },
    JobStarted {
        id: &'a str,
        path: String,
        size: u64,
        protocol: &'a str,
    },
    Phase {
        id: &'a str,
        path: String,
        phase: &'a str,
        offset: u64,
    },
    Progress {
        id: &'a str,
        path: String,
        offset: u64,
        size: u64,
    },
    Retrying {
        id: &'a str,
        path: String,
        attempt: u32,
        wait_seconds: f64,
        reason: &'a str,
    },
    Restarted {
        id: &'a str,
        path: String,
        status: u16,
    },
    Succeeded {
        id: &'a str,
        path: String,
        /// The name the destination reported storing the file under.
        #[serde(skip_serializing_if = "Option::is_none")]
        stored: Option<String>,
        size: u64,
        sent: u64,
        response: Option<&'a Response>,
    },
    Failed {
        id: &'a str,
        path: String,
        error: &'a JobError,
    },
    Stopped {
        id: &'a str,
        path: String,
    },
    Interrupting,
    Cleared {
        id: &'a str,
        path: String,
        action: ClearedBy,
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// `path` is a duplicate of this file, whose upload vouched for it.
        #[serde(skip_serializing_if = "Option::is_none")]
        duplicate_of: Option<String>,
    },
    Kept {
        id: &'a str,
        path: String,
        reason: &'a str,
    },
    ClearedNothing {
        flag: &'a str,
        reason: &'a str,
    },
    WindowClosed {
        by: &'a str,
        cutoff: Cutoff,
    },
    Bwlimit {
        #[serde(skip_serializing_if = "Option::is_none")]
        destination: Option<&'a str>,
        bytes_per_second: Option<u64>,
    },
    UploadSummary(&'a UploadSummary),
    Failure {
        id: &'a str,
        path: String,
        reason: String,
        attempts: u32,
    },
}

fn print(line: &Line<'_>) {
    if let Ok(text) = serde_json::to_string(line) {
        let _ = super::stream::out_line(&text);
    }
}

fn path(job: &Job) -> String {
    job.resource.source().display().to_string()
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

impl Json {
    /// Prints the `start` line at once, so that it comes first.
    pub fn new() -> Json {
        print(&Line::Start {
            schema: SCHEMA_VERSION,
            version: env!("CARGO_PKG_VERSION"),
        });
        Json {
            last_progress: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a progress line for `key` is due; if so, it is counted as sent.
    fn due(&self, key: &str) -> bool {
        let mut times = self.last_progress.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match times.get(key) {
            Some(at) if now.duration_since(*at) < PROGRESS_EVERY => false,
            _ => {
                times.insert(key.to_owned(), now);
                true
            }
        }
    }
}

impl Reporter for Json {
    fn event(&self, event: Event<'_>) {
        let line = match event {
            Event::Walked {
                files,
                bytes_to_hash,
            } => Line::ScanWalked {
                files,
                bytes_to_hash,
            },
            Event::Scanned {
                files,
                hashed_bytes,
            } => {
                if !self.due("") {
                    return;
                }
                Line::ScanProgress {
                    files,
                    hashed_bytes,
                }
            }
            Event::ScanWarning { path, message } => Line::Warning {
                path: shown(path),
                message,
            },
            Event::Queued {
                path,
                target,
                size,
                sha256,
                taken,
                asset,
                dry_run,
            } => Line::Queued {
                path: shown(path),
                target: shown(target),
                size,
                sha256,
                taken: taken.map(|t| t.at.to_string()),
                taken_from: taken.map(|t| t.from.name()),
                asset: asset.map(|asset| asset.id.as_str()),
                role: asset.map(|asset| asset.role.name()),
                dry_run,
            },
            Event::ScanSummary { summary, .. } => Line::ScanSummary(summary),
            Event::RunStarted { jobs, bytes } => Line::UploadStarted { jobs, bytes },
            Event::RunGrew { jobs, bytes } => Line::UploadGrew { jobs, bytes },
            Event::NothingToDo { done_before } => Line::NothingToDo { done_before },
            Event::Started { job, protocol } => Line::JobStarted {
                id: job.id.as_str(),
                path: path(job),
                size: job.resource.size,
                protocol,
            },
            Event::Phase { job, phase } => {
                let (phase, offset) = match phase {
                    Phase::Creating => ("creating", 0),
                    Phase::Uploading { from } => ("uploading", from),
                    Phase::Verifying => ("verifying", job.resource.size),
                };
                Line::Phase {
                    id: job.id.as_str(),
                    path: path(job),
                    phase,
                    offset,
                }
            }
            Event::Progress { job, offset } => {
                if !self.due(job.id.as_str()) {
                    return;
                }
                Line::Progress {
                    id: job.id.as_str(),
                    path: path(job),
                    offset,
                    size: job.resource.size,
                }
            }
            Event::Tick => return,
            Event::Retrying {
                job,
                attempt,
                wait,
                reason,
            } => Line::Retrying {
                id: job.id.as_str(),
                path: path(job),
                attempt,
                wait_seconds: wait.as_secs_f64(),
                reason,
            },
            Event::Restarted { job, status } => Line::Restarted {
                id: job.id.as_str(),
                path: path(job),
                status,
            },
            Event::Succeeded { job, sent } => Line::Succeeded {
                id: job.id.as_str(),
                path: path(job),
                stored: job.stored_as(),
                size: job.resource.size,
                sent,
                response: job.response.as_ref(),
            },
            Event::Failed { job, error } => Line::Failed {
                id: job.id.as_str(),
                path: path(job),
                error,
            },
            Event::Stopped { job } => Line::Stopped {
                id: job.id.as_str(),
                path: path(job),
            },
            Event::Interrupting => Line::Interrupting,
            Event::Cleared {
                job,
                cleared,
                duplicate,
            } => Line::Cleared {
                id: job.id.as_str(),
                path: duplicate.map_or_else(|| path(job), shown),
                action: cleared.action,
                to: cleared.to.as_ref().map(|to| to.display().to_string()),
                duplicate_of: duplicate.map(|_| path(job)),
            },
            Event::Kept {
                job,
                source,
                reason,
            } => Line::Kept {
                id: job.id.as_str(),
                path: shown(source),
                reason,
            },
            Event::ClearedNothing { flag, reason } => Line::ClearedNothing { flag, reason },
            Event::WindowClosed { by, cutoff } => Line::WindowClosed { by, cutoff },
            Event::Bwlimit { destination, rate } => Line::Bwlimit {
                destination,
                bytes_per_second: rate,
            },
            Event::Summary(summary) => Line::UploadSummary(summary),
            Event::FailureListed { job } => Line::Failure {
                id: job.id.as_str(),
                path: path(job),
                reason: job
                    .error
                    .as_ref()
                    .map_or_else(|| "no reason recorded".to_owned(), error_text),
                attempts: job.attempts,
            },
        };
        print(&line);
    }
}
