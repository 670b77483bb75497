//! The server's own SHA-256 of a file: which tool an account has, and
//! one process per connection that hashes file after file (a command
//! session costs sshd about 100 ms; a file through this one, a fork).
//! The same session finds the tool and then becomes its hasher, while the
//! SFTP channel opens beside it. `ferry upload` does not wait for its
//! answer before the first bytes (a login shell with a heavy rc file,
//! pyenv or conda, can take a tenth of a second or more to start); a
//! sync asks before its scan, and clearing, a resume and a name that is
//! not UTF-8 wait for it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openssh::Session;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::digest::Sha256;
use crate::upload::http::Failure;

/// The remote tool that hashes a file, when the account may run commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashTool {
    /// OpenSSL's, first when there: it uses the CPU's SHA instructions,
    /// several times faster than coreutils' on a big file.
    Openssl,
    /// GNU coreutils.
    Sha256sum,
    /// Perl's, on macOS and the BSDs.
    Shasum,
    /// FreeBSD's.
    Sha256,
}

impl HashTool {
    /// In the order tried: the fastest first.
    const ALL: [HashTool; 4] = [
        HashTool::Openssl,
        HashTool::Sha256sum,
        HashTool::Shasum,
        HashTool::Sha256,
    ];

    /// The program, as `command -v` finds it.
    fn program(self) -> &'static str {
        match self {
            HashTool::Openssl => "openssl",
            HashTool::Sha256sum => "sha256sum",
            HashTool::Shasum => "shasum",
            HashTool::Sha256 => "sha256",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashTool::Openssl => "openssl dgst -sha256",
            HashTool::Sha256sum => "sha256sum",
            HashTool::Shasum => "shasum -a 256",
            HashTool::Sha256 => "sha256 -q",
        }
    }

    /// The command that hashes its standard input; the digest is the
    /// first word it prints.
    pub(super) fn stdin_command(self) -> &'static str {
        match self {
            HashTool::Openssl => "openssl dgst -sha256 -r",
            HashTool::Sha256sum => "sha256sum -b",
            HashTool::Shasum => "shasum -a 256 -b",
            HashTool::Sha256 => "sha256 -q",
        }
    }

    /// A command that stays running and, for each request on its input
    /// (a number and a path, each NUL-ended), prints one line: the number,
    /// then the file's SHA-256 or `ferry-failed`. The tool reads the file
    /// on its standard input, so no name, whatever its bytes, reaches the
    /// output, and the number shows that answers are in step.
    fn hasher_command(self) -> String {
        let tool = self.stdin_command();
        format!(
            "xargs -0 -n 2 sh -c 'h=$({tool} < \"$2\") || h=ferry-failed; printf \"%s %s\\n\" \"$1\" \"$h\"' ferry-hash"
        )
    }
}

/// A script for `sh` that finds the first tool that hashes nothing right,
/// prints `ferry-tool=` and its program, and becomes its hasher; or
/// prints `ferry-tool=none`. One line: csh will not take a quoted newline.
fn detection_script() -> String {
    let mut script = String::new();
    for tool in HashTool::ALL {
        script += &format!(
            "if command -v {} >/dev/null 2>&1 && case $(printf '' | {} 2>/dev/null) in {}*) true;; *) false;; esac; then echo ferry-tool={}; exec {}; fi; ",
            tool.program(),
            tool.stdin_command(),
            &Sha256::of(b"").to_hex()[..16],
            tool.program(),
            tool.hasher_command()
        );
    }
    script + "echo ferry-tool=none"
}

/// A hashing process on the server, kept for the link's life: one command
/// session costs sshd about 100 ms to set up, a file's hash through this
/// one a fork.
pub(super) struct Hasher {
    /// Requests sent so far; each answer repeats its number.
    asked: u64,
    piped: Piped,
}

/// A command on the server that ferry writes to and reads from.
pub(super) struct Piped {
    pub(super) input: openssh::ChildStdin,
    pub(super) output: tokio::io::BufReader<openssh::ChildStdout>,
    child: openssh::Child<Arc<Session>>,
}

