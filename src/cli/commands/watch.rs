//! `ferry watch`: a sync, then a sync per batch of files that settled.
//!
//! The folders are watched before the first sync, so nothing written
//! meanwhile is missed. Each batch is a whole `sync` (scan, then upload),
//! which opens the journal and lets it go again, so `ferry status`, `jobs`,
//! `retry`, `ack` and `cancel` work between batches; a second watcher on
//! the same journal is refused (exit 4) by a lock of its own. A full
//! rescan runs every `--rescan`, and at once when events were lost. The
//! first SIGINT or SIGTERM ends the batch in flight as it ends a sync, and
//! then the watch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::transfer::sync;
use crate::cli::WatchArgs;
use crate::config::Config;
use crate::error;
use crate::journal::lock;
use crate::report::stream;
use crate::settle::{Settling, StatNow};
use crate::watching::{Change, Watcher};

pub fn watch(config: &Config, args: &WatchArgs) -> anyhow::Result<u8> {
    let mut own = config.journal.clone().into_os_string();
    own.push(".watch");
    let _only_watcher = lock::acquire(std::path::Path::new(&own), None)?;
    let roots = &args.sync.scan.roots;
    let watcher = Watcher::new(roots)
        .map_err(|error| anyhow::anyhow!("cannot watch {}: {error}", shown(roots)))?;
    let stop = stop_flag()?;
    say(
        config,
        &format!("watching {}", shown(roots)),
        || serde_json::json!({"type": "watch_started", "folders": roots}),
    );
    let mut code = batch(config, args)?;
    let mut settling = Settling::new(args.settle);
    let mut rescan_at = Instant::now() + args.rescan;
    while !stop.load(Ordering::Relaxed) && code != error::INTERRUPTED {
        let now = Instant::now();
        let until = settling.next_due().unwrap_or(rescan_at).min(rescan_at);
        let wait = until
            .saturating_duration_since(now)
            .min(Duration::from_millis(250));
        for change in watcher.next(wait).unwrap_or_default() {
            match change {
                Change::Touched(path) => {
                    let stat = match StatNow::of(&path) {
                        StatNow::Is(stat) => Some(stat),
                        _ => None,
                    };
                    settling.touched(path, stat, Instant::now());
                }
                Change::Rescan(why) => {
                    say(
                        config,
                        &format!("rescanning: {why}"),
                        || serde_json::json!({"type": "rescan", "reason": why}),
                    );
                    rescan_at = Instant::now();
                }
            }
        }
        let now = Instant::now();
        let due = settling.due(now, StatNow::of);
        let rescan = now >= rescan_at;
        if due.is_empty() && !rescan {
            continue;
        }
        if rescan {
            rescan_at = now + args.rescan;
            say(
                config,
                "rescanning every folder",
                || serde_json::json!({"type": "rescan", "reason": "scheduled"}),
            );
        } else {
            say(
                config,
                &format!("{} files settled", due.len()),
                || serde_json::json!({"type": "batch", "settled": due.len()}),
            );
        }
        code = batch(config, args)?;
    }
    Ok(match stop.load(Ordering::Relaxed) {
        true => error::INTERRUPTED,
        false => code,
    })
}

fn shown(roots: &[std::path::PathBuf]) -> String {
    let names: Vec<String> = roots
        .iter()
        .map(|root| root.display().to_string())
        .collect();
    names.join(", ")
}

/// One sync. A failure that is not the command line's fault (a server
/// down, refused credentials, the journal held by another run) pauses the
/// watch until the next batch or rescan instead of ending it, so that a
/// fixed token file or a server back up is picked up without a restart.
fn batch(config: &Config, args: &WatchArgs) -> anyhow::Result<u8> {
    match sync(config, &args.sync) {
        Err(error) if error::exit_code(&error) != error::USAGE_ERROR => {
            let text = error::one_line(&error);
            stream::err_line(&format!(
                "ferry: paused: {text}; trying again with the next files or rescan"
            ));
            Ok(error::RUNTIME_ERROR)
        }
        other => other,
    }
}

/// A line for people on stderr, or with `--json` an event on stdout.
fn say(config: &Config, line: &str, event: impl FnOnce() -> serde_json::Value) {
    if config.json() {
        let _ = stream::out_line(&event().to_string());
    } else if !config.quiet() {
        stream::err_line(line);
    }
}

/// Set by the first SIGINT or SIGTERM (a run in flight sees it too).
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("ferry-signals".into())
        .spawn(move || {
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut interrupt), Ok(mut terminate)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                flag.store(true, Ordering::Relaxed);
            });
        })?;
    Ok(stop)
}
