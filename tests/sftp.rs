//! `sftp://` destinations against a real OpenSSH server (Debian's
//! `openssh-server`), started by each test on loopback ports with its own
//! host key, a user key made here and a `known_hosts` written for it.
//!
//! One `sshd` listens on two ports: on the first the login has a shell (so
//! ferry confirms uploads with the server's `sha256sum`); on the second the
//! same login is restricted to `internal-sftp` in a chroot (files only).
//! ferry reaches both through the system `ssh`, told by `FERRY_SSH_CONFIG`
//! which key and `known_hosts` to use. sshd must run as root to chroot, as
//! it does in CI; the package is installed when missing (`peers::sshd`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::peers;
use crate::upload::{photos, run_ok, sha256_of, tree, write_big};
use crate::util::{TestEnv, stderr_of, stdout_of, write_file};

/// The most bytes ferry has sent but the server not yet written, on one
/// file (`WINDOW` in src/upload/protocols/sftp_upload.rs).
const WINDOW: u64 = 8 << 20;

/// The user the tests log in as: whoever runs them.
fn login() -> String {
    let output = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn keygen(path: &Path) {
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "ferry-test", "-f"])
            .arg(path),
    );
}

/// Starts sshd on two free ports; `None` when it could not listen there.
fn start_sshd(sshd: &Path, path: &Path, extra: &str) -> Option<(u16, u16, Child)> {
    let (port, files_port) = (free_port(), free_port());
    let config = format!(
        "ListenAddress 127.0.0.1\nPort {port}\nPort {files_port}\n\
         HostKey {dir}/host_key\nPidFile {dir}/sshd.pid\n\
         AuthorizedKeysFile {dir}/authorized_keys\nStrictModes no\n\
         PubkeyAuthentication yes\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
         UsePAM no\nLogLevel DEBUG1\nMaxSessions 100\nMaxStartups 100\n\
         Subsystem sftp internal-sftp\n{extra}\
         Match LocalPort {files_port}\n  ChrootDirectory {dir}/jail\n\
         \x20 ForceCommand internal-sftp\n  AllowTcpForwarding no\n",
        dir = path.display()
    );
    write_file(&path.join("sshd_config"), config.as_bytes());
    let log_path = path.join("sshd.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(path.join("sshd_config"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let said = std::fs::read_to_string(&log_path).unwrap_or_default();
        let listening = |p: u16| said.contains(&format!("Server listening on 127.0.0.1 port {p}."));
        if listening(port) && listening(files_port) {
            return Some((port, files_port, child));
        }
        let exited = child.try_wait().unwrap().is_some();
        if exited || said.contains("Address already in use") {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "sshd did not start: {said}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `sshd` and the files a client needs to reach it.
pub struct Sshd {
    dir: tempfile::TempDir,
    /// The shell account's port.
    pub port: u16,
    /// The files-only account's port (`internal-sftp`, chroot).
    pub files_port: u16,
    child: Child,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    pub fn start() -> Sshd {
        Sshd::start_with("")
    }

    /// An sshd with `extra` lines in its config, before its `Match`.
    pub fn start_with(extra: &str) -> Sshd {
        let sshd = peers::sshd();
        // A chroot's every folder must be root's and writable by no one
        // else: not under /tmp.
        let base = Path::new("/var/lib/ferry-tests");
        std::fs::create_dir_all(base).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("sshd-")
            .tempdir_in(base)
            .unwrap();
        let path = dir.path();
        keygen(&path.join("host_key"));
        keygen(&path.join("user_key"));
        keygen(&path.join("other_key"));
        std::fs::copy(path.join("user_key.pub"), path.join("authorized_keys")).unwrap();
        let jail = path.join("jail");
        std::fs::create_dir_all(jail.join("upload")).unwrap();
        for folder in [path, jail.as_path()] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all("/run/sshd").unwrap();
        // A port found free may be taken before sshd binds it (tests run
        // side by side): sshd then says so, or dies, and starts again on
        // others. Its own "listening" lines, not a connection that could
        // reach another test's sshd, say it is up.
        let (port, files_port, child) = (0..10)
            .find_map(|_| start_sshd(sshd, path, extra))
            .expect("sshd started on free ports");
        let public = std::fs::read_to_string(path.join("host_key.pub")).unwrap();
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        let known: String = [port, files_port]
            .iter()
            .map(|p| format!("[127.0.0.1]:{p} {}\n", public.join(" ")))
            .collect();
        write_file(&path.join("known_hosts"), known.as_bytes());
        write_file(&path.join("empty_known_hosts"), b"");
        let sshd = Sshd {
            dir,
            port,
            files_port,
            child,
        };
        sshd.write_client_config("ssh_config", "user_key", "known_hosts");
        sshd
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A client `ssh_config` naming `key` and `known_hosts`.
    pub fn write_client_config(&self, name: &str, key: &str, known_hosts: &str) -> PathBuf {
        let dir = self.path();
        let config = format!(
            "Host 127.0.0.1\n  User {user}\n  IdentityFile {dir}/{key}\n  IdentitiesOnly yes\n\
             \x20 IdentityAgent none\n  UserKnownHostsFile {dir}/{known_hosts}\n\
             \x20 GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n",
            user = login(),
            dir = dir.display(),
        );
        let path = dir.join(name);
        write_file(&path, config.as_bytes());
        path
    }

    /// Writes the server's host key into `known_hosts` for another port
    /// (a relay's).
    pub fn know_port(&self, port: u16) {
        let public = std::fs::read_to_string(self.path().join("host_key.pub")).unwrap();
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        let mut known = std::fs::read_to_string(self.path().join("known_hosts")).unwrap();
        known.push_str(&format!("[127.0.0.1]:{port} {}\n", public.join(" ")));
        write_file(&self.path().join("known_hosts"), known.as_bytes());
    }

    /// `sftp://127.0.0.1:PORT/<dir>/` for the shell account, writing to `dir`.
    pub fn url(&self, dir: &Path) -> String {
        format!("sftp://127.0.0.1:{}{}/", self.port, dir.display())
    }

    /// The files-only account's URL; its `/upload/` is the jail's.
    pub fn files_url(&self) -> String {
        format!("sftp://127.0.0.1:{}/upload/", self.files_port)
    }

    pub fn jail_upload(&self) -> PathBuf {
        self.path().join("jail/upload")
    }

    /// `ferry sync --json CARD --to URL` with the test's key.
    pub fn sync_json(&self, env: &TestEnv, card: &Path, url: &str) -> Command {
        let mut command = self.ferry(env);
        command
            .args(["sync", "--json"])
            .arg(card)
            .args(["--to", url]);
        command
    }

    /// `ferry sync -q CARD --to` the shell account's `dest`, which must pass.
    pub fn sync_quietly(&self, env: &TestEnv, card: &Path, dest: &Path) -> std::process::Output {
        run_ok(
            self.ferry(env)
                .args(["sync", "-q"])
                .arg(card)
                .arg("--to")
                .arg(self.url(dest)),
        )
    }

    /// `ferry` that reaches this server with the test's key.
    pub fn ferry(&self, env: &TestEnv) -> Command {
        let mut command = env.ferry();
        command.env("FERRY_SSH_CONFIG", self.path().join("ssh_config"));
        command
    }
}

/// A TCP relay to `port` on 127.0.0.1 that counts the bytes clients send.
struct CountingRelay {
    port: u16,
    upstream_bytes: Arc<AtomicU64>,
    /// Connections accepted so far.
    connections: Arc<AtomicU64>,
    /// Both ends of every connection so far, for `cut`.
    open: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl CountingRelay {
    fn start(target: u16) -> CountingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let upstream_bytes = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let accepted = connections.clone();
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counted, kept) = (upstream_bytes.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut held = kept.lock().unwrap();
                held.extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                drop(held);
                let counted = counted.clone();
                let (mut client_read, mut server_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let mut buffer = vec![0; 1 << 16];
                    while let Ok(read) = client_read.read(&mut buffer) {
                        if read == 0 || server_write.write_all(&buffer[..read]).is_err() {
                            break;
                        }
                        counted.fetch_add(read as u64, Ordering::SeqCst);
                    }
                    let _ = server_write.shutdown(std::net::Shutdown::Write);
                });
                let (mut server_read, mut client_write) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_read, &mut client_write);
                    let _ = client_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CountingRelay {
            port,
            upstream_bytes,
            connections,
            open,
        }
    }

    /// Drops every connection so far, as a network that goes away does.
    fn cut(&self) {
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    fn sent(&self) -> u64 {
        self.upstream_bytes.load(Ordering::SeqCst)
    }

    fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}

fn listed(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn two_hundred_files_and_a_512_mib_file_arrive_byte_identical() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let source = env.path().join("card");
    photos(&source, 200);
    write_big(&source.join("big/clip.mov"), 512 << 20, 7);
    let dest = env.path().join("nas/photos");
    let output = run_ok(
        sshd.ferry(&env)
            .args(["sync", "-q", "-j", "4"])
            .arg(&source)
            .arg("--to")
            .arg(sshd.url(&dest)),
    );
    assert_eq!(stdout_of(&output), "");
    assert_eq!(tree(&source), tree(&dest));
    assert_eq!(tree(&dest).len(), 201);
    let leftovers: Vec<String> = listed(&dest.join("big"))
        .into_iter()
        .filter(|name| name.starts_with(".ferry-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let jobs = run_ok(sshd.ferry(&env).args(["jobs", "--json"]));
    let jobs = stdout_of(&jobs);
    assert_eq!(
        jobs.matches("\"confirmed-by\":\"sha256\"").count(),
        201,
        "{jobs}"
    );
}

/// Where each upload of a `--json` run started (its `uploading` phases).
pub fn uploading_offsets(output: &std::process::Output) -> Vec<u64> {
    stdout_of(output)
        .lines()
        .filter(|l| l.contains("\"phase\":\"uploading\""))
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["offset"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// A running sshd, a test folder, and a card in it holding one clip of
/// `size` bytes (`card/clip.mov`).
fn one_clip(size: u64, seed: u32) -> (Sshd, TestEnv, PathBuf) {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_big(&card.join("clip.mov"), size as usize, seed);
    (sshd, env, card)
}

/// The size of the one partial upload in `dir`, if there is one.
fn partial_size(dir: &Path) -> Option<u64> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(".ferry-"))
        .and_then(|e| e.metadata().ok())
        .map(|m| m.len())
}

/// Waits until the partial upload in `dir` stops growing (what reached the
/// server before a kill is all written), and returns its size.
fn settled_partial(dir: &Path) -> u64 {
    let mut last = partial_size(dir).unwrap_or(0);
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let now = partial_size(dir).unwrap_or(0);
        if now == last {
            return now;
        }
        last = now;
    }
}

/// Starts `command` and kills it with SIGKILL once the partial upload in
/// `dir` holds at least `at` bytes.
fn kill_when_partial_reaches(command: &mut Command, dir: &Path, at: u64) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while partial_size(dir).unwrap_or(0) < at {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the upload never reached {at}"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ferry ended ({status}) before the partial upload reached {at} bytes");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn killed_five_times_during_a_512_mib_upload_it_resumes_and_resends_at_most_a_window_per_kill() {
    const SIZE: u64 = 512 << 20;
    let sshd = Sshd::start();
    let relay = CountingRelay::start(sshd.port);
    sshd.know_port(relay.port);
    let env = TestEnv::new();
    let source = env.path().join("card");
    write_big(&source.join("clip.mov"), SIZE as usize, 11);
    let dest = env.path().join("nas");
    let url = format!("sftp://127.0.0.1:{}{}/", relay.port, dest.display());
    let sync = || sshd.sync_json(&env, &source, &url);
    let (mut stored, mut upstream) = (0u64, 0u64);
    let mut runs = Vec::new();
    for kill in 1..=5u64 {
        kill_when_partial_reaches(&mut sync(), &dest, kill * SIZE / 6);
        let now = settled_partial(&dest);
        let sent = relay.sent() - upstream;
        runs.push((now - stored, sent));
        (stored, upstream) = (now, relay.sent());
    }
    let output = run_ok(&mut sync());
    let resumed_from: Vec<u64> = uploading_offsets(&output);
    // From where the server's bytes stop, or a hole the kill left in
    // the last window of writes before it.
    assert_eq!(resumed_from.len(), 1);
    assert!(
        resumed_from[0] <= stored && resumed_from[0] + WINDOW >= stored,
        "the last run resumed at {} of {stored}",
        resumed_from[0]
    );
    assert_eq!(
        sha256_of(&source.join("clip.mov")),
        sha256_of(&dest.join("clip.mov"))
    );
    assert_eq!(partial_size(&dest), None);
    // What each run sent beyond what the server kept: the bytes on the wire
    // per byte kept (SSH framing and SFTP headers) come from the last run,
    // which was not killed.
    let last = relay.sent() - upstream;
    let per_byte = last as f64 / (SIZE - stored) as f64;
    let mut report = Vec::new();
    for (kept, sent) in &runs {
        let resent = (*sent as f64 / per_byte - *kept as f64).max(0.0);
        report.push(format!("{:.0} KiB", resent / 1024.0));
        assert!(
            resent <= WINDOW as f64 + 64.0 * 1024.0,
            "a killed run sent {resent} bytes the server did not keep (runs: {runs:?})"
        );
    }
    eprintln!("sent again per kill: {}", report.join(", "));
}

#[test]
fn an_unknown_host_key_is_refused_and_never_learnt() {
    let sshd = Sshd::start();
    let config = sshd.write_client_config("strict_config", "user_key", "empty_known_hosts");
    let env = TestEnv::new();
    photos(&env.path().join("card"), 3);
    let dest = env.path().join("nas");
    // The config named as given, from the folder ferry runs in.
    let sync = |config: &std::ffi::OsStr, folder: &Path| {
        (env.ferry()
            .current_dir(folder)
            .env("FERRY_SSH_CONFIG", config))
        .arg("sync")
        .arg(env.path().join("card"))
        .arg("--to")
        .arg(sshd.url(&dest))
        .output()
        .unwrap()
    };
    let output = sync(config.as_os_str(), env.path());
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let wanted = format!(
        "sftp://127.0.0.1:{port}: the server's host key is not known; check and accept it by running `ssh -F {config} -p {port} 127.0.0.1` once",
        port = sshd.port,
        config = config.display()
    );
    assert!(text.contains(&wanted), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    // Named relative to where ferry runs, the file is still given whole:
    // the command works from any folder.
    let relative = sync(config.file_name().unwrap(), config.parent().unwrap());
    assert!(
        stderr_of(&relative).contains(&wanted),
        "{}",
        stderr_of(&relative)
    );
    assert_eq!(
        std::fs::read(sshd.path().join("empty_known_hosts")).unwrap(),
        b""
    );
    assert!(!dest.exists());
}

#[test]
fn a_wrong_key_exits_1_and_prints_no_secret() {
    let sshd = Sshd::start();
    let config = sshd.write_client_config("wrong_config", "other_key", "known_hosts");
    let env = TestEnv::new();
    photos(&env.path().join("card"), 3);
    let output = env
        .ferry()
        .env("FERRY_SSH_CONFIG", &config)
        .arg("sync")
        .arg(env.path().join("card"))
        .arg("--to")
        .arg(sshd.url(&env.path().join("nas")))
        .output()
        .unwrap();
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("the server refused the login (Permission denied)"),
        "{text}"
    );
    let key = std::fs::read_to_string(sshd.path().join("other_key")).unwrap();
    let journal = std::fs::read_to_string(env.journal()).unwrap_or_default();
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        for seen in [&text, &stdout_of(&output), &journal] {
            assert!(
                !seen.contains(line),
                "a line of the private key was printed"
            );
        }
    }
    assert!(!env.path().join("nas").exists());
}

#[test]
fn a_files_only_account_uploads_confirmed_by_size_but_refuses_delete_after() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    photos(&card, 20);
    let probe = sshd
        .ferry(&env)
        .args(["probe", &sshd.files_url()])
        .output()
        .unwrap();
    let said = stdout_of(&probe);
    assert_eq!(probe.status.code(), Some(0), "{said}{}", stderr_of(&probe));
    assert!(said.contains("host key:       known"), "{said}");
    assert!(said.contains("login:          accepted"), "{said}");
    assert!(said.contains("folder:         writable"), "{said}");
    assert!(said.contains("commands:       no (files only)"), "{said}");

    run_ok(
        sshd.ferry(&env)
            .args(["sync", "-q"])
            .arg(&card)
            .args(["--to", &sshd.files_url()]),
    );
    assert_eq!(tree(&card), tree(&sshd.jail_upload()));
    let jobs = stdout_of(&run_ok(sshd.ferry(&env).args(["jobs", "--json"])));
    assert_eq!(
        jobs.matches("\"confirmed-by\":\"size\"").count(),
        20,
        "{jobs}"
    );

    write_file(
        &card.join("new/IMG_9000.jpg"),
        b"taken after the first sync",
    );
    let refused = sshd
        .ferry(&env)
        .args(["sync", "--delete-after"])
        .arg(&card)
        .args(["--to", &sshd.files_url()])
        .output()
        .unwrap();
    let text = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(2), "{text}");
    assert!(
        text.contains("--delete-after needs a destination that confirms each file's SHA-256"),
        "{text}"
    );
    assert!(text.contains("nothing was uploaded"), "{text}");
    assert!(!sshd.jail_upload().join("new").exists());
    assert!(card.join("new/IMG_9000.jpg").exists());
    // A dry run meets the same refusal, rather than promising deletions.
    let dry = sshd
        .ferry(&env)
        .args(["sync", "--dry-run", "--delete-after"])
        .arg(&card)
        .args(["--to", &sshd.files_url()])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(2), "{}", stdout_of(&dry));
    assert!(!stdout_of(&dry).contains("delete"), "{}", stdout_of(&dry));

    // A name that is not UTF-8 cannot cross this account's SFTP channel
    // as it is: it is stored percent-escaped, as S3 keys are.
    write_file(
        &card.join(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg")),
        b"an old camera's name",
    );
    run_ok(
        sshd.ferry(&env)
            .args(["sync", "-q"])
            .arg(&card)
            .args(["--to", &sshd.files_url()]),
    );
    assert_eq!(
        std::fs::read(sshd.jail_upload().join("caf%E9.jpg")).unwrap(),
        b"an old camera's name"
    );
    assert_eq!(crate::upload::walk(&card).len(), 22, "nothing was deleted");
}

/// Kills an upload to the files-only account (where only the size
/// confirms an upload) at a third of 96 MiB, overwrites 4 KiB of its
/// partial file at `at(kept)` (kept: its size), and runs again: where the
/// second run resumed, and the first byte where the partial file and the
/// source differed. The stored file must be whole and right.
fn resumed_after_damage(at: impl Fn(u64) -> u64) -> (u64, u64) {
    const SIZE: u64 = 96 << 20;
    let (sshd, env, card) = one_clip(SIZE, 3);
    let sync = || sshd.sync_json(&env, &card, &sshd.files_url());
    kill_when_partial_reaches(&mut sync(), &sshd.jail_upload(), SIZE / 3);
    let kept = settled_partial(&sshd.jail_upload());
    let partial = std::fs::read_dir(sshd.jail_upload())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().as_bytes().starts_with(b".ferry-"))
        .unwrap();
    {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&partial)
            .unwrap();
        file.seek(SeekFrom::Start(at(kept))).unwrap();
        file.write_all(&[0x5a; 4096]).unwrap();
    }
    let (ours, theirs) = (
        std::fs::read(card.join("clip.mov")).unwrap(),
        std::fs::read(&partial).unwrap(),
    );
    let differs = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count() as u64;
    let output = run_ok(&mut sync());
    let from: Vec<u64> = uploading_offsets(&output);
    assert_eq!(from.len(), 1);
    assert_eq!(
        sha256_of(&card.join("clip.mov")),
        sha256_of(&sshd.jail_upload().join("clip.mov"))
    );
    (differs, from[0])
}

