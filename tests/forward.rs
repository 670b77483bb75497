//! `ferry serve --forward`: completed uploads are handed, whole, to a
//! backend that takes only plain PUTs (Python's standard-library HTTP server
//! with a PUT handler, `tests/peers/put_backend.py`), from ferry (IETF and
//! tus), tus-js-client (ietf-draft-05) and tuspy; a failing backend is
//! retried without the client sending anything again, also after a restart.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::{Server, request};
use crate::peers;
use crate::upload::{assert_same_tree, run_ok, write_big};
use crate::util::{TestEnv, content, stderr_of, stdout_of, write_file};

/// The plain-PUT backend, killed when dropped.
pub struct Backend {
    child: Child,
    pub address: SocketAddr,
    dir: PathBuf,
}

impl Backend {
    pub fn start_on(dir: &Path, port: u16) -> Backend {
        Backend::start_with(dir, port, None)
    }

    /// A backend that answers 401 unless `Authorization` is `authorization`.
    fn start_with(dir: &Path, port: u16, authorization: Option<&str>) -> Backend {
        std::fs::create_dir_all(dir).unwrap();
        let mut command = Command::new(peers::python());
        if let Some(authorization) = authorization {
            command.env("REQUIRE_AUTHORIZATION", authorization);
        }
        let mut child = command
            .arg(peers::dir().join("put_backend.py"))
            .arg(port.to_string())
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        let port = ready
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the backend said {ready:?}"));
        Backend {
            child,
            address: format!("127.0.0.1:{port}").parse().unwrap(),
            dir: dir.to_owned(),
        }
    }

    fn start(dir: &Path) -> Backend {
        Backend::start_on(dir, 0)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The files `ferry serve` placed (its bookkeeping folder aside).
fn placed_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|name| name == ".ferry-uploads")
        {
            continue;
        }
        match path.is_dir() {
            true => found.extend(placed_files(&path)),
            false => found.push(path),
        }
    }
    found
}

fn sha256_hex(bytes: &[u8]) -> String {
    ferry::digest::Sha256::of(bytes).to_hex()
}

/// The response headers the journal recorded for the job uploading `name`.
fn recorded_response(env: &TestEnv, journal: &str, name: &str) -> serde_json::Value {
    let output = run_ok(
        env.ferry_bare()
            .arg("--journal")
            .arg(env.path().join(journal))
            .args(["jobs", "--json"]),
    );
    stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|job| {
            job["resource"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(name))
        })
        .unwrap_or_else(|| panic!("no job for {name}"))["response"]
        .clone()
}

#[test]
fn every_client_and_protocol_lands_whole_files_at_a_plain_put_backend() {
    let env = TestEnv::new();
    let backend = Backend::start(&env.path().join("backend"));
    let dest = env.path().join("dest");
    let forward = format!("http://{}/", backend.address);
    let server = Server::start(&dest, &["--forward", &forward]);

    for protocol in ["ietf", "tus"] {
        let source = env.path().join("media").join(protocol);
        for i in 0..20u32 {
            write_file(
                &source.join(format!("{protocol}/IMG_{i:02}.jpg")),
                &content(100 + i, 1000 + i as usize * 4099),
            );
        }
        write_big(&source.join(format!("{protocol}/clip.mov")), 24 << 20, 3);
        let journal = format!("{protocol}.jsonl");
        let output = run_ok(
            env.ferry_bare()
                .arg("--journal")
                .arg(env.path().join(&journal))
                .arg("sync")
                .arg(&source)
                .args(["--to", &server.url("/files/"), "--protocol", protocol])
                .args(["--chunk-size", "8M"]),
        );
        assert!(
            stderr_of(&output).contains("uploaded 21 files"),
            "{}",
            stderr_of(&output)
        );
        assert_same_tree(&source.join(protocol), &backend.dir.join(protocol));
        let clip = std::fs::read(source.join(format!("{protocol}/clip.mov"))).unwrap();
        let response = recorded_response(&env, &journal, "clip.mov");
        if protocol == "ietf" {
            // The backend's status and ETag are the upload's final answer.
            assert_eq!(response["status"], 201, "{response}");
        }
        assert_eq!(
            response["headers"]["etag"],
            format!("\"{}\"", sha256_hex(&clip)),
            "{response}"
        );
    }
    assert_eq!(
        placed_files(&dest),
        Vec::<PathBuf>::new(),
        "files left in --dir"
    );

    let node = peers::node();
    let sent = content(40, 20 << 20);
    let file = env.path().join("client.bin");
    write_file(&file, &sent);
    let js = Command::new("node")
        .arg(node.join("tus-js-upload.mjs"))
        .arg(server.url("/files/"))
        .arg(&file)
        .args(["ietf-draft-05", "js/client.bin", "8388608"])
        .current_dir(node)
        .output()
        .unwrap();
    assert!(
        js.status.success(),
        "{}",
        String::from_utf8_lossy(&js.stderr)
    );
    let py = Command::new(peers::python())
        .arg(peers::dir().join("tuspy_upload.py"))
        .arg(server.url("/files/"))
        .arg(&file)
        .args(["py/client.bin", "8388608"])
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    for name in ["js/client.bin", "py/client.bin"] {
        assert!(
            std::fs::read(backend.dir.join(name)).unwrap() == sent,
            "{name}"
        );
    }
    let log = server.log();
    assert_eq!(log.matches("forwarded ").count(), 44, "{log}");
}

