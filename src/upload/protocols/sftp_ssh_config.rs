//! The `ssh_config` each master connection starts with: the user's own
//! configuration, then a cipher order with AES-GCM ahead of
//! ChaCha20-Poly1305 when this CPU has AES instructions.
//!
//! OpenSSH offers ChaCha20-Poly1305 first, which is the faster choice on a
//! CPU without AES instructions and the slower one with them (a 1 GiB
//! upload over loopback: BENCHMARKS.md, "SFTP"). Go's SSH, which rclone
//! uses, orders AES-GCM first for the same reason. ssh keeps the first
//! value it reads for each option, and the user's files are included
//! before ferry's line, so a `Ciphers` the user chose still wins. Without
//! AES instructions, or with an ssh too old for `Include` (before 7.3),
//! ssh reads the user's configuration as it would alone.
//!
//! The file is written for one connection and removed once the master is
//! up: ssh reads it only when it starts.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::SSH_CONFIG_ENV;

/// OpenSSH's own list, AES-GCM moved to the front.
const CIPHERS: &str = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,\
chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";

/// A config file that lives while a master connection starts.
pub struct StartConfig {
    file: Option<tempfile::TempPath>,
}

impl StartConfig {
    /// The file to give `ssh -F`: ferry's own when it changes the cipher
    /// order, else `FERRY_SSH_CONFIG` when set, else none (ssh's default
    /// files).
    pub fn write() -> std::io::Result<StartConfig> {
        let Some(text) = config_text() else {
            return Ok(StartConfig { file: None });
        };
        let mut file = tempfile::Builder::new()
            .prefix("ferry-ssh-")
            .suffix(".config")
            .tempfile()?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        Ok(StartConfig {
            file: Some(file.into_temp_path()),
        })
    }

    pub fn path(&self) -> Option<PathBuf> {
        match &self.file {
            Some(file) => Some(file.to_path_buf()),
            None => user_config(),
        }
    }
}

/// `FERRY_SSH_CONFIG`, when set: the file read instead of `~/.ssh/config`,
/// made absolute against where ferry runs (ssh would read a relative
/// `Include` from ~/.ssh, and a command ferry suggests must work from
/// any folder).
pub(super) fn user_config() -> Option<PathBuf> {
    std::env::var_os(SSH_CONFIG_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .map(|path| std::path::absolute(&path).unwrap_or(path))
}

/// The text of ferry's file, or `None` when ssh should read the user's
/// configuration alone.
fn config_text() -> Option<String> {
    static TEXT: OnceLock<Option<String>> = OnceLock::new();
    TEXT.get_or_init(|| {
        if !cpu_has_aes() || !ssh_has_include() {
            return None;
        }
        // What ssh reads when no -F is given, or the one file -F names.
        let includes = match user_config() {
            Some(path) => vec![path.to_str()?.to_owned()],
            None => vec!["~/.ssh/config".to_owned(), "/etc/ssh/ssh_config".to_owned()],
        };
        let mut text =
            String::from("# Written by ferry for one connection; removed once it is up.\n");
        for path in includes {
            // ssh_config quotes with double quotes and has no escape.
            if path.contains(['"', '\n']) {
                return None;
            }
            text.push_str(&format!("Include \"{path}\"\n"));
        }
        text.push_str(&format!("Host *\n  Ciphers {CIPHERS}\n"));
        Some(text)
    })
    .clone()
}

fn cpu_has_aes() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Whether the system `ssh` is OpenSSH 7.3 or later (`Include`).
fn ssh_has_include() -> bool {
    let Ok(output) = std::process::Command::new("ssh").arg("-V").output() else {
        return false;
    };
    // `ssh -V` writes "OpenSSH_9.2p1 Debian-2, OpenSSL 3.0.19 ..." to stderr.
    openssh_version(&String::from_utf8_lossy(&output.stderr)).is_some_and(|v| v >= (7, 3))
}

fn openssh_version(banner: &str) -> Option<(u32, u32)> {
    let rest = banner.trim_start().strip_prefix("OpenSSH_")?;
    let (major, rest) = rest.split_once('.')?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::openssh_version;

    #[test]
    fn reads_the_openssh_version_from_its_banner() {
        let banner = "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026";
        assert_eq!(openssh_version(banner), Some((9, 2)));
        assert_eq!(openssh_version("OpenSSH_7.2p2 Ubuntu"), Some((7, 2)));
        assert_eq!(openssh_version("OpenSSH_10.0p2"), Some((10, 0)));
        assert_eq!(openssh_version("Sun_SSH_1.1"), None);
    }
}