#[test]
fn damage_in_a_partial_uploads_last_window_is_sent_again_from_its_first_byte() {
    // A kill can leave a hole in the last window (its writes land out of
    // order): the upload resumes where the bytes first differ, the damage
    // or a hole before it.
    let (differs, from) = resumed_after_damage(|kept| kept - 4096);
    assert_eq!(from, differs);
}

#[test]
fn a_partial_upload_whose_bytes_before_its_last_window_differ_starts_over() {
    // Before the last window every write had landed: a difference there
    // means the bytes are not this file's, and the upload starts over.
    let (differs, from) = resumed_after_damage(|kept| kept - WINDOW - (512 << 10));
    assert!(differs > 0);
    assert_eq!(from, 0, "the damaged partial upload was resumed");
}

#[test]
fn a_file_changed_between_runs_is_not_resumed_onto_its_old_prefix() {
    const SIZE: usize = 64 << 20;
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    let clip = card.join("clip.mov");
    write_big(&clip, SIZE, 4);
    let sync = || sshd.sync_json(&env, &card, &sshd.files_url());
    kill_when_partial_reaches(&mut sync(), &sshd.jail_upload(), SIZE as u64 / 2);
    settled_partial(&sshd.jail_upload());
    // The same size, other bytes: only the content tells.
    write_big(&clip, SIZE, 5);
    let output = run_ok(&mut sync());
    assert_eq!(
        uploading_offsets(&output),
        vec![0],
        "{}",
        stdout_of(&output)
    );
    assert_eq!(
        sha256_of(&clip),
        sha256_of(&sshd.jail_upload().join("clip.mov"))
    );
}

