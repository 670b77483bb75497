//! `ferry watch` against `ferry serve`: files dropped into a watched folder
//! arrive byte-identical, a file still being written is taken once it
//! settles, deletions change nothing, other commands work meanwhile, a
//! second watcher is refused, and SIGTERM stops it. The tests wait for
//! what the server stores, never a fixed time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::upload::{run_ok, walk};
use crate::util::{TestEnv, content, stderr_of, stdout_of, write_file};

/// A running `ferry watch`, stopped with SIGTERM when dropped.
struct Watching(Child);

impl Watching {
    fn start(env: &TestEnv, source: &Path, to: &str, settle: &str) -> Watching {
        Watching::start_with(env, source, to, settle, &[])
    }

    fn start_with(
        env: &TestEnv,
        source: &Path,
        to: &str,
        settle: &str,
        extra: &[&str],
    ) -> Watching {
        let child = env
            .ferry()
            .arg("watch")
            .arg(source)
            .args(["--to", to, "--settle", settle])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(env.path().join("watch.log")).unwrap())
            .spawn()
            .unwrap();
        Watching(child)
    }

    /// With `--json`: the events go to the returned file.
    fn start_json(env: &TestEnv, source: &Path, to: &str, extra: &[&str]) -> (Watching, PathBuf) {
        let out = env.path().join("events.jsonl");
        let child = env
            .ferry()
            .args(["--json", "watch"])
            .arg(source)
            .args(["--to", to])
            .args(extra)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(env.path().join("watch.log")).unwrap())
            .spawn()
            .unwrap();
        (Watching(child), out)
    }

    fn terminate(&mut self) -> Option<i32> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `dir` holds `n` files (up to 60 s).
fn wait_for_files(dir: &Path, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let count = walk(dir).len();
        if count >= n || Instant::now() > deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the file at `path` contains `text` (failing after 30 s);
/// its text.
fn wait_for_line(path: &Path, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if log.contains(text) {
            return log;
        }
        assert!(Instant::now() < deadline, "no {text:?} in {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn dropped_files_arrive_and_other_commands_work_while_watching() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    write_file(&source.join("first.jpg"), &content(1, 5000));
    let server = Server::start(&env.path().join("dest"), &[]);
    let mut watching = Watching::start(&env, &source, &server.url("/files/"), "300ms");
    assert_eq!(wait_for_files(&server.dir, 1), 1, "the first sync");

    for i in 0..50 {
        write_file(
            &source.join(format!("drop/IMG_{i:04}.jpg")),
            &content(100 + i, 3000 + i as usize),
        );
    }
    assert_eq!(wait_for_files(&server.dir, 51), 51);
    for i in 0..50 {
        let name = format!("drop/IMG_{i:04}.jpg");
        assert_eq!(
            std::fs::read(server.dir.join(&name)).unwrap(),
            std::fs::read(source.join(&name)).unwrap()
        );
    }

    // The watcher holds the journal only during a batch; a command that
    // changes the journal and meets one waits for it (`status` reads
    // without the lock).
    run_ok(env.ferry().arg("status"));
    run_ok(
        env.ferry()
            .args(["--wait-lock", "30s", "ack", "--succeeded"]),
    );
    let second = env
        .ferry()
        .arg("watch")
        .arg(&source)
        .args(["--to", &server.url("/files/")])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(4), "{}", stderr_of(&second));
    assert!(
        stderr_of(&second).contains("locked by another ferry (pid"),
        "{}",
        stderr_of(&second)
    );

    // A deletion changes nothing at the destination; a file after it shows
    // the deletion was passed over.
    std::fs::remove_file(source.join("first.jpg")).unwrap();
    write_file(&source.join("after.jpg"), &content(9, 2000));
    assert_eq!(wait_for_files(&server.dir, 52), 52);
    assert!(server.dir.join("first.jpg").exists());

    assert_eq!(
        watching.terminate(),
        Some(130),
        "SIGTERM stops the watch as it stops a sync"
    );
}

#[test]
fn a_file_written_slowly_is_uploaded_once_after_it_settles() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    std::fs::create_dir_all(&source).unwrap();
    let server = Server::start(&env.path().join("dest"), &[]);
    // 3 s of stillness, against writes 160 ms apart.
    let _watching = Watching::start(&env, &source, &server.url("/files/"), "3s");
    server.wait_for_log("listening");
    // The watch's first sync of the (empty) folder is over before the file
    // appears: one that started late, under a loaded run, found the file
    // half written and sent it at once (two fresh-clone CI runs failed so).
    wait_for_line(&env.path().join("watch.log"), "nothing to upload");

    let video = content(7, 2 << 20);
    let path = source.join("clip.mov");
    let mut file = std::fs::File::create(&path).unwrap();
    // 2 MiB over about 5 s: never still for the settle time until done.
    let started = Instant::now();
    for piece in video.chunks(64 << 10) {
        file.write_all(piece).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(160));
    }
    drop(file);
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    assert_eq!(std::fs::read(server.dir.join("clip.mov")).unwrap(), video);
    // The server stores the file before the watcher hears back and says so.
    let log = wait_for_line(&env.path().join("watch.log"), "uploaded clip.mov");
    assert_eq!(log.matches("uploaded clip.mov").count(), 1, "{log}");
    // The file is in place a moment before the server logs it: a fresh-clone
    // CI run read the log in between (0 "stored" lines, the file there).
    let stored = server.wait_for_log("stored clip.mov");
    assert_eq!(stored.matches("stored clip.mov").count(), 1, "{stored}");
}

