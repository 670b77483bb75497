//! `ferry verify` against `ferry serve`, a local folder and moto: what a
//! sync uploaded is verified; a file removed or changed at the destination
//! is reported missing or different (exit 3), and `--requeue` then
//! `ferry upload` repairs it.

use std::path::Path;
use std::process::Command;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::s3::Store;
use crate::upload::{photos, run_ok};
use crate::util::{TestEnv, stderr_of, stdout_of, write_file};

/// `ferry verify --json ARGS`: its exit code and each job's result by path.
fn verify(command: &mut Command, args: &[&str]) -> (i32, Vec<(String, String)>) {
    let output = command
        .args(["--json", "verify"])
        .args(args)
        .output()
        .unwrap();
    let mut results: Vec<(String, String)> = stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .map(|line| {
            let path = line["path"].as_str().unwrap().to_owned();
            (path, line["result"].as_str().unwrap().to_owned())
        })
        .collect();
    results.sort();
    (output.status.code().unwrap(), results)
}

fn all(results: &[(String, String)], result: &str) -> bool {
    !results.is_empty() && results.iter().all(|(_, found)| found == result)
}

fn result_of<'a>(results: &'a [(String, String)], path: &str) -> &'a str {
    let found = results.iter().find(|(at, _)| at.ends_with(path));
    found.map_or("none", |(_, result)| result.as_str())
}

/// Syncs 12 photos to `to`, verifies, damages two files at `stored` (the
/// folder the destination keeps them in), and repairs them.
fn damage_and_repair(env: &TestEnv, to: &str, stored: &Path) {
    let source = env.path().join("card");
    photos(&source, 12);
    run_ok(env.ferry().arg("sync").arg(&source).args(["--to", to]));
    let (code, results) = verify(&mut env.ferry(), &[]);
    assert_eq!((code, results.len()), (0, 12), "{results:?}");
    assert!(all(&results, "verified"), "{results:?}");

    let removed = stored.join("00/IMG_0000.jpg");
    let changed = stored.join("01/IMG_0001.jpg");
    std::fs::remove_file(&removed).unwrap();
    write_file(&changed, b"not the photo any more");
    let (code, results) = verify(&mut env.ferry(), &["--requeue"]);
    assert_eq!(code, 3, "{results:?}");
    assert_eq!(result_of(&results, "IMG_0000.jpg"), "missing");
    assert_eq!(result_of(&results, "IMG_0001.jpg"), "different");
    assert_eq!(results.iter().filter(|(_, r)| r == "verified").count(), 10);

    let again = run_ok(env.ferry().arg("upload"));
    assert!(
        stderr_of(&again).contains("uploaded 2 files"),
        "{}",
        stderr_of(&again)
    );
    let (code, results) = verify(&mut env.ferry(), &[]);
    assert_eq!(code, 0, "{results:?}");
    assert!(all(&results, "verified"), "{results:?}");
    let restored = std::fs::read(&removed).unwrap();
    assert_eq!(
        restored,
        std::fs::read(source.join("00/IMG_0000.jpg")).unwrap()
    );
}

#[test]
fn ferry_serve_missing_and_different_files_are_found_and_repaired() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    damage_and_repair(&env, &server.url("/files/"), &server.dir);
}

/// The README writes ferry serve's URL as `…/files`, and a user may write
/// a folder below it without its slash (`…/files/ietf`): on every protocol
/// the files land in that folder under their own names, and verify (and
/// so clearing a card) finds them there rather than reporting them missing.
#[test]
fn a_ferry_serve_url_without_its_trailing_slash_is_a_folder_on_every_protocol() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let source = env.path().join("card");
    photos(&source, 4);
    let wanted = crate::upload::tree(&source);
    for (folder, protocol) in [
        ("", "auto"),
        ("ietf", "ietf"),
        ("tus", "tus"),
        ("put", "put"),
        ("bits", "bits"),
    ] {
        let to = server.url(&format!(
            "/files{}",
            if folder.is_empty() {
                String::new()
            } else {
                format!("/{folder}")
            }
        ));
        let journal = env.path().join(format!("{protocol}.jsonl"));
        let mut command = env.ferry();
        command.env("FERRY_JOURNAL", &journal);
        run_ok(
            command
                .arg("sync")
                .arg(&source)
                .args(["--to", &to, "--protocol", protocol]),
        );
        let mut command = env.ferry();
        command.env("FERRY_JOURNAL", &journal);
        let (code, results) = verify(&mut command, &[]);
        assert_eq!((code, results.len()), (0, 4), "{to}: {results:?}");
        assert!(all(&results, "verified"), "{to}: {results:?}");
        if !folder.is_empty() {
            assert_eq!(
                crate::upload::tree(&server.dir.join(folder)),
                wanted,
                "{to}"
            );
        }
    }
}

