//! Resolved settings: decided once from the command line, the environment
//! and the config file.
//!
//! As in fd and ripgrep, clap's structs are turned into one `Config` before any
//! work starts, so the work code never asks where a setting came from. clap
//! says which flags were typed or came from their variables; only the others
//! take the config file's values (flag, then env var, then file, then default).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;
use reqwest::header::{AUTHORIZATION, HeaderMap};

use crate::cli::chosen::Chosen;
use crate::cli::{CredentialArgs, TransferArgs};
use crate::config::{ConfigFile, NamedDestination};
use crate::error::UsageError;
use crate::journal::job::{Destination, Protocol};
use crate::journal::store::OpenOptions;
use crate::upload::ProtocolChoice;
use crate::upload::PutMethod;
use crate::upload::clear::AfterUpload;
use crate::upload::s3_access as s3;
use crate::upload::secrets::variable;
use crate::upload::window::Window;
use crate::wire::ietf::DEFAULT_INTEROP;

#[derive(Debug)]
pub struct Config {
    pub journal: PathBuf,
    pub wait_lock: Option<Duration>,
    pub job_limit: usize,
    /// Who the output is for, decided once: terminal, colour, verbosity.
    pub output: crate::report::Output,
    /// The config file, when there is one.
    pub file: Option<ConfigFile>,
    /// Flags given on the command line or by their variables (clap ids):
    /// these win over the config file, which wins over clap's defaults.
    given: BTreeSet<String>,
}

/// The ids of the arguments set on the command line or by env var, in the
/// command and its subcommand.
pub fn given_flags(matches: &ArgMatches) -> BTreeSet<String> {
    let mut given = BTreeSet::new();
    let mut add = |matches: &ArgMatches| {
        for id in matches.ids() {
            if matches!(
                matches.value_source(id.as_str()),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            ) {
                given.insert(id.as_str().to_owned());
            }
        }
    };
    add(matches);
    if let Some((_, sub)) = matches.subcommand() {
        add(sub);
    }
    given
}

impl Config {
    pub fn resolve(global: &Chosen, given: BTreeSet<String>) -> anyhow::Result<Config> {
        let journal = match &global.journal {
            Some(path) => path.clone(),
            None => default_journal()?,
        };
        let file = match (&global.config, crate::config::default_path()) {
            (Some(path), _) => ConfigFile::load(path, true)?,
            (None, Some(path)) => ConfigFile::load(&path, false)?,
            (None, None) => None,
        };
        for warning in file.iter().flat_map(ConfigFile::exposed_secrets) {
            crate::report::stream::err_line(&format!("warning: {warning}"));
        }
        Ok(Config {
            journal,
            wait_lock: global.wait_lock,
            job_limit: global.job_limit,
            output: output(global),
            file,
            given,
        })
    }

    /// Whether the journal's path was chosen (`--journal`, `FERRY_JOURNAL`)
    /// rather than the default.
    pub fn journal_given(&self) -> bool {
        self.given.contains("journal")
    }

    /// `--json`: records and events on stdout for scripts.
    pub fn json(&self) -> bool {
        self.output.json
    }

    /// `-v`: what was left out too.
    pub fn verbose(&self) -> bool {
        self.output.verbosity >= crate::report::Verbosity::Verbose
    }

