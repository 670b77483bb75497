//! What a run tells people and scripts, as uv does it: the scan and the
//! upload engine emit `Event`s, and a `Reporter` decides how they look.
//!
//! Each audience gets its own reporter, chosen once in `reporter()`: bars at
//! a terminal (`terminal`, the only place indicatif appears), plain lines for
//! cron and logs (`lines`), JSON Lines for scripts (`json`), and a
//! timestamped log file (`log_file`); `Tee` sends every event to several.
//! Events carry only what the journal may hold too, so no credential can
//! reach any of them. The texts people read are written once, here.

mod failure_line;
pub use failure_line::retry_cannot_send;
mod json;
mod lines;
mod log_file;
mod scan_summary;
pub mod stream;
mod terminal;
pub mod watch_status;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::digest::Sha256;
use crate::format::{count, human_bytes};
use crate::journal::job::{Cleared, Job, JobError};
use crate::journal::paths::{Readable, escape_controls};
use crate::scan::ScanSummary;

pub use json::SCHEMA_VERSION;
pub use scan_summary::{scan_summary_lines, scan_summary_text};

/// One upload run's result.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UploadSummary {
    pub succeeded: u64,
    pub failed: u64,
    /// Jobs left pending or registered (interrupted, or stopped by a credentials error).
    pub left: u64,
    /// Bytes of the files that succeeded.
    pub bytes: u64,
    /// Body bytes sent, resends included (also of jobs left unfinished).
    pub sent: u64,
    /// Bytes the destinations already had when this run took the jobs up
    /// (resumed uploads); never sent by this run.
    #[serde(skip_serializing_if = "is_zero")]
    pub resumed: u64,
    pub seconds: f64,
    pub interrupted: bool,
    /// Failed jobs in the journal that nobody has retried or acknowledged yet.
    pub failures_listed: u64,
    /// What the scan before the upload left out (`sync` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanned: Option<ScanCounts>,
    /// Why the run stopped early: an error, or the time window's flag
    /// (`max-duration`, `stop-at`) when `on_schedule`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// The run stopped because its time window ended: a success.
    #[serde(skip)]
    pub on_schedule: bool,
    /// Source files deleted or moved after their verified upload.
    #[serde(skip_serializing_if = "is_zero")]
    pub cleared: u64,
    /// Jobs whose copy a clearing run found missing or different at the
    /// destination, put back in the queue for the next run.
    #[serde(skip_serializing_if = "is_zero")]
    pub requeued: u64,
}

/// The scan's figures that belong in a sync's summary.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ScanCounts {
    /// Left out by a rule.
    pub skipped: u64,
    /// Same content as another file.
    pub duplicates: u64,
    /// Queued or uploaded by an earlier run.
    pub already: u64,
    /// Whose jobs failed in an earlier run: not sent again.
    pub failed_before: u64,
}

/// Where an upload is at, as the per-job bar shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Asking the server for an upload session.
    Creating,
    /// Sending from this offset (resuming when it is not 0).
    Uploading { from: u64 },
    /// Checking the copy against the job's SHA-256 (local folders).
    Verifying,
}

/// What the end of a time window does to the uploads in flight (in events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cutoff {
    /// Stop the uploads in flight; they resume on the next run
    Hard,
    /// Let the uploads in flight finish; start no new one
    Soft,
}