#[test]
fn a_local_folder_is_verified_by_hashing_it_again() {
    let env = TestEnv::new();
    let folder = env.path().join("backup");
    damage_and_repair(&env, folder.to_str().unwrap(), &folder);
    // --to picks one destination's jobs; another's are left out.
    let (code, results) = verify(&mut env.ferry(), &["--to", folder.to_str().unwrap()]);
    assert_eq!((code, results.len()), (0, 12), "{results:?}");
}

/// A verify that would check nothing is no pass: a mistyped `--to`, or a
/// cron job that reads another journal (another HOME), fails and says
/// which journal and destination it looked at.
#[test]
fn a_verify_that_would_check_nothing_fails_and_names_what_it_looked_at() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    photos(&source, 2);
    let folder = env.path().join("backup");
    // Queued, not uploaded yet.
    run_ok(
        env.ferry()
            .arg("scan")
            .arg(&source)
            .arg("--to")
            .arg(&folder),
    );
    let output = env.ferry().arg("verify").output().unwrap();
    let said = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    let journal = env.journal();
    assert!(
        said.contains(&format!(
            "nothing to verify: no job in the journal {} has been uploaded yet",
            journal.display()
        )),
        "{said}"
    );
    assert!(!said.contains("verified 0"), "{said}");

    run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .arg("--to")
            .arg(&folder),
    );
    let elsewhere = env.path().join("elsewhere");
    let output = env
        .ferry()
        .args(["verify", "--to"])
        .arg(&elsewhere)
        .output()
        .unwrap();
    let said = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("was uploaded to {}", elsewhere.display()))
            && said.contains("ferry jobs --state succeeded"),
        "{said}"
    );
}

/// Copies lost at the destination after the sync that uploaded them
/// cleared their sources: one whose source is gone, or has another file at
/// its path, is not requeued (no upload could succeed), and its line says
/// which copy, if any, is left; one moved back where it was is requeued.
#[test]
fn a_job_whose_source_was_cleared_is_not_requeued_and_says_where_the_copy_is() {
    use crate::util::content;
    let env = TestEnv::new();
    let (a, b, kept, backup) = (
        env.path().join("a"),
        env.path().join("b"),
        env.path().join("kept"),
        env.path().join("backup"),
    );
    for (n, name) in ["a/A0.jpg", "a/A1.jpg", "b/B0.jpg", "b/B1.jpg"]
        .iter()
        .enumerate()
    {
        write_file(&env.path().join(name), &content(40 + n as u32, 3000));
    }
    let to = backup.to_str().unwrap();
    run_ok(
        env.ferry()
            .args(["sync", "--delete-after"])
            .arg(&a)
            .args(["--to", to]),
    );
    run_ok(
        env.ferry()
            .args(["sync", "--move-to"])
            .arg(&kept)
            .arg(&b)
            .args(["--to", to]),
    );
    assert!(!a.join("A0.jpg").exists() && !b.join("B0.jpg").exists());
    write_file(&a.join("A1.jpg"), b"another photo, taken later");
    std::fs::rename(kept.join("B1.jpg"), b.join("B1.jpg")).unwrap();
    for name in ["A0.jpg", "A1.jpg", "B0.jpg", "B1.jpg"] {
        std::fs::remove_file(backup.join(name)).unwrap();
    }

    let output = env.ferry().args(["verify", "--requeue"]).output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let said = |source: &Path, why: &str| format!("not requeued: {}: {why}", source.display());
    for line in [
        said(
            &a.join("A0.jpg"),
            "its source was deleted after its upload (--delete-after): ferry knows of no copy left",
        ),
        said(
            &a.join("A1.jpg"),
            "its source was deleted after its upload (--delete-after), and the file at its path now is another: ferry knows of no copy left",
        ),
        said(
            &b.join("B0.jpg"),
            &format!(
                "its source was moved to {} after its upload (--move-to): that is the copy left",
                kept.join("B0.jpg").display()
            ),
        ),
        "requeued 1 job".to_owned(),
    ] {
        assert!(stderr.contains(&line), "no {line:?} in {stderr}");
    }
    assert!(!stderr.contains("B1.jpg"), "{stderr}");
    let again = run_ok(env.ferry().arg("upload"));
    assert!(
        stderr_of(&again).contains("uploaded 1 file"),
        "{}",
        stderr_of(&again)
    );
    assert!(backup.join("B1.jpg").exists());
}

