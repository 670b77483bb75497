//! How far the hashing may run ahead of the upload in a `sync`.
//!
//! A sync hands each new job to the upload as soon as it is queued, so the
//! upload reads a file while the hash has just left it in the page cache.
//! That holds only while the bytes hashed but not yet sent fit in the
//! cache: hashing a whole card first would push the first files out before
//! they are sent, and each byte would be read from the card twice. So the
//! hashing threads reserve their bytes here as they read (`grow`, a few MiB
//! at a time) and wait while the budget is spent; the upload gives them
//! back as it sends (`keep`), and a file the scan does not queue gives its
//! back at once. Files are begun in walk order, the order in which the scan
//! takes their hashes, and the file the scan waits for (the front) never
//! waits on bytes that only the scan could give back: it goes on whenever
//! the upload holds none, so a file bigger than the budget still goes, and
//! the hashing of the next file overlaps the sending of this one.
//! `ferry scan` hashes with no budget.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The budget of a sync: well inside the page cache of a small machine, and
/// big enough that the hashing and the sending of files overlap.
pub const SYNC_BUDGET: u64 = 192 << 20;

/// Bytes reserved at a time by a hashing thread.
pub const STEP: u64 = 4 << 20;

#[derive(Debug)]
pub struct ReadAhead {
    budget: u64,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The next file (a position in the files to hash) to be begun.
    next: usize,
    /// The file the scan waits for: every one before it has been taken.
    front: usize,
    /// Bytes reserved, and of those, bytes the upload holds.
    reserved: u64,
    handed: u64,
}

/// Bytes of one file: read by the hash and not yet sent.
#[derive(Debug)]
pub struct Reserved {
    ahead: Arc<ReadAhead>,
    position: usize,
    bytes: u64,
    handed: bool,
}

impl Reserved {
    /// Reserves `bytes` more, once the budget allows; false when `stop`
    /// said so first.
    pub fn grow(&mut self, bytes: u64, stop: &dyn Fn() -> bool) -> bool {
        let ahead = self.ahead.clone();
        let mut state = ahead.locked();
        loop {
            if stop() {
                return false;
            }
            let front_may = state.front == self.position && state.handed == 0;
            if front_may || state.reserved.saturating_add(bytes) <= ahead.budget {
                state.reserved += bytes;
                self.bytes += bytes;
                return true;
            }
            // A short wait, so that `stop` is seen even if nothing changes.
            let waited = ahead
                .changed
                .wait_timeout(state, std::time::Duration::from_millis(100));
            state = waited.unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// The file's job goes to the upload, which gives the bytes back.
    pub fn hand_over(&mut self) {
        if !self.handed {
            self.handed = true;
            self.ahead.locked().handed += self.bytes;
        }
    }

    /// Keeps at most `bytes` reserved: the rest of the file has been sent
    /// (and dropped from the cache behind the reader).
    pub fn keep(&mut self, bytes: u64) {
        if bytes < self.bytes {
            let mut state = self.ahead.locked();
            let given = self.bytes - bytes;
            state.reserved -= given;
            if self.handed {
                state.handed -= given;
            }
            self.bytes = bytes;
            drop(state);
            self.ahead.changed.notify_all();
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Its place among the files to hash.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.keep(0);
    }
}

impl ReadAhead {
    pub fn new(budget: u64) -> Arc<ReadAhead> {
        Arc::new(ReadAhead {
            budget,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        })
    }

    /// No budget: files are read as fast as they can be (`ferry scan`).
    pub fn unbounded() -> Arc<ReadAhead> {
        Self::new(u64::MAX)
    }

    fn locked(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next of `count` files to hash, with nothing reserved yet; none
    /// when every file has been begun.
    pub fn begin_next(self: &Arc<Self>, count: usize) -> Option<Reserved> {
        let mut state = self.locked();
        let position = state.next;
        if position >= count {
            return None;
        }
        state.next += 1;
        Some(Reserved {
            ahead: self.clone(),
            position,
            bytes: 0,
            handed: false,
        })
    }

    /// The scan has taken the hash of the file at `position`: the next
    /// one is the front.
    pub fn taken(&self, position: usize) {
        let mut state = self.locked();
        state.front = state.front.max(position + 1);
        drop(state);
        self.changed.notify_all();
    }

    /// Wakes the threads waiting for the budget (to see a stop).
    pub fn wake(&self) {
        self.changed.notify_all();
    }

    /// Bytes reserved now.
    #[cfg(test)]
    fn reserved(&self) -> u64 {
        self.locked().reserved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    /// A file behind the front waits while the budget is spent; the front
    /// goes on once the upload holds nothing; given-back bytes let the
    /// waiting file go on.
    #[test]
    fn reading_ahead_stays_within_the_budget() {
        let ahead = ReadAhead::new(100);
        let mut first = ahead.begin_next(3).unwrap();
        let mut second = ahead.begin_next(3).unwrap();
        assert!(first.grow(60, &never));
        assert!(second.grow(30, &never));
        assert_eq!(ahead.reserved(), 90);
        // The second is not the front: 90 + 30 > 100, so it waits.
        let waiter = std::thread::spawn(move || {
            assert!(second.grow(30, &never));
            second
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished(), "read past the budget");
        // The front (the first) goes on: the upload holds nothing.
        assert!(first.grow(500, &never));
        first.hand_over();
        ahead.taken(0);
        // The second is the front now, but the upload holds the first's
        // 560 bytes: it still waits.
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            !waiter.is_finished(),
            "the front read past what the upload holds"
        );
        // Sent: its bytes come back, and the second goes on within the budget.
        first.keep(10);
        let second = waiter.join().unwrap();
        assert_eq!((second.bytes(), ahead.reserved()), (60, 70));
        drop(first);
        assert_eq!(ahead.reserved(), 60);
        drop(second);
        assert_eq!(ahead.reserved(), 0);
        assert!(ahead.begin_next(3).is_some());
        assert!(ahead.begin_next(3).is_none());
    }

    /// The front waits while the upload holds bytes, and a stop ends the wait.
    #[test]
    fn the_front_waits_for_the_upload_and_a_stop_ends_the_wait() {
        let ahead = ReadAhead::new(10);
        let mut sent = ahead.begin_next(2).unwrap();
        assert!(sent.grow(10, &never));
        ahead.taken(0);
        sent.hand_over();
        let mut front = ahead.begin_next(2).unwrap();
        let stopped = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let waiting = scope
                .spawn(|| front.grow(5, &|| stopped.load(std::sync::atomic::Ordering::Relaxed)));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                !waiting.is_finished(),
                "the front read past what the upload holds"
            );
            stopped.store(true, std::sync::atomic::Ordering::Relaxed);
            ahead.wake();
            assert!(!waiting.join().unwrap());
        });
    }
}
