use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ferry::cli::Cli::parse();
    match ferry::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("ferry: error: {}", ferry::error::one_line(&error));
            ExitCode::from(ferry::error::exit_code(&error))
        }
    }
}
