//! What `ferry watch` shows between batches.
//!
//! At a terminal, one status line (`watching 2 folders · 1,234 uploaded ·
//! 3 queued · idle since 14:02`) is redrawn in place and wiped before a
//! batch's bars or any other line, so the two never mix. Elsewhere (the
//! systemd journal, a log), the same figures are one plain line after each
//! batch, without the clock, since every journal line has a time of its
//! own. `-q` and `--json` show none of it: the JSON events carry it.

use crate::format::thousands;
use crate::report::{Output, ProgressStyle, Verbosity, stream};

/// The figures the status line shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Jobs uploaded since the watch started.
    pub uploaded: u64,
    /// Files settling plus jobs left for a later batch.
    pub queued: u64,
    /// The local time (HH:MM) the last batch ended.
    pub idle_since: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Redrawn,
    Plain,
    Silent,
}

pub struct WatchStatus {
    style: Style,
    folders: usize,
    drawn: Option<Figures>,
}

impl WatchStatus {
    pub fn new(output: &Output, folders: usize) -> WatchStatus {
        let style = if output.json || output.verbosity == Verbosity::Quiet {
            Style::Silent
        } else if output.progress == ProgressStyle::Bars {
            Style::Redrawn
        } else {
            Style::Plain
        };
        WatchStatus {
            style,
            folders,
            drawn: None,
        }
    }

    /// Shows the figures: redrawn at a terminal, or a plain line when they
    /// changed.
    pub fn show(&mut self, figures: Figures) {
        let text = self.text(&figures);
        match self.style {
            Style::Redrawn => stream::err(&format!("\r\x1b[2K{text}")),
            Style::Plain if self.drawn.as_ref() != Some(&figures) => stream::err_line(&text),
            Style::Plain | Style::Silent => {}
        }
        self.drawn = Some(figures);
    }

    /// New figures between batches (a file started settling): redrawn at
    /// a terminal, but no plain line, which comes after the batch.
    pub fn update(&mut self, figures: Figures) {
        if self.style == Style::Redrawn {
            self.show(figures);
        }
    }

    /// Wipes a status line drawn at a terminal, so that bars or another
    /// line can take its place.
    pub fn clear(&mut self) {
        if self.style == Style::Redrawn && self.drawn.take().is_some() {
            stream::err("\r\x1b[2K");
        }
    }

    /// One line for people (none under `-q` or `--json`), with the status
    /// line wiped first and drawn again after it.
    pub fn say(&mut self, line: &str) {
        if self.style == Style::Silent {
            return;
        }
        let drawn = self.drawn.clone();
        self.clear();
        stream::err_line(line);
        if let Some(figures) = drawn.filter(|_| self.style == Style::Redrawn) {
            self.show(figures);
        }
    }

    fn text(&self, figures: &Figures) -> String {
        let folders = crate::format::count(self.folders as u64, "folder");
        let counts = format!(
            "watching {folders} · {} uploaded · {} queued",
            thousands(figures.uploaded),
            thousands(figures.queued)
        );
        match self.style {
            Style::Redrawn => format!("{counts} · idle since {}", figures.idle_since),
            _ => counts,
        }
    }
}
