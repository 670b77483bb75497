//! The glue that runs each command: one file per command family, and what
//! they share (opening the journal, printing a JSON line).

pub mod jobs;
pub mod transfer;
pub mod verify;
pub mod watch;

use serde::Serialize;

use crate::config::Config;
use crate::journal::store::Store;

pub(crate) fn open_read_only(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open_read_only(&config.journal)?;
    show_warnings(&store);
    Ok(store)
}

pub(crate) fn open_for_change(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open(&config.journal, &config.open_options())?;
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
