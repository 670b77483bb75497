use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let matches = ferry::cli::Cli::command().get_matches();
    let cli = ferry::cli::Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match ferry::run(cli, &matches) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("ferry: error: {}", ferry::error::one_line(&error));
            ExitCode::from(ferry::error::exit_code(&error))
        }
    }
}
