//! What an upload run tells people and scripts, as uv does it: the engine
//! emits events and a `Reporter` decides how they look.
//!
//! Lines go to stderr for people and logs (a failure always, retries and the
//! summary unless `-q`); `--json` puts one JSON object per event on stdout
//! for scripts. Events carry only what the journal may hold too, so no
//! credential can reach either.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::format::human_bytes;
use crate::job::{Job, JobError};

/// One upload run's result.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UploadSummary {
    pub succeeded: u64,
    pub failed: u64,
    /// Jobs left pending or registered (interrupted, or stopped by a credentials error).
    pub left: u64,
    /// Bytes of the files that succeeded.
    pub bytes: u64,
    /// Body bytes sent, resends included.
    pub sent: u64,
    pub seconds: f64,
    pub interrupted: bool,
    /// Failed jobs in the journal that nobody has retried or acknowledged yet.
    pub failures_listed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
}

pub enum Event<'a> {
    /// No job to process.
    NothingToDo {
        done_before: u64,
    },
    Started {
        job: &'a Job,
        protocol: &'a str,
    },
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
    Interrupting,
    Summary(&'a UploadSummary),
}

pub trait Reporter: Send + Sync {
    fn event(&self, event: Event<'_>);
}

/// Plain lines on stderr.
pub struct Lines {
    pub quiet: bool,
}

fn error_text(error: &JobError) -> String {
    match error.status {
        Some(status) if !error.message.contains(&format!("HTTP {status}")) => {
            format!("{} (HTTP {status})", error.message)
        }
        _ => error.message.clone(),
    }
}

fn summary_text(summary: &UploadSummary) -> String {
    let rate = if summary.seconds > 0.0 {
        format!(
            ", {}/s",
            human_bytes((summary.sent as f64 / summary.seconds) as u64)
        )
    } else {
        String::new()
    };
    let mut text = format!(
        "uploaded {} files ({}) in {:.1} s{rate}; {} failed",
        summary.succeeded,
        human_bytes(summary.bytes),
        summary.seconds,
        summary.failed
    );
    if summary.left > 0 {
        text.push_str(&format!(", {} left for the next run", summary.left));
    }
    if summary.failures_listed > 0 {
        text.push_str(&format!(
            "; {} failed jobs listed (`ferry jobs --action retry`, then `ferry retry --all` or `ferry ack --failed`)",
            summary.failures_listed
        ));
    }
    text
}

impl Reporter for Lines {
    fn event(&self, event: Event<'_>) {
        let line = match event {
            Event::Failed { job, error } => Some(format!(
                "failed: {}: {}",
                job.resource.path.display(),
                error_text(error)
            )),
            Event::Restarted { job, status } if !self.quiet => Some(format!(
                "{}: the server no longer has the upload session (HTTP {status}); starting again from 0",
                job.resource.path.display()
            )),
            Event::Retrying {
                job,
                attempt,
                wait,
                reason,
            } if !self.quiet => Some(format!(
                "retrying {} in {:.1} s (attempt {}): {reason}",
                job.resource.path.display(),
                wait.as_secs_f64(),
                attempt + 1
            )),
            Event::Interrupting => Some(
                "interrupted: stopping the uploads in flight (press Ctrl-C again to exit at once)"
                    .to_owned(),
            ),
            Event::NothingToDo { done_before } if !self.quiet => Some(format!(
                "nothing to upload: no pending jobs ({done_before} jobs already finished)"
            )),
            Event::Summary(summary) => {
                let failed = summary.failed > 0 || summary.stopped_by.is_some();
                let happened = summary.succeeded + summary.failed + summary.left > 0;
                ((!self.quiet && happened) || failed || summary.failures_listed > 0)
                    .then(|| summary_text(summary))
            }
            _ => None,
        };
        if let Some(line) = line {
            eprintln!("{line}");
        }
    }
}

/// JSON Lines on stdout, one object per event with a `type` field; the
/// stdout lock held across a line keeps concurrent events whole.
pub struct Json;

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum JsonEvent<'a> {
    NothingToDo {
        done_before: u64,
    },
    JobStarted {
        id: &'a str,
        path: String,
        size: u64,
        protocol: &'a str,
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
        size: u64,
        sent: u64,
        response: Option<&'a crate::job::Response>,
    },
    Failed {
        id: &'a str,
        path: String,
        error: &'a JobError,
    },
    Interrupting,
    UploadSummary(&'a UploadSummary),
}

impl Reporter for Json {
    fn event(&self, event: Event<'_>) {
        let path = |job: &Job| job.resource.source().display().to_string();
        let json = match event {
            Event::NothingToDo { done_before } => JsonEvent::NothingToDo { done_before },
            Event::Started { job, protocol } => JsonEvent::JobStarted {
                id: job.id.as_str(),
                path: path(job),
                size: job.resource.size,
                protocol,
            },
            Event::Retrying {
                job,
                attempt,
                wait,
                reason,
            } => JsonEvent::Retrying {
                id: job.id.as_str(),
                path: path(job),
                attempt,
                wait_seconds: wait.as_secs_f64(),
                reason,
            },
            Event::Restarted { job, status } => JsonEvent::Restarted {
                id: job.id.as_str(),
                path: path(job),
                status,
            },
            Event::Succeeded { job, sent } => JsonEvent::Succeeded {
                id: job.id.as_str(),
                path: path(job),
                size: job.resource.size,
                sent,
                response: job.response.as_ref(),
            },
            Event::Failed { job, error } => JsonEvent::Failed {
                id: job.id.as_str(),
                path: path(job),
                error,
            },
            Event::Interrupting => JsonEvent::Interrupting,
            Event::Summary(summary) => JsonEvent::UploadSummary(summary),
        };
        let mut out = std::io::stdout().lock();
        if serde_json::to_writer(&mut out, &json).is_ok() {
            let _ = out.write_all(b"\n");
            let _ = out.flush();
        }
    }
}
