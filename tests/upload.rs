//! `ferry sync` and `ferry upload` against real servers on 127.0.0.1:
//! `ferry serve` in every protocol, @tus/server with @tus/file-store (npm),
//! and resumable-upload (PyPI) with sha256 checksums. 200 small files and one
//! of 100 MiB arrive byte-identical on each; a second sync uploads nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sha2::Digest;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::peers;
use crate::util::{ClosedPort, TestEnv, content, listening_port, stderr_of, stdout_of, write_file};

pub const BIG: usize = 100 << 20;

/// A file of `len` bytes whose every MiB differs, written without holding it.
pub fn write_big(path: &Path, len: usize, seed: u32) {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut block = content(seed, 1 << 20);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut left = len;
    let mut index = 0u64;
    while left > 0 {
        block[..8].copy_from_slice(&index.to_le_bytes());
        let take = left.min(block.len());
        out.write_all(&block[..take]).unwrap();
        left -= take;
        index += 1;
    }
    out.flush().unwrap();
}

/// 200 small files in nested folders (1–48 KiB) and one 100 MiB video.
pub fn media_tree(root: &Path) {
    photos(root, 200);
    write_big(&root.join("video/big.mp4"), BIG, 7);
}

/// `n` small photos (1–48 KiB) in seven folders.
pub fn photos(root: &Path, n: u32) {
    for i in 0..n {
        let len = 1024 + (i as usize * 7919) % (47 << 10);
        let path = root.join(format!("{:02}/IMG_{i:04}.jpg", i % 7));
        write_file(&path, &content(1000 + i, len));
    }
}

pub fn sha256_of(path: &Path) -> String {
    let mut file = std::fs::File::open(path).unwrap();
    let mut digest = sha2::Sha256::new();
    std::io::copy(&mut file, &mut digest).unwrap();
    format!("{:x}", digest.finalize())
}

/// Every file under `root` by relative path, with its SHA-256.
pub fn tree(root: &Path) -> BTreeMap<PathBuf, String> {
    walk(root)
        .into_iter()
        .map(|path| {
            (
                path.strip_prefix(root).unwrap().to_owned(),
                sha256_of(&path),
            )
        })
        .collect()
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

/// Checks that `dest` holds exactly the files of `source`, byte for byte.
pub fn assert_same_tree(source: &Path, dest: &Path) {
    let (want, got) = (tree(source), tree(dest));
    assert_eq!(want.len(), got.len(), "file counts differ");
    for (path, hash) in &want {
        assert_eq!(got.get(path), Some(hash), "{} differs", path.display());
    }
}

/// For servers that store uploads by ID: the multiset of contents matches.
fn assert_same_contents(source: &Path, store: &Path, skip: &[&str]) {
    let mut want: Vec<String> = tree(source).into_values().collect();
    let mut got: Vec<String> = walk(store)
        .into_iter()
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            !skip.iter().any(|suffix| name.ends_with(suffix))
        })
        .map(|path| sha256_of(&path))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(want.len(), got.len(), "stored file count differs");
    assert!(want == got, "stored contents differ from the sources");
}

pub fn run_ok(command: &mut Command) -> std::process::Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed ({:?}):\n{}{}",
        output.status,
        stdout_of(&output),
        stderr_of(&output)
    );
    output
}

/// A peer server process, killed when dropped.
pub struct Peer {
    child: Child,
    pub url: String,
}

