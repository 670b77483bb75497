//! The job commands' flags: `jobs`, `status`, `retry`, `ack` and `cancel`.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, ArgGroup, Args};

use crate::journal::job::{Action, State};

use super::{
    ConfigArgs, CredentialArgs, JournalArgs, JsonArgs, ProgressArgs, QueueArgs, QuietArgs,
    WaitLockArgs,
};

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs in this state (repeatable; comma-separated in the variable)
    #[arg(long, value_enum, env = "FERRY_JOBS_STATE", value_delimiter = ',')]
    pub state: Vec<State>,

    /// Only jobs this action applies to
    #[arg(long, value_enum, env = "FERRY_JOBS_ACTION")]
    pub action: Option<Action>,

    /// Only jobs for this destination (a configured name, a URL or a local folder)
    #[arg(long, value_name = "DEST", env = "FERRY_JOBS_TO")]
    pub to: Option<String>,

    #[command(flatten)]
    pub listing: ListingArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only jobs for this destination (a configured name, a URL or a local folder)
    #[arg(long, value_name = "DEST", env = "FERRY_STATUS_TO")]
    pub to: Option<String>,

    #[command(flatten)]
    pub listing: ListingArgs,

    #[command(flatten)]
    pub queue: QueueArgs,
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

    #[command(flatten)]
    pub changing: ChangingArgs,
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

    #[command(flatten)]
    pub json: JsonArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub wait_lock: WaitLockArgs,
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

    /// With --pending, only the jobs for this destination (a configured name, a URL or a local folder)
    #[arg(
        long,
        value_name = "DEST",
        env = "FERRY_CANCEL_TO",
        requires = "pending"
    )]
    pub to: Option<String>,

    /// Credentials for the requests that end the jobs' server sessions
    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub changing: ChangingArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Job IDs, or any unique prefix of them (default: every succeeded job)
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,

    /// Only jobs for this destination (a configured name, a URL or a local folder)
    #[arg(long, value_name = "DEST", env = "FERRY_VERIFY_TO")]
    pub to: Option<String>,

    /// Put jobs whose file is missing or different back in the queue, for the next upload
    #[arg(long, env = "FERRY_VERIFY_REQUEUE", value_parser = BoolishValueParser::new(), action = ArgAction::SetTrue)]
    pub requeue: bool,

    /// Check this many jobs at once
    #[arg(short = 'j', long, value_name = "N", env = "FERRY_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Give up on a file's check after this many transient failures in a row (connection, 5xx, 429, stalls)
    #[arg(long, value_name = "N", env = "FERRY_RETRIES", default_value_t = 8)]
    pub retries: u32,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub progress: ProgressArgs,

    #[command(flatten)]
    pub changing: ChangingArgs,
}

/// What the commands that list jobs share: the output, and the journal
/// (read without its lock) and config file.
#[derive(Debug, Args)]
pub struct ListingArgs {
    #[command(flatten)]
    pub json: JsonArgs,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
}

/// What the commands that change jobs share: the output, the journal with
/// the wait for its lock, and the config file.
#[derive(Debug, Args)]
pub struct ChangingArgs {
    #[command(flatten)]
    pub json: JsonArgs,

    #[command(flatten)]
    pub quiet: QuietArgs,

    #[command(flatten)]
    pub journal: JournalArgs,

    #[command(flatten)]
    pub wait_lock: WaitLockArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
}
