//! `ferry probe sftp://…`: what a sync there would meet, asked without
//! uploading: the host key, the login, the folder, and whether the account
//! runs commands (which decides how uploads are confirmed).

use std::path::Path;
use std::time::Duration;

use super::{Link, NotConnected, Refusal, SftpUrl};

#[derive(Debug, serde::Serialize)]
pub struct SftpReport {
    pub url: String,
    /// known, unknown, changed, or not checked (the server was not reached).
    pub host_key: &'static str,
    /// accepted, refused, or not tried.
    pub login: &'static str,
    /// writable, not writable, missing (a sync makes it under a writable
    /// folder), or unknown.
    pub folder: String,
    pub commands: bool,
    /// The server's SHA-256 tool, when it runs commands.
    pub hash_tool: Option<&'static str>,
    /// What went wrong, in one line, when something did.
    pub error: Option<String>,
}

impl SftpReport {
    /// Whether an upload here can work.
    pub fn ready(&self) -> bool {
        self.login == "accepted"
            && (self.folder == "writable" || self.folder.starts_with("missing;"))
    }
}

pub async fn probe(text: &str, connect_timeout: Duration) -> Result<SftpReport, String> {
    let url = SftpUrl::parse(text)?;
    let mut report = SftpReport {
        url: text.to_owned(),
        host_key: "not checked",
        login: "not tried",
        folder: "unknown".to_owned(),
        commands: false,
        hash_tool: None,
        error: None,
    };
    let link = match Link::open(&url, connect_timeout, true).await {
        Ok(link) => link,
        Err(NotConnected { refusal, message }) => {
            (report.host_key, report.login) = match refusal {
                Refusal::UnknownHostKey => ("unknown", "not tried"),
                Refusal::ChangedHostKey => ("changed", "not tried"),
                Refusal::Login => ("known", "refused"),
                Refusal::Unreachable => ("not checked", "not tried"),
            };
            report.error = Some(message);
            return Ok(report);
        }
    };
    (report.host_key, report.login) = ("known", "accepted");
    report.commands = link.run(b"true", Duration::from_secs(30)).await.is_ok();
    match link.hash_tool().await {
        Ok(tool) => report.hash_tool = tool.map(|tool| tool.name()),
        Err(failure) => report.error = Some(failure.text()),
    }
    report.folder = folder_state(&link, &url.dir).await;
    Ok(report)
}

/// Whether files can be made in `dir`, or in the nearest folder above it
/// that exists (a sync makes the rest).
async fn folder_state(link: &Link, dir: &Path) -> String {
    let mut fs = link.sftp.fs();
    // A path below the home folder (`/~/`) ends at the home folder, `.`.
    let home = Path::new(".");
    // Without a trailing `/`, so that a file of that name is found.
    let dir: std::path::PathBuf = dir.components().collect();
    let above = dir.ancestors().filter(|a| !a.as_os_str().is_empty());
    let mut found = None;
    for above in above.chain(dir.is_relative().then_some(home)) {
        if let Ok(meta) = fs.metadata(above).await {
            found = Some((
                above.to_owned(),
                meta.file_type().is_some_and(|t| t.is_dir()),
            ));
            break;
        }
    }
    let Some((existing, is_folder)) = found else {
        return "unknown (no folder above it can be read)".to_owned();
    };
    if !is_folder {
        return format!(
            "not writable: {} is a file, not a folder",
            existing.display()
        );
    }
    let trial = existing.join(format!(".ferry-probe-{}", std::process::id()));
    let writable = match link.sftp.create(&trial).await {
        Ok(file) => {
            let _ = file.close().await;
            let _ = fs.remove_file(&trial).await;
            true
        }
        Err(_) => false,
    };
    let shown = match existing == home {
        true => "the home folder".to_owned(),
        false => existing.display().to_string(),
    };
    match (existing == dir, writable) {
        (true, true) => "writable".to_owned(),
        (true, false) => "not writable".to_owned(),
        (false, true) => format!("missing; a sync makes it under {shown}, which is writable"),
        (false, false) => format!("missing, and {shown} above it is not writable"),
    }
}
