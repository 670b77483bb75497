//! The command line as clap sees it: flags, subcommands and their help.
//!
//! These structs only describe what was typed; `settings` turns them into
//! the plain settings the core owns, so nothing outside `cli` reads clap.
//! The command list and the flags shared by several commands are here, each
//! command family's own flags in a file of its own.

mod jobs;
mod serve;
mod transfer;

pub use jobs::{
    AckArgs, CancelArgs, ChangingArgs, JobsArgs, ListingArgs, RetryArgs, StatusArgs, VerifyArgs,
};
pub use serve::ServeArgs;
pub use transfer::{
    CredentialArgs, ProbeArgs, ScanArgs, ScanCommandArgs, SyncArgs, TransferArgs, WatchArgs,
};

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "Bulk media uploader: resumable, concurrent uploads of photo and video folders"
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

/// The help headings, in the order a command's help shows them.
pub const FILES: &str = "Choosing files";
pub const PHOTOS: &str = "Photos and dates";
pub const UPLOADING: &str = "Uploading";
pub const PROTOCOLS: &str = "Protocol details";
pub const WINDOW: &str = "Time window";
pub const AFTER: &str = "Source files after upload";
pub const CREDENTIALS: &str = "Credentials";
pub const OUTPUT: &str = "Output";
pub const JOURNAL: &str = "Journal and config";

/// The options shared by several commands, typed before the command
/// (`ferry -q sync …`, as in cargo and git). Each is taken by the command
/// when that command uses it, and refused otherwise; the command's own help
/// lists the ones it uses. No defaults and no variables here: those belong
/// to the command's own flags, so that an option typed after the command
/// wins, then one typed before it, then its variable.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Journal file (see each command's --journal)
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,

    /// Config file with named destinations
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Wait this long for another run to release the journal
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_lock: Option<Duration>,

    /// JSON Lines on stdout
    #[arg(long)]
    pub json: bool,

    /// At most this many unacknowledged jobs
    #[arg(long, value_name = "N")]
    pub job_limit: Option<usize>,

    /// Nothing on success
    #[arg(short, long)]
    pub quiet: bool,

    /// Say more
    #[arg(short, long)]
    pub verbose: bool,

    /// How uploads show their progress
    #[arg(long, value_enum, value_name = "WHEN")]
    pub progress: Option<ProgressChoice>,

    /// Colour on stderr
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// Also append timestamped lines to this file
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// The journal, for the commands that read or change it.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)
    #[arg(long, value_name = "PATH", env = "FERRY_JOURNAL", help_heading = JOURNAL)]
    pub journal: Option<PathBuf>,
}

/// The wait for the journal's lock, for the commands that change it (the
/// listings read it without a lock).
#[derive(Debug, Args)]
pub struct WaitLockArgs {
    /// Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)
    #[arg(long, value_name = "DURATION", env = "FERRY_WAIT_LOCK", value_parser = parse_duration, help_heading = JOURNAL)]
    pub wait_lock: Option<Duration>,
}

/// The job limit, for the commands that queue jobs.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// At most this many jobs may be unacknowledged; scans stop there
    #[arg(long, value_name = "N", env = "FERRY_JOB_LIMIT", default_value_t = crate::journal::store::DEFAULT_JOB_LIMIT, help_heading = JOURNAL)]
    pub job_limit: usize,
}

/// The config file, for the commands that take a destination's name.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)
    #[arg(long, value_name = "FILE", env = "FERRY_CONFIG", help_heading = JOURNAL)]
    pub config: Option<PathBuf>,
}

/// `--json`, for every command that prints.
#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON Lines on stdout instead of tables and messages
    #[arg(long, env = "FERRY_JSON", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = OUTPUT)]
    pub json: bool,
}

/// `-q`, for the commands with something to leave out on success.
#[derive(Debug, Args)]
pub struct QuietArgs {
    /// Print nothing on success; on failure, the errors and the failures list
    #[arg(short, long, env = "FERRY_QUIET", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = OUTPUT)]
    pub quiet: bool,
}

/// `-v`, for the commands that run jobs or scans.
#[derive(Debug, Args)]
pub struct VerboseArgs {
    /// Say more: each job as it starts and finishes, what a scan left out and why
    #[arg(short, long, env = "FERRY_VERBOSE", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue, help_heading = OUTPUT)]
    pub verbose: bool,
}

/// `--color`, for the commands that draw coloured bars.
#[derive(Debug, Args)]
pub struct ColorArgs {
    /// Colour on stderr: auto is on at a terminal unless NO_COLOR is set
    #[arg(long, value_enum, value_name = "WHEN", env = "FERRY_COLOR", default_value = "auto", help_heading = OUTPUT)]
    pub color: ColorChoice,
}

