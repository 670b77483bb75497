//! Resolved settings: decided once from the command line and the environment.
//!
//! As in fd and ripgrep, clap's structs are turned into one `Config` before any
//! work starts, so the work code never asks where a setting came from.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{CredentialArgs, GlobalArgs, ProtocolChoice, TransferArgs};
use crate::error::UsageError;
use crate::job::{Destination, Protocol};
use crate::store::OpenOptions;

#[derive(Clone, Debug)]
pub struct Config {
    pub journal: PathBuf,
    pub wait_lock: Option<Duration>,
    pub json: bool,
    pub quiet: bool,
    pub job_limit: usize,
}

impl Config {
    pub fn resolve(global: &GlobalArgs) -> anyhow::Result<Config> {
        let journal = match &global.journal {
            Some(path) => path.clone(),
            None => default_journal()?,
        };
        Ok(Config {
            journal,
            wait_lock: global.wait_lock,
            json: global.json,
            quiet: global.quiet,
            job_limit: global.job_limit,
        })
    }

    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            wait_lock: self.wait_lock,
            job_limit: self.job_limit,
        }
    }
}

/// `<data dir>/journals/default.jsonl`, e.g. `~/.local/share/ferry/journals/default.jsonl`.
pub fn default_journal() -> anyhow::Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "ferry").ok_or_else(|| {
        UsageError("cannot find the user's data directory (is HOME set?); pass --journal PATH or set FERRY_JOURNAL".to_owned())
    })?;
    Ok(dirs.data_dir().join("journals").join("default.jsonl"))
}

/// A destination as typed: an http(s) URL, or else a local folder.
pub fn parse_destination(text: &str) -> anyhow::Result<Destination> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(Destination::new(text, Protocol::Auto));
    }
    if lower.contains("://") {
        return Err(UsageError(format!(
            "destination {text:?}: only http:// and https:// URLs or local folders are supported"
        ))
        .into());
    }
    // Rebuilt from its components so that `/backup/` and `/backup/./` name
    // the same destination as `/backup` (dedupe compares destinations).
    let folder: PathBuf = std::path::absolute(text)
        .map_err(|error| UsageError(format!("destination {text:?}: {error}")))?
        .components()
        .collect();
    let folder = folder.to_str().ok_or_else(|| {
        UsageError(format!(
            "destination {text:?}: a local destination folder must have a UTF-8 path"
        ))
    })?;
    Ok(Destination::new(folder, Protocol::Local))
}

/// A destination with the protocol asked for; local folders take none.
pub fn destination(text: &str, protocol: ProtocolChoice) -> anyhow::Result<Destination> {
    let mut destination = parse_destination(text)?;
    if destination.protocol == Protocol::Local {
        if protocol != ProtocolChoice::Auto {
            return Err(UsageError(format!(
                "--protocol {protocol:?}: {text:?} is a local folder; protocols apply to URLs"
            ))
            .into());
        }
        return Ok(destination);
    }
    destination.protocol = match protocol {
        ProtocolChoice::Auto => Protocol::Auto,
        ProtocolChoice::Ietf => Protocol::Ietf,
        ProtocolChoice::Tus => Protocol::Tus,
        ProtocolChoice::Put => Protocol::Put,
    };
    Ok(destination)
}

/// `-H` headers and the token from its variable, checked once.
pub fn request_headers(args: &CredentialArgs) -> anyhow::Result<reqwest::header::HeaderMap> {
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|token| !token.trim().is_empty());
    Ok(crate::upload::request_headers(
        &args.headers,
        token.as_deref(),
    )?)
}

/// The upload engine's settings; the token is read from its variable here.
pub fn transfer_settings(args: &TransferArgs) -> anyhow::Result<crate::upload::Settings> {
    Ok(crate::upload::Settings {
        concurrency: usize::from(args.concurrency),
        retries: args.retries,
        chunk_size: args.chunk_size,
        idle_timeout: args.idle_timeout,
        ietf_version: args.ietf_version,
        put_method: args.put_method,
        headers: request_headers(&args.credentials)?,
        auto_ack: !args.no_auto_ack,
        ..crate::upload::Settings::default()
    })
}

/// `ferry serve`'s settings: the token read, the listen address checked.
pub fn serve_settings(args: &crate::cli::ServeArgs) -> anyhow::Result<crate::serve::Settings> {
    let token = match &args.token_file {
        None => None,
        Some(path) => {
            let text = fs_err::read_to_string(path)
                .map_err(|error| UsageError(format!("--token-file: {error}")))?;
            let token = text.trim();
            if token.is_empty() || token.contains(char::is_whitespace) {
                return Err(UsageError(format!(
                    "--token-file {}: expected one token without spaces",
                    path.display()
                ))
                .into());
            }
            Some(token.to_owned())
        }
    };
    if !args.listen.ip().is_loopback() && token.is_none() {
        return Err(UsageError(format!(
            "--listen {} is reachable from other machines; give --token-file so every request needs a bearer token",
            args.listen
        ))
        .into());
    }
    let dir = std::path::absolute(&args.dir)
        .map_err(|error| UsageError(format!("--dir {}: {error}", args.dir.display())))?;
    Ok(crate::serve::Settings {
        dir,
        listen: args.listen,
        token,
        max_size: args.max_size,
        max_append_size: args.max_append_size,
        lifetime: args.expire_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_destinations_are_normalized() {
        let plain = parse_destination("/backup/photos").unwrap();
        assert_eq!(plain.protocol, Protocol::Local);
        for spelling in ["/backup/photos/", "/backup/./photos", "/backup//photos"] {
            assert_eq!(parse_destination(spelling).unwrap(), plain, "{spelling}");
        }
    }

    #[test]
    fn urls_and_other_schemes() {
        let url = parse_destination("http://127.0.0.1:8080/files").unwrap();
        assert_eq!(
            (url.url.as_str(), url.protocol),
            ("http://127.0.0.1:8080/files", Protocol::Auto)
        );
        let error = parse_destination("ftp://127.0.0.1/x").unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some());
    }
}
