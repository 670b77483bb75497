//! Unattended runs: bandwidth limits and time windows, against `ferry serve`.
//! How fast a limited upload goes is measured in benches/bwlimit.sh, not
//! here; these tests check what a run does and leaves behind.

use std::path::Path;

use crate::http::Server;
use crate::upload::{assert_same_tree, run_ok, write_big};
use crate::util::{TestEnv, stderr_of, stdout_of, write_file};

const MIB: usize = 1 << 20;

fn json_lines(output: &std::process::Output) -> Vec<serde_json::Value> {
    stdout_of(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn of_type<'a>(lines: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|line| line["type"] == kind).collect()
}

fn scan(env: &TestEnv, source: &Path, url: &str) {
    run_ok(env.ferry().arg("scan").arg(source).args(["--to", url]));
}

#[test]
fn max_duration_stops_a_throttled_run_with_exit_0_and_the_next_run_finishes() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    for (i, name) in ["a.mov", "b.mov", "c.mov"].iter().enumerate() {
        write_big(&source.join(name), 4 * MIB, 20 + i as u32);
    }
    let server = Server::start(&env.path().join("dest"), &[]);
    scan(&env, &source, &server.url("/files/"));

    // 12 MiB at 2 MiB/s would take 6 s: the window ends it after 2.
    let stopped = env
        .ferry()
        .args(["--json", "upload", "-j", "2", "--bwlimit", "2M"])
        .args(["--max-duration", "2s"])
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(0), "{}", stderr_of(&stopped));
    let lines = json_lines(&stopped);
    let summary = of_type(&lines, "upload_summary")[0];
    assert_eq!(summary["stopped_by"], "max-duration", "{summary}");
    assert_eq!(summary["interrupted"], false);
    assert_eq!(summary["failed"], 0);
    let left = summary["left"].as_u64().unwrap();
    assert!(left >= 1, "{summary}");
    assert_eq!(summary["succeeded"].as_u64().unwrap() + left, 3);
    let closed = of_type(&lines, "window_closed");
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["by"], "max-duration");
    assert_eq!(closed[0]["cutoff"], "hard");
    assert_eq!(of_type(&lines, "bwlimit")[0]["bytes_per_second"], 2 * MIB);

    let jobs = run_ok(env.ferry().args(["jobs", "--json"]));
    let states: Vec<String> = stdout_of(&jobs)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .map(|job| job["state"].as_str().unwrap().to_owned())
        .collect();
    let waiting = states
        .iter()
        .filter(|state| *state == "pending" || *state == "registered")
        .count();
    assert_eq!(waiting as u64, left, "{states:?}");

    let resumed = run_ok(env.ferry().args(["--json", "upload"]));
    let lines = json_lines(&resumed);
    let summary = of_type(&lines, "upload_summary")[0];
    assert_eq!(summary["succeeded"].as_u64(), Some(left), "{summary}");
    assert!(summary.get("stopped_by").is_none());
    assert_same_tree(&source, &server.dir);
}

