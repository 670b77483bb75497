//! Time windows: `--max-duration` and `--stop-at` end a run on schedule.
//!
//! Once the window closes no new job starts. With the hard cutoff (the
//! default) the jobs in flight stop as a first Ctrl-C stops them, at a
//! point the next run resumes from; with the soft one they finish. Either
//! way the run ends with its summary and counts as a success unless
//! something failed: stopping on schedule is what was asked for. Two
//! tokens carry this: `closed` (start nothing more) and `halt` (stop what
//! runs), children of the run's Ctrl-C token so that Ctrl-C does both.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

pub use crate::report::Cutoff;
use crate::report::{Event, Reporter};

/// When a run must end, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Set when the command starts, so that a sync's scan counts too.
    pub ends: Instant,
    /// The flag that set it: `max-duration` or `stop-at`.
    pub by: &'static str,
    pub cutoff: Cutoff,
}

impl Window {
    /// The earlier of `--max-duration` and the next `--stop-at`, if any.
    pub fn new(
        max_duration: Option<Duration>,
        stop_at: Option<StopAt>,
        cutoff: Cutoff,
    ) -> Option<Window> {
        let candidates = [
            max_duration.map(|length| (length, "max-duration")),
            stop_at.map(|at| (at.until_next(), "stop-at")),
        ];
        let (length, by) = candidates.into_iter().flatten().min_by_key(|(at, _)| *at)?;
        let ends = Instant::now() + length;
        Some(Window { ends, by, cutoff })
    }
}

/// A time of day, local time, as `--stop-at 07:00` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopAt {
    hour: i8,
    minute: i8,
}

impl StopAt {
    pub fn parse(text: &str) -> Result<StopAt, String> {
        let invalid = || format!("{text:?}: a time of day is HH:MM, from 00:00 to 23:59");
        let (hour, minute) = text.split_once(':').ok_or_else(invalid)?;
        let hour: i8 = hour.parse().map_err(|_| invalid())?;
        let minute: i8 = minute.parse().map_err(|_| invalid())?;
        if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
            return Err(invalid());
        }
        Ok(StopAt { hour, minute })
    }

    /// Until the next time the clock shows this time (tomorrow's if today's
    /// has passed).
    fn until_next(self) -> Duration {
        let now = jiff::Zoned::now();
        let today = now
            .with()
            .hour(self.hour)
            .minute(self.minute)
            .second(0)
            .subsec_nanosecond(0)
            .build();
        let next = match today {
            Ok(at) if at > now => Ok(at),
            Ok(at) => at.checked_add(jiff::Span::new().days(1)),
            Err(error) => Err(error),
        };
        next.ok()
            .map(|at| now.duration_until(&at).unsigned_abs())
            .unwrap_or(Duration::ZERO)
    }
}

/// The two tokens a run's jobs watch; see the module's comment.
#[derive(Clone)]
pub struct Gates {
    /// Cancelled: start no new job.
    pub closed: CancellationToken,
    /// Cancelled: stop the jobs in flight.
    pub halt: CancellationToken,
}

impl Gates {
    pub fn new(interrupt: &CancellationToken) -> Gates {
        let halt = interrupt.child_token();
        Gates {
            closed: halt.child_token(),
            halt,
        }
    }

    /// Closes the gates when `window` ends, telling the reporter first.
    pub fn start_timer(
        &self,
        window: &Window,
        reporter: Arc<dyn Reporter>,
    ) -> tokio::task::JoinHandle<()> {
        let (by, cutoff) = (window.by, window.cutoff);
        let announce = move || reporter.event(Event::WindowClosed { by, cutoff });
        tokio::spawn(self.clone().close_after(window.clone(), announce))
    }

    /// Closes the gates when the window ends; `on_close` runs first.
    async fn close_after(self, window: Window, on_close: impl FnOnce()) {
        tokio::time::sleep_until(window.ends.into()).await;
        on_close();
        match window.cutoff {
            Cutoff::Hard => self.halt.cancel(),
            Cutoff::Soft => self.closed.cancel(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earlier_limit_wins_and_times_of_day_parse() {
        let at = StopAt::parse("07:30").unwrap();
        assert_eq!(
            at,
            StopAt {
                hour: 7,
                minute: 30
            }
        );
        for bad in ["7", "24:00", "07:60", "-1:00", "seven"] {
            assert!(StopAt::parse(bad).is_err(), "{bad:?}");
        }
        let window = Window::new(Some(Duration::from_secs(2)), Some(at), Cutoff::Soft).unwrap();
        assert_eq!(window.by, "max-duration");
        assert!(window.ends <= Instant::now() + Duration::from_secs(2));
        let until = at.until_next();
        assert!(until > Duration::ZERO && until <= Duration::from_secs(24 * 3600));
        assert_eq!(Window::new(None, None, Cutoff::Hard), None);
    }

    #[tokio::test]
    async fn ctrl_c_closes_both_gates_and_a_soft_window_only_one() {
        let interrupt = CancellationToken::new();
        let gates = Gates::new(&interrupt);
        let soft = Window {
            ends: Instant::now(),
            by: "max-duration",
            cutoff: Cutoff::Soft,
        };
        gates.clone().close_after(soft, || {}).await;
        assert!(gates.closed.is_cancelled() && !gates.halt.is_cancelled());
        interrupt.cancel();
        assert!(gates.halt.is_cancelled());
    }
}