    /// `-q`: nothing on success.
    pub fn quiet(&self) -> bool {
        self.output.verbosity == crate::report::Verbosity::Quiet
    }

    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            wait_lock: self.wait_lock,
            job_limit: self.job_limit,
        }
    }

    pub(super) fn given(&self, id: &str) -> bool {
        self.given.contains(id)
    }

    /// The flag's value when it was given, else the config file's, else the default.
    fn pick<T: Copy>(&self, id: &str, flag: T, configured: Option<T>) -> T {
        match configured {
            Some(value) if !self.given(id) => value,
            _ => flag,
        }
    }

    /// The config file's S3 settings for the destination `text` stands for.
    pub fn s3(&self, text: &str) -> anyhow::Result<s3::Configured> {
        match (&self.file, self.named(text)) {
            (Some(file), Some((name, _))) => Ok(file.s3(name)?),
            _ => Ok(s3::Configured::default()),
        }
    }

    /// The named destination `text` stands for, if the config file has one.
    pub fn named(&self, text: &str) -> Option<(&str, &NamedDestination)> {
        let file = self.file.as_ref()?;
        file.destinations
            .get_key_value(text)
            .map(|(name, destination)| (name.as_str(), destination))
    }

    /// A destination as typed: a configured name, an http(s) URL or a
    /// local folder, with the protocol asked for.
    pub fn destination(&self, text: &str, protocol: ProtocolChoice) -> anyhow::Result<Destination> {
        let Some((_, named)) = self.named(text) else {
            if looks_like_a_name(text) && !std::path::Path::new(text).exists() {
                return Err(UsageError(self.unknown_name(text)).into());
            }
            return destination(text, protocol);
        };
        let protocol = self.pick("protocol", protocol, named.protocol);
        destination(named.url.get_ref(), protocol)
    }

    fn unknown_name(&self, text: &str) -> String {
        let known = match &self.file {
            Some(file) if !file.destinations.is_empty() => format!(
                "{} names {}",
                file.path.display(),
                file.destinations
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(file) => format!("{} names no destinations", file.path.display()),
            None => "there is no config file".to_owned(),
        };
        format!(
            "destination {text:?} is not a configured destination ({known}); for a new folder here write ./{text}"
        )
    }

    /// The headers for one destination: its configured ones (with `${VAR}`
    /// expanded), then `-H` (which replaces a configured header of the same
    /// name), then the token from `--token-file` or else `--token-env`'s
    /// variable, unless an `Authorization` header is already there.
    pub fn request_headers(
        &self,
        args: &CredentialArgs,
        name: Option<&str>,
    ) -> anyhow::Result<HeaderMap> {
        let mut headers = match (&self.file, name) {
            (Some(file), Some(name)) => file.headers(name)?,
            _ => HeaderMap::new(),
        };
        let flags = crate::upload::request_headers(&args.headers, None)?;
        for name in flags.keys() {
            headers.remove(name);
        }
        headers.extend(flags);
        if !headers.contains_key(AUTHORIZATION) {
            let token = match &args.token_file {
                Some(path) => Some(token_in(path)?),
                None => variable(&args.token_env),
            };
            headers.extend(crate::upload::request_headers(&[], token.as_deref())?);
        }
        Ok(headers)
    }

    /// The upload engine's settings. `wanted` says which destination URLs
    /// will be used: only their configured headers are expanded.
    pub fn transfer_settings(
        &self,
        args: &TransferArgs,
        run_destination: Option<&str>,
        wanted: impl Fn(&str) -> bool,
    ) -> anyhow::Result<crate::upload::Settings> {
        let base = crate::upload::Transfer {
            chunk_size: args.chunk_size,
            ietf_version: args.ietf_version,
            put_method: args.put_method,
            headers: self.request_headers(&args.credentials, None)?,
            s3: s3::Configured::default(),
            bwlimit: None,
        };
        let destinations =
            self.named_transfers(&args.credentials, wanted, |named| crate::upload::Transfer {
                chunk_size: match named.chunk_size {
                    Some(size) if !self.given("chunk_size") => Some(size),
                    _ => args.chunk_size,
                },
                ietf_version: self.pick("ietf_version", args.ietf_version, named.ietf_version),
                put_method: self.pick("put_method", args.put_method, named.put_method),
                headers: HeaderMap::new(),
                s3: s3::Configured::default(),
                bwlimit: named.bwlimit.clone(),
            })?;
        let configured_concurrency = run_destination
            .and_then(|text| self.named(text))
            .and_then(|(_, named)| named.concurrency);
        Ok(crate::upload::Settings {
            dry_run: false,
            concurrency: usize::from(self.pick(
                "concurrency",
                args.concurrency,
                configured_concurrency,
            )),
            retries: args.retries,
            idle_timeout: args.idle_timeout,
            auto_ack: !args.no_auto_ack,
            part_concurrency: usize::from(args.part_concurrency),
            overwrite: args.overwrite,
            bwlimit: args.bwlimit.clone(),
            window: Window::new(args.max_duration, args.stop_at, args.cutoff_mode),
            after_upload: match (&args.move_to, args.delete_after) {
                (Some(dir), _) => Some(AfterUpload::MoveTo(dir.clone())),
                (None, true) => Some(AfterUpload::Delete),
                (None, false) => None,
            },
            transfer: base,
            destinations,
            ca_certs: ca_certs(&args.credentials)?,
            ..crate::upload::Settings::default()
        })
    }

    /// Settings for requests outside an upload run (`ferry cancel`): the
    /// headers, and for a configured destination the request shape it speaks
    /// (its IETF interop version above all).
    pub fn credential_settings(
        &self,
        credentials: &CredentialArgs,
        wanted: impl Fn(&str) -> bool,
    ) -> anyhow::Result<crate::upload::Settings> {
        Ok(crate::upload::Settings {
            dry_run: false,
            transfer: crate::upload::Transfer {
                headers: self.request_headers(credentials, None)?,
                ..crate::upload::Transfer::default()
            },
            destinations: self.named_transfers(credentials, wanted, |named| {
                crate::upload::Transfer {
                    chunk_size: named.chunk_size,
                    ietf_version: named.ietf_version.unwrap_or(DEFAULT_INTEROP),
                    put_method: named.put_method.unwrap_or(PutMethod::Put),
                    headers: HeaderMap::new(),
                    s3: s3::Configured::default(),
                    bwlimit: None,
                }
            })?,
            ca_certs: ca_certs(credentials)?,
            ..crate::upload::Settings::default()
        })
    }

    /// One transfer per configured destination whose URL is `wanted`, shaped
    /// by `shape`, with the destination's headers.
    fn named_transfers(
        &self,
        credentials: &CredentialArgs,
        wanted: impl Fn(&str) -> bool,
        shape: impl Fn(&NamedDestination) -> crate::upload::Transfer,
    ) -> anyhow::Result<HashMap<String, crate::upload::Transfer>> {
        let mut transfers = HashMap::new();
        for (name, named) in self.file.iter().flat_map(|file| &file.destinations) {
            let Ok(url) = parse_destination(named.url.get_ref()) else {
                continue;
            };
            if wanted(&url.url) {
                let configured = match &self.file {
                    Some(file) => file.s3(name)?,
                    None => s3::Configured::default(),
                };
                let transfer = crate::upload::Transfer {
                    headers: self.request_headers(credentials, Some(name))?,
                    s3: configured,
                    ..shape(named)
                };
                transfers.insert(url.url, transfer);
            }
        }
        Ok(transfers)
    }
}

