//! `ferry scan`: walking, filtering, hashing, dedupe and bad input.

use std::path::{Path, PathBuf};

use ferry::journal::job::{Destination, Protocol, State};
use ferry::journal::store::{OpenOptions, Store};
use ferry::scan::{ScanEvent, ScanOptions, ScanSummary};
use sha2::{Digest, Sha256};

use crate::util::{TestEnv, content, stderr_of, stdout_of, without_root_privileges, write_file};

fn photos(env: &TestEnv) -> PathBuf {
    env.path().join("photos")
}

fn dest(env: &TestEnv) -> String {
    env.path().join("backup").display().to_string()
}

/// Runs `ferry --json scan photos --to backup <extra>`; returns exit code and summary.
fn scan_json(env: &TestEnv, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let output = env
        .ferry()
        .args(["--json", "scan"])
        .arg(photos(env))
        .arg("--to")
        .arg(dest(env))
        .args(extra)
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    let summary = stdout
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|value| value["type"] == "scan_summary")
        .unwrap_or_else(|| panic!("no summary: {stdout}\n{}", stderr_of(&output)));
    (output.status.code().unwrap(), summary, stderr_of(&output))
}

fn queued_paths(env: &TestEnv) -> Vec<String> {
    let store = Store::open_read_only(&env.journal()).unwrap();
    let mut paths: Vec<String> = store
        .jobs()
        .iter()
        .filter(|job| job.state == State::Pending)
        .map(|job| job.resource.path.display().to_string())
        .collect();
    paths.sort();
    paths
}

#[test]
fn media_is_kept_and_junk_hidden_and_other_files_are_not() {
    let env = TestEnv::new();
    let root = photos(&env);
    for (i, name) in [
        "DCIM/IMG_0001.HEIC",
        "DCIM/IMG_0002.jpg",
        "DCIM/DSC_0003.NEF",
        "Videos/clip.MOV",
        "Videos/clip.mts",
        "audio/memo.m4a",
        "notes.txt",
        "DCIM/IMG_0001.xmp",
        "DCIM/IMG_0009.xmp",
        "@eaDir/IMG_0001.jpg/SYNOPHOTO_THUMB_XL.jpg",
        "DCIM/._IMG_0002.jpg",
        "DCIM/.DS_Store",
        "Thumbs.db",
        ".hidden/secret.jpg",
        "DCIM/.trashed-1.jpg",
    ]
    .iter()
    .enumerate()
    {
        write_file(&root.join(name), &content(i as u32, 100));
    }
    let (code, summary, stderr) = scan_json(&env, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        queued_paths(&env),
        [
            "DCIM/DSC_0003.NEF",
            "DCIM/IMG_0001.HEIC",
            "DCIM/IMG_0001.xmp",
            "DCIM/IMG_0002.jpg",
            "Videos/clip.MOV",
            "Videos/clip.mts",
            "audio/memo.m4a"
        ]
    );
    // A sidecar comes with the photo of its name; one with none needs
    // --sidecars.
    assert_eq!(summary["queued"], 7);

    let env2 = TestEnv::new();
    std::fs::rename(&root, photos(&env2)).unwrap();
    let (_, summary, _) = scan_json(&env2, &["--sidecars", "--hidden", "--no-default-excludes"]);
    let paths = queued_paths(&env2);
    assert!(paths.contains(&"DCIM/IMG_0009.xmp".to_owned()), "{paths:?}");
    assert!(
        paths.contains(&".hidden/secret.jpg".to_owned()),
        "{paths:?}"
    );
    assert!(paths.contains(&"@eaDir/IMG_0001.jpg/SYNOPHOTO_THUMB_XL.jpg".to_owned()));
    assert!(!paths.contains(&"notes.txt".to_owned()));
    assert_eq!(summary["queued"], 12, "{summary}");

    let env3 = TestEnv::new();
    std::fs::rename(photos(&env2), photos(&env3)).unwrap();
    let (_, summary, _) = scan_json(&env3, &["--all-files"]);
    assert!(queued_paths(&env3).contains(&"notes.txt".to_owned()));
    assert_eq!(summary["queued"], 9, "{summary}");
}

