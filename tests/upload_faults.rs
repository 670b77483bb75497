//! Uploads that go wrong: SIGKILL at random points, a fault-injecting proxy
//! (resets, 503 bursts, 429 with `Retry-After`, stalls), Ctrl-C, refused
//! credentials, a server that speaks no upload protocol, and files that
//! changed after the scan.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ferry::journal::job::State;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::scripted_server::ScriptedServer;
use crate::upload::{BIG, assert_same_tree, run_ok, write_big};
use crate::util::{ClosedPort, TestEnv, content, listening_port, stderr_of, stdout_of, write_file};

const MIB: u64 = 1 << 20;

fn scan(env: &TestEnv, source: &Path, to: &str) {
    run_ok(env.ferry().arg("scan").arg(source).args(["--to", to]));
}

/// Starts `ferry upload ARGS` and SIGKILLs it after a random 150-500 ms,
/// up to `most` times or until a run ends first; `after_kill` runs after each
/// kill. Returns how many kills landed.
pub fn kill_uploads_repeatedly(
    env: &TestEnv,
    args: &[&str],
    rng: &mut fastrand::Rng,
    most: u64,
    mut after_kill: impl FnMut(),
) -> u64 {
    let mut kills = 0;
    while kills < most {
        let mut child = env
            .ferry()
            .arg("upload")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(150..500)));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        after_kill();
    }
    kills
}

pub fn only_job(env: &TestEnv) -> ferry::journal::job::Job {
    let store = ferry::journal::store::Store::open_read_only(&env.journal()).unwrap();
    assert_eq!(store.jobs().len(), 1);
    store.jobs()[0].clone()
}

#[test]
fn sigkill_at_random_points_resumes_and_sends_each_byte_about_once() {
    const CHUNK: u64 = 4 * MIB;
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("long.mov"), BIG, 11);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    // 16 MiB/s: the 100 MiB upload takes about 6 s, so kills land mid-body.
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(16 * MIB));
    scan(&env, &source, &format!("http://{}/files/", proxy.address));

    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut sessions = Vec::new();
    let kills = kill_uploads_repeatedly(&env, &["--chunk-size", "4M"], &mut rng, 12, || {
        if let Some(session) = only_job(&env).session
            && sessions.last() != Some(&session.url)
        {
            sessions.push(session.url);
        }
    });
    run_ok(env.ferry().args(["upload", "--chunk-size", "4M"]));

    assert!(
        kills >= 10,
        "only {kills} kills landed before the upload ended (seed {seed})"
    );
    assert_eq!(only_job(&env).state, State::Succeeded);
    assert_same_tree(&source, &dest);
    assert_eq!(server.log().matches("stored long.mov").count(), 1);
    // Every run after the first resumed the one session (a kill between
    // creation and its fsync may cost one more).
    assert!(sessions.len() <= 2, "sessions {sessions:?} (seed {seed})");
    let forwarded = proxy.forwarded();
    assert!(
        forwarded <= BIG as u64 + kills * CHUNK,
        "sent {forwarded} bytes for {BIG} with {kills} kills (seed {seed})"
    );
}

fn json_events(output: &std::process::Output) -> Vec<serde_json::Value> {
    stdout_of(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn reset_503_burst_429_and_stall_end_in_success_without_resending() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    let size = 8 * MIB;
    write_big(&source.join("clip.mp4"), size as usize, 5);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start(
        server.address,
        &[
            Fault::Pass,                          // OPTIONS
            Fault::Pass,                          // POST: careful creation
            Fault::ResetAfter(300_000),           // PATCH: the connection drops mid-body
            Fault::Status(503),                   // HEAD
            Fault::Status(503),                   // HEAD
            Fault::Status(503),                   // HEAD
            Fault::TooManyRequests(1),            // HEAD
            Fault::Pass,                          // HEAD: 300,000
            Fault::Stall(Duration::from_secs(4)), // PATCH: the server goes silent
        ],
    );
    let output = run_ok(
        env.ferry()
            .arg("--json")
            .arg("sync")
            .arg(&source)
            .args(["--to", &format!("http://{}/files/", proxy.address)])
            .args(["--chunk-size", "2M", "--idle-timeout", "1s", "-j", "1"]),
    );
    assert_eq!(proxy.remaining(), 0);
    assert_same_tree(&source, &dest);
    assert_eq!(proxy.forwarded(), size, "no body byte was sent twice");
    let events = json_events(&output);
    let retries: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["type"] == "retrying").collect();
    assert_eq!(retries.len(), 6, "{events:?}");
    assert!(
        retries
            .iter()
            .any(|e| e["wait_seconds"] == 1.0 && e["reason"].as_str().unwrap().contains("429"))
    );
    assert!(
        retries
            .iter()
            .any(|e| e["reason"].as_str().unwrap().contains("stalled"))
    );
    let succeeded = events.iter().filter(|e| e["type"] == "succeeded").count();
    assert_eq!(succeeded, 1);
}