#[test]
fn a_name_that_is_not_utf8_arrives_byte_for_byte_and_verify_checks_with_the_servers_sha256sum() {
    use std::ffi::OsStr;
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    let raw = OsStr::from_bytes(b"caf\xe9 it's.jpg");
    write_file(&card.join(raw), b"a photo named by an old camera");
    photos(&card, 5);
    let dest = env.path().join("nas");
    sshd.sync_quietly(&env, &card, &dest);
    assert_eq!(
        std::fs::read(dest.join(raw)).unwrap(),
        b"a photo named by an old camera"
    );
    assert_eq!(tree(&card), tree(&dest));

    let verified = run_ok(sshd.ferry(&env).args(["--json", "verify"]));
    let lines: Vec<serde_json::Value> = stdout_of(&verified)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().all(|l| l["result"] == "verified"), "{lines:?}");
    assert!(
        lines.iter().all(|l| l["detail"]
            .as_str()
            .unwrap()
            .contains("hashed by the server's openssl dgst -sha256")),
        "{lines:?}"
    );

    write_file(&dest.join("00/IMG_0000.jpg"), b"bit rot on the NAS");
    std::fs::remove_file(dest.join(raw)).unwrap();
    let checked = sshd
        .ferry(&env)
        .args(["--json", "verify"])
        .output()
        .unwrap();
    let text = stdout_of(&checked);
    assert_ne!(checked.status.code(), Some(0), "{text}");
    let result = |name: &str| {
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|l| l["path"].as_str().unwrap().contains(name))
            .map(|l| l["result"].as_str().unwrap().to_owned())
    };
    assert_eq!(result("IMG_0000").as_deref(), Some("different"), "{text}");
    assert_eq!(result("caf").as_deref(), Some("missing"), "{text}");
    assert_eq!(result("IMG_0001").as_deref(), Some("verified"), "{text}");
}

