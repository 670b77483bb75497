//! Shell completions and man pages, generated from the clap definition.
//!
//! The output is committed under completions/ and man/ so packagers need no
//! build step; a test regenerates it and fails when the committed copy is stale.

use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

pub fn generate(dir: &Path) -> anyhow::Result<()> {
    let completions = dir.join("completions");
    let man = dir.join("man");
    fs_err::create_dir_all(&completions)?;
    fs_err::create_dir_all(&man)?;

    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let mut command = Cli::command();
        clap_complete::generate_to(shell, &mut command, "ferry", &completions)?;
    }

    let command = Cli::command();
    write_man_page(&man, "ferry", command.clone())?;
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let name = format!("ferry-{}", sub.get_name());
        write_man_page(&man, &name, sub.clone().name(name.clone()))?;
    }
    Ok(())
}

/// `ferry completions SHELL`: the script on stdout, for the user to put
/// where their shell looks.
pub fn completions(shell: Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ferry", &mut script);
    crate::report::stream::out(&String::from_utf8_lossy(&script))?;
    Ok(())
}

fn write_man_page(dir: &Path, name: &str, command: clap::Command) -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page)?;
    fs_err::write(dir.join(format!("{name}.1")), page)?;
    Ok(())
}