#[derive(Clone, Copy)]
pub enum Event<'a> {
    /// The walk is done: this many files to look at, this many bytes to hash.
    Walked {
        files: u64,
        bytes_to_hash: u64,
    },
    /// Scan progress: files looked at so far and bytes hashed.
    Scanned {
        files: u64,
        hashed_bytes: u64,
    },
    ScanWarning {
        path: &'a Path,
        message: &'a str,
    },
    Queued {
        path: &'a Path,
        /// Where it lands, relative to the destination.
        target: &'a Path,
        size: u64,
        sha256: &'a Sha256,
        taken: Option<crate::capture::Taken>,
        asset: Option<&'a crate::journal::resource::AssetRef>,
        dry_run: bool,
    },
    ScanSummary {
        summary: &'a ScanSummary,
        dry_run: bool,
    },
    /// The upload starts with this many jobs and bytes.
    RunStarted {
        jobs: u64,
        bytes: u64,
    },
    /// A sync's scan handed over more jobs since: the run's totals now.
    RunGrew {
        jobs: u64,
        bytes: u64,
    },
    /// No job to process.
    NothingToDo {
        done_before: u64,
    },
    Started {
        job: &'a Job,
        protocol: &'a str,
    },
    Phase {
        job: &'a Job,
        phase: Phase,
    },
    /// Sent up to `offset` (sampled a few times a second).
    Progress {
        job: &'a Job,
        offset: u64,
    },
    /// After each round of `Progress` samples.
    Tick,
    Retrying {
        job: &'a Job,
        attempt: u32,
        wait: Duration,
        reason: &'a str,
    },
    /// The server lost the session: the upload starts again from 0.
    Restarted {
        job: &'a Job,
        status: u16,
    },
    Succeeded {
        job: &'a Job,
        sent: u64,
    },
    Failed {
        job: &'a Job,
        error: &'a JobError,
    },
    /// An interruption stopped this job's transfer; it stays queued.
    Stopped {
        job: &'a Job,
    },
    Interrupting,
    /// `--delete-after` / `--move-to` removed the job's source file.
    Cleared {
        job: &'a Job,
        cleared: &'a Cleared,
        /// The file cleared was not the job's own source but this
        /// duplicate of it, vouched for by the job's confirmed upload.
        duplicate: Option<&'a std::path::Path>,
    },
    /// `--delete-after` or `--move-to` (`flag`) cleared no file: why.
    ClearedNothing {
        flag: &'a str,
        reason: &'a str,
    },
    /// The source file of a succeeded job was kept: `reason` says why.
    Kept {
        job: &'a Job,
        /// The file kept: the job's source, or a duplicate of it.
        source: &'a std::path::Path,
        reason: &'a str,
    },
    /// The time window ended (`by` is the flag that set it).
    WindowClosed {
        by: &'a str,
        cutoff: Cutoff,
    },
    /// A bandwidth limit's rate (bytes per second, none when off), at the
    /// start and whenever its timetable changes it; `destination` is none
    /// for the run's own `--bwlimit`.
    Bwlimit {
        destination: Option<&'a str>,
        rate: Option<u64>,
    },
    Summary(&'a UploadSummary),
    /// One failed job on the failures list, after the summary.
    FailureListed {
        job: &'a Job,
    },
}

pub trait Reporter: Send + Sync {
    fn event(&self, event: Event<'_>);
}

/// How much people are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// How progress is shown on stderr, decided once from the flags and the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressStyle {
    Bars,
    Lines,
    None,
}

/// Everything that decides a run's reporters.
#[derive(Clone, Debug)]
pub struct Output {
    pub json: bool,
    pub verbosity: Verbosity,
    pub progress: ProgressStyle,
    pub color: bool,
    /// How often the lines reporter prints a progress line.
    pub stats: Duration,
    pub log_file: Option<PathBuf>,
}

/// The reporters this run's output asks for, behind one.
pub fn reporter(output: &Output) -> anyhow::Result<Arc<dyn Reporter>> {
    let mut reporters: Vec<Box<dyn Reporter>> = Vec::new();
    if output.json {
        reporters.push(Box::new(json::Json::new()));
    }
    // With --json, stderr still gets what people must see: errors and warnings.
    let verbosity = if output.json {
        Verbosity::Quiet
    } else {
        output.verbosity
    };
    if output.progress == ProgressStyle::Bars && verbosity > Verbosity::Quiet {
        reporters.push(Box::new(terminal::Terminal::new(verbosity)));
    } else {
        let lines = output.progress != ProgressStyle::None;
        let stats = (lines && verbosity > Verbosity::Quiet).then_some(output.stats);
        reporters.push(Box::new(lines::Lines::new(
            verbosity,
            stats,
            lines,
            output.color,
        )));
    }
    if let Some(path) = &output.log_file {
        reporters.push(Box::new(log_file::LogFile::open(path)?));
    }
    Ok(Arc::new(Tee(reporters)))
}

/// Every event to each reporter in turn.
struct Tee(Vec<Box<dyn Reporter>>);

impl Reporter for Tee {
    fn event(&self, event: Event<'_>) {
        for reporter in &self.0 {
            reporter.event(event);
        }
    }
}

/// A run's totals, kept from the events, for the reporters that show them
/// (the progress line, the total bar).
#[derive(Default)]
pub struct Tally {
    pub started: Option<Instant>,
    pub jobs: u64,
    pub bytes: u64,
    pub done: u64,
    pub done_bytes: u64,
    /// Offsets of the jobs in flight.
    pub active: std::collections::HashMap<String, u64>,
    /// Where each job's first transfer of the run started: bytes the
    /// destination had already, which this run neither sends nor times.
    pub resumed_from: std::collections::HashMap<String, u64>,
    pub resumed: u64,
}

