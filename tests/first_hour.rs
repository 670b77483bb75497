//! A new user's mistakes, met once and said once (issue 26): a destination
//! that takes no uploads stops the run in one line with the jobs left
//! pending, reasons do not repeat themselves, and the failures list names
//! each file once.

use std::process::{Command, Stdio};

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::upload::Peer;
use crate::util::{TestEnv, content, stderr_of, stdout_of, write_file};

fn card(env: &TestEnv) -> std::path::PathBuf {
    let source = env.path().join("card");
    for n in 0..4u32 {
        write_file(&source.join(format!("IMG_{n}.jpg")), &content(n + 20, 3000));
    }
    source
}

fn pending_jobs(env: &TestEnv) -> usize {
    let jobs = env.ferry().args(["jobs", "--json"]).output().unwrap();
    stdout_of(&jobs).matches(r#""state":"pending""#).count()
}

/// `python3 -m http.server` takes no PUT (501) and a wrong path on ferry
/// serve is a 404 at creation: each stops the run at the first file with
/// one line that has no error page in it, and all 4 jobs stay pending
/// (before: every file failed on its own with the page's words).
#[test]
fn a_destination_that_takes_no_uploads_stops_the_run_once_and_keeps_the_jobs() {
    let env = TestEnv::new();
    let source = card(&env);
    let mut command = Command::new("python3");
    command
        .args([
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(env.path())
        .stdout(Stdio::null());
    let http_server = Peer::start(command, "/", &env.path().join("http-server.log"));
    let server = Server::start(&env.path().join("dest"), &[]);
    for (journal, to) in [
        ("python.jsonl", http_server.url.clone()),
        ("wrong.jsonl", server.url("/wrong/")),
    ] {
        let journal = env.path().join(journal);
        let output = env
            .ferry_bare()
            .arg("--journal")
            .arg(&journal)
            .arg("sync")
            .arg(&source)
            .args(["--to", &to])
            .output()
            .unwrap();
        let text = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        let errors: Vec<&str> = text.lines().filter(|l| l.contains("HTTP")).collect();
        assert_eq!(errors.len(), 1, "{text}");
        assert!(errors[0].contains("no more were tried"), "{text}");
        let lower = text.to_ascii_lowercase();
        assert!(
            !lower.contains("<html") && !lower.contains("error response"),
            "{text}"
        );
        assert!(!text.contains("failed:"), "{text}");
        let jobs = env
            .ferry_bare()
            .arg("--journal")
            .arg(&journal)
            .args(["jobs", "--json"])
            .output()
            .unwrap();
        let jobs = stdout_of(&jobs);
        assert_eq!(jobs.matches(r#""state":"pending""#).count(), 4, "{jobs}");
    }
    assert_eq!(pending_jobs(&env), 0);
}

/// A failed job's reason says its HTTP status once in `ferry jobs`, and
/// the failures list names a changed file once per line (its reason began
/// with the full path again).
#[test]
fn reasons_say_the_status_once_and_the_failures_list_names_a_file_once() {
    let env = TestEnv::new();
    let source = card(&env);
    let server = Server::start(&env.path().join("dest"), &[]);
    // The probe passes; every creation is answered 422.
    let mut faults = vec![Fault::Pass];
    faults.extend(std::iter::repeat_n(Fault::Status(422), 4));
    let proxy = FaultProxy::start(server.address, &faults);
    let refused = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args([
            "--to",
            &format!("http://{}/files/", proxy.address),
            "--retries",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", stderr_of(&refused));
    let jobs = stdout_of(&env.ferry().arg("jobs").output().unwrap());
    let failed: Vec<&str> = jobs.lines().filter(|l| l.contains("failed")).collect();
    assert_eq!(failed.len(), 4, "{jobs}\n{:?}", proxy.requests());
    for line in failed {
        assert_eq!(line.matches("HTTP 422").count(), 1, "{line}");
    }

    let other = env.path().join("other");
    write_file(&other.join("a.jpg"), &content(40, 5000));
    let journal = env.path().join("changed.jsonl");
    let ferry = |args: &[&str]| {
        env.ferry_bare()
            .arg("--journal")
            .arg(&journal)
            .args(args)
            .output()
            .unwrap()
    };
    let scanned = ferry(&[
        "scan",
        other.to_str().unwrap(),
        "--to",
        &server.url("/files/"),
    ]);
    assert!(scanned.status.success(), "{}", stderr_of(&scanned));
    write_file(&other.join("a.jpg"), &content(41, 5000));
    let upload = ferry(&["upload"]);
    let text = stderr_of(&upload);
    let path = other.join("a.jpg").display().to_string();
    let listed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("changed since scan"))
        .collect();
    assert!(!listed.is_empty(), "{text}");
    for line in listed {
        assert_eq!(line.matches(&path).count(), 1, "{line}");
    }
}