#[test]
fn a_bandwidth_limit_and_a_time_window_hold_over_sftp_and_the_next_run_resumes() {
    const SIZE: u64 = 24 << 20;
    let (sshd, env, card) = one_clip(SIZE, 8);
    let dest = env.path().join("nas");
    // 24 MiB at 4 MiB/s would take 6 s: the window ends it after 2.
    let stopped = sshd
        .ferry(&env)
        .args(["--json", "sync", "--bwlimit", "4M", "--max-duration", "2s"])
        .arg(&card)
        .arg("--to")
        .arg(sshd.url(&dest))
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(0), "{}", stderr_of(&stopped));
    let lines: Vec<serde_json::Value> = stdout_of(&stopped)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines
        .iter()
        .find(|l| l["type"] == "upload_summary")
        .unwrap();
    assert_eq!(summary["stopped_by"], "max-duration", "{summary}");
    assert_eq!(summary["left"], 1, "{summary}");
    let kept = settled_partial(&dest);
    // What 2 s at 4 MiB/s allow, plus the limit's first burst.
    assert!(
        kept > 0 && kept <= 12 << 20,
        "{kept} bytes in 2 s at 4 MiB/s"
    );
    assert!(!dest.join("clip.mov").exists());

    let finished = run_ok(
        sshd.ferry(&env)
            .args(["--json", "sync"])
            .arg(&card)
            .arg("--to")
            .arg(sshd.url(&dest)),
    );
    let from: Vec<u64> = uploading_offsets(&finished);
    // Where the server's bytes stop, or a hole the window's end left in
    // the last window of writes.
    assert_eq!(from.len(), 1);
    assert!(
        from[0] <= kept && from[0] + WINDOW >= kept,
        "{from:?} {kept}"
    );
    assert_eq!(
        sha256_of(&card.join("clip.mov")),
        sha256_of(&dest.join("clip.mov"))
    );
}