#[test]
fn a_backend_answering_503_twice_still_ends_in_success_with_its_etag() {
    let env = TestEnv::new();
    let secret = "Bearer backend-s3cret";
    let backend = Backend::start_with(&env.path().join("backend"), 0, Some(secret));
    let proxy = FaultProxy::start(backend.address, &[Fault::Status(503), Fault::Status(503)]);
    let dest = env.path().join("dest");
    // The header's value comes from the environment and is never logged.
    let server = Server::start_with(
        &dest,
        "127.0.0.1:0",
        &[
            "--forward",
            &format!("http://{}/", proxy.address),
            "--forward-header",
            "Authorization: Bearer ${BACKEND_TOKEN}",
        ],
        &[("BACKEND_TOKEN", "backend-s3cret")],
    );
    let source = env.path().join("media");
    let body = content(41, 3 << 20);
    write_file(&source.join("clip.mov"), &body);
    let output = run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &server.url("/files/")]),
    );
    assert!(
        stderr_of(&output).contains("uploaded 1 file"),
        "{}",
        stderr_of(&output)
    );
    assert!(std::fs::read(backend.dir.join("clip.mov")).unwrap() == body);
    let log = server.log();
    assert_eq!(
        log.matches("forwarding clip.mov failed").count(),
        2,
        "{log}"
    );
    let response = recorded_response(&env, "journal.jsonl", "clip.mov");
    assert_eq!(response["status"], 201, "{response}");
    assert_eq!(
        response["headers"]["etag"],
        format!("\"{}\"", sha256_hex(&body))
    );
    // The client sent the file once: no retry reached ferry serve.
    assert_eq!(log.matches("stored clip.mov").count(), 1);
    assert!(!log.contains("s3cret"), "{log}");
}

#[test]
fn while_the_backend_is_down_the_upload_waits_and_a_restart_forwards_it() {
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    // The backend's port, taken from a first backend that is then stopped.
    let port = Backend::start(&env.path().join("backend")).address.port();
    let forward = format!("http://127.0.0.1:{port}/");
    let server = Server::start(&dest, &["--forward", &forward, "--keep"]);
    let listen = server.address.to_string();
    let source = env.path().join("media");
    let body = content(42, 2 << 20);
    write_file(&source.join("late.mov"), &body);
    let output = run_ok(env.ferry().arg("sync").arg(&source).args([
        "--to",
        &server.url("/files/"),
        "--protocol",
        "ietf",
    ]));
    assert!(
        stderr_of(&output).contains("uploaded 1 file"),
        "{}",
        stderr_of(&output)
    );
    let response = recorded_response(&env, "journal.jsonl", "late.mov");
    assert_eq!(response["status"], 202, "{response}");
    // The upload is complete and says it waits for the backend.
    let upload = Server::path_of(response["headers"]["location"].as_str().unwrap());
    let head = request("HEAD", &upload)
        .header("Upload-Draft-Interop-Version", 8)
        .send(server.address, b"");
    assert_eq!(head.expect("Upload-Complete"), "?1");
    assert!(
        head.expect("Ferry-Forward")
            .starts_with("waiting for the backend"),
        "{head:?}"
    );
    drop(server);

    let backend = Backend::start_on(&env.path().join("backend"), port);
    let server = Server::start_on(&dest, &listen, &["--forward", &forward, "--keep"]);
    server.wait_for_log("forwarded late.mov to the backend: HTTP 201");
    assert!(std::fs::read(backend.dir.join("late.mov")).unwrap() == body);
    // --keep: the file stays in --dir too.
    assert!(std::fs::read(dest.join("late.mov")).unwrap() == body);
    let head = request("HEAD", &upload)
        .header("Upload-Draft-Interop-Version", 8)
        .send(server.address, b"");
    assert_eq!(head.expect("Ferry-Forward"), "answered HTTP 201");
    assert_eq!(head.expect("ETag"), format!("\"{}\"", sha256_hex(&body)));
}

