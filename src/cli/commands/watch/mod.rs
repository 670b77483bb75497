//! `ferry watch`: a sync, then a sync per batch of files that settled.
//!
//! The folders are watched before the first sync, so nothing written
//! meanwhile is missed. The first sync and each rescan walk every folder;
//! a batch of settled files looks at just those files, so a tree of
//! 100,000 files is not walked again for each new photo. Each batch is a
//! whole `sync` (scan, then upload), which opens the journal and lets it
//! go again, so `ferry status`, `jobs`, `retry`, `ack` and `cancel` work
//! between batches; a second watcher on the same journal is refused
//! (exit 4) by a lock of its own. A rescan runs every `--rescan`, and at
//! once when events were lost; between its scan and its upload it puts
//! failed jobs back in the queue, in the store it already holds, so each
//! rescan gives them another run's `--retries`. The first
//! SIGINT or SIGTERM ends the batch in flight as it ends a sync, and then
//! the watch; SIGHUP rereads the config file before the next batch. An
//! event for a file the scan would leave out, or for one of ferry's own
//! files (`own_files.rs`), starts no batch.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::transfer::sync_files;
use own_files::OwnFiles;
use signals::Signals;
mod own_files;
mod signals;

use super::open_read_only;
use crate::cli::WatchArgs;
use crate::cli::settings::Config;
use crate::error::{self, UsageError};
use crate::journal::job::{Action, Destination, Job};
use crate::journal::lock;
use crate::journal::store::Store;
use crate::report::stream;
use crate::report::watch_status::{Figures, WatchStatus};
use crate::scan::filter::{Filter, Skip};
use crate::scan::{assets, siblings};
use crate::settle::{Settling, StatNow};
use crate::watching::{Change, Watcher};

/// What starts a batch.
enum Batch {
    /// The first sync, or a rescan: every folder is walked.
    Everything,
    /// These files settled: only they are looked at.
    Settled(Vec<PathBuf>),
}

/// The watch's running state: its config, what it shows, and what the
/// batches have done so far.
struct Watch<'a> {
    config: Config,
    args: &'a WatchArgs,
    status: WatchStatus,
    uploaded: u64,
    left: u64,
    /// Settled files of batches that paused before their scan (a sync
    /// checks its destination first): looked at again with the next batch.
    held: Vec<PathBuf>,
    /// When the last batch ended (HH:MM, local time).
    idle_since: String,
    /// The first sync has run.
    started: bool,
    /// The scan's filter, to pass over events for files it leaves out.
    filter: Filter,
}