#[test]
fn many_small_files_through_503_bursts_and_429_all_arrive_once() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    for i in 0..40u32 {
        write_file(
            &source.join(format!("{i:02}.heic")),
            &content(500 + i, 20_000 + i as usize),
        );
    }
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let mut script = vec![Fault::Pass];
    for _ in 0..4 {
        script.extend([
            Fault::Status(503),
            Fault::Status(502),
            Fault::Pass,
            Fault::TooManyRequests(1),
        ]);
    }
    script.push(Fault::ResetAfter(5_000));
    let proxy = FaultProxy::start(server.address, &script);
    let output = run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &format!("http://{}/files/", proxy.address)]),
    );
    assert!(
        stderr_of(&output).contains("uploaded 40 files"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(proxy.remaining(), 0);
    assert_same_tree(&source, &dest);
    assert_eq!(server.log().matches("stored").count(), 40);
}

#[test]
fn ctrl_c_checkpoints_exits_130_and_the_next_run_resumes() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("trip.mov"), 32 << 20, 9);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(8 * MIB));
    scan(&env, &source, &format!("http://{}/files/", proxy.address));
    let child = env
        .ferry()
        .arg("upload")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if only_job(&env).session.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stderr.contains("1 left for the next run"), "{stderr}");
    let job = only_job(&env);
    assert_eq!(job.state, State::Registered);

    let output = run_ok(env.ferry().arg("upload"));
    assert!(stderr_of(&output).contains("uploaded 1 file"));
    assert_same_tree(&source, &dest);
    assert!(
        proxy.forwarded() < (32 << 20) + 4 * MIB,
        "resumed, not restarted"
    );
}

#[test]
fn refused_credentials_stop_the_run_and_the_token_is_never_recorded() {
    const TOKEN: &str = "s3cret-t0ken-value";
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(1, 5000));
    let token_file = env.path().join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &["--token-file", token_file.to_str().unwrap()]);
    let url = server.url("/files/");

    let refused = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &url])
        .output()
        .unwrap();
    let stderr = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("HTTP 401") && stderr.contains("credentials"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    // The sync asked before its scan: nothing was queued.
    assert!(only_job_if_any(&env).is_none());
    // A job queued by a scan stays pending when the upload is refused.
    run_ok(env.ferry().arg("scan").arg(&source).args(["--to", &url]));
    let refused = env.ferry().arg("upload").output().unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", stderr_of(&refused));
    assert_eq!(only_job(&env).state, State::Pending);

    let output = run_ok(
        env.ferry()
            .env("FERRY_TOKEN", TOKEN)
            .arg("--json")
            .arg("upload")
            .args(["-H", "X-Api-Key: another-secret"]),
    );
    assert_eq!(only_job(&env).state, State::Succeeded);
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    for text in [
        &journal,
        &stdout_of(&output),
        &stderr_of(&output),
        &server.log(),
    ] {
        assert!(
            !text.contains(TOKEN) && !text.contains("another-secret"),
            "{text}"
        );
    }
}

