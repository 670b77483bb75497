//! `s3://` destinations against a real S3 server: moto (PyPI `moto[server]`),
//! checked through boto3, an independent client.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::garage::{self, GarageNode};
use crate::peers;
use crate::upload::{Peer, photos, run_ok, sha256_of, walk, write_big};
use crate::util::{ClosedPort, TestEnv, content, stderr_of, write_file};

const MIB: usize = 1 << 20;

/// An S3 server with a bucket and a key that may write it: moto, one
/// Garage node or a Garage cluster. Its processes end when it is dropped.
pub struct Store {
    pub endpoint: String,
    key_id: String,
    secret: String,
    region: &'static str,
    pub nodes: Vec<GarageNode>,
    /// The CA an https endpoint's certificate comes from.
    ca_bundle: Option<std::path::PathBuf>,
    _moto: Option<Peer>,
}

impl Store {
    /// moto, which takes any key; its request log goes to `log`.
    pub fn moto(log: &Path, bucket: &str) -> Store {
        Store::moto_with(log, bucket, None)
    }

    /// moto over https with this certificate, key and CA.
    pub fn moto_tls(log: &Path, bucket: &str, cert: &Path, key: &Path, ca: &Path) -> Store {
        Store::moto_with(log, bucket, Some((cert, key, ca)))
    }

    fn moto_with(log: &Path, bucket: &str, tls: Option<(&Path, &Path, &Path)>) -> Store {
        let mut command = Command::new(peers::s3_python().with_file_name("moto_server"));
        command.args(["-H", "127.0.0.1", "-p", "0"]);
        if let Some((cert, key, _)) = tls {
            command.arg("-c").arg(cert).arg("-k").arg(key);
        }
        let peer = Peer::start(command, "", log);
        let endpoint = match tls {
            Some(_) => peer.url.replacen("http://", "https://", 1),
            None => peer.url.clone(),
        };
        let store = Store {
            endpoint,
            key_id: "test-key".to_owned(),
            secret: "test-secret".to_owned(),
            region: "us-east-1",
            nodes: Vec::new(),
            ca_bundle: tls.map(|(_, _, ca)| ca.to_owned()),
            _moto: Some(peer),
        };
        store.tool(&["create-bucket", bucket]);
        store
    }

    /// `n` Garage nodes (replication factor `n`) under `dir`; requests go
    /// to the first.
    pub fn garage(dir: &Path, n: usize, bucket: &str) -> Store {
        let secret = garage::rpc_secret();
        let nodes: Vec<GarageNode> = (0..n)
            .map(|i| GarageNode::start(&dir.join(format!("node{i}")), &secret, n as u8))
            .collect();
        garage::apply_layout(&nodes.iter().collect::<Vec<_>>());
        let (key_id, secret) = garage::bucket_and_key(&nodes[0], bucket);
        Store {
            endpoint: nodes[0].endpoint(),
            key_id,
            secret,
            region: "garage",
            nodes,
            ca_bundle: None,
            _moto: None,
        }
    }

    fn credentials(&self) -> Vec<(&'static str, String)> {
        let mut credentials = vec![
            ("AWS_ACCESS_KEY_ID", self.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.clone()),
            ("AWS_REGION", self.region.to_owned()),
        ];
        if let Some(ca) = &self.ca_bundle {
            credentials.push(("AWS_CA_BUNDLE", ca.to_str().unwrap().to_owned()));
        }
        credentials
    }

    /// Runs tests/peers/s3_tool.py (boto3) against this server.
    pub fn tool(&self, args: &[&str]) -> String {
        let output = Command::new(peers::s3_python())
            .arg(peers::dir().join("s3_tool.py"))
            .arg(&self.endpoint)
            .args(args)
            .envs(self.credentials())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "s3_tool {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Every object's key and the SHA-256 of what reading it back gives.
    pub fn digests(&self, bucket: &str) -> BTreeMap<String, String> {
        serde_json::from_str(&self.tool(&["digests", bucket])).unwrap()
    }

    /// `ferry` pointed at this server.
    pub fn ferry(&self, env: &TestEnv) -> Command {
        self.pointed(env.ferry())
    }

    /// `command` with this server's endpoint and keys.
    pub fn pointed(&self, mut command: Command) -> Command {
        // An http:// endpoint works whatever AWS_CA_BUNDLE says (rclone
        // 1.60 fails on any endpoint when it is set).
        command
            .env("AWS_CA_BUNDLE", "/nonexistent/ca-bundle.pem")
            .envs(self.credentials())
            .env("AWS_ENDPOINT_URL", &self.endpoint);
        command
    }
}

/// The last JSON line of a `--json` run: the upload summary.
fn summary_of(output: &std::process::Output) -> String {
    let events = String::from_utf8_lossy(&output.stdout);
    events.lines().last().unwrap_or_default().to_owned()
}

/// The tree under `root` as S3 keys under `prefix` with their SHA-256.
fn expected_objects(root: &Path, prefix: &str) -> BTreeMap<String, String> {
    walk(root)
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(root).unwrap().to_str().unwrap();
            (format!("{prefix}{relative}"), sha256_of(path))
        })
        .collect()
}

