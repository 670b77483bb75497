//! The transfer commands' flags: `scan`, `upload`, `sync` and `probe`.
//!
//! Only what was typed; `config` resolves them into the settings that
//! `scan` and `upload` read.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, ArgGroup, Args};

use crate::capture::VideoClock;
use crate::landing::Layout;
use crate::upload::ProtocolChoice;
use crate::upload::throttle::Schedule;
use crate::upload::window::{Cutoff, StopAt};
use crate::wire::ietf::INTEROP_VERSIONS;

use super::{ConfigArgs, JsonArgs, QueueArgs, RunArgs, parse_duration, parse_size};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Folders to scan
    #[arg(value_name = "DIR", required = true)]
    pub roots: Vec<PathBuf>,

    /// Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder
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
    #[arg(long, short = 'L', env = "FERRY_FOLLOW_LINKS", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::FILES)]
    pub follow_links: bool,

    /// Include hidden files and folders (names starting with a dot)
    #[arg(long, env = "FERRY_HIDDEN", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::FILES)]
    pub hidden: bool,

    /// Descend at most this many folders below each root
    #[arg(long, value_name = "N", env = "FERRY_MAX_DEPTH", help_heading = super::FILES)]
    pub max_depth: Option<usize>,

    /// Take every file, not only images, videos and audio
    #[arg(long, env = "FERRY_ALL_FILES", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::FILES)]
    pub all_files: bool,

    /// Also take sidecar files (XMP, AAE, THM) with no photo or video of their name; those with one come with it
    #[arg(long, env = "FERRY_SIDECARS", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::FILES)]
    pub sidecars: bool,

    /// Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)
    #[arg(
        long,
        value_name = "GLOB",
        env = "FERRY_INCLUDE",
        value_delimiter = '\n'
    , help_heading = super::FILES)]
    pub include: Vec<String>,

    /// Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)
    #[arg(
        long,
        value_name = "GLOB",
        env = "FERRY_EXCLUDE",
        value_delimiter = '\n'
    , help_heading = super::FILES)]
    pub exclude: Vec<String>,

    /// Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)
    #[arg(long, env = "FERRY_NO_DEFAULT_EXCLUDES", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::FILES)]
    pub no_default_excludes: bool,

    /// Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)
    #[arg(long, value_name = "SIZE", env = "FERRY_MIN_SIZE", default_value = "1", value_parser = parse_size, help_heading = super::FILES)]
    pub min_size: u64,

    /// Leave out files larger than this (e.g. 4G)
    #[arg(long, value_name = "SIZE", env = "FERRY_MAX_SIZE", value_parser = parse_size, help_heading = super::FILES)]
    pub max_size: Option<u64>,

    /// Leave out files modified less than this long ago, still being written (e.g. 10m)
    #[arg(long, value_name = "DURATION", env = "FERRY_MIN_AGE", default_value = "0s", value_parser = parse_duration, help_heading = super::FILES)]
    pub min_age: Duration,

    /// Read and hash every file, even those unchanged since the last scan
    #[arg(long, env = "FERRY_REHASH", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::FILES)]
    pub rehash: bool,

    /// Where files land at the destination, by capture date and name, e.g. '{year}/{month}/{name}' (tokens: {year} {month} {day} {name} {stem} {ext} {path} {dir}); without it, at their path below the scanned folder
    #[arg(long, value_name = "TEMPLATE", env = "FERRY_LAYOUT", value_parser = Layout::parse, help_heading = super::PHOTOS)]
    pub layout: Option<Layout>,

    /// The layout for files whose only date is their modification time, e.g. 'undated/{path}'; without it they follow --layout by that date
    #[arg(long, value_name = "TEMPLATE", env = "FERRY_LAYOUT_UNDATED", value_parser = Layout::parse, help_heading = super::PHOTOS)]
    pub layout_undated: Option<Layout>,

    /// How a video's own clock (QuickTime mvhd) is read for its capture date: utc, as the standard says, or local, for cameras that write local time there
    #[arg(long, value_enum, value_name = "CLOCK", env = "FERRY_VIDEO_CLOCK", default_value = "utc", help_heading = super::PHOTOS)]
    pub video_clock: VideoClockChoice,

    /// Say what would be queued and write nothing
    #[arg(long, short = 'n', env = "FERRY_DRY_RUN", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub dry_run: bool,
}

/// `--video-clock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum VideoClockChoice {
    Utc,
    Local,
}

impl From<VideoClockChoice> for VideoClock {
    fn from(choice: VideoClockChoice) -> VideoClock {
        match choice {
            VideoClockChoice::Utc => VideoClock::Utc,
            VideoClockChoice::Local => VideoClock::Local,
        }
    }
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub scan: ScanArgs,

    #[command(flatten)]
    pub transfer: TransferArgs,

    #[command(flatten)]
    pub queue: QueueArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

/// `ferry scan`: the scan's flags and the shared ones.
#[derive(Debug, Args)]
pub struct ScanCommandArgs {
    #[command(flatten)]
    pub scan: ScanArgs,

    #[command(flatten)]
    pub queue: QueueArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub sync: SyncArgs,