#[test]
fn a_server_that_speaks_no_upload_protocol_stops_the_run_in_one_line() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(2, 5000));
    let docroot = env.path().join("www");
    std::fs::create_dir_all(&docroot).unwrap();
    let mut plain = Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(&docroot)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let port = (0..400)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(25));
            listening_port(plain.id())
        })
        .expect("python -m http.server never listened");
    let url = format!("http://127.0.0.1:{port}/upload");
    for protocol in ["ietf", "tus", "auto"] {
        let output = env
            .ferry_bare()
            .arg("--journal")
            .arg(env.path().join(format!("{protocol}.jsonl")))
            .arg("sync")
            .arg(&source)
            .args(["--to", &url, "--protocol", protocol])
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        // The destination refuses uploads: the run stops, the job waits.
        assert_eq!(output.status.code(), Some(1), "{protocol}: {stderr}");
        assert!(!stderr.contains("failed: "), "{stderr}");
        let refused: Vec<&str> = stderr.lines().filter(|l| l.contains("HTTP 501")).collect();
        assert_eq!(refused.len(), 1, "{stderr}");
        assert!(refused[0].contains("Not Implemented"), "{stderr}");
        // An error page is not a reason: neither its markup nor its words.
        assert!(!refused[0].contains("<html"), "{stderr}");
        assert!(!refused[0].contains("Error response"), "{stderr}");
        assert!(refused[0].len() < 400, "{stderr}");
    }
    let _ = plain.kill();
    let _ = plain.wait();
}

#[test]
fn files_changed_or_deleted_since_the_scan_fail_their_jobs() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("edited.jpg"), &content(3, 5000));
    write_file(&source.join("deleted.jpg"), &content(4, 5000));
    write_file(&source.join("kept.jpg"), &content(5, 5000));
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    scan(&env, &source, &server.url("/files/"));
    write_file(&source.join("edited.jpg"), &content(6, 5001));
    std::fs::remove_file(source.join("deleted.jpg")).unwrap();

    let output = env.ferry().arg("upload").output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("edited.jpg: changed since scan"),
        "{stderr}"
    );
    assert!(
        stderr.contains("deleted.jpg: vanished since scan"),
        "{stderr}"
    );
    assert!(dest.join("kept.jpg").exists());
    assert!(!dest.join("edited.jpg").exists());
    let listed = stdout_of(&run_ok(env.ferry().args(["jobs", "--action", "retry"])));
    assert_eq!(
        listed.lines().count(),
        3,
        "header and two failures:\n{listed}"
    );
}

#[test]
fn an_unreachable_server_ends_the_run_at_once_and_keeps_the_jobs() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(7, 5000));
    let closed_port = ClosedPort::new();
    let closed = closed_port.url();
    for protocol in ["auto", "tus"] {
        // A sync asks before its scan, and queues nothing.
        let output = env
            .ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &closed, "--protocol", protocol])
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("error: cannot reach"), "{stderr}");
        assert!(only_job_if_any(&env).is_none(), "{protocol}");
    }
    for protocol in ["auto", "tus"] {
        // Jobs a scan queued stay pending.
        let scan = ["--to", &closed, "--protocol", protocol];
        run_ok(env.ferry().arg("scan").arg(&source).args(scan));
        let output = env.ferry().arg("upload").output().unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("error: cannot reach"), "{stderr}");
        assert_eq!(only_job(&env).state, State::Pending);
    }
}

/// Starts `ferry upload` through a slow proxy and kills it once its job
/// holds a session; returns that session's URL.
fn registered_then_killed(env: &TestEnv, name: &str) -> String {
    let mut child = env
        .ferry()
        .arg("upload")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let session = (0..400)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(20));
            let store = ferry::journal::store::Store::open_read_only(&env.journal()).unwrap();
            let job = store
                .jobs()
                .iter()
                .find(|job| job.resource.path.display().to_string() == name)?;
            job.session.as_ref().map(|session| session.url.clone())
        })
        .expect("the job never registered");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    session
}

