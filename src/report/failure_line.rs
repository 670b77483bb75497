//! A job as the failures list shows it, on one line: its ID, its file, the
//! reason (said once, and with control characters escaped) and its
//! attempts, with what a retry could do.

use crate::digest::FileStat;
use crate::format::count;
use crate::journal::job::{Job, JobError};
use crate::journal::paths::{Readable, escape_controls};

use super::error_text;

/// A job as the failures list shows it: ID, path, reason, attempts.
pub(super) fn failure_line(job: &Job) -> String {
    let source = job.resource.source();
    let reason = job
        .error
        .as_ref()
        .map_or("no reason recorded".to_owned(), error_text);
    // The line names the file already; a reason that starts with it again
    // ("/card/IMG.jpg: changed since scan") says it once.
    let named = format!("{}: ", source.display());
    let reason = reason.strip_prefix(&named).unwrap_or(&reason).to_owned();
    let mut attempts = count(u64::from(job.attempts), "attempt");
    let file_gone = || !source.exists();
    // Edited in place with its size, mtime and inode kept: a scan trusts
    // the hash it has, so only a rehash reads the new content.
    let stat_as_scanned =
        || std::fs::metadata(&source).is_ok_and(|meta| FileStat::of(&meta) == job.resource.stat());
    match job.error.as_ref().is_some_and(JobError::is_changed_file) {
        true if file_gone() => attempts.push_str(
            "; the file is gone, so a retry cannot send it: `ferry ack` takes it off the list",
        ),
        true if stat_as_scanned() => attempts.push_str(
            "; not worth a retry: its size, modification time and inode are still the scanned ones, so only `ferry sync --rehash` of its folder reads it again",
        ),
        true => attempts
            .push_str("; not worth a retry: the next `ferry sync` of its folder scans it again"),
        false => {}
    }
    format!(
        "  {}  {}  {} ({attempts})",
        job.id.short(),
        Readable(&source),
        escape_controls(&reason)
    )
}
