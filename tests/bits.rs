//! BITS 1.5 upload ([MC-BUP]): `ferry serve`'s conformance, one raw request
//! per rule, and ferry's client end to end (byte-identical syncs, SIGKILL,
//! a server restart).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

use crate::fault_proxy::FaultProxy;
use crate::http::{Request, Response, Server, request};
use crate::upload::{assert_same_tree, media_tree, run_ok, write_big};
use crate::upload_faults::{kill_uploads_repeatedly, only_job};
use crate::util::{TestEnv, content, stderr_of, stdout_of};

const GUID: &str = "{7df0354d-249b-430f-820d-3d2a9bef4931}";
const MIB: u64 = 1 << 20;

fn bits(packet: &str, target: &str) -> Request {
    request("BITS_POST", target).header("BITS-Packet-Type", packet)
}

fn create(server: &Server, target: &str) -> String {
    let created = bits("Create-Session", target)
        .header("BITS-Supported-Protocols", GUID)
        .send(server.address, b"");
    assert_eq!(created.status, 200, "{created:?}");
    assert_eq!(created.expect("BITS-Packet-Type"), "Ack");
    assert_eq!(created.expect("BITS-Protocol"), GUID);
    created.expect("BITS-Session-Id").to_owned()
}

fn fragment(
    server: &Server,
    target: &str,
    session: &str,
    body: &[u8],
    first: usize,
    last: usize,
    total: usize,
) -> Response {
    bits("Fragment", target)
        .header("BITS-Session-Id", session)
        .header("Content-Range", format!("bytes {first}-{last}/{total}"))
        .send(server.address, &body[first..=last])
}

fn received(response: &Response) -> u64 {
    response
        .expect("BITS-Received-Content-Range")
        .parse()
        .unwrap()
}

fn error_code(response: &Response) -> &str {
    response.expect("BITS-Error-Code")
}

/// The bytes the server holds for the only partial upload in `dir`.
fn partial_bytes(dir: &Path) -> Vec<u8> {
    let parts: Vec<_> = std::fs::read_dir(dir.join(".ferry-uploads"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "part"))
        .collect();
    assert_eq!(parts.len(), 1, "{parts:?}");
    std::fs::read(&parts[0]).unwrap()
}

fn repr_digest(bytes: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(sha2::Sha256::digest(bytes)))
}

#[test]
fn serve_follows_every_bits_rule() {
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &["--max-append-size", "10"]);
    let body = content(31, 30);
    let target = "/files/bits/clip.mov";

    let ping = bits("Ping", "/files/").send(server.address, b"");
    assert_eq!((ping.status, ping.expect("BITS-Packet-Type")), (200, "Ack"));
    assert_eq!(ping.header("BITS-Error-Code"), None);

    let strange = bits("Teleport", target).send(server.address, b"");
    assert_eq!(strange.status, 400, "{strange:?}");
    assert_eq!(error_code(&strange), "0x80070057");

    let other_protocol = bits("Create-Session", target)
        .header(
            "BITS-Supported-Protocols",
            "{00000000-0000-0000-0000-000000000000}",
        )
        .send(server.address, b"");
    assert_eq!(other_protocol.status, 400, "{other_protocol:?}");
    assert_eq!(error_code(&other_protocol), "0x80070057");
    assert_eq!(other_protocol.expect("BITS-Error-Context"), "0x5");

    let session = create(&server, target);
    assert!(
        session.starts_with('{') && session.ends_with('}'),
        "{session}"
    );

    let first = fragment(&server, target, &session, &body, 0, 9, 30);
    assert_eq!((first.status, received(&first)), (200, 10), "{first:?}");
    assert_eq!(partial_bytes(&dest), body[..10]);

    // Overlap: bytes 5-9 are there already and are not written twice.
    let overlap = fragment(&server, target, &session, &body, 5, 14, 30);
    assert_eq!(
        (overlap.status, received(&overlap)),
        (200, 15),
        "{overlap:?}"
    );
    assert_eq!(partial_bytes(&dest), body[..15]);

    let gap = fragment(&server, target, &session, &body, 20, 29, 30);
    assert_eq!((gap.status, received(&gap)), (416, 15), "{gap:?}");
    assert_eq!(partial_bytes(&dest), body[..15]);

    let changed_total = bits("Fragment", target)
        .header("BITS-Session-Id", &session)
        .header("Content-Range", "bytes 15-19/40")
        .send(server.address, &body[15..20]);
    assert_eq!(changed_total.status, 400, "{changed_total:?}");
    assert_eq!(error_code(&changed_total), "0x80070057");
    assert_eq!(partial_bytes(&dest), body[..15]);

    let oversized = fragment(&server, target, &session, &body, 15, 29, 30);
    assert_eq!(oversized.status, 413, "{oversized:?}");
    assert_eq!(partial_bytes(&dest), body[..15]);

    let early_close = bits("Close-Session", target)
        .header("BITS-Session-Id", &session)
        .send(server.address, b"");
    assert_eq!(early_close.status, 400, "{early_close:?}");
    assert!(!dest.join("bits/clip.mov").exists());

    for (first, last) in [(15, 24), (25, 29)] {
        let sent = fragment(&server, target, &session, &body, first, last, 30);
        assert_eq!((sent.status, received(&sent)), (200, last as u64 + 1));
    }
    let closed = bits("Close-Session", target)
        .header("BITS-Session-Id", &session)
        .header("Repr-Digest", repr_digest(&body))
        .send(server.address, b"");
    assert_eq!(closed.status, 200, "{closed:?}");
    assert_eq!(closed.expect("Repr-Digest"), repr_digest(&body));
    assert_eq!(closed.expect("Ferry-Path"), "bits/clip.mov");
    assert_eq!(std::fs::read(dest.join("bits/clip.mov")).unwrap(), body);
    assert!(
        server
            .wait_for_log("stored bits/clip.mov")
            .contains("sha256 verified")
    );

    let unknown = bits("Fragment", target)
        .header("BITS-Session-Id", "{01234567-89ab-cdef-0123-456789abcdef}")
        .header("Content-Range", "bytes 0-4/5")
        .send(server.address, b"12345");
    assert_eq!(unknown.status, 500, "{unknown:?}");
    assert_eq!(error_code(&unknown), "0x8020001F");

    // Cancel drops the session and its bytes.
    let doomed = create(&server, "/files/bits/doomed.mov");
    let sent = fragment(&server, "/files/bits/doomed.mov", &doomed, &body, 0, 9, 30);
    assert_eq!(sent.status, 200);
    let cancelled = bits("Cancel-Session", "/files/bits/doomed.mov")
        .header("BITS-Session-Id", &doomed)
        .send(server.address, b"");
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    let after = fragment(
        &server,
        "/files/bits/doomed.mov",
        &doomed,
        &body,
        10,
        19,
        30,
    );
    assert_eq!((after.status, error_code(&after)), (500, "0x8020001F"));
    assert!(!dest.join("bits/doomed.mov").exists());

    // A digest that does not match keeps the file out.
    let wrong = create(&server, "/files/bits/wrong.mov");
    fragment(&server, "/files/bits/wrong.mov", &wrong, &body, 0, 9, 10);
    let refused = bits("Close-Session", "/files/bits/wrong.mov")
        .header("BITS-Session-Id", &wrong)
        .header("Repr-Digest", repr_digest(b"something else"))
        .send(server.address, b"");
    assert_eq!(refused.status, 400, "{refused:?}");
    assert!(!dest.join("bits/wrong.mov").exists());
}

