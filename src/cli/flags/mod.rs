//! The command line as clap sees it: flags, subcommands and their help.
//!
//! These structs only describe what was typed; `settings` turns them into
//! the plain settings the core owns, so nothing outside `cli` reads clap.
//! The command list and the flags shared by several commands are here, each
//! command family's own flags in a file of its own.

mod jobs;
mod serve;
mod transfer;

pub use jobs::{AckArgs, CancelArgs, JobsArgs, RetryArgs, StatusArgs, VerifyArgs};
pub use serve::ServeArgs;
pub use transfer::{CredentialArgs, ProbeArgs, ScanArgs, SyncArgs, TransferArgs, WatchArgs};

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
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

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("{error} (try 30s, 5m or 1h)"))
}

pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
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
    #[command(after_help = serve::SERVE_LIMITS)]
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
