//! The server's SHA-256 of a big upload, taken while its bytes land.
//!
//! Hashing a 1 GiB file after its last byte costs the server about 0.7 s
//! that the upload then waits for. A follower is a command session of
//! its own that hashes the partial file as it grows: the client tells it
//! each `STRIDE` of bytes whose writes the server confirmed (holes only
//! ever lie past them), so it reads only settled bytes, with `dd` from a
//! block offset into the account's hash tool. On GNU systems it also
//! flushes what it read (`sync -d`), so the final fsync has little left.
//! Where the server has `python3`, the follower is a small program instead
//! that reads the file itself into `hashlib` (OpenSSL's SHA-256): a pipe
//! from `dd` to the tool costs the server 0.6 CPU-seconds per GiB more,
//! and on a small server that is time the upload waits for.
//! Its answer can only confirm: a digest that differs, or a follower that
//! failed, falls back to hashing the whole file afterwards.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openssh::Session;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_util::task::AbortOnDropHandle;

use super::HashTool;
use super::hash::Piped;
use crate::digest::Sha256;

/// The unit of the offsets told to the follower (`dd`'s block size).
const BLOCK: u64 = 64 << 10;
/// Settled bytes told at a time: each costs the server a `dd`.
const STRIDE: u64 = 16 << 20;
/// Bytes an upload must send for a follower to pay for its session.
const WORTH_FOLLOWING: u64 = 256 << 20;
/// How long a follower may take, after the last byte, beyond hashing what
/// it was not told of yet at 8 MiB/s (`hash_limit`'s slow disk): then
/// the whole file is hashed instead.
const GRACE: Duration = Duration::from_secs(10);

/// A follower still starting, or running; gone after a fault.
pub(super) enum Following {
    Starting(AbortOnDropHandle<Option<Follower>>),
    Ready(Box<Follower>),
    Gone,
}

impl Following {
    /// Starts following `path` on `session`, without waiting for it, when
    /// the account has a hash tool and `left` bytes are worth it.
    pub(super) fn worth(
        session: &Arc<Session>,
        tool: Option<HashTool>,
        path: &Path,
        left: u64,
    ) -> Option<Following> {
        let tool = tool.filter(|_| left >= WORTH_FOLLOWING)?;
        let (session, path) = (session.clone(), path.to_owned());
        let start = tokio::spawn(Follower::start(session, tool, path));
        Some(Following::Starting(AbortOnDropHandle::new(start)))
    }

    /// Every byte before `settled` has been written on the server.
    pub(super) async fn settled(&mut self, settled: u64) {
        if let Following::Starting(handle) = self
            && handle.is_finished()
        {
            *self = match handle.await {
                Ok(Some(follower)) => Following::Ready(Box::new(follower)),
                _ => Following::Gone,
            };
        }
        if let Following::Ready(follower) = self
            && follower.settled(settled).await.is_err()
        {
            *self = Following::Gone;
        }
    }

    /// The SHA-256 of the whole file of `size` bytes, once every byte of
    /// it has been written; `None` when the follower failed or took more
    /// than `GRACE` beyond hashing what it had not been told of.
    pub(super) async fn finish(self, size: u64) -> Option<Sha256> {
        let told = match &self {
            Following::Ready(follower) => follower.told,
            _ => 0,
        };
        let limit = GRACE + Duration::from_secs((size - told.min(size)) / (8 << 20));
        let finished = async {
            let follower = match self {
                Following::Starting(handle) => handle.await.ok().flatten()?,
                Following::Ready(follower) => *follower,
                Following::Gone => return None,
            };
            follower.finish().await.ok()
        };
        tokio::time::timeout(limit, finished).await.ok().flatten()
    }
}

pub(super) struct Follower {
    /// Bytes the follower was told are settled, a multiple of `BLOCK`.
    told: u64,
    piped: Piped,
}

