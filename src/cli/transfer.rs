//! The transfer commands: `scan`, `upload`, `sync` and `probe`, their flags
//! and the glue that runs them.
//!
//! The flags are only what was typed; `config` resolves them into the
//! settings that `scan` and `upload` read. The glue opens the store, wires
//! the reporters to the events, and turns the outcome into an exit code.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, ArgGroup, Args};

use crate::config::Config;
use crate::error;
use crate::format::human_bytes;
use crate::journal::job::{Action, Job, Protocol};
use crate::journal::store::LimitReached;
use crate::journal::store::Store;
use crate::report::{self, Event, Reporter, ScanCounts};
use crate::scan::{self, ScanEvent, ScanOptions, ScanSummary};
use crate::upload;
use crate::wire::ietf::INTEROP_VERSIONS;

use super::{open_for_change, open_read_only, parse_duration, parse_size, print_json_line};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Folders to scan
    #[arg(value_name = "DIR", required = true)]
    pub roots: Vec<PathBuf>,

    /// Where the jobs upload to: a destination named in the config file, a URL or a local folder
    #[arg(long, value_name = "DEST", env = "FERRY_TO")]
    pub to: String,

    /// Protocol for a URL destination; auto asks the server with OPTIONS
    #[arg(
        long,
        value_enum,
        value_name = "PROTOCOL",
        env = "FERRY_PROTOCOL",
        default_value = "auto"
    )]
    pub protocol: ProtocolChoice,

    /// Follow symbolic links (loops are detected and reported)
    #[arg(long, short = 'L', env = "FERRY_FOLLOW_LINKS", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub follow_links: bool,

    /// Include hidden files and folders (names starting with a dot)
    #[arg(long, env = "FERRY_HIDDEN", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub hidden: bool,

    /// Descend at most this many folders below each root
    #[arg(long, value_name = "N", env = "FERRY_MAX_DEPTH")]
    pub max_depth: Option<usize>,

    /// Take every file, not only images, videos and audio
    #[arg(long, env = "FERRY_ALL_FILES", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub all_files: bool,

    /// Also take sidecar files (XMP, AAE, THM)
    #[arg(long, env = "FERRY_SIDECARS", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub sidecars: bool,

    /// Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)
    #[arg(
        long,
        value_name = "GLOB",
        env = "FERRY_INCLUDE",
        value_delimiter = '\n'
    )]
    pub include: Vec<String>,

    /// Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)
    #[arg(
        long,
        value_name = "GLOB",
        env = "FERRY_EXCLUDE",
        value_delimiter = '\n'
    )]
    pub exclude: Vec<String>,

    /// Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)
    #[arg(long, env = "FERRY_NO_DEFAULT_EXCLUDES", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub no_default_excludes: bool,

    /// Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)
    #[arg(long, value_name = "SIZE", env = "FERRY_MIN_SIZE", default_value = "1", value_parser = parse_size)]
    pub min_size: u64,

    /// Leave out files larger than this (e.g. 4G)
    #[arg(long, value_name = "SIZE", env = "FERRY_MAX_SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Leave out files modified less than this long ago, still being written (e.g. 10m)
    #[arg(long, value_name = "DURATION", env = "FERRY_MIN_AGE", default_value = "0s", value_parser = parse_duration)]
    pub min_age: Duration,

    /// Read and hash every file, even those unchanged since the last scan
    #[arg(long, env = "FERRY_REHASH", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub rehash: bool,

    /// Say what would be queued and write nothing
    #[arg(long, short = 'n', env = "FERRY_DRY_RUN", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub dry_run: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolChoice {
    /// IETF resumable uploads if the server announces it, else tus, else PUT
    Auto,
    /// The IETF resumable uploads draft (see --ietf-version)
    Ietf,
    /// tus 1.0
    Tus,
    /// One plain PUT (or POST, see --put-method) per file; the URL may hold {path}, {name}, {sha256}
    Put,
    /// BITS 1.5 upload (Create-Session, Fragment, Close-Session), as IIS servers speak it
    Bits,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub scan: ScanArgs,

    #[command(flatten)]
    pub transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Upload this many jobs at once
    #[arg(short = 'j', long, value_name = "N", env = "FERRY_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)
    #[arg(long, value_name = "N", env = "FERRY_RETRIES", default_value_t = 8)]
    pub retries: u32,

    /// Send at most this much per request (default: the whole file, or the server's limit)
    #[arg(long, value_name = "SIZE", env = "FERRY_CHUNK_SIZE", value_parser = parse_chunk_size)]
    pub chunk_size: Option<u64>,

    /// End a request when no byte has moved for this long, and retry
    #[arg(long, value_name = "DURATION", env = "FERRY_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)
    #[arg(long, value_name = "N", env = "FERRY_IETF_VERSION", default_value_t = crate::wire::ietf::DEFAULT_INTEROP,
          value_parser = parse_ietf_version)]
    pub ietf_version: u8,

    /// Method for the put protocol
    #[arg(
        long,
        value_enum,
        value_name = "METHOD",
        env = "FERRY_PUT_METHOD",
        default_value = "put"
    )]
    pub put_method: crate::upload::PutMethod,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Leave succeeded jobs unacknowledged, for scripts that read their responses first
    #[arg(long, env = "FERRY_NO_AUTO_ACK", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub no_auto_ack: bool,

    /// Without bars, print a progress line this often (e.g. 30s, 5m)
    #[arg(long, value_name = "DURATION", env = "FERRY_STATS", default_value = "30s", value_parser = parse_duration)]
    pub stats: Duration,

    /// At the end, write the paths of the listed failed jobs to this file, one per line
    #[arg(long, value_name = "FILE", env = "FERRY_FAILED_LIST")]
    pub failed_list: Option<PathBuf>,
}

