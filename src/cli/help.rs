//! The help as the user reads it: one line per flag under `-h`, the
//! variables and every value under `--help` and in the man pages, and two or
//! three examples at the end of each command's help.
//!
//! clap prints an argument's `[env: …]` after its one-line help, which makes
//! `-h` wrap on every line; here each argument keeps its variable in its long
//! help only. The examples are a table, so that each command's help ends the
//! same way.

use clap::CommandFactory;

use super::Cli;

/// Each command's examples, what each does and the command: what a new
/// user would type first.
const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "sync",
        &[
            (
                "copy what is new on a card to a folder",
                "ferry sync /media/card --to ~/Backup/photos",
            ),
            (
                "say what would go where, and send nothing",
                "ferry sync ~/Pictures --to http://127.0.0.1:8920/files/ --dry-run",
            ),
            (
                "back up to a machine you reach with ssh, resumably",
                "ferry sync /media/card --to sftp://nas.local/~/photos/",
            ),
            (
                "free the card once S3 has confirmed each file",
                "ferry sync /media/card --to s3://photos/card/ --delete-after",
            ),
        ],
    ),
    (
        "watch",
        &[
            (
                "keep a folder backed up to a configured destination",
                "ferry watch ~/Pictures --to home",
            ),
            (
                "wait until files have held still for 10 s",
                "ferry watch /srv/inbox --to ~/Backup --settle 10s",
            ),
        ],
    ),
    (
        "scan",
        &[
            (
                "list what would be queued",
                "ferry scan /media/card --to ~/Backup --dry-run",
            ),
            (
                "queue, and say what was left out and why",
                "ferry scan -v /media/card --to ~/Backup",
            ),
        ],
    ),
    (
        "upload",
        &[
            ("upload every queued job", "ferry upload"),
            (
                "only one destination's jobs, 8 at once",
                "ferry upload --to home -j 8",
            ),
        ],
    ),
    (
        "jobs",
        &[
            ("what failed, and why", "ferry jobs --state failed"),
            (
                "one destination's jobs, for scripts",
                "ferry jobs --to home --json",
            ),
        ],
    ),
    (
        "status",
        &[
            ("jobs and bytes in each state", "ferry status"),
            ("one destination's", "ferry status --to home"),
        ],
    ),
    (
        "retry",
        &[
            ("queue every failed job again", "ferry retry --all"),
            (
                "send one job to another destination",
                "ferry retry 3f2a --to ~/Backup",
            ),
        ],
    ),
    (
        "ack",
        &[
            ("take the failures off the list", "ferry ack --failed"),
            ("one job", "ferry ack 3f2a"),
        ],
    ),
    (
        "cancel",
        &[
            (
                "drop the jobs of a mistyped destination",
                "ferry cancel --pending --to http://127.0.0.1:9999/files/",
            ),
            ("one job", "ferry cancel 3f2a"),
        ],
    ),
    (
        "verify",
        &[
            (
                "check every succeeded job at its destination",
                "ferry verify",
            ),
            (
                "one destination's, queueing again what is missing",
                "ferry verify --to home --requeue",
            ),
        ],
    ),
    (
        "probe",
        &[
            (
                "what a server speaks, and whether it takes the credentials",
                "ferry probe http://127.0.0.1:8920/files/",
            ),
            ("a destination from the config file", "ferry probe home"),
        ],
    ),
    (
        "serve",
        &[
            (
                "receive on 127.0.0.1:8920, for this machine",
                "ferry serve --dir ~/Incoming",
            ),
            (
                "receive from the network: a token and TLS",
                "ferry serve --dir /srv/photos --listen 0.0.0.0:8920 --token-file token \\\n      --tls-cert cert.pem --tls-key key.pem",
            ),
        ],
    ),
    (
        "completions",
        &[
            (
                "bash",
                "ferry completions bash > ~/.local/share/bash-completion/completions/ferry",
            ),
            (
                "zsh (a folder on $fpath)",
                "ferry completions zsh > ~/.zfunc/_ferry",
            ),
        ],
    ),
];

/// Under `ferry --help`: what the options above the commands are.
const BEFORE_THE_COMMAND: &str = "\
The options above may also come before the command (ferry -q sync ...); each is taken
by the commands that use it. `ferry COMMAND --help` lists a command's own options,
each with its FERRY_ variable.";

/// The command line with its help shaped for reading; every parse, every
/// completion script and every man page is made from this.
pub fn command() -> clap::Command {
    let command = Cli::command()
        .mut_args(variable_in_long_help)
        .after_help(format!("{BEFORE_THE_COMMAND}\n\n{}", super::EXIT_CODES));
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    names.into_iter().fold(command, |command, name| {
        command.mut_subcommand(&name, |sub| {
            let sub = sub.mut_args(variable_in_long_help);
            match EXAMPLES.iter().find(|(command, _)| *command == name) {
                Some((_, examples)) => {
                    let mut text = sub
                        .get_after_help()
                        .map(|text| format!("{text}\n\n"))
                        .unwrap_or_default();
                    text.push_str("Examples:");
                    for (what, example) in examples.iter() {
                        text.push_str(&format!("\n  # {what}\n  {example}"));
                    }
                    sub.after_help(text)
                }
                None => sub,
            }
        })
    })
}

/// `[env: FERRY_X]` moves from the one-line help to the long help.
fn variable_in_long_help(arg: clap::Arg) -> clap::Arg {
    let (Some(variable), Some(help)) = (arg.get_env(), arg.get_help()) else {
        return arg;
    };
    let long = format!("{help}\n[env: {}]", variable.to_string_lossy());
    arg.hide_env(true).long_help(long)
}