impl Piped {
    /// Runs `line` through the login's shell; why it could not.
    pub(super) async fn spawn(session: &Arc<Session>, line: &[u8]) -> Result<Piped, String> {
        let mut command = session.clone().arc_raw_command(OsStr::from_bytes(line));
        command.stdin(openssh::Stdio::piped());
        command.stdout(openssh::Stdio::piped());
        command.stderr(openssh::Stdio::null());
        let mut child = command.spawn().await.map_err(|error| error.to_string())?;
        let (Some(input), Some(output)) = (child.stdin().take(), child.stdout().take()) else {
            return Err("the command has no pipes".to_owned());
        };
        Ok(Piped {
            input,
            output: tokio::io::BufReader::new(output),
            child,
        })
    }

    /// Waits for the command to end, its input closed: `Err` when the
    /// connection broke rather than the command ending.
    pub(super) async fn ended(self) -> Result<(), openssh::Error> {
        drop((self.input, self.output));
        self.child.wait().await.map(drop)
    }
}

impl Hasher {
    pub(super) async fn start(session: &Arc<Session>, tool: HashTool) -> Result<Hasher, Failure> {
        Hasher::spawn(session, tool.hasher_command().as_bytes(), tool.name()).await
    }

    async fn spawn(session: &Arc<Session>, line: &[u8], what: &str) -> Result<Hasher, Failure> {
        let piped = (Piped::spawn(session, line).await)
            .map_err(|error| Failure::transient(format!("starting {what} over ssh: {error}")))?;
        Ok(Hasher { asked: 0, piped })
    }

    /// Which tool the account may run, with its hasher running; `None`
    /// when it runs no command (a files-only account, `ForceCommand
    /// internal-sftp`, answers nothing) or no tool works. `Err` when the
    /// server did not answer within `limit`.
    pub(super) async fn detect(
        session: &Arc<Session>,
        limit: Duration,
    ) -> Result<Option<(HashTool, Hasher)>, Failure> {
        let mut line = b"sh -c ".to_vec();
        line.extend(super::shell_quote(detection_script().as_bytes()));
        let found = async {
            let mut hasher = Hasher::spawn(session, &line, "a hash tool's search").await?;
            let tool = async {
                // Asked before the answer is read: an account forced into
                // internal-sftp takes it for a bad packet and closes.
                hasher.request(Path::new("/dev/null")).await?;
                let mut said = String::new();
                hasher.piped.output.read_line(&mut said).await?;
                let tool = HashTool::ALL
                    .into_iter()
                    .find(|tool| said.trim_end() == format!("ferry-tool={}", tool.program()));
                // The pipeline uploads use prints the SHA-256 of nothing.
                let empty = match tool {
                    Some(_) => hasher.answer().await?,
                    None => String::new(),
                };
                std::io::Result::Ok(
                    tool.filter(|_| Sha256::from_hex(&empty) == Ok(Sha256::of(b""))),
                )
            };
            if let Ok(Some(tool)) = tool.await {
                return Ok(Some((tool, hasher)));
            }
            // No tool: the account's answer when the command ran and
            // ended (files-only, or no tool that works); a connection
            // that broke is a fault to retry, not an answer.
            match hasher.piped.ended().await {
                Ok(()) => Ok(None),
                Err(error) => Err(Failure::transient(format!(
                    "asking the server for a hash tool: {error}"
                ))),
            }
        };
        match tokio::time::timeout(limit, found).await {
            Ok(found) => found,
            Err(_) => Err(Failure::transient(format!(
                "the server did not say which hash tool it has within {limit:?}"
            ))),
        }
    }

    /// The first word after the request's number in the line printed for
    /// `path`. Not safe to cancel: a caller that may drop it drops the
    /// whole `Hasher` with it (`SftpRoute::server_sha256`).
    pub(super) async fn ask(&mut self, path: &Path) -> std::io::Result<String> {
        self.request(path).await?;
        self.answer().await
    }

