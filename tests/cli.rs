//! The job commands through the real binary in a scrubbed environment.

use std::time::{Duration, Instant};

use ferry::journal::job::{ErrorClass, JobError, JobId, Response, State};
use ferry::journal::store::Durability;

use crate::util::{TestEnv, destination, resource, stderr_of, stdout_of};

/// One job in each state; returns their IDs in the order pending, registered,
/// succeeded, failed, cancelled.
fn seed(env: &TestEnv) -> Vec<JobId> {
    let mut store = env.store();
    let mut ids = Vec::new();
    for (i, state) in State::ALL.iter().enumerate() {
        let id = store
            .create(
                resource(&format!("DCIM/{}.jpg", state.name()), 1000 * (i as u64 + 1)),
                destination(),
                Durability::Lazy,
            )
            .unwrap();
        store
            .apply(&id, Durability::Lazy, |job| match state {
                State::Pending => Ok(()),
                State::Registered => job.register(ferry::journal::job::Session {
                    url: "http://127.0.0.1:9/files/r".into(),
                    offset: 10,
                    protocol: None,
                    id: None,
                    ..Default::default()
                }),
                State::Succeeded => job.succeed(Response {
                    status: 201,
                    headers: Default::default(),
                }),
                State::Failed => job.fail(JobError {
                    class: ErrorClass::Server,
                    status: Some(507),
                    message: "insufficient storage".into(),
                }),
                State::Cancelled => job.cancel(),
            })
            .unwrap();
        ids.push(id);
    }
    store.checkpoint().unwrap();
    ids
}

fn state_of(env: &TestEnv, id: &JobId) -> (State, bool) {
    let store = ferry::journal::store::Store::open_read_only(&env.journal()).unwrap();
    let job = store.job(id).unwrap();
    (job.state, job.is_acknowledged())
}

#[test]
fn help_lists_only_commands_that_work() {
    let env = TestEnv::new();
    let output = env.ferry_bare().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = stdout_of(&output);
    for command in [
        "sync", "scan", "upload", "jobs", "status", "retry", "ack", "cancel", "serve",
    ] {
        assert!(
            help.contains(&format!("\n  {command} ")),
            "{command} missing:\n{help}"
        );
    }
    assert!(!help.contains("\n  generate "), "generate listed:\n{help}");
    assert!(
        help.contains("\n  completions "),
        "completions missing:\n{help}"
    );
}

/// `ferry completions SHELL` prints the script on stdout and writes nothing
/// beside it (`ferry generate`, for packagers, writes folders instead).
#[test]
fn completions_print_a_script_for_each_shell() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("bash", "complete -F _ferry"),
        ("zsh", "#compdef ferry"),
        ("fish", "complete -c ferry"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[ferry]"),
    ] {
        let output = env
            .ferry_bare()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}: {}", stderr_of(&output));
        let script = stdout_of(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("serve"), "{shell}");
    }
    assert_eq!(std::fs::read_dir(env.path()).unwrap().count(), 0);
    let wrong = env
        .ferry_bare()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
}

/// Every flag of every command can be set by a `FERRY_…` variable, and
/// `--help` says which.
#[test]
fn every_flag_has_an_env_var_shown_in_help() {
    use clap::CommandFactory;
    let env = TestEnv::new();
    let root = ferry::cli::Cli::command();
    // The options typed before the command take their variables from the
    // command's own flags, so the commands are what is checked here.
    let commands: Vec<_> = root
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| (sub.get_name().to_owned(), sub))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for (name, command) in commands {
        let help = stdout_of(&env.ferry_bare().args([&name, "--help"]).output().unwrap());
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if arg.is_positional() || id == "help" || id == "version" {
                continue;
            }
            let var = arg
                .get_env()
                .unwrap_or_else(|| panic!("ferry {name} --{id} has no env var"))
                .to_str()
                .unwrap();
            assert!(var.starts_with("FERRY_"), "{var}");
            assert!(
                help.contains(&format!("[env: {var}")),
                "{var} not in ferry {name} --help"
            );
            seen.insert(var.to_owned());
        }
    }
    assert!(seen.len() > 40, "{seen:?}");
}