#[test]
fn a_bits_session_survives_a_server_restart_and_another_connection() {
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    let body = content(32, 3 << 20);
    let target = "/files/restart.mov";
    let server = Server::start(&dest, &[]);
    let session = create(&server, target);
    let total = body.len();
    let sent = fragment(&server, target, &session, &body, 0, (1 << 20) - 1, total);
    assert_eq!(received(&sent), 1 << 20);
    drop(server); // SIGKILL

    let server = Server::start(&dest, &[]);
    // The client resends from where it thinks it is; the server trims.
    let resumed = fragment(
        &server,
        target,
        &session,
        &body,
        512 << 10,
        total - 1,
        total,
    );
    assert_eq!((resumed.status, received(&resumed)), (200, total as u64));
    let closed = bits("Close-Session", target)
        .header("BITS-Session-Id", &session)
        .header("Repr-Digest", repr_digest(&body))
        .send(server.address, b"");
    assert_eq!(closed.status, 200, "{closed:?}");
    assert_eq!(std::fs::read(dest.join("restart.mov")).unwrap(), body);
}

#[test]
fn ferry_syncs_over_bits_byte_identical_and_a_second_sync_sends_nothing() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    media_tree(&source);
    write_big(&source.join("video/long.mov"), 256 << 20, 9);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let url = server.url("/files/");
    let sync = || {
        run_ok(env.ferry().arg("sync").arg(&source).args([
            "--to",
            &url,
            "--protocol",
            "bits",
            "--chunk-size",
            "8M",
        ]))
    };
    let first = stderr_of(&sync());
    assert!(first.contains("uploaded 202 files"), "{first}");
    assert_same_tree(&source, &dest);
    let log = server.wait_for_log("video/long.mov");
    assert_eq!(log.matches("BITS 1.5").count(), 202, "{log}");
    assert_eq!(log.matches("sha256 verified").count(), 202, "{log}");
    let again = stderr_of(&sync());
    assert!(again.contains("nothing to upload"), "{again}");
    assert_eq!(server.log().matches("stored").count(), 202);

    let probe = run_ok(
        env.ferry()
            .args(["probe", &url, "--protocol", "bits", "--json"]),
    );
    let report: serde_json::Value = serde_json::from_str(stdout_of(&probe).trim()).unwrap();
    assert_eq!(report["ack"], true, "{report}");
    assert_eq!(report["status"], 200, "{report}");
}