    async fn request(&mut self, path: &Path) -> std::io::Result<()> {
        self.asked += 1;
        let mut request = self.asked.to_string().into_bytes();
        request.push(0);
        request.extend_from_slice(path.as_os_str().as_bytes());
        request.push(0);
        self.piped.input.write_all(&request).await?;
        self.piped.input.flush().await
    }

    async fn answer(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.piped.output.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let mut words = line.split_whitespace();
        if words.next() != Some(self.asked.to_string().as_str()) {
            return Err(std::io::Error::other("an answer out of step"));
        }
        Ok(words.next().unwrap_or("").to_owned())
    }
}

/// How long the server may take to hash `size` bytes: a minute, plus the
/// file read at 8 MiB/s (a slow NAS disk).
pub fn hash_limit(size: u64) -> Duration {
    Duration::from_secs(60 + size / (8 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// What the detection script prints, run by `sh` with `path` as its
    /// `PATH`, for requests of `/dev/null` and a file named with a
    /// newline and a byte that is not UTF-8.
    fn detected(path: &std::ffi::OsStr) -> (String, Sha256) {
        let dir = tempfile::tempdir().unwrap();
        let name = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9\nclip.mov"));
        std::fs::write(&name, b"ferry").unwrap();
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(detection_script())
            .env("PATH", path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(b"1\0/dev/null\x002\0").unwrap();
        input.write_all(name.as_os_str().as_bytes()).unwrap();
        input.write_all(b"\0").unwrap();
        drop(input);
        let output = child.wait_with_output().unwrap();
        let said = String::from_utf8(output.stdout).unwrap();
        (said, Sha256::of(b"ferry"))
    }

    #[test]
    fn one_session_finds_the_first_tool_that_works_and_hashes_with_it() {
        let path = std::env::var_os("PATH").unwrap();
        let first = HashTool::ALL
            .into_iter()
            .find(|tool| std::env::split_paths(&path).any(|dir| dir.join(tool.program()).is_file()))
            .expect("a hash tool on this machine");
        let (said, ferry) = detected(&path);
        let empty = Sha256::of(b"").to_hex();
        // The number and the digest: the rest is the tool's own.
        let lines: Vec<String> = (said.lines())
            .map(|line| {
                line.split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            lines,
            [
                format!("ferry-tool={}", first.program()),
                format!("1 {empty}"),
                format!("2 {}", ferry.to_hex()),
            ],
            "{said}"
        );
    }

    /// Where `program` is on this machine's `PATH`.
    fn found(program: &str) -> std::path::PathBuf {
        let path = std::env::var_os("PATH").unwrap();
        (std::env::split_paths(&path).map(|dir| dir.join(program)))
            .find(|candidate| candidate.is_file())
            .unwrap_or_else(|| panic!("{program} is not on PATH"))
    }

    #[test]
    fn a_tool_that_hashes_wrong_is_passed_over_and_none_left_gives_none() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        // A PATH where `openssl` hashes wrong, then coreutils' sha256sum.
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("openssl");
        std::fs::write(&fake, "#!/bin/sh\necho 0000 stdin\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        for program in ["sh", "xargs", "sha256sum"] {
            symlink(found(program), dir.path().join(program)).unwrap();
        }
        let (said, ferry) = detected(dir.path().as_os_str());
        let lines: Vec<Vec<&str>> = (said.lines())
            .map(|line| line.split_whitespace().take(2).collect())
            .collect();
        let empty = Sha256::of(b"").to_hex();
        let ferry = ferry.to_hex();
        assert_eq!(
            lines,
            [
                vec!["ferry-tool=sha256sum"],
                vec!["1", &empty],
                vec!["2", &ferry]
            ],
            "{said}"
        );
        std::fs::remove_file(dir.path().join("sha256sum")).unwrap();
        assert_eq!(detected(dir.path().as_os_str()).0, "ferry-tool=none\n");
    }
}