/// The options several commands share, and the commands that use each
/// (checked by behaviour below and in the commands' own tests): what `ferry
/// COMMAND --help` must list, and nothing more.
const SHARED: &[(&str, &[&str])] = &[
    (
        "--journal",
        &[
            "sync", "watch", "scan", "upload", "jobs", "status", "retry", "ack", "cancel", "verify",
        ],
    ),
    (
        "--wait-lock",
        &[
            "sync", "watch", "scan", "upload", "retry", "ack", "cancel", "verify",
        ],
    ),
    ("--job-limit", &["sync", "watch", "scan", "status"]),
    (
        "--config",
        &[
            "sync", "watch", "scan", "upload", "jobs", "status", "retry", "cancel", "verify",
            "probe",
        ],
    ),
    (
        "--json",
        &[
            "sync", "watch", "scan", "upload", "jobs", "status", "retry", "ack", "cancel",
            "verify", "probe",
        ],
    ),
    (
        "--quiet",
        &[
            "sync", "watch", "scan", "upload", "retry", "ack", "cancel", "verify",
        ],
    ),
    ("--verbose", &["sync", "watch", "scan", "upload"]),
    ("--color", &["sync", "watch", "scan", "upload"]),
    ("--progress", &["sync", "watch", "scan", "upload", "verify"]),
    ("--log-file", &["sync", "watch", "scan", "upload"]),
];

/// `jobs` and `status` listed `--progress`, `--job-limit` and `--log-file`,
/// which did nothing there. Each command's help now lists only the shared
/// options it uses, under headings; one it does not use is refused, typed
/// after the command or before it, and one typed before it is taken.
#[test]
fn each_command_lists_and_takes_only_the_shared_options_it_uses() {
    let env = TestEnv::new();
    let commands = [
        "sync",
        "watch",
        "scan",
        "upload",
        "jobs",
        "status",
        "retry",
        "ack",
        "cancel",
        "verify",
        "probe",
        "serve",
        "completions",
    ];
    for command in commands {
        let help = stdout_of(&env.ferry_bare().args([command, "--help"]).output().unwrap());
        for (flag, users) in SHARED {
            let listed = help.lines().any(|line| {
                line.trim_start()
                    .split([' ', ','])
                    .any(|word| word == *flag)
            });
            assert_eq!(
                listed,
                users.contains(&command),
                "ferry {command} --help and {flag}:\n{help}"
            );
        }
        assert!(
            help.contains("Examples:\n  # "),
            "ferry {command} --help:\n{help}"
        );
        if help.contains("--json") {
            assert!(
                help.contains("\nOutput:\n"),
                "ferry {command} --help:\n{help}"
            );
        }
    }
    // Not listed is not taken: after the command, or before it.
    for args in [
        &["jobs", "--progress", "bars"][..],
        &["jobs", "--job-limit", "5"],
        &["status", "--log-file", "log"],
        &["--progress", "bars", "jobs"],
        &["--log-file", "log", "status"],
        &["--journal", "j.jsonl", "probe", "."],
    ] {
        let output = env.ferry_bare().args(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr_of(&output)
        );
        let flag = args.iter().find(|arg| arg.starts_with("--")).unwrap();
        let first = stderr_of(&output).lines().next().unwrap_or("").to_owned();
        assert!(first.contains(flag), "{args:?}: {first}");
    }
    let before = stderr_of(
        &env.ferry_bare()
            .args(["--progress", "bars", "jobs"])
            .output()
            .unwrap(),
    );
    assert!(before.contains("ferry jobs has no --progress"), "{before}");
    assert!(!env.path().join("log").exists());

    // Typed before the command, an option the command uses is taken; typed
    // after it too, the one after wins.
    let typo = env.path().join("typo.jsonl");
    let output = env
        .ferry_bare()
        .arg("--journal")
        .arg(&typo)
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("no journal at"),
        "{}",
        stderr_of(&output)
    );
    env.ferry()
        .args(["scan", "--to", "./backup", "."])
        .output()
        .unwrap();
    let output = env
        .ferry_bare()
        .arg("--journal")
        .arg(&typo)
        .arg("status")
        .arg("--journal")
        .arg(env.journal())
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        stdout_of(&output).starts_with('{'),
        "{}",
        stdout_of(&output)
    );
    // -q is used by cancel: "no jobs to cancel" goes.
    let said = |quiet: bool| {
        let mut command = env.ferry();
        if quiet {
            command.arg("-q");
        }
        stdout_of(&command.args(["cancel", "--pending"]).output().unwrap())
    };
    assert!(said(false).contains("no jobs to cancel"), "{}", said(false));
    assert_eq!(said(true), "");
    // -q typed on the line wins over FERRY_VERBOSE, and -v over
    // FERRY_QUIET; both typed is refused.
    for (variable, flag) in [("FERRY_VERBOSE", "-q"), ("FERRY_QUIET", "-v")] {
        let output = env
            .ferry()
            .env(variable, "1")
            .args(["scan", flag, "--dry-run", "--to", "./backup", "."])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{variable} {flag}: {}",
            stderr_of(&output)
        );
    }
    let both = env
        .ferry()
        .args(["-q", "scan", "-v", "--to", "./b", "."])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2), "{}", stderr_of(&both));
    assert!(
        stderr_of(&both).contains("-q (--quiet) and -v"),
        "{}",
        stderr_of(&both)
    );
    // Every example is one command a line (a long one continued with \),
    // not one that clap wrapped at 100 columns.
    for command in commands {
        let help = stdout_of(&env.ferry_bare().args([command, "--help"]).output().unwrap());
        let examples = help.split("Examples:\n").nth(1).unwrap();
        let mut continued = false;
        for line in examples.lines() {
            assert!(
                line.starts_with("  # ") || line.starts_with("  ferry ") || continued,
                "ferry {command} --help: {line:?}"
            );
            continued = line.ends_with('\\');
        }
    }
}