#[test]
fn cancel_removes_the_partial_upload_from_the_server() {
    const SIZE: u64 = 48 << 20;
    let (sshd, env, card) = one_clip(SIZE, 9);
    let dest = env.path().join("nas");
    let mut sync = sshd.ferry(&env);
    sync.arg("sync").arg(&card).arg("--to").arg(sshd.url(&dest));
    kill_when_partial_reaches(&mut sync, &dest, SIZE / 4);
    assert!(partial_size(&dest).is_some());
    let cancelled = run_ok(sshd.ferry(&env).args(["cancel", "--pending"]));
    assert_eq!(partial_size(&dest), None, "{}", stderr_of(&cancelled));
}

#[test]
fn a_dropped_connection_is_opened_again_and_the_upload_resumes() {
    const SIZE: u64 = 256 << 20;
    let (sshd, env, card) = one_clip(SIZE, 12);
    let relay = CountingRelay::start(sshd.port);
    sshd.know_port(relay.port);
    let dest = env.path().join("nas");
    let url = format!("sftp://127.0.0.1:{}{}/", relay.port, dest.display());
    let mut sync = sshd.sync_json(&env, &card, &url);
    let child = sync
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while partial_size(&dest).unwrap_or(0) < SIZE / 3 {
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(5));
    }
    relay.cut();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let from = uploading_offsets(&output);
    assert_eq!(from.len(), 2, "one start, one resume: {from:?}");
    assert!(from[1] >= SIZE / 3 - WINDOW, "resumed at {}", from[1]);
    assert_eq!(
        sha256_of(&card.join("clip.mov")),
        sha256_of(&dest.join("clip.mov"))
    );
}