#[test]
fn a_lost_session_starts_again_from_zero_and_cancel_ends_the_session() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("a.mov"), 16 << 20, 21);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(8 * MIB));
    let to = format!("http://{}/files/", proxy.address);
    scan(&env, &source, &to);
    let session = registered_then_killed(&env, "a.mov");
    let deleted = crate::http::request("DELETE", &Server::path_of(&session))
        .header("Upload-Draft-Interop-Version", 8)
        .send(server.address, b"");
    assert_eq!(deleted.status, 204);
    let output = run_ok(env.ferry().arg("upload"));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(
            "a.mov: the server no longer has the upload session (HTTP 404); starting again from 0"
        ),
        "{stderr}"
    );
    assert_same_tree(&source, &dest);

    write_big(&source.join("b.mov"), 16 << 20, 22);
    scan(&env, &source, &to);
    let session = registered_then_killed(&env, "b.mov");
    let head = |url: &str| {
        crate::http::request("HEAD", &Server::path_of(url))
            .header("Upload-Draft-Interop-Version", 8)
            .send(server.address, b"")
            .status
    };
    assert_eq!(head(&session), 204);
    let output = run_ok(env.ferry().args(["cancel", "--pending"]));
    assert!(
        stdout_of(&output).contains("cancel: 1 job"),
        "{}",
        stdout_of(&output)
    );
    assert_eq!(head(&session), 404, "the server's session was ended");
}

#[test]
fn a_second_sync_on_the_same_journal_exits_4_naming_the_holder() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("a.mov"), 8 << 20, 31);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(4 * MIB));
    let to = format!("http://{}/files/", proxy.address);
    let first = env
        .ferry()
        .args(["sync"])
        .arg(&source)
        .args(["--to", &to])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while !env.journal().exists() || only_job_if_any(&env).is_none_or(|job| job.session.is_none()) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &to])
        .output()
        .unwrap();
    let stderr = stderr_of(&second);
    assert_eq!(second.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&first.id().to_string()),
        "names the holder's PID: {stderr}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert_eq!(only_job(&env).state, State::Succeeded);
    assert_same_tree(&source, &dest);
}

fn only_job_if_any(env: &TestEnv) -> Option<ferry::journal::job::Job> {
    let store = ferry::journal::store::Store::open_read_only(&env.journal()).ok()?;
    store.jobs().first().cloned()
}

/// Runs `ferry sync` to `url` and gives it 60 s to end on its own.
fn sync_within_a_minute(env: &TestEnv, source: &Path, url: &str) -> std::process::Output {
    let mut command = env.ferry();
    command.arg("sync").arg(source);
    command.args(["--to", url, "--protocol", "ietf", "--retries", "3"]);
    ended_within(command, Duration::from_secs(60))
        .expect("ferry never stopped: a retry loop without a bound")
}

/// Runs `command`; its output once it ended within `limit`, else `None`
/// (it is killed).
fn ended_within(mut command: Command, limit: Duration) -> Option<std::process::Output> {
    let mut child = (command.stdout(Stdio::piped()).stderr(Stdio::piped()))
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() >= deadline {
            child.kill().unwrap();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(child.wait_with_output().unwrap())
}

#[test]
fn a_server_that_always_answers_409_or_loses_every_session_ends_the_job() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("a.mov"), 6 << 20, 23);
    let created = "Location: /u/1\r\nUpload-Draft-Interop-Version: 8\r\n";
    for (patch, why) in [
        (
            (409, "Upload-Offset: 0\r\n"),
            "the server answered 409 (offset conflict) 4 times in a row",
        ),
        (
            (404, ""),
            "the server no longer has the upload session (HTTP 404)",
        ),
    ] {
        let server = ScriptedServer::start(&[
            ("OPTIONS", 204, ""),
            ("POST", 201, created),
            ("HEAD", 204, "Upload-Offset: 0\r\n"),
            ("PATCH", patch.0, patch.1),
        ]);
        let journal = env.journal();
        let _ = std::fs::remove_file(&journal);
        let output =
            sync_within_a_minute(&env, &source, &format!("http://{}/files/", server.address));
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(
            stderr.contains(&format!("failed: a.mov: {why}")),
            "{stderr}"
        );
        // Each failure waited and counted: at most --retries + 1 attempts.
        assert!(
            server.count("POST") <= 4,
            "{} creations",
            server.count("POST")
        );
        assert!(
            server.count("PATCH") <= 4 * 4,
            "{} appends",
            server.count("PATCH")
        );
    }
}