impl Tally {
    /// Keeps the totals up to date; every reporter that shows totals uses it.
    pub fn see(&mut self, event: &Event<'_>) {
        match *event {
            Event::RunStarted { jobs, bytes } => {
                self.started = Some(Instant::now());
                self.jobs = jobs;
                self.bytes = bytes;
            }
            Event::RunGrew { jobs, bytes } => {
                self.jobs = jobs;
                self.bytes = bytes;
            }
            Event::Phase {
                job,
                phase: Phase::Uploading { from },
            } => {
                let id = job.id.as_str().to_owned();
                if let std::collections::hash_map::Entry::Vacant(entry) =
                    self.resumed_from.entry(id)
                {
                    entry.insert(from);
                    self.resumed += from;
                }
            }
            Event::Progress { job, offset } => {
                self.active.insert(job.id.as_str().to_owned(), offset);
            }
            Event::Succeeded { job, .. } => {
                self.active.remove(job.id.as_str());
                self.done += 1;
                self.done_bytes += job.resource.size - self.from(job);
            }
            Event::Failed { job, .. } | Event::Stopped { job } => {
                self.active.remove(job.id.as_str());
                self.done += 1;
            }
            _ => {}
        }
    }

    fn from(&self, job: &Job) -> u64 {
        let from = self.resumed_from.get(job.id.as_str());
        from.copied().unwrap_or(0).min(job.resource.size)
    }

    /// Bytes this run moved: of finished jobs and in flight, from where
    /// each resumed.
    pub fn position(&self) -> u64 {
        let in_flight = self.active.iter().map(|(id, offset)| {
            let from = self.resumed_from.get(id).copied().unwrap_or(0);
            offset.saturating_sub(from)
        });
        self.done_bytes + in_flight.sum::<u64>()
    }

    /// Bytes this run has to move: the jobs' sizes less what was resumed.
    pub fn to_send(&self) -> u64 {
        self.bytes.saturating_sub(self.resumed)
    }
}

/// A job error in one line, with its HTTP status when the message lacks it.
pub fn error_text(error: &JobError) -> String {
    match error.status {
        Some(status) if !error.message.contains(&format!("HTTP {status}")) => {
            format!("{} (HTTP {status})", error.message)
        }
        _ => error.message.clone(),
    }
}