#[test]
fn a_server_that_is_down_pauses_the_watch_instead_of_ending_it() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    write_file(&source.join("a.jpg"), &content(3, 4000));
    let closed = crate::util::ClosedPort::new();
    let (mut watching, out) = Watching::start_json(&env, &source, &closed.url(), &[]);
    let log = wait_for_line(&env.path().join("watch.log"), "paused");
    assert!(log.contains("ferry: paused: cannot reach"), "{log}");
    assert_eq!(watching.0.try_wait().unwrap(), None, "still watching");
    let events = std::fs::read_to_string(&out).unwrap();
    let first: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "watch_started", "{events}");
    assert_eq!(watching.terminate(), Some(130));
}

#[test]
fn a_folder_of_1000_files_moved_in_arrives_whole() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    std::fs::create_dir_all(&source).unwrap();
    let server = Server::start(&env.path().join("dest"), &[]);
    let _watching = Watching::start(&env, &source, &server.url("/files/"), "300ms");
    wait_for_line(&env.path().join("watch.log"), "nothing to upload");
    let outside = env.path().join("import");
    for i in 0..1000u32 {
        write_file(
            &outside.join(format!("IMG_{i:04}.jpg")),
            &content(i, 1000 + i as usize),
        );
    }
    std::fs::rename(&outside, source.join("import")).unwrap();
    assert_eq!(wait_for_files(&server.dir, 1000), 1000);
    crate::upload::assert_same_tree(&source, &server.dir);
}