#[test]
fn a_faulty_options_answer_is_asked_again_and_never_read_as_put() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    for i in 0..3u32 {
        write_file(&source.join(format!("IMG_{i}.jpg")), &content(60 + i, 9000));
    }
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start(
        server.address,
        &[
            Fault::Status(503),        // OPTIONS
            Fault::TooManyRequests(1), // OPTIONS
            Fault::ResetAfter(0),      // OPTIONS: the connection drops
            Fault::Status(502),        // OPTIONS
        ],
    );
    let output = run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &format!("http://{}/files/", proxy.address)]),
    );
    assert!(
        stderr_of(&output).contains("uploaded 3 files"),
        "{}",
        stderr_of(&output)
    );
    assert_same_tree(&source, &dest);
    let log = server.log();
    assert_eq!(log.matches("IETF draft (interop 8)").count(), 3, "{log}");
    assert!(!log.contains("plain PUT"), "{log}");
}

#[test]
fn a_413_on_a_creation_that_carries_the_file_creates_it_empty_and_appends() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    let body = content(70, 1 << 20);
    write_file(&source.join("small.jpg"), &body);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    for protocol in ["tus", "ietf"] {
        let proxy = FaultProxy::start(
            server.address,
            &[
                Fault::Pass,        // OPTIONS
                Fault::Status(413), // POST carrying the whole file
            ],
        );
        let journal = env.path().join(format!("{protocol}.jsonl"));
        let output = run_ok(
            env.ferry_bare()
                .arg("--journal")
                .arg(&journal)
                .arg("sync")
                .arg(&source)
                .args([
                    "--to",
                    &format!("http://{}/files/{protocol}/", proxy.address),
                ])
                .args(["--protocol", protocol]),
        );
        assert!(
            stderr_of(&output).contains("uploaded 1 file"),
            "{}",
            stderr_of(&output)
        );
        assert!(std::fs::read(dest.join(protocol).join("small.jpg")).unwrap() == body);
    }
}

#[test]
fn a_journal_that_cannot_grow_ends_the_run_in_one_line_and_the_next_run_finishes() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    for i in 0..30u32 {
        write_file(
            &source.join(format!("IMG_{i:02}.jpg")),
            &content(90 + i, 20_000),
        );
    }
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let to = server.url("/files/");
    scan(&env, &source, &to);
    // The journal may grow by 3,000 bytes, then writes fail as on a full disk.
    let limit = std::fs::metadata(env.journal()).unwrap().len() + 3000;
    let ferry = env.ferry();
    let mut limited = Command::new("prlimit");
    limited
        .arg(format!("--fsize={limit}"))
        .arg("--")
        .arg(ferry.get_program())
        .args(ferry.get_args())
        .args(["upload", "-j", "2"])
        .env_clear()
        .envs(ferry.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .current_dir(env.path());
    let output = limited.output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("journal") && errors[0].contains("File too large"),
        "{stderr}"
    );
    assert_eq!(errors[0].matches("File too large").count(), 1, "{stderr}");

    let next = run_ok(env.ferry().arg("upload"));
    let stderr = stderr_of(&next);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_same_tree(&source, &dest);
    let store = ferry::journal::store::Store::open_read_only(&env.journal()).unwrap();
    assert!(store.jobs().iter().all(|job| job.state == State::Succeeded));
}

