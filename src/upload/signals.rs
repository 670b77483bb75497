//! Ctrl-C and SIGTERM during a run.
//!
//! The first cancels the run's token, so jobs in flight stop where a resume
//! can pick them up and the run still checkpoints and summarizes; the
//! second exits at once, as people expect of Ctrl-C.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::report::{Event, Reporter};

/// First signal: cancel. Second: exit at once, as people expect of Ctrl-C.
/// The handlers are installed here, before any job starts (a spawned task
/// might run only after the first Ctrl-C, which would then kill the run).
pub fn watch(
    cancel: CancellationToken,
    reporter: Arc<dyn Reporter>,
) -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        for press in 0.. {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if press > 0 {
                std::process::exit(i32::from(crate::error::INTERRUPTED));
            }
            reporter.event(Event::Interrupting);
            cancel.cancel();
        }
    })
}
