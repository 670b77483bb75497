//! Bars at a terminal, with indicatif: a scan bar while the scan walks and
//! hashes, then a total bar (files, bytes, rate, ETA) under one bar per
//! active job (name, bytes, rate, state). A finished job's bar goes away; a
//! failed one leaves a line. Drawing is capped at 10 frames a second, so the
//! bars cost little CPU however fast events come. Text lines are printed
//! above the bars so they never tear them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Event, Phase, Reporter, Tally, Verbosity, text};
use crate::format::human_bytes;
use crate::journal::job::Job;

/// Redraws per second, at most.
const FRAMES_PER_SECOND: u8 = 10;

pub struct Terminal {
    verbosity: Verbosity,
    multi: MultiProgress,
    bars: Mutex<Bars>,
}

#[derive(Default)]
struct Bars {
    scan: Option<ProgressBar>,
    total: Option<ProgressBar>,
    jobs: HashMap<String, (ProgressBar, Arc<Mutex<Start>>)>,
    tally: Tally,
}

/// Where a job's transfer started in this run, and when: its bar's rate
/// counts only the bytes sent since, never the jump to a resumed offset
/// (indicatif's own estimator would read that jump as speed).
#[derive(Clone, Copy)]
struct Start {
    offset: u64,
    at: Instant,
}

/// A job bar's style, its `{rate}` computed from `start`.
fn job_style(start: Arc<Mutex<Start>>) -> ProgressStyle {
    style(
        "  {msg:24!} {prefix:20!} {bytes:>10}/{total_bytes:<10} {rate:>12} [{wide_bar:.green/white}]",
    )
    .with_key(
        "rate",
        move |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
            let start = *start.lock().unwrap_or_else(|p| p.into_inner());
            let seconds = start.at.elapsed().as_secs_f64();
            let sent = state.pos().saturating_sub(start.offset) as f64;
            let rate = if seconds > 0.0 { sent / seconds } else { 0.0 };
            let _ = write!(out, "{}/s", indicatif::BinaryBytes(rate as u64));
        },
    )
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("the templates are fixed")
        .progress_chars("=> ")
}

/// The file's name, as the job bar shows it.
fn name(job: &Job) -> String {
    job.resource.path.as_path().file_name().map_or_else(
        || job.resource.path.display().to_string(),
        |name| crate::journal::paths::escape_controls(&name.to_string_lossy()),
    )
}