/// The bearer token in a `--token-file` (`ferry serve`'s or a client's):
/// the file's text, trimmed, one token without spaces. A plain error, so
/// that a watch whose token file is missing pauses until it is there.
fn token_in(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("--token-file {}: {error}", path.display()))?;
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        anyhow::bail!(
            "--token-file {}: expected one token without spaces",
            path.display()
        );
    }
    Ok(token.to_owned())
}

/// Decides bars or lines, colour and verbosity from the flags, `NO_COLOR`
/// and whether stderr is a terminal. Colour is set for the whole process
/// here, so that nothing later asks again.
fn output(global: &Chosen) -> crate::report::Output {
    use crate::cli::{ColorChoice, ProgressChoice};
    use crate::report::{ProgressStyle, Verbosity};
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color && !dumb,
    };
    console::set_colors_enabled_stderr(color);
    console::set_colors_enabled(color);
    let progress = match global.progress {
        ProgressChoice::Auto if terminal && !dumb => ProgressStyle::Bars,
        ProgressChoice::Auto | ProgressChoice::Lines => ProgressStyle::Lines,
        ProgressChoice::Bars => ProgressStyle::Bars,
        ProgressChoice::None => ProgressStyle::None,
    };
    let verbosity = if global.quiet {
        Verbosity::Quiet
    } else if global.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    crate::report::Output {
        json: global.json,
        verbosity,
        progress,
        color,
        stats: Duration::from_secs(30),
        log_file: global.log_file.clone(),
    }
}

/// A bare word, as a destination name is written: no path separator, no
/// scheme, not `.`-relative or `~`.
fn looks_like_a_name(text: &str) -> bool {
    !text.is_empty() && !text.contains(['/', '\\', ':']) && !text.starts_with(['.', '~'])
}

/// `<data dir>/journals/default.jsonl`, e.g. `~/.local/share/ferry/journals/default.jsonl`.
pub fn default_journal() -> anyhow::Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "ferry").ok_or_else(|| {
        UsageError("cannot find the user's data directory (is HOME set?); pass --journal PATH or set FERRY_JOURNAL".to_owned())
    })?;
    Ok(dirs.data_dir().join("journals").join("default.jsonl"))
}