/// 200 files and a 256 MiB video arrive byte-identical (read back through
/// boto3), a second sync sends nothing, and a fresh journal finds every
/// object there and sends no byte.
fn two_hundred_files_and_a_video(env: &TestEnv, moto: &Store) {
    let source = env.path().join("media");
    photos(&source, 200);
    write_big(&source.join("video/big.mp4"), 256 * MIB, 21);
    let output = run_ok(
        moto.ferry(env)
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/2026/"]),
    );
    let stderr = stderr_of(&output);
    assert!(stderr.contains("uploaded 201 files"), "{stderr}");
    assert_eq!(moto.digests("photos"), expected_objects(&source, "2026/"));
    // The big file went by multipart: its journal line recorded 32 parts.
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    assert!(journal.contains(r#""number":32"#), "no 32nd part recorded");

    let again = run_ok(
        moto.ferry(env)
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/2026/"]),
    );
    assert!(
        stderr_of(&again).contains("nothing to upload"),
        "{}",
        stderr_of(&again)
    );

    // A fresh journal finds every object already there and sends no byte.
    let fresh = run_ok(
        moto.pointed(env.ferry_bare())
            .arg("--journal")
            .arg(env.path().join("fresh.jsonl"))
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/2026/", "--json"]),
    );
    let summary = summary_of(&fresh);
    assert!(summary.contains(r#""succeeded":201"#), "{summary}");
    assert!(summary.contains(r#""sent":0"#), "{summary}");
}

#[test]
fn two_hundred_files_and_a_256_mib_video_to_moto() {
    let env = TestEnv::new();
    let moto = Store::moto(&env.path().join("moto.log"), "photos");
    two_hundred_files_and_a_video(&env, &moto);
}

#[test]
fn two_hundred_files_and_a_256_mib_video_to_a_garage_node() {
    let env = TestEnv::new();
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    two_hundred_files_and_a_video(&env, &garage);
}

/// Garage checks signatures (moto does not): a wrong secret stops the run
/// with exit 1, and the secret appears nowhere.
#[test]
fn wrong_credentials_stop_the_run_and_the_secret_appears_nowhere() {
    let env = TestEnv::new();
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(4, 5000));
    let output = garage
        .ferry(&env)
        .env("AWS_SECRET_ACCESS_KEY", "wrong-s3cr3t")
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://photos/", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    for text in [
        &journal,
        &stderr,
        &String::from_utf8_lossy(&output.stdout).into_owned(),
    ] {
        assert!(!text.contains("wrong-s3cr3t"), "{text}");
        assert!(!text.contains(&garage.secret), "{text}");
    }
    assert!(garage.digests("photos").is_empty());
}

/// Three Garage nodes with replication factor 3; one is stopped halfway
/// through the run. The run finishes and every object reads back the same.
#[test]
fn a_garage_node_fails_halfway_and_the_run_finishes() {
    let env = TestEnv::new();
    let mut cluster = Store::garage(&env.path().join("garage"), 3, "photos");
    let source = env.path().join("media");
    photos(&source, 60);
    write_big(&source.join("video/clip.mov"), 96 * MIB, 3);
    let mut child = cluster
        .ferry(&env)
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://photos/", "-j", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Halfway: once the journal shows parts of the video.
    for _ in 0..400 {
        let journal = std::fs::read_to_string(env.journal()).unwrap_or_default();
        if journal.contains(r#""number":3"#) {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(child.try_wait().unwrap().is_none(), "the run ended first");
    cluster.nodes[2].kill();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(cluster.digests("photos"), expected_objects(&source, ""));
}

/// SIGKILL at ten moments during a multipart upload to a Garage node,
/// through the counting proxy: every later run resumes through `ListParts`,
/// and the body bytes that reached the store add up to at most the file
/// plus, per kill, one part for each part in flight.
#[test]
fn a_multipart_upload_killed_ten_times_resumes_through_list_parts() {
    let env = TestEnv::new();
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let upstream = garage
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    // 32 MiB/s per request keeps the upload going through ten kills.
    let proxy = FaultProxy::start_throttled(upstream, &[], Some(32 * MIB as u64));
    let size = 320 * MIB as u64;
    let (part, in_flight, kills) = (8 * MIB as u64, 2u64, 10u64);
    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), size as usize, 5);
    let sync = || {
        let mut command = garage.ferry(&env);
        command
            .env("AWS_ENDPOINT_URL", format!("http://{}", proxy.address))
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/", "--part-concurrency", "2"]);
        command
    };
    let mut seen = Vec::new();
    // What a killed run had in flight drains through the proxy for a while.
    let settled = || {
        for _ in 0..150 {
            let now = proxy.forwarded();
            std::thread::sleep(Duration::from_millis(200));
            if proxy.forwarded() == now {
                return now;
            }
        }
        panic!("the proxy never stopped forwarding");
    };
    for round in 0..kills {
        let before = settled();
        let mut child = sync()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Once this run has passed a part's worth on, a seeded moment up to
        // 400 ms later.
        for _ in 0..600 {
            if proxy.forwarded() > before + part || child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis((round * 137) % 400));
        let _ = child.kill();
        child.wait().unwrap();
        seen.push(proxy.forwarded());
    }
    assert!(
        seen[0] < size,
        "the first run was not interrupted: {seen:?}"
    );
    run_ok(&mut sync());
    assert_eq!(garage.digests("photos"), expected_objects(&source, ""));
    assert_eq!(garage.tool(&["uploads", "photos"]).trim(), "[]");
    let listed = proxy
        .requests()
        .iter()
        .filter(|line| line.starts_with("GET /photos/clip.mov?") && line.contains("uploadId"))
        .count();
    assert!(
        listed as u64 >= kills,
        "{listed} ListParts for {kills} resumed runs"
    );
    let bound = size + kills * in_flight * part + (1 << 20);
    assert!(
        proxy.forwarded() <= bound,
        "{} body bytes reached the store, more than {bound} ({seen:?})",
        proxy.forwarded()
    );
}

#[test]
fn bad_input_a_missing_bucket_a_different_object_and_a_small_part_size() {
    let env = TestEnv::new();
    let moto = Store::moto(&env.path().join("moto.log"), "photos");
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(1, 5000));

    let missing = moto
        .ferry(&env)
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://no-such-bucket/"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let stderr = stderr_of(&missing);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("bucket no-such-bucket does not exist"),
        "{stderr}"
    );

    let small = moto
        .ferry(&env)
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://photos/", "--chunk-size", "4M"])
        .output()
        .unwrap();
    assert_eq!(small.status.code(), Some(2), "{}", stderr_of(&small));
    assert!(
        stderr_of(&small).contains("at least 5 MiB"),
        "{}",
        stderr_of(&small)
    );

    let other = env.path().join("other.bin");
    std::fs::write(&other, b"someone else's bytes").unwrap();
    moto.tool(&["put", "photos", "a.jpg", other.to_str().unwrap()]);
    let different = moto
        .ferry(&env)
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://photos/"])
        .output()
        .unwrap();
    // The job failed (exit 3); the object is untouched.
    assert_eq!(different.status.code(), Some(3));
    assert!(
        stderr_of(&different).contains("a different object exists at a.jpg"),
        "{}",
        stderr_of(&different)
    );
    let untouched = moto.digests("photos");
    assert_eq!(untouched["a.jpg"], sha256_of(&other));

    // --overwrite replaces it.
    run_ok(moto.ferry(&env).args(["retry", "--all"]));
    run_ok(
        moto.ferry(&env)
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/", "--overwrite"]),
    );
    assert_eq!(
        moto.digests("photos")["a.jpg"],
        sha256_of(&source.join("a.jpg"))
    );
}

/// A `CompleteMultipartUpload` answered 200 with an `<Error>` body is that
/// error: `InternalError` is retried, and the upload completes.
#[test]
fn a_complete_answered_200_with_an_error_is_retried() {
    const INTERNAL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>";
    let env = TestEnv::new();
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), 24 * MIB, 9);
    // HEAD bucket, HEAD key, create, three parts one at a time, Complete.
    let mut faults = vec![Fault::Pass; 6];
    faults.push(Fault::Xml(200, INTERNAL));
    let upstream = garage
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(upstream, &faults);
    run_ok(
        garage
            .ferry(&env)
            .env("AWS_ENDPOINT_URL", format!("http://{}", proxy.address))
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/", "--part-concurrency", "1"]),
    );
    let completes = proxy
        .requests()
        .iter()
        .filter(|line| line.starts_with("POST /photos/clip.mov?") && line.contains("uploadId="))
        .count();
    assert_eq!(completes, 2, "{:#?}", proxy.requests());
    assert_eq!(garage.digests("photos"), expected_objects(&source, ""));
}

