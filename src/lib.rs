//! ferry: a bulk media uploader with resumable, concurrent uploads.
//!
//! The binary is thin (`main.rs`): parse with `cli`, resolve into `config`,
//! run here, and map the error to an exit code with `error`.

pub mod atomic_file;
pub mod cli;
pub mod commands;
pub mod config;
pub mod config_file;
pub mod error;
pub mod filter;
pub mod format;
pub mod generate;
pub mod hash;
pub mod job;
pub mod journal;
pub mod journal_lock;
pub mod local_folder;
pub mod media;
pub mod paths;
pub mod placement;
pub mod report;
pub mod scan;
pub mod serve;
pub mod store;
pub mod upload;
pub mod upload_store;

use cli::{Cli, Command};
use config::Config;

/// Runs one parsed command line and returns the exit code it earned.
/// `matches` is what clap parsed `cli` from: it tells which flags were given,
/// so that they win over the config file.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    let config = || Config::resolve(&cli.global, config::given_flags(matches));
    match &cli.command {
        Command::Sync(args) => return commands::sync(&config()?, args),
        Command::Scan(args) => return commands::scan(&config()?, args),
        Command::Upload(args) => return commands::upload(&config()?, args),
        Command::Jobs(args) => commands::jobs(&config()?, args)?,
        Command::Status => commands::status(&config()?)?,
        Command::Retry(args) => commands::retry(&config()?, args)?,
        Command::Ack(args) => commands::ack(&config()?, args)?,
        Command::Cancel(args) => commands::cancel(&config()?, args)?,
        Command::Probe(args) => return commands::probe(&config()?, args),
        Command::Serve(args) => return serve::run(config::serve_settings(args)?),
        Command::Generate(args) => generate::generate(&args.dir)?,
    }
    Ok(error::SUCCESS)
}
