//! A big SFTP upload hashed on the server while it lands: the follower's
//! digest is what confirms it, and a follower that answers wrong or hangs
//! only sends ferry back to hashing the whole file. Both followers are
//! covered: the Python one, and the shell loop where `python3` does not
//! run (a wrapper that fails as a version manager's shim with no version
//! does). The server's tools are wrapped through its `PATH` (sshd's
//! `SetEnv`).

use std::path::{Path, PathBuf};

use crate::sftp::{Sshd, uploading_offsets};
use crate::upload::{run_ok, sha256_of, write_big};
use crate::util::{TestEnv, stdout_of, write_file};

/// The sessions' PATH after the wrappers: the system's programs.
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Where `program` is on the sessions' PATH.
fn found(program: &str) -> PathBuf {
    (std::env::split_paths(SYSTEM_PATH).map(|dir| dir.join(program)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} is not in {SYSTEM_PATH}"))
}

/// A `python3` that logs its call and fails before running anything.
const BROKEN_PYTHON: &str = "echo python3 >> \"$LOG\"\nexit 127";

/// An sshd whose sessions find `wrappers` (name, script body) first on
/// their PATH; each body may use `$LOG` and `$REAL` (the program it
/// wraps). The log's path comes back with it.
fn wrapped(wrappers: &[(&str, &str)]) -> (Sshd, tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    for (name, body) in wrappers {
        let script = format!(
            "#!/bin/sh\nLOG={}\nREAL={}\n{body}\n",
            log.display(),
            found(name).display()
        );
        let path = dir.path().join(name);
        write_file(&path, script.as_bytes());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // A HOME of its own: no login script of this machine's account (a
    // .bashrc putting pyenv's shims first) reorders the PATH.
    let sshd = Sshd::start_with(&format!(
        "SetEnv HOME={} PATH={}:{SYSTEM_PATH}\n",
        dir.path().display(),
        dir.path().display()
    ));
    (sshd, dir, log)
}

/// Syncs a 300 MiB clip (a follower's size) over the shell account:
/// the `--json` run's output, after checking the stored file and that the
/// server's SHA-256 confirmed it.
fn sync_a_big_clip(sshd: &Sshd) -> std::process::Output {
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_big(&card.join("clip.mov"), 300 << 20, 13);
    let dest = env.path().join("nas");
    let output = run_ok(&mut sshd.sync_json(&env, &card, &sshd.url(&dest)));
    assert_eq!(
        sha256_of(&card.join("clip.mov")),
        sha256_of(&dest.join("clip.mov"))
    );
    let jobs = stdout_of(&run_ok(sshd.ferry(&env).args(["jobs", "--json"])));
    assert_eq!(
        jobs.matches("\"confirmed-by\":\"sha256\"").count(),
        1,
        "{jobs}"
    );
    output
}

fn calls(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Syncs a big clip where each hash tool logs what its input is (the file
/// itself when the whole file is hashed after the upload), `dd` its
/// arguments and `python3` its name (`python`: its wrapper's body): the
/// log, after checking that the partial file was never hashed whole.
fn followed(python: &str) -> String {
    let log_input = "readlink /proc/$$/fd/0 >> \"$LOG\"\nexec \"$REAL\" \"$@\"";
    let log_args = "echo \"dd $*\" >> \"$LOG\"\nexec \"$REAL\" \"$@\"";
    let mut wrappers: Vec<(&str, &str)> = ["openssl", "sha256sum"]
        .into_iter()
        .filter(|tool| std::panic::catch_unwind(|| found(tool)).is_ok())
        .map(|tool| (tool, log_input))
        .collect();
    wrappers.extend([("dd", log_args), ("python3", python)]);
    let (sshd, _dir, log) = wrapped(&wrappers);
    sync_a_big_clip(&sshd);
    let calls = calls(&log);
    assert!(
        !calls.lines().any(|input| input.ends_with(".part")),
        "the partial file was hashed whole after all: {calls}"
    );
    calls
}

#[test]
fn where_python3_does_not_run_the_shell_followers_digest_confirms_a_big_upload() {
    let calls = followed(BROKEN_PYTHON);
    assert!(
        calls.contains("dd if=") && calls.contains(".ferry-"),
        "{calls}"
    );
    assert_eq!(calls.matches("python3").count(), 1, "{calls}");
}

#[test]
fn the_python_followers_digest_confirms_a_big_upload_without_dd_or_a_pipe() {
    let calls = followed("echo python3 >> \"$LOG\"\nexec \"$REAL\" \"$@\"");
    // Started once: the program checks itself.
    assert_eq!(
        calls.lines().filter(|line| *line == "python3").count(),
        1,
        "{calls}"
    );
    assert!(!calls.contains("dd if="), "{calls}");
}

/// A sync of a big clip where the server's `dd` reads the file's path as
/// it should, but runs `instead` for each block of the file: it must be
/// confirmed by the whole file's hash, without a second upload.
fn confirmed_when_dd_runs(instead: &str) {
    let body = format!(
        "echo \"$*\" >> \"$LOG\"\ncase \"$*\" in *if=*) exec {instead};; esac\nexec \"$REAL\" \"$@\""
    );
    let (sshd, _dir, log) = wrapped(&[("dd", &body), ("python3", BROKEN_PYTHON)]);
    let output = sync_a_big_clip(&sshd);
    assert!(calls(&log).contains(".ferry-"), "the follower never ran");
    assert_eq!(
        uploading_offsets(&output),
        [0],
        "the upload was tried again"
    );
}

#[test]
fn a_follower_that_answers_wrong_leaves_the_whole_files_hash_to_confirm() {
    confirmed_when_dd_runs("head -c 65536 /dev/zero");
}

#[test]
fn a_follower_that_hangs_is_given_up_on_and_the_upload_confirmed_without_a_retry() {
    // The first block the follower asks for never comes.
    confirmed_when_dd_runs("sleep 40");
}
