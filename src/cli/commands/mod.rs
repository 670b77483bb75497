//! The glue that runs each command: one file per command family, and what
//! they share (opening the journal, printing a JSON line).

pub mod jobs;
pub mod probe;
pub mod transfer;
pub mod verify;
pub mod watch;

use anyhow::Context;
use serde::Serialize;

use crate::cli::settings::Config;
use crate::journal::store::Store;

/// The journal for a command that reports on it (`jobs`, `status`,
/// `verify`): a chosen path with no journal is a typo, not an empty journal
/// (the default one is simply not made yet before the first sync).
pub(crate) fn open_to_report(config: &Config) -> anyhow::Result<Store> {
    if config.journal_given() && !config.journal.is_file() {
        return Err(crate::error::UsageError(format!(
            "no journal at {}: check --journal or FERRY_JOURNAL (`ferry sync` and `ferry scan` create one)",
            config.journal.display()
        ))
        .into());
    }
    open_read_only(config)
}

pub(crate) fn open_read_only(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open_read_only(&config.journal)?;
    show_warnings(&store);
    Ok(store)
}

pub(crate) fn open_for_change(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open(&config.journal, &config.open_options()).with_context(|| {
        format!(
            "cannot use the journal at {}; choose another with --journal PATH or FERRY_JOURNAL",
            config.journal.display()
        )
    })?;
    show_warnings(&store);
    Ok(store)
}

fn show_warnings(store: &Store) {
    for warning in store.warnings() {
        crate::report::stream::err_line(&format!("warning: {warning}"));
    }
}

pub(crate) fn print_json_line(value: &impl Serialize) -> anyhow::Result<()> {
    crate::report::stream::out_line(&serde_json::to_string(value)?)?;
    Ok(())
}