#[test]
fn sigkill_during_a_bits_upload_resends_at_most_one_fragment_per_kill() {
    const FRAGMENT: u64 = 4 * MIB;
    let env = TestEnv::new();
    let source = env.path().join("media");
    let size = 100 << 20;
    write_big(&source.join("long.mov"), size, 12);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(16 * MIB));
    let to = format!("http://{}/files/", proxy.address);
    run_ok(
        env.ferry()
            .arg("scan")
            .arg(&source)
            .args(["--to", &to, "--protocol", "bits"]),
    );
    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let kills = kill_uploads_repeatedly(&env, &["--chunk-size", "4M"], &mut rng, 12, || {});
    run_ok(env.ferry().args(["upload", "--chunk-size", "4M"]));
    assert!(kills >= 10, "only {kills} kills landed (seed {seed})");
    assert_same_tree(&source, &dest);
    assert_eq!(server.log().matches("stored long.mov").count(), 1);
    let forwarded = proxy.forwarded();
    assert!(
        forwarded <= size as u64 + kills * FRAGMENT,
        "sent {forwarded} bytes for {size} with {kills} kills (seed {seed})"
    );
}

#[test]
fn a_bits_upload_resumes_after_the_server_restarts() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    let size = 48 << 20;
    write_big(&source.join("clip.mov"), size, 13);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let listen = server.address.to_string();
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(8 * MIB));
    let to = format!("http://{}/files/", proxy.address);
    let child = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &to, "--protocol", "bits", "--chunk-size", "2M"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    drop(server); // SIGKILL mid-upload
    std::thread::sleep(Duration::from_millis(500));
    let server = Server::start_on(&dest, &listen, &[]);
    let output = child.wait_with_output().unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("retrying"), "{stderr}");
    assert!(!stderr.contains("starting again"), "{stderr}");
    assert_same_tree(&source, &dest);
    assert_eq!(
        server
            .wait_for_log("stored clip.mov")
            .matches("stored")
            .count(),
        1
    );
    assert!(proxy.forwarded() < size as u64 + 8 * MIB);
}

/// Starts `ferry upload` and kills it once the job has a session.
fn upload_until_registered(env: &TestEnv) -> ferry::journal::job::Session {
    let mut child = env
        .ferry()
        .args(["upload", "--chunk-size", "1M"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(25));
        if let Some(session) = only_job(env).session
            && session.offset > 0
        {
            child.kill().unwrap();
            child.wait().unwrap();
            return session;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("the upload never registered a session");
}

#[test]
fn a_lost_bits_session_starts_again_and_cancel_ends_a_session() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), 16 << 20, 14);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(4 * MIB));
    let to = format!("http://{}/files/", proxy.address);
    let scan = |env: &TestEnv| {
        run_ok(
            env.ferry()
                .arg("scan")
                .arg(&source)
                .args(["--to", &to, "--protocol", "bits"]),
        )
    };
    scan(&env);
    let session = upload_until_registered(&env);
    let id = session
        .id
        .clone()
        .expect("a BITS session ID in the journal");
    // The server loses the session (here: someone cancels it).
    let dropped = bits("Cancel-Session", "/files/clip.mov")
        .header("BITS-Session-Id", &id)
        .send(server.address, b"");
    assert_eq!(dropped.status, 200);
    let resumed = stderr_of(&run_ok(env.ferry().args(["upload", "--chunk-size", "4M"])));
    assert!(resumed.contains("starting again from 0"), "{resumed}");
    assert_same_tree(&source, &dest);

    // `ferry cancel` sends Cancel-Session: the server's partial bytes go.
    let other = TestEnv::new();
    scan(&other);
    upload_until_registered(&other);
    assert_eq!(parts_in(&dest), 1);
    let cancelled = run_ok(other.ferry().args(["cancel", "--pending"]));
    assert_eq!(stdout_of(&cancelled).trim(), "cancel: 1 job");
    assert_eq!(parts_in(&dest), 0);
}

fn parts_in(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(".ferry-uploads"))
        .unwrap()
        .filter(|entry| {
            let path = entry.as_ref().unwrap().path();
            path.extension().is_some_and(|ext| ext == "part")
        })
        .count()
}

#[test]
fn an_idle_bits_session_expires_like_any_partial_upload() {
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &["--expire-after", "1s"]);
    let body = content(33, 20);
    let session = create(&server, "/files/idle.mov");
    let sent = fragment(&server, "/files/idle.mov", &session, &body, 0, 9, 20);
    assert_eq!(sent.status, 200);
    std::thread::sleep(Duration::from_millis(2200));
    let late = fragment(&server, "/files/idle.mov", &session, &body, 10, 19, 20);
    assert_eq!(
        (late.status, error_code(&late)),
        (500, "0x8020001F"),
        "{late:?}"
    );
    assert_eq!(parts_in(&dest), 0);
}

#[test]
fn a_bits_refusal_names_its_error_code() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    crate::util::write_file(&source.join("big.mov"), &content(34, 5000));
    let server = Server::start(&env.path().join("dest"), &[]);
    // `.ferry-` names are reserved on the server: Create-Session is refused.
    let output = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args([
            "--to",
            &server.url("/files/.ferry-x/"),
            "--protocol",
            "bits",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(
            "failed: big.mov: creating the BITS session: E_INVALIDARG (0x80070057): HTTP 400"
        ),
        "{stderr}"
    );
}
