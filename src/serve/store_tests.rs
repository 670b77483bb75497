//! The upload store's unit tests, beside it so that the store reads as code.
use super::*;

fn sha(bytes: &[u8]) -> Sha256 {
    Sha256::of(bytes)
}

#[test]
fn an_upload_resumes_after_a_restart_and_lands_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let body = b"0123456789abcdefghij".to_vec();
    let id = {
        let store = UploadStore::open(dir.path()).unwrap();
        let info = store
            .create(
                &"2024/IMG.jpg".into(),
                Some(20),
                Some(sha(&body)),
                BTreeMap::new(),
                false,
            )
            .unwrap();
        let mut appender = store.append(&info.id, 0, None).unwrap();
        appender.write(&body[..7]).unwrap();
        assert_eq!(appender.finish().unwrap(), 7);
        info.id
    };
    let store = UploadStore::open(dir.path()).unwrap();
    assert_eq!(store.get(&id).unwrap().offset, 7);
    assert!(matches!(
        store.append(&id, 3, None),
        Err(UploadError::OffsetMismatch {
            claimed: 3,
            actual: 7
        })
    ));
    assert!(matches!(
        store.finish(&id),
        Err(UploadError::Incomplete { offset: 7, .. })
    ));
    let mut appender = store.append(&id, 7, None).unwrap();
    assert!(matches!(
        appender.write(&[0; 14]),
        Err(UploadError::TooLong { length: 20 })
    ));
    appender.write(&body[7..]).unwrap();
    assert_eq!(appender.finish().unwrap(), 20);
    let completed = store.finish(&id).unwrap();
    assert_eq!(completed.placed, "2024/IMG.jpg".into());
    assert_eq!(completed.sha256, sha(&body));
    assert_eq!(
        std::fs::read(dir.path().join("2024/IMG.jpg")).unwrap(),
        body
    );
    let finished = store.get(&id).unwrap();
    assert!(finished.is_complete());
    assert_eq!(finished.offset, 20);
    assert!(matches!(
        store.append(&id, 20, None),
        Err(UploadError::Completed)
    ));
    assert_eq!(store.finish(&id).unwrap(), completed);
}

#[test]
fn a_wrong_digest_is_refused_and_the_bytes_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let store = UploadStore::open(dir.path()).unwrap();
    let info = store
        .create(
            &"a.jpg".into(),
            Some(3),
            Some(sha(b"abc")),
            BTreeMap::new(),
            false,
        )
        .unwrap();
    let mut appender = store.append(&info.id, 0, None).unwrap();
    appender.write(b"abd").unwrap();
    appender.finish().unwrap();
    assert!(matches!(
        store.finish(&info.id),
        Err(UploadError::DigestMismatch { .. })
    ));
    assert!(!dir.path().join("a.jpg").exists());
    assert!(matches!(store.get(&info.id), Err(UploadError::NotFound(_))));
}