/// `--progress`, for the commands that move or read many files.
#[derive(Debug, Args)]
pub struct ProgressArgs {
    /// How the work shows its progress: bars at a terminal, else lines
    #[arg(long, value_enum, value_name = "WHEN", env = "FERRY_PROGRESS", default_value = "auto", help_heading = OUTPUT)]
    pub progress: ProgressChoice,
}

/// `--log-file`, for the commands whose events are worth keeping.
#[derive(Debug, Args)]
pub struct LogFileArgs {
    /// Also append plain timestamped lines to this file, whatever the terminal shows
    #[arg(long, value_name = "FILE", env = "FERRY_LOG_FILE", help_heading = OUTPUT)]
    pub log_file: Option<PathBuf>,
}

/// What the commands that scan or upload share: the run's reporter, the
/// journal and the config file.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub progress: ProgressArgs,

    #[command(flatten)]
    pub log_file: LogFileArgs,

    #[command(flatten)]
    pub json: JsonArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,

    #[command(flatten)]
    pub verbose: VerboseArgs,

    #[command(flatten)]
    pub color: ColorArgs,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub wait_lock: WaitLockArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
}

/// The shared flags one command has; `chosen` merges them with the
/// options typed before the command.
#[derive(Default)]
pub struct Groups<'a> {
    pub journal: Option<&'a JournalArgs>,
    pub wait_lock: Option<&'a WaitLockArgs>,
    pub queue: Option<&'a QueueArgs>,
    pub config: Option<&'a ConfigArgs>,
    pub json: Option<&'a JsonArgs>,
    pub quiet: Option<&'a QuietArgs>,
    pub verbose: Option<&'a VerboseArgs>,
    pub color: Option<&'a ColorArgs>,
    pub progress: Option<&'a ProgressArgs>,
    pub log_file: Option<&'a LogFileArgs>,
}

impl<'a> Groups<'a> {
    fn run(run: &'a RunArgs, queue: Option<&'a QueueArgs>) -> Groups<'a> {
        Groups {
            journal: Some(&run.journal),
            wait_lock: Some(&run.wait_lock),
            queue,
            config: Some(&run.config),
            json: Some(&run.json),
            quiet: Some(&run.quiet),
            verbose: Some(&run.verbose),
            color: Some(&run.color),
            progress: Some(&run.progress),
            log_file: Some(&run.log_file),
        }
    }

    fn listing(listing: &'a ListingArgs) -> Groups<'a> {
        Groups {
            json: Some(&listing.json),
            journal: Some(&listing.journal),
            config: Some(&listing.config),
            ..Groups::default()
        }
    }

    fn changing(changing: &'a ChangingArgs) -> Groups<'a> {
        Groups {
            json: Some(&changing.json),
            quiet: Some(&changing.quiet),
            journal: Some(&changing.journal),
            wait_lock: Some(&changing.wait_lock),
            config: Some(&changing.config),
            ..Groups::default()
        }
    }
}

impl Command {
    pub fn groups(&self) -> Groups<'_> {
        match self {
            Command::Sync(args) => Groups::run(&args.run, Some(&args.queue)),
            Command::Watch(args) => Groups::run(&args.sync.run, Some(&args.sync.queue)),
            Command::Scan(args) => Groups::run(&args.run, Some(&args.queue)),
            Command::Upload(args) => Groups::run(&args.run, None),
            Command::Jobs(a) => Groups::listing(&a.listing),
            Command::Status(a) => Groups {
                queue: Some(&a.queue),
                ..Groups::listing(&a.listing)
            },
            Command::Retry(a) => Groups::changing(&a.changing),
            Command::Cancel(a) => Groups::changing(&a.changing),
            Command::Ack(a) => Groups {
                json: Some(&a.json),
                quiet: Some(&a.quiet),
                journal: Some(&a.journal),
                wait_lock: Some(&a.wait_lock),
                ..Groups::default()
            },
            Command::Verify(a) => Groups {
                progress: Some(&a.progress),
                ..Groups::changing(&a.changing)
            },
            Command::Probe(args) => Groups {
                json: Some(&args.json),
                config: Some(&args.config),
                ..Groups::default()
            },
            Command::Serve(_) | Command::Completions(_) | Command::Generate(_) => Groups::default(),
        }
    }
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

/// The longest duration a flag takes: ten years, so that no deadline a
/// run computes from one can overflow (`ferry watch` takes "never" as it).
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration =
        humantime::parse_duration(text).map_err(|error| format!("{error} (try 30s, 5m or 1h)"))?;
    if duration > MAX_DURATION {
        return Err("longer than ten years, the most a duration here takes".to_owned());
    }
    Ok(duration)
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
    Scan(ScanCommandArgs),
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

    #[command(flatten)]
    pub run: RunArgs,
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
    let command = crate::cli::command();
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
