//! Shell completions and man pages, generated from the clap definition.
//!
//! The output is committed under completions/ and man/ so packagers need no
//! build step; a test regenerates it and fails when the committed copy is stale.

use std::path::Path;

use clap_complete::Shell;

use crate::cli::command;

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
        let mut command = command();
        clap_complete::generate_to(shell, &mut command, "ferry", &completions)?;
    }

    // No `help` subcommand in the pages: there is no ferry-help(1).
    let mut command = command().disable_help_subcommand(true);
    command.build();
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
    let mut command = command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ferry", &mut script);
    crate::report::stream::out(&String::from_utf8_lossy(&script))?;
    Ok(())
}

/// clap_mangen's sections, then ferry's own: the notes and examples
/// without refilling, the variables, and the exit codes as a table.
fn write_man_page(dir: &Path, name: &str, command: clap::Command) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    let after = command
        .get_after_help()
        .map(|text| text.to_string())
        .unwrap_or_default();
    let (notes, examples) = match after.split_once("Examples:\n") {
        Some((notes, examples)) => (notes, examples),
        None => (after.as_str(), ""),
    };
    // The exit codes have a section of their own, as a table.
    let notes = notes
        .split(super::EXIT_CODES)
        .next()
        .unwrap_or_default()
        .trim();
    if !notes.is_empty() {
        page.extend(section("NOTES", &verbatim(notes)));
    }
    if !examples.is_empty() {
        page.extend(section("EXAMPLES", &verbatim(examples)));
    }
    let mut variables = environment(&command);
    if name == "ferry" {
        variables.push_str(&escaped(ROOT_ENVIRONMENT));
    }
    if !variables.is_empty() {
        page.extend(section("ENVIRONMENT", &variables));
    }
    page.extend(section("EXIT STATUS", &exit_status()));
    if command.get_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    fs_err::write(dir.join(format!("{name}.1")), page)?;
    Ok(())
}

/// ferry(1)'s variables: those that are no option's.
const ROOT_ENVIRONMENT: &str = "\
Each command's page lists the FERRY_ variable of each of its options.
FERRY_TOKEN holds the bearer token sent to a destination (see --token-env).
NO_COLOR, when set and not empty, turns colour off under --color auto.
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
AWS_ENDPOINT_URL, AWS_CA_BUNDLE and AWS_PROFILE are read for s3:// destinations,
as the AWS tools read them.
FERRY_SSH_CONFIG names an ssh_config file that ssh reads instead of ~/.ssh/config
for sftp:// destinations (ssh -F).
";

fn section(title: &str, body: &str) -> Vec<u8> {
    format!(".SH \"{title}\"\n{body}").into_bytes()
}

/// Text for roff: backslashes and hyphens escaped, and no line starting
/// with a control character.
fn escaped(text: &str) -> String {
    text.replace('\\', "\\e")
        .replace('-', "\\-")
        .lines()
        .map(|line| match line.starts_with(['.', '\'']) {
            true => format!("\\&{line}\n"),
            false => format!("{line}\n"),
        })
        .collect()
}

/// Lines kept as they are written (`.nf`), as the help shows them.
fn verbatim(text: &str) -> String {
    format!(".nf\n{}.fi\n", escaped(text.trim_end()))
}

/// One entry per variable: the variable, then the option it sets.
fn environment(command: &clap::Command) -> String {
    let mut out = String::new();
    for arg in command.get_arguments() {
        let (Some(variable), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\nSets \\fB\\-\\-{}\\fR: {}\n",
            escaped(&variable.to_string_lossy()).trim_end(),
            escaped(long).trim_end(),
            escaped(
                &arg.get_help()
                    .map(|help| help.to_string())
                    .unwrap_or_default()
            )
            .trim_end()
        ));
    }
    out
}

/// The exit codes of `--help` as a table, one entry per code.
fn exit_status() -> String {
    let mut out = String::new();
    for line in super::EXIT_CODES.lines().skip(1) {
        let (code, meaning) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}", escaped(meaning.trim())));
    }
    out
}
