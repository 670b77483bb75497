//! Many small files to a local folder, whose syncs are shared by batches:
//! SIGKILL at random moments never leaves a job marked succeeded whose file
//! is missing or short, and the next run finishes every file byte for byte.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use ferry::journal::job::State;
use ferry::journal::store::Store;

use crate::util::TestEnv;

const FILES: usize = 20_000;
const KILLS: usize = 10;

/// 20,000 files of 0 to 4 KiB, in 20 folders; returns their relative paths.
fn small_files(root: &Path) -> Vec<PathBuf> {
    let mut rng = fastrand::Rng::with_seed(31);
    (0..FILES)
        .map(|n| {
            let relative = PathBuf::from(format!("{:02}/IMG_{n:05}.jpg", n % 20));
            let mut bytes = vec![0u8; rng.usize(..4096)];
            rng.fill(&mut bytes);
            // Distinct content, so that no file is a duplicate of another.
            bytes.extend_from_slice(&(n as u32).to_le_bytes());
            let path = root.join(&relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
            relative
        })
        .collect()
}

/// Every job the journal marks succeeded has its whole file at the name
/// it recorded; returns how many there are.
fn succeeded_are_whole(journal: &Path, source: &Path, dest: &Path) -> usize {
    let store = Store::open_read_only(journal).unwrap();
    let mut succeeded = 0;
    for job in store
        .jobs()
        .iter()
        .filter(|job| job.state == State::Succeeded)
    {
        let response = job
            .response
            .as_ref()
            .expect("a succeeded job has a response");
        let stored = dest.join(&response.headers["path"]);
        let expected = std::fs::read(source.join(job.resource.path.as_path())).unwrap();
        let landed = std::fs::read(&stored)
            .unwrap_or_else(|error| panic!("{} is marked succeeded: {error}", stored.display()));
        assert!(
            landed == expected,
            "{} is marked succeeded but differs",
            stored.display()
        );
        succeeded += 1;
    }
    succeeded
}

#[test]
fn killed_ten_times_while_copying_20000_small_files_nothing_marked_done_is_missing() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    let dest = env.path().join("backup");
    let files = small_files(&source);
    let scan = env
        .ferry()
        .arg("scan")
        .arg(&source)
        .arg("--to")
        .arg(&dest)
        .arg("-q")
        .status();
    assert!(scan.unwrap().success());

    let mut rng = fastrand::Rng::with_seed(2026);
    let mut done_before = 0;
    let mut kills = 0;
    for _ in 0..KILLS {
        let mut upload = env
            .ferry()
            .args(["upload", "-q"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(150..900)));
        let finished = upload.try_wait().unwrap().is_some();
        upload.kill().unwrap();
        upload.wait().unwrap();
        kills += usize::from(!finished);
        let done = succeeded_are_whole(&env.journal(), &source, &dest);
        assert!(done >= done_before, "{done} succeeded after {done_before}");
        done_before = done;
        if finished {
            break;
        }
    }
    assert!(kills >= 3, "only {kills} runs were killed mid-way");

    let last = env.ferry().args(["upload", "-q"]).output().unwrap();
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    assert_eq!(succeeded_are_whole(&env.journal(), &source, &dest), FILES);
    // Each file once, at its own name, and no partial copy left over.
    let mut landed = HashSet::new();
    for relative in &files {
        assert_eq!(
            std::fs::read(dest.join(relative)).unwrap(),
            std::fs::read(source.join(relative)).unwrap(),
            "{}",
            relative.display()
        );
        landed.insert(relative.clone());
    }
    let stored = walk(&dest);
    let extra: Vec<_> = stored
        .iter()
        .filter(|path| !landed.contains(*path))
        .collect();
    assert!(extra.is_empty(), "files that no job put there: {extra:?}");
}

/// Relative paths of the files under `root`, leaving out ferry's own
/// `.ferry-partial`, which must be empty.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![PathBuf::new()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(root.join(&folder)).unwrap() {
            let entry = entry.unwrap();
            let relative = folder.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                if relative == Path::new(".ferry-partial") {
                    let left = std::fs::read_dir(entry.path()).unwrap().count();
                    assert_eq!(left, 0, "partial copies left in .ferry-partial");
                } else {
                    folders.push(relative);
                }
            } else {
                found.push(relative);
            }
        }
    }
    found
}

/// A small file's start is recorded with its end, in one journal line:
/// each of 50 small jobs has 2 lines (queued, succeeded) while a 5 MiB job
/// has 3 (queued, started, succeeded). Before, each small job had 3 too.
#[test]
fn a_small_files_start_is_recorded_only_with_its_end() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    for n in 0..50u32 {
        let bytes = crate::util::content(n, 2048);
        crate::util::write_file(&source.join(format!("IMG_{n}.jpg")), &bytes);
    }
    crate::util::write_file(&source.join("clip.mov"), &crate::util::content(99, 5 << 20));
    let dest = env.path().join("backup");
    let sync = (env.ferry().arg("sync").arg(&source).arg("--to").arg(&dest))
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        sync.status.success(),
        "{}",
        String::from_utf8_lossy(&sync.stderr)
    );
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    let lines_of = |name: &str| {
        let path = format!(r#""path":"{name}""#);
        let job_lines = journal
            .lines()
            .filter(|line| line.starts_with(r#"{"job":"#));
        job_lines.filter(|line| line.contains(&path)).count()
    };
    for n in 0..50 {
        assert_eq!(lines_of(&format!("IMG_{n}.jpg")), 2, "IMG_{n}.jpg");
    }
    assert_eq!(lines_of("clip.mov"), 3);
    let succeeded = journal
        .lines()
        .filter(|line| line.contains(r#""state":"succeeded""#));
    assert_eq!(succeeded.count(), 51);
}
