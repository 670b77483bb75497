//! ferry: a bulk media uploader with resumable, concurrent uploads.
//!
//! The binary is thin (`main.rs`): parse with `cli`, resolve into `config`,
//! run here, and map the error to an exit code with `error`.

pub mod cli;
pub mod config;
pub mod digest;
pub mod error;
pub mod format;
pub mod journal;
pub mod placement;
pub mod report;
pub mod scan;
pub mod serve;
pub mod settle;
pub mod upload;
pub mod watching;
pub mod wire;

use cli::{Cli, Command};
use config::Config;

/// Runs one parsed command line and returns the exit code it earned.
/// `matches` is what clap parsed `cli` from: it tells which flags were given,
/// so that they win over the config file.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    let config = || Config::resolve(&cli.global, config::given_flags(matches));
    match &cli.command {
        Command::Sync(args) => return cli::commands::transfer::sync(&config()?, args),
        Command::Watch(args) => return cli::commands::watch::watch(config()?, args, config),
        Command::Scan(args) => return cli::commands::transfer::scan(&config()?, args),
        Command::Upload(args) => return cli::commands::transfer::upload(&config()?, args),
        Command::Jobs(args) => cli::commands::jobs::jobs(&config()?, args)?,
        Command::Status(args) => cli::commands::jobs::status(&config()?, args)?,
        Command::Retry(args) => cli::commands::jobs::retry(&config()?, args)?,
        Command::Ack(args) => cli::commands::jobs::ack(&config()?, args)?,
        Command::Cancel(args) => cli::commands::jobs::cancel(&config()?, args)?,
        Command::Verify(args) => return cli::commands::verify::verify(&config()?, args),
        Command::Probe(args) => return cli::commands::transfer::probe(&config()?, args),
        Command::Serve(args) => return serve::run(config::serve_settings(args)?),
        Command::Completions(args) => cli::generate::completions(args.shell)?,
        Command::Generate(args) => cli::generate::generate(&args.dir)?,
    }
    Ok(error::SUCCESS)
}
