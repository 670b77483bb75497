//! Every transition and every action's selection, the refused ones included.

use ferry::journal::job::{
    Action, Destination, ErrorClass, Job, JobError, Protocol, Response, Session, State,
};

use crate::util::{destination, resource};

/// The situations a job can be in: each state, and the two that can be acknowledged.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Situation {
    Pending,
    Registered,
    Succeeded,
    SucceededAcked,
    Failed,
    FailedAcked,
    Cancelled,
}

const ALL: [Situation; 7] = [
    Situation::Pending,
    Situation::Registered,
    Situation::Succeeded,
    Situation::SucceededAcked,
    Situation::Failed,
    Situation::FailedAcked,
    Situation::Cancelled,
];

fn session() -> Session {
    Session {
        url: "http://127.0.0.1:9/files/abc".into(),
        offset: 0,
        protocol: None,
        id: None,
        ..Default::default()
    }
}

fn error() -> JobError {
    JobError {
        class: ErrorClass::Server,
        status: Some(500),
        message: "server error".into(),
    }
}

fn response() -> Response {
    Response {
        status: 201,
        headers: Default::default(),
    }
}

/// Builds a job in `situation` through legal transitions only.
fn job_in(situation: Situation) -> Job {
    let mut job = Job::new(resource("a.jpg", 10), destination());
    match situation {
        Situation::Pending => {}
        Situation::Registered => job.register(session()).unwrap(),
        Situation::Succeeded => job.succeed(response()).unwrap(),
        Situation::SucceededAcked => {
            job.succeed(response()).unwrap();
            job.acknowledge().unwrap();
        }
        Situation::Failed => job.fail(error()).unwrap(),
        Situation::FailedAcked => {
            job.fail(error()).unwrap();
            job.acknowledge().unwrap();
        }
        Situation::Cancelled => job.cancel().unwrap(),
    }
    job
}

type Operation = (
    &'static str,
    fn(&mut Job) -> Result<(), ferry::journal::job::TransitionError>,
);

fn operations() -> Vec<Operation> {
    vec![
        ("start_attempt", |job| job.start_attempt()),
        ("register", |job| job.register(session())),
        ("record_offset", |job| job.record_offset(5)),
        ("succeed", |job| job.succeed(response())),
        ("fail", |job| job.fail(error())),
        ("cancel", |job| job.cancel()),
        ("retry", |job| job.retry(None)),
        ("acknowledge", |job| job.acknowledge()),
    ]
}

/// The state an operation leads to from a situation, or None when refused.
fn expected(operation: &str, from: Situation) -> Option<State> {
    use Situation::*;
    let processable = matches!(from, Pending | Registered);
    let current = job_in(from).state;
    match operation {
        "start_attempt" if processable => Some(current),
        "register" if processable => Some(State::Registered),
        "record_offset" if from == Registered => Some(State::Registered),
        "succeed" if processable => Some(State::Succeeded),
        "fail" if processable => Some(State::Failed),
        "cancel" if processable => Some(State::Cancelled),
        "retry" if matches!(from, Failed | FailedAcked) => Some(State::Pending),
        "acknowledge" if matches!(from, Succeeded | Failed) => Some(current),
        _ => None,
    }
}

