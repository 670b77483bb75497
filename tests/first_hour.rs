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
        assert!(errors[0].contains("so the run stopped"), "{text}");
        assert!(
            errors[0].contains(&format!("--pending --to {to}")),
            "{text}"
        );
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

/// Errors that pointed the wrong way now name what is at fault: the
/// variable behind a bad value, the journal and how to choose another, a
/// journal path with nothing there, a probe that sent no token, a local
/// folder a sync would create, and a dry run to a server it cannot reach.
#[test]
fn errors_name_what_is_at_fault() {
    let env = TestEnv::new();
    let run = |command: &mut Command| {
        let output = command.output().unwrap();
        (output.status.code(), stderr_of(&output), stdout_of(&output))
    };
    let (code, text, _) = run(env.ferry().env("FERRY_CONCURRENCY", "abc").arg("upload"));
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.starts_with("ferry: error: FERRY_CONCURRENCY=abc: "),
        "{text}"
    );

    let file = env.path().join("a-file");
    write_file(&file, b"not a folder");
    let source = card(&env);
    let (code, text, _) = run(env
        .ferry_bare()
        .arg("--journal")
        .arg(file.join("journal.jsonl"))
        .arg("sync")
        .arg(&source)
        .args(["--to", env.path().join("dest").to_str().unwrap()]));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot use the journal at"), "{text}");
    assert!(text.contains("--journal PATH or FERRY_JOURNAL"), "{text}");

    let (code, text, out) = run(env
        .ferry_bare()
        .args(["status", "--journal"])
        .arg(env.path().join("typo.jsonl")));
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("no journal at"), "{text}");
    assert_eq!(out, "");

    let token = env.path().join("token");
    write_file(&token, b"s3cret-token");
    let server = Server::start(
        &env.path().join("served"),
        &["--token-file", token.to_str().unwrap()],
    );
    let (code, text, out) = run(env.ferry().args(["probe", &server.url("/files/")]));
    assert_eq!(code, Some(1), "{text}");
    assert!(out.contains("credentials needed, none sent"), "{out}");
    assert!(out.contains("auto picks:     cannot tell"), "{out}");
    assert!(text.contains("none were sent"), "{text}");

    let later = env.path().join("not-yet/photos");
    let (code, text, out) = run(env.ferry().arg("probe").arg(&later));
    assert_eq!(code, Some(0), "{text}");
    assert!(out.contains("not there yet; a sync creates it"), "{out}");

    let closed = crate::util::ClosedPort::new();
    let (code, text, _) = run(env
        .ferry()
        .args(["sync", "--dry-run"])
        .arg(&source)
        .args(["--to", &format!("http://127.0.0.1:{}/files/", closed.port)]));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot reach"), "{text}");
}

/// Counts of one read in the singular ("1 duplicate", "uploaded 1 file",
/// "1 failed job on the failures list"), not "1 duplicates".
#[test]
fn one_of_a_thing_is_singular() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    write_file(&source.join("a.jpg"), &content(60, 4000));
    write_file(&source.join("copy/a.jpg"), &content(60, 4000));
    let output = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", env.path().join("dest").to_str().unwrap()])
        .output()
        .unwrap();
    let text = stderr_of(&output);
    assert!(text.contains("scanned 2 files: queued 1 ("), "{text}");
    assert!(text.contains(", 1 duplicate, "), "{text}");
    assert!(text.contains("hashed 2 files"), "{text}");
    assert!(text.contains("uploaded 1 file ("), "{text}");
    assert!(
        !text.contains("1 duplicates") && !text.contains("1 files"),
        "{text}"
    );
}

/// What was left out can be seen: a dry run lists each skipped file with
/// its rule, each duplicate with the file it duplicates, and each file it
/// would queue relative to the scanned folder with its target; `-v` on a
/// real scan names the skipped files and duplicates too (before: only the
/// counts, and absolute source paths).
#[test]
fn a_dry_run_and_verbose_scan_say_what_was_left_out_and_where_files_go() {
    let env = TestEnv::new();
    let card = env.path().join("Card");
    write_file(&card.join("DCIM/IMG_1.JPG"), &content(70, 3000));
    write_file(&card.join("DCIM/IMG_1 copy.JPG"), &content(70, 3000));
    write_file(&card.join("MISC/notes.txt"), b"a note");
    write_file(&card.join(".hidden.jpg"), &content(71, 100));
    let backup = env.path().join("Backup");
    let dry = env
        .ferry()
        .arg("sync")
        .arg(&card)
        .arg("--to")
        .arg(&backup)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", stderr_of(&dry));
    let out = stdout_of(&dry);
    assert!(out.contains("skipped .hidden.jpg: hidden"), "{out}");
    assert!(
        out.contains("skipped MISC/notes.txt: not a photo or video"),
        "{out}"
    );
    let queued: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("would queue "))
        .collect();
    assert_eq!(queued.len(), 1, "{out}");
    let (first, twin) = match queued[0].contains("IMG_1 copy.JPG") {
        true => ("IMG_1 copy.JPG", "IMG_1.JPG"),
        false => ("IMG_1.JPG", "IMG_1 copy.JPG"),
    };
    let target = backup.join("DCIM").join(first);
    assert!(
        queued[0].starts_with(&format!(
            "would queue DCIM/{first} (2.9 KiB) to {}",
            target.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "duplicate DCIM/{twin}: same content as DCIM/{first}"
        )),
        "{out}"
    );

    let verbose = env
        .ferry()
        .args(["-v", "scan"])
        .arg(&card)
        .arg("--to")
        .arg(&backup)
        .output()
        .unwrap();
    let text = stderr_of(&verbose);
    assert!(
        text.contains("skipped MISC/notes.txt: not a photo or video"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "duplicate DCIM/{twin}: same content as DCIM/{first}"
        )),
        "{text}"
    );
    let quiet = env
        .ferry()
        .arg("scan")
        .arg(&card)
        .arg("--to")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        !stderr_of(&quiet).contains("skipped MISC"),
        "{}",
        stderr_of(&quiet)
    );
}