impl Peer {
    /// Starts `command` and waits until it listens; the port is the one it
    /// listens on (a peer told to use port 0 gets a free one from the kernel).
    /// Its output goes to `log`: a pipe nobody reads would fill and block it.
    pub fn start(mut command: Command, path: &str, log: &Path) -> Peer {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if let Some(port) = listening_port(child.id()) {
                return Peer {
                    child,
                    url: format!("http://127.0.0.1:{port}{path}"),
                };
            }
            if let Some(status) = child.try_wait().unwrap() {
                let err = std::fs::read_to_string(log).unwrap_or_default();
                panic!("{command:?} exited with {status}: {err}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{command:?} never listened");
    }

    pub fn tus_node(dir: &Path) -> Peer {
        Peer::tus_node_on(dir, 0)
    }

    pub fn tus_node_on(dir: &Path, port: u16) -> Peer {
        let mut command = Command::new("node");
        command
            .arg(peers::node().join("tus-node-server.mjs"))
            .arg(port.to_string())
            .arg(dir);
        Peer::start(command, "/files/", &dir.with_extension("log"))
    }

    pub fn resumable_upload(dir: &Path) -> Peer {
        let mut command = Command::new(peers::python().with_file_name("resumable-upload"));
        command
            .args(["serve", "--host", "127.0.0.1", "--port", "0"])
            .args(["--base-path", "/files", "--upload-dir"])
            .arg(dir)
            .arg("--db-path")
            .arg(dir.join("uploads.db"))
            .args(["--checksum-algorithms", "sha1,sha256", "--enable-downloads"]);
        Peer::start(command, "/files", &dir.with_extension("log"))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sync(env: &TestEnv, journal: &str, source: &Path, to: &str, extra: &[&str]) -> String {
    let output = run_ok(
        env.ferry_bare()
            .arg("--journal")
            .arg(env.path().join(journal))
            .arg("sync")
            .arg(source)
            .args(["--to", to])
            .args(extra),
    );
    stderr_of(&output)
}

#[test]
fn every_protocol_to_ferry_serve_and_a_second_sync_uploads_nothing() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    media_tree(&source);
    for (name, extra) in [
        ("auto", &[][..]),
        (
            "ietf-3",
            &[
                "--protocol",
                "ietf",
                "--ietf-version",
                "3",
                "--chunk-size",
                "24M",
            ][..],
        ),
        ("tus", &["--protocol", "tus", "--chunk-size", "16M"][..]),
        ("put", &["--protocol", "put"][..]),
    ] {
        let dest = env.path().join(format!("dest-{name}"));
        let server = Server::start(&dest, &[]);
        let journal = format!("{name}.jsonl");
        let first = sync(&env, &journal, &source, &server.url("/files/"), extra);
        assert!(first.contains("uploaded 201 files"), "{name}: {first}");
        assert_same_tree(&source, &dest);
        let protocol = match name {
            "auto" => "IETF draft (interop 8)",
            "ietf-3" => "IETF draft (interop 3)",
            "tus" => "tus 1.0.0",
            _ => "plain PUT",
        };
        let log = server.wait_for_log("video/big.mp4");
        assert_eq!(log.matches(protocol).count(), 201, "{name}:\n{log}");

        let again = sync(&env, &journal, &source, &server.url("/files/"), extra);
        assert!(again.contains("201 already queued or uploaded"), "{again}");
        assert!(again.contains("nothing to upload"), "{again}");
        assert_eq!(server.log().matches("stored").count(), 201, "{name}");
    }

    let local = env.path().join("dest-local");
    let first = sync(&env, "local.jsonl", &source, local.to_str().unwrap(), &[]);
    assert!(first.contains("uploaded 201 files"), "{first}");
    assert_same_tree(&source, &local);
    let again = sync(&env, "local.jsonl", &source, local.to_str().unwrap(), &[]);
    assert!(again.contains("nothing to upload"), "{again}");
}

/// Names that are not UTF-8 (Latin-1 from an old camera) keep their exact
/// bytes on every protocol, and two names that differ only in such a byte
/// stay two files.
#[test]
fn names_that_are_not_utf8_arrive_byte_for_byte_on_every_protocol() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let source = env.path().join("media");
    let names: [&[u8]; 3] = [b"caf\xe9.jpg", b"caf\xe8.jpg", b"\xc9t\xe9/r\xeave.mov"];
    for (n, name) in names.iter().enumerate() {
        let path = source.join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content(n as u32, 5000 + n)).unwrap();
    }
    let stored = |dest: &Path| -> Vec<Vec<u8>> {
        let mut found: Vec<Vec<u8>> = walk(dest)
            .iter()
            .map(|path| {
                path.strip_prefix(dest)
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec()
            })
            .collect();
        found.sort();
        found
    };
    let mut expected: Vec<Vec<u8>> = names.iter().map(|name| name.to_vec()).collect();
    expected.sort();
    for protocol in ["ietf", "tus", "put", "bits"] {
        let dest = env.path().join(format!("dest-{protocol}"));
        let server = Server::start(&dest, &[]);
        let journal = format!("{protocol}.jsonl");
        let url = server.url("/files/");
        let first = sync(&env, &journal, &source, &url, &["--protocol", protocol]);
        assert!(first.contains("uploaded 3 files"), "{protocol}: {first}");
        assert_eq!(stored(&dest), expected, "{protocol}:\n{}", server.log());
        assert_same_tree(&source, &dest);
    }
    let local = env.path().join("dest-local");
    sync(&env, "local.jsonl", &source, local.to_str().unwrap(), &[]);
    assert_eq!(stored(&local), expected);
}

