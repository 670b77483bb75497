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
    // Whether the command defines the option, from the definition itself
    // (clap's `try_get_raw` tells an unknown id only in debug builds).
    let root = super::command();
    let defined = |id: &str| {
        root.find_subcommand(name)
            .is_some_and(|command| command.get_arguments().any(|arg| arg.get_id() == id))
    };
    for id in root.get_arguments().map(|arg| arg.get_id().as_str()) {
        if typed(matches, id) && !defined(id) {
            return Err(UsageError(format!(
                "ferry {name} has no --{}: it does nothing there (see ferry {name} --help)",
                id.replace('_', "-")
            )));
        }
    }
    let after = |id: &str| typed(sub, id);
    let before = &cli.global;
    let groups = cli.command.groups();
    // -q and -v: one typed on the line wins over the other's variable;
    // both typed, or both set by variables, is a mistake to say.
    let said = |id: &str, before: bool, mine: bool| match () {
        _ if after(id) => Said::Typed,
        _ if before => Said::Typed,
        _ if mine => Said::ByVariable,
        _ => Said::No,
    };
    let quiet = said(
        "quiet",
        before.quiet,
        groups.quiet.is_some_and(|quiet| quiet.quiet),
    );
    let verbose = said(
        "verbose",
        before.verbose,
        groups.verbose.is_some_and(|verbose| verbose.verbose),
    );
    if quiet != Said::No && quiet == verbose {
        return Err(UsageError(
            "-q (--quiet) and -v (--verbose) cannot be used together (FERRY_QUIET and FERRY_VERBOSE count too)".to_owned(),
        ));
    }
    let (quiet, verbose) = (quiet > verbose, verbose > quiet);
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
            groups.wait_lock.and_then(|w| w.wait_lock),
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

/// How a flag was given, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Said {
    No,
    ByVariable,
    Typed,
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
