//! `ferry serve`'s bounds on what clients may hold: unfinished uploads (and
//! so BITS sessions and bodies), threads for paused bodies, and how long a
//! body may stay silent.

use std::io::Write;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

use crate::http::{Request, Server, read_response, request};
use crate::util::{TestEnv, content};

fn tus_create(server: &Server, name: &str, length: u64) -> crate::http::Response {
    request("POST", "/files/")
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", length)
        .header(
            "Upload-Metadata",
            format!("filename {}", STANDARD.encode(name)),
        )
        .send(server.address, b"")
}

fn tus_patch(location: &str, offset: u64) -> Request {
    request("PATCH", &Server::path_of(location))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset)
        .header("Content-Type", "application/offset+octet-stream")
}

fn bits_session(server: &Server, name: &str) -> crate::http::Response {
    request("BITS_POST", &format!("/files/{name}"))
        .header("BITS-Packet-Type", "Create-Session")
        .header(
            "BITS-Supported-Protocols",
            "{7df0354d-249b-430f-820d-3d2a9bef4931}",
        )
        .send(server.address, b"")
}

/// `--max-uploads 3`: a fourth unfinished upload (tus, plain PUT or a BITS
/// session) gets 503 with Retry-After and writes nothing; completing or
/// terminating one frees its place; and after a restart the unfinished
/// uploads on disk still count.
#[test]
fn unfinished_uploads_are_capped_and_finishing_one_frees_its_place() {
    let env = TestEnv::new();
    let dir = env.path().join("dest");
    let server = Server::start(&dir, &["--max-uploads", "3"]);
    let locations: Vec<String> = (0..3)
        .map(|n| {
            let created = tus_create(&server, &format!("held-{n}.jpg"), 10);
            assert_eq!(created.status, 201, "{created:?}");
            created.expect("Location").to_owned()
        })
        .collect();
    let refused = tus_create(&server, "fourth.jpg", 10);
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(refused.header("Retry-After").is_some(), "{refused:?}");
    assert!(refused.body.contains("--max-uploads"), "{refused:?}");
    let put = request("PUT", "/files/put.jpg").send_refused(server.address, b"0123456789");
    assert_eq!(put.status, 503, "{put:?}");
    assert!(!dir.join("put.jpg").exists());
    let session = bits_session(&server, "bits.jpg");
    assert_eq!(session.status, 503, "{session:?}");
    let parts = std::fs::read_dir(dir.join(".ferry-uploads"))
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".part")
        })
        .count();
    assert_eq!(parts, 3, "a refused upload left a part file");

    let done = tus_patch(&locations[0], 0).send(server.address, b"0123456789");
    assert_eq!(done.status, 204, "{done:?}");
    let after_done = request("PUT", "/files/put.jpg").send(server.address, b"0123456789");
    assert_eq!(after_done.status, 201, "{after_done:?}");
    let terminated = request("DELETE", &Server::path_of(&locations[1]))
        .header("Tus-Resumable", "1.0.0")
        .send(server.address, b"");
    assert_eq!(terminated.status, 204, "{terminated:?}");
    // held-2, fourth and fifth fill the three places again.
    assert_eq!(tus_create(&server, "fourth.jpg", 10).status, 201);
    assert_eq!(tus_create(&server, "fifth.jpg", 10).status, 201);
    assert_eq!(tus_create(&server, "sixth.jpg", 10).status, 503);

    let address = server.address.to_string();
    drop(server);
    let restarted = Server::start_on(&dir, &address, &["--max-uploads", "3"]);
    let still_full = tus_create(&restarted, "sixth.jpg", 10);
    assert_eq!(still_full.status, 503, "{still_full:?}");
    let raised = {
        drop(restarted);
        Server::start_on(&dir, &address, &["--max-uploads", "4"])
    };
    assert_eq!(tus_create(&raised, "sixth.jpg", 10).status, 201);
}

/// Bodies that pause mid-stream hold no thread each: with 24 of them
/// paused after 2 MiB (past the size where a body gets a writer of its
/// own), the server soon runs far fewer than 24 threads (it ran 51 when
/// each had a writer and a hasher thread); then each finishes,
/// byte-identical, and its SHA-256 matches the announced one.
#[test]
fn a_paused_body_holds_no_thread() {
    const BODIES: usize = 24;
    let env = TestEnv::new();
    let dir = env.path().join("dest");
    let server = Server::start(&dir, &[]);
    let bodies: Vec<Vec<u8>> = (0..BODIES).map(|n| content(n as u32, 4 << 20)).collect();
    let mut streams = Vec::new();
    for (n, body) in bodies.iter().enumerate() {
        let digest = format!("sha-256=:{}:", STANDARD.encode(sha2::Sha256::digest(body)));
        let stream = request("PUT", &format!("/files/paused-{n}.mov"))
            .header("Repr-Digest", digest)
            .start(server.address, Some(body.len() as u64), &body[..2 << 20]);
        streams.push(stream);
    }
    // Every paused body's first half is on disk.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let on_disk: u64 = std::fs::read_dir(dir.join(".ferry-uploads"))
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".part"))
            .map(|entry| entry.metadata().unwrap().len())
            .sum();
        if on_disk == (BODIES as u64) * (2 << 20) {
            break;
        }
        assert!(Instant::now() < deadline, "{on_disk} bytes on disk");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Threads that only served for a while end after tokio's 10 s of
    // idleness; a thread held by a body would not.
    std::thread::sleep(Duration::from_secs(12));
    let threads = std::fs::read_dir(format!("/proc/{}/task", server.child.id()))
        .unwrap()
        .count();
    assert!(
        threads < BODIES / 2,
        "{threads} threads for {BODIES} paused bodies"
    );
    for (stream, body) in streams.iter_mut().zip(&bodies) {
        stream.write_all(&body[2 << 20..]).unwrap();
    }
    for (n, (mut stream, body)) in streams.into_iter().zip(&bodies).enumerate() {
        let response = read_response(&mut stream, false);
        assert_eq!(response.status, 201, "{response:?}");
        assert_eq!(
            &std::fs::read(dir.join(format!("paused-{n}.mov"))).unwrap(),
            body
        );
    }
    assert_eq!(server.log().matches("sha256 verified").count(), BODIES);
}