#[test]
fn after_a_stop_files_added_meanwhile_and_a_cut_upload_finish_on_restart() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    write_file(&source.join("early.jpg"), &content(1, 3000));
    let server = Server::start(&env.path().join("dest"), &[]);
    let url = server.url("/files/");
    // 4 MiB at 1 MiB/s: SIGTERM lands mid-upload, once progress is seen.
    let big = content(2, 4 << 20);
    let (mut watching, out) = Watching::start_json(
        &env,
        &source,
        &url,
        &["--settle", "200ms", "--bwlimit", "1M"],
    );
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    write_file(&source.join("clip.mov"), &big);
    let moving = |events: &[serde_json::Value]| {
        events.iter().any(|event| {
            event["type"] == "progress"
                && event["path"].as_str().unwrap_or("").ends_with("clip.mov")
                && event["offset"].as_u64().unwrap_or(0) >= 1 << 20
        })
    };
    wait_for_events(&out, moving);
    assert_eq!(watching.terminate(), Some(130));
    assert!(!server.dir.join("clip.mov").exists(), "stopped mid-upload");

    write_file(&source.join("while-down.jpg"), &content(3, 5000));
    let (_again, out) = Watching::start_json(&env, &source, &url, &["--settle", "200ms"]);
    assert_eq!(wait_for_files(&server.dir, 3), 3);
    crate::upload::assert_same_tree(&source, &server.dir);
    // The cut upload went on from where the server had it.
    let clip_sent = |events: &[serde_json::Value]| {
        events.iter().find_map(|event| {
            let clip = event["path"].as_str().unwrap_or("").ends_with("clip.mov");
            (event["type"] == "succeeded" && clip).then(|| event["sent"].as_u64().unwrap())
        })
    };
    let sent = clip_sent(&wait_for_events(&out, |events| clip_sent(events).is_some())).unwrap();
    assert!(sent <= (5 << 20), "resent what the server had: {sent}");
}