impl Follower {
    /// The path goes on the follower's input, not its command line: no
    /// other user of the server sees it in `ps`, and no login shell's
    /// quoting rules touch it.
    async fn start(
        session: Arc<Session>,
        tool: HashTool,
        path: std::path::PathBuf,
    ) -> Option<Self> {
        let mut line = b"sh -c ".to_vec();
        line.extend(super::shell_quote(script(tool).as_bytes()));
        let mut piped = Piped::spawn(&session, &line).await.ok()?;
        let name = path.as_os_str().as_bytes();
        let mut header = format!("{}\n", name.len()).into_bytes();
        header.extend_from_slice(name);
        piped.input.write_all(&header).await.ok()?;
        Some(Follower { told: 0, piped })
    }

    async fn settled(&mut self, settled: u64) -> std::io::Result<()> {
        let whole = settled / BLOCK * BLOCK;
        if whole < self.told + STRIDE {
            return Ok(());
        }
        let line = format!("{} {}\n", self.told / BLOCK, (whole - self.told) / BLOCK);
        self.piped.input.write_all(line.as_bytes()).await?;
        self.piped.input.flush().await?;
        self.told = whole;
        Ok(())
    }

    async fn finish(mut self) -> std::io::Result<Sha256> {
        let line = format!("{} end\n", self.told / BLOCK);
        self.piped.input.write_all(line.as_bytes()).await?;
        self.piped.input.shutdown().await?;
        drop(self.piped.input);
        let mut answer = String::new();
        self.piped.output.read_line(&mut answer).await?;
        let digest = answer.split_whitespace().next().unwrap_or("");
        Sha256::from_hex(digest).map_err(|_| std::io::Error::other("no digest"))
    }
}

/// The follower's script, one line for any login shell to pass to `sh`:
/// the Python program where `python3` runs it, else the shell loop. The
/// loop takes over only when Python never read the input: no `python3`
/// (127, 126), one too old for `-I` (2; Python 2 and before 3.4), or one
/// the program finds unfit before reading (3). Its input: the file's path
/// (its length in bytes on a line, then the bytes), then lines of a block
/// offset and a count of blocks to hash, or `end` to hash to the file's
/// end. `-I` also keeps modules in the login's folder and `PYTHON*`
/// variables out.
fn script(tool: HashTool) -> String {
    // Hex, so that no shell or quoting rule can touch the program.
    let program = python_follower();
    let hex: String = program.bytes().map(|b| format!("{b:02x}")).collect();
    format!(
        "python3 -I -c \"exec(bytes.fromhex('{hex}').decode())\" 2>/dev/null; case $? in 2|3|126|127) ;; *) exit;; esac; {}",
        shell_loop(tool)
    )
}

/// `PYTHON_FOLLOWER` with this side's block size.
fn python_follower() -> String {
    PYTHON_FOLLOWER.replace("@BLOCK@", &BLOCK.to_string())
}

/// The follower in Python. Before reading its input it checks that it has
/// `pread` and a SHA-256 that hashes nothing right (its first bytes: e3 b0
/// c4 42), else exits 3 for the shell loop to take over. It reads the
/// settled blocks with `pread`, so no byte goes through a pipe. Before
/// reading them it starts their writeback: with Linux's `sync_file_range`
/// (through `ctypes`), which does not wait, else with `fdatasync`. An
/// `fdatasync` per stride stalls the server's writes into the same file
/// (ext4 here: 1 GiB written beside it took 1.27-1.30 s, against
/// 0.82-0.86 s with `sync_file_range`); errors there are only a slower
/// final fsync. It gives no digest for bytes that do not
/// follow on from the last, for a file shorter than it was told, or when
/// the name no longer leads to the file it hashed (ferry places the file
/// by its name).
const PYTHON_FOLLOWER: &str = r#"try:
    import hashlib, os, sys
    fit = hasattr(os, "pread") and hashlib.sha256().digest()[:4] == bytes([227, 176, 196, 66])
except Exception:
    fit = False
if not fit:
    raise SystemExit(3)