/// A body that goes silent is cut after 60 s (it was 120 s), and the bytes
/// that arrived are kept for the client to resume from.
#[test]
fn a_silent_body_is_cut_after_a_minute_and_its_bytes_kept() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let created = tus_create(&server, "silent.mov", 1000);
    let location = created.expect("Location").to_owned();
    let started = Instant::now();
    let mut stream = tus_patch(&location, 0).start(server.address, Some(1000), &[7; 10]);
    stream
        .set_read_timeout(Some(Duration::from_secs(100)))
        .unwrap();
    let answer = read_response(&mut stream, false);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(55) && waited < Duration::from_secs(90),
        "answered after {waited:?}: {answer:?}"
    );
    let head = request("HEAD", &Server::path_of(&location))
        .header("Tus-Resumable", "1.0.0")
        .send(server.address, b"");
    assert_eq!(head.offset(), 10, "{head:?}");
}

/// The open-file limit: serve raises its soft limit toward the hard one to
/// fit `--max-connections`, and when the hard limit is too low it serves
/// fewer connections and says so in one line (it used to take connections
/// until `accept` failed for lack of descriptors).
#[test]
fn the_open_file_limit_is_raised_or_the_connections_lowered_and_said() {
    let env = TestEnv::new();
    let start = |limits: &str, lines_to_read: usize| {
        let child = std::process::Command::new("prlimit")
            .arg(format!("--nofile={limits}"))
            .arg(env!("CARGO_BIN_EXE_ferry"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--max-uploads",
                "16",
                "--dir",
            ])
            .arg(env.path().join("dest"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let mut stderr = std::io::BufReader::new(child.0.stderr.take().unwrap());
        let mut lines = String::new();
        // The listening line, then the limit's line when there is one.
        for _ in 0..lines_to_read {
            std::io::BufRead::read_line(&mut stderr, &mut lines).unwrap();
        }
        (child, lines)
    };
    let (raised, _) = start("256:8192", 1);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", raised.0.id())).unwrap();
    let open_files = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .nth(3)
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_eq!(open_files, 4096 + 2 * 16 + 64, "{limits}");
    drop(raised);

    let (_lowered, lines) = start("300:300", 2);
    assert!(
        lines.contains("serving at most 204 connections, not 4096: the open-file limit is 300"),
        "{lines}"
    );
}

/// A child process killed when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Places are not lost: a plain PUT that fails after its upload was
/// created (its name's folder is a file) frees its place at once, and
/// when the limit is reached, uploads nobody wrote to for 10 minutes give
/// theirs up (they held it until they expired, 7 days by default).
#[test]
fn failed_puts_and_abandoned_uploads_give_their_places_back() {
    let env = TestEnv::new();
    let dir = env.path().join("dest");
    let server = Server::start(&dir, &["--max-uploads", "2"]);
    let file = request("PUT", "/files/taken.txt").send(server.address, b"a file");
    assert_eq!(file.status, 201, "{file:?}");
    for n in 0..3 {
        let under_a_file = request("PUT", &format!("/files/taken.txt/x{n}"))
            .send(server.address, b"cannot be placed");
        assert_eq!(under_a_file.status, 400, "{under_a_file:?}");
    }
    let after = request("PUT", "/files/fine.txt").send(server.address, b"fine");
    assert_eq!(after.status, 201, "{after:?}");

    let abandoned: Vec<String> = (0..2)
        .map(|n| {
            let created = tus_create(&server, &format!("abandoned-{n}.jpg"), 10);
            assert_eq!(created.status, 201, "{created:?}");
            created.expect("Location").to_owned()
        })
        .collect();
    assert_eq!(tus_create(&server, "third.jpg", 10).status, 503);
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(11 * 60);
    for entry in std::fs::read_dir(dir.join(".ferry-uploads")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "part" || e == "json") {
            let file = std::fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(long_ago).unwrap();
        }
    }
    assert_eq!(tus_create(&server, "third.jpg", 10).status, 201);
    let gone = request("HEAD", &Server::path_of(&abandoned[0]))
        .header("Tus-Resumable", "1.0.0")
        .send(server.address, b"");
    assert_eq!(gone.status, 404, "{gone:?}");
}