/// Lines of JSON events written to `path` so far.
fn events_in(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Waits until the events written to `path` satisfy `done` (failing,
/// with what it saw, after 30 s); those events.
fn wait_for_events(
    path: &Path,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = events_in(path);
        if done(&events) {
            return events;
        }
        assert!(Instant::now() < deadline, "still waiting after {events:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether an event of this type is among `events`.
fn has(events: &[serde_json::Value], kind: &str) -> bool {
    events.iter().any(|event| event["type"] == kind)
}

#[test]
fn a_batch_looks_at_just_the_settled_files_and_a_rescan_at_every_file() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    for i in 0..40u32 {
        write_file(
            &source.join(format!("old/{i:02}.jpg")),
            &content(i, 1000 + i as usize),
        );
    }
    let server = Server::start(&env.path().join("dest"), &[]);
    let (mut watching, out) = Watching::start_json(
        &env,
        &source,
        &server.url("/files/"),
        &["--settle", "200ms", "--rescan", "3s"],
    );
    assert_eq!(wait_for_files(&server.dir, 40), 40);
    write_file(&source.join("new/IMG_9000.jpg"), &content(90, 7000));
    assert_eq!(wait_for_files(&server.dir, 41), 41);
    let seen = |events: &[serde_json::Value]| -> Vec<u64> {
        events
            .iter()
            .filter(|event| event["type"] == "scan_summary")
            .map(|event| event["seen"].as_u64().unwrap())
            .collect()
    };
    let events = wait_for_events(&out, |events| {
        has(events, "rescan") && seen(events).len() >= 3
    });
    let summaries = seen(&events);
    // The first sync walks 40 files, the batch looks at its one, the
    // scheduled rescan walks all 41 again.
    assert_eq!(summaries[..3], [40, 1, 41], "{summaries:?}");
    let batch = events.iter().find(|e| e["type"] == "batch").unwrap();
    assert_eq!(batch["settled"], 1);
    assert_eq!(watching.terminate(), Some(130));
}

#[test]
fn failed_jobs_are_retried_at_the_next_rescan() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    write_file(&source.join("a.jpg"), &content(5, 9000));
    let server = Server::start(&env.path().join("dest"), &[]);
    // Every request fails until the script is used up: with --retries 1
    // the first run gives the job up, later rescans put it back.
    let proxy = FaultProxy::start(server.address, &vec![Fault::Status(503); 4]);
    let url = format!("http://{}/files/", proxy.address);
    let _watching = Watching::start_with(
        &env,
        &source,
        &url,
        "200ms",
        &["--protocol", "ietf", "--retries", "1", "--rescan", "1s"],
    );
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    assert_eq!(
        std::fs::read(server.dir.join("a.jpg")).unwrap(),
        std::fs::read(source.join("a.jpg")).unwrap()
    );
    assert_eq!(proxy.remaining(), 0);
    let log = wait_for_line(&env.path().join("watch.log"), "retrying 1 failed job");
    assert!(log.contains("failed"), "{log}");
}

#[test]
fn refused_credentials_pause_until_a_fixed_token_file_is_read_at_a_rescan() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    write_file(&source.join("a.jpg"), &content(6, 9000));
    let server_token = env.path().join("server-token");
    std::fs::write(&server_token, "right-token\n").unwrap();
    let server = Server::start(
        &env.path().join("dest"),
        &["--token-file", server_token.to_str().unwrap()],
    );
    let token = env.path().join("token");
    std::fs::write(&token, "wrong-token\n").unwrap();
    let mut watching = Watching::start_with(
        &env,
        &source,
        &server.url("/files/"),
        "200ms",
        &["--token-file", token.to_str().unwrap(), "--rescan", "1s"],
    );
    let log = wait_for_line(&env.path().join("watch.log"), "paused");
    assert!(log.contains("ferry: paused: "), "{log}");
    assert!(log.contains("401 Unauthorized"), "{log}");
    // The sync asked before its scan: nothing was queued. A file that
    // settles meanwhile pauses too, and is held for the next batch.
    let log = wait_for_line(&env.path().join("watch.log"), "· 0 queued");
    assert!(
        log.contains("watching 1 folder · 0 uploaded · 0 queued"),
        "{log}"
    );
    write_file(&source.join("b.jpg"), &content(7, 9000));
    let log = wait_for_line(&env.path().join("watch.log"), "· 1 queued");
    assert!(
        log.contains("watching 1 folder · 0 uploaded · 1 queued"),
        "{log}"
    );
    assert_eq!(watching.0.try_wait().unwrap(), None, "still watching");
    std::fs::write(&token, "right-token\n").unwrap();
    assert_eq!(wait_for_files(&server.dir, 2), 2);
    let log = std::fs::read_to_string(env.path().join("watch.log")).unwrap();
    assert!(
        !log.contains("right-token") && !log.contains("wrong-token"),
        "{log}"
    );
    assert_eq!(watching.terminate(), Some(130));
}

#[test]
fn sighup_rereads_the_config_file() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    std::fs::create_dir_all(&source).unwrap();
    let server = Server::start(&env.path().join("dest"), &[]);
    let config = env.path().join("home/.config/ferry/config.toml");
    let home = |exclude: &str| {
        format!(
            "[destinations.home]\nurl = \"{}\"\nexclude = [{exclude}]\n",
            server.url("/files/")
        )
    };
    write_file(&config, home("\"*.png\"").as_bytes());
    let watching = Watching::start(&env, &source, "home", "200ms");
    let log_path = env.path().join("watch.log");
    wait_for_line(&log_path, "nothing to upload");
    write_file(&source.join("left-out.png"), &content(1, 3000));
    write_file(&source.join("kept.jpg"), &content(2, 3000));
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    assert!(server.dir.join("kept.jpg").exists());

    write_file(&config, home("").as_bytes());
    let hangup = std::process::Command::new("kill")
        .args(["-HUP", &watching.0.id().to_string()])
        .status()
        .unwrap();
    assert!(hangup.success());
    wait_for_line(&log_path, "config reread");
    write_file(&source.join("now-in.png"), &content(3, 3000));
    assert_eq!(wait_for_files(&server.dir, 2), 2);
    assert!(server.dir.join("now-in.png").exists());
    assert!(!server.dir.join("left-out.png").exists());

    // A config that no longer loads is refused; the watch goes on.
    write_file(&config, b"[destinations.home\n");
    std::process::Command::new("kill")
        .args(["-HUP", &watching.0.id().to_string()])
        .status()
        .unwrap();
    let log = wait_for_line(&log_path, "config not reread");
    assert!(log.contains("keeping the previous one"), "{log}");
    write_file(&source.join("after.jpg"), &content(4, 3000));
    assert_eq!(wait_for_files(&server.dir, 3), 3);
}

