//! Independent clients against `ferry serve`: tus-js-client (npm) in its tus
//! mode and its two IETF modes, and tuspy (PyPI) with sha1 checksums. Each
//! uploads a 50 MiB file in several requests, which must arrive
//! byte-identical.

use std::process::Command;

use crate::http::Server;
use crate::peers;
use crate::util::{TestEnv, content, write_file};

const SIZE: usize = 50 << 20;
const CHUNK: &str = "8388608";

fn check(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn tus_js_client_uploads_50_mib_in_tus_and_both_ietf_modes() {
    let env = TestEnv::new();
    let source = env.path().join("source.bin");
    let body = content(10, SIZE);
    write_file(&source, &body);
    let server = Server::start(&env.path().join("dest"), &[]);
    let node = peers::node();
    for (protocol, interop) in [
        ("tus-v1", "tus 1.0.0"),
        ("ietf-draft-03", "IETF draft (interop 5)"),
        ("ietf-draft-05", "IETF draft (interop 6)"),
    ] {
        let relative = format!("js/{protocol}/source.bin");
        let url = check(
            Command::new("node")
                .arg(node.join("tus-js-upload.mjs"))
                .arg(server.url("/files/"))
                .arg(&source)
                .args([protocol, &relative, CHUNK])
                .current_dir(node),
        );
        assert!(url.starts_with(&server.url("/uploads/")), "{url}");
        let log = server.wait_for_log(&format!("stored {relative}"));
        let line = log.lines().find(|line| line.contains(&relative)).unwrap();
        assert!(line.ends_with(interop), "{line}");
        assert!(
            std::fs::read(server.dir.join(&relative)).unwrap() == body,
            "{relative} differs"
        );
    }
}

#[test]
fn tuspy_uploads_50_mib_with_sha1_checksums() {
    let env = TestEnv::new();
    let source = env.path().join("source.bin");
    let body = content(11, SIZE);
    write_file(&source, &body);
    let server = Server::start(&env.path().join("dest"), &[]);
    let url = check(
        Command::new(peers::python())
            .arg(peers::dir().join("tuspy_upload.py"))
            .arg(server.url("/files/"))
            .arg(&source)
            .args(["py/source.bin", CHUNK]),
    );
    assert!(url.starts_with(&server.url("/uploads/")), "{url}");
    server.wait_for_log("stored py/source.bin");
    assert!(std::fs::read(server.dir.join("py/source.bin")).unwrap() == body);
}

/// A name that is not UTF-8 (`caf\xe9.jpg`, Latin-1) to a strict tus server
/// (PyPI resumable-upload, which decodes metadata as UTF-8 and answered 400
/// to the raw byte): ferry sends it as `caf%E9.jpg`, the upload succeeds and
/// the server names the file so; ferry serve, which says it takes any
/// bytes, still gets the exact name over tus.
#[test]
fn a_latin1_name_reaches_a_strict_tus_server_escaped_and_ferry_serve_exact() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let source = env.path().join("card");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
    let body = content(8, 70_000);
    write_file(&source.join(name), &body);

    let store = env.path().join("resumable-upload");
    std::fs::create_dir_all(&store).unwrap();
    let peer = crate::upload::Peer::resumable_upload(&store);
    crate::upload::run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &peer.url]),
    );
    let jobs = crate::util::stdout_of(&crate::upload::run_ok(env.ferry().args(["jobs", "--json"])));
    let location = jobs
        .split(r#""location":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no upload URL in {jobs}"));
    let upload = format!("{}{location}", peer.url.trim_end_matches("/files"));
    let download = Command::new("curl")
        .args(["-sS", "--fail", "-D", "-", "-o"])
        .arg(env.path().join("back.jpg"))
        .arg(&upload)
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&download.stdout);
    assert!(download.status.success(), "{head}");
    assert!(
        head.contains("filename=\"caf%E9.jpg\""),
        "the server's name for it: {head}"
    );
    assert_eq!(std::fs::read(env.path().join("back.jpg")).unwrap(), body);

    let server = Server::start(&env.path().join("dest"), &[]);
    crate::upload::run_ok(
        env.ferry_bare()
            .args(["--journal"])
            .arg(env.path().join("second.jsonl"))
            .arg("sync")
            .arg(&source)
            .args(["--to", &server.url("/files/"), "--protocol", "tus"]),
    );
    assert_eq!(std::fs::read(server.dir.join(name)).unwrap(), body);
}