/// The README's quick start, run as written: its lines in one shell with
/// ferry on PATH, HOME in a temp folder holding a `Pictures` folder, and
/// `cargo install` left out (the binary under test is on PATH instead).
/// One thing differs from a person at a terminal: the shell waits for the
/// backgrounded serve to listen, as a person would before typing on. Port
/// 8920 is the README's; tests otherwise take ports from the kernel's
/// ephemeral range (32768 and up), so none of them holds it.
#[test]
fn the_readme_quick_start_runs_as_written() {
    let env = TestEnv::new();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("<!-- quick-start -->\n```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README has a quick start");
    let mut script = String::from("set -e\n");
    let mut shown = 0;
    for line in block.lines() {
        let command = line.split("  #").next().unwrap().trim();
        shown += 1;
        if command.starts_with("cargo install") {
            continue;
        }
        script.push_str(command);
        script.push('\n');
        if command.ends_with('&') {
            script.push_str(
                "server=$!; trap 'kill $server' EXIT\n\
                 for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/8920) 2>/dev/null && break; sleep 0.1; done\n",
            );
        }
    }
    assert!(shown <= 10, "the quick start has {shown} lines");
    for word in [
        "ferry serve",
        "ferry probe",
        "ferry sync",
        "ferry status",
        "ferry verify",
    ] {
        assert!(script.contains(word), "the quick start lacks {word}");
    }
    let pictures = env.path().join("home/Pictures");
    for n in 0..3u32 {
        write_file(
            &pictures.join(format!("2024/IMG_{n}.jpg")),
            &content(n + 60, 5000),
        );
    }
    write_file(&pictures.join("clip.mov"), &content(70, 20_000));
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_ferry"))
        .parent()
        .unwrap()
        .to_owned();
    // bash for /dev/tcp; the scrubbed environment of `ferry_bare`.
    let home = env.path().join("home");
    let output = Command::new("bash")
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", &home)
        .current_dir(&home)
        .args(["-c", &script])
        .output()
        .unwrap();
    let said = format!("{}{}", stdout_of(&output), stderr_of(&output));
    assert!(output.status.success(), "{script}\n{said}");
    assert!(said.contains("would queue"), "{said}");
    for name in ["2024/IMG_0.jpg", "2024/IMG_2.jpg", "clip.mov"] {
        let source = std::fs::read(pictures.join(name)).unwrap();
        for dest in ["ferry-inbox", "ferry-backup"] {
            let copy = std::fs::read(env.path().join("home").join(dest).join(name));
            assert_eq!(copy.ok().as_ref(), Some(&source), "{dest}/{name}\n{said}");
        }
    }
    let journal = env
        .path()
        .join("home/.local/share/ferry/journals/default.jsonl");
    assert!(journal.exists(), "the journal is not where the README says");
}