#[test]
fn include_and_exclude_globs_do_not_depend_on_order() {
    let env = TestEnv::new();
    let root = photos(&env);
    for (i, name) in [
        "2023/a.jpg",
        "2023/b.png",
        "2024/c.jpg",
        "2024/private/d.jpg",
        "e.jpg",
    ]
    .iter()
    .enumerate()
    {
        write_file(&root.join(name), &content(i as u32, 50));
    }
    let mut results = Vec::new();
    for args in [
        &[
            "--include",
            "*.jpg",
            "--exclude",
            "private/",
            "--exclude",
            "/2023",
        ][..],
        &[
            "--exclude",
            "/2023",
            "--exclude",
            "private/",
            "--include",
            "*.jpg",
        ],
    ] {
        let env = TestEnv::new();
        copy_tree(&root, &photos(&env));
        let (code, _, stderr) = scan_json(&env, args);
        assert_eq!(code, 0, "{stderr}");
        results.push(queued_paths(&env));
    }
    assert_eq!(results[0], ["2024/c.jpg", "e.jpg"]);
    assert_eq!(results[0], results[1]);
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn size_depth_and_age_limits() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("small.jpg"), &content(1, 10));
    write_file(&root.join("big.jpg"), &content(2, 5000));
    write_file(&root.join("a/b/deep.jpg"), &content(3, 100));
    write_file(&root.join("empty.jpg"), b"");
    let (_, summary, _) = scan_json(&env, &["--dry-run", "--min-size", "11", "--max-size", "4k"]);
    assert_eq!(summary["queued"], 1, "{summary}");
    assert_eq!(summary["skipped"], 3, "{summary}");
    let (_, summary, _) = scan_json(&env, &["--dry-run", "--max-depth", "1"]);
    assert_eq!(summary["queued"], 2, "{summary}");
    let (_, summary, _) = scan_json(&env, &["--dry-run", "--min-age", "1h"]);
    assert_eq!(summary["queued"], 0, "{summary}");
    // Empty files are left out by the default --min-size of 1 byte.
    let (_, summary, _) = scan_json(&env, &["--dry-run"]);
    assert_eq!(summary["queued"], 3, "{summary}");
    let (_, summary, _) = scan_json(&env, &["--dry-run", "--min-size", "0"]);
    assert_eq!(summary["queued"], 4, "{summary}");
}

