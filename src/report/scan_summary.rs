//! The line that ends a scan (more lines at a terminal when it is long):
//! what was found, then what hashing cost. Clauses that would say 0 are
//! left out, so the usual line fits a terminal.

use super::rate_text;
use crate::format::{count, human_bytes};
use crate::scan::ScanSummary;

/// One line, for logs and pipes, where a line is a record.
pub fn scan_summary_text(summary: &ScanSummary, dry_run: bool) -> String {
    wrapped(&clauses(summary, dry_run), usize::MAX)
}

/// At a terminal: lines of at most `SUMMARY_WIDTH` columns.
pub fn scan_summary_lines(summary: &ScanSummary, dry_run: bool) -> String {
    wrapped(&clauses(summary, dry_run), SUMMARY_WIDTH)
}

/// What was found, then what hashing cost, each with its separator.
fn clauses(summary: &ScanSummary, dry_run: bool) -> Vec<(&'static str, String)> {
    let verb = if dry_run { "would queue" } else { "queued" };
    // What was found, then what the hashing cost; a clause that would say 0
    // is left out, and a line too wide for a terminal breaks in two.
    let found = [
        (
            1,
            format!(
                "scanned {}: {verb} {} ({})",
                count(summary.seen, "file"),
                summary.queued,
                human_bytes(summary.queued_bytes)
            ),
        ),
        (summary.duplicates, count(summary.duplicates, "duplicate")),
        (
            summary.known,
            format!("{} already queued or uploaded", summary.known),
        ),
        (
            summary.failed_before,
            failed_before_text(summary.failed_before),
        ),
        (
            summary.skipped,
            format!("{} skipped by rule", summary.skipped),
        ),
        (summary.warnings, count(summary.warnings, "warning")),
        (
            summary.superseded,
            format!("{} superseded", summary.superseded),
        ),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0);
    let mut cost = Vec::new();
    if summary.hashed > 0 {
        cost.push(format!(
            "hashed {} ({} at {})",
            count(summary.hashed, "file"),
            human_bytes(summary.hashed_bytes),
            rate_text(summary.hashed_bytes, summary.hash_seconds),
        ));
    }
    if summary.unchanged > 0 {
        cost.push(format!("{} unchanged", summary.unchanged));
    }
    let mut clauses: Vec<(&'static str, String)> = Vec::new();
    for (_, clause) in found {
        clauses.push((if clauses.is_empty() { "" } else { ", " }, clause));
    }
    for (at, clause) in cost.into_iter().enumerate() {
        clauses.push((if at == 0 { "; " } else { ", " }, clause));
    }
    clauses
}

/// Files whose jobs failed in an earlier run: a scan does not queue them
/// again, so it must not count them as queued or uploaded.
pub fn failed_before_text(n: u64) -> String {
    let (them, one) = if n == 1 {
        ("it", "its job")
    } else {
        ("them", "their jobs")
    };
    format!(
        "{n} not sent again, as {one} failed before (`ferry jobs --state failed` lists {them}, `ferry retry ID` queues one again)"
    )
}

/// The widest a summary line gets before the next clause goes on a line of
/// its own: a 120-column terminal, with room to spare.
const SUMMARY_WIDTH: usize = 118;

/// Clauses with their separators, filled into lines of at most
/// `width` columns; a continued line is indented by two.
fn wrapped(clauses: &[(&str, String)], width: usize) -> String {
    let mut text = String::new();
    let mut line = 0;
    for (separator, clause) in clauses {
        if line > 0 && line + separator.len() + clause.len() > width {
            text.push_str(separator.trim_end());
            text.push_str("\n  ");
            line = 2;
        } else {
            text.push_str(separator);
            line += separator.len();
        }
        text.push_str(clause);
        line += clause.len();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_clauses_are_left_out_and_a_long_line_breaks_in_two() {
        let small = ScanSummary {
            seen: 4,
            queued: 2,
            queued_bytes: 3 << 20,
            duplicates: 1,
            skipped: 1,
            hashed: 3,
            hashed_bytes: 4 << 20,
            hash_seconds: 0.5,
            ..ScanSummary::default()
        };
        assert_eq!(
            scan_summary_text(&small, false),
            "scanned 4 files: queued 2 (3.0 MiB), 1 duplicate, 1 skipped by rule; \
             hashed 3 files (4.0 MiB at 8.0 MiB/s)"
        );
        let big = ScanSummary {
            seen: 1_234_567,
            queued: 123_456,
            queued_bytes: 900 << 30,
            duplicates: 12_345,
            known: 1_000_000,
            skipped: 98_765,
            warnings: 12,
            superseded: 3,
            hashed: 123_456,
            hashed_bytes: 900 << 30,
            hash_seconds: 600.0,
            unchanged: 1_000_000,
            ..ScanSummary::default()
        };
        assert_eq!(scan_summary_text(&big, true).lines().count(), 1);
        let text = scan_summary_lines(&big, true);
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.lines().nth(1).unwrap().starts_with("  "), "{text}");
        assert!(text.lines().all(|line| line.len() <= 120), "{text}");
    }
}