pub fn watch(
    config: Config,
    args: &WatchArgs,
    reread: impl Fn() -> anyhow::Result<Config>,
) -> anyhow::Result<u8> {
    let mut own = config.journal.clone().into_os_string();
    own.push(".watch");
    if let Some(folder) = (config.journal.parent()).filter(|dir| !dir.as_os_str().is_empty()) {
        // As the journal's own opening does, on a first run.
        fs_err::create_dir_all(folder)?;
    }
    let _only_watcher = lock::acquire(std::path::Path::new(&own), None)?;
    let roots = &args.sync.scan.roots;
    for root in roots {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => Err(UsageError(format!(
                "{}: is a file, not a folder to watch",
                root.display()
            )))?,
            Err(error) => Err(UsageError(format!(
                "{}: cannot use as a folder to watch: {error}",
                root.display()
            )))?,
        }
    }
    let mut watcher = Watcher::new(roots)?;
    let signals = Signals::install(watcher.waker())?;
    let own_files = OwnFiles::new(&config, args);
    let filter = Filter::new(config.filter(&args.sync.scan))?;
    let mut watch = Watch {
        status: WatchStatus::new(&config.output, roots.len()),
        config,
        args,
        uploaded: 0,
        left: 0,
        held: Vec::new(),
        idle_since: String::new(),
        started: false,
        filter,
    };
    watch.say(
        &format!("watching {}", shown(roots)),
        || serde_json::json!({"type": "watch_started", "folders": roots}),
    );
    let mut code = watch.batch(Batch::Everything)?;
    let mut settling = Settling::new(args.settle.min(LONGEST));
    watch.show(&settling);
    let mut rescan_at = next_rescan(args);
    while !signals.stop.load(Ordering::Relaxed) && code != error::INTERRUPTED {
        if signals.reread.swap(false, Ordering::Relaxed) {
            watch.reread(&reread);
        }
        let now = Instant::now();
        let until = settling.next_due().unwrap_or(rescan_at).min(rescan_at);
        // No polling: only an event, a signal (through the waker), a
        // settled file or the rescan ends the wait, so an idle watch uses
        // no CPU.
        let wait = until.saturating_duration_since(now);
        let waiting = settling.len();
        for change in watcher.next(wait).unwrap_or_default() {
            match change {
                Change::Touched(path) if own_files.hold(&path) || !watch.may_take(&path) => {}
                Change::Touched(path) => {
                    let stat = stat_now(&path);
                    settling.touched(path, stat, Instant::now());
                }
                Change::Rescan(why) => {
                    watch.say(
                        &format!("rescanning: {why}"),
                        || serde_json::json!({"type": "rescan", "reason": why}),
                    );
                    rescan_at = Instant::now();
                }
            }
        }
        let now = Instant::now();
        // A family's files go together: one settled waits for another of
        // its name still being written, and takes along those on disk.
        let mut due = settling.due_together(now, StatNow::of, siblings::family_of);
        // A file of a settled one's family that the watcher has not heard
        // of yet, and that changed within the settle time, may still be
        // being written: it settles first, and its family waits with it.
        let on_disk = siblings::siblings_on_disk(&due);
        let unheard: Vec<PathBuf> = (on_disk.iter())
            .filter(|path| !settling.holds(path) && siblings::changed_within(path, args.settle))
            .cloned()
            .collect();
        if !unheard.is_empty() {
            let families: HashSet<_> = unheard
                .iter()
                .filter_map(|p| siblings::family_of(p))
                .collect();
            due.retain(|path| {
                let waits = siblings::family_of(path).is_some_and(|f| families.contains(&f));
                if waits {
                    settling.touched(path.clone(), stat_now(path), now);
                }
                !waits
            });
            for path in unheard {
                let stat = stat_now(&path);
                settling.touched(path, stat, now);
            }
        }
        let rescan = now >= rescan_at;
        if due.is_empty() && !rescan {
            if settling.len() != waiting {
                watch.status.update(watch.figures(&settling));
            }
            continue;
        }
        if rescan {
            rescan_at = next_rescan(args);
            if let Err(error) = watcher.rewatch(roots) {
                stream::err_line(&format!(
                    "ferry: paused: {error}; trying again at the next rescan"
                ));
            }
            watch.say(
                "rescanning every folder",
                || serde_json::json!({"type": "rescan", "reason": "scheduled"}),
            );
            code = watch.batch(Batch::Everything)?;
        } else {
            watch.say(
                &format!("{} settled", crate::format::count(due.len() as u64, "file")),
                || serde_json::json!({"type": "batch", "settled": due.len()}),
            );
            let family = siblings::with_siblings(due, on_disk, |path| settling.holds(path));
            code = watch.batch(Batch::Settled(family))?;
        }
        watch.show(&settling);
    }
    watch.status.clear();
    Ok(match signals.stop.load(Ordering::Relaxed) {
        true => error::INTERRUPTED,
        false => code,
    })
}

/// A path's state now, for the settling clock (none when unreadable).
fn stat_now(path: &std::path::Path) -> Option<crate::digest::FileStat> {
    match StatNow::of(path) {
        StatNow::Is(stat) => Some(stat),
        _ => None,
    }
}

/// Longer waits are taken as this (an `Instant` must not overflow).
const LONGEST: Duration = crate::cli::flags::MAX_DURATION;

/// When the next scheduled rescan is due; `--rescan 0` turns them off
/// (a rescan still follows lost events).
fn next_rescan(args: &WatchArgs) -> Instant {
    let every = match args.rescan {
        Duration::ZERO => LONGEST,
        every => every.min(LONGEST),
    };
    Instant::now() + every
}

fn shown(roots: &[PathBuf]) -> String {
    let names: Vec<String> = roots
        .iter()
        .map(|root| root.display().to_string())
        .collect();
    names.join(", ")
}