/// A copy to a local folder says that it is copying, and from where, as an
/// HTTP upload does: its bar no longer says `starting` until the copy is
/// whole (the bar's words come from these events, as the JSON's do).
#[test]
fn a_local_copy_reports_its_phases() {
    let env = TestEnv::new();
    let source = card(&env);
    let output = env
        .ferry()
        .args(["sync", "--json"])
        .arg(&source)
        .arg("--to")
        .arg(env.path().join("backup"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let phases: Vec<String> = stdout_of(&output)
        .lines()
        .filter(|line| line.contains(r#""type":"phase""#))
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            format!(
                "{} {}",
                event["path"].as_str().unwrap(),
                event["phase"].as_str().unwrap()
            )
        })
        .collect();
    for n in 0..4 {
        let at = |phase: &str| {
            let wanted = format!("/IMG_{n}.jpg {phase}");
            phases.iter().position(|p| p.ends_with(&wanted))
        };
        let (uploading, verifying) = (at("uploading"), at("verifying"));
        assert!(
            uploading.is_some() && uploading < verifying,
            "IMG_{n}.jpg: {phases:?}"
        );
    }
}

/// "nothing to upload" counts the jobs of the folder and destination the
/// sync was asked about, not the whole journal (before: 5 here, then 7).
#[test]
fn nothing_to_upload_counts_only_the_folder_and_destination_asked_about() {
    let env = TestEnv::new();
    let (a, b) = (env.path().join("a"), env.path().join("b"));
    for n in 0..3u32 {
        write_file(&a.join(format!("A_{n}.jpg")), &content(n + 80, 2000));
    }
    write_file(&a.join("sub/A_sub.jpg"), &content(85, 2000));
    for n in 0..2u32 {
        write_file(&b.join(format!("B_{n}.jpg")), &content(n + 90, 2000));
    }
    let sync = |folder: &std::path::Path, to: &str| {
        let output = env
            .ferry()
            .arg("sync")
            .arg(folder)
            .arg("--to")
            .arg(env.path().join(to))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        stderr_of(&output)
    };
    sync(&a, "backup");
    sync(&b, "backup");
    sync(&b, "other");
    let again = sync(&b, "backup");
    assert!(
        again.contains("nothing to upload: no pending jobs (2 jobs already finished)"),
        "{again}"
    );
    // A folder inside one synced before: its own files count.
    let inside = sync(&a.join("sub"), "backup");
    assert!(
        inside.contains("nothing to upload: no pending jobs (1 job already finished)"),
        "{inside}"
    );
}

/// A file whose job failed is not counted as "already queued or uploaded"
/// by a later sync, acknowledged or not: it is neither, and the sync does
/// not send it again. Here ferry serve refuses a file over `--max-size`;
/// before, the next sync said "2 already queued or uploaded" of a card
/// where one of the two had never arrived.
#[test]
fn a_file_whose_job_failed_is_not_counted_as_uploaded_by_the_next_sync() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_file(&card.join("IMG_0001.JPG"), &content(41, 300_000));
    write_file(&card.join("IMG_0002.JPG"), &content(42, 3000));
    let server = Server::start(&env.path().join("dest"), &["--max-size", "100k"]);
    let url = server.url("/files/");
    let sync = || {
        env.ferry()
            .arg("sync")
            .arg(&card)
            .args(["--to", &url])
            .output()
            .unwrap()
    };
    let first = sync();
    assert_eq!(first.status.code(), Some(3), "{}", stderr_of(&first));
    for acknowledged in [false, true] {
        let again = sync();
        let said = stderr_of(&again);
        assert!(
            said.contains(
                "1 already queued or uploaded, 1 not sent again, as its job failed before \
                 (`ferry jobs --state failed` lists it, `ferry retry ID` queues one again)"
            ),
            "acknowledged {acknowledged}: {said}"
        );
        assert!(!said.contains("2 already queued"), "{said}");
        let code = if acknowledged { 0 } else { 3 };
        assert_eq!(again.status.code(), Some(code), "{said}");
        let acked = env.ferry().args(["ack", "--failed"]).output().unwrap();
        assert!(acked.status.success(), "{}", stderr_of(&acked));
    }
    let scan = env
        .ferry()
        .args(["--json", "scan"])
        .arg(&card)
        .args(["--to", &url])
        .output()
        .unwrap();
    let events = stdout_of(&scan);
    assert!(
        events.contains(r#""known":1,"failed_before":1"#),
        "{events}"
    );
    assert!(!server.dir.join("IMG_0001.JPG").exists());
}

/// A URL spelled without the trailing slash of the one the journal's jobs
/// go to names the same place on the server, but another destination to
/// the journal: the scan says so, and which spelling to give, instead of
/// sending the files again in silence.
#[test]
fn a_url_that_differs_only_by_its_trailing_slash_is_named_before_files_go_again() {
    let env = TestEnv::new();
    let source = card(&env);
    let server = Server::start(&env.path().join("dest"), &[]);
    let with_slash = server.url("/files/photos/");
    let sync = |to: &str| {
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", to])
            .output()
            .unwrap()
    };
    let first = sync(&with_slash);
    assert!(first.status.success(), "{}", stderr_of(&first));
    let without = with_slash.trim_end_matches('/').to_owned();
    let again = sync(&without);
    let said = stderr_of(&again);
    assert!(
        said.contains(&format!(
            "warning: {without}: the journal's jobs go to {with_slash}, which differs only by its trailing slash"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("(give {with_slash} to avoid that)")),
        "{said}"
    );
    assert_eq!(again.status.code(), Some(3), "{said}");
    let same = sync(&with_slash);
    assert!(
        !stderr_of(&same).contains("trailing slash"),
        "{}",
        stderr_of(&same)
    );
    assert!(same.status.success());
}
