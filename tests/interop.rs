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