    /// Queue a new or changed file once its size and modification time have held still this long
    #[arg(long, value_name = "DURATION", env = "FERRY_SETTLE", default_value = "2s", value_parser = parse_duration)]
    pub settle: Duration,

    /// Scan every folder again this often, to catch what no event announced (0: only after lost events)
    #[arg(long, value_name = "DURATION", env = "FERRY_RESCAN", default_value = "1h", value_parser = parse_duration)]
    pub rescan: Duration,
}

#[derive(Debug, Args)]
pub struct TransferArgs {
    /// Upload this many jobs at once
    #[arg(short = 'j', long, value_name = "N", env = "FERRY_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=256), help_heading = super::UPLOADING)]
    pub concurrency: u16,

    /// Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)
    #[arg(long, value_name = "N", env = "FERRY_RETRIES", default_value_t = 8, help_heading = super::UPLOADING)]
    pub retries: u32,

    /// Send at most this much per request (default: the whole file, or the server's limit)
    #[arg(long, value_name = "SIZE", env = "FERRY_CHUNK_SIZE", value_parser = parse_chunk_size, help_heading = super::UPLOADING)]
    pub chunk_size: Option<u64>,

    /// End a request when no byte has moved for this long, and retry
    #[arg(long, value_name = "DURATION", env = "FERRY_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration, help_heading = super::UPLOADING)]
    pub idle_timeout: Duration,

    /// IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)
    #[arg(long, value_name = "N", env = "FERRY_IETF_VERSION", default_value_t = crate::wire::ietf::DEFAULT_INTEROP,
          value_parser = parse_ietf_version, help_heading = super::PROTOCOLS)]
    pub ietf_version: u8,

    /// Method for the put protocol
    #[arg(
        long,
        value_enum,
        value_name = "METHOD",
        env = "FERRY_PUT_METHOD",
        default_value = "put"
    , help_heading = super::PROTOCOLS)]
    pub put_method: crate::upload::PutMethod,

    /// S3: send this many parts of one file at once
    #[arg(long, value_name = "N", env = "FERRY_PART_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64), help_heading = super::PROTOCOLS)]
    pub part_concurrency: u16,

    /// S3: replace an object that holds different content (by default the job fails)
    #[arg(long, env = "FERRY_OVERWRITE", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::PROTOCOLS)]
    pub overwrite: bool,

    /// Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"
    #[arg(long, value_name = "RATE", env = "FERRY_BWLIMIT", value_parser = Schedule::parse, help_heading = super::UPLOADING)]
    pub bwlimit: Option<Schedule>,

    /// Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run
    #[arg(long, value_name = "DURATION", env = "FERRY_MAX_DURATION", value_parser = parse_duration, help_heading = super::WINDOW)]
    pub max_duration: Option<Duration>,

    /// Like --max-duration, at this local time of day (HH:MM; tomorrow's if today's has passed)
    #[arg(long, value_name = "HH:MM", env = "FERRY_STOP_AT", value_parser = StopAt::parse, help_heading = super::WINDOW)]
    pub stop_at: Option<StopAt>,

    /// At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish
    #[arg(
        long,
        value_enum,
        value_name = "MODE",
        env = "FERRY_CUTOFF_MODE",
        default_value = "hard"
    , help_heading = super::WINDOW)]
    pub cutoff_mode: Cutoff,

    /// Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)
    #[arg(long, env = "FERRY_DELETE_AFTER", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue,
          conflicts_with = "move_to", help_heading = super::AFTER)]
    pub delete_after: bool,

    /// Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end
    #[arg(long, value_name = "DIR", env = "FERRY_MOVE_TO", help_heading = super::AFTER)]
    pub move_to: Option<PathBuf>,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Leave succeeded jobs unacknowledged, for scripts that read their responses first
    #[arg(long, env = "FERRY_NO_AUTO_ACK", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = super::UPLOADING)]
    pub no_auto_ack: bool,

    /// Without bars, print a progress line this often (e.g. 30s, 5m)
    #[arg(long, value_name = "DURATION", env = "FERRY_STATS", default_value = "30s", value_parser = parse_duration, help_heading = super::OUTPUT)]
    pub stats: Duration,

    /// At the end, write the paths of the listed failed jobs to this file, one per line
    #[arg(long, value_name = "FILE", env = "FERRY_FAILED_LIST", help_heading = super::UPLOADING)]
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
    , help_heading = super::CREDENTIALS)]
    pub headers: Vec<String>,

    /// Read a bearer token from this environment variable (sent as Authorization; never recorded)
    #[arg(
        long,
        value_name = "VAR",
        env = "FERRY_TOKEN_ENV",
        default_value = "FERRY_TOKEN"
    , help_heading = super::CREDENTIALS)]
    pub token_env: String,

    /// Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)
    #[arg(long, value_name = "FILE", env = "FERRY_TOKEN_FILE", help_heading = super::CREDENTIALS)]
    pub token_file: Option<PathBuf>,

    /// Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)
    #[arg(long, value_name = "FILE", env = "FERRY_CA_CERT", help_heading = super::CREDENTIALS)]
    pub ca_cert: Option<PathBuf>,
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

    #[command(flatten)]
    pub json: JsonArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
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
