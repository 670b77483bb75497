//! A job as the failures list shows it, on one line: its ID, its file, the
//! reason (said once, and with control characters escaped) and its
//! attempts, with what a retry could do.

use crate::digest::FileStat;
use crate::format::count;
use crate::journal::job::{Job, JobError};
use crate::journal::paths::{Readable, escape_controls};

use super::error_text;

/// Why a retry of `job` would fail again, when it would: a job whose
/// file changed since its scan sends only the scanned content. Said on
/// the failures list, and by `ferry retry` for each such job it queues.
pub fn retry_cannot_send(job: &Job) -> Option<String> {
    if !job.error.as_ref().is_some_and(JobError::is_changed_file) {
        return None;
    }
    Some(match std::fs::metadata(job.resource.source()) {
        Err(_) => format!(
            "the file is gone, so a retry cannot send it: `ferry ack {}` takes it off the list",
            job.id.short()
        ),
        // Edited in place with its size, mtime and inode kept: a scan
        // trusts the hash it has, so only a rehash reads the new content.
        Ok(meta) if FileStat::of(&meta) == job.resource.stat() => "not worth a retry: its size, modification time and inode are still the scanned ones, so only `ferry sync --rehash` of its folder reads it again".to_owned(),
        Ok(_) => "not worth a retry: the next `ferry sync` of its folder scans it again".to_owned(),
    })
}

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
    if let Some(why) = retry_cannot_send(job) {
        attempts.push_str("; ");
        attempts.push_str(&why);
    }
    format!(
        "  {}  {}  {} ({attempts})",
        job.id.short(),
        Readable(&source),
        escape_controls(&reason)
    )
}
