//! Plain lines on stderr, for cron mail, CI logs and pipes: never an escape
//! code unless colour was asked for, one line per finished or failed job,
//! and a progress line every `--stats` interval instead of bars.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Event, Reporter, Verbosity, rate_text, text};
use crate::format::human_bytes;

pub struct Lines {
    verbosity: Verbosity,
    /// Print a progress line this often; `None` for no progress lines.
    stats: Option<Duration>,
    /// A line per finished job (`--progress lines`), or only failures (`none`).
    per_job: bool,
    color: bool,
    tally: Mutex<Tally>,
}

/// The run's totals, kept from the events for the progress line.
#[derive(Default)]
pub struct Tally {
    pub started: Option<Instant>,
    pub jobs: u64,
    pub bytes: u64,
    pub done: u64,
    pub done_bytes: u64,
    /// Offsets of the jobs in flight.
    pub active: std::collections::HashMap<String, u64>,
    last_line: Option<Instant>,
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
            Event::Progress { job, offset } => {
                self.active.insert(job.id.as_str().to_owned(), offset);
            }
            Event::Succeeded { job, .. } => {
                self.active.remove(job.id.as_str());
                self.done += 1;
                self.done_bytes += job.resource.size;
            }
            Event::Failed { job, .. } | Event::Stopped { job } => {
                self.active.remove(job.id.as_str());
                self.done += 1;
            }
            _ => {}
        }
    }

    /// Bytes finished or in flight.
    pub fn position(&self) -> u64 {
        self.done_bytes + self.active.values().sum::<u64>()
    }

    fn line(&self) -> String {
        let seconds = self.started.map_or(0.0, |at| at.elapsed().as_secs_f64());
        format!(
            "progress: {}/{} files, {} of {}, {}, {} uploading",
            self.done,
            self.jobs,
            human_bytes(self.position()),
            human_bytes(self.bytes),
            rate_text(self.position(), seconds),
            self.active.len()
        )
    }
}

impl Lines {
    pub fn new(verbosity: Verbosity, stats: Option<Duration>, per_job: bool, color: bool) -> Lines {
        Lines {
            verbosity,
            stats,
            per_job,
            color,
            tally: Mutex::new(Tally::default()),
        }
    }

    fn paint(&self, line: String) -> String {
        if !self.color {
            return line;
        }
        let style = if line.starts_with("failed") || line.starts_with("  ") {
            console::Style::new().red()
        } else if line.starts_with("warning") || line.starts_with("retrying") {
            console::Style::new().yellow()
        } else {
            return line;
        };
        style.force_styling(true).apply_to(line).to_string()
    }
}

impl Reporter for Lines {
    fn event(&self, event: Event<'_>) {
        if let Some(interval) = self.stats {
            let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
            tally.see(&event);
            if matches!(event, Event::Tick) {
                let due = tally
                    .last_line
                    .or(tally.started)
                    .is_some_and(|at| at.elapsed() >= interval);
                if due {
                    tally.last_line = Some(Instant::now());
                    eprintln!("{}", tally.line());
                }
            }
        }
        let quiet_success = !self.per_job && self.verbosity < Verbosity::Verbose;
        if quiet_success && matches!(event, Event::Succeeded { .. }) {
            return;
        }
        if let Some(line) = text(&event, self.verbosity) {
            eprintln!("{}", self.paint(line));
        }
    }
}