impl Terminal {
    pub fn new(verbosity: Verbosity) -> Terminal {
        Terminal {
            verbosity,
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(
                FRAMES_PER_SECOND,
            )),
            bars: Mutex::new(Bars::default()),
        }
    }

    /// A line above the bars: they are cleared, the line printed, and they
    /// are drawn again below it, so a line wider than the terminal cannot
    /// leave stale frames behind.
    fn say(&self, line: &str) {
        self.multi.suspend(|| super::stream::err_line(line));
    }

    fn update_total(bars: &Bars) {
        if let Some(total) = &bars.total {
            total.set_prefix(format!(
                "total: {}/{} files",
                bars.tally.done, bars.tally.jobs
            ));
            total.set_length(bars.tally.to_send());
            total.set_position(bars.tally.position());
        }
    }

    fn job_bar(&self, bars: &mut Bars, job: &Job) -> ProgressBar {
        if let Some((bar, _)) = bars.jobs.get(job.id.as_str()) {
            return bar.clone();
        }
        let start = Arc::new(Mutex::new(Start {
            offset: 0,
            at: Instant::now(),
        }));
        let bar = ProgressBar::new(job.resource.size).with_style(job_style(start.clone()));
        // Added before anything is set: a bar not yet in the MultiProgress
        // would draw itself on stderr, leaving a stray line.
        let bar = match &bars.total {
            Some(total) => self.multi.insert_before(total, bar),
            None => self.multi.add(bar),
        };
        bar.set_message(name(job));
        bars.jobs
            .insert(job.id.as_str().to_owned(), (bar.clone(), start));
        bar
    }

    fn end_job(bars: &mut Bars, job: &Job) {
        if let Some((bar, _)) = bars.jobs.remove(job.id.as_str()) {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for Terminal {
    fn event(&self, event: Event<'_>) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.tally.see(&event);
        match event {
            Event::Walked { files, .. } => {
                let bar = ProgressBar::new(files).with_style(style(
                    "scanning {pos}/{len} files, {msg} hashed [{wide_bar:.cyan/white}]",
                ));
                let bar = self.multi.add(bar);
                bar.set_message("0 B");
                bars.scan = Some(bar);
            }
            Event::Scanned {
                files,
                hashed_bytes,
            } => {
                if let Some(bar) = &bars.scan {
                    bar.set_position(files);
                    bar.set_message(human_bytes(hashed_bytes));
                }
            }
            Event::ScanSummary { .. } => {
                if let Some(bar) = bars.scan.take() {
                    bar.finish_and_clear();
                }
            }
            Event::RunStarted { bytes, .. } => {
                let bar = ProgressBar::new(bytes).with_style(style(
                    "  {prefix:<45} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} [{wide_bar:.cyan/white}] ETA {eta}",
                ));
                bars.total = Some(self.multi.add(bar));
                Self::update_total(&bars);
            }
            Event::RunGrew { .. } => Self::update_total(&bars),
            Event::Started { job, .. } => {
                let bar = self.job_bar(&mut bars, job);
                bar.set_prefix("starting");
            }
            Event::Phase { job, phase } => {
                let bar = self.job_bar(&mut bars, job);
                bar.set_prefix(match phase {
                    Phase::Creating => "creating".to_owned(),
                    Phase::Uploading { from: 0 } => "uploading".to_owned(),
                    Phase::Uploading { from } => {
                        format!("resuming at {}", human_bytes(from))
                    }
                    Phase::Verifying => "verifying".to_owned(),
                });
                if let Phase::Uploading { from } = phase {
                    // The jump to where the destination stands is not
                    // speed: the rate counts from here on.
                    if let Some((_, start)) = bars.jobs.get(job.id.as_str()) {
                        *start.lock().unwrap_or_else(|p| p.into_inner()) = Start {
                            offset: from,
                            at: Instant::now(),
                        };
                    }
                    bar.set_position(from);
                    Self::update_total(&bars);
                }
            }
            Event::Progress { job, offset } => {
                if let Some((bar, _)) = bars.jobs.get(job.id.as_str()) {
                    bar.set_position(offset);
                }
            }
            Event::Tick => Self::update_total(&bars),
            Event::Retrying { job, wait, .. } => {
                let bar = self.job_bar(&mut bars, job);
                bar.set_prefix(format!("retrying in {:.0} s", wait.as_secs_f64().ceil()));
            }
            Event::Succeeded { job, .. } | Event::Failed { job, .. } | Event::Stopped { job } => {
                Self::end_job(&mut bars, job);
                Self::update_total(&bars);
            }
            Event::Summary(_) | Event::NothingToDo { .. } => {
                for (_, (bar, _)) in bars.jobs.drain() {
                    bar.finish_and_clear();
                }
                if let Some(total) = bars.total.take() {
                    total.finish_and_clear();
                }
            }
            _ => {}
        }
        drop(bars);
        // The bar going away says a job finished; a line each is for -v.
        if matches!(event, Event::Succeeded { .. }) && self.verbosity < Verbosity::Verbose {
            return;
        }
        if let Some(line) = text(&event, self.verbosity) {
            // A terminal is narrow; a log keeps the summary on one line.
            match event {
                Event::ScanSummary { summary, dry_run } => {
                    self.say(&super::scan_summary_lines(summary, dry_run))
                }
                _ => self.say(&line),
            }
        }
    }
}
