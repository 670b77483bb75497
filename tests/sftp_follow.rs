//! A big SFTP upload hashed on the server while it lands: the follower's
//! digest is what confirms it, and a follower that answers wrong or hangs
//! only sends ferry back to hashing the whole file. Both followers are
//! covered: the Python one, and the shell loop on a PATH without
//! `python3`. The server's tools are
//! wrapped through its `PATH` (sshd's `SetEnv`).

use std::path::{Path, PathBuf};

use crate::sftp::{Sshd, uploading_offsets};
use crate::upload::{run_ok, sha256_of, write_big};
use crate::util::{TestEnv, stdout_of, write_file};

/// Where `program` is on this machine's `PATH`.
fn found(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    (std::env::split_paths(&path).map(|dir| dir.join(program)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

/// An sshd whose sessions find `wrappers` (name, script body) first on
/// their PATH; each body may use `$LOG` and `$REAL` (the program it
/// wraps). The log's path comes back with it. With `without_python`, the
/// rest of the PATH is this machine's programs but `python3`, so the
/// follower is the shell loop.
fn wrapped(wrappers: &[(&str, &str)], without_python: bool) -> (Sshd, tempfile::TempDir, PathBuf) {
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
    let rest = match without_python {
        true => programs_but_python(&dir.path().join("bin")),
        false => "/usr/local/bin:/usr/bin:/bin".to_owned(),
    };
    let path = format!("{}:{rest}", dir.path().display());
    // A HOME of its own: no login script of this machine's account (a
    // .bashrc putting pyenv's python3 first) reorders the PATH.
    let sshd = Sshd::start_with(&format!(
        "SetEnv HOME={} PATH={path}\n",
        dir.path().display()
    ));
    (sshd, dir, log)
}

/// A folder of links to every program on this machine's PATH but
/// `python3`: its path.
fn programs_but_python(folder: &Path) -> String {
    std::fs::create_dir(folder).unwrap();
    let path = std::env::var_os("PATH").unwrap();
    for dir in std::env::split_paths(&path) {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let link = folder.join(&name);
            if !name.to_string_lossy().starts_with("python") && !link.exists() {
                std::os::unix::fs::symlink(entry.path(), link).unwrap();
            }
        }
    }
    folder.display().to_string()
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
/// arguments and `python3` its name: the log, after checking that the
/// partial file was never hashed whole.
fn followed(without_python: bool) -> String {
    let log_input = "readlink /proc/$$/fd/0 >> \"$LOG\"\nexec \"$REAL\" \"$@\"";
    let log_args = "echo \"dd $*\" >> \"$LOG\"\nexec \"$REAL\" \"$@\"";
    let log_name = "echo python3 >> \"$LOG\"\nexec \"$REAL\" \"$@\"";
    let mut wrappers: Vec<(&str, &str)> = ["openssl", "sha256sum"]
        .into_iter()
        .filter(|tool| std::panic::catch_unwind(|| found(tool)).is_ok())
        .map(|tool| (tool, log_input))
        .collect();
    wrappers.push(("dd", log_args));
    if !without_python {
        wrappers.push(("python3", log_name));
    }
    let (sshd, _dir, log) = wrapped(&wrappers, without_python);
    sync_a_big_clip(&sshd);
    let calls = calls(&log);
    assert!(
        !calls.lines().any(|input| input.ends_with(".part")),
        "the partial file was hashed whole after all: {calls}"
    );
    calls
}

#[test]
fn the_shell_followers_digest_confirms_a_big_upload_without_hashing_it_again() {
    let calls = followed(true);
    assert!(
        calls.contains("dd if=") && calls.contains(".ferry-"),
        "{calls}"
    );
    assert!(!calls.contains("python3"), "{calls}");
}

#[test]
fn the_python_followers_digest_confirms_a_big_upload_without_dd_or_a_pipe() {
    let calls = followed(false);
    assert!(calls.lines().any(|line| line == "python3"), "{calls}");
    assert!(!calls.contains("dd if="), "{calls}");
}

/// A sync of a big clip where the server's `dd` reads the file's path as
/// it should, but runs `instead` for each block of the file: it must be
/// confirmed by the whole file's hash, without a second upload.
fn confirmed_when_dd_runs(instead: &str) {
    let body = format!(
        "echo \"$*\" >> \"$LOG\"\ncase \"$*\" in *if=*) exec {instead};; esac\nexec \"$REAL\" \"$@\""
    );
    let (sshd, _dir, log) = wrapped(&[("dd", &body)], true);
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