/// A sync opens its destination before it scans, in a runtime of its
/// own, then uploads and clears in the run's: the SSH connection it
/// opened carries both, and a card backed up earlier is cleared whole by
/// a later `--delete-after` (its one file was kept, the check of it failing
/// on an SFTP channel that had ended with the first runtime).
#[test]
fn a_sync_uploads_over_the_connection_it_checked_with_and_clears_a_card_backed_up_earlier() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let relay = CountingRelay::start(sshd.port);
    sshd.know_port(relay.port);
    let card = env.path().join("card");
    photos(&card, 1);
    let photo = card.join("00/IMG_0000.jpg");
    let dest = env.path().join("nas");
    let url = format!("sftp://127.0.0.1:{}{}/", relay.port, dest.display());
    run_ok(
        sshd.ferry(&env)
            .args(["sync", "-q"])
            .arg(&card)
            .args(["--to", &url]),
    );
    assert_eq!(tree(&card), tree(&dest));
    assert_eq!(relay.connections(), 1, "one SSH connection for the sync");

    let cleared = sshd
        .ferry(&env)
        .args(["sync", "--delete-after"])
        .arg(&card)
        .args(["--to", &url])
        .output()
        .unwrap();
    let said = format!("{}{}", stdout_of(&cleared), stderr_of(&cleared));
    assert_eq!(cleared.status.code(), Some(0), "{said}");
    assert!(!photo.exists(), "the photo was kept: {said}");
    assert!(said.contains("1 source file cleared"), "{said}");
    assert_eq!(relay.connections(), 2, "one more for the second sync");
}

/// Progress over SFTP moves with each write request handed over, as an
/// HTTP body's does, not once a half window (4 MiB) is written: held to
/// 1 MB/s, a 3 MiB file showed 0 B until its end.
#[test]
fn progress_moves_with_each_request_over_sftp() {
    let (sshd, env, card) = one_clip(3 << 20, 21);
    let dest = env.path().join("nas");
    let output = run_ok(
        sshd.ferry(&env)
            .args([
                "sync",
                "--bwlimit",
                "1M",
                "--progress",
                "lines",
                "--stats",
                "300ms",
            ])
            .arg(&card)
            .arg("--to")
            .arg(sshd.url(&dest)),
    );
    let stderr = stderr_of(&output);
    let moving: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("progress: 0/1 files, ") && !l.contains(", 0 B of "))
        .collect();
    assert!(moving.len() >= 3, "{stderr}");
    assert_eq!(
        sha256_of(&card.join("clip.mov")),
        sha256_of(&dest.join("clip.mov"))
    );
}

#[test]
fn a_different_file_at_the_target_is_never_replaced_and_the_same_one_is_not_sent_again() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_file(&card.join("IMG_0001.jpg"), b"the photo on the card");
    write_file(
        &card.join("IMG_0002.jpg"),
        b"another photo, already on the NAS",
    );
    let dest = env.path().join("nas");
    write_file(
        &dest.join("IMG_0001.jpg"),
        b"a different photo of the same name",
    );
    write_file(
        &dest.join("IMG_0002.jpg"),
        b"another photo, already on the NAS",
    );
    let output = run_ok(&mut sshd.sync_json(&env, &card, &sshd.url(&dest)));
    assert_eq!(
        std::fs::read(dest.join("IMG_0001.jpg")).unwrap(),
        b"a different photo of the same name"
    );
    assert_eq!(
        std::fs::read(dest.join("IMG_0001 (1).jpg")).unwrap(),
        b"the photo on the card"
    );
    let stored: Vec<String> = stdout_of(&output)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["type"] == "succeeded")
        .map(|l| l["stored"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        stored.contains(&"IMG_0001 (1).jpg".to_owned()),
        "{stored:?}"
    );
    // The same content already there: found, not sent.
    assert_eq!(
        uploading_offsets(&output).len(),
        1,
        "{}",
        stdout_of(&output)
    );
    assert_eq!(listed(&dest).len(), 3, "{:?}", listed(&dest));
}