#[test]
fn dry_run_says_what_would_be_queued_and_writes_nothing() {
    let env = TestEnv::new();
    write_file(&photos(&env).join("a.jpg"), &content(1, 10));
    let output = env
        .ferry()
        .arg("scan")
        .arg(photos(&env))
        .args(["--to", "/tmp/nowhere", "--dry-run"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stdout_of(&output).starts_with("would queue "),
        "{}",
        stdout_of(&output)
    );
    assert!(stdout_of(&output).contains("a.jpg"));
    assert!(!env.journal().exists(), "a dry run wrote the journal");
}

#[test]
fn same_content_makes_one_job_and_a_rescan_queues_nothing() {
    let env = TestEnv::new();
    let root = photos(&env);
    let same = content(7, 4096);
    write_file(&root.join("a/IMG_1.jpg"), &same);
    write_file(&root.join("b/IMG_1 copy.jpg"), &same);
    write_file(&root.join("c.jpg"), &content(8, 100));
    let (_, first, _) = scan_json(&env, &[]);
    assert_eq!(
        (first["queued"].as_u64(), first["duplicates"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(queued_paths(&env), ["a/IMG_1.jpg", "c.jpg"]);

    let (code, again, _) = scan_json(&env, &[]);
    assert_eq!(code, 0);
    assert_eq!(again["queued"], 0);
    assert_eq!(again["hashed"], 0, "unchanged files were read again");
    assert_eq!(again["unchanged"], 3);

    let (_, rehash, _) = scan_json(&env, &["--rehash"]);
    assert_eq!(
        (rehash["hashed"].as_u64(), rehash["queued"].as_u64()),
        (Some(3), Some(0))
    );

    // Another destination is another set of jobs.
    let output = env
        .ferry()
        .arg("scan")
        .arg(&root)
        .args(["--to", "http://127.0.0.1:9/files"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        Store::open_read_only(&env.journal()).unwrap().jobs().len(),
        4
    );
}

#[test]
fn unchanged_files_are_not_opened_on_a_rescan() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("a.jpg"), &content(1, 1000));
    write_file(&root.join("b.jpg"), &content(2, 1000));
    scan_json(&env, &[]);
    for name in ["a.jpg", "b.jpg"] {
        let path = root.join(name);
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
        std::fs::set_permissions(&path, perms).unwrap();
    }
    let mut command = env.ferry();
    command
        .args(["--json", "scan"])
        .arg(&root)
        .arg("--to")
        .arg(dest(&env));
    let output = without_root_privileges(command).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(output.stderr.is_empty(), "{}", stderr_of(&output));
    let summary: serde_json::Value =
        serde_json::from_str(stdout_of(&output).lines().last().unwrap()).unwrap();
    assert_eq!(summary["unchanged"], 2);
}

#[test]
fn a_changed_file_gets_a_new_job_and_supersedes_the_pending_one() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("edit.jpg"), &content(1, 1000));
    write_file(&root.join("copy/twin.jpg"), &content(2, 1000));
    write_file(&root.join("twin.jpg"), &content(2, 1000));
    scan_json(&env, &[]);
    write_file(&root.join("edit.jpg"), &content(3, 1200));
    write_file(&root.join("twin.jpg"), &content(4, 1200));
    let (_, summary, _) = scan_json(&env, &[]);
    assert_eq!(summary["queued"], 2, "{summary}");
    assert_eq!(summary["superseded"], 1, "{summary}");
    let store = Store::open_read_only(&env.journal()).unwrap();
    let by_path = |path: &str, sha: &[u8]| {
        let sha = ferry::digest::Sha256(Sha256::digest(sha).into());
        store
            .jobs()
            .iter()
            .find(|job| {
                job.resource.path.display().to_string() == path && job.resource.sha256 == sha
            })
            .map(|job| job.state)
    };
    assert_eq!(
        by_path("edit.jpg", &content(1, 1000)),
        Some(State::Cancelled)
    );
    assert_eq!(by_path("edit.jpg", &content(3, 1200)), Some(State::Pending));
    // The old content of twin.jpg still lives in copy/twin.jpg: the job moved there.
    assert_eq!(
        by_path("copy/twin.jpg", &content(2, 1000)),
        Some(State::Pending)
    );
    assert_eq!(by_path("twin.jpg", &content(4, 1200)), Some(State::Pending));
}

#[test]
fn unreadable_files_and_folders_are_warnings_and_the_scan_goes_on() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("ok.jpg"), &content(1, 100));
    write_file(&root.join("locked.jpg"), &content(2, 100));
    write_file(&root.join("closed/inside.jpg"), &content(3, 100));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.join("locked.jpg"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::set_permissions(root.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = env.ferry();
    command.arg("scan").arg(&root).arg("--to").arg(dest(&env));
    let output = without_root_privileges(command).output().unwrap();
    std::fs::set_permissions(root.join("closed"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("locked.jpg") && w.contains("ermission denied")),
        "{stderr}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("closed") && w.contains("ermission denied")),
        "{stderr}"
    );
    assert!(stderr.contains("2 warnings"), "{stderr}");
    assert_eq!(queued_paths(&env), ["ok.jpg"]);
}

fn library_scan(env: &TestEnv, on_walked: impl FnOnce()) -> (ScanSummary, Vec<String>) {
    library_scan_only(env, None, on_walked)
}

/// A scan of the library, of just `only` when given (as `ferry watch`'s
/// batches do).
fn library_scan_only(
    env: &TestEnv,
    only: Option<Vec<PathBuf>>,
    on_walked: impl FnOnce(),
) -> (ScanSummary, Vec<String>) {
    let store = Store::open(&env.journal(), &OpenOptions::default()).unwrap();
    let options = ScanOptions {
        roots: vec![photos(env)],
        destination: Destination::new(dest(env), Protocol::Local),
        filter: ferry::scan::filter::FilterOptions {
            default_excludes: true,
            ..Default::default()
        },
        follow_links: false,
        max_depth: None,
        min_size: 1,
        max_size: None,
        min_age: std::time::Duration::ZERO,
        rehash: false,
        dry_run: false,
        hash_threads: 2,
        only,
        video_clock: ferry::capture::VideoClock::Utc,
        layouts: None,
    };
    let mut warnings = Vec::new();
    let mut on_walked = Some(on_walked);
    let store = std::sync::Mutex::new(store);
    let summary = ferry::scan::scan(&store, &options, None, &mut |event| match event {
        ScanEvent::Walked { .. } => (on_walked.take().unwrap())(),
        ScanEvent::Warning { path, message } => {
            warnings.push(format!("{}: {message}", path.display()))
        }
        ScanEvent::Queued { .. }
        | ScanEvent::Scanned { .. }
        | ScanEvent::Carried { .. }
        | ScanEvent::Skipped { .. }
        | ScanEvent::Duplicate { .. }
        | ScanEvent::Held { .. } => {}
    })
    .unwrap();
    (summary, warnings)
}

#[test]
fn files_that_vanish_or_change_after_the_listing_are_skipped_with_a_warning() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("gone.jpg"), &content(1, 100));
    write_file(&root.join("growing.mov"), &content(2, 1 << 20));
    write_file(&root.join("steady.jpg"), &content(3, 100));
    let (summary, warnings) = library_scan(&env, || {
        std::fs::remove_file(root.join("gone.jpg")).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("growing.mov"))
            .unwrap();
        std::io::Write::write_all(&mut file, b"more frames").unwrap();
    });
    assert_eq!(summary.warnings, 2, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("gone.jpg") && w.contains("vanished")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("growing.mov") && w.contains("changed")),
        "{warnings:?}"
    );
    assert_eq!(summary.queued, 1);
    assert_eq!(queued_paths(&env), ["steady.jpg"]);
    // The next run picks the grown file up.
    let (summary, warnings) = library_scan(&env, || {});
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(summary.queued, 1);
}