#[test]
fn deferred_lengths_unsafe_names_unknown_ids_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let store = UploadStore::open(dir.path()).unwrap();
    assert!(matches!(
        store.create(&"../x".into(), None, None, BTreeMap::new(), false),
        Err(UploadError::UnsafePath(_))
    ));
    for id in [
        "../../etc/passwd",
        "ABC",
        "00000000000000000000000000000000",
    ] {
        assert!(
            matches!(store.get(id), Err(UploadError::NotFound(_))),
            "{id}"
        );
    }
    let deferred = store
        .create(&"d.jpg".into(), None, None, BTreeMap::new(), false)
        .unwrap();
    let mut appender = store.append(&deferred.id, 0, None).unwrap();
    appender.write(b"hello").unwrap();
    appender.finish().unwrap();
    assert!(matches!(
        store.set_length(&deferred.id, 4),
        Err(UploadError::TooLong { .. })
    ));
    store.set_length(&deferred.id, 5).unwrap();
    store.set_length(&deferred.id, 5).unwrap();
    assert!(matches!(
        store.set_length(&deferred.id, 6),
        Err(UploadError::LengthAlreadySet(5))
    ));
    assert!(store.finish(&deferred.id).is_ok());

    let chunk = store
        .create(&"c.jpg".into(), Some(10), None, BTreeMap::new(), false)
        .unwrap();
    let mut appender = store.append(&chunk.id, 0, None).unwrap();
    appender.write(b"12345").unwrap();
    assert_eq!(appender.discard().unwrap(), 0);
    assert_eq!(store.get(&chunk.id).unwrap().offset, 0);
    let capped = store
        .create(&"m.jpg".into(), None, None, BTreeMap::new(), false)
        .unwrap();
    let mut appender = store.append(&capped.id, 0, Some(4)).unwrap();
    assert!(matches!(
        appender.write(b"12345"),
        Err(UploadError::TooLong { length: 4 })
    ));

    let old = store
        .create(&"old.jpg".into(), Some(1), None, BTreeMap::new(), false)
        .unwrap();
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    File::options()
        .write(true)
        .open(store.part_path(&old.id))
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let fresh = store
        .create(&"new.jpg".into(), Some(1), None, BTreeMap::new(), false)
        .unwrap();
    let mut swept = store.sweep_expired(Duration::from_secs(600)).unwrap();
    swept.sort();
    assert!(swept.contains(&old.id), "{swept:?}");
    assert!(!swept.contains(&fresh.id));
    assert!(store.get(&old.id).is_err());
    assert!(store.get(&fresh.id).is_ok());
}

#[test]
fn upload_ids_are_128_random_bits_in_hex() {
    let ids: std::collections::BTreeSet<String> = (0..200).map(|_| new_id().unwrap()).collect();
    assert_eq!(ids.len(), 200);
    assert!(ids.iter().all(|id| valid_id(id)));
}

#[test]
fn the_digest_is_computed_as_the_bytes_arrive_and_from_disk_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let body = b"the bytes that arrived".to_vec();
    let create = |store: &UploadStore| {
        let info = store
            .create(
                &"a.mov".into(),
                Some(body.len() as u64),
                Some(sha(&body)),
                BTreeMap::new(),
                false,
            )
            .unwrap();
        let mut appender = store.append(&info.id, 0, None).unwrap();
        appender.write(&body[..5]).unwrap();
        appender.finish().unwrap();
        let mut appender = store.append(&info.id, 5, None).unwrap();
        appender.write(&body[5..]).unwrap();
        appender.finish().unwrap();
        info.id
    };
    // Bytes changed on disk after they arrived, same length: the digest
    // taken while they arrived is what finishing checks, without a read.
    let store = UploadStore::open(dir.path()).unwrap();
    let id = create(&store);
    std::fs::write(store.part_path(&id), b"THE bytes that arrived").unwrap();
    assert!(store.finish(&id).is_ok());

    // After a restart nothing is kept in memory: the file is read again,
    // and the change is found.
    let id = create(&store);
    std::fs::write(store.part_path(&id), b"THE bytes that arrived").unwrap();
    let restarted = UploadStore::open(dir.path()).unwrap();
    assert!(matches!(
        restarted.finish(&id),
        Err(UploadError::DigestMismatch { .. })
    ));
}

