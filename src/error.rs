//! Exit codes, decided in one place from the error that ended the run.
//!
//! Work code returns `anyhow::Error`; the few errors that mean something to a
//! script (usage, a locked journal) are typed so this module can find them.

use crate::journal::lock::LockedError;

pub const SUCCESS: u8 = 0;
pub const RUNTIME_ERROR: u8 = 1;
pub const USAGE_ERROR: u8 = 2;
pub const JOBS_FAILED: u8 = 3;
pub const JOURNAL_LOCKED: u8 = 4;
pub const INTERRUPTED: u8 = 130;

/// The user asked for something that cannot be done as asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<LockedError>().is_some() {
        JOURNAL_LOCKED
    } else if error.downcast_ref::<UsageError>().is_some() {
        USAGE_ERROR
    } else {
        RUNTIME_ERROR
    }
}

/// One line: the error and its causes joined by ": ", each cause once (an
/// error that already shows its source in its own text is not repeated).
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_shown_is_not_repeated() {
        let io = std::io::Error::other("File too large");
        let error = anyhow::Error::from(io).context("journal.jsonl: File too large");
        assert_eq!(one_line(&error), "journal.jsonl: File too large");
        let error = anyhow::anyhow!("disk").context("cannot write");
        assert_eq!(one_line(&error), "cannot write: disk");
    }
}
