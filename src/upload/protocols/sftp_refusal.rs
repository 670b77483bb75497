//! Why `ssh` could not connect, as one line that says what to do: an
//! unknown host key is accepted by the user (`ssh host` once), never by
//! ferry; a refused login names the key ssh offers. ssh's own words are
//! kept for anything else, but never its debug lines, which a user's
//! `LogLevel` adds with key paths and fingerprints.

use super::SftpUrl;

/// Why a connection was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    UnknownHostKey,
    ChangedHostKey,
    Login,
    Unreachable,
}

/// A connection that was not made: why, in one line that says what to do.
#[derive(Debug)]
pub struct NotConnected {
    pub refusal: Refusal,
    pub message: String,
}

impl std::fmt::Display for NotConnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NotConnected {}

/// What `ssh` said when it could not connect, as one line that says what
/// to do: an unknown host key is accepted by the user, never by ferry.
pub(super) fn connect_error(url: &SftpUrl, error: &openssh::Error) -> NotConnected {
    let (refusal, message) = classify(url, error);
    NotConnected { refusal, message }
}

fn classify(url: &SftpUrl, error: &openssh::Error) -> (Refusal, String) {
    let mut said = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        said.push_str(": ");
        said.push_str(&cause.to_string());
        source = cause.source();
    }
    let last = why_ssh_failed(&said);
    let said = said.replace(['\n', '\r'], " ");
    let target = match url.port {
        Some(port) if url.host.contains(':') => format!("sftp://[{}]:{port}", url.host),
        Some(port) => format!("sftp://{}:{port}", url.host),
        None => format!("sftp://{}", url.host),
    };
    if said.contains("Host key verification failed") || said.contains("host key is known") {
        if said.contains("IDENTIFICATION HAS CHANGED") {
            return (
                Refusal::ChangedHostKey,
                format!(
                    "{target}: the server's host key has CHANGED since it was accepted; check it with `{}` before trusting it",
                    url.ssh_command()
                ),
            );
        }
        return (
            Refusal::UnknownHostKey,
            format!(
                "{target}: the server's host key is not known; check and accept it by running `{}` once",
                url.ssh_command()
            ),
        );
    }
    if said.contains("Permission denied") || said.contains("Too many authentication failures") {
        return (
            Refusal::Login,
            format!(
                "{target}: the server refused the login (Permission denied): check the user and the key ssh offers (`{} -v`)",
                url.ssh_command()
            ),
        );
    }
    (
        Refusal::Unreachable,
        format!("cannot reach {target} through ssh: {last}"),
    )
}

/// What ssh said last, other than debug lines (a user's `LogLevel` can
/// add them, with key paths and fingerprints), on one line.
fn why_ssh_failed(said: &str) -> String {
    said.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with("debug"))
        .map_or_else(
            || said.replace(['\n', '\r'], " ").trim().to_owned(),
            str::to_owned,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_debug_lines_stay_out_of_why_ssh_failed() {
        let said = "ssh exited: debug1: Reading configuration data /home/u/.ssh/config\n\
                    debug1: Offering public key: /home/u/.ssh/id_ed25519 ED25519 SHA256:abc\n\
                    ssh: connect to host nas port 22: Connection refused\n\
                    debug1: Exit status 255\n";
        assert_eq!(
            why_ssh_failed(said),
            "ssh: connect to host nas port 22: Connection refused"
        );
        assert_eq!(
            why_ssh_failed("Connection timed out"),
            "Connection timed out"
        );
    }
}
