//! The command line as clap sees it: flags, subcommands and their help.
//!
//! These structs only describe what was typed. `config` turns them into the
//! resolved settings the work code uses, so nothing outside `cli` reads clap.
//! The global flags and the command list are here, each command family's
//! flags in a file of its own (`transfer`, `jobs`), and the glue that runs
//! the commands in `commands/`, one file per family: `config` reads the
//! flags, the glue reads `config`, and neither circles back.

pub mod commands;
pub mod generate;
pub mod jobs;
pub mod transfer;

pub use jobs::{AckArgs, CancelArgs, JobsArgs, RetryArgs, StatusArgs, VerifyArgs};
pub use transfer::{
    CredentialArgs, ProbeArgs, ProtocolChoice, ScanArgs, SyncArgs, TransferArgs, WatchArgs,
};

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{BoolishValueParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand};

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
    /// Sync, then keep watching the folders and upload new files once they settle
    Watch(WatchArgs),
    /// Walk folders, hash media files and queue one upload job per new content (no network)
    Scan(ScanArgs),
    /// Upload the queued jobs (pending, or interrupted and resumable)
    Upload(UploadArgs),
    /// List jobs, optionally by state or by the action that applies to them
    Jobs(JobsArgs),
    /// Count jobs and bytes in each state
    Status(StatusArgs),
    /// Put failed jobs back in the queue
    Retry(RetryArgs),
    /// Acknowledge finished jobs: take failures off the list and free room under the job limit
    Ack(AckArgs),
    /// Cancel jobs that have not finished
    Cancel(CancelArgs),
    /// Check that succeeded jobs' files are at their destination with the same content
    Verify(VerifyArgs),
    /// Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials
    Probe(ProbeArgs),
    /// Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT, BITS)
    #[command(after_help = SERVE_LIMITS)]
    Serve(ServeArgs),
    /// Print shell completions to stdout, e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`
    Completions(CompletionsArgs),
    /// Write shell completions and man pages (for packagers)
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Only the jobs for this destination (a configured name, a URL or a local folder)
    #[arg(long, value_name = "DEST", env = "FERRY_UPLOAD_TO")]
    pub to: Option<String>,

    #[command(flatten)]
    pub transfer: TransferArgs,
}

