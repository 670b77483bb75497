//! The options several commands share, as one command takes them.
//!
//! Each command declares the shared groups it uses (`Command::groups`), so its
//! help lists only those. The same options may also be typed before the
//! command, as in cargo and git (`ferry -q sync …`); one typed there that the
//! command does not use is refused, never silently dropped. An option typed
//! after the command wins, then one typed before it, then its variable and
//! its default.

use std::path::PathBuf;
use std::time::Duration;

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::{Cli, ColorChoice, ProgressChoice};
use crate::error::UsageError;

/// The shared options one command runs with.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub journal: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub wait_lock: Option<Duration>,
    pub job_limit: usize,
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub progress: ProgressChoice,
    pub color: ColorChoice,
    pub log_file: Option<PathBuf>,
}

/// Merges what was typed before the command with the command's own groups.
pub fn chosen(cli: &Cli, matches: &ArgMatches) -> Result<Chosen, UsageError> {
    let (name, sub) = matches.subcommand().expect("clap requires a command");
    let typed = |matches: &ArgMatches, id: &str| {
        matches!(
            matches.try_get_raw(id).map(|_| matches.value_source(id)),
            Ok(Some(ValueSource::CommandLine))
        )
    };
    let root = super::command();
    let options = root.get_arguments().map(|arg| arg.get_id().as_str());
    for id in options {
        if typed(matches, id) && sub.try_get_raw(id).is_err() {
            return Err(UsageError(format!(
                "ferry {name} has no --{}: it does nothing there (see ferry {name} --help)",
                id.replace('_', "-")
            )));
        }
    }
    let after = |id: &str| typed(sub, id);
    let before = &cli.global;
    let groups = cli.command.groups();
    let quiet = before.quiet || groups.quiet.is_some_and(|quiet| quiet.quiet);
    let verbose = before.verbose || groups.verbose.is_some_and(|verbose| verbose.verbose);
    if quiet && verbose {
        return Err(UsageError(
            "-q (--quiet) and -v (--verbose) cannot be used together".to_owned(),
        ));
    }
    let journal = groups.journal;
    Ok(Chosen {
        journal: pick(
            after("journal"),
            journal.and_then(|j| j.journal.clone()),
            before.journal.clone(),
        ),
        config: pick(
            after("config"),
            groups.config.and_then(|c| c.config.clone()),
            before.config.clone(),
        ),
        wait_lock: pick(
            after("wait_lock"),
            journal.and_then(|j| j.wait_lock),
            before.wait_lock,
        ),
        job_limit: pick(
            after("job_limit"),
            groups.queue.map(|q| q.job_limit),
            before.job_limit,
        )
        .unwrap_or(crate::journal::store::DEFAULT_JOB_LIMIT),
        json: before.json || groups.json.is_some_and(|json| json.json),
        quiet,
        verbose,
        progress: pick(
            after("progress"),
            groups.progress.map(|p| p.progress),
            before.progress,
        )
        .unwrap_or(ProgressChoice::Auto),
        color: pick(after("color"), groups.color.map(|c| c.color), before.color)
            .unwrap_or(ColorChoice::Auto),
        log_file: pick(
            after("log_file"),
            groups.log_file.and_then(|l| l.log_file.clone()),
            before.log_file.clone(),
        ),
    })
}

/// The command's own value when it was typed after the command; else the
/// one typed before the command; else the command's (its variable or its
/// default).
fn pick<T>(typed_after: bool, mine: Option<T>, typed_before: Option<T>) -> Option<T> {
    if typed_after {
        mine
    } else {
        typed_before.or(mine)
    }
}