#[test]
fn usage_errors_exit_with_2() {
    let env = TestEnv::new();
    for args in [
        &["ack"][..],
        &["frobnicate"],
        &["jobs", "--state", "lost"],
        &["ack", "--all", "abc"],
        // Past ten years a deadline could overflow: refused, not a panic.
        &[
            "sync",
            ".",
            "--to",
            "./out",
            "--idle-timeout",
            "18446744073709551615s",
        ],
        &[
            "sync",
            ".",
            "--to",
            "./out",
            "--max-duration",
            "18446744073709551615s",
        ],
        &["status", "--wait-lock", "99999999999d"],
    ] {
        let output = env.ferry().args(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr_of(&output)
        );
    }
}

#[test]
fn jobs_lists_a_table_filters_and_json() {
    let env = TestEnv::new();
    let ids = seed(&env);
    let output = env.ferry().arg("jobs").output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let table = stdout_of(&output);
    assert!(table.starts_with("ID "), "{table}");
    assert_eq!(table.lines().count(), 6, "{table}");
    // The status goes after a reason that does not name it already.
    assert!(table.contains("insufficient storage (HTTP 507)"), "{table}");
    assert!(table.contains(ids[3].short()), "{table}");

    let failed = stdout_of(
        &env.ferry()
            .args(["jobs", "--state", "failed"])
            .output()
            .unwrap(),
    );
    assert_eq!(failed.lines().count(), 2, "{failed}");
    assert!(failed.contains("DCIM/failed.jpg"));

    let process = stdout_of(
        &env.ferry()
            .args(["jobs", "--action", "process"])
            .output()
            .unwrap(),
    );
    assert!(process.contains("DCIM/pending.jpg") && process.contains("DCIM/registered.jpg"));
    assert_eq!(process.lines().count(), 3, "{process}");

    let json = stdout_of(
        &env.ferry()
            .args(["jobs", "--json", "--action", "acknowledge"])
            .output()
            .unwrap(),
    );
    let states: Vec<String> = json
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["state"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(states, ["succeeded", "failed"]);
}

#[test]
fn status_counts_jobs_and_bytes_per_state() {
    let env = TestEnv::new();
    seed(&env);
    let output = env.ferry().args(["status", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["states"]["pending"]["jobs"], 1);
    assert_eq!(report["states"]["failed"]["bytes"], 4000);
    assert_eq!(report["total"]["jobs"], 5);
    assert_eq!(report["total"]["bytes"], 15000);
    assert_eq!(report["holding_limit"], 4);

    let text = stdout_of(&env.ferry().arg("status").output().unwrap());
    let failed_row = text
        .lines()
        .find(|line| line.starts_with("failed"))
        .unwrap();
    assert_eq!(
        failed_row.split_whitespace().collect::<Vec<_>>(),
        ["failed", "1", "3.9", "KiB", "0"]
    );
}

#[test]
fn retry_ack_and_cancel_change_the_selected_jobs() {
    let env = TestEnv::new();
    let ids = seed(&env);
    let prefix = &ids[3].as_str()[..8];

    let output = env.ferry().args(["retry", prefix]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output).trim(), "retry: 1 job");
    assert_eq!(state_of(&env, &ids[3]), (State::Pending, false));

    let output = env.ferry().args(["cancel", "--pending"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output).trim(), "cancel: 3 jobs");
    for i in [0, 1, 3] {
        assert_eq!(state_of(&env, &ids[i]).0, State::Cancelled);
    }

    let output = env
        .ferry()
        .args(["--json", "ack", "--succeeded"])
        .output()
        .unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reply["changed"], 1);
    assert_eq!(reply["ids"][0], ids[2].as_str());
    assert_eq!(state_of(&env, &ids[2]), (State::Succeeded, true));

    let quiet = env.ferry().args(["-q", "ack", "--all"]).output().unwrap();
    assert!(quiet.status.success());
    assert!(quiet.stdout.is_empty() && quiet.stderr.is_empty());
}

