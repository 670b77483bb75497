use std::process::ExitCode;

use clap::FromArgMatches;

fn main() -> ExitCode {
    // A file-size limit (ulimit -f, prlimit --fsize) then fails the write
    // like a full disk, which the journal handles, instead of killing us.
    // SAFETY: setting a signal's disposition to ignore, before any thread.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let matches = ferry::cli::command()
        .try_get_matches()
        .unwrap_or_else(|error| match ferry::cli::from_a_variable(&error) {
            // A bad value set by a variable is named by the variable.
            Some(line) => {
                ferry::report::stream::err_line(&format!("ferry: error: {line}"));
                std::process::exit(i32::from(ferry::error::USAGE_ERROR));
            }
            None => error.exit(),
        });
    let cli = ferry::cli::Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match ferry::run(cli, &matches) {
        // Events that could not be written (`--json` into a full disk):
        // the reader has not got them all, which a success must not hide.
        // A worse code (3, 130) is kept; the line is said either way.
        Ok(code) => match ferry::report::stream::lost_output() {
            Some(why) => {
                ferry::report::stream::err_line(&format!("ferry: error: {why}"));
                ExitCode::from(code.max(1))
            }
            None => ExitCode::from(code),
        },
        // The reader of our output went away (`ferry jobs | head -1`):
        // nothing is wrong and nobody is left to tell.
        Err(_) if ferry::report::stream::closed() => ExitCode::SUCCESS,
        Err(error) => {
            ferry::report::stream::err_line(&format!(
                "ferry: error: {}",
                ferry::error::one_line(&error)
            ));
            ExitCode::from(ferry::error::exit_code(&error))
        }
    }
}
