//! The command line as clap sees it: flags, subcommands and their help.
//!
//! These structs only describe what was typed. `config` turns them into the
//! resolved settings the work code uses, so nothing below here reads clap.

pub mod commands;
pub mod generate;

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, ArgGroup, Args, Parser, Subcommand};

use crate::journal::job::{Action, State};
use crate::wire::ietf::INTEROP_VERSIONS;

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "Bulk media uploader: resumable, concurrent uploads of photo and video folders",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The exit codes, as `--help` and the man page show them.
pub const EXIT_CODES: &str = "Exit codes:
  0    everything succeeded
  1    runtime error (unreachable server, refused credentials, I/O error)
  2    usage error (bad flag, bad config file)
  3    some jobs failed (unacknowledged failures remain)
  4    journal locked by another run
  130  interrupted (Ctrl-C or SIGTERM)";

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Journal file to use instead of the default one in the user's data directory
    #[arg(long, global = true, value_name = "PATH", env = "FERRY_JOURNAL")]
    pub journal: Option<PathBuf>,

    /// Config file with named destinations, instead of config.toml in the user's config directory
    #[arg(long, global = true, value_name = "FILE", env = "FERRY_CONFIG")]
    pub config: Option<PathBuf>,

    /// Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)
    #[arg(long, global = true, value_name = "DURATION", env = "FERRY_WAIT_LOCK", value_parser = parse_duration)]
    pub wait_lock: Option<Duration>,

    /// Print JSON Lines on stdout instead of tables and messages
    #[arg(long, global = true, env = "FERRY_JSON", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub json: bool,

    /// At most this many jobs may be unacknowledged; scans stop there
    #[arg(long, global = true, value_name = "N", env = "FERRY_JOB_LIMIT", default_value_t = crate::journal::store::DEFAULT_JOB_LIMIT)]
    pub job_limit: usize,

    /// Print nothing on success; on failure, the errors and the failures list
    #[arg(short, long, global = true, env = "FERRY_QUIET", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub quiet: bool,

    /// Say more: each job as it starts and finishes, with its protocol and offset
    #[arg(short, long, global = true, env = "FERRY_VERBOSE", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, conflicts_with = "quiet")]
    pub verbose: bool,

    /// How uploads show their progress: bars at a terminal, else lines
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        env = "FERRY_PROGRESS",
        default_value = "auto"
    )]
    pub progress: ProgressChoice,

    /// Colour on stderr: auto is on at a terminal unless NO_COLOR is set
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        env = "FERRY_COLOR",
        default_value = "auto"
    )]
    pub color: ColorChoice,

    /// Also append plain timestamped lines to this file, whatever the terminal shows
    #[arg(long, global = true, value_name = "FILE", env = "FERRY_LOG_FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressChoice {
    /// Bars when stderr is a terminal, lines otherwise
    Auto,
    /// A bar per active job and a total bar
    Bars,
    /// One line per finished job and a stats line every --stats
    Lines,
    /// Only failures, warnings and the summary
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("{error} (try 30s, 5m or 1h)"))
}

fn parse_size(text: &str) -> Result<u64, String> {
    crate::format::parse_size(text)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan folders, then upload what is new: the one-liner for cron and CI
    Sync(SyncArgs),
    /// Walk folders, hash media files and queue one upload job per new content (no network)
    Scan(ScanArgs),
    /// Upload the queued jobs (pending, or interrupted and resumable)
    Upload(TransferArgs),
    /// List jobs, optionally by state or by the action that applies to them
    Jobs(JobsArgs),
    /// Count jobs and bytes in each state
    Status,
    /// Put failed jobs back in the queue
    Retry(RetryArgs),
    /// Acknowledge finished jobs: take failures off the list and free room under the job limit
    Ack(AckArgs),
    /// Cancel jobs that have not finished
    Cancel(CancelArgs),
    /// Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials
    Probe(ProbeArgs),
    /// Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT)
    Serve(ServeArgs),
    /// Write shell completions and man pages (for packagers)
    #[command(hide = true)]
    Generate(GenerateArgs),
}

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

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs in this state (repeatable; comma-separated in the variable)
    #[arg(long, value_enum, env = "FERRY_JOBS_STATE", value_delimiter = ',')]
    pub state: Vec<State>,

    /// Only jobs this action applies to
    #[arg(long, value_enum, env = "FERRY_JOBS_ACTION")]
    pub action: Option<Action>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["ids", "all"])))]
pub struct RetryArgs {
    /// Job IDs, or any unique prefix of them
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,

    /// Every failed job that is not acknowledged
    #[arg(long, env = "FERRY_RETRY_ALL", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub all: bool,

    /// Send the retried jobs to this destination instead (a configured name, a URL or a local folder)
    #[arg(long, value_name = "DEST", env = "FERRY_RETRY_TO")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["ids", "failed", "succeeded", "all"])))]
pub struct AckArgs {
    /// Job IDs, or any unique prefix of them
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,

    /// Every failed job not yet acknowledged
    #[arg(long, env = "FERRY_ACK_FAILED", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub failed: bool,

    /// Every succeeded job not yet acknowledged
    #[arg(long, env = "FERRY_ACK_SUCCEEDED", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub succeeded: bool,

    /// Every succeeded or failed job not yet acknowledged
    #[arg(long, env = "FERRY_ACK_ALL", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub all: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["ids", "pending"])))]
pub struct CancelArgs {
    /// Job IDs, or any unique prefix of them
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,

    /// Every job not yet finished (pending or registered)
    #[arg(long, env = "FERRY_CANCEL_PENDING", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub pending: bool,

    /// Credentials for the requests that end the jobs' server sessions
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Folder that receives the files (partial uploads wait in its .ferry-uploads/)
    #[arg(long, value_name = "DIR", env = "FERRY_SERVE_DIR")]
    pub dir: PathBuf,

    /// Address to listen on; anything but loopback needs --token-file
    #[arg(
        long,
        value_name = "ADDR",
        env = "FERRY_SERVE_LISTEN",
        default_value = "127.0.0.1:8920"
    )]
    pub listen: std::net::SocketAddr,

    /// File holding the bearer token every request must carry
    #[arg(long, value_name = "FILE", env = "FERRY_SERVE_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// Refuse uploads larger than this (e.g. 64G; binary units)
    #[arg(long, value_name = "SIZE", env = "FERRY_SERVE_MAX_SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Refuse requests carrying more than this many bytes of one upload
    #[arg(long, value_name = "SIZE", env = "FERRY_SERVE_MAX_APPEND_SIZE", value_parser = parse_size)]
    pub max_append_size: Option<u64>,

    /// Delete unfinished uploads not written to for this long (e.g. 24h, 7d)
    #[arg(long, value_name = "DURATION", env = "FERRY_SERVE_EXPIRE_AFTER", default_value = "7d", value_parser = parse_duration)]
    pub expire_after: Duration,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Folder that receives completions/ and man/
    #[arg(
        long,
        value_name = "DIR",
        env = "FERRY_GENERATE_DIR",
        default_value = "."
    )]
    pub dir: PathBuf,
}