/// A destination as typed: an http(s) URL, an `s3://` bucket, or else a
/// local folder.
pub fn parse_destination(text: &str) -> anyhow::Result<Destination> {
    let lower = text.to_ascii_lowercase();
    if lower.contains("://") {
        crate::upload::secrets::refuse_secrets_in_url(text).map_err(UsageError)?;
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(Destination::new(text, Protocol::Auto));
    }
    if lower.starts_with("s3://") {
        crate::wire::s3::S3Url::parse(text).map_err(UsageError)?;
        return Ok(Destination::new(text, Protocol::S3));
    }
    if lower.starts_with("sftp://") {
        crate::upload::protocols::sftp::SftpUrl::parse(text).map_err(UsageError)?;
        return Ok(Destination::new(text, Protocol::Sftp));
    }
    if lower.contains("://") {
        return Err(UsageError(format!(
            "destination {text:?}: only http://, https://, s3:// and sftp:// URLs or local folders are supported"
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
    let speaks_one = match destination.protocol {
        Protocol::S3 => Some("an S3 bucket, which speaks S3 only"),
        Protocol::Sftp => Some("an SFTP server, which speaks SFTP only"),
        _ => None,
    };
    if let Some(what) = speaks_one {
        if protocol != ProtocolChoice::Auto {
            return Err(UsageError(format!("--protocol {protocol:?}: {text:?} is {what}")).into());
        }
        return Ok(destination);
    }
    destination.protocol = match protocol {
        ProtocolChoice::Auto => Protocol::Auto,
        ProtocolChoice::Ietf => Protocol::Ietf,
        ProtocolChoice::Tus => Protocol::Tus,
        ProtocolChoice::Put => Protocol::Put,
        ProtocolChoice::Bits => Protocol::Bits,
    };
    Ok(destination)
}

/// The certificates of `--ca-cert`, trusted besides the system's.
fn ca_certs(credentials: &CredentialArgs) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let Some(path) = &credentials.ca_cert else {
        return Ok(Vec::new());
    };
    crate::upload::http::certificates_in(path)
        .map_err(|problem| UsageError(format!("--ca-cert {}: {problem}", path.display())).into())
}

/// `ferry serve`'s settings: the token read, the listen address checked.
pub fn serve_settings(args: &crate::cli::ServeArgs) -> anyhow::Result<crate::serve::Settings> {
    let token = (args.token_file.as_deref())
        .map(|path| token_in(path).map_err(|error| UsageError(error.to_string())))
        .transpose()?;
    if !args.listen.ip().is_loopback() && token.is_none() {
        return Err(UsageError(format!(
            "--listen {} is reachable from other machines; give --token-file so every request needs a bearer token",
            args.listen
        ))
        .into());
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::serve::tls::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    if !args.listen.ip().is_loopback() && tls.is_none() && !args.insecure_http {
        return Err(UsageError(format!(
            "--listen {} is reachable from other machines, and the token would cross the network in clear text; give --tls-cert and --tls-key, or --insecure-http when a proxy in front ends TLS",
            args.listen
        ))
        .into());
    }
    let dir = std::path::absolute(&args.dir)
        .map_err(|error| UsageError(format!("--dir {}: {error}", args.dir.display())))?;
    let forward = match &args.forward {
        None => None,
        Some(url) => Some(crate::serve::forward::ForwardSettings {
            url: url.clone(),
            method: args.forward_method,
            headers: forward_headers(&args.forward_header)?,
            keep: args.keep,
            ca_certs: match &args.forward_ca_cert {
                None => Vec::new(),
                Some(path) => crate::upload::http::certificates_in(path).map_err(|problem| {
                    UsageError(format!("--forward-ca-cert {}: {problem}", path.display()))
                })?,
            },
        }),
    };
    Ok(crate::serve::Settings {
        dir,
        listen: args.listen,
        token,
        max_size: args.max_size,
        max_append_size: args.max_append_size,
        max_uploads: args.max_uploads,
        max_connections: args.max_connections,
        lifetime: args.expire_after,
        forward,
        tls,
        allowed_hosts: args.allow_host.clone(),
        cors_origins: (args.cors_origin.iter())
            .map(|origin| origin.trim_end_matches('/').to_owned())
            .collect(),
    })
}

/// `--forward-header 'Name: value'` with `${VAR}` expanded. Every value is
/// marked sensitive: these headers are sent and never shown, and an error
/// names the header, never its value.
fn forward_headers(given: &[String]) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for text in given {
        let bad = |problem: &str| {
            let name = crate::wire::typed_header_name(text);
            UsageError(format!("--forward-header {name:?}: {problem}"))
        };
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| bad("expected 'Name: value'"))?;
        let value = crate::config::expand(value.trim(), |var| {
            std::env::var(var).ok().filter(|value| !value.is_empty())
        })
        .map_err(|problem| bad(&problem))?;
        let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| bad("not a header name"))?;
        let mut value = reqwest::header::HeaderValue::from_str(&value)
            .map_err(|_| bad("the value has characters a header cannot carry"))?;
        value.set_sensitive(true);
        headers.append(name, value);
    }
    Ok(headers)
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
