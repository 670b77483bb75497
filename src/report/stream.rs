//! Writing to stdout and stderr when the reader may have gone away.
//!
//! `println!` panics when a pipe's reader has closed (`ferry jobs | head
//! -1`). Every line ferry prints goes through here instead. A closed pipe is
//! noted once: listing commands then end quietly, as ripgrep and fd do, and
//! the upload engine stops as a first Ctrl-C would, so the jobs stay
//! resumable and the journal consistent. Other write errors are ignored for
//! stderr (there is nowhere left to report them) and returned for stdout;
//! the first is also kept (`lost_output`), so that a command whose events
//! went on regardless (`--json sync` into a full disk) does not end as if
//! its reader had them all.

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);
/// The first error writing stdout other than a closed pipe.
static LOST: Mutex<Option<String>> = Mutex::new(None);

/// What kept some of stdout from being written, other than a reader that
/// went away: the command's output is incomplete.
pub fn lost_output() -> Option<String> {
    LOST.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Whether a reader of stdout or stderr went away.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

fn noted<T>(result: io::Result<T>) -> io::Result<T> {
    if let Err(error) = &result
        && error.kind() == io::ErrorKind::BrokenPipe
    {
        CLOSED.store(true, Ordering::Relaxed);
    }
    result
}

/// Writes `text` to stdout as it is, and flushes.
pub fn out(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    let written = noted(
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush()),
    );
    written.map_err(|error| {
        if error.kind() == io::ErrorKind::BrokenPipe {
            return error;
        }
        let said = format!("could not write to standard output: {error}");
        let mut lost = LOST.lock().unwrap_or_else(|p| p.into_inner());
        lost.get_or_insert_with(|| said.clone());
        io::Error::new(error.kind(), said)
    })
}

/// Writes one line to stdout.
pub fn out_line(line: &str) -> io::Result<()> {
    out(&format!("{line}\n"))
}

/// Writes `text` to stderr as it is (a line redrawn in place), and flushes.
pub fn err(text: &str) {
    let mut stderr = io::stderr().lock();
    let _ = noted(
        stderr
            .write_all(text.as_bytes())
            .and_then(|()| stderr.flush()),
    );
}

/// Writes one line to stderr; a failure is noted, never fatal.
pub fn err_line(line: &str) {
    let mut stderr = io::stderr().lock();
    let _ = noted(writeln!(stderr, "{line}"));
}
