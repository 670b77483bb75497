//! A sync uploads while it scans, each file right after its hash (issue
//! 29): nothing else a user can see may change. On every kind of
//! destination, a sync killed with SIGKILL in mid-run finishes on the next
//! run, duplicates are still left out, and every file is at the
//! destination byte for byte with its SHA-256 confirmed there by `ferry
//! verify`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::http::Server;
use crate::s3::Store;
use crate::sftp::Sshd;
use crate::upload::{run_ok, tree};
use crate::util::{TestEnv, content, stdout_of, write_file};

/// `n` files in `folder`, named by `name(i)`, of `len` bytes, each of its
/// own content (from `seed` on).
fn files(folder: &Path, n: u32, name: impl Fn(u32) -> String, (seed, len): (u32, usize)) {
    for i in 0..n {
        write_file(&folder.join(name(i)), &content(seed + i, len));
    }
}

/// A card of 6 files of 3 MiB, 4 small ones, and two duplicates.
fn card(root: &Path) {
    let dcim = root.join("DCIM");
    files(&dcim, 6, |i| format!("MVI_{i:04}.MP4"), (500, 3 << 20));
    files(&dcim, 4, |i| format!("IMG_{i:04}.JPG"), (900, 40_000));
    let twin = std::fs::read(root.join("DCIM/MVI_0002.MP4")).unwrap();
    write_file(&root.join("copy/MVI_0002 copy.MP4"), &twin);
    let twin = std::fs::read(root.join("DCIM/IMG_0001.JPG")).unwrap();
    write_file(&root.join("copy/IMG_0001 copy.JPG"), &twin);
}

/// `command --json` (a sync), killed once its first job has succeeded;
/// the types of the events it printed.
fn killed_after_the_first_success(command: &mut Command) -> Vec<String> {
    let mut child = command
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut types = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        types.push(line["type"].as_str().unwrap().to_owned());
        if types.last().is_some_and(|kind| kind == "succeeded") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    types
}

/// The files a card's sync must leave at the destination: the card's
/// tree without its duplicates.
fn wanted(root: &Path) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    let mut wanted = tree(root);
    wanted.retain(|path, _| !path.starts_with("copy"));
    wanted
}

/// Kills a sync of the card to `to` after its first success, runs it
/// again, and checks the journal: one job per content, every one
/// succeeded, none for a duplicate; then `ferry verify`, whose results
/// must all be `expected`.
fn killed_and_finished(env: &TestEnv, ferry: &dyn Fn() -> Command, to: &str, expected: &str) {
    let source = env.path().join("card");
    let mut sync = ferry();
    // Slow enough that the kill lands in mid-run.
    sync.args(["sync", "--bwlimit", "8M"])
        .arg(&source)
        .args(["--to", to]);
    let events = killed_after_the_first_success(&mut sync);
    assert!(
        events.iter().any(|kind| kind == "succeeded"),
        "{to}: {events:?}"
    );
    let mut again = ferry();
    let finished = run_ok(
        again
            .args(["--json", "sync"])
            .arg(&source)
            .args(["--to", to]),
    );
    let summary = stdout_of(&finished)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|line| line["type"] == "upload_summary")
        .unwrap();
    assert_eq!(summary["failed"], 0, "{to}: {summary}");

    let mut jobs = ferry();
    let listed = run_ok(jobs.args(["jobs", "--json"]));
    let jobs: Vec<serde_json::Value> = stdout_of(&listed)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let states: Vec<&str> = jobs
        .iter()
        .map(|job| job["state"].as_str().unwrap())
        .collect();
    assert_eq!(jobs.len(), 10, "{to}: one job per content: {states:?}");
    assert!(
        states.iter().all(|state| *state == "succeeded"),
        "{to}: {states:?}"
    );
    let paths: Vec<String> = jobs
        .iter()
        .map(|job| job["resource"]["path"].to_string())
        .collect();
    assert!(
        !paths.iter().any(|path| path.contains("copy")),
        "{to}: {paths:?}"
    );

    let mut verify = ferry();
    let verified = verify.args(["--json", "verify"]).output().unwrap();
    let results: Vec<String> = stdout_of(&verified)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .map(|line| line["result"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(results.len(), 10, "{to}: {}", stdout_of(&verified));
    assert!(
        results.iter().all(|result| result == expected),
        "{to}: {results:?}"
    );
}

/// `n` files of 8 MiB, each with 16 bytes of its own at the start and
/// holes after (cheap to make, hashed like any other bytes).
fn sparse_clips(folder: &Path, n: u32) {
    use std::io::Write;
    std::fs::create_dir_all(folder).unwrap();
    for i in 0..n {
        let mut file = std::fs::File::create(folder.join(format!("MVI_{i:04}.MP4"))).unwrap();
        file.write_all(format!("clip {i:011}").as_bytes()).unwrap();
        file.set_len(8 << 20).unwrap();
    }
}

/// 40 files of 8 MiB are 320 MiB, more than the 192 MiB the hashing may
/// read ahead of the upload: the scan cannot end before uploads have
/// started, however fast the hashing is.
#[test]
fn a_sync_uploads_its_first_files_while_it_still_hashes_the_rest() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    sparse_clips(&source, 40);
    let dest = env.path().join("backup");
    let output = run_ok(
        env.ferry()
            .args(["--json", "sync"])
            .arg(&source)
            .args(["--to", dest.to_str().unwrap()]),
    );
    let lines: Vec<serde_json::Value> = stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let at = |kind: &str| lines.iter().position(|line| line["type"] == kind).unwrap();
    let types: Vec<&str> = lines
        .iter()
        .map(|line| line["type"].as_str().unwrap())
        .collect();
    // (Their ends are recorded after shared syncs, which may come later.)
    assert!(
        at("job_started") < at("scan_summary"),
        "the upload waited for the whole scan: {types:?}"
    );
    // The totals grew as the scan handed jobs over, to all of them.
    let last_total = lines
        .iter()
        .rfind(|line| line["type"] == "upload_started" || line["type"] == "upload_grew")
        .unwrap();
    assert_eq!(last_total["jobs"], 40, "{last_total}");
    assert_eq!(last_total["bytes"], 40 * (8 << 20), "{last_total}");
    assert_eq!(tree(&dest), tree(&source));
}