#[test]
fn older_ietf_interop_versions_to_ferry_serve() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    for i in 0..5u32 {
        write_file(&source.join(format!("{i}.jpg")), &content(i, 100_000));
    }
    write_big(&source.join("clip.mov"), 9 << 20, 3);
    for version in ["5", "6", "7"] {
        let dest = env.path().join(format!("dest-{version}"));
        let server = Server::start(&dest, &[]);
        let extra = [
            "--protocol",
            "ietf",
            "--ietf-version",
            version,
            "--chunk-size",
            "2M",
        ];
        sync(
            &env,
            &format!("{version}.jsonl"),
            &source,
            &server.url("/files/"),
            &extra,
        );
        assert_same_tree(&source, &dest);
        let log = server.wait_for_log("clip.mov");
        let wanted = format!("IETF draft (interop {version})");
        assert_eq!(log.matches(&wanted).count(), 6, "{log}");
    }
}

#[test]
fn tus_node_server_with_file_store_gets_every_file() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    media_tree(&source);
    let store = env.path().join("tus-node");
    std::fs::create_dir_all(&store).unwrap();
    let peer = Peer::tus_node(&store);
    let first = sync(
        &env,
        "j.jsonl",
        &source,
        &peer.url,
        &["--chunk-size", "32M"],
    );
    assert!(first.contains("uploaded 201 files"), "{first}");
    assert_same_contents(&source, &store, &[".json"]);
    let journal = std::fs::read_to_string(env.path().join("j.jsonl")).unwrap();
    assert!(journal.contains(r#""protocol":"tus""#), "auto chose tus");
    let again = sync(&env, "j.jsonl", &source, &peer.url, &[]);
    assert!(again.contains("nothing to upload"), "{again}");
}

#[test]
fn resumable_upload_with_sha256_checksums_gets_every_file() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    media_tree(&source);
    let store = env.path().join("resumable-upload");
    std::fs::create_dir_all(&store).unwrap();
    let peer = Peer::resumable_upload(&store);
    let output = run_ok(env.ferry().arg("--json").arg("sync").arg(&source).args([
        "--to",
        &peer.url,
        "--chunk-size",
        "16M",
    ]));
    let events = stdout_of(&output);
    assert_eq!(events.matches(r#""type":"succeeded""#).count(), 201);
    assert!(events.contains(r#""protocol":"tus""#), "{events}");
    assert_same_contents(
        &source,
        &store,
        &[".db", ".db-journal", ".db-wal", ".db-shm"],
    );
}

#[test]
fn a_destination_url_ending_in_a_folder_puts_files_under_it() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("2024/a.jpg"), &content(1, 3000));
    write_file(&source.join("b.jpg"), &content(2, 9 << 20));
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    for protocol in ["ietf", "tus", "put"] {
        let to = server.url(&format!("/files/album-{protocol}/"));
        let journal = format!("{protocol}.jsonl");
        sync(&env, &journal, &source, &to, &["--protocol", protocol]);
        assert_same_tree(&source, &dest.join(format!("album-{protocol}")));
    }
}

#[test]
fn server_limits_are_obeyed_a_413_shrinks_appends_and_a_too_large_file_fails_first() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), 5 << 20, 4);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &["--max-append-size", "1M", "--max-size", "6M"]);
    let url = server.url("/files/");
    // IETF reads max-append-size from Upload-Limit: no request is refused.
    sync(&env, "ietf.jsonl", &source, &url, &["--chunk-size", "8M"]);
    assert_same_tree(&source, &dest);
    assert!(!server.log().contains("refused"), "{}", server.log());
    // A 413 that names no limit halves the append size (5 MiB, 2.5, 1.25).
    let plain_dest = env.path().join("plain");
    let plain = Server::start(&plain_dest, &[]);
    let proxy = FaultProxy::start(
        plain.address,
        &[
            Fault::Pass,
            Fault::Pass,
            Fault::Status(413),
            Fault::Status(413),
        ],
    );
    let through = format!("http://{}/files/", proxy.address);
    sync(
        &env,
        "413.jsonl",
        &source,
        &through,
        &["--chunk-size", "8M"],
    );
    assert_eq!(proxy.remaining(), 0);
    assert_same_tree(&source, &plain_dest);
    let journal = std::fs::read_to_string(env.path().join("413.jsonl")).unwrap();
    // The last offset recorded before the final append: three appends of 1.25 MiB.
    assert!(journal.contains(r#""offset":3932160"#), "{journal}");

    write_big(&source.join("long.mov"), 7 << 20, 5);
    let output = env
        .ferry_bare()
        .arg("--journal")
        .arg(env.path().join("ietf.jsonl"))
        .arg("sync")
        .arg(&source)
        .args(["--to", &url])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("long.mov is 7340032 bytes; the server accepts at most 6291456"),
        "{stderr}"
    );
}