/// 40 uploads ending while a sync runs share the next one for their bytes,
/// and 40 placements share one for their names: 2 syncs, where each upload
/// took 2 before (an fsync of its part file and one of its folder). Every
/// upload is complete and in place when its call returns.
#[test]
fn uploads_ending_together_share_their_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let store = UploadStore::open(dir.path()).unwrap();
    let bodies: Vec<Vec<u8>> = (0..40u8).map(|n| vec![n; 1000 + n as usize]).collect();
    let ids: Vec<String> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| {
            let name = format!("{}/IMG_{n}.jpg", n % 3);
            let info = store.create(
                &name.as_str().into(),
                Some(body.len() as u64),
                Some(sha(body)),
                BTreeMap::new(),
                true,
            );
            info.unwrap().id
        })
        .collect();
    let before = (store.group.syncs(), store.group.tickets());
    std::thread::scope(|scope| {
        let held = store.group.hold_turn();
        let appends: Vec<_> = (ids.iter().zip(&bodies))
            .map(|(id, body)| {
                let store = &store;
                scope.spawn(move || {
                    let mut appender = store.append(id, 0, None).unwrap();
                    appender.write(body).unwrap();
                    appender.finish().unwrap()
                })
            })
            .collect();
        wait_for_tickets(&store, before.1 + 40, &appends);
        drop(held);
        for append in appends {
            append.join().unwrap();
        }
        let held = store.group.hold_turn();
        let places: Vec<_> = ids
            .iter()
            .map(|id| scope.spawn(|| store.finish(id).unwrap()))
            .collect();
        wait_for_tickets(&store, before.1 + 80, &places);
        drop(held);
        for (place, body) in places.into_iter().zip(&bodies) {
            let completed = place.join().unwrap();
            let stored = std::fs::read(dir.path().join(completed.placed.as_path())).unwrap();
            assert_eq!(&stored, body);
        }
    });
    assert_eq!(store.group.syncs() - before.0, 2);
}

/// Waits until `count` tickets were taken, or fails when a writer ended
/// without taking one.
fn wait_for_tickets<T>(
    store: &UploadStore,
    count: u64,
    writers: &[std::thread::ScopedJoinHandle<'_, T>],
) {
    while store.group.tickets() < count {
        assert!(
            !writers.iter().any(|writer| writer.is_finished()),
            "a writer ended early: {} of {count} tickets",
            store.group.tickets()
        );
        std::thread::yield_now();
    }
}

/// The files in the store's state folder, by name.
fn state_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(STATE_DIR))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A whole upload creates one file, its part file, which becomes the
/// placed file; its description is a line of `completed.jsonl`, which
/// still answers "complete" after a restart, until it expires.
#[test]
fn a_whole_upload_creates_only_its_part_file_and_stays_complete_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let body = b"one request carries it all".to_vec();
    let (id, completed) = {
        let store = UploadStore::open(dir.path()).unwrap();
        let info = (store.create(
            &"2024/whole.jpg".into(),
            Some(body.len() as u64),
            Some(sha(&body)),
            BTreeMap::new(),
            true,
        ))
        .unwrap();
        assert_eq!(state_files(dir.path()), [format!("{}.part", info.id)]);
        let mut appender = store.append(&info.id, 0, None).unwrap();
        appender.write(&body).unwrap();
        appender.finish().unwrap();
        let completed = store.finish(&info.id).unwrap();
        assert_eq!(state_files(dir.path()), ["completed.jsonl"]);
        // As private as a description file.
        use std::os::unix::fs::PermissionsExt;
        let log = std::fs::metadata(dir.path().join(STATE_DIR).join("completed.jsonl")).unwrap();
        assert_eq!(log.permissions().mode() & 0o777, 0o600);
        (info.id, completed)
    };
    assert_eq!(
        std::fs::read(dir.path().join("2024/whole.jpg")).unwrap(),
        body
    );
    let store = UploadStore::open(dir.path()).unwrap();
    let upload = store.get(&id).unwrap();
    assert!(upload.is_complete());
    assert_eq!(upload.offset, body.len() as u64);
    assert_eq!(store.finish(&id).unwrap(), completed);
    assert_eq!(
        store.sweep_expired(Duration::from_secs(3600)).unwrap(),
        [] as [String; 0]
    );
    assert_eq!(
        store.sweep_expired(Duration::ZERO).unwrap(),
        std::slice::from_ref(&id)
    );
    let store = UploadStore::open(dir.path()).unwrap();
    assert!(matches!(store.get(&id), Err(UploadError::NotFound(_))));
    assert_eq!(
        std::fs::read(dir.path().join("2024/whole.jpg")).unwrap(),
        body
    );
}

