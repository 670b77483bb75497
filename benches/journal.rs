//! Journal benchmark: 100,000 jobs.
//!
//! Run with `cargo bench --bench journal`. Builds a journal of 100,000 jobs
//! through the library, then measures opening it in-process, `ferry status`
//! and `ferry jobs --json` as whole commands (wall time and peak RSS through
//! GNU time), and what one change costs in bytes and time. Prints a Markdown
//! table for BENCHMARKS.md.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ferry::journal::job::{Destination, JobId, MediaKind, Protocol, Resource, Session};
use ferry::journal::paths::JournalPath;
use ferry::journal::store::{Durability, OpenOptions, Store};

const JOBS: usize = 100_000;

fn resource(i: usize) -> Resource {
    Resource {
        root: JournalPath::from("/home/user/Pictures"),
        path: JournalPath::from(format!("2024/{:02}/IMG_{i:06}.HEIC", i % 12 + 1).as_str()),
        size: 2_000_000 + (i as u64 * 7919) % 3_000_000,
        mtime_ns: 1_700_000_000_000_000_000 + i as i64,
        inode: Some(i as u64 + 1000),
        sha256: ferry::digest::Sha256::from_hex(&format!(
            "{:064x}",
            i as u128 * 0x9e37_79b9_7f4a_7c15
        ))
        .unwrap(),
        taken: None,
        target: None,
        asset: None,
        kind: MediaKind::Image,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median wall time and the largest peak RSS (KiB) of a command over `runs`.
fn measure_command(ferry: &str, journal: &Path, args: &[&str], runs: usize) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(ferry)
            .arg("--journal")
            .arg(journal)
            .args(args)
            .stdout(std::process::Stdio::null())
            .output()
            .expect("GNU time at /usr/bin/time");
        times.push(started.elapsed());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let kib: u64 = stderr.lines().last().unwrap().trim().parse().unwrap();
        peak = peak.max(kib);
    }
    (median(times), peak)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let ferry = env!("CARGO_BIN_EXE_ferry");
    let destination = Destination::new("http://127.0.0.1:8080/files", Protocol::Auto);

    let started = Instant::now();
    let ids: Vec<JobId> = {
        let mut store = Store::open(&journal, &OpenOptions::default()).unwrap();
        let ids = (0..JOBS)
            .map(|i| {
                store
                    .create(resource(i), destination.clone(), Durability::Lazy)
                    .unwrap()
            })
            .collect();
        store.checkpoint().unwrap();
        ids
    };
    let build = started.elapsed();
    let file_size = std::fs::metadata(&journal).unwrap().len();

    let open_times: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let store = Store::open_read_only(&journal).unwrap();
            assert_eq!(store.jobs().len(), JOBS);
            started.elapsed()
        })
        .collect();
    let open_write_times: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let store = Store::open(&journal, &OpenOptions::default()).unwrap();
            assert_eq!(store.jobs().len(), JOBS);
            started.elapsed()
        })
        .collect();

    let (status_time, status_kib) = measure_command(ferry, &journal, &["status"], 5);
    let (jobs_time, jobs_kib) = measure_command(ferry, &journal, &["jobs", "--json"], 3);

    let mut store = Store::open(&journal, &OpenOptions::default()).unwrap();
    let handle = store.journal_handle().unwrap();
    let before_len = std::fs::metadata(&journal).unwrap().len();
    let changes = 1000;
    let started = Instant::now();
    for id in ids.iter().take(changes) {
        store
            .apply(id, Durability::Lazy, |job| {
                job.register(Session {
                    url: format!("http://127.0.0.1:8080/files/{id}"),
                    offset: 0,
                    protocol: None,
                    id: None,
                    ..Default::default()
                })
            })
            .unwrap();
    }
    let lazy_each = started.elapsed() / changes as u32;
    let started = Instant::now();
    for id in ids.iter().skip(changes).take(changes) {
        store
            .apply(id, Durability::Durable, |job| job.cancel())
            .unwrap();
    }
    let durable_each = started.elapsed() / changes as u32;
    let bytes_per_change = handle.bytes_appended() / (2 * changes as u64);
    let growth = std::fs::metadata(&journal).unwrap().len() - before_len;
    assert_eq!(growth, handle.bytes_appended(), "a change rewrote the file");

    println!("| measure (100,000 jobs) | result |");
    println!("|---|---|");
    println!(
        "| build the journal through the library (no fsync per job) | {:.2} s |",
        build.as_secs_f64()
    );
    println!("| journal size | {:.1} MiB |", file_size as f64 / 1048576.0);
    println!(
        "| open read-only, in-process (median of 5) | {:.3} s |",
        median(open_times).as_secs_f64()
    );
    println!(
        "| open with lock, in-process (median of 5) | {:.3} s |",
        median(open_write_times).as_secs_f64()
    );
    println!(
        "| `ferry status` wall time (median of 5) | {:.3} s |",
        status_time.as_secs_f64()
    );
    println!(
        "| `ferry status` peak RSS | {:.1} MiB |",
        status_kib as f64 / 1024.0
    );
    println!(
        "| `ferry jobs --json` wall time (median of 3) | {:.3} s |",
        jobs_time.as_secs_f64()
    );
    println!(
        "| `ferry jobs --json` peak RSS | {:.1} MiB |",
        jobs_kib as f64 / 1024.0
    );
    println!("| bytes appended per change | {bytes_per_change} B |");
    println!(
        "| file growth over {} changes = bytes appended | {growth} B |",
        2 * changes
    );
    println!(
        "| one change, lazy (append only) | {:.1} µs |",
        lazy_each.as_secs_f64() * 1e6
    );
    println!(
        "| one change, durable (append + fsync) | {:.1} µs |",
        durable_each.as_secs_f64() * 1e6
    );
}