#[test]
fn a_file_over_4_gib_is_hashed_correctly() {
    let env = TestEnv::new();
    let path = photos(&env).join("huge.mov");
    std::fs::create_dir_all(photos(&env)).unwrap();
    let size = (4u64 << 30) + 4097;
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(size - 5).unwrap();
    drop(file);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, b"tail!").unwrap();
    drop(file);

    let mut expected = Sha256::new();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size - 5;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        expected.update(&zeros[..n]);
        left -= n as u64;
    }
    expected.update(b"tail!");
    let expected = ferry::digest::Sha256(expected.finalize().into());

    let (code, summary, stderr) = scan_json(&env, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["hashed_bytes"], size);
    let store = Store::open_read_only(&env.journal()).unwrap();
    let job = &store.jobs()[0];
    assert_eq!(job.resource.size, size);
    assert_eq!(job.resource.sha256, expected);
}

#[test]
fn names_that_are_not_utf8_are_queued_exactly() {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let env = TestEnv::new();
    let raw = b"\xe9t\xe9 \xff.jpg".to_vec();
    let name = std::ffi::OsString::from_vec(raw.clone());
    write_file(&photos(&env).join(&name), &content(1, 10));
    let (code, summary, stderr) = scan_json(&env, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["queued"], 1);
    let store = Store::open_read_only(&env.journal()).unwrap();
    assert_eq!(
        store.jobs()[0]
            .resource
            .path
            .as_path()
            .as_os_str()
            .as_bytes(),
        raw.as_slice()
    );
    let listed = env.ferry().arg("jobs").output().unwrap();
    assert!(
        stdout_of(&listed).contains("\u{fffd}t\u{fffd} \u{fffd}.jpg"),
        "{}",
        stdout_of(&listed)
    );
}

#[test]
fn symlink_loops_are_reported_when_following_links() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("album/a.jpg"), &content(1, 10));
    std::os::unix::fs::symlink("..", root.join("album/loop")).unwrap();
    std::os::unix::fs::symlink("album/a.jpg", root.join("link.jpg")).unwrap();

    let (code, summary, stderr) = scan_json(&env, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["warnings"], 0);
    assert_eq!(summary["queued"], 1);

    let (code, summary, stderr) = scan_json(&env, &["--follow-links", "--dry-run"]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(summary["warnings"], 1);
    assert!(stderr.contains("symlink loop"), "{stderr}");
    assert!(
        stderr
            .lines()
            .filter(|l| l.starts_with("warning:"))
            .all(|l| l.contains("album/loop")),
        "{stderr}"
    );
}