/// A whole upload cut off by a restart leaves a part file no description
/// names: nobody can resume it, and it is swept once it expires.
#[test]
fn a_whole_upload_cut_off_by_a_restart_is_swept_when_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = UploadStore::open(dir.path()).unwrap();
        let info =
            (store.create(&"cut.jpg".into(), Some(10), None, BTreeMap::new(), true)).unwrap();
        let mut appender = store.append(&info.id, 0, None).unwrap();
        appender.write(b"12345").unwrap();
        appender.finish().unwrap();
        info.id
    };
    let store = UploadStore::open(dir.path()).unwrap();
    assert!(matches!(store.get(&id), Err(UploadError::NotFound(_))));
    store.sweep_expired(Duration::from_secs(3600)).unwrap();
    assert_eq!(state_files(dir.path()), [format!("{id}.part")]);
    store.sweep_expired(Duration::ZERO).unwrap();
    assert_eq!(state_files(dir.path()), [] as [String; 0]);
}

/// A sweep lists, then looks: what a client deleted, or what went, in
/// between is passed over, and the rest is still swept.
#[test]
fn what_goes_between_a_sweeps_listing_and_its_look_is_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let store = UploadStore::open(dir.path()).unwrap();
    let mut ids = Vec::new();
    for name in ["gone.jpg", "kept.jpg"] {
        let info = (store.create(&name.into(), Some(10), None, BTreeMap::new(), false)).unwrap();
        ids.push(info.id);
    }
    let listed = store.uploads().unwrap().0;
    assert_eq!(listed.len(), 2);
    store.delete(&ids[0]).unwrap();
    let swept = (store.forget_expired(listed, Duration::ZERO, SystemTime::now())).unwrap();
    assert_eq!(swept, [ids[1].clone()]);
    assert!(matches!(store.get(&ids[1]), Err(UploadError::NotFound(_))));

    let (vanished, old) = (
        dir.path().join("vanished.part"),
        dir.path().join("old.part"),
    );
    std::fs::write(&old, b"12345").unwrap();
    let orphans = [vanished, old.clone()];
    remove_expired_orphans(&orphans, Duration::ZERO, SystemTime::now()).unwrap();
    assert!(!old.exists());
}

/// A whole upload passed on by `--forward` is described by a file of its
/// own, durable, and the log's line is not taken over it after a restart.
#[test]
fn a_whole_upload_being_forwarded_gets_a_durable_description() {
    let dir = tempfile::tempdir().unwrap();
    let body = b"forward me".to_vec();
    let id = {
        let store = UploadStore::open(dir.path()).unwrap();
        let info = (store.create(&"f.jpg".into(), Some(10), None, BTreeMap::new(), true)).unwrap();
        let mut appender = store.append(&info.id, 0, None).unwrap();
        appender.write(&body).unwrap();
        appender.finish().unwrap();
        store.finish(&info.id).unwrap();
        let waiting = Forward::Waiting {
            attempts: 0,
            error: None,
        };
        store.set_forward(&info.id, waiting).unwrap();
        assert!(state_files(dir.path()).contains(&format!("{}.json", info.id)));
        info.id
    };
    let store = UploadStore::open(dir.path()).unwrap();
    let waiting = store.waiting_forwards().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, id);
}

