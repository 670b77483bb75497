//! The independent peers, installed by the test suite itself.
//!
//! `tests/peers/package-lock.json` and `tests/peers/requirements.txt` pin
//! every package. The first test that needs a peer installs them (`npm ci`,
//! a venv with `pip install -r`), once per test run, and again only when a
//! lock file changed, so `cargo test` works on a fresh machine with nothing
//! but node, npm and python3 installed. A failed install fails the test: a
//! peer is never silently skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `install` unless `stamp` already records `lock`'s contents.
fn install_once(lock: &Path, stamp: &Path, install: impl FnOnce()) {
    let wanted = std::fs::read(lock).unwrap();
    if std::fs::read(stamp).ok().as_ref() == Some(&wanted) {
        return;
    }
    install();
    std::fs::write(stamp, wanted).unwrap();
}

/// The folder whose `node_modules` holds tus-js-client and @tus/server.
pub fn node() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = dir();
        install_once(
            &dir.join("package-lock.json"),
            &dir.join("node_modules/.ferry-installed"),
            || {
                run(Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                    .current_dir(&dir))
            },
        );
        dir
    })
}

/// The venv's python, with tuspy and resumable-upload.
pub fn python() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| venv(".venv", "requirements.txt"))
}

/// A second venv's python, with moto's S3 server and boto3 (their pins
/// differ from the tus peers', so they live apart).
pub fn s3_python() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| venv(".venv-s3", "requirements-s3.txt"))
}

/// A venv under tests/peers with `requirements` installed; its python.
fn venv(name: &str, requirements: &str) -> PathBuf {
    let dir = dir();
    let venv = dir.join(name);
    install_once(
        &dir.join(requirements),
        &venv.join(".ferry-installed"),
        || {
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
            run(Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(dir.join(requirements)));
        },
    );
    venv.join("bin/python")
}

/// Garage, the distributed S3 store, built once per version into a cache
/// outside the clone (`$FERRY_TEST_CACHE`, else `~/.cache/ferry-test-peers`):
/// `garage-<version>/bin/garage`. The first build takes minutes; later runs
/// find it there.
pub fn garage() -> &'static Path {
    const VERSION: &str = "2.5.0";
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let cache = std::env::var_os("FERRY_TEST_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let home = std::env::var_os("HOME").expect("HOME is set");
                Path::new(&home).join(".cache/ferry-test-peers")
            });
        let root = cache.join(format!("garage-{VERSION}"));
        let binary = root.join("bin/garage");
        if !binary.exists() {
            let build = cache.join(format!("garage-{VERSION}-build"));
            run(
                Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                    .args(["install", "--locked", "--quiet"])
                    .arg(format!("garage@{VERSION}"))
                    .args(["--no-default-features", "--features", "bundled-libs,lmdb"])
                    .arg("--root")
                    .arg(&root)
                    .env("CARGO_TARGET_DIR", &build),
            );
            let _ = std::fs::remove_dir_all(&build);
        }
        binary
    })
}

/// OpenSSH's `sshd`, from Debian's `openssh-server`, installed with apt
/// when missing (the tests run as root, as sshd must to chroot).
pub fn sshd() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| debian_tool("/usr/sbin/sshd", "openssh-server"))
}

/// exiftool, from Debian's `libimage-exiftool-perl`.
pub fn exiftool() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| debian_tool("/usr/bin/exiftool", "libimage-exiftool-perl"))
}

/// ffmpeg, from Debian's `ffmpeg`.
pub fn ffmpeg() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| debian_tool("/usr/bin/ffmpeg", "ffmpeg"))
}

/// strace, from Debian's `strace`.
pub fn strace() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| debian_tool("/usr/bin/strace", "strace"))
}

/// `binary`, installed with apt from `package` when missing. One install
/// at a time: apt holds a lock.
fn debian_tool(binary: &str, package: &str) -> PathBuf {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let binary = PathBuf::from(binary);
    let _turn = APT.lock().unwrap_or_else(|p| p.into_inner());
    if !binary.exists() {
        run(Command::new("apt-get")
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive"));
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive"));
    }
    binary
}
