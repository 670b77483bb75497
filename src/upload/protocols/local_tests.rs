//! The local folder's unit tests, beside it so that the module reads as code.
use super::*;
use crate::digest::Sha256;
use crate::journal::job::MediaKind;
use crate::journal::paths::JournalPath;

fn scanned(root: &Path, relative: &str, bytes: &[u8]) -> Resource {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let stat = FileStat::of(&std::fs::metadata(&path).unwrap());
    Resource {
        root: JournalPath::new(root),
        path: JournalPath::new(relative),
        size: stat.size,
        mtime_ns: stat.mtime_ns,
        inode: stat.inode,
        sha256: Sha256::of(bytes),
        kind: MediaKind::Image,
        taken: None,
        target: None,
        asset: None,
    }
}

/// What copying and placing did, as the engine does it in two stages.
#[derive(Debug)]
struct Landed {
    placed: Placed,
    resumed_at: u64,
}

fn upload(
    dest: &LocalFolder,
    job: &JobId,
    resource: &Resource,
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<Landed, LocalError> {
    let Copied { resumed_at } = dest.copy(job, resource, progress, stop)?;
    let placed = dest.place(job, resource)?;
    Ok(Landed { placed, resumed_at })
}

fn job(n: u8) -> JobId {
    JobId::from_string(format!("{n:016x}"))
}

#[test]
fn a_stopped_copy_resumes_where_it_stopped_and_lands_identical() {
    let temp = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..3 * BUFFER + 17).map(|i| (i % 251) as u8).collect();
    let resource = scanned(&temp.path().join("src"), "2024/clip.mov", &bytes);
    let dest = LocalFolder::open(&temp.path().join("dest")).unwrap();
    let stop = AtomicBool::new(false);
    let mut seen = Vec::new();
    let stopped = upload(
        &dest,
        &job(1),
        &resource,
        &mut |offset| {
            seen.push(offset);
            if offset >= BUFFER as u64 {
                stop.store(true, Ordering::Relaxed);
            }
        },
        &stop,
    );
    assert!(matches!(stopped, Err(LocalError::Stopped { offset }) if offset == BUFFER as u64));
    assert_eq!(dest.offset(&job(1)).unwrap(), BUFFER as u64);

    stop.store(false, Ordering::Relaxed);
    let mut starts = None;
    let copied = upload(
        &dest,
        &job(1),
        &resource,
        &mut |offset| {
            starts.get_or_insert(offset);
        },
        &stop,
    )
    .unwrap();
    // Each copy first says where it starts: 0, then where it stopped.
    assert_eq!(starts, Some(BUFFER as u64));
    assert_eq!(copied.resumed_at, BUFFER as u64);
    assert_eq!(copied.placed.relative, PathBuf::from("2024/clip.mov"));
    assert_eq!(
        std::fs::read(temp.path().join("dest/2024/clip.mov")).unwrap(),
        bytes
    );
    assert_eq!(dest.offset(&job(1)).unwrap(), 0, "the partial file is gone");
    assert_eq!(seen[..2], [0, BUFFER as u64]);
}

/// A partial copy damaged by a crash (zeros where its data never reached
/// the disk) is not resumed onto: the copy starts again from 0 and lands
/// identical, and the source is not called changed.
#[test]
fn a_damaged_partial_copy_is_copied_again_not_blamed_on_the_source() {
    let temp = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..2 * BUFFER + 5).map(|i| (i % 241) as u8).collect();
    let resource = scanned(&temp.path().join("src"), "clip.mov", &bytes);
    let dest = LocalFolder::open(&temp.path().join("dest")).unwrap();
    std::fs::write(dest.partial_path(&job(3)).unwrap(), vec![0; BUFFER]).unwrap();
    let stop = AtomicBool::new(false);
    let copied = upload(&dest, &job(3), &resource, &mut |_| {}, &stop).unwrap();
    assert_eq!(copied.resumed_at, 0);
    assert_eq!(
        std::fs::read(temp.path().join("dest/clip.mov")).unwrap(),
        bytes
    );
    assert_eq!(dest.offset(&job(3)).unwrap(), 0, "the partial file is gone");
}