pub(crate) fn rate_text(bytes: u64, seconds: f64) -> String {
    if seconds > 0.0 {
        format!("{}/s", human_bytes((bytes as f64 / seconds) as u64))
    } else {
        "- B/s".to_owned()
    }
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

pub fn summary_text(summary: &UploadSummary) -> String {
    let mut text = format!(
        "uploaded {} ({}) in {:.1} s, {}",
        count(summary.succeeded, "file"),
        human_bytes(summary.bytes),
        summary.seconds,
        rate_text(summary.sent, summary.seconds)
    );
    // The rate is of what this run sent; say so when that is not the
    // files' bytes (resumed uploads, resends, unfinished ones).
    if summary.sent != summary.bytes || summary.resumed > 0 {
        text.push_str(&format!("; sent {}", human_bytes(summary.sent)));
        if summary.resumed > 0 {
            text.push_str(&format!(", {} resumed", human_bytes(summary.resumed)));
        }
    }
    if let Some(scanned) = summary.scanned {
        text.push_str(&format!(
            "; {} skipped, {}, {} already queued or uploaded",
            scanned.skipped,
            count(scanned.duplicates, "duplicate"),
            scanned.already
        ));
        if scanned.failed_before > 0 {
            let failed = scan_summary::failed_before_text(scanned.failed_before);
            text.push_str(&format!(", {failed}"));
        }
    }
    text.push_str(&format!("; {} failed", summary.failed));
    if summary.left > 0 {
        text.push_str(&format!(", {} left for the next run", summary.left));
    }
    if summary.cleared > 0 {
        let files = count(summary.cleared, "source file");
        text.push_str(&format!("; {files} cleared"));
    }
    if summary.requeued > 0 {
        text.push_str(&format!(
            "; {} lost at the destination and queued again",
            summary.requeued
        ));
    }
    if let Some(by) = summary.stopped_by.as_ref().filter(|_| summary.on_schedule) {
        text.push_str(&format!(" (stopped by --{by})"));
    }
    text
}

/// The text lines people read for an event, at a verbosity; `None` when
/// the event says nothing at that level. Failures, warnings and the failures
/// list show even when quiet.
pub fn text(event: &Event<'_>, verbosity: Verbosity) -> Option<String> {
    let normal = verbosity >= Verbosity::Normal;
    let verbose = verbosity >= Verbosity::Verbose;
    match event {
        Event::ScanWarning { path, message } => Some(format!(
            "warning: {}: {}",
            Readable(path),
            escape_controls(message)
        )),
        Event::ScanSummary { summary, dry_run } if normal || summary.warnings > 0 => {
            Some(scan_summary_text(summary, *dry_run))
        }
        Event::Failed { job, error } => Some(format!(
            "failed: {}: {}",
            job.resource.path.display(),
            escape_controls(&error_text(error))
        )),
        Event::Restarted { job, status } if normal => Some(format!(
            "{}: the server no longer has the upload session (HTTP {status}); starting again from 0",
            job.resource.path.display()
        )),
        Event::Retrying {
            job,
            attempt,
            wait,
            reason,
        } if normal => Some(format!(
            "retrying {} in {:.1} s (attempt {}): {}",
            job.resource.path.display(),
            wait.as_secs_f64(),
            attempt + 1,
            escape_controls(reason)
        )),
        Event::Started { job, protocol } if verbose => Some(format!(
            "started {} ({}, {protocol})",
            job.resource.path.display(),
            human_bytes(job.resource.size),
        )),
        // The destination's own offset, once it said it.
        Event::Phase {
            job,
            phase: Phase::Uploading { from },
        } if normal && *from > 0 => Some(format!(
            "resuming {} at {} of {} (the destination confirmed the bytes before it)",
            job.resource.path.display(),
            human_bytes(*from),
            human_bytes(job.resource.size)
        )),
        Event::Succeeded { job, .. } if normal => Some(format!(
            "uploaded {} ({})",
            job.shown_path(),
            human_bytes(job.resource.size)
        )),
        Event::Stopped { job } if verbose => Some(format!(
            "stopped {}; it resumes on the next run",
            job.resource.path.display()
        )),
        Event::Interrupting => Some(
            "interrupted: stopping the uploads in flight (press Ctrl-C again to exit at once)"
                .to_owned(),
        ),
        Event::NothingToDo { done_before } if normal => Some(format!(
            "nothing to upload: no pending jobs ({} already finished)",
            count(*done_before, "job")
        )),
        Event::Cleared {
            job,
            cleared,
            duplicate,
        } if verbose => {
            let source = duplicate.map_or(job.resource.source(), std::path::Path::to_owned);
            let vouched = match duplicate {
                Some(_) => format!(
                    " (a duplicate of {}, confirmed at the destination)",
                    Readable(&job.resource.source())
                ),
                None => String::new(),
            };
            Some(match &cleared.to {
                Some(to) => format!("moved {} to {}{vouched}", Readable(&source), to.display()),
                None => format!("deleted {}{vouched}", Readable(&source)),
            })
        }
        Event::Kept { reason, .. } => Some(format!("warning: {}", escape_controls(reason))),
        Event::ClearedNothing { flag, reason } if normal => {
            Some(format!("{flag} cleared nothing: {reason}"))
        }
        Event::WindowClosed { by, cutoff } if normal => Some(match cutoff {
            Cutoff::Hard => format!(
                "--{by} reached: stopping the uploads in flight; they resume on the next run"
            ),
            Cutoff::Soft => {
                format!("--{by} reached: finishing the uploads in flight, starting no new one")
            }
        }),
        Event::Bwlimit { destination, rate } if verbose => Some(format!(
            "bandwidth limit{}: {}",
            destination
                .map(|url| format!(" for {url}"))
                .unwrap_or_default(),
            rate.map_or("off".to_owned(), |rate| format!("{}/s", human_bytes(rate)))
        )),
        Event::Summary(summary) => {
            let failed = summary.failed > 0
                || summary.requeued > 0
                || (summary.stopped_by.is_some() && !summary.on_schedule);
            let happened = summary.succeeded + summary.failed + summary.left + summary.cleared > 0;
            let mut text = ((normal && happened) || failed || summary.failures_listed > 0)
                .then(|| summary_text(summary))?;
            if summary.failures_listed > 0 {
                let them = match summary.failures_listed {
                    1 => "it",
                    _ => "them",
                };
                text.push_str(&format!(
                    "\n{} on the failures list (ID, file, reason, attempts); `ferry retry --all` or `ferry retry ID...` queues {them} again, `ferry ack --failed` takes {them} off:",
                    count(summary.failures_listed, "failed job")
                ));
            }
            Some(text)
        }
        Event::FailureListed { job } => Some(failure_line::failure_line(job)),
        _ => None,
    }
}