#[test]
fn the_status_line_is_redrawn_at_a_terminal_and_plain_elsewhere() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    for i in 0..3u32 {
        write_file(&source.join(format!("{i}.jpg")), &content(i, 2000));
    }
    let server = Server::start(&env.path().join("dest"), &[]);
    let url = server.url("/files/");
    // --progress bars draws as at a terminal.
    let mut bars = Watching::start_with(&env, &source, &url, "200ms", &["--progress", "bars"]);
    let log_path = env.path().join("watch.log");
    let log = wait_for_line(&log_path, "idle since");
    assert!(
        log.contains("\r\x1b[2Kwatching 1 folder · 3 uploaded · 0 queued · idle since "),
        "{log:?}"
    );
    write_file(&source.join("3.jpg"), &content(3, 2000));
    let log = wait_for_line(&log_path, "4 uploaded");
    assert!(
        log.contains("· 4 uploaded · 0 queued · idle since "),
        "{log:?}"
    );
    assert_eq!(bars.terminate(), Some(130));

    // Elsewhere: a plain line after each batch, without the clock.
    let dest = env.path().join("dest2");
    let server = Server::start(&dest, &[]);
    let mut plain = Watching::start(&env, &source, &server.url("/files/"), "200ms");
    let log = wait_for_line(&log_path, "watching 1 folder · 4 uploaded · 0 queued\n");
    assert!(
        !log.contains('\r') && !log.contains("idle since"),
        "{log:?}"
    );
    assert_eq!(plain.terminate(), Some(130));
}