#[test]
fn a_files_only_partial_upload_damaged_far_before_its_end_starts_over() {
    // Only the size confirms a files-only upload: the whole prefix kept on
    // the server is compared, not only its last window.
    let (differs, from) = resumed_after_damage(|_| 1 << 20);
    assert_eq!(differs, 1 << 20);
    assert_eq!(from, 0, "the damaged partial upload was resumed");
}

/// A folder the server will not make fails its jobs with a line that
/// names the folder above it, which exists: the server's own words ("No
/// such file") hide that.
/// A server whose SFTP subsystem never answers the handshake (here every
/// session runs `cat`, which reads and says nothing) ends the run in one
/// line, after the connect timeout, instead of holding it for ever.
#[test]
fn an_sftp_subsystem_that_never_answers_ends_the_run_in_one_line() {
    let sshd = Sshd::start_with("ForceCommand cat >/dev/null\n");
    let env = TestEnv::new();
    let card = env.path().join("card");
    photos(&card, 1);
    let url = sshd.url(&sshd.path().join("out"));
    let mut sync = (sshd.ferry(&env).args(["sync", "--retries", "0"]).arg(&card))
        .args(["--to", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while sync.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            sync.kill().unwrap();
            panic!("the run still waited for the handshake after 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = sync.wait_with_output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("logged in, but the server's SFTP subsystem did not answer within 10s"),
        "{stderr}"
    );
}

#[test]
fn a_destination_folder_the_server_will_not_make_stops_the_run_in_one_line() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    photos(&card, 3);
    let url = sshd.url(Path::new("/proc/ferry-test"));
    let output = (sshd.ferry(&env).arg("sync").arg(&card).args(["--to", &url]))
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!(
            "ferry: error: {url}: creating /proc/ferry-test/ (the server would not make it in /proc, which exists; `ferry probe` says more): No such file"
        )
    );
    // Stopped before the scan: no job queued, none on the failures list.
    let jobs = run_ok(sshd.ferry(&env).arg("jobs"));
    assert_eq!(stdout_of(&jobs).trim(), "", "{}", stderr_of(&jobs));
    // A folder it can make is made, however deep.
    let deep = sshd.path().join("new/folder/for/photos");
    let output =
        run_ok((sshd.ferry(&env).args(["sync", "-q"]).arg(&card)).args(["--to", &sshd.url(&deep)]));
    assert_eq!(listed(&deep).len(), 3, "{}", stderr_of(&output));
}

#[test]
fn probe_tells_a_shell_account_a_folder_still_to_make_and_a_file_in_the_way() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let probe = |url: &str| {
        let output = sshd.ferry(&env).args(["probe", url]).output().unwrap();
        (output.status.code(), stdout_of(&output))
    };
    let (code, said) = probe(&format!(
        "sftp://127.0.0.1:{}/~/ferry-probe-new/",
        sshd.port
    ));
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains(
            "folder:         missing; a sync makes it under the home folder, which is writable"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "commands:       yes; uploads are confirmed by the server's openssl dgst -sha256"
        ),
        "{said}"
    );
    write_file(&env.path().join("afile"), b"not a folder");
    let (code, said) = probe(&sshd.url(&env.path().join("afile")));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("is a file, not a folder"), "{said}");
}