#[test]
fn a_refused_transition_is_an_error_and_changes_nothing() {
    let env = TestEnv::new();
    let ids = seed(&env);
    let before = std::fs::read(env.journal()).unwrap();
    let output = env
        .ferry()
        .args(["ack", ids[3].as_str(), ids[0].as_str()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(ids[0].as_str()) && stderr.contains("is pending"),
        "{stderr}"
    );
    assert_eq!(state_of(&env, &ids[3]), (State::Failed, false));
    assert_eq!(std::fs::read(env.journal()).unwrap(), before);

    let output = env
        .ferry()
        .args(["retry", "ffffffffffffffffff"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("no job matches"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_corrupt_journal_is_refused_with_file_and_line_and_left_byte_identical() {
    let env = TestEnv::new();
    seed(&env);
    let text = std::fs::read_to_string(env.journal()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = "\u{1}\u{2}garbage%%%".to_owned();
    let damaged = lines.join("\n") + "\n";
    std::fs::write(env.journal(), &damaged).unwrap();

    for args in [
        &["status"][..],
        &["jobs"],
        &["ack", "--all"],
        &["cancel", "--pending"],
    ] {
        let output = env.ferry().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        let at = format!("{}:3:", env.journal().display());
        assert!(stderr.contains(&at), "{args:?}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(env.journal()).unwrap(),
            damaged,
            "{args:?}"
        );
    }
}

#[test]
fn a_second_writer_names_the_holder_and_exits_4_or_waits() {
    let env = TestEnv::new();
    seed(&env);
    let holder = env.store();
    let output = env.ferry().args(["ack", "--all"]).output().unwrap();
    assert_eq!(output.status.code(), Some(4));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    assert!(stderr.contains(&format!("on host {host}")), "{stderr}");

    // Reading needs no lock.
    assert!(env.ferry().arg("status").output().unwrap().status.success());

    let started = Instant::now();
    let waiting = env
        .ferry()
        .args(["--wait-lock", "30s", "ack", "--all"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    // Still there: it is waiting for the lock, not done without it.
    let mut waiting = waiting;
    assert!(waiting.try_wait().unwrap().is_none(), "it did not wait");
    drop(holder);
    let output = waiting.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert_eq!(stdout_of(&output).trim(), "acknowledge: 2 jobs");
}

#[test]
fn the_default_journal_lives_in_the_data_directory() {
    let env = TestEnv::new();
    let output = env
        .ferry_bare()
        .args(["cancel", "--pending"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let expected = env
        .path()
        .join("home/.local/share/ferry/journals/default.jsonl");
    let header = std::fs::read_to_string(&expected).unwrap();
    assert_eq!(header, "{\"format\":\"ferry-journal\",\"version\":1}\n");

    let elsewhere = env.path().join("elsewhere.jsonl");
    let output = env
        .ferry_bare()
        .env("FERRY_JOURNAL", &elsewhere)
        .args(["cancel", "--pending"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(elsewhere.exists());
}

/// The README's capture of `ferry sync --help` is what the binary prints
/// (clap wraps at 100 columns without a terminal, as here).
#[test]
fn the_readme_shows_the_sync_help_the_binary_prints() {
    let env = TestEnv::new();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let shown = readme
        .split("<!-- sync-help -->\n```text\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the README shows ferry sync --help");
    let help = stdout_of(&env.ferry_bare().args(["sync", "--help"]).output().unwrap());
    assert_eq!(
        shown,
        help.trim_end(),
        "README's ferry sync --help is stale"
    );
}