#[test]
fn a_remembered_protocol_the_server_refuses_is_asked_again_once() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(71, 5000));
    // First a plain-PUT server answers at the URL: auto remembers PUT.
    let backend = crate::forward::Backend::start_on(&env.path().join("plain"), 0);
    let port = backend.address.port();
    let to = format!("http://127.0.0.1:{port}/files/");
    run_ok(env.ferry().arg("sync").arg(&source).args(["--to", &to]));
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    assert!(journal.contains(r#""protocol":"put""#), "{journal}");
    drop(backend);

    // Then a tus server takes the URL over; it refuses the PUT (412).
    let store = env.path().join("tus-node");
    std::fs::create_dir_all(&store).unwrap();
    let _tus = crate::upload::Peer::tus_node_on(&store, port);
    write_file(&source.join("b.jpg"), &content(72, 6000));
    let output = run_ok(env.ferry().arg("sync").arg(&source).args(["--to", &to]));
    assert!(
        stderr_of(&output).contains("uploaded 1 file"),
        "{}",
        stderr_of(&output)
    );
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    assert!(journal.contains(r#""protocol":"tus""#), "{journal}");
    let stored: Vec<Vec<u8>> = crate::upload::walk(&store)
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect();
    assert!(
        stored.contains(&content(72, 6000)),
        "b.jpg is not on the tus server"
    );
}

/// A tus server whose `Location` names another origin gets the upload,
/// but that origin never sees the bearer token or a secret `-H` header.
#[test]
fn credentials_never_follow_a_location_to_another_origin() {
    use crate::scripted_server::ScriptedServer;
    const TOKEN: &str = "s3cret-bearer-t0ken";
    let other = ScriptedServer::start(&[
        (
            "PATCH",
            204,
            "Tus-Resumable: 1.0.0\r\nUpload-Offset: 5000\r\n",
        ),
        (
            "HEAD",
            200,
            "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nUpload-Length: 5000\r\n",
        ),
    ]);
    let location = format!(
        "Tus-Resumable: 1.0.0\r\nLocation: http://{}/files/abc\r\n",
        other.address
    );
    let destination = ScriptedServer::start(&[
        (
            "OPTIONS",
            204,
            "Tus-Resumable: 1.0.0\r\nTus-Version: 1.0.0\r\nTus-Extension: creation\r\n",
        ),
        ("POST", 201, &location),
    ]);
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(77, 5000));
    let output = run_ok(
        env.ferry()
            .env("FERRY_TOKEN", TOKEN)
            .arg("sync")
            .arg(&source)
            .args(["--to", &format!("http://{}/files/", destination.address)])
            .args([
                "--protocol",
                "tus",
                "-H",
                "X-Api-Key: k3y-value",
                "-H",
                "X-Trace: t1",
            ]),
    );
    assert_eq!(
        only_job(&env).state,
        State::Succeeded,
        "{}",
        stderr_of(&output)
    );
    let own = destination.heads().join("");
    assert!(own.contains(TOKEN) && own.contains("k3y-value"), "{own}");
    let elsewhere = other.heads();
    assert!(!elsewhere.is_empty());
    for head in &elsewhere {
        assert!(
            !head.contains(TOKEN) && !head.contains("k3y-value"),
            "{head}"
        );
        assert!(
            !head.to_ascii_lowercase().contains("authorization"),
            "{head}"
        );
        assert!(head.contains("t1"), "{head}");
    }
}

#[test]
fn a_server_that_answers_before_the_bytes_arrive_never_makes_an_upload_succeed() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("a.mov"), 32 << 20, 29);
    // A PUT answered 201 before its body was read; a tus PATCH answered
    // 204 before its body was read, and one with no Upload-Offset; an IETF
    // final append taken only in part, a creation without a body that
    // claims the whole file or says it is complete, and a HEAD that says
    // complete at an offset short of the end.
    type Answers<'a> = &'a [(&'a str, u16, &'a str)];
    let cases: [(&str, Answers, &str); 7] = [
        (
            "put",
            &[("OPTIONS", 204, ""), ("PUT", 201, "")],
            "the server answered HTTP 201 Created for the file up to byte 33554432, but only",
        ),
        (
            "tus",
            &[
                (
                    "OPTIONS",
                    204,
                    "Tus-Version: 1.0.0\r\nTus-Resumable: 1.0.0\r\n",
                ),
                ("POST", 201, "Location: /u/1\r\nTus-Resumable: 1.0.0\r\n"),
                ("HEAD", 200, "Upload-Offset: 0\r\nTus-Resumable: 1.0.0\r\n"),
                (
                    "PATCH",
                    204,
                    "Upload-Offset: 33554432\r\nTus-Resumable: 1.0.0\r\n",
                ),
            ],
            "the server answered HTTP 204 No Content for the file up to byte 33554432, but only",
        ),
        (
            "tus",
            &[
                (
                    "OPTIONS",
                    204,
                    "Tus-Version: 1.0.0\r\nTus-Resumable: 1.0.0\r\n",
                ),
                ("POST", 201, "Location: /u/1\r\nTus-Resumable: 1.0.0\r\n"),
                ("HEAD", 200, "Upload-Offset: 0\r\nTus-Resumable: 1.0.0\r\n"),
                ("PATCH", 204, "Tus-Resumable: 1.0.0\r\n"),
            ],
            "failed: a.mov: ",
        ),
        (
            "ietf",
            &[
                ("OPTIONS", 204, ""),
                ("POST", 201, "Location: /u/1\r\nUpload-Offset: 0\r\n"),
                ("PATCH", 204, "Upload-Offset: 1000\r\n"),
            ],
            "(attempt 2): the server accepted no bytes at offset 1000",
        ),
        (
            "ietf",
            &[
                ("OPTIONS", 204, ""),
                (
                    "POST",
                    201,
                    "Location: /u/1\r\nUpload-Offset: 33554432\r\nUpload-Complete: ?1\r\n",
                ),
            ],
            "the server answered HTTP 201 Created for the file up to byte 33554432, but this request sent it only up to byte 0",
        ),
        (
            "ietf",
            &[
                ("OPTIONS", 204, ""),
                ("POST", 201, "Location: /u/1\r\nUpload-Complete: ?1\r\n"),
            ],
            "failed: a.mov: ",
        ),
        (
            "ietf",
            &[
                ("OPTIONS", 204, ""),
                ("POST", 201, "Location: /u/1\r\nUpload-Offset: 0\r\n"),
                ("PATCH", 204, "Upload-Offset: 33554433\r\n"),
                ("HEAD", 200, "Upload-Offset: 10\r\nUpload-Complete: ?1\r\n"),
            ],
            "failed: a.mov: ",
        ),
    ];
    for (protocol, answers, why) in cases {
        // The cases that read every body: the server is wrong otherwise.
        let server = match why.starts_with("failed") || protocol == "ietf" {
            true => ScriptedServer::start(answers),
            false => ScriptedServer::start_answering_early(answers),
        };
        let _ = std::fs::remove_file(env.journal());
        let command = sync_to_scripted(&env, &source, &server, protocol, "1");
        let output = ended_within(command, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{protocol}: ferry never stopped"));
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(3), "{protocol}: {stderr}");
        assert!(stderr.contains(why), "{protocol}: {stderr}");
        assert!(!stderr.contains("uploaded a.mov"), "{protocol}: {stderr}");
        let jobs = run_ok(env.ferry().args(["jobs", "--json"]));
        assert!(
            stdout_of(&jobs).contains("\"state\":\"failed\""),
            "{protocol}: {}",
            stdout_of(&jobs)
        );
    }
}