#[test]
fn watch_backs_up_new_photos_over_sftp() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_file(&card.join("first.jpg"), b"there before the watch");
    let dest = env.path().join("nas");
    let mut watching = sshd
        .ferry(&env)
        .arg("watch")
        .arg(&card)
        .args(["--to", &sshd.url(&dest), "--settle", "300ms"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let arrived = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        let count = || {
            if dest.exists() {
                crate::upload::walk(&dest).len()
            } else {
                0
            }
        };
        while count() < n {
            assert!(Instant::now() < deadline, "{n} files never arrived");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    arrived(1);
    for i in 0..20u32 {
        write_file(
            &card.join(format!("drop/IMG_{i:04}.jpg")),
            &crate::util::content(300 + i, 4000 + i as usize),
        );
    }
    arrived(21);
    let _ = watching.kill();
    let _ = watching.wait();
    assert_eq!(tree(&card), tree(&dest));
}

/// The ciphers sshd's log says each connection so far chose, in order.
fn negotiated_ciphers(sshd: &Sshd) -> Vec<String> {
    let log = std::fs::read_to_string(sshd.path().join("sshd.log")).unwrap();
    log.lines()
        .filter_map(|line| line.split("kex: client->server cipher: ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

fn cpu_has_aes() -> bool {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let flags = info.lines().find(|l| l.starts_with("flags")).unwrap_or("");
    let has = |flag: &str| flag_listed(flags, flag);
    has("aes") && has("pclmulqdq")
}

fn flag_listed(flags: &str, flag: &str) -> bool {
    flags.split_whitespace().any(|word| word == flag)
}

#[test]
fn aes_gcm_goes_first_on_a_cpu_with_aes_but_a_ciphers_line_of_the_users_wins() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let temp = env.path().join("tmp");
    std::fs::create_dir_all(&temp).unwrap();
    photos(&env.path().join("card"), 2);
    let dest = env.path().join("nas");
    run_ok(
        sshd.ferry(&env)
            .env("TMPDIR", &temp)
            .args(["sync", "-q"])
            .arg(env.path().join("card"))
            .arg("--to")
            .arg(sshd.url(&dest)),
    );
    assert_eq!(tree(&env.path().join("card")), tree(&dest));
    let chosen = negotiated_ciphers(&sshd);
    let expected = match cpu_has_aes() {
        true => "aes128-gcm@openssh.com",
        false => "chacha20-poly1305@openssh.com",
    };
    assert!(
        !chosen.is_empty() && chosen.iter().all(|c| c == expected),
        "{chosen:?}"
    );
    // The file ssh started with is gone once the connection is up.
    let left: Vec<String> = listed(&temp)
        .into_iter()
        .filter(|name| name.starts_with("ferry-ssh-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let config = sshd.write_client_config("own_ciphers", "user_key", "known_hosts");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("  Ciphers aes256-ctr\n");
    write_file(&config, text.as_bytes());
    photos(&env.path().join("card2"), 2);
    run_ok(
        sshd.ferry(&env)
            .env("FERRY_SSH_CONFIG", &config)
            .args(["sync", "-q"])
            .arg(env.path().join("card2"))
            .arg("--to")
            .arg(sshd.url(&env.path().join("nas2"))),
    );
    let after = negotiated_ciphers(&sshd);
    assert!(after.len() > chosen.len(), "{after:?}");
    assert!(
        after[chosen.len()..].iter().all(|c| c == "aes256-ctr"),
        "{after:?}"
    );
}

#[test]
fn verify_closes_its_ssh_connections_and_leaves_nothing_in_the_temp_folder() {
    let sshd = Sshd::start();
    let env = TestEnv::new();
    let card = env.path().join("card");
    photos(&card, 3);
    let dest = env.path().join("nas");
    sshd.sync_quietly(&env, &card, &dest);
    // Short: an ssh control socket's path must fit in 108 bytes.
    let tmp = tempfile::Builder::new()
        .prefix("v")
        .tempdir_in("/tmp")
        .unwrap();
    let output = run_ok(sshd.ferry(&env).env("TMPDIR", tmp.path()).arg("verify"));
    assert_eq!(stdout_of(&output).matches("verified ").count(), 3);
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in the temp folder: {left:?}");
}

/// An upload's first bytes do not wait for the server to say which hash
/// tool the account has. Here every command session's shell takes 2 s to
/// start (`BASH_ENV` sleeping, as a heavy rc file does); when the first one
/// got going, bytes had already landed. Before, none had: the run asked
/// first. The upload is still confirmed by the server's SHA-256.
#[test]
fn the_first_bytes_go_while_a_slow_login_shell_answers() {
    let env = TestEnv::new();
    let dest = env.path().join("nas");
    std::fs::create_dir_all(&dest).unwrap();
    let seen = env.path().join("seen");
    let slow = env.path().join("slow-rc.sh");
    let script = format!(
        "sleep 2; for f in '{}'/.ferry-*.part; do test -e \"$f\" && stat -c %s \"$f\"; done >> '{}'\n",
        dest.display(),
        seen.display()
    );
    write_file(&slow, script.as_bytes());
    let sshd = Sshd::start_with(&format!("SetEnv BASH_ENV={}\n", slow.display()));
    let shell = Command::new("getent")
        .args(["passwd", &login()])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&shell.stdout)
            .trim_end()
            .ends_with("/bash"),
        "the test reads BASH_ENV: it needs a login whose shell is bash"
    );
    let card = env.path().join("card");
    write_big(&card.join("clip.mov"), 24 << 20, 31);
    run_ok(
        sshd.ferry(&env)
            .args(["scan", "-q"])
            .arg(&card)
            .arg("--to")
            .arg(sshd.url(&dest)),
    );
    let output = run_ok(
        sshd.ferry(&env)
            .args(["upload", "--json", "--bwlimit", "4M"]),
    );
    let said = std::fs::read_to_string(&seen).unwrap_or_default();
    let first: u64 = said
        .lines()
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    assert!(
        first > 0,
        "no bytes had landed when the shell answered: {said:?}"
    );
    let events = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        events.matches("\"confirmed-by\":\"sha256\"").count(),
        1,
        "{events}"
    );
    assert_eq!(
        sha256_of(&card.join("clip.mov")),
        sha256_of(&dest.join("clip.mov"))
    );
}