/// The bounds `ferry serve` keeps that have no option, shown under its help.
const SERVE_LIMITS: &str = "\
Fixed limits:
  request head (and TLS handshake)  30 s, then the connection is closed
  a body silent for                 60 s is cut; what arrived is kept for resuming
  free disk space                   an upload that cannot fit is refused at creation (507)
  --forward backend                 10 s before the client gets 202; each request's
                                    deadline is 30 s of silence; 4 sent at once";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Folder that receives the files (partial uploads wait in its .ferry-uploads/)
    #[arg(long, value_name = "DIR", env = "FERRY_SERVE_DIR")]
    pub dir: PathBuf,

    /// Address to listen on; anything but loopback needs --token-file and TLS (--tls-cert, --tls-key)
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

    /// Refuse uploads larger than this (e.g. 64G; binary units); by default only free space limits them
    #[arg(long, value_name = "SIZE", env = "FERRY_SERVE_MAX_SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Refuse requests carrying more than this many bytes of one upload (no limit by default)
    #[arg(long, value_name = "SIZE", env = "FERRY_SERVE_MAX_APPEND_SIZE", value_parser = parse_size)]
    pub max_append_size: Option<u64>,

    /// Unfinished uploads held at once (tus, IETF, PUT bodies and BITS sessions); more get 503 until some finish or expire
    #[arg(long, value_name = "N", env = "FERRY_SERVE_MAX_UPLOADS", default_value_t = crate::serve::DEFAULT_MAX_UPLOADS, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_uploads: usize,

    /// Connections served at once; more wait in the listen backlog
    #[arg(long, value_name = "N", env = "FERRY_SERVE_MAX_CONNECTIONS", default_value_t = crate::serve::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_connections: usize,

    /// Delete unfinished uploads not written to for this long (e.g. 24h, 7d)
    #[arg(long, value_name = "DURATION", env = "FERRY_SERVE_EXPIRE_AFTER", default_value = "7d", value_parser = parse_duration)]
    pub expire_after: Duration,

    /// Pass each completed, verified upload on to this backend in one plain request (PUT URL/<path>; the URL may hold {path}, {name}, {sha256})
    #[arg(long, value_name = "URL", env = "FERRY_SERVE_FORWARD")]
    pub forward: Option<String>,

    /// Method of the forwarded request
    #[arg(
        long,
        value_enum,
        value_name = "METHOD",
        env = "FERRY_SERVE_FORWARD_METHOD",
        default_value = "put",
        requires = "forward"
    )]
    pub forward_method: crate::serve::forward::ForwardMethod,

    /// Header for the forwarded request, 'Name: value' with ${VAR} from the environment; never logged (repeatable; one per line in the variable)
    #[arg(
        long,
        value_name = "HEADER",
        env = "FERRY_SERVE_FORWARD_HEADER",
        value_delimiter = '\n',
        requires = "forward"
    )]
    pub forward_header: Vec<String>,

    /// Also trust the CA certificates in this PEM file for the --forward backend
    #[arg(
        long,
        value_name = "FILE",
        env = "FERRY_SERVE_FORWARD_CA_CERT",
        requires = "forward"
    )]
    pub forward_ca_cert: Option<PathBuf>,

    /// Keep files in --dir after the backend took them (by default they are removed after a 2xx)
    #[arg(long, env = "FERRY_SERVE_KEEP", value_parser = BoolishValueParser::new(), requires = "forward")]
    pub keep: bool,

    /// PEM certificate chain for HTTPS (with --tls-key; reread on SIGHUP)
    #[arg(
        long,
        value_name = "FILE",
        env = "FERRY_SERVE_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert
    #[arg(
        long,
        value_name = "FILE",
        env = "FERRY_SERVE_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Listen beyond loopback without TLS, because a proxy in front ends TLS
    #[arg(long, env = "FERRY_SERVE_INSECURE_HTTP", value_parser = BoolishValueParser::new())]
    pub insecure_http: bool,

    /// A host name this server answers to, besides IP addresses and localhost (repeatable)
    #[arg(
        long,
        value_name = "NAME",
        env = "FERRY_SERVE_ALLOW_HOST",
        value_delimiter = ','
    )]
    pub allow_host: Vec<String>,

    /// A web page origin allowed to upload from a browser, e.g. https://photos.example (repeatable)
    #[arg(
        long,
        value_name = "ORIGIN",
        env = "FERRY_SERVE_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origin: Vec<String>,
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

/// When clap refused a value that came from an environment variable (the
/// flag itself is not on the command line), the error line naming that
/// variable: `FERRY_CONCURRENCY=abc` is not a mistyped `--concurrency`.
pub fn from_a_variable(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(
        error.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return None;
    }
    let Some(ContextValue::String(flag)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = flag.strip_prefix("--")?.split([' ', '=']).next()?;
    let command = <Cli as clap::CommandFactory>::command();
    let mut commands = vec![&command];
    let arg = std::iter::from_fn(|| {
        let next = commands.pop()?;
        commands.extend(next.get_subcommands());
        Some(next)
    })
    .flat_map(|command| command.get_arguments())
    .find(|arg| arg.get_long() == Some(long) && arg.get_env().is_some())?;
    let variable = arg.get_env()?.to_string_lossy().into_owned();
    let value = std::env::var_os(&variable)?;
    let on_the_line = std::env::args_os().any(|given| {
        let given = given.to_string_lossy();
        given == format!("--{long}")
            || given.starts_with(&format!("--{long}="))
            || arg
                .get_short()
                .is_some_and(|short| given.starts_with(&format!("-{short}")))
    });
    if on_the_line {
        return None;
    }
    let why = error.to_string();
    let why = why.lines().next()?.trim_start_matches("error: ");
    Some(format!("{variable}={}: {why}", value.to_string_lossy()))
}