#[test]
fn secrets_stay_out_of_the_journal_and_the_output() {
    let env = TestEnv::new();
    let moto = Store::moto(&env.path().join("moto.log"), "photos");
    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), 20 * MIB, 2);
    write_file(&source.join("a.jpg"), &content(1, 5000));
    let output = run_ok(
        moto.ferry(&env)
            .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
            .arg("sync")
            .arg(&source)
            .args(["--to", "s3://photos/", "--json", "-v"]),
    );
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    for text in [
        journal.as_str(),
        &String::from_utf8_lossy(&output.stdout),
        &stderr_of(&output),
    ] {
        assert!(!text.contains("s3cr3t-value"));
        assert!(!text.contains("X-Amz-Signature"), "{text}");
        assert!(!text.contains("X-Amz-Credential"), "{text}");
    }
    assert_eq!(moto.digests("photos"), expected_objects(&source, ""));

    // A failed request says why without its presigned URL: an unreachable
    // endpoint stops the sync at its bucket check, and a job whose requests
    // are reset (the check passed) fails naming no URL either.
    let closed = ClosedPort::new();
    let refused = moto
        .ferry(&env)
        .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", closed.port),
        )
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://other/", "--retries", "0", "--json"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", stderr_of(&refused));
    assert!(stderr_of(&refused).contains("cannot reach"));
    let upstream: std::net::SocketAddr =
        moto.endpoint.trim_start_matches("http://").parse().unwrap();
    let mut faults = vec![Fault::Pass];
    faults.extend(std::iter::repeat_n(Fault::ResetAfter(0), 400));
    let proxy = FaultProxy::start(upstream, &faults);
    let other = env.path().join("other");
    write_file(&other.join("x.jpg"), &content(77, 9000));
    let reset = moto
        .ferry(&env)
        .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
        .env("AWS_ENDPOINT_URL", format!("http://{}", proxy.address))
        .arg("sync")
        .arg(&other)
        .args(["--to", "s3://photos/reset/", "--retries", "0", "--json"])
        .output()
        .unwrap();
    assert_eq!(reset.status.code(), Some(3), "{}", stderr_of(&reset));
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    assert!(journal.contains("error sending request"), "{journal}");
    for text in [
        journal.as_str(),
        &String::from_utf8_lossy(&refused.stdout),
        &stderr_of(&refused),
        &String::from_utf8_lossy(&reset.stdout),
        &stderr_of(&reset),
    ] {
        // The endpoint may be named; a request's URL (bucket, key and
        // signature) never is.
        assert!(!text.contains("X-Amz-"), "{text}");
        assert!(!text.contains(&format!("{}/", proxy.address)), "{text}");
        assert!(!text.contains(&format!("{}/", closed.port)), "{text}");
        assert!(!text.contains("s3cr3t-value"), "{text}");
    }
}