#[test]
fn a_soft_cutoff_lets_the_upload_in_flight_finish_and_starts_no_other() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    for (i, name) in ["a.mov", "b.mov", "c.mov"].iter().enumerate() {
        write_big(&source.join(name), 2 * MIB, 30 + i as u32);
    }
    let server = Server::start(&env.path().join("dest"), &[]);
    scan(&env, &source, &server.url("/files/"));
    let output = env
        .ferry()
        .args([
            "upload",
            "-j",
            "1",
            "--bwlimit",
            "2M",
            "--max-duration",
            "300ms",
        ])
        .args(["--cutoff-mode", "soft"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let text = stderr_of(&output);
    assert!(
        text.contains("--max-duration reached: finishing the uploads in flight"),
        "{text}"
    );
    assert!(
        text.contains("uploaded 1 file")
            && text.contains("2 left for the next run (stopped by --max-duration)"),
        "{text}"
    );
    // The one in flight arrived whole.
    assert_eq!(crate::upload::walk(&server.dir).len(), 1);
}

#[test]
fn limits_come_from_flags_variables_and_the_config_and_bad_ones_are_refused() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    write_file(
        &source.join("IMG_0001.jpg"),
        &crate::util::content(40, 300_000),
    );
    let server = Server::start(&env.path().join("dest"), &[]);
    let url = server.url("/files/");
    let config = env.path().join("ferry.toml");
    write_file(
        &config,
        format!("[destinations.home]\nurl = \"{url}\"\nbwlimit = \"00:00,1M 23:59,off\"\n")
            .as_bytes(),
    );
    let output = run_ok(
        env.ferry()
            .arg("--config")
            .arg(&config)
            .args(["--json", "sync"])
            .arg(&source)
            .args(["--to", "home"])
            .env("FERRY_BWLIMIT", "64M"),
    );
    let lines = json_lines(&output);
    let limits = of_type(&lines, "bwlimit");
    assert_eq!(limits.len(), 2, "{limits:?}");
    assert_eq!(limits[0]["bytes_per_second"], 64 * MIB);
    assert!(limits[0].get("destination").is_none());
    assert_eq!(limits[1]["destination"], url.as_str());
    assert_same_tree(&source, &server.dir);

    for (flag, value, named) in [
        ("--bwlimit", "0", "--bwlimit"),
        ("--bwlimit", "08:00,1M 8:30,off", "--bwlimit"),
        ("--max-duration", "soon", "--max-duration"),
        ("--stop-at", "25:00", "--stop-at"),
    ] {
        let refused = env.ferry().args(["upload", flag, value]).output().unwrap();
        assert_eq!(refused.status.code(), Some(2), "{flag} {value}");
        let text = stderr_of(&refused);
        assert!(text.contains(named), "{text}");
    }
    write_file(
        &config,
        format!("[destinations.home]\nurl = \"{url}\"\nbwlimit = \"fast\"\n").as_bytes(),
    );
    let refused = env
        .ferry()
        .arg("--config")
        .arg(&config)
        .args(["upload"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr_of(&refused).contains("bwlimit"),
        "{}",
        stderr_of(&refused)
    );
}

/// Waiting for the bandwidth limit is not a stall: four jobs sharing
/// 16 KiB/s each reserve a 16 KiB slice, so the last waits about 3 s for
/// its first byte, three times the idle timeout, and none is retried.
#[test]
fn waiting_for_the_bandwidth_limit_does_not_trip_the_stall_watchdog() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    for i in 0..4u32 {
        write_file(
            &source.join(format!("IMG_{i}.jpg")),
            &crate::util::content(60 + i, 16 << 10),
        );
    }
    let server = Server::start(&env.path().join("dest"), &[]);
    let output = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &server.url("/files/"), "-j", "4"])
        .args(["--bwlimit", "16K", "--idle-timeout", "1s", "--retries", "0"])
        .output()
        .unwrap();
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        !text.contains("retrying") && !text.contains("failed:"),
        "{text}"
    );
    assert_same_tree(&source, &server.dir);
}

/// A request reset while it waits for the bandwidth limit leaves the stall
/// watchdog as it was: the retry that then stalls is ended after
/// `--idle-timeout`, and the run ends instead of hanging.
#[test]
fn a_reset_during_a_bandwidth_wait_leaves_the_stall_watchdog_on() {
    use crate::fault_proxy::{Fault, FaultProxy};
    let env = TestEnv::new();
    let source = env.path().join("card");
    write_file(
        &source.join("clip.mov"),
        &crate::util::content(70, 256 << 10),
    );
    let server = Server::start(&env.path().join("dest"), &[]);
    let faults = [
        Fault::Pass,
        Fault::ResetAfter(20_000),
        Fault::Stall(std::time::Duration::from_secs(60)),
    ];
    let proxy = FaultProxy::start(server.address, &faults);
    let child = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &format!("http://{}/files/", proxy.address)])
        .args(["--protocol", "put", "--bwlimit", "64K"])
        .args(["--idle-timeout", "2s", "--retries", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = crate::util::output_within(
        child,
        std::time::Duration::from_secs(30),
        "the stalled retry was never ended",
    );
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(text.contains("stalled"), "{text}");
}

#[test]
fn max_duration_stops_a_throttled_copy_into_a_local_folder_in_time() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    for (i, name) in ["a.mov", "b.mov", "c.mov"].iter().enumerate() {
        write_big(&source.join(name), MIB, 30 + i as u32);
    }
    let dest = env.path().join("backup");
    // 3 MiB at 100 KiB/s would take 30 s: the window ends it after 1.
    let started = std::time::Instant::now();
    let stopped = env
        .ferry()
        .args(["--json", "sync", "-j", "1", "--bwlimit", "100k"])
        .args(["--max-duration", "1s"])
        .arg(&source)
        .arg("--to")
        .arg(&dest)
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(stopped.status.code(), Some(0), "{}", stderr_of(&stopped));
    let lines = json_lines(&stopped);
    let summary = of_type(&lines, "upload_summary")[0];
    assert_eq!(summary["stopped_by"], "max-duration", "{summary}");
    let left = summary["left"].as_u64().unwrap();
    assert!(left >= 1, "{summary}");
    assert!(
        took < std::time::Duration::from_secs(8),
        "the copy went on for {took:?} after its window"
    );
    let resumed = run_ok(env.ferry().args(["--json", "upload"]));
    let summary = of_type(&json_lines(&resumed), "upload_summary")[0].clone();
    assert_eq!(summary["succeeded"].as_u64(), Some(left), "{summary}");
}