#[test]
fn every_transition_is_allowed_or_refused_as_the_model_says() {
    let mut checked = 0;
    for (name, operation) in operations() {
        for from in ALL {
            let mut job = job_in(from);
            let before = job.clone();
            let result = operation(&mut job);
            match expected(name, from) {
                Some(state) => {
                    assert!(
                        result.is_ok(),
                        "{name} from {from:?} was refused: {result:?}"
                    );
                    assert_eq!(job.state, state, "{name} from {from:?}");
                }
                None => {
                    let refusal = result.expect_err(&format!("{name} from {from:?} was allowed"));
                    assert_eq!(
                        job, before,
                        "a refused {name} from {from:?} changed the job"
                    );
                    let message = refusal.to_string();
                    assert!(message.contains(job.id.as_str()), "{message}");
                    assert!(message.contains(before.state.name()), "{message}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 8 * 7);
}

#[test]
fn each_action_selects_exactly_its_jobs() {
    use Situation::*;
    for from in ALL {
        let job = job_in(from);
        assert_eq!(
            Action::Process.selects(&job),
            matches!(from, Pending | Registered),
            "process, {from:?}"
        );
        assert_eq!(
            Action::Retry.selects(&job),
            from == Failed,
            "retry, {from:?}"
        );
        assert_eq!(
            Action::Acknowledge.selects(&job),
            matches!(from, Succeeded | Failed),
            "acknowledge, {from:?}"
        );
    }
}

#[test]
fn acknowledging_is_recorded_and_frees_the_limit() {
    let mut job = job_in(Situation::Succeeded);
    assert!(job.holds_limit());
    job.acknowledge().unwrap();
    assert!(job.is_acknowledged());
    assert!(!job.holds_limit());
    let refused = job.acknowledge().unwrap_err().to_string();
    assert!(refused.contains("acknowledged"), "{refused}");
}

#[test]
fn cancelled_jobs_do_not_hold_the_limit() {
    assert!(job_in(Situation::Pending).holds_limit());
    assert!(!job_in(Situation::Cancelled).holds_limit());
}

#[test]
fn retry_keeps_the_session_for_the_same_destination_and_drops_it_for_a_new_one() {
    let mut job = Job::new(resource("a.jpg", 10), destination());
    job.register(session()).unwrap();
    job.record_offset(7).unwrap();
    job.fail(error()).unwrap();

    let mut same = job.clone();
    same.retry(Some(destination())).unwrap();
    assert_eq!(same.state, State::Pending);
    assert_eq!(same.session.as_ref().map(|s| s.offset), Some(7));
    assert_eq!(same.retries, 1);

    let elsewhere = Destination::new("/backup", Protocol::Local);
    let mut moved = job.clone();
    moved.retry(Some(elsewhere.clone())).unwrap();
    assert_eq!(moved.destination, elsewhere);
    assert_eq!(moved.session, None);
}

#[test]
fn retrying_an_acknowledged_failure_puts_it_back_on_the_list() {
    let mut job = job_in(Situation::FailedAcked);
    assert!(!job.holds_limit());
    job.retry(None).unwrap();
    assert!(!job.is_acknowledged());
    assert!(job.holds_limit());
}

#[test]
fn attempts_are_counted() {
    let mut job = job_in(Situation::Pending);
    job.start_attempt().unwrap();
    job.register(session()).unwrap();
    job.start_attempt().unwrap();
    assert_eq!(job.attempts, 2);
}

#[test]
fn a_part_sent_again_counts_once_and_only_registered_jobs_have_parts() {
    let part = |number: u32, size: u64, etag: &str| ferry::journal::job::Part {
        number,
        size,
        sha256: ferry::digest::Sha256([number as u8; 32]),
        etag: etag.to_owned(),
    };
    let mut job = job_in(Situation::Registered);
    job.record_part(part(1, 8, "\"a\"")).unwrap();
    job.record_part(part(2, 3, "\"b\"")).unwrap();
    job.record_part(part(1, 8, "\"c\"")).unwrap();
    let session = job.session.as_ref().unwrap();
    assert_eq!(session.offset, 11);
    assert_eq!(session.parts.len(), 2);
    assert_eq!(session.parts[1].etag, "\"c\"");
    assert!(
        job_in(Situation::Pending)
            .record_part(part(1, 8, "x"))
            .is_err()
    );
}

#[test]
fn a_failure_superseded_by_a_newer_scan_of_its_path_leaves_the_list_and_the_exit_code() {
    use crate::http::Server;
    use crate::upload::run_ok;
    use crate::util::{TestEnv, stderr_of, stdout_of, write_file};
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let to = server.url("/files/");
    let card = env.path().join("card");
    let photo = card.join("beach.jpg");
    write_file(&photo, b"the beach as the camera wrote it");
    run_ok(env.ferry().arg("scan").arg(&card).args(["--to", &to]));
    write_file(&photo, b"the beach, edited after the scan and longer");
    let failed = env.ferry().arg("upload").output().unwrap();
    let text = stderr_of(&failed);
    assert_eq!(failed.status.code(), Some(3), "{text}");
    assert!(
        text.contains("changed since scan (its size differs)"),
        "{text}"
    );
    assert!(
        text.contains("not worth a retry: the next `ferry sync` of its folder scans it again"),
        "{text}"
    );
    // A retry asked for anyway queues it, and says it will fail again.
    let retried = run_ok(env.ferry().args(["retry", "--all"]));
    assert_eq!(stdout_of(&retried).trim(), "retry: 1 job");
    assert_eq!(
        stderr_of(&retried).trim(),
        format!(
            "warning: {} changed since its scan; not worth a retry: the next `ferry sync` of its folder scans it again",
            photo.display()
        )
    );
    let failed = env.ferry().arg("upload").output().unwrap();
    assert_eq!(failed.status.code(), Some(3), "{}", stderr_of(&failed));

    // Another destination's sync is not answerable for that failure.
    let other = env.path().join("other");
    write_file(&other.join("x.jpg"), b"another photo");
    let elsewhere = env
        .ferry()
        .arg("sync")
        .arg(&other)
        .arg("--to")
        .arg(env.path().join("backup"))
        .output()
        .unwrap();
    assert_eq!(
        elsewhere.status.code(),
        Some(0),
        "{}",
        stderr_of(&elsewhere)
    );

    // The next sync of the folder queues the new content, and the old
    // failure leaves the list as superseded.
    let synced = env
        .ferry()
        .arg("sync")
        .arg(&card)
        .args(["--to", &to])
        .output()
        .unwrap();
    let text = stderr_of(&synced);
    assert_eq!(synced.status.code(), Some(0), "{text}");
    assert!(text.contains("1 superseded"), "{text}");
    assert!(!text.contains("failures list"), "{text}");
    assert_eq!(
        std::fs::read(server.dir.join("beach.jpg")).unwrap(),
        b"the beach, edited after the scan and longer"
    );
    let listed = stdout_of(&run_ok(env.ferry().args(["jobs", "--action", "retry"])));
    assert!(!listed.contains("beach"), "{listed}");
    let all = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    let old = all
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|job| job["state"] == "cancelled")
        .expect("the old job is kept, cancelled");
    let message = old["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("superseded: the file changed and was scanned again"),
        "{message}"
    );
    let upload = env.ferry().arg("upload").output().unwrap();
    assert_eq!(upload.status.code(), Some(0), "{}", stderr_of(&upload));
}

#[test]
fn a_file_replaced_with_the_same_size_and_time_is_changed_since_scan_over_http() {
    use crate::http::Server;
    use crate::upload::run_ok;
    use crate::util::{TestEnv, stderr_of, write_file};
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let to = server.url("/files/");
    let card = env.path().join("card");
    let photo = card.join("IMG.jpg");
    write_file(&photo, b"the photo as it was scanned");
    run_ok(env.ferry().arg("scan").arg(&card).args(["--to", &to]));
    // Another file, same size and modification time, takes its name.
    let modified = std::fs::metadata(&photo).unwrap().modified().unwrap();
    let other = card.join("other.tmp");
    write_file(&other, b"THE PHOTO AS IT WAS SCANNED");
    std::fs::File::options()
        .write(true)
        .open(&other)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    std::fs::rename(&other, &photo).unwrap();
    let failed = env.ferry().arg("upload").output().unwrap();
    let text = stderr_of(&failed);
    assert_eq!(failed.status.code(), Some(3), "{text}");
    assert!(
        text.contains("changed since scan (its inode differs: it was replaced)"),
        "{text}"
    );
    assert!(!server.dir.join("IMG.jpg").exists());
}

/// One destination's jobs can be listed, counted, run and dropped with
/// `--to`, and `ferry jobs` shows where each job goes.
#[test]
fn jobs_status_upload_and_cancel_take_to() {
    use crate::upload::run_ok;
    use crate::util::{TestEnv, stdout_of, write_file};
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_file(&card.join("a.jpg"), b"first photo");
    write_file(&card.join("b.jpg"), b"second photo");
    let (mistyped, home) = (env.path().join("mistyped"), env.path().join("home"));
    for to in [&mistyped, &home] {
        run_ok(env.ferry().arg("scan").arg(&card).arg("--to").arg(to));
    }
    let listed = stdout_of(&run_ok(env.ferry().arg("jobs").arg("--to").arg(&home)));
    assert!(listed.contains("DEST"), "{listed}");
    assert_eq!(
        listed.lines().filter(|l| l.contains("home")).count(),
        2,
        "{listed}"
    );
    assert!(!listed.contains("mistyped"), "{listed}");

    let cancelled = run_ok(
        env.ferry()
            .args(["--json", "cancel", "--pending", "--to"])
            .arg(&mistyped),
    );
    let changed: serde_json::Value = serde_json::from_str(&stdout_of(&cancelled)).unwrap();
    assert_eq!(changed["changed"], 2, "{changed}");
    run_ok(env.ferry().arg("upload").arg("--to").arg(&home));
    assert_eq!(std::fs::read(home.join("a.jpg")).unwrap(), b"first photo");
    assert!(!mistyped.join("a.jpg").exists());
    let status = stdout_of(&run_ok(
        env.ferry().args(["--json", "status", "--to"]).arg(&home),
    ));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["states"]["succeeded"]["jobs"], 2, "{status}");
    assert_eq!(status["states"]["cancelled"]["jobs"], 0, "{status}");
    assert_eq!(status["total"]["jobs"], 2, "{status}");
}
