//! Plain lines on stderr, for cron mail, CI logs and pipes: never an escape
//! code unless colour was asked for, one line per finished or failed job,
//! and a progress line every `--stats` interval instead of bars.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Event, Reporter, Tally, Verbosity, rate_text, text};
use crate::format::human_bytes;

pub struct Lines {
    verbosity: Verbosity,
    /// Print a progress line this often; `None` for no progress lines.
    stats: Option<Duration>,
    /// A line per finished job (`--progress lines`), or only failures (`none`).
    per_job: bool,
    color: bool,
    progress: Mutex<Progress>,
}

/// The totals and when the last progress line was printed.
#[derive(Default)]
struct Progress {
    tally: Tally,
    last_line: Option<Instant>,
}

impl Progress {
    fn line(&self) -> String {
        let tally = &self.tally;
        let seconds = tally.started.map_or(0.0, |at| at.elapsed().as_secs_f64());
        format!(
            "progress: {}/{} files, {} of {}, {}, {} uploading",
            tally.done,
            tally.jobs,
            human_bytes(tally.position()),
            human_bytes(tally.to_send()),
            rate_text(tally.position(), seconds),
            tally.active.len()
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
            progress: Mutex::new(Progress::default()),
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
            let mut progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
            progress.tally.see(&event);
            if matches!(event, Event::Tick) {
                let due = progress
                    .last_line
                    .or(progress.tally.started)
                    .is_some_and(|at| at.elapsed() >= interval);
                if due {
                    progress.last_line = Some(Instant::now());
                    super::stream::err_line(&progress.line());
                }
            }
        }
        let quiet_success = !self.per_job && self.verbosity < Verbosity::Verbose;
        if quiet_success && matches!(event, Event::Succeeded { .. }) {
            return;
        }
        if let Some(line) = text(&event, self.verbosity) {
            super::stream::err_line(&self.paint(line));
        }
    }
}