#[test]
fn a_fifo_put_where_a_scanned_file_was_fails_its_job_and_never_hangs() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    let server = Server::start(&env.path().join("served"), &[]);
    let local = env.path().join("dest");
    for to in [server.url("/files/"), local.to_str().unwrap().to_owned()] {
        let _ = std::fs::remove_dir_all(&source);
        let _ = std::fs::remove_file(env.journal());
        write_file(&source.join("c.jpg"), &content(31, 5000));
        run_ok(
            env.ferry()
                .args(["scan", "-q"])
                .arg(&source)
                .args(["--to", &to]),
        );
        std::fs::rename(source.join("c.jpg"), source.join("c.old")).unwrap();
        let fifo = source.join("c.jpg");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let mut command = env.ferry();
        command.arg("upload");
        let output = ended_within(command, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{to}: the upload hung on the FIFO"));
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(3), "{to}: {stderr}");
        // HTTP bodies look at the file's size first; a local copy opens it.
        let why = match to.starts_with("http") {
            true => format!("{}: changed since scan", fifo.display()),
            false => format!("{}: not a regular file any more", fifo.display()),
        };
        assert!(stderr.contains(&why), "{to}: {stderr}");
    }
}

#[test]
fn a_destination_with_no_room_stops_the_run_and_its_jobs_stay_pending() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    for i in 0..3u32 {
        write_file(&source.join(format!("IMG_{i}.jpg")), &content(70 + i, 4000));
    }
    let server = ScriptedServer::start(&[("OPTIONS", 204, ""), ("PUT", 507, "")]);
    let url = format!("http://{}/files/", server.address);
    let output = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &url, "--protocol", "put", "-j", "1"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("the destination has no room, so the run stopped and its jobs stay pending"),
        "{stderr}"
    );
    assert_eq!(server.count("PUT"), 1, "no job after the first: {stderr}");
    let status = run_ok(env.ferry().args(["jobs", "--json"]));
    let jobs = stdout_of(&status);
    assert_eq!(jobs.matches("\"state\":\"pending\"").count(), 3, "{jobs}");
    assert!(!jobs.contains("\"state\":\"failed\""), "{jobs}");
}