#[test]
fn changed_or_vanished_sources_are_never_stored_under_the_old_hash() {
    let temp = tempfile::tempdir().unwrap();
    let src = temp.path().join("src");
    let dest = LocalFolder::open(&temp.path().join("dest")).unwrap();
    let stop = AtomicBool::new(false);

    let resource = scanned(&src, "a.jpg", b"original");
    std::fs::write(src.join("a.jpg"), b"modified!").unwrap();
    let error = upload(&dest, &job(2), &resource, &mut |_| {}, &stop).unwrap_err();
    assert!(error.to_string().contains("changed since scan"), "{error}");

    // Same size and mtime, different bytes: caught by the re-hash.
    let resource = scanned(&src, "b.jpg", b"original");
    let mut sneaky = resource.clone();
    sneaky.sha256 = Sha256::of(b"elsewise");
    let error = upload(&dest, &job(3), &sneaky, &mut |_| {}, &stop).unwrap_err();
    assert!(error.to_string().contains("SHA-256"), "{error}");
    assert_eq!(dest.offset(&job(3)).unwrap(), 0);

    std::fs::remove_file(src.join("b.jpg")).unwrap();
    let error = upload(&dest, &job(4), &resource, &mut |_| {}, &stop).unwrap_err();
    assert!(matches!(error, LocalError::Vanished { .. }), "{error}");
    assert!(!temp.path().join("dest/a.jpg").exists());
    assert!(!temp.path().join("dest/b.jpg").exists());
}

#[test]
fn a_different_file_at_the_name_is_kept_and_identical_content_is_success() {
    let temp = tempfile::tempdir().unwrap();
    let src = temp.path().join("src");
    let dest_dir = temp.path().join("dest");
    let dest = LocalFolder::open(&dest_dir).unwrap();
    let stop = AtomicBool::new(false);
    std::fs::write(dest_dir.join("c.jpg"), b"someone else's").unwrap();
    let resource = scanned(&src, "c.jpg", b"mine");
    let copied = upload(&dest, &job(5), &resource, &mut |_| {}, &stop).unwrap();
    assert_eq!(copied.placed.relative, PathBuf::from("c (1).jpg"));
    assert_eq!(
        std::fs::read(dest_dir.join("c.jpg")).unwrap(),
        b"someone else's"
    );
    let again = upload(&dest, &job(6), &resource, &mut |_| {}, &stop).unwrap();
    assert_eq!(
        again.placed,
        Placed {
            relative: PathBuf::from("c (1).jpg"),
            identical: true
        }
    );
    let mut escaping = resource.clone();
    escaping.path = JournalPath::new("../x.jpg");
    assert!(matches!(
        upload(&dest, &job(7), &escaping, &mut |_| {}, &stop),
        Err(LocalError::BadPath { .. })
    ));
    let hostile = JobId::from_string("../../x".to_owned());
    assert!(upload(&dest, &hostile, &resource, &mut |_| {}, &stop).is_err());
    assert!(dest.offset(&hostile).is_err());
}

/// 100 small copies finishing while a sync runs share their syncs:
/// each lands whole at its name, after at most 4 syncs in all (the one
/// that was running ahead of them and its pair, then one pair for the
/// rest), where each copy took 2 before (a data sync of the copy and
/// one of its folder).
#[tokio::test(flavor = "current_thread")]
async fn copies_finishing_together_share_their_syncs() {
    for flush in [Flush::FileSystem, Flush::EachPath] {
        let temp = tempfile::tempdir().unwrap();
        let dest =
            Arc::new(LocalFolder::open_with(&temp.path().join("dest"), Some(flush)).unwrap());
        let stop = AtomicBool::new(false);
        let mut settling = Vec::new();
        let held = dest.group.hold_turn();
        for n in 0..100u8 {
            let bytes = vec![n; 2048];
            let resource = scanned(
                &temp.path().join("src"),
                &format!("{}/{n}.jpg", n % 4),
                &bytes,
            );
            dest.copy(&job(n), &resource, &mut |_| {}, &stop).unwrap();
            let dest = dest.clone();
            settling.push(tokio::spawn(async move {
                let placed = dest.place_durably(&job(n), &resource).await.unwrap();
                (placed, bytes)
            }));
        }
        // On this one thread, every task hands its copy over before
        // this one runs again.
        tokio::task::yield_now().await;
        while dest.group.tickets() == 0 {
            std::thread::yield_now();
        }
        // Nothing is answered before its syncs.
        assert!(settling.iter().all(|settled| !settled.is_finished()));
        assert_eq!(dest.syncs(), 0);
        drop(held);
        for settled in settling {
            let (placed, bytes) = settled.await.unwrap();
            assert_eq!(
                std::fs::read(temp.path().join("dest").join(placed.relative)).unwrap(),
                bytes
            );
        }
        let syncs = dest.syncs();
        assert!(
            (2..=4).contains(&syncs),
            "{flush:?}: {syncs} syncs for 100 copies"
        );
    }
}

/// A destination folder that does not exist yet gets the flush of the file
/// system it is made on (it got a sync per path: statfs failed on it).
#[test]
fn a_new_destination_gets_the_flush_of_its_file_system() {
    let temp = tempfile::tempdir().unwrap();
    let dest = LocalFolder::open(&temp.path().join("new/backup")).unwrap();
    assert_eq!(dest.group.flush(), Flush::for_folder(temp.path()));
}