impl Watch<'_> {
    /// One sync. A failure that is not the command line's fault (a server
    /// down, refused credentials, the journal held by another run) pauses
    /// the watch until the next batch or rescan instead of ending it, so
    /// that a fixed token or a server back up is picked up without a
    /// restart.
    fn batch(&mut self, batch: Batch) -> anyhow::Result<u8> {
        self.status.clear();
        let held = std::mem::take(&mut self.held);
        let (only, requeue) = match batch {
            Batch::Everything => (None, true),
            Batch::Settled(files) => (Some([held, files].concat()), false),
        };
        let (config, status) = (&self.config, &mut self.status);
        let looked_at = only.clone();
        let synced = sync_files(config, &self.args.sync, only, |store, destination| {
            if requeue {
                retry_failed(store, destination, |line, event| {
                    say(config, status, line, event);
                })?;
            }
            Ok(())
        });
        let started = std::mem::replace(&mut self.started, true);
        self.idle_since = jiff::Zoned::now().strftime("%H:%M").to_string();
        give_back_freed_memory();
        match synced {
            Ok((code, summary)) => {
                if let Some(summary) = summary {
                    self.uploaded += summary.succeeded;
                    self.left = summary.left;
                }
                Ok(code)
            }
            // Once the first sync has run, the command line was sound: a
            // folder gone (a card taken out) or a config reread since
            // pauses too, rather than ending the watch.
            Err(error) if started || error::exit_code(&error) != error::USAGE_ERROR => {
                let text = error::one_line(&error);
                stream::err_line(&format!(
                    "ferry: paused: {text}; trying again with the next files or rescan"
                ));
                self.held = looked_at.unwrap_or_default();
                self.left = self.waiting().unwrap_or(self.left) + self.held.len() as u64;
                Ok(error::RUNTIME_ERROR)
            }
            Err(error) => Err(error),
        }
    }

    /// The jobs toward the watched destination that wait for a run, read
    /// from the journal (after a batch that did not say).
    fn waiting(&self) -> anyhow::Result<u64> {
        let scan = &self.args.sync.scan;
        let destination = self.config.destination(&scan.to, scan.protocol)?;
        let store = open_read_only(&self.config)?;
        let waiting = store
            .select(Action::Process)
            .filter(|job| job.destination.url == destination.url)
            .count();
        Ok(waiting as u64)
    }

    /// Reads the config file again (SIGHUP); a config that does not load,
    /// or that moves the journal, is refused and the old one kept.
    fn reread(&mut self, reread: &impl Fn() -> anyhow::Result<Config>) {
        match reread() {
            Ok(config) if config.journal == self.config.journal => {
                match Filter::new(config.filter(&self.args.sync.scan)) {
                    Ok(filter) => self.filter = filter,
                    Err(error) => {
                        let text = error::one_line(&error);
                        stream::err_line(&format!("ferry: config not reread: {text}"));
                        return;
                    }
                }
                self.config = config;
                self.say(
                    "config reread",
                    || serde_json::json!({"type": "config_reread"}),
                );
            }
            Ok(config) => stream::err_line(&format!(
                "ferry: config not reread: it moves the journal to {}; restart the watch for that",
                config.journal.display()
            )),
            Err(error) => stream::err_line(&format!(
                "ferry: config not reread, keeping the previous one: {}",
                error::one_line(&error)
            )),
        }
    }

    /// Whether the scan could take the file at `path`, by the filter's
    /// rules on its name and folders: a file it would leave out (a
    /// catalog, a hidden folder's) need not start a batch.
    fn may_take(&self, path: &std::path::Path) -> bool {
        let roots = &self.args.sync.scan.roots;
        // notify names paths below a root as the root was given, or made
        // absolute; a path below neither is left to the scan.
        let below = |root: &PathBuf| {
            (path.strip_prefix(root).ok())
                .or_else(|| path.strip_prefix(std::path::absolute(root).ok()?).ok())
        };
        let Some(relative) = roots.iter().find_map(below) else {
            return true;
        };
        let name = path.file_name().map(|name| name.as_encoded_bytes());
        let name = name.unwrap_or_default();
        // A sidecar counts: the scan takes it beside a photo of its name.
        // Alone, it would be left out: the photo's batch takes it along.
        let sidecar = std::str::from_utf8(name).is_ok_and(assets::is_sidecar_name)
            && siblings::has_media_beside(path);
        self.filter.enters_folders_of(relative)
            && match self.filter.keep_file(relative, name) {
                Ok(_) => true,
                Err(Skip::Sidecar | Skip::NotMedia) => sidecar,
                Err(_) => false,
            }
    }

    fn figures(&self, settling: &Settling) -> Figures {
        Figures {
            uploaded: self.uploaded,
            queued: self.left + settling.len() as u64,
            idle_since: self.idle_since.clone(),
        }
    }

    fn show(&mut self, settling: &Settling) {
        self.status.show(self.figures(settling));
    }

    /// A line for people on stderr, or with `--json` an event on stdout.
    fn say(&mut self, line: &str, event: impl FnOnce() -> serde_json::Value) {
        say(&self.config, &mut self.status, line, event);
    }
}

/// What `Watch::say` does, for where `self` is borrowed in parts.
fn say(
    config: &Config,
    status: &mut WatchStatus,
    line: &str,
    event: impl FnOnce() -> serde_json::Value,
) {
    if config.json() {
        let _ = stream::out_line(&event().to_string());
    } else {
        status.say(line);
    }
}

/// Before a rescan's scan: failed jobs toward the watched destination
/// that nobody acknowledged go back in the queue, as `ferry retry` would
/// put them, in the store the batch already holds.
fn retry_failed(
    store: &mut Store,
    destination: &Destination,
    say: impl FnOnce(&str, &dyn Fn() -> serde_json::Value),
) -> anyhow::Result<()> {
    let failed: Vec<_> = store
        .select(Action::Retry)
        .filter(|job| job.destination.url == destination.url)
        .map(|job| job.id.clone())
        .collect();
    if !failed.is_empty() {
        store.apply_all(&failed, |job: &mut Job| job.retry(None))?;
        let count = failed.len();
        let jobs = crate::format::count(count as u64, "failed job");
        say(
            &format!("retrying {jobs}"),
            &|| serde_json::json!({"type": "requeued", "jobs": count}),
        );
    }
    Ok(())
}

/// A batch's journal (a peak of 225 MiB for 100,000 jobs) is freed when it
/// ends, but glibc keeps freed memory for later; handing it back to the
/// system keeps an idle watcher small (measured in BENCHMARKS.md).
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
