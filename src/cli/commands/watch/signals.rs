//! Signals for `ferry watch`, which outlives any one run's handlers.
//!
//! A thread of its own waits for them and sets flags the watch loop reads,
//! waking the loop (through the watcher's `Waker`) so that it never polls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::watching::Waker;

/// Set by signals: the first SIGINT or SIGTERM stops the watch (a run in
/// flight sees it too, and stops as a sync does); SIGHUP asks for the
/// config file to be read again.
pub(super) struct Signals {
    pub(super) stop: Arc<AtomicBool>,
    pub(super) reread: Arc<AtomicBool>,
}

impl Signals {
    pub(super) fn install(waker: Waker) -> anyhow::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        let signals = Signals {
            stop: Arc::new(AtomicBool::new(false)),
            reread: Arc::new(AtomicBool::new(false)),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // Installed here, before the first sync, so that no signal meets
        // the default action (which would end the process).
        let (mut interrupt, mut terminate, mut hangup) = runtime.block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
                signal(SignalKind::hangup())?,
            ))
        })?;
        let (stop, reread) = (signals.stop.clone(), signals.reread.clone());
        std::thread::Builder::new()
            .name("ferry-signals".into())
            .spawn(move || {
                runtime.block_on(async {
                    loop {
                        tokio::select! {
                            _ = interrupt.recv() => break,
                            _ = terminate.recv() => break,
                            _ = hangup.recv() => reread.store(true, Ordering::Relaxed),
                        }
                        waker.wake();
                    }
                    stop.store(true, Ordering::Relaxed);
                    waker.wake();
                });
            })?;
        Ok(signals)
    }
}