/// What a request carries besides the file: never recorded anywhere.
#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// Send this header with every request, e.g. -H 'X-Api-Key: ...' (repeatable; one per line in the variable; never recorded)
    #[arg(
        short = 'H',
        long = "header",
        value_name = "NAME: VALUE",
        env = "FERRY_HEADERS",
        value_delimiter = '\n',
        hide_env_values = true
    )]
    pub headers: Vec<String>,

    /// Read a bearer token from this environment variable (sent as Authorization; never recorded)
    #[arg(
        long,
        value_name = "VAR",
        env = "FERRY_TOKEN_ENV",
        default_value = "FERRY_TOKEN"
    )]
    pub token_env: String,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).multiple(true).args(["destination", "to"])))]
pub struct ProbeArgs {
    /// The destination to ask: a name from the config file, a URL or a local folder
    #[arg(value_name = "DEST")]
    pub destination: Option<String>,

    /// The same as DEST (which wins when both are given), for scripts that set FERRY_TO for sync
    #[arg(long, value_name = "DEST", env = "FERRY_TO")]
    pub to: Option<String>,

    /// Ask in this protocol: bits sends a BITS Ping (BITS servers announce nothing on OPTIONS)
    #[arg(long, value_enum, env = "FERRY_PROTOCOL")]
    pub protocol: Option<ProtocolChoice>,

    #[command(flatten)]
    pub credentials: CredentialArgs,
}

fn parse_chunk_size(text: &str) -> Result<u64, String> {
    match crate::format::parse_size(text)? {
        0 => Err("must be at least 1 byte".to_owned()),
        size => Ok(size),
    }
}

fn parse_ietf_version(text: &str) -> Result<u8, String> {
    text.parse()
        .ok()
        .filter(|version| INTEROP_VERSIONS.contains(version))
        .ok_or_else(|| format!("{text:?} is not one of {}", crate::wire::ietf::listed()))
}

/// `ferry scan`: exit 0 when clean, 3 when files could not be read.
pub fn scan(config: &Config, args: &ScanArgs) -> anyhow::Result<u8> {
    let reporter = report::reporter(&config.output)?;
    Ok(scan_with(config, args, reporter.as_ref())?.0)
}

