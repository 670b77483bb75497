//! Progress sampling during a run: every 100 ms, a `Progress` event per
//! job in flight and a `Tick`, and a `Bwlimit` event when a timetable moves
//! a limit. Reporters throttle further; this only reads the jobs' counters.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::run::Run;
use crate::journal::job::Job;
use crate::report::Event;

/// How often the jobs in flight are sampled for progress events; reporters
/// throttle further (bars redraw at most 10 times a second, JSON once a
/// second per job).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Emits a `Progress` event per job in flight, then a `Tick`, until aborted.
pub async fn report(run: Arc<Run>) {
    let mut interval = tokio::time::interval(PROGRESS_EVERY);
    loop {
        interval.tick().await;
        let active: Vec<(Job, u64)> = run
            .active()
            .values()
            .map(|(job, activity)| (job.clone(), activity.position.load(Ordering::Relaxed)))
            .collect();
        for (job, offset) in &active {
            run.reporter.event(Event::Progress {
                job,
                offset: *offset,
            });
        }
        run.reporter.event(Event::Tick);
        for (destination, rate) in run.limits.rates(true) {
            run.reporter.event(Event::Bwlimit { destination, rate });
        }
        // Whoever read our output went away: stop as a first Ctrl-C would.
        if crate::report::stream::closed() {
            run.cancel.cancel();
        }
    }
}