BLOCK = @BLOCK@
given = sys.stdin.buffer
path = given.read(int(given.readline()))
file = os.open(path, os.O_RDONLY)
digest = hashlib.sha256()
def flush(start, length):
    pass
try:
    import ctypes
    start_writeback = ctypes.CDLL(None, use_errno=True).sync_file_range
    start_writeback.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    def flush(start, length):
        start_writeback(file, start, length, 2)
except Exception:
    if hasattr(os, "fdatasync"):
        def flush(start, length):
            os.fdatasync(file)
at = 0
def take(end):
    global at
    while end is None or at < end:
        data = os.pread(file, 1 << 20 if end is None else min(1 << 20, end - at), at)
        if not data:
            if end is None:
                return
            sys.exit("the file ends before the bytes it was told of")
        digest.update(data)
        at += len(data)
for line in given:
    start, count = line.split()
    if int(start) * BLOCK != at:
        sys.exit("told of bytes that do not follow the last")
    if count == b"end":
        take(None)
        opened, named = os.fstat(file), os.stat(path)
        if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            sys.exit("another file has the name now")
        print(digest.hexdigest())
        break
    try:
        flush(at, int(count) * BLOCK)
    except OSError:
        pass
    take(at + int(count) * BLOCK)
"#;

/// The follower where the server has no Python: `dd` into the hash tool.
/// Only GNU's `sync` syncs one file (the BSDs' syncs every file system),
/// so only there does it flush.
fn shell_loop(tool: HashTool) -> String {
    [
        "case $(uname) in Linux) case $(sync --version 2>/dev/null) in *GNU*) flush=yes;; esac;; esac",
        "read -r n",
        "f=$(dd bs=1 count=\"$n\" 2>/dev/null)",
        &format!(
            "while read -r from count; do \
               [ -n \"$flush\" ] && sync -d \"$f\" 2>/dev/null; \
               case $count in \
                 end) dd if=\"$f\" bs={BLOCK} skip=\"$from\" 2>/dev/null; exit;; \
                 *) dd if=\"$f\" bs={BLOCK} skip=\"$from\" count=\"$count\" 2>/dev/null || exit;; \
               esac; \
             done | {}",
            tool.stdin_command()
        ),
    ]
    .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    #[test]
    fn the_shell_loop_hashes_only_the_blocks_it_is_told_of_and_the_rest_at_the_end() {
        let mut shell = Command::new("sh");
        shell.arg("-c").arg(shell_loop(HashTool::Sha256sum));
        hashes_only_the_blocks_it_is_told_of(shell);
    }

    #[test]
    fn the_python_follower_hashes_only_the_blocks_it_is_told_of_and_the_rest_at_the_end() {
        let mut python = Command::new("python3");
        python.arg("-c").arg(python_follower());
        hashes_only_the_blocks_it_is_told_of(python);
    }

    /// A folder with a `python3` that runs `body`, for the front of PATH.
    fn fake_python(body: &str) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let python = dir.path().join("python3");
        std::fs::write(&python, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

    fn script_with_path(path: &str) -> Command {
        let mut follower = Command::new("sh");
        follower.arg("-c").arg(script(HashTool::Sha256sum));
        follower.env("PATH", path);
        follower
    }

    #[test]
    fn the_script_runs_python_where_it_works_and_the_shell_loop_where_python_never_read() {
        hashes_only_the_blocks_it_is_told_of(script_with_path(SYSTEM_PATH));
        // No python3 (a shim with no version), one too old for -I, one
        // the program finds unfit: the shell loop hashes.
        for exit in [127, 2, 3] {
            let fake = fake_python(&format!("exit {exit}"));
            let path = format!("{}:{SYSTEM_PATH}", fake.path().display());
            hashes_only_the_blocks_it_is_told_of(script_with_path(&path));
        }
    }

    #[test]
    fn the_shell_loop_does_not_take_over_input_python_has_read() {
        let fake = fake_python("cat >/dev/null; exit 1");
        let path = format!("{}:{SYSTEM_PATH}", fake.path().display());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".ferry-1.part");
        std::fs::write(&file, vec![7u8; BLOCK as usize]).unwrap();
        let (child, input) = follow(script_with_path(&path), &file, "0 end");
        drop(input);
        let output = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    }

    /// What the Python follower prints for `lines` after the path of a
    /// file of four blocks; `meanwhile` runs after the first line.
    fn python_says(lines: &[&str], meanwhile: impl FnOnce(&std::path::Path)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ferry-1.part");
        std::fs::write(&path, vec![7u8; 4 * BLOCK as usize]).unwrap();
        let mut python = Command::new("python3");
        python
            .arg("-c")
            .arg(python_follower())
            .stderr(Stdio::null());
        let (child, mut input) = follow(python, &path, lines[0]);
        // Time for it to open the file and read what it was told of.
        std::thread::sleep(std::time::Duration::from_millis(300));
        meanwhile(&path);
        for line in &lines[1..] {
            // A follower that gave up already is gone: its pipe is closed.
            let _ = writeln!(input, "{line}");
        }
        drop(input);
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    }

    #[test]
    fn the_python_follower_gives_no_digest_for_bytes_not_told_of_in_order_or_another_file() {
        let whole = python_says(&["0 1", "1 end"], |_| ());
        assert_eq!(
            Sha256::from_hex(whole.trim()),
            Ok(Sha256::of(&vec![7u8; 4 * BLOCK as usize]))
        );
        // A block skipped.
        assert_eq!(python_says(&["0 1", "2 end"], |_| ()), "");
        // More blocks than the file has (then told to go on where the
        // file ended, so only the length check can refuse).
        assert_eq!(python_says(&["0 5", "4 end"], |_| ()), "");
        // Another file put in its place under its name.
        let replaced = python_says(&["0 1", "1 end"], |path| {
            let other = path.with_extension("other");
            std::fs::write(&other, vec![7u8; 4 * BLOCK as usize]).unwrap();
            std::fs::rename(&other, path).unwrap();
        });
        assert_eq!(replaced, "");
    }

    /// Starts `follower` on `path`, told `first`: it and its input.
    fn follow(
        mut follower: Command,
        path: &std::path::Path,
        first: &str,
    ) -> (std::process::Child, std::process::ChildStdin) {
        let mut child = follower
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let name = path.as_os_str().as_bytes();
        writeln!(input, "{}", name.len()).unwrap();
        input.write_all(name).unwrap();
        writeln!(input, "{first}").unwrap();
        input.flush().unwrap();
        (child, input)
    }

    /// `follower` reads the protocol on its input and prints the digest.
    fn hashes_only_the_blocks_it_is_told_of(follower: Command) {
        let dir = tempfile::tempdir().unwrap();
        // A folder name no shell quoting could carry on a command line.
        let folder = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9\n'it' \\x"));
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join(".ferry-1.part");
        let data: Vec<u8> = (0..3 * STRIDE / 32 + 12_345)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        // The first MiB written, the rest a hole for now, as when writes
        // land out of order.
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&data[..1 << 20]).unwrap();
        file.set_len(data.len() as u64).unwrap();
        let (child, mut input) = follow(follower, &path, &format!("0 {}", (1 << 20) / BLOCK));
        // Time for that `dd` to read: had it read on, the hole's zeros
        // would be in the digest. (A machine too busy to run it in that
        // time makes the test weaker, never wrong.)
        std::thread::sleep(std::time::Duration::from_millis(300));
        use std::os::unix::fs::FileExt;
        file.write_all_at(&data[1 << 20..], 1 << 20).unwrap();
        writeln!(input, "{} end", (1 << 20) / BLOCK).unwrap();
        drop(input);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let said = String::from_utf8(output.stdout).unwrap();
        let digest = said.split_whitespace().next().unwrap();
        assert_eq!(Sha256::from_hex(digest), Ok(Sha256::of(&data)), "{said}");
    }
}