fn scan_with(
    config: &Config,
    args: &ScanArgs,
    reporter: &dyn Reporter,
) -> anyhow::Result<(u8, ScanSummary)> {
    let options = ScanOptions {
        roots: args.roots.clone(),
        destination: config.destination(&args.to, args.protocol)?,
        filter: config.filter(args),
        follow_links: args.follow_links,
        max_depth: args.max_depth,
        min_size: args.min_size,
        max_size: args.max_size,
        min_age: args.min_age,
        rehash: args.rehash,
        dry_run: args.dry_run,
        hash_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let mut store = if args.dry_run {
        let mut store = open_read_only(config)?;
        store.set_job_limit(config.job_limit);
        store
    } else {
        open_for_change(config)?
    };
    let summary = scan::scan(&mut store, &options, &mut |event| match event {
        ScanEvent::Walked {
            files,
            bytes_to_hash,
        } => reporter.event(Event::Walked {
            files: files as u64,
            bytes_to_hash,
        }),
        ScanEvent::Scanned {
            files,
            hashed_bytes,
        } => reporter.event(Event::Scanned {
            files,
            hashed_bytes,
        }),
        ScanEvent::Warning { path, message } => reporter.event(Event::ScanWarning {
            path,
            message: &message,
        }),
        ScanEvent::Queued {
            root,
            path,
            size,
            sha256,
        } => {
            let full = root.as_path().join(path.as_path());
            // What a dry run would queue is its result: stdout, for people.
            if args.dry_run && !config.json() && !config.quiet() {
                println!("would queue {} ({})", full.display(), human_bytes(size));
            }
            reporter.event(Event::Queued {
                path: &full,
                size,
                sha256,
                dry_run: args.dry_run,
            });
        }
    })?;
    reporter.event(Event::ScanSummary {
        summary: &summary,
        dry_run: args.dry_run,
    });
    if let Some(limit) = summary.stopped_at_limit {
        return Err(LimitReached { held: limit, limit }.into());
    }
    let code = if summary.warnings > 0 {
        error::JOBS_FAILED
    } else {
        error::SUCCESS
    };
    Ok((code, summary))
}

/// `ferry upload`: 0 when every job succeeded, 3 when failed jobs are
/// listed, 130 when interrupted, 1 when the credentials were refused.
pub fn upload(config: &Config, args: &TransferArgs) -> anyhow::Result<u8> {
    let store = open_for_change(config)?;
    let settings = config.transfer_settings(args, None, |url| {
        store
            .jobs()
            .iter()
            .any(|job| job.destination.url == url && Action::Process.selects(job))
    })?;
    let reporter = report::reporter(&output_for(config, args))?;
    upload_jobs(args, store, settings, &reporter, None)
}

fn output_for(config: &Config, args: &TransferArgs) -> report::Output {
    report::Output {
        stats: args.stats,
        ..config.output.clone()
    }
}

/// Runs the upload, then tells the summary and the failures list, and
/// writes `--failed-list`.
fn upload_jobs(
    args: &TransferArgs,
    store: Store,
    settings: upload::Settings,
    reporter: &Arc<dyn Reporter>,
    scanned: Option<ScanCounts>,
) -> anyhow::Result<u8> {
    let (mut summary, failures) = upload::run(store, settings, reporter.clone())?;
    summary.scanned = scanned;
    reporter.event(Event::Summary(&summary));
    for job in &failures {
        reporter.event(Event::FailureListed { job });
    }
    if let Some(path) = &args.failed_list {
        write_failed_list(path, &failures)?;
    }
    if let Some(reason) = summary.stopped_by {
        anyhow::bail!(reason);
    }
    Ok(if summary.interrupted {
        error::INTERRUPTED
    } else if summary.failures_listed > 0 {
        error::JOBS_FAILED
    } else {
        error::SUCCESS
    })
}

/// The failed files' paths, one per line, replacing the file atomically
/// (empty when nothing failed, so a script never reads a stale list).
fn write_failed_list(path: &std::path::Path, failures: &[Job]) -> anyhow::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    crate::journal::atomic_file::write(path, ".ferry-failed-", |out| {
        for job in failures {
            out.write_all(job.resource.source().as_os_str().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|(at, error)| anyhow::anyhow!("--failed-list: {}: {error}", at.display()))
}

/// `ferry sync`: scan, then upload the destination's jobs.
pub fn sync(config: &Config, args: &SyncArgs) -> anyhow::Result<u8> {
    let destination = config.destination(&args.scan.to, args.scan.protocol)?;
    let mut settings = config.transfer_settings(&args.transfer, Some(&args.scan.to), |url| {
        url == destination.url
    })?;
    settings.only = Some(destination);
    let reporter = report::reporter(&output_for(config, &args.transfer))?;
    let (scanned, summary) = scan_with(config, &args.scan, reporter.as_ref())?;
    if args.scan.dry_run {
        return Ok(scanned);
    }
    let counts = ScanCounts {
        skipped: summary.skipped,
        duplicates: summary.duplicates,
        already: summary.known,
    };
    let uploaded = upload_jobs(
        &args.transfer,
        open_for_change(config)?,
        settings,
        &reporter,
        Some(counts),
    )?;
    Ok(if uploaded == error::SUCCESS {
        scanned
    } else {
        uploaded
    })
}

/// `ferry probe`: 0 when the destination answers and takes the credentials, 1 otherwise.
pub fn probe(config: &Config, args: &ProbeArgs) -> anyhow::Result<u8> {
    let text = args
        .destination
        .as_ref()
        .or(args.to.as_ref())
        .expect("clap requires one");
    let destination = config.destination(text, args.protocol.unwrap_or(ProtocolChoice::Auto))?;
    let name = config.named(text).map(|(name, _)| name);
    if destination.protocol == Protocol::Bits {
        let headers = config.request_headers(&args.credentials, name)?;
        let report = upload::ping_bits(&destination.url, &headers)?;
        if config.json() {
            print_json_line(&report)?;
        } else {
            println!("{}", report.url);
            let answer = match (report.ack, &report.error) {
                (true, None) => "a BITS Ack".to_owned(),
                (true, Some(error)) => format!("a BITS Ack with {error}"),
                (false, _) => "not a BITS Ack".to_owned(),
            };
            println!(
                "  Ping:           HTTP {}, {answer}, credentials {}",
                report.status, report.credentials
            );
        }
        let answered = report.ack && report.error.is_none() && report.status < 300;
        return Ok(if answered {
            error::SUCCESS
        } else {
            error::RUNTIME_ERROR
        });
    }
    if destination.protocol == Protocol::Local {
        let folder = std::path::Path::new(&destination.url);
        let writable = tempfile::tempfile_in(folder).is_ok();
        if config.json() {
            print_json_line(&serde_json::json!({
                "url": destination.url, "auto_picks": "local", "writable": writable
            }))?;
        } else {
            println!(
                "{}: a local folder, {}",
                destination.url,
                if writable {
                    "writable"
                } else {
                    "not writable (or missing)"
                }
            );
        }
        return Ok(if writable {
            error::SUCCESS
        } else {
            error::RUNTIME_ERROR
        });
    }
    let report = upload::describe(
        &destination.url,
        &config.request_headers(&args.credentials, name)?,
    )?;
    if config.json() {
        print_json_line(&report)?;
    } else {
        let or_none = |items: Vec<String>| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let size = |limit: Option<u64>| limit.map_or("none announced".to_owned(), human_bytes);
        println!("{}", report.url);
        println!(
            "  OPTIONS:        HTTP {}, credentials {}",
            report.status, report.credentials
        );
        println!(
            "  auto picks:     {}",
            format!("{:?}", report.auto_picks).to_lowercase()
        );
        println!(
            "  IETF interop:   {}",
            or_none(
                report
                    .ietf_interop_versions
                    .iter()
                    .map(u8::to_string)
                    .collect()
            )
        );
        println!("  tus versions:   {}", or_none(report.tus_versions.clone()));
        println!(
            "  tus extensions: {}",
            or_none(report.tus_extensions.clone())
        );
        println!(
            "  tus checksums:  {}",
            or_none(report.tus_checksum_algorithms.clone())
        );
        println!("  max size:       {}", size(report.max_size));
        println!("  max append:     {}", size(report.max_append_size));
    }
    if report.credentials == "refused" {
        anyhow::bail!(
            "{}: the server refused the credentials (HTTP {}); check -H and FERRY_TOKEN",
            report.url,
            report.status
        );
    }
    Ok(error::SUCCESS)
}
