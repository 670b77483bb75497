//! The server's own SHA-256 of a file: which tool an account has, and
//! one process per connection that hashes file after file (a command
//! session costs sshd about 100 ms; a file through this one, a fork).

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openssh::Session;

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
    pub fn name(self) -> &'static str {
        match self {
            HashTool::Openssl => "openssl dgst -sha256",
            HashTool::Sha256sum => "sha256sum",
            HashTool::Shasum => "shasum -a 256",
            HashTool::Sha256 => "sha256 -q",
        }
    }

    /// A command that stays running and, for each request on its input
    /// (a number and a path, each NUL-ended), prints one line: the number,
    /// then the file's SHA-256 or `ferry-failed`. The tool reads the file
    /// on its standard input, so no name, whatever its bytes, reaches the
    /// output, and the number shows that answers are in step.
    fn hasher_command(self) -> String {
        let tool = match self {
            HashTool::Openssl => "openssl dgst -sha256 -r",
            HashTool::Sha256sum => "sha256sum -b",
            HashTool::Shasum => "shasum -a 256 -b",
            HashTool::Sha256 => "sha256 -q",
        };
        format!(
            "xargs -0 -n 2 sh -c 'h=$({tool} < \"$2\") || h=ferry-failed; printf \"%s %s\\n\" \"$1\" \"$h\"' ferry-hash"
        )
    }
}

/// A hashing process on the server, kept for the link's life: one command
/// session costs sshd about 100 ms to set up, a file's hash through this
/// one a fork.
pub(super) struct Hasher {
    /// Requests sent so far; each answer repeats its number.
    asked: u64,
    input: openssh::ChildStdin,
    output: tokio::io::BufReader<openssh::ChildStdout>,
    _child: openssh::Child<Arc<Session>>,
}

impl Hasher {
    pub(super) async fn start(session: &Arc<Session>, tool: HashTool) -> Result<Hasher, Failure> {
        let mut command = session.clone().arc_raw_command(tool.hasher_command());
        command.stdin(openssh::Stdio::piped());
        command.stdout(openssh::Stdio::piped());
        command.stderr(openssh::Stdio::null());
        let mut child = (command.spawn().await).map_err(|error| {
            Failure::transient(format!("starting {} over ssh: {error}", tool.name()))
        })?;
        let (Some(input), Some(output)) = (child.stdin().take(), child.stdout().take()) else {
            return Err(Failure::transient("the hashing command has no pipes"));
        };
        Ok(Hasher {
            asked: 0,
            input,
            output: tokio::io::BufReader::new(output),
            _child: child,
        })
    }

    /// The first word after the request's number in the line printed for
    /// `path`. Not safe to cancel: a caller that may drop it drops the
    /// whole `Hasher` with it (`SftpRoute::server_sha256`).
    pub(super) async fn ask(&mut self, path: &Path) -> std::io::Result<String> {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        self.asked += 1;
        let mut request = self.asked.to_string().into_bytes();
        request.push(0);
        request.extend_from_slice(path.as_os_str().as_bytes());
        request.push(0);
        self.input.write_all(&request).await?;
        self.input.flush().await?;
        let mut line = String::new();
        if self.output.read_line(&mut line).await? == 0 {
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