#[test]
fn a_folder_that_is_not_there_is_a_usage_error_at_start() {
    let env = TestEnv::new();
    let missing = env.path().join("no-card");
    let output = env
        .ferry()
        .arg("watch")
        .arg(&missing)
        .args(["--to", env.path().join("dest").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert_eq!(
        stderr_of(&output).trim(),
        format!(
            "ferry: error: {}: cannot use as a folder to watch: No such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn a_card_taken_out_pauses_the_watch_and_is_watched_again_when_back() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_file(&card.join("DCIM/IMG_0001.jpg"), &content(1, 3000));
    let server = Server::start(&env.path().join("dest"), &[]);
    let (mut watching, out) = Watching::start_json(
        &env,
        &card,
        &server.url("/files/"),
        &["--settle", "200ms", "--rescan", "1s"],
    );
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    std::fs::remove_dir_all(&card).unwrap();
    let log = wait_for_line(&env.path().join("watch.log"), "paused");
    assert!(
        log.contains("cannot use as a folder to scan") || log.contains("cannot watch"),
        "{log}"
    );
    // Each rescan while it is out says which folder, and why, in words.
    let log = wait_for_line(&env.path().join("watch.log"), "cannot watch");
    let said = format!(
        "ferry: paused: cannot watch {}: it is not there (a card taken out, a disk unmounted?); trying again at the next rescan",
        card.display()
    );
    assert!(log.contains(&said), "{log}");
    assert_eq!(watching.0.try_wait().unwrap(), None, "still watching");

    // Back in: the next rescan watches it again, so a photo taken after
    // that arrives through a batch of its own, not a rescan.
    std::fs::create_dir_all(card.join("DCIM")).unwrap();
    let rescans = |events: &[serde_json::Value]| {
        events
            .iter()
            .filter(|event| event["type"] == "scan_summary" && event["seen"] == 0)
            .count()
    };
    // The first rescan that finds the card may have tried to watch it just
    // before it was back; the second one watched it after.
    wait_for_events(&out, |events| rescans(events) >= 2);
    write_file(&card.join("DCIM/IMG_0002.jpg"), &content(2, 3000));
    assert_eq!(wait_for_files(&server.dir, 2), 2);
    // The new photo was seen by the watch.
    wait_for_events(&out, |events| has(events, "batch"));
    assert_eq!(
        std::fs::read(server.dir.join("DCIM/IMG_0002.jpg")).unwrap(),
        content(2, 3000)
    );
    assert_eq!(watching.terminate(), Some(130));
}

#[test]
fn rescan_0_turns_the_timed_rescans_off() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    write_file(&source.join("a.jpg"), &content(1, 2000));
    let server = Server::start(&env.path().join("dest"), &[]);
    let (mut watching, out) = Watching::start_json(
        &env,
        &source,
        &server.url("/files/"),
        &["--settle", "100ms", "--rescan", "0"],
    );
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    write_file(&source.join("b.jpg"), &content(2, 2000));
    assert_eq!(wait_for_files(&server.dir, 2), 2);
    let events = events_in(&out);
    // Were 0 taken as "at once, always", rescans would follow each other.
    assert!(!has(&events, "rescan"), "{events:?}");
    assert_eq!(watching.terminate(), Some(130));
}

#[test]
fn ack_failed_while_watching_takes_a_failure_off_the_list_and_rescans_leave_it() {
    let env = TestEnv::new();
    let source = env.path().join("photos");
    write_file(&source.join("a.jpg"), &content(5, 9000));
    let server = Server::start(&env.path().join("dest"), &[]);
    let proxy = FaultProxy::start(server.address, &vec![Fault::Status(503); 50]);
    let url = format!("http://{}/files/", proxy.address);
    let mut watching = Watching::start_with(
        &env,
        &source,
        &url,
        "200ms",
        &["--protocol", "ietf", "--retries", "0", "--rescan", "3s"],
    );
    let log_path = env.path().join("watch.log");
    let log = wait_for_line(&log_path, "failed: a.jpg");
    assert!(log.contains("failed: a.jpg: "), "{log}");
    let acked = run_ok(env.ferry().args(["--wait-lock", "30s", "ack", "--failed"]));
    assert_eq!(stdout_of(&acked).trim(), "acknowledge: 1 job");
    let status = run_ok(env.ferry().arg("status"));
    assert!(
        stdout_of(&status).contains("failed"),
        "{}",
        stdout_of(&status)
    );

    // Two rescans after the acknowledgement: neither puts the job back.
    let acked_at = std::fs::read_to_string(&log_path).unwrap().len();
    // Each batch's sync asks the destination what it speaks (OPTIONS)
    // before its scan; no upload request may follow.
    let uploads = || {
        let requests = proxy.requests();
        requests
            .iter()
            .filter(|r| !r.starts_with("OPTIONS"))
            .count()
    };
    let requests_then = uploads();
    let rescans = |log: &str| log[acked_at..].matches("rescanning every folder").count();
    let deadline = Instant::now() + Duration::from_secs(30);
    while rescans(&std::fs::read_to_string(&log_path).unwrap()) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(rescans(&log), 2, "{log}");
    assert!(!log[acked_at..].contains("retrying"), "{log}");
    assert_eq!(uploads(), requests_then, "nothing was sent again");
    assert!(walk(&server.dir).is_empty());
    assert_eq!(watching.terminate(), Some(130));
}

#[test]
fn a_journal_and_log_inside_the_watched_folder_start_no_batches_of_their_own() {
    let env = TestEnv::new();
    let source = env.path().join("home");
    std::fs::create_dir_all(&source).unwrap();
    let server = Server::start(&env.path().join("dest"), &[]);
    // A first run: the journal's folder does not exist yet.
    let journal = source.join(".local/share/ferry/journal.jsonl");
    let out = env.path().join("events.jsonl");
    let mut watching = Watching(
        env.ferry_bare()
            .arg("--journal")
            .arg(&journal)
            .arg("--log-file")
            .arg(source.join("ferry.log"))
            .args(["--json", "watch"])
            .arg(&source)
            .args(["--to", &server.url("/files/"), "--settle", "100ms"])
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(env.path().join("watch.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for_events(&out, |events| has(events, "upload_summary"));
    write_file(&source.join("IMG_0001.jpg"), &content(1, 3000));
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    // Each batch writes the journal, its lock and the log, all inside the
    // watched folder; were those events taken, a batch would follow every
    // 100 ms settle for ever.
    std::thread::sleep(Duration::from_millis(1500));
    let batches = events_in(&out)
        .iter()
        .filter(|event| event["type"] == "batch")
        .count();
    assert_eq!(batches, 1, "{:?}", events_in(&out));
    assert_eq!(watching.terminate(), Some(130));
}

#[test]
fn files_the_scan_leaves_out_start_no_batch() {
    let env = TestEnv::new();
    let source = env.path().join("Pictures");
    std::fs::create_dir_all(&source).unwrap();
    let server = Server::start(&env.path().join("dest"), &[]);
    let (mut watching, out) = Watching::start_json(
        &env,
        &source,
        &server.url("/files/"),
        &["--settle", "100ms"],
    );
    wait_for_events(&out, |events| has(events, "upload_summary"));
    // A photo app's catalog and thumbnails change all the time.
    for round in 0..3u32 {
        write_file(&source.join("Library.lrcat"), &content(round, 5000));
        write_file(
            &source.join(".thumbnails/IMG_0001.jpg"),
            &content(round, 500),
        );
        std::thread::sleep(Duration::from_millis(150));
    }
    // A sidecar with no photo of its name: the scan would leave it out.
    write_file(&source.join("IMG_0404.xmp"), b"<x:xmpmeta/>");
    std::thread::sleep(Duration::from_millis(300));
    write_file(&source.join("IMG_0001.jpg"), &content(9, 3000));
    assert_eq!(wait_for_files(&server.dir, 1), 1);
    std::thread::sleep(Duration::from_millis(500));
    let batches: Vec<u64> = events_in(&out)
        .iter()
        .filter(|event| event["type"] == "batch")
        .map(|event| event["settled"].as_u64().unwrap())
        .collect();
    assert_eq!(batches, [1], "{:?}", events_in(&out));
    assert!(server.dir.join("IMG_0001.jpg").exists());
    assert_eq!(watching.terminate(), Some(130));
}

/// Sidecars in a watched folder: an XMP written just after its photo
/// leaves the card with it under `--delete-after` (before, the watch took
/// no sidecar at all: the photo was deleted and its XMP stayed, never
/// backed up), and one written long after its photo was uploaded joins it
/// then (the batch takes the photo along from the disk).
#[test]
fn a_sidecar_goes_with_its_photo_whenever_it_settles() {
    let env = TestEnv::new();
    let card = env.path().join("card/DCIM");
    std::fs::create_dir_all(&card).unwrap();
    let dest = env.path().join("dest");
    let (mut watching, out) = Watching::start_json(
        &env,
        &card,
        dest.to_str().unwrap(),
        &["--settle", "400ms", "--rescan", "0", "--delete-after"],
    );
    wait_for_events(&out, |events| has(events, "upload_summary"));
    write_file(&card.join("IMG_0001.JPG"), &content(1, 4000));
    std::thread::sleep(Duration::from_millis(200));
    write_file(&card.join("IMG_0001.XMP"), b"<x:xmpmeta/>");
    assert_eq!(wait_for_files(&dest, 2), 2);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !walk(&card).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(walk(&card).is_empty(), "{:?}", walk(&card));
    assert_eq!(watching.terminate(), Some(130));

    let card = env.path().join("card2");
    std::fs::create_dir_all(&card).unwrap();
    let dest = env.path().join("dest2");
    let (mut watching, out) = Watching::start_json(
        &env,
        &card,
        dest.to_str().unwrap(),
        &["--settle", "200ms", "--rescan", "0"],
    );
    wait_for_events(&out, |events| has(events, "upload_summary"));
    write_file(&card.join("IMG_0002.JPG"), &content(2, 4000));
    assert_eq!(wait_for_files(&dest, 1), 1);
    write_file(&card.join("IMG_0002.JPG.xmp"), b"<x:xmpmeta/>");
    assert_eq!(wait_for_files(&dest, 2), 2, "{:?}", events_in(&out));
    assert!(dest.join("IMG_0002.JPG.xmp").exists());
    assert_eq!(watching.terminate(), Some(130));
}
