//! Helpers shared by the integration tests: a scrubbed environment for the
//! real binary, and jobs made through the library API.

use std::path::{Path, PathBuf};

use ferry::journal::job::{Destination, MediaKind, Protocol, Resource};
use ferry::journal::paths::JournalPath;
use ferry::journal::store::{Durability, OpenOptions, Store};
use std::process::Command;
use tempfile::TempDir;

/// A temp directory with its own HOME and XDG folders and a journal path in it.
pub struct TestEnv {
    pub dir: TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn journal(&self) -> PathBuf {
        self.path().join("journal.jsonl")
    }

    /// `ferry` with HOME and XDG folders inside the temp dir and no FERRY_ variables.
    pub fn ferry_bare(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry"));
        command.env_clear().current_dir(self.path());
        for (name, sub) in [
            ("HOME", "home"),
            ("XDG_DATA_HOME", "home/.local/share"),
            ("XDG_CONFIG_HOME", "home/.config"),
            ("XDG_CACHE_HOME", "home/.cache"),
            ("XDG_STATE_HOME", "home/.local/state"),
        ] {
            command.env(name, self.path().join(sub));
        }
        command
    }

    /// `ferry` with `FERRY_JOURNAL` set to the temp journal: every command
    /// that uses a journal takes it, the others do not see it.
    pub fn ferry(&self) -> Command {
        let mut command = self.ferry_bare();
        command.env("FERRY_JOURNAL", self.journal());
        command
    }

    /// Opens the journal in the test process. It waits for the lock: a
    /// child spawned by another test thread may briefly hold a copy of a
    /// just-closed lock descriptor between its fork and its exec.
    pub fn store(&self) -> Store {
        let options = OpenOptions {
            wait_lock: Some(std::time::Duration::from_secs(10)),
            ..OpenOptions::default()
        };
        Store::open(&self.journal(), &options).unwrap()
    }
}

/// Runs as root without the capabilities that bypass file permissions, so
/// that a mode-000 file is as unreadable to the test as to a normal user.
pub fn without_root_privileges(command: Command) -> Command {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .is_some_and(|line| line.split_whitespace().nth(2) == Some("0"));
    if !root {
        return command;
    }
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--bounding-set", "-dac_override,-dac_read_search", "--"])
        .arg(command.get_program())
        .args(command.get_args())
        .env_clear()
        .envs(command.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

pub fn write_file(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// Distinct content for test file `n`.
pub fn content(n: u32, len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(u64::from(n) + 1);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// Queues `n` pending jobs named `0.jpg`, `1.jpg`, … (not synced).
pub fn create_jobs(store: &mut Store, n: u64) -> Vec<ferry::journal::job::JobId> {
    (0..n)
        .map(|i| {
            store
                .create(
                    resource(&format!("{i}.jpg"), i),
                    destination(),
                    Durability::Lazy,
                )
                .unwrap()
        })
        .collect()
}

pub fn resource(name: &str, size: u64) -> Resource {
    Resource {
        root: JournalPath::from("/photos"),
        path: JournalPath::from(name),
        size,
        mtime_ns: 1_700_000_000_000_000_000,
        inode: Some(42),
        sha256: ferry::digest::Sha256::from_hex(&format!("{:064x}", size)).unwrap(),
        kind: MediaKind::Image,
        taken: None,
        target: None,
        asset: None,
    }
}

pub fn destination() -> Destination {
    Destination::new("http://127.0.0.1:9/files", Protocol::Auto)
}

pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The loopback TCP port a child process listens on, read from `/proc`.
/// Servers under test bind port 0 and the test reads back what the kernel
/// gave, so tests running in parallel never race for a port.
pub fn listening_port(pid: u32) -> Option<u16> {
    listening_ports(pid).into_iter().next()
}

/// Every TCP port a process listens on, lowest first.
pub fn listening_ports(pid: u32) -> Vec<u16> {
    const LISTEN: &str = "0A";
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let target = std::fs::read_link(entry.path()).ok()?;
            let target = target.to_str()?;
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect();
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    let mut ports: Vec<u16> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
            if *state != LISTEN || !inodes.iter().any(|known| known == inode) {
                return None;
            }
            u16::from_str_radix(local.rsplit(':').next()?, 16).ok()
        })
        .collect();
    ports.sort();
    ports
}

/// A loopback port where nothing listens, held while the value lives: a
/// bound socket that never listens, so connections to it are refused and no
/// other test can take the port meanwhile.
pub struct ClosedPort {
    fd: libc::c_int,
    pub port: u16,
}

impl ClosedPort {
    pub fn new() -> ClosedPort {
        // SAFETY: plain socket calls on a descriptor this value owns; the
        // address structure is zeroed and then filled in field by field.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let mut address: libc::sockaddr_in = std::mem::zeroed();
            address.sin_family = libc::AF_INET as libc::sa_family_t;
            address.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let size = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let bound = libc::bind(fd, (&raw const address).cast(), size);
            assert_eq!(bound, 0, "bind: {}", std::io::Error::last_os_error());
            let mut length = size;
            let named = libc::getsockname(fd, (&raw mut address).cast(), &mut length);
            assert_eq!(named, 0, "getsockname: {}", std::io::Error::last_os_error());
            ClosedPort {
                fd,
                port: u16::from_be(address.sin_port),
            }
        }
    }

    /// An upload URL on this port.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/files/", self.port)
    }
}

impl Drop for ClosedPort {
    fn drop(&mut self) {
        // SAFETY: the descriptor is this value's own and closed only here.
        unsafe { libc::close(self.fd) };
    }
}

/// Waits for `child` to end within `limit`; kills it and fails the test
/// with `why` if it does not. Its piped output is returned.
pub fn output_within(
    mut child: std::process::Child,
    limit: std::time::Duration,
    why: &str,
) -> std::process::Output {
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{why}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
