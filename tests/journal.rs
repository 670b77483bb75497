//! The journal and the store through the library API: replay, durability,
//! compaction, damage, the job limit and selection by ID prefix.

use std::io::Write;
use std::sync::Arc;

use ferry::journal::job::{ErrorClass, Job, JobError, JobId, Response, Session, State};
use ferry::journal::paths::JournalPath;
use ferry::journal::store::{Durability, LimitReached, OpenOptions, Record, SelectError, Store};
use ferry::journal::{self, Journal, JournalError};

use crate::util::{TestEnv, create_jobs, destination, resource};

fn failure() -> JobError {
    JobError {
        class: ErrorClass::Client,
        status: Some(400),
        message: "bad request".into(),
    }
}

/// Two lines more for each job: failed, then queued again.
fn fail_and_retry(store: &mut Store, ids: &[JobId]) {
    for id in ids {
        store
            .apply(id, Durability::Lazy, |job| job.fail(failure()))
            .unwrap();
        store
            .apply(id, Durability::Lazy, |job| job.retry(None))
            .unwrap();
    }
}

fn line_count(path: &std::path::Path) -> usize {
    std::fs::read(path)
        .unwrap()
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[test]
fn jobs_survive_reopening_with_every_field() {
    let env = TestEnv::new();
    let id = {
        let mut store = env.store();
        let id = store
            .create(
                resource("2024/IMG_0001.HEIC", 1234),
                destination(),
                Durability::Durable,
            )
            .unwrap();
        store
            .apply(&id, Durability::Durable, |job| {
                job.register(Session {
                    url: "http://127.0.0.1:9/files/1".into(),
                    offset: 0,
                    protocol: None,
                    id: None,
                    ..Default::default()
                })
            })
            .unwrap();
        store
            .apply(&id, Durability::Lazy, |job| job.record_offset(512))
            .unwrap();
        id
    };
    let store = env.store();
    let job = store.job(&id).unwrap();
    assert_eq!(job.state, State::Registered);
    assert_eq!(job.session.as_ref().unwrap().offset, 512);
    assert_eq!(job.resource, resource("2024/IMG_0001.HEIC", 1234));
    assert_eq!(store.jobs().len(), 1);
}

#[cfg(unix)]
#[test]
fn non_utf8_names_round_trip_through_the_journal() {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let env = TestEnv::new();
    let raw = b"Fotos/\xe9t\xe9 \xff.jpg".to_vec();
    let mut item = resource("x", 1);
    item.path = JournalPath::new(std::ffi::OsString::from_vec(raw.clone()));
    let id = env
        .store()
        .create(item, destination(), Durability::Durable)
        .unwrap();
    let store = env.store();
    let back = store
        .job(&id)
        .unwrap()
        .resource
        .path
        .as_path()
        .as_os_str()
        .as_bytes();
    assert_eq!(back, raw.as_slice());
}

#[test]
fn a_change_appends_one_line_and_never_rewrites_the_file() {
    let env = TestEnv::new();
    let mut store = env.store();
    let ids: Vec<JobId> = create_jobs(&mut store, 50);
    store.checkpoint().unwrap();
    let before = std::fs::read(env.journal()).unwrap();
    store
        .apply(&ids[7], Durability::Durable, |job| job.cancel())
        .unwrap();
    let after = std::fs::read(env.journal()).unwrap();
    assert!(after.starts_with(&before), "the old bytes were rewritten");
    let added = &after[before.len()..];
    assert_eq!(added.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(added.len() < 1024, "one change wrote {} bytes", added.len());
}

#[test]
fn compaction_keeps_live_jobs_only_once_dead_lines_outnumber_them() {
    let env = TestEnv::new();
    let ids: Vec<JobId> = {
        let mut store = env.store();
        let ids: Vec<JobId> = create_jobs(&mut store, 10);
        fail_and_retry(&mut store, &ids);
        for id in &ids {
            store
                .apply(id, Durability::Lazy, |job| job.cancel())
                .unwrap();
        }
        store.journal_handle().unwrap().sync_all().unwrap();
        ids
    };
    assert_eq!(line_count(&env.journal()), 1 + 40);
    let store = env.store();
    assert_eq!(line_count(&env.journal()), 1 + 10, "not compacted on open");
    for id in &ids {
        assert_eq!(store.job(id).unwrap().state, State::Cancelled);
    }
    drop(store);
    let reopened = env.store();
    assert_eq!(reopened.jobs().len(), 10);
    assert_eq!(line_count(&env.journal()), 11);
}

#[test]
fn a_torn_last_line_is_dropped_with_a_warning() {
    let env = TestEnv::new();
    let id = env
        .store()
        .create(resource("a.jpg", 1), destination(), Durability::Durable)
        .unwrap();
    let intact = std::fs::read(env.journal()).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(env.journal())
        .unwrap()
        .write_all(br#"{"job":{"id":"00"#)
        .unwrap();

    let reader = Store::open_read_only(&env.journal()).unwrap();
    assert_eq!(reader.warnings().len(), 1, "{:?}", reader.warnings());
    assert!(
        reader.warnings()[0].contains(":3:"),
        "{:?}",
        reader.warnings()
    );
    assert!(reader.job(&id).is_some());
    assert_ne!(
        std::fs::read(env.journal()).unwrap(),
        intact,
        "a reader changed the file"
    );

    let mut writer = env.store();
    assert_eq!(writer.warnings().len(), 1);
    assert_eq!(
        std::fs::read(env.journal()).unwrap(),
        intact,
        "the torn tail stayed"
    );
    writer
        .apply(&id, Durability::Durable, |job| job.cancel())
        .unwrap();
    drop(writer);
    assert_eq!(env.store().job(&id).unwrap().state, State::Cancelled);
}

#[test]
fn damage_in_the_middle_is_refused_with_the_line_and_the_file_untouched() {
    let env = TestEnv::new();
    {
        let mut store = env.store();
        create_jobs(&mut store, 5);
        store.checkpoint().unwrap();
    }
    let text = std::fs::read_to_string(env.journal()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"job\": garbage}";
    let damaged = lines.join("\n") + "\n";
    std::fs::write(env.journal(), &damaged).unwrap();

    for result in [
        Store::open(&env.journal(), &OpenOptions::default()).map(drop),
        Store::open_read_only(&env.journal()).map(drop),
    ] {
        let error = result.unwrap_err();
        match error.downcast_ref::<JournalError>() {
            Some(JournalError::Damaged { line, .. }) => assert_eq!(*line, 4),
            other => panic!("expected damage at line 4, got {other:?}"),
        }
        assert!(error.to_string().contains("journal.jsonl:4:"), "{error}");
    }
    assert_eq!(std::fs::read_to_string(env.journal()).unwrap(), damaged);
}

#[test]
fn a_journal_from_a_newer_ferry_is_refused() {
    let env = TestEnv::new();
    let newer = "{\"format\":\"ferry-journal\",\"version\":99}\n";
    std::fs::write(env.journal(), newer).unwrap();
    let error = Store::open(&env.journal(), &OpenOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(
            error.downcast_ref::<JournalError>(),
            Some(JournalError::TooNew { found: 99, .. })
        ),
        "{error}"
    );
    assert!(error.to_string().contains("upgrade ferry"), "{error}");
    assert_eq!(std::fs::read_to_string(env.journal()).unwrap(), newer);
}

#[test]
fn a_file_that_is_not_a_journal_is_refused() {
    let env = TestEnv::new();
    std::fs::write(env.journal(), "hello\nworld\n").unwrap();
    let error = Store::open(&env.journal(), &OpenOptions::default())
        .err()
        .unwrap();
    assert!(error.to_string().contains("not a ferry journal"), "{error}");
    assert_eq!(
        std::fs::read_to_string(env.journal()).unwrap(),
        "hello\nworld\n"
    );
}

#[test]
fn the_job_limit_stops_new_jobs_and_acknowledging_makes_room() {
    let env = TestEnv::new();
    let options = OpenOptions {
        job_limit: 3,
        ..OpenOptions::default()
    };
    let mut store = Store::open(&env.journal(), &options).unwrap();
    let ids: Vec<JobId> = create_jobs(&mut store, 3);
    let error = store
        .create(resource("4.jpg", 4), destination(), Durability::Lazy)
        .unwrap_err();
    let limit = error.downcast_ref::<LimitReached>().expect("LimitReached");
    assert_eq!((limit.held, limit.limit), (3, 3));
    assert!(
        error.to_string().contains("ferry ack --succeeded"),
        "{error}"
    );
    assert_eq!(store.jobs().len(), 3, "a refused job was kept");

    store
        .apply(&ids[0], Durability::Lazy, |job| {
            job.succeed(Response {
                status: 201,
                headers: Default::default(),
            })
        })
        .unwrap();
    store
        .apply(&ids[0], Durability::Lazy, Job::acknowledge)
        .unwrap();
    store
        .create(resource("4.jpg", 4), destination(), Durability::Lazy)
        .unwrap();

    store
        .apply(&ids[1], Durability::Lazy, |job| job.cancel())
        .unwrap();
    let fifth = store
        .create(resource("5.jpg", 5), destination(), Durability::Lazy)
        .unwrap();

    // An acknowledged failure brought back by retry needs room again.
    store
        .apply(&fifth, Durability::Lazy, |job| job.fail(failure()))
        .unwrap();
    store
        .apply(&fifth, Durability::Lazy, Job::acknowledge)
        .unwrap();
    store
        .create(resource("6.jpg", 6), destination(), Durability::Lazy)
        .unwrap();
    let error = store
        .apply(&fifth, Durability::Lazy, |job| job.retry(None))
        .unwrap_err();
    assert!(error.downcast_ref::<LimitReached>().is_some(), "{error}");
    assert_eq!(store.holding_limit(), 3);
}

#[test]
fn several_changes_are_all_made_or_none() {
    let env = TestEnv::new();
    let mut store = env.store();
    let pending = store
        .create(resource("a.jpg", 1), destination(), Durability::Lazy)
        .unwrap();
    let cancelled = store
        .create(resource("b.jpg", 2), destination(), Durability::Lazy)
        .unwrap();
    store
        .apply(&cancelled, Durability::Lazy, |job| job.cancel())
        .unwrap();
    let error = store
        .apply_all(&[pending.clone(), cancelled.clone()], |job| job.cancel())
        .unwrap_err();
    assert!(error.to_string().contains(cancelled.as_str()), "{error}");
    drop(store);
    assert_eq!(env.store().job(&pending).unwrap().state, State::Pending);
}

#[test]
fn ids_resolve_by_unique_prefix() {
    let env = TestEnv::new();
    let mut store = env.store();
    let ids: Vec<JobId> = create_jobs(&mut store, 40);
    for id in &ids {
        assert_eq!(&store.resolve(id.as_str()).unwrap(), id);
        assert_eq!(&store.resolve(&id.as_str().to_uppercase()).unwrap(), id);
        let unique = (1..=16)
            .map(|n| &id.as_str()[..n])
            .find(|prefix| {
                ids.iter()
                    .filter(|other| other.as_str().starts_with(prefix))
                    .count()
                    == 1
            })
            .unwrap();
        assert_eq!(&store.resolve(unique).unwrap(), id);
    }
    // 40 IDs over 16 first digits: some first digit is shared.
    let shared = (0..16)
        .map(|d| format!("{d:x}"))
        .find(|d| {
            ids.iter()
                .filter(|id| id.as_str().starts_with(d.as_str()))
                .count()
                > 1
        })
        .unwrap();
    assert!(matches!(
        store.resolve(&shared),
        Err(SelectError::Ambiguous { .. })
    ));
    assert!(matches!(
        store.resolve("xyz"),
        Err(SelectError::NotFound(_))
    ));
    assert!(matches!(store.resolve(""), Err(SelectError::NotFound(_))));
}

#[test]
fn concurrent_durable_appends_share_fsyncs() {
    let env = TestEnv::new();
    let path = env.journal();
    let journal = Arc::new(Journal::open(&path, None).unwrap());
    let threads = 8;
    let per_thread = 50;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let journal = Arc::clone(&journal);
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    let job = Job::new(resource(&format!("{t}/{i}.jpg"), i), destination());
                    let ticket = journal.append(&Record::Job(job)).unwrap();
                    journal.sync(ticket).unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let appends = threads * per_thread;
    assert!(
        journal.fsyncs() < appends,
        "{} fsyncs for {appends} durable appends",
        journal.fsyncs()
    );
    let mut seen = 0;
    journal::replay::<Record>(&path, |_| seen += 1).unwrap();
    assert_eq!(seen, appends);
}

#[test]
fn a_journal_through_a_symlink_is_one_journal_and_a_device_or_fifo_is_refused() {
    let env = TestEnv::new();
    let real = env.path().join("real.jsonl");
    let link = env.path().join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let options = OpenOptions::default();
    {
        let mut store = Store::open(&link, &options).unwrap();
        let ids = create_jobs(&mut store, 5);
        fail_and_retry(&mut store, &ids);
        store.journal_handle().unwrap().sync_all().unwrap();
        // The lock is the real file's: another opener by its own name waits.
        let waiting = OpenOptions {
            wait_lock: Some(std::time::Duration::ZERO),
            ..OpenOptions::default()
        };
        assert!(Store::open(&real, &waiting).is_err(), "locked twice");
    }
    // Reopened, compacted: the link still leads to the one journal.
    let store = Store::open(&link, &options).unwrap();
    assert_eq!(store.jobs().len(), 5);
    drop(store);
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(line_count(&real), 1 + 5, "compacted in place");

    let fifo = env.path().join("fifo.jsonl");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, kind) in [
        (std::path::Path::new("/dev/zero"), "a device"),
        (env.path(), "a folder"),
        (fifo.as_path(), "a FIFO"),
    ] {
        let error = Store::open(path, &options).err().expect("refused");
        assert_eq!(
            error.to_string(),
            format!("{}: not a regular file ({kind})", path.display())
        );
    }
}
