//! The fault matrix: `--protocol auto` against `ferry serve` (IETF, and tus
//! by name) and both independent tus servers, through the fault proxy with
//! a seeded mix of resets (at random body bytes), 502, 503 and 429 landing
//! on OPTIONS, creation and appends alike. Every job ends succeeded and
//! byte-identical, for several seeds. (Stalls have their own test in
//! `upload_faults`: each costs an idle timeout.)

use std::path::Path;
use std::time::Duration;

use ferry::journal::job::State;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::upload::{Peer, sha256_of, tree, walk, write_big};
use crate::util::{TestEnv, stderr_of};

/// The first 40 requests draw a fault at random (about one in three), then
/// everything passes.
fn faults(seed: u64) -> Vec<Fault> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..40)
        .map(|_| match rng.u8(0..12) {
            0 => Fault::Status(503),
            1 => Fault::Status(502),
            2 => Fault::TooManyRequests(0),
            3 => Fault::ResetAfter(rng.u64(0..200_000)),
            _ => Fault::Pass,
        })
        .collect()
}

/// Every source file's content is among the stored files (a server that
/// stores by upload ID may also keep sessions a fault orphaned).
fn every_source_stored(source: &Path, store: &Path) {
    let stored: std::collections::BTreeSet<String> =
        walk(store).iter().map(|path| sha256_of(path)).collect();
    for (path, sha) in tree(source) {
        assert!(
            stored.contains(&sha),
            "{} is not stored whole",
            path.display()
        );
    }
}

#[test]
fn every_job_succeeds_byte_identical_through_seeded_faults() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    for i in 0..6u32 {
        write_big(
            &source.join(format!("clip{i}.mov")),
            (3 << 20) + i as usize * 700_001,
            40 + i,
        );
    }
    for seed in [1u64, 2, 3] {
        for server in ["ferry-ietf", "ferry-tus", "tus-node", "resumable-upload"] {
            let store = env.path().join(format!("{server}-{seed}"));
            std::fs::create_dir_all(&store).unwrap();
            let (_serve, _peer, upstream, url_path) = match server {
                "ferry-ietf" | "ferry-tus" => {
                    let serve = Server::start(&store, &[]);
                    let address = serve.address;
                    (Some(serve), None, address, "/files/".to_owned())
                }
                other => {
                    let peer = match other {
                        "tus-node" => Peer::tus_node(&store),
                        _ => Peer::resumable_upload(&store),
                    };
                    let rest = peer.url.trim_start_matches("http://").to_owned();
                    let (address, path) = rest.split_once('/').unwrap();
                    let address = address.parse().unwrap();
                    (None, Some(peer), address, format!("/{path}"))
                }
            };
            let proxy = FaultProxy::start(upstream, &faults(seed));
            let to = format!("http://{}{url_path}", proxy.address);
            let protocol = if server == "ferry-tus" { "tus" } else { "auto" };
            let journal = env.path().join(format!("{server}-{seed}.jsonl"));
            let output = env
                .ferry_bare()
                .arg("--journal")
                .arg(&journal)
                .arg("sync")
                .arg(&source)
                .args(["--to", &to, "--protocol", protocol, "--chunk-size", "1M"])
                .output()
                .unwrap();
            let stderr = stderr_of(&output);
            assert!(output.status.success(), "{server}, seed {seed}: {stderr}");
            let jobs = ferry::journal::store::Store::open_read_only(&journal).unwrap();
            assert!(
                jobs.jobs().iter().all(|job| job.state == State::Succeeded),
                "{server}, seed {seed}: {stderr}"
            );
            if server.starts_with("ferry") {
                crate::upload::assert_same_tree(&source, &store);
            } else {
                every_source_stored(&source, &store);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