#[test]
fn fifos_are_never_opened() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("a.jpg"), &content(1, 10));
    let status = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.jpg"))
        .status()
        .unwrap();
    assert!(status.success());
    let (code, summary, stderr) = scan_json(&env, &["--all-files"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["queued"], 1);
    assert_eq!(summary["skipped"], 1);
}

#[test]
fn a_missing_root_or_a_file_root_is_a_usage_error() {
    let env = TestEnv::new();
    write_file(&env.path().join("file.jpg"), b"x");
    for (root, words) in [("missing", "No such file"), ("file.jpg", "is a file")] {
        let output = env
            .ferry()
            .args(["scan", root, "--to", "/tmp/x"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(root) && stderr.contains(words), "{stderr}");
    }
}

#[test]
fn the_job_limit_stops_the_scan_with_a_clear_message() {
    let env = TestEnv::new();
    for i in 0..5 {
        write_file(&photos(&env).join(format!("{i}.jpg")), &content(i, 10));
    }
    let output = env
        .ferry()
        .args(["--job-limit", "3", "scan"])
        .arg(photos(&env))
        .args(["--to", "/tmp/x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("queued 3"), "{stderr}");
    let error = stderr.lines().last().unwrap();
    assert!(
        error.contains("job limit reached") && error.contains("ferry ack --succeeded"),
        "{stderr}"
    );
    assert_eq!(queued_paths(&env).len(), 3);
}

#[test]
fn a_file_that_grows_while_it_is_hashed_is_not_trusted() {
    let env = TestEnv::new();
    let root = photos(&env);
    write_file(&root.join("steady.jpg"), &content(1, 100));
    let growing = root.join("recording.mov");
    // Large enough that hashing it takes a while on a loaded machine too.
    let start = 192 << 20;
    crate::upload::write_big(&growing, start, 2);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let done = std::sync::Arc::clone(&done);
        let growing = growing.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(growing)
                .unwrap();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::io::Write::write_all(&mut file, &[7u8; 4096]).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
    };
    // The writer is running before the scan starts.
    while std::fs::metadata(&growing).unwrap().len() == start as u64 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let (code, summary, stderr) = scan_json(&env, &[]);
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(summary["warnings"], 1, "{summary}");
    let warning = stderr.lines().find(|l| l.starts_with("warning:")).unwrap();
    assert!(
        warning.contains("recording.mov") && warning.contains("changed while it was read"),
        "{stderr}"
    );
    assert_eq!(queued_paths(&env), ["steady.jpg"]);
}

#[test]
fn a_list_of_files_meets_the_rules_the_walk_applies_on_its_way_down() {
    let env = TestEnv::new();
    let root = photos(&env);
    let named = [
        "new/IMG_0001.jpg",
        "new/.thumbnails/t.jpg",
        "@eaDir/IMG_0001.jpg",
        "new/notes.txt",
        "new/empty.jpg",
    ];
    for name in named {
        let size = if name.ends_with("empty.jpg") { 0 } else { 500 };
        write_file(&root.join(name), &content(name.len() as u32, size));
    }
    write_file(&root.join("old.jpg"), &content(7, 500));
    let outside = env.path().join("elsewhere.jpg");
    write_file(&outside, &content(8, 500));
    std::os::unix::fs::symlink(&outside, root.join("new/link.jpg")).unwrap();

    let mut only: Vec<PathBuf> = named.iter().map(|name| root.join(name)).collect();
    only.extend([
        outside.clone(),
        root.join("new/link.jpg"),
        root.join("new/gone.jpg"),
        root.join("new"),
        // The same file twice, once through a path with `..` in it.
        root.join("new/../new/IMG_0001.jpg"),
    ]);
    let (summary, warnings) = library_scan_only(&env, Some(only), || {});
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(queued_paths(&env), ["new/IMG_0001.jpg"]);
    // Seen: the photo, the text file, the empty photo; left out by a rule:
    // the two pruned folders' files, the text file, the empty photo and
    // the symlink. old.jpg, which nobody named, is not looked at.
    assert_eq!((summary.seen, summary.queued), (3, 1), "{summary:?}");
    assert_eq!(summary.skipped, 5, "{summary:?}");
}