/// Starts a multipart upload of `clip.mov` and kills it once a part landed.
fn start_and_kill(moto: &Store, env: &TestEnv, source: &Path, log: &Path) {
    let mut child = moto
        .ferry(env)
        .arg("sync")
        .arg(source)
        .args(["--to", "s3://photos/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parts = || {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        text.matches("partNumber=").count()
    };
    let before = parts();
    for _ in 0..600 {
        if parts() > before || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap();
}

#[test]
fn cancel_aborts_the_multipart_upload_and_a_changed_file_is_never_completed() {
    let env = TestEnv::new();
    let log = env.path().join("moto.log");
    let moto = Store::moto(&log, "photos");
    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), 200 * MIB, 8);

    start_and_kill(&moto, &env, &source, &log);
    assert_eq!(moto.tool(&["uploads", "photos"]).trim(), r#"["clip.mov"]"#);
    run_ok(moto.ferry(&env).args(["cancel", "--pending"]));
    assert_eq!(moto.tool(&["uploads", "photos"]).trim(), "[]");

    // Again, then the file changes: the next upload fails the job, aborts
    // the multipart upload and completes nothing.
    let fresh = env.path().join("journal.jsonl");
    std::fs::remove_file(&fresh).unwrap();
    start_and_kill(&moto, &env, &source, &log);
    assert_eq!(moto.tool(&["uploads", "photos"]).trim(), r#"["clip.mov"]"#);
    write_big(&source.join("clip.mov"), 200 * MIB, 9);
    let upload = moto.ferry(&env).arg("upload").output().unwrap();
    assert_eq!(upload.status.code(), Some(3), "{}", stderr_of(&upload));
    assert!(
        stderr_of(&upload).contains("changed since scan"),
        "{}",
        stderr_of(&upload)
    );
    assert_eq!(moto.tool(&["uploads", "photos"]).trim(), "[]");
    assert!(moto.digests("photos").is_empty());
}

/// An upload that vanished (aborted by someone else, or reaped by a
/// lifecycle rule) while ferry was away: the next run finds `NoSuchUpload`,
/// sees the key does not hold the file, and uploads it again whole.
#[test]
fn a_vanished_multipart_upload_starts_again() {
    let env = TestEnv::new();
    let log = env.path().join("moto.log");
    let moto = Store::moto(&log, "photos");
    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), 200 * MIB, 10);
    start_and_kill(&moto, &env, &source, &log);
    assert_eq!(moto.tool(&["uploads", "photos"]).trim(), r#"["clip.mov"]"#);
    moto.tool(&["abort-all", "photos"]);
    let output =
        run_ok(
            moto.ferry(&env)
                .arg("sync")
                .arg(&source)
                .args(["--to", "s3://photos/", "--json"]),
        );
    let summary = summary_of(&output);
    assert!(summary.contains(r#""succeeded":1"#), "{summary}");
    assert_eq!(moto.digests("photos"), expected_objects(&source, ""));
    assert_eq!(moto.tool(&["uploads", "photos"]).trim(), "[]");
}

/// S3's answer when it wants fewer requests.
const SLOW_DOWN: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";

/// Through the fault proxy to a Garage node: resets at random body bytes,
/// 503 `SlowDown` with its XML body, a 500 and stalls land on the bucket
/// check, HEADs, PutObject, multipart creation, parts and Complete alike.
/// Every job ends succeeded and every object reads back identical.
#[test]
fn resets_slow_downs_and_stalls_end_with_every_job_succeeded() {
    let env = TestEnv::new();
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let source = env.path().join("media");
    photos(&source, 30);
    write_big(&source.join("video/clip.mov"), 48 * MIB, 4);
    for seed in 1..=2u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let faults: Vec<Fault> = (0..60)
            .map(|_| match rng.u8(0..10) {
                0 | 1 => Fault::Xml(503, SLOW_DOWN),
                2 => Fault::ResetAfter(rng.u64(0..4 << 20)),
                3 => Fault::Status(500),
                4 if rng.bool() => Fault::Stall(Duration::from_secs(3)),
                _ => Fault::Pass,
            })
            .collect();
        let upstream = garage
            .endpoint
            .trim_start_matches("http://")
            .parse()
            .unwrap();
        let proxy = FaultProxy::start(upstream, &faults);
        let prefix = format!("seed{seed}/");
        let output = run_ok(
            garage
                .ferry(&env)
                .env("AWS_ENDPOINT_URL", format!("http://{}", proxy.address))
                .arg("sync")
                .arg(&source)
                .args(["--to", &format!("s3://photos/{prefix}")])
                .args(["--idle-timeout", "1s", "--retries", "10", "--json"]),
        );
        let summary = summary_of(&output);
        assert!(
            summary.contains(r#""succeeded":31"#),
            "seed {seed}: {summary}"
        );
        assert_eq!(proxy.remaining(), 0, "seed {seed}: not every fault landed");
        let stored: BTreeMap<String, String> = garage
            .digests("photos")
            .into_iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .collect();
        assert_eq!(stored, expected_objects(&source, &prefix), "seed {seed}");
    }
}

/// `ferry probe s3://…` against Garage: a bucket the keys may write is
/// ready (exit 0), a killed multipart upload shows as unfinished with its
/// age, and a missing bucket or a wrong secret is exit 1 with the secret
/// printed nowhere.
#[test]
fn probe_reports_the_bucket_the_keys_and_unfinished_uploads() {
    let env = TestEnv::new();
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let probe = |url: &str| {
        let output = garage
            .ferry(&env)
            .args(["probe", url, "--json"])
            .output()
            .unwrap();
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
        (output.status.code(), report)
    };
    let (code, report) = probe("s3://photos/2026/");
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["credentials"], "accepted");
    assert_eq!(report["writable"], true);
    assert_eq!(report["unfinished_uploads"], 0);
    // The write check left nothing behind.
    assert_eq!(garage.tool(&["uploads", "photos"]).trim(), "[]");
    assert!(garage.digests("photos").is_empty());

    let source = env.path().join("media");
    write_big(&source.join("clip.mov"), 64 * MIB, 6);
    let mut child = garage
        .ferry(&env)
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://photos/2026/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..500 {
        let journal = std::fs::read_to_string(env.journal()).unwrap_or_default();
        if journal.contains(r#""number":"#) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    child.wait().unwrap();
    let (_, report) = probe("s3://photos/2026/");
    assert_eq!(report["unfinished_uploads"], 1, "{report}");
    assert!(report["oldest_unfinished_seconds"].as_u64().unwrap() < 600);
    let (_, elsewhere) = probe("s3://photos/other/");
    assert_eq!(elsewhere["unfinished_uploads"], 0, "{elsewhere}");

    let (code, report) = probe("s3://no-such-bucket/");
    assert_eq!(code, Some(1));
    assert_eq!(report["bucket_exists"], false);
    let refused = garage
        .ferry(&env)
        .env("AWS_SECRET_ACCESS_KEY", "wrong-s3cr3t")
        .args(["probe", "s3://photos/"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let text = String::from_utf8_lossy(&refused.stdout).into_owned() + &stderr_of(&refused);
    assert!(text.contains("credentials:    refused"), "{text}");
    assert!(
        !text.contains("wrong-s3cr3t") && !text.contains(&garage.secret),
        "{text}"
    );
}

/// A configured destination whose keys come from `${VAR}`s (no AWS
/// variable set) reaches Garage, which checks the signature; an object
/// another tool stored whole with a SHA-256 checksum counts as this
/// content; a name that is not UTF-8 gets its reversible key.
#[test]
fn a_configured_destination_odd_names_and_objects_another_tool_stored() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let config = env.path().join("home/.config/ferry/config.toml");
    write_file(
        &config,
        format!(
            "[destinations.archive]\nurl = \"s3://photos/2026/\"\nendpoint = \"{}\"\n\
             region = \"garage\"\npath-style = true\n\
             access-key-id = \"${{ARCHIVE_KEY_ID}}\"\nsecret-access-key = \"${{ARCHIVE_SECRET}}\"\n",
            garage.endpoint
        )
        .as_bytes(),
    );
    let source = env.path().join("media");
    let same = content(11, 7000);
    write_file(&source.join("same.jpg"), &same);
    write_file(&source.join("100%.jpg"), &content(12, 3000));
    std::fs::write(
        source.join(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg")),
        content(13, 4000),
    )
    .unwrap();
    let copy = env.path().join("copy.jpg");
    std::fs::write(&copy, &same).unwrap();
    garage.tool(&["put", "photos", "2026/same.jpg", copy.to_str().unwrap()]);

    let output = run_ok(
        env.ferry()
            .env("ARCHIVE_KEY_ID", &garage.key_id)
            .env("ARCHIVE_SECRET", &garage.secret)
            .arg("sync")
            .arg(&source)
            .args(["--to", "archive", "--json"]),
    );
    let summary = summary_of(&output);
    assert!(summary.contains(r#""succeeded":3"#), "{summary}");
    assert!(
        summary.contains(r#""sent":7000"#),
        "only the two new files: {summary}"
    );
    let stored = garage.digests("photos");
    let keys: Vec<&str> = stored.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["2026/100%25.jpg", "2026/caf%E9.jpg", "2026/same.jpg"]
    );
    assert_eq!(
        stored["2026/caf%E9.jpg"],
        ferry::digest::Sha256::of(&content(13, 4000)).to_hex()
    );
}

/// A request retried after a `Retry-After` wait is signed again: a
/// signature made once could expire during long waits, and the store's 403
/// would then stop the run as refused credentials.
#[test]
fn each_attempt_of_a_put_and_a_part_is_signed_anew() {
    let sync_through = |faults: &[Fault]| {
        let env = TestEnv::new();
        let moto = Store::moto(&env.path().join("moto.log"), "photos");
        let upstream = moto.endpoint.trim_start_matches("http://").parse().unwrap();
        let proxy = FaultProxy::start(upstream, faults);
        let source = env.path().join("media");
        write_file(&source.join("a.jpg"), &content(8, 5000));
        write_big(&source.join("clip.mov"), 17 * MIB, 8);
        run_ok(
            moto.ferry(&env)
                .env("AWS_ENDPOINT_URL", format!("http://{}", proxy.address))
                .arg("sync")
                .arg(&source)
                .args(["--to", "s3://photos/", "-j", "1", "--part-concurrency", "1"])
                .args(["--chunk-size", "5M"]),
        );
        assert_eq!(moto.digests("photos"), expected_objects(&source, ""));
        proxy.requests()
    };
    let clean = sync_through(&[]);
    let put = |line: &String| line.starts_with("PUT /photos/a.jpg?");
    let part =
        |line: &String| line.starts_with("PUT /photos/clip.mov?") && line.contains("partNumber=2");
    let mut faults = Vec::new();
    for line in &clean {
        if put(line) || part(line) {
            faults.push(Fault::TooManyRequests(1));
        }
        faults.push(Fault::Pass);
    }
    let seen = sync_through(&faults);
    let date = |line: &String| {
        let at = line.find("X-Amz-Date=").expect("a presigned URL");
        line[at..].split('&').next().unwrap().to_owned()
    };
    for (what, matches) in [
        ("PutObject", &put as &dyn Fn(&String) -> bool),
        ("UploadPart", &part),
    ] {
        let attempts: Vec<&String> = seen.iter().filter(|line| matches(line)).collect();
        assert_eq!(attempts.len(), 2, "{what}: {seen:#?}");
        assert_ne!(
            date(attempts[0]),
            date(attempts[1]),
            "{what} was not signed again"
        );
    }
}

/// A server on an S3 endpoint whose error answers never end: ferry reads
/// at most 4 MiB of it, fails the job in one line, and does not hang.
#[test]
fn an_endless_answer_is_read_only_up_to_a_cap() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut first = String::new();
                    if reader.read_line(&mut first).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        if line.trim().is_empty() {
                            break;
                        }
                        if let Some(value) =
                            line.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    std::io::Read::read_exact(&mut reader, &mut body).unwrap();
                    if first.starts_with("HEAD /photos/ ")
                        || first.starts_with("HEAD /photos?")
                        || first.starts_with("HEAD /photos/?")
                    {
                        out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                            .unwrap();
                    } else if first.starts_with("HEAD") {
                        out.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                            .unwrap();
                    } else {
                        out.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
                        let chunk = format!(
                            "10000\r\n{}\r\n",
                            "<x>".repeat(0x10000 / 3 + 1)[..0x10000].to_owned()
                        );
                        while out.write_all(chunk.as_bytes()).is_ok() {}
                        return;
                    }
                }
            });
        }
    });
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(3, 5000));
    let child = env
        .ferry()
        .env("AWS_ACCESS_KEY_ID", "test-key")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", format!("http://{address}"))
        .arg("sync")
        .arg(&source)
        .args(["--to", "s3://photos/", "--retries", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = crate::util::output_within(
        child,
        Duration::from_secs(30),
        "ferry kept reading an endless answer",
    );
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("is larger than 4.0 MiB"), "{text}");
}