#[test]
fn s3_objects_are_checked_with_head_object() {
    let env = TestEnv::new();
    let moto = Store::moto(&env.path().join("moto.log"), "photos");
    let source = env.path().join("card");
    photos(&source, 4);
    run_ok(
        moto.ferry(&env)
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/card/"]),
    );
    let (code, results) = verify(&mut moto.ferry(&env), &[]);
    assert_eq!(code, 0, "{results:?}");
    assert!(all(&results, "verified"), "{results:?}");

    moto.tool(&["delete", "photos", "card/00/IMG_0000.jpg"]);
    let other = env.path().join("other.jpg");
    write_file(&other, b"other content");
    moto.tool(&[
        "put",
        "photos",
        "card/01/IMG_0001.jpg",
        other.to_str().unwrap(),
    ]);
    let (code, results) = verify(&mut moto.ferry(&env), &["--requeue"]);
    assert_eq!(code, 3, "{results:?}");
    assert_eq!(result_of(&results, "IMG_0000.jpg"), "missing");
    assert_eq!(result_of(&results, "IMG_0001.jpg"), "different");
    // The different object is ferry's to replace only with --overwrite.
    run_ok(moto.ferry(&env).args(["upload", "--overwrite"]));
    let (code, results) = verify(&mut moto.ferry(&env), &[]);
    assert_eq!(code, 0, "{results:?}");
    assert!(all(&results, "verified"), "{results:?}");
}

#[test]
fn a_tus_server_is_checked_by_size_only_and_says_so() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    photos(&source, 3);
    let store = env.path().join("tus-node");
    std::fs::create_dir_all(&store).unwrap();
    let peer = crate::upload::Peer::tus_node(&store);
    run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &peer.url]),
    );
    let (code, results) = verify(&mut env.ferry(), &[]);
    assert_eq!(code, 0, "{results:?}");
    let shown = stdout_of(&env.ferry().args(["--json", "verify"]).output().unwrap());
    assert!(all(&results, "size_only"), "{shown}");
    let text = stderr_of(&env.ferry().arg("verify").output().unwrap());
    assert!(text.contains("verified 0, size only 3"), "{text}");
}

/// Syncs `n` photos to a fresh ferry serve through a fault proxy scripted
/// with `faults`.
fn synced_through(n: u32, faults: &[Fault]) -> (TestEnv, Server, FaultProxy) {
    let env = TestEnv::new();
    let source = env.path().join("card");
    photos(&source, n);
    let server = Server::start(&env.path().join("dest"), &[]);
    let proxy = FaultProxy::start(server.address, faults);
    let url = format!("http://{}/files/", proxy.address);
    run_ok(env.ferry().arg("sync").arg(&source).args(["--to", &url]));
    (env, server, proxy)
}

#[test]
fn a_5xx_or_429_during_a_check_is_retried_as_on_every_other_request() {
    // How many requests a sync of one photo makes, so that the faults below
    // fall on verify's HEAD and not on the upload.
    let sync_through = |faults: &[Fault]| synced_through(1, faults);
    let (_, _, counted) = sync_through(&[]);
    let upload_requests = counted.requests().len();
    let mut faults = vec![Fault::Pass; upload_requests];
    faults.extend([Fault::Status(503), Fault::TooManyRequests(0)]);
    let (env, _server, proxy) = sync_through(&faults);
    let (code, results) = verify(&mut env.ferry(), &[]);
    assert_eq!(code, 0, "{results:?}");
    assert!(all(&results, "verified"), "{results:?}");
    assert_eq!(proxy.remaining(), 0, "both faults met verify's HEAD");
    assert_eq!(proxy.requests().len(), upload_requests + 3);
}

#[test]
fn a_local_copy_whose_name_is_not_utf8_is_found_again() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let source = env.path().join("card");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.jpg");
    write_file(&source.join(name), b"a photo with a Latin-1 name");
    let folder = env.path().join("backup");
    run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", folder.to_str().unwrap()]),
    );
    assert_eq!(
        std::fs::read(folder.join(name)).unwrap(),
        b"a photo with a Latin-1 name"
    );
    let (code, results) = verify(&mut env.ferry(), &[]);
    assert_eq!((code, results.len()), (0, 1), "{results:?}");
    assert!(all(&results, "verified"), "{results:?}");
    std::fs::remove_file(folder.join(name)).unwrap();
    let (code, results) = verify(&mut env.ferry(), &[]);
    assert_eq!(code, 3, "{results:?}");
    assert!(all(&results, "missing"), "{results:?}");
}