/// A sync whose scan fails (here the job limit) sends none of the jobs an
/// earlier run left pending and clears nothing: the scan never looked at
/// all the files it would have cleared.
#[test]
fn a_sync_whose_scan_fails_sends_no_earlier_job_and_clears_nothing() {
    let env = TestEnv::new();
    let earlier = env.path().join("earlier");
    files(&earlier, 2, |i| format!("IMG_{i}.JPG"), (40, 5_000));
    let card = env.path().join("card");
    files(&card, 4, |i| format!("IMG_{i}.JPG"), (60, 5_000));
    let dest = env.path().join("backup");
    let to = dest.to_str().unwrap();
    run_ok(env.ferry().arg("scan").arg(&earlier).args(["--to", to]));
    let output = env
        .ferry()
        .args(["--job-limit", "3", "sync", "--delete-after"])
        .arg(&card)
        .args(["--to", to])
        .output()
        .unwrap();
    let stderr = crate::util::stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // The jobs that hold the limit: the earlier run's two and the one
    // queued now; pending ones leave once uploaded or cancelled.
    assert!(
        stderr.contains("job limit reached: 3 jobs are not yet acknowledged (limit 3)")
            && stderr.contains("ferry cancel --pending"),
        "{stderr}"
    );
    // The job the scan queued before the limit went up (and its file may
    // leave the card, confirmed); the earlier run's two stay pending.
    let stored = tree(&dest);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (name, sha) = stored.iter().next().unwrap();
    assert_eq!(tree(&card).get(name).unwrap_or(sha), sha);
    assert!(tree(&card).len() >= 3, "{stderr}");
    let listed = run_ok(env.ferry().args(["jobs", "--json", "--state", "pending"]));
    let pending: Vec<String> = stdout_of(&listed)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .map(|job| {
            job["resource"]["root"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert!(
        pending.iter().all(|root| root.ends_with("earlier")),
        "{pending:?}"
    );
}

#[test]
fn killed_in_mid_sync_a_local_folder_and_ferry_serve_end_whole_on_every_protocol() {
    let env = TestEnv::new();
    card(&env.path().join("card"));
    let folder = env.path().join("backup");
    let ferry = || env.ferry();
    killed_and_finished(&env, &ferry, folder.to_str().unwrap(), "verified");
    assert_eq!(tree(&folder), wanted(&env.path().join("card")));

    let server = Server::start(&env.path().join("dest"), &[]);
    for protocol in ["ietf", "tus", "put", "bits"] {
        let journal = env.path().join(format!("{protocol}.jsonl"));
        let ferry = || {
            let mut command = env.ferry();
            command
                .env("FERRY_JOURNAL", &journal)
                .env("FERRY_PROTOCOL", protocol);
            command
        };
        let to = server.url(&format!("/files/{protocol}/"));
        // ferry serve answers a HEAD with the stored file's digest, on
        // every protocol.
        killed_and_finished(&env, &ferry, &to, "verified");
        assert_eq!(
            tree(&server.dir.join(protocol)),
            wanted(&env.path().join("card")),
            "{protocol}"
        );
    }
}

#[test]
fn killed_in_mid_sync_s3_and_sftp_end_whole() {
    let env = TestEnv::new();
    card(&env.path().join("card"));
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let journal = env.path().join("s3.jsonl");
    let ferry = || {
        let mut command = garage.ferry(&env);
        command.env("FERRY_JOURNAL", &journal);
        command
    };
    killed_and_finished(&env, &ferry, "s3://photos/card/", "verified");
    let stored = garage.digests("photos");
    let card: Vec<(String, String)> = wanted(&env.path().join("card"))
        .into_iter()
        .map(|(path, sha)| (format!("card/{}", path.display()), sha))
        .collect();
    assert_eq!(stored.into_iter().collect::<Vec<_>>(), card);

    let sshd = Sshd::start();
    let folder = env.path().join("over-ssh");
    let journal = env.path().join("sftp.jsonl");
    let ferry = || {
        let mut command = sshd.ferry(&env);
        command.env("FERRY_JOURNAL", &journal);
        command
    };
    killed_and_finished(&env, &ferry, &sshd.url(&folder), "verified");
    assert_eq!(tree(&folder), wanted(&env.path().join("card")));
}

/// Ctrl-C during a copy to a local folder under `--bwlimit`: the copy
/// stops at its next buffer, and ferry exits 130 with its summary, no
/// panic, and the next run resumes. Before, the run dropped the copy and
/// shut its runtime down while the copy's thread still paced on it:
/// "A Tokio 1.x context was found, but it is being shutdown".
#[test]
fn ctrl_c_during_a_paced_local_copy_stops_it_cleanly() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    write_file(&source.join("clip.mov"), &content(7, 24 << 20));
    let dest = env.path().join("backup");
    let mut child = env
        .ferry()
        .args(["--json", "sync", "--bwlimit", "8M"])
        .arg(&source)
        .args(["--to", dest.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while events.read_line(&mut line).unwrap() > 0 && !line.contains("\"type\":\"progress\"") {
        line.clear();
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    std::thread::spawn(move || std::io::copy(&mut events, &mut std::io::sink()));
    let output = child.wait_with_output().unwrap();
    let stderr = crate::util::stderr_of(&output);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let again = run_ok(
        env.ferry()
            .args(["sync"])
            .arg(&source)
            .args(["--to", dest.to_str().unwrap()]),
    );
    assert!(
        crate::util::stderr_of(&again).contains("resumed"),
        "{}",
        crate::util::stderr_of(&again)
    );
    assert_eq!(tree(&dest), tree(&source));
}

/// The job limit's message counts the jobs that hold it, not the limit,
/// in the singular for one (a new user met "2 jobs" with 5 pending, and
/// "1 jobs").
#[test]
fn the_job_limit_names_the_jobs_that_hold_it() {
    let env = TestEnv::new();
    let earlier = env.path().join("earlier");
    files(&earlier, 5, |i| format!("IMG_{i}.JPG"), (80, 3_000));
    let dest = env.path().join("backup");
    let to = dest.to_str().unwrap();
    run_ok(env.ferry().arg("scan").arg(&earlier).args(["--to", to]));
    let card = env.path().join("card");
    write_file(&card.join("IMG_9.JPG"), &content(99, 3_000));
    for (limit, said) in [("2", "5 jobs are"), ("1", "5 jobs are")] {
        let output = env
            .ferry()
            .args(["--job-limit", limit, "scan"])
            .arg(&card)
            .args(["--to", to])
            .output()
            .unwrap();
        let stderr = crate::util::stderr_of(&output);
        let wanted = format!("job limit reached: {said} not yet acknowledged (limit {limit})");
        assert!(stderr.contains(&wanted), "{stderr}");
    }
    run_ok(env.ferry().args(["cancel", "--pending"]));
    run_ok(env.ferry().args(["ack", "--all"]));
    let other = env.path().join("other");
    write_file(&other.join("a.jpg"), &content(1, 3_000));
    write_file(&other.join("b.jpg"), &content(2, 3_000));
    let output = env
        .ferry()
        .args(["--job-limit", "1", "scan"])
        .arg(&other)
        .args(["--to", to])
        .output()
        .unwrap();
    let stderr = crate::util::stderr_of(&output);
    assert!(
        stderr.contains("job limit reached: 1 job is not yet acknowledged (limit 1)"),
        "{stderr}"
    );
}