#[test]
fn the_failures_list_counts_every_try_of_a_job_as_an_attempt() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(41, 3000));
    let server = ScriptedServer::start(&[("OPTIONS", 204, ""), ("PUT", 503, "")]);
    let sync = || {
        let mut command = sync_to_scripted(&env, &source, &server, "put", "2");
        command.output().unwrap()
    };
    let first = sync();
    assert_eq!(first.status.code(), Some(3), "{}", stderr_of(&first));
    assert_eq!(server.count("PUT"), 3);
    assert!(
        stderr_of(&first).contains("(3 attempts)"),
        "{}",
        stderr_of(&first)
    );
    run_ok(env.ferry().args(["retry", "--all"]));
    let second = sync();
    assert_eq!(server.count("PUT"), 6);
    let jobs = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    assert!(jobs.contains("\"attempts\":6"), "{jobs}");
    assert!(
        stderr_of(&second).contains("(6 attempts)"),
        "{}",
        stderr_of(&second)
    );
}

#[test]
fn a_bits_server_that_holds_more_than_a_fragment_is_taken_at_its_word_and_resumed_from_there() {
    // BITS cannot be asked where an upload stands: a journal behind the
    // server (its offsets are written lazily) learns it from a fragment's
    // answer, which may lie past the fragment.
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("a.mov"), 32 << 20, 37);
    let server = ScriptedServer::start(&[(
        "BITS_POST",
        200,
        "BITS-Packet-Type: Ack\r\nBITS-Protocol: {7df0354d-249b-430f-820d-3d2a9bef4931}\r\nBITS-Session-Id: {1}\r\nBITS-Received-Content-Range: 33554432\r\n",
    )]);
    let mut command = sync_to_scripted(&env, &source, &server, "bits", "1");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    // Its creation, one fragment, its close.
    assert_eq!(server.count("BITS_POST"), 3);
}

#[test]
fn a_server_that_claims_more_bytes_than_the_file_has_is_named_for_it() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("c.jpg"), &content(43, 5000));
    let server = ScriptedServer::start(&[
        (
            "OPTIONS",
            204,
            "Tus-Version: 1.0.0\r\nTus-Resumable: 1.0.0\r\n",
        ),
        ("POST", 201, "Location: /u/1\r\nTus-Resumable: 1.0.0\r\n"),
        ("PATCH", 409, "Tus-Resumable: 1.0.0\r\n"),
        (
            "HEAD",
            200,
            "Upload-Offset: 9000\r\nUpload-Length: 5000\r\nTus-Resumable: 1.0.0\r\n",
        ),
    ]);
    let command = sync_to_scripted(&env, &source, &server, "tus", "1");
    let output = ended_within(command, Duration::from_secs(60)).expect("ferry never stopped");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "failed: c.jpg: the server says the upload holds 9000 bytes, more than the file's 5000"
        ),
        "{stderr}"
    );
}

/// `ferry sync SOURCE --to` the scripted server's `/files/` over
/// `protocol`, giving up after `retries` transient failures.
fn sync_to_scripted(
    env: &TestEnv,
    source: &Path,
    server: &ScriptedServer,
    protocol: &str,
    retries: &str,
) -> Command {
    let mut command = env.ferry();
    command.arg("sync").arg(source);
    command.args(["--to", &format!("http://{}/files/", server.address)]);
    command.args(["--protocol", protocol, "--retries", retries]);
    command
}