#[test]
fn a_put_url_template_names_the_file() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    let body = content(3, 4000);
    write_file(&source.join("2024/a b.jpg"), &body);
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let template = server.url("/files/by-hash/{sha256}/{name}");
    sync(&env, "j.jsonl", &source, &template, &["--protocol", "put"]);
    let sha = format!("{:x}", sha2::Sha256::digest(&body));
    assert_eq!(
        std::fs::read(dest.join(format!("by-hash/{sha}/a b.jpg"))).unwrap(),
        body
    );
}

fn probe(env: &TestEnv, destination: &str, extra: &[&str]) -> std::process::Output {
    env.ferry_bare()
        .args(["--json", "probe", destination])
        .args(extra)
        .output()
        .unwrap()
}

fn probed(output: &std::process::Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", stderr_of(output));
    serde_json::from_str(stdout_of(output).trim()).unwrap()
}

#[test]
fn probe_tells_what_each_server_speaks_and_whether_it_takes_the_credentials() {
    let env = TestEnv::new();
    let token_file = env.path().join("token");
    std::fs::write(&token_file, "t0k3n-for-probe").unwrap();
    let server = Server::start(
        &env.path().join("dest"),
        &["--token-file", token_file.to_str().unwrap()],
    );
    let url = server.url("/files/");

    let refused = probe(&env, &url, &[]);
    assert_eq!(refused.status.code(), Some(1));
    // No token was sent: the server wants one, it refused none.
    assert!(stderr_of(&refused).contains("wants credentials (HTTP 401) and none were sent"));
    let output = probe(&env, &url, &["-H", "Authorization: Bearer t0k3n-for-probe"]);
    let report = probed(&output);
    assert_eq!(report["credentials"], "accepted");
    assert_eq!(report["auto_picks"], "ietf");
    assert_eq!(
        report["ietf_interop_versions"],
        serde_json::json!([3, 5, 6, 7, 8])
    );
    assert_eq!(
        report["tus_checksum_algorithms"],
        serde_json::json!(["sha1", "sha256"])
    );
    assert!(!stdout_of(&output).contains("t0k3n"));

    let limited = Server::start(
        &env.path().join("limited"),
        &["--max-size", "1G", "--max-append-size", "8M"],
    );
    let report = probed(&probe(&env, &limited.url("/files/"), &[]));
    assert_eq!(
        (
            report["max_size"].as_u64(),
            report["max_append_size"].as_u64()
        ),
        (Some(1 << 30), Some(8 << 20))
    );

    let store = env.path().join("tus-node");
    std::fs::create_dir_all(&store).unwrap();
    let node = Peer::tus_node(&store);
    let report = probed(&probe(&env, &node.url, &[]));
    assert_eq!(report["auto_picks"], "tus");
    assert_eq!(report["tus_versions"], serde_json::json!(["1.0.0"]));
    assert_eq!(report["ietf_interop_versions"], serde_json::json!([]));

    let store = env.path().join("resumable-upload");
    std::fs::create_dir_all(&store).unwrap();
    let python = Peer::resumable_upload(&store);
    let report = probed(&probe(&env, &python.url, &[]));
    assert_eq!(report["auto_picks"], "tus");
    assert_eq!(
        report["tus_checksum_algorithms"],
        serde_json::json!(["sha1", "sha256"])
    );
    assert!(
        report["tus_extensions"]
            .as_array()
            .unwrap()
            .contains(&"creation-with-upload".into())
    );

    let closed = probe(&env, &ClosedPort::new().url(), &[]);
    assert_eq!(closed.status.code(), Some(1));
    assert!(stderr_of(&closed).contains("cannot reach"));
}
