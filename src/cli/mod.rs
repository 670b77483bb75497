//! Everything that knows about the command line: the flags (`flags`), the
//! names of the core's enums as flag values (`choices`), their resolution
//! with the environment and the config file into plain settings
//! (`settings`), and the commands that run on those settings (`commands`).
//! The core modules never import `cli`, so clap stays here, as in fd and xh.

pub mod choices;
pub mod chosen;
pub mod commands;
pub mod flags;
pub mod generate;
pub mod help;
mod scan_settings;
pub mod settings;

pub use flags::*;
pub use help::command;

use crate::error;
use settings::Config;

/// Runs one parsed command line and returns the exit code it earned.
/// `matches` is what clap parsed `cli` from: it tells which flags were given,
/// so that they win over the config file.
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    let chosen = chosen::chosen(&cli, matches)?;
    let config = || Config::resolve(&chosen, settings::given_flags(matches));
    match &cli.command {
        Command::Sync(args) => return commands::transfer::sync(&config()?, args),
        Command::Watch(args) => return commands::watch::watch(config()?, args, config),
        Command::Scan(args) => return commands::transfer::scan(&config()?, &args.scan),
        Command::Upload(args) => return commands::transfer::upload(&config()?, args),
        Command::Jobs(args) => commands::jobs::jobs(&config()?, args)?,
        Command::Status(args) => commands::jobs::status(&config()?, args)?,
        Command::Retry(args) => commands::jobs::retry(&config()?, args)?,
        Command::Ack(args) => commands::jobs::ack(&config()?, args)?,
        Command::Cancel(args) => commands::jobs::cancel(&config()?, args)?,
        Command::Verify(args) => return commands::verify::verify(&config()?, args),
        Command::Probe(args) => return commands::probe::probe(&config()?, args),
        Command::Serve(args) => return crate::serve::run(settings::serve_settings(args)?),
        Command::Completions(args) => generate::completions(args.shell)?,
        Command::Generate(args) => generate::generate(&args.dir)?,
    }
    Ok(error::SUCCESS)
}