#[test]
fn refused_credentials_end_verify_with_exit_1_and_an_unchecked_file_is_not_a_pass() {
    let env = TestEnv::new();
    let token_file = env.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let token = ["--token-file", token_file.to_str().unwrap()];
    let server = Server::start(&env.path().join("dest"), &token);
    let source = env.path().join("card");
    photos(&source, 3);
    let url = server.url("/files/");
    run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &url])
            .args(token),
    );
    let (code, results) = verify(&mut env.ferry(), &token);
    assert_eq!(code, 0, "{results:?}");
    assert!(all(&results, "verified"), "{results:?}");

    let output = env.ferry().args(["-q", "verify"]).output().unwrap();
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("--token-file"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn a_file_that_could_not_be_checked_is_not_a_pass() {
    let sync_through = |faults: &[Fault]| synced_through(3, faults);
    let (_, _, counted) = sync_through(&[]);
    // The upload's requests pass; then every HEAD meets a 400.
    let mut faults = vec![Fault::Pass; counted.requests().len()];
    faults.extend(vec![Fault::Status(400); 3]);
    let (env, _server, proxy) = sync_through(&faults);
    let output = env.ferry().args(["-q", "verify"]).output().unwrap();
    let (out, err) = (stdout_of(&output), stderr_of(&output));
    assert_eq!(output.status.code(), Some(3), "{out}{err}");
    assert_eq!(
        out.matches("unknown ").count(),
        3,
        "even -q names them: {out}"
    );
    assert!(err.contains("unknown 3"), "{err}");
    assert_eq!(proxy.remaining(), 0);
}

#[test]
fn every_report_names_the_file_the_destination_wrote() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let to = server.url("/files/");
    let card = env.path().join("card");
    let photo = card.join("2025/Trip/beach day.jpg");
    write_file(&photo, b"the first version of the beach");
    run_ok(env.ferry().arg("sync").arg(&card).args(["--to", &to]));
    write_file(&photo, b"the beach, edited afterwards");
    let output = run_ok(
        env.ferry()
            .args(["-v", "sync"])
            .arg(&card)
            .args(["--to", &to]),
    );
    let text = stderr_of(&output);
    assert!(
        text.contains("uploaded 2025/Trip/beach day.jpg as 2025/Trip/beach day (1).jpg"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(server.dir.join("2025/Trip/beach day (1).jpg")).unwrap(),
        b"the beach, edited afterwards"
    );
    let jobs = stdout_of(&run_ok(env.ferry().arg("jobs")));
    assert!(
        jobs.contains("beach day.jpg as 2025/Trip/beach day (1).jpg"),
        "{jobs}"
    );

    let output = run_ok(env.ferry().args(["verify", "--json"]));
    let stored: Vec<String> = stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .map(|line| line["stored"].as_str().unwrap_or("none").to_owned())
        .collect();
    assert!(
        stored.contains(&"2025/Trip/beach day (1).jpg".to_owned()),
        "{stored:?}"
    );
    let output = run_ok(env.ferry().arg("verify"));
    assert!(
        stdout_of(&output).contains("beach day.jpg as 2025/Trip/beach day (1).jpg"),
        "{}",
        stdout_of(&output)
    );

    // The JSON event of an upload says where it went too.
    let other = env.path().join("other");
    write_file(&other.join("2025/Trip/beach day.jpg"), b"a third beach");
    let output = run_ok(
        env.ferry()
            .args(["--json", "sync"])
            .arg(&other)
            .args(["--to", &to]),
    );
    let succeeded = stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|line| line["type"] == "succeeded")
        .expect("a succeeded event");
    assert_eq!(
        succeeded["stored"], "2025/Trip/beach day (2).jpg",
        "{succeeded}"
    );

    // A destination's own folder in front of the path is not another name.
    let third = env.path().join("third");
    write_file(&third.join("IMG_9.jpg"), b"a photo for a subfolder");
    let sub = server.url("/files/c3/");
    let output = run_ok(env.ferry().arg("sync").arg(&third).args(["--to", &sub]));
    assert!(
        stderr_of(&output).contains("uploaded IMG_9.jpg ("),
        "{}",
        stderr_of(&output)
    );
    assert!(server.dir.join("c3/IMG_9.jpg").exists());
}

#[test]
fn retries_bound_the_check_of_an_unreachable_destination() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    photos(&card, 2);
    let server = Server::start(&env.path().join("dest"), &[]);
    let url = server.url("/files/");
    run_ok(env.ferry().arg("sync").arg(&card).args(["--to", &url]));
    // Its port closed: every check meets a refused connection.
    drop(server);
    let started = std::time::Instant::now();
    let output = env
        .ferry()
        .args(["verify", "--retries", "0"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains("unknown 2"),
        "{}",
        stderr_of(&output)
    );
    assert!(
        took < std::time::Duration::from_secs(10),
        "--retries 0 still took {took:?}"
    );
}
