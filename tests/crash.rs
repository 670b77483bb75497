//! SIGKILL at random moments while a child process writes to a journal: every
//! change reported durable before the kill is there when the journal reopens.
//!
//! The child is this test binary running `journal_writer_child` with an
//! environment variable naming the journal; without it, the same test runs a
//! short in-process version of the writer and checks it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry::journal::job::JobId;
use ferry::journal::store::{Durability, OpenOptions, Store};

use crate::util::{TestEnv, destination, resource};

const CHILD_JOURNAL: &str = "FERRY_TEST_CRASH_JOURNAL";
const REPORT: &str = "DURABLE";

/// Writes from four threads that share fsyncs; after each durable change,
/// reports `DURABLE <id> <attempts>`. Stops after `changes` or `deadline`.
fn write_changes(
    path: &Path,
    changes: usize,
    deadline: Duration,
    report: &mut (dyn FnMut(&JobId, u32) + Send),
) {
    let store = Store::open(path, &OpenOptions::default()).unwrap();
    let journal = store.journal_handle().unwrap();
    let store = Arc::new(Mutex::new(store));
    let report = Mutex::new(report);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..changes / 4 {
                    if started.elapsed() > deadline {
                        return;
                    }
                    let (ticket, id, attempts) = {
                        let mut store = store.lock().unwrap();
                        let existing = store.jobs().len();
                        if existing == 0 || fastrand::u8(..5) == 0 {
                            let name = format!("{}.jpg", fastrand::u32(..));
                            let size = fastrand::u64(..1 << 30);
                            let id = store
                                .create(resource(&name, size), destination(), Durability::Lazy)
                                .unwrap();
                            let ticket = store
                                .apply(&id, Durability::Lazy, |job| job.start_attempt())
                                .unwrap();
                            (ticket, id, 1)
                        } else {
                            let id = store.jobs()[fastrand::usize(..existing)].id.clone();
                            let ticket = store
                                .apply(&id, Durability::Lazy, |job| job.start_attempt())
                                .unwrap();
                            (ticket, id.clone(), store.job(&id).unwrap().attempts)
                        }
                    };
                    journal.sync(ticket).unwrap();
                    (report.lock().unwrap())(&id, attempts);
                }
            });
        }
    });
}

#[test]
fn journal_writer_child() {
    if let Some(path) = std::env::var_os(CHILD_JOURNAL) {
        let stdout = std::io::stdout();
        write_changes(
            Path::new(&path),
            usize::MAX,
            Duration::from_secs(60),
            &mut |id, attempts| {
                let mut out = stdout.lock();
                writeln!(out, "{REPORT} {id} {attempts}").unwrap();
                out.flush().unwrap();
            },
        );
        return;
    }
    let env = TestEnv::new();
    let mut reported = HashMap::new();
    write_changes(
        &env.journal(),
        400,
        Duration::from_secs(60),
        &mut |id, attempts| {
            reported.insert(id.clone(), attempts);
        },
    );
    assert_durable(&env.journal(), &reported);
}

/// Every reported change is in the journal: the job exists and has at least
/// the reported attempts (a later change may have landed unreported).
fn assert_durable(path: &Path, reported: &HashMap<JobId, u32>) {
    // The writer's lock is released when its file closes; a child that
    // another test forks meanwhile holds a copy of the descriptor until it
    // execs, so the lock may outlive the writer by a moment.
    let options = OpenOptions {
        wait_lock: Some(Duration::from_secs(10)),
        ..OpenOptions::default()
    };
    let store = Store::open(path, &options).unwrap();
    for (id, attempts) in reported {
        let job = store
            .job(id)
            .unwrap_or_else(|| panic!("job {id} was reported durable and is gone"));
        assert!(
            job.attempts >= *attempts,
            "job {id}: {attempts} attempts reported durable, {} in the journal",
            job.attempts
        );
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_reported_durable() {
    let env = TestEnv::new();
    let mut reported: HashMap<JobId, u32> = HashMap::new();
    let mut kills_with_reports = 0;
    for round in 0..60 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash::journal_writer_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_JOURNAL, env.journal())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        // What the child said, should it end before its first report.
        let said = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(line) if line.starts_with(REPORT) => {
                        if lines.is_empty() {
                            let _ = first_tx.send(());
                        }
                        lines.push(line);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            lines
        });
        // Most kills land while changes are being written; every sixth lands
        // at a random moment from the start, during opening and compaction.
        if round % 6 != 0
            && let Err(error) = first_rx.recv_timeout(Duration::from_secs(30))
        {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let said = said.join().unwrap();
            panic!("round {round}: the child reported no change ({error}; {status}): {said}");
        }
        std::thread::sleep(Duration::from_millis(fastrand::u64(0..150)));
        child.kill().unwrap();
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        if !lines.is_empty() {
            kills_with_reports += 1;
        }
        for line in lines {
            let mut parts = line.split_whitespace().skip(1);
            let id = JobId::from_string(parts.next().unwrap().to_owned());
            let attempts: u32 = parts.next().unwrap().parse().unwrap();
            let entry = reported.entry(id).or_default();
            *entry = (*entry).max(attempts);
        }
        assert_durable(&env.journal(), &reported);
    }
    assert!(
        kills_with_reports >= 50,
        "only {kills_with_reports} kills came after durable changes"
    );
}