/// A completed whole upload deleted (a DELETE, or expired) stays gone
/// after a restart, before any rewrite of the log; a torn last line is
/// cut off, and the next line starts a line of its own.
#[test]
fn a_deleted_whole_upload_stays_gone_after_a_restart_and_a_torn_line_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let whole = |store: &UploadStore, name: &str| {
        let info = (store.create(&name.into(), Some(3), None, BTreeMap::new(), true)).unwrap();
        let mut appender = store.append(&info.id, 0, None).unwrap();
        appender.write(b"abc").unwrap();
        appender.finish().unwrap();
        store.finish(&info.id).unwrap();
        info.id
    };
    let (gone, kept) = {
        let store = UploadStore::open(dir.path()).unwrap();
        let (gone, kept) = (whole(&store, "gone.jpg"), whole(&store, "kept.jpg"));
        store.delete(&gone).unwrap();
        (gone, kept)
    };
    let log = dir.path().join(STATE_DIR).join("completed.jsonl");
    let mut torn = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    io::Write::write_all(&mut torn, b"{\"info\":{\"id\":").unwrap();
    let store = UploadStore::open(dir.path()).unwrap();
    assert!(matches!(store.get(&gone), Err(UploadError::NotFound(_))));
    assert!(store.get(&kept).unwrap().is_complete());
    let later = whole(&store, "later.jpg");
    drop(store);
    let store = UploadStore::open(dir.path()).unwrap();
    assert!(store.get(&later).unwrap().is_complete());
    assert!(store.get(&kept).unwrap().is_complete());
}

/// A plain PUT has no URL: its completion writes no line, and deleting it
/// leaves no rewrite to do.
#[test]
fn an_upload_without_a_url_writes_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = UploadStore::open(dir.path()).unwrap();
    let info = (store.create(&"put.jpg".into(), Some(3), None, BTreeMap::new(), true)).unwrap();
    store.unnamed(&info.id);
    let mut appender = store.append(&info.id, 0, None).unwrap();
    appender.write(b"abc").unwrap();
    appender.finish().unwrap();
    store.finish(&info.id).unwrap();
    store.delete(&info.id).unwrap();
    assert!(matches!(store.get(&info.id), Err(UploadError::NotFound(_))));
    // Gone from memory too: a sweep has nothing of it to log or rewrite.
    store.sweep_expired(Duration::ZERO).unwrap();
    assert_eq!(state_files(dir.path()), [] as [String; 0]);
    assert_eq!(std::fs::read(dir.path().join("put.jpg")).unwrap(), b"abc");
}

/// A whole upload whose request ended early, with an answer naming it,
/// is described by a file of its own: it can be resumed after a restart.
#[test]
fn a_whole_upload_cut_short_with_its_url_answered_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = UploadStore::open(dir.path()).unwrap();
        let info = (store.create(&"cut.jpg".into(), Some(6), None, BTreeMap::new(), true)).unwrap();
        let mut appender = store.append(&info.id, 0, None).unwrap();
        appender.write(b"abc").unwrap();
        appender.finish().unwrap();
        store.describe(&info.id).unwrap();
        info.id
    };
    let store = UploadStore::open(dir.path()).unwrap();
    assert_eq!(store.get(&id).unwrap().offset, 3);
    let mut appender = store.append(&id, 3, None).unwrap();
    appender.write(b"def").unwrap();
    appender.finish().unwrap();
    store.finish(&id).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("cut.jpg")).unwrap(),
        b"abcdef"
    );
}

/// Asked about while its part file is being placed (a sweep's look, say),
/// a whole upload is not forgotten: it still completes as one.
#[test]
fn a_look_at_a_whole_upload_while_it_is_placed_does_not_forget_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = UploadStore::open(dir.path()).unwrap();
    let info = (store.create(&"seen.jpg".into(), Some(3), None, BTreeMap::new(), true)).unwrap();
    let mut appender = store.append(&info.id, 0, None).unwrap();
    appender.write(b"abc").unwrap();
    appender.finish().unwrap();
    let part = store.part_path(&info.id);
    let aside = dir.path().join("aside");
    std::fs::rename(&part, &aside).unwrap();
    assert!(store.get(&info.id).is_err());
    store.sweep_expired(Duration::from_secs(3600)).unwrap();
    std::fs::rename(&aside, &part).unwrap();
    store.finish(&info.id).unwrap();
    assert_eq!(state_files(dir.path()), ["completed.jsonl"]);
    assert!(store.get(&info.id).unwrap().is_complete());
}