#[test]
fn a_backend_that_refuses_the_file_fails_the_job_with_its_status() {
    let env = TestEnv::new();
    // The backend wants a credential that ferry serve does not send: 401.
    let backend = Backend::start_with(&env.path().join("backend"), 0, Some("Bearer x"));
    let dest = env.path().join("dest");
    let server = Server::start(
        &dest,
        &["--forward", &format!("http://{}/", backend.address)],
    );
    let source = env.path().join("media");
    write_file(&source.join("no.mov"), &content(43, 10_000));
    let output = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &server.url("/files/"), "--protocol", "ietf"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    // The job fails with the backend's reason; the run does not take the
    // backend's 401 for a refusal of its own credentials.
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("failed: no.mov: appending: HTTP 422")
            || stderr.contains("failed: no.mov: creating the upload: HTTP 422"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the backend refused the file: HTTP 401"),
        "{stderr}"
    );
    assert!(!stderr.contains("credentials"), "{stderr}");
}

/// `ferry verify` against a `serve --forward` whose files left `--dir`:
/// serve answers from its record of what it forwarded, and a name the
/// backend holds for one content is not given to another.
#[test]
fn verify_finds_forwarded_files_verified_and_a_forwarded_name_stays_taken() {
    let env = TestEnv::new();
    let backend = Backend::start(&env.path().join("backend"));
    let dest = env.path().join("dest");
    let forward = format!("http://{}/{{path}}", backend.address);
    let server = Server::start(&dest, &["--forward", &forward]);
    let to = server.url("/files/");
    let card = env.path().join("card");
    for i in 0..3u32 {
        write_file(&card.join(format!("IMG_{i}.jpg")), &content(300 + i, 5000));
    }
    run_ok(env.ferry().arg("sync").arg(&card).args(["--to", &to]));
    assert!(
        placed_files(&dest).is_empty(),
        "forwarded files leave --dir"
    );

    let output = run_ok(env.ferry().args(["verify"]));
    let text = stdout_of(&output);
    assert_eq!(text.matches("verified ").count(), 3, "{text}");
    assert!(
        text.contains("ferry serve forwarded IMG_0.jpg (backend answered HTTP 201)"),
        "{text}"
    );
    assert!(stderr_of(&output).contains("verified 3, size only 0, missing 0"));

    // Another content under a forwarded name gets its own name, at serve
    // and so at the backend; both verify.
    let other = env.path().join("other");
    write_file(&other.join("IMG_0.jpg"), &content(9, 5000));
    let output = run_ok(env.ferry().arg("sync").arg(&other).args(["--to", &to]));
    assert!(
        stderr_of(&output).contains("uploaded IMG_0.jpg as IMG_0 (1).jpg"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        std::fs::read(backend.dir.join("IMG_0.jpg")).unwrap(),
        content(300, 5000)
    );
    assert_eq!(
        std::fs::read(backend.dir.join("IMG_0 (1).jpg")).unwrap(),
        content(9, 5000)
    );
    let output = run_ok(env.ferry().args(["verify"]));
    assert_eq!(stdout_of(&output).matches("verified ").count(), 4);

    // Restarted, serve still knows what it forwarded.
    let listen = server.address.to_string();
    drop(server);
    let _server = Server::start_on(&dest, &listen, &["--forward", &forward]);
    let output = run_ok(env.ferry().args(["verify"]));
    assert_eq!(stdout_of(&output).matches("verified ").count(), 4);
}

/// Finding 1 with `--forward --keep`: a kept copy removed from `--dir` is
/// not "already there"; the same content is placed and forwarded again.
#[test]
fn a_kept_copy_removed_from_the_folder_is_forwarded_again_not_believed() {
    let env = TestEnv::new();
    let backend = Backend::start(&env.path().join("backend"));
    let dest = env.path().join("dest");
    let forward = format!("http://{}/{{path}}", backend.address);
    let server = Server::start(&dest, &["--forward", &forward, "--keep"]);
    let a = content(21, 8000);
    let b = content(22, 8000);
    let put = |body: &[u8]| request("PUT", "/files/IMG.jpg").send(server.address, body);
    assert_eq!(put(&a).status, 201);
    assert_eq!(put(&b).expect("Ferry-Path"), "IMG%20%281%29.jpg");
    std::fs::remove_file(dest.join("IMG.jpg")).unwrap();
    std::fs::remove_file(backend.dir.join("IMG.jpg")).unwrap();

    let again = put(&a);
    assert_eq!(again.status, 201, "{again:?}");
    assert_eq!(again.expect("Ferry-Path"), "IMG.jpg");
    assert_eq!(std::fs::read(backend.dir.join("IMG.jpg")).unwrap(), a);
    assert_eq!(std::fs::read(dest.join("IMG.jpg")).unwrap(), a);
}

/// A backend that takes the connection and never answers does not hold
/// the client past the promised 10 s (202, waiting), and the backend URL,
/// whose query may hold a key, reaches no log line and no header.
#[test]
fn a_hung_or_closed_backend_answers_202_in_time_and_its_url_leaks_nowhere() {
    use std::time::{Duration, Instant};
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_address = hung.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hung.incoming() {
            // Kept open, never read from or answered.
            held.push(stream);
        }
    });
    let closed = crate::util::ClosedPort::new();
    let closed_url = closed.url();
    let closed_address = closed_url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    for backend in [hung_address.to_string(), closed_address.to_owned()] {
        let env = TestEnv::new();
        let forward = format!("http://{backend}/{{path}}?key=s3cretq");
        let server = Server::start(&env.path().join("dest"), &["--forward", &forward]);
        let started = Instant::now();
        let put = request("PUT", "/files/IMG.jpg")
            .header("Upload-Draft-Interop-Version", 8)
            .header("Upload-Complete", "?1")
            .send(server.address, &content(5, 4000));
        let took = started.elapsed();
        assert_eq!(put.status, 202, "{backend}: {put:?}");
        assert!(took < Duration::from_secs(13), "{backend}: {took:?}");
        let said = put.expect("Ferry-Forward");
        assert!(said.starts_with("waiting for the backend"), "{said}");
        std::thread::sleep(Duration::from_millis(600));
        for text in [format!("{put:?}"), server.log()] {
            assert!(!text.contains("s3cretq"), "{text}");
        }
    }
}

/// A backend that takes the whole file and answers after 15 s: the client
/// gets 202 after 10 s, the attempt under way goes on, and the backend
/// gets the file once (it used to be cut off and sent again).
#[test]
fn a_slow_backend_gets_the_file_once_after_the_client_was_answered() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let received = std::sync::Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let count = count.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_secs(15));
                let mut out = stream;
                let _ = out.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
            });
        }
    });
    let env = TestEnv::new();
    let forward = format!("http://{address}/{{path}}");
    let server = Server::start(&env.path().join("dest"), &["--forward", &forward]);
    let started = Instant::now();
    let put = request("PUT", "/files/slow.jpg")
        .header("Upload-Draft-Interop-Version", 8)
        .header("Upload-Complete", "?1")
        .send(server.address, &content(6, 4000));
    assert_eq!(put.status, 202, "{put:?}");
    assert!(started.elapsed() < Duration::from_secs(13));
    server.wait_for_log("forwarded slow.jpg to the backend: HTTP 201");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(received.load(Ordering::SeqCst), 1, "{}", server.log());
}
