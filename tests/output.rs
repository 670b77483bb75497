//! What each audience sees: bars under a real pseudo-terminal, plain lines
//! without escape codes in a pipe, JSON lines that match README's schema,
//! silence with `--quiet`, the failures list, `--failed-list` and
//! `--log-file`, and the documented exit codes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::upload::{run_ok, write_big};
use crate::util::{ClosedPort, TestEnv, content, stderr_of, stdout_of, write_file};

const MIB: u64 = 1 << 20;

/// Runs `command` under a pseudo-terminal; returns its exit code and
/// everything it printed (stdout and stderr share the terminal).
fn under_pty(env: &TestEnv, command: &Command) -> (i32, String) {
    let out = env.path().join(format!("pty-{}.out", fastrand::u32(..)));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pty_run.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(&out)
        .arg(command.get_program())
        .args(command.get_args())
        .env_clear()
        .envs(command.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env("TERM", "xterm-256color")
        .current_dir(command.get_current_dir().unwrap())
        .status()
        .unwrap();
    let printed = String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned();
    (status.code().unwrap(), printed)
}

/// Reads JSON event lines until one that `wanted` accepts; fails with
/// `none` when the events end first.
fn read_until(events: &mut impl std::io::BufRead, none: &str, wanted: impl Fn(&str) -> bool) {
    loop {
        let mut line = String::new();
        assert!(events.read_line(&mut line).unwrap() > 0, "{none}");
        if wanted(&line) {
            return;
        }
    }
}

/// Three 4 MiB files, two at a time through a proxy passing 8 MiB/s: about
/// 1.5 s, long enough for bars to be drawn many times.
fn slow_upload(env: &TestEnv) -> (Server, FaultProxy, PathBuf) {
    let source = env.path().join("media");
    for n in 1..=3 {
        write_big(&source.join(format!("clip-{n}.mov")), (4 * MIB) as usize, n);
    }
    let server = Server::start(&env.path().join("dest"), &[]);
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(8 * MIB));
    (server, proxy, source)
}

fn sync_command(env: &TestEnv, source: &Path, proxy: &FaultProxy, extra: &[&str]) -> Command {
    let mut command = env.ferry();
    command
        .arg("sync")
        .arg(source)
        .args(["--to", &format!("http://{}/files/", proxy.address)])
        .args(["-j", "2", "--chunk-size", "1M"])
        .args(extra);
    command
}

#[test]
fn at_a_terminal_bars_are_drawn_for_the_scan_the_total_and_each_job() {
    let env = TestEnv::new();
    let (_server, proxy, source) = slow_upload(&env);
    let (code, printed) = under_pty(&env, &sync_command(&env, &source, &proxy, &[]));
    assert_eq!(code, 0, "{printed}");
    // Cursor movement and line erasing: indicatif redrawing in place.
    assert!(
        printed.contains("\x1b[2K") || printed.contains("\x1b[1A"),
        "{printed:?}"
    );
    assert!(printed.contains("/3 files"), "no total bar: {printed:?}");
    assert!(printed.contains("ETA"), "{printed:?}");
    assert!(printed.contains("clip-1.mov"), "no job bar: {printed:?}");
    assert!(
        printed.contains("uploading") || printed.contains("creating"),
        "no job state: {printed:?}"
    );
    assert!(printed.contains("MiB/s"), "{printed:?}");
    // Colour is on at a terminal: the bars' ANSI colours appear.
    assert!(
        printed.contains("\x1b[36m") || printed.contains("\x1b[32m"),
        "{printed:?}"
    );
    assert!(
        printed.contains("uploaded 3 files (12.0 MiB)"),
        "{printed:?}"
    );

    // NO_COLOR keeps the bars but drops the colours.
    let env2 = TestEnv::new();
    let source2 = env2.path().join("media");
    write_big(&source2.join("one.mov"), (4 * MIB) as usize, 9);
    let mut command = sync_command(&env2, &source2, &proxy, &[]);
    command.env("NO_COLOR", "1");
    let (code, printed) = under_pty(&env2, &command);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("one.mov"), "{printed:?}");
    for color in ["\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[37m"] {
        assert!(!printed.contains(color), "{color:?} in {printed:?}");
    }
}

#[test]
fn quiet_prints_nothing_on_a_clean_run_even_at_a_terminal() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(1, 5000));
    let dest = env.path().join("backup");
    let output = run_ok(
        env.ferry()
            .args(["-q", "sync"])
            .arg(&source)
            .arg("--to")
            .arg(&dest),
    );
    assert_eq!(
        (stdout_of(&output), stderr_of(&output)),
        (String::new(), String::new())
    );

    write_file(&source.join("b.jpg"), &content(2, 5000));
    let mut command = env.ferry();
    command
        .args(["-q", "sync"])
        .arg(&source)
        .arg("--to")
        .arg(&dest);
    let (code, printed) = under_pty(&env, &command);
    assert_eq!((code, printed.as_str()), (0, ""));
    assert_eq!(std::fs::read(dest.join("b.jpg")).unwrap(), content(2, 5000));
}

#[test]
fn without_a_terminal_there_are_lines_and_no_escape_code_at_all() {
    let env = TestEnv::new();
    let (_server, proxy, source) = slow_upload(&env);
    let log = env.path().join("ferry.log");
    let output = run_ok(
        sync_command(&env, &source, &proxy, &["--stats", "300ms"])
            .arg("--log-file")
            .arg(&log)
            .env("TERM", "xterm-256color"),
    );
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    for text in [&stdout, &stderr] {
        assert!(!text.contains('\x1b'), "escape code in {text:?}");
    }
    assert_eq!(stdout, "");
    for n in 1..=3 {
        assert!(
            stderr.contains(&format!("uploaded clip-{n}.mov (4.0 MiB)")),
            "{stderr}"
        );
    }
    let progress = stderr
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .count();
    assert!(progress >= 2, "{stderr}");
    assert!(stderr.contains("/3 files, "), "{stderr}");
    assert!(stderr.contains("uploaded 3 files (12.0 MiB)"), "{stderr}");
    assert!(
        stderr.contains("; 0 skipped, 0 duplicates, 0 already queued or uploaded; 0 failed"),
        "{stderr}"
    );

    // --progress none: no line per job and no progress line, the summary only.
    let quiet_source = env.path().join("more");
    write_file(&quiet_source.join("d.jpg"), &content(8, 3000));
    let none = run_ok(
        env.ferry()
            .args(["sync", "--progress", "none", "--stats", "1ms"])
            .arg(&quiet_source)
            .arg("--to")
            .arg(env.path().join("backup")),
    );
    let lines: Vec<String> = stderr_of(&none).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("scanned 1 file:") && lines[1].starts_with("uploaded 1 file"));

    // The log has timestamped lines, each job's start among them (-v level).
    let logged = std::fs::read_to_string(&log).unwrap();
    let started = logged.lines().filter(|l| l.contains(" started ")).count();
    assert_eq!(started, 3, "{logged}");
    for line in logged.lines() {
        let stamp = line.split(' ').next().unwrap();
        assert!(humantime::parse_rfc3339(stamp).is_ok(), "{line}");
        assert!(!line.contains('\x1b'), "{line:?}");
    }
}

/// README's "JSON events" table: type → field → (JSON types, optional).
fn documented_schema() -> BTreeMap<String, BTreeMap<String, (Vec<String>, bool)>> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## JSON events")
        .nth(1)
        .expect("a JSON events section");
    let mut schema = BTreeMap::new();
    for row in section.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        if !row.starts_with("| `") || cells.len() < 2 {
            continue;
        }
        let name = cells[0]
            .trim_start_matches("| ")
            .trim_matches('`')
            .to_owned();
        let mut fields = BTreeMap::new();
        for item in cells[1]
            .trim_end_matches(" |")
            .split(", ")
            .filter(|s| !s.is_empty() && *s != "—")
        {
            let (field, types) = item.split_once(' ').unwrap_or_else(|| panic!("{item}"));
            let optional = field.ends_with('?');
            let field = field.trim_end_matches('?').trim_matches('`').to_owned();
            let types = types.split('/').map(str::to_owned).collect();
            fields.insert(field, (types, optional));
        }
        schema.insert(name, fields);
    }
    assert!(schema.len() >= 15, "{schema:?}");
    schema
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Checks every line of a `--json` run against the schema; returns the types seen.
fn validate(
    stdout: &str,
    schema: &BTreeMap<String, BTreeMap<String, (Vec<String>, bool)>>,
) -> Vec<String> {
    let mut seen = Vec::new();
    for (n, line) in stdout.lines().enumerate() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {n}: {e}: {line}"));
        let object = value
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {line}"));
        let kind = object["type"]
            .as_str()
            .unwrap_or_else(|| panic!("no type: {line}"));
        let fields = schema
            .get(kind)
            .unwrap_or_else(|| panic!("type {kind} is not documented: {line}"));
        if n == 0 {
            assert_eq!(kind, "start", "{line}");
            assert_eq!(object["schema"], ferry::report::SCHEMA_VERSION);
        }
        for (field, value) in object.iter().filter(|(k, _)| *k != "type") {
            let (types, _) = fields
                .get(field)
                .unwrap_or_else(|| panic!("{kind}.{field} is not documented: {line}"));
            let actual = json_type(value);
            let allowed = types
                .iter()
                .any(|t| t == actual || (t == "number" && actual == "integer"));
            assert!(
                allowed,
                "{kind}.{field} is {actual}, documented as {types:?}: {line}"
            );
        }
        for (field, (_, optional)) in fields {
            assert!(
                *optional || object.contains_key(field),
                "{kind}.{field} missing: {line}"
            );
        }
        seen.push(kind.to_owned());
    }
    seen
}

#[test]
fn json_lines_match_the_documented_schema() {
    let schema = documented_schema();
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_big(&source.join("big.mov"), (6 * MIB) as usize, 4);
    write_file(&source.join("small.jpg"), &content(5, 3000));
    write_file(&source.join("gone.jpg"), &content(6, 3000));
    let server = Server::start(&env.path().join("dest"), &[]);
    let faults = [Fault::Pass, Fault::Status(503)];
    let proxy = FaultProxy::start_throttled(server.address, &faults, Some(4 * MIB));
    let url = format!("http://{}/files/", proxy.address);

    let scanned = run_ok(
        env.ferry()
            .args(["--json", "scan"])
            .arg(&source)
            .args(["--to", &url]),
    );
    let mut seen = validate(&stdout_of(&scanned), &schema);
    std::fs::remove_file(source.join("gone.jpg")).unwrap();
    let failed_list = env.path().join("failed.txt");
    let uploaded = env
        .ferry()
        .args([
            "--json",
            "upload",
            "-j",
            "1",
            "--chunk-size",
            "1M",
            "--failed-list",
        ])
        .arg(&failed_list)
        .output()
        .unwrap();
    assert_eq!(uploaded.status.code(), Some(3), "{}", stderr_of(&uploaded));
    seen.extend(validate(&stdout_of(&uploaded), &schema));
    let again = env.ferry().args(["--json", "upload"]).output().unwrap();
    seen.extend(validate(&stdout_of(&again), &schema));
    let seen: BTreeSet<String> = seen.into_iter().collect();
    for kind in [
        "start",
        "scan_walked",
        "scan_progress",
        "queued",
        "scan_summary",
        "upload_started",
        "job_started",
        "phase",
        "progress",
        "retrying",
        "succeeded",
        "failed",
        "upload_summary",
        "failure",
        "nothing_to_do",
    ] {
        assert!(seen.contains(kind), "no {kind} event in {seen:?}");
    }
    // Human text went to stderr: the failure, not JSON.
    assert!(
        stderr_of(&uploaded).contains("failed: gone.jpg: "),
        "{}",
        stderr_of(&uploaded)
    );
    assert_eq!(
        std::fs::read_to_string(&failed_list).unwrap(),
        format!("{}\n", source.join("gone.jpg").display())
    );
}

/// Queues `source` for `dest`, then deletes `name`: its job will fail.
fn queue_then_delete(env: &TestEnv, source: &Path, dest: &Path, name: &str) {
    run_ok(
        env.ferry()
            .args(["-q", "scan"])
            .arg(source)
            .arg("--to")
            .arg(dest),
    );
    std::fs::remove_file(source.join(name)).unwrap();
}

#[test]
fn the_failures_list_names_id_path_reason_and_attempts_and_how_to_retry_or_acknowledge() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("kept.jpg"), &content(1, 3000));
    write_file(&source.join("gone.jpg"), &content(2, 3000));
    queue_then_delete(&env, &source, &env.path().join("backup"), "gone.jpg");
    let output = env.ferry().args(["-q", "upload"]).output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    let id = env
        .store()
        .jobs()
        .iter()
        .find(|job| job.error.is_some())
        .unwrap()
        .id
        .clone();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("failed: gone.jpg: "), "{stderr}");
    assert!(lines[1].starts_with("uploaded 1 file"), "{stderr}");
    assert!(
        lines[2].contains("ferry retry --all")
            && lines[2].contains("queues it again, `ferry ack --failed` takes it off"),
        "{stderr}"
    );
    let entry = format!("  {}  {}  ", id.short(), source.join("gone.jpg").display());
    let ack = format!(
        "(1 attempt; the file is gone, so a retry cannot send it: `ferry ack {}` takes it off the list)",
        id.short()
    );
    assert!(
        lines[3].starts_with(&entry) && lines[3].ends_with(&ack),
        "{stderr}"
    );
    assert_eq!(lines.len(), 4, "{stderr}");

    // The list stays until acknowledged; then the run is clean and silent.
    let again = env.ferry().args(["-q", "upload"]).output().unwrap();
    assert_eq!(again.status.code(), Some(3));
    assert!(stderr_of(&again).contains(&entry));
    run_ok(env.ferry().args(["-q", "ack", "--failed"]));
    let clean = run_ok(env.ferry().args(["-q", "upload"]));
    assert_eq!(stderr_of(&clean), "");
}

/// One place that shows every documented exit code, and that README and
/// the man page list them all.
#[test]
fn each_exit_code_is_documented_and_earned() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(1, 3000));
    let dest = env.path().join("backup");
    let code = |command: &mut Command| command.output().unwrap().status.code().unwrap();

    assert_eq!(
        code(
            env.ferry()
                .args(["-q", "sync"])
                .arg(&source)
                .arg("--to")
                .arg(&dest)
        ),
        0
    );
    let closed_port = ClosedPort::new();
    let closed = closed_port.url();
    write_file(&source.join("b.jpg"), &content(2, 3000));
    assert_eq!(
        code(
            env.ferry()
                .args(["-q", "sync"])
                .arg(&source)
                .args(["--to", &closed])
        ),
        1
    );
    assert_eq!(code(env.ferry().args(["sync", "--no-such-flag"])), 2);
    run_ok(env.ferry().args(["-q", "cancel", "--pending"]));
    write_file(&source.join("c.jpg"), &content(3, 3000));
    queue_then_delete(&env, &source, &dest, "c.jpg");
    assert_eq!(code(env.ferry().args(["-q", "upload"])), 3);
    let holder = env.store();
    assert_eq!(code(env.ferry().args(["-q", "ack", "--failed"])), 4);
    drop(holder);

    // 130: SIGINT while a slow upload runs.
    let env = TestEnv::new();
    let (_server, proxy, slow) = slow_upload(&env);
    let mut child = env
        .ferry()
        .args(["--json", "sync"])
        .arg(&slow)
        .args([
            "--to",
            &format!("http://{}/files/", proxy.address),
            "-j",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once an upload is under way (an event, not a guessed time).
    let mut events = std::io::BufReader::new(child.stdout.take().unwrap());
    read_until(&mut events, "no job started", |line| {
        line.contains("\"type\":\"job_started\"")
    });
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    std::thread::spawn(move || std::io::copy(&mut events, &mut std::io::sink()));
    assert_eq!(child.wait().unwrap().code(), Some(130));

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let man = std::fs::read_to_string(root.join("man/ferry.1")).unwrap();
    for code in ["0", "1", "2", "3", "4", "130"] {
        assert!(
            readme.contains(&format!("| {code} |")),
            "README lacks exit code {code}"
        );
        assert!(
            man.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "man page lacks exit code {code}"
        );
    }
}

/// Reads one line of the child's stdout, then closes the pipe, as `| head -1` does.
fn read_one_line_and_close(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    line
}

#[test]
fn a_closed_pipe_ends_a_listing_quietly_and_stops_a_run_resumably() {
    use std::process::Stdio;
    let env = TestEnv::new();
    {
        let mut store = env.store();
        crate::util::create_jobs(&mut store, 3000);
        store.checkpoint().unwrap();
    }
    for args in [&["jobs"][..], &["--json", "jobs"][..]] {
        let mut child = env
            .ferry()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let first = read_one_line_and_close(&mut child);
        assert!(!first.is_empty());
        let output = child.wait_with_output().unwrap();
        let stderr = stderr_of(&output);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }

    // `ferry --json upload | head -1`: the run stops, resumably.
    let env = TestEnv::new();
    let source = env.path().join("media");
    for i in 0..6u32 {
        write_big(&source.join(format!("clip{i}.mov")), 4 << 20, 80 + i);
    }
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let proxy = FaultProxy::start_throttled(server.address, &[], Some(4 << 20));
    let to = format!("http://{}/files/", proxy.address);
    run_ok(env.ferry().arg("scan").arg(&source).args(["--to", &to]));
    let mut child = env
        .ferry()
        .args(["--json", "upload", "-j", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = read_one_line_and_close(&mut child);
    assert!(first.contains("\"start\""), "{first}");
    let output = child.wait_with_output().unwrap();
    let stderr = stderr_of(&output);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let stored = std::fs::read_dir(&dest)
        .unwrap()
        .filter(|entry| {
            !entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert!(stored < 6, "the run went on after its reader left");
    run_ok(env.ferry().arg("upload"));
    crate::upload::assert_same_tree(&source, &dest);
}

/// One 8 MiB clip, half sent by a run its time window stopped (ferry serve
/// kept those bytes); the environment and source for the run that resumes.
fn half_sent_clip(env: &TestEnv) -> (Server, PathBuf) {
    let source = env.path().join("card");
    write_big(&source.join("clip.mov"), (8 * MIB) as usize, 41);
    let server = Server::start(&env.path().join("dest"), &[]);
    let stopped = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", &server.url("/files/"), "--protocol", "ietf"])
        .args([
            "--chunk-size",
            "512K",
            "--bwlimit",
            "2M",
            "--max-duration",
            "2s",
        ])
        .output()
        .unwrap();
    assert_eq!(stopped.status.code(), Some(0), "{}", stderr_of(&stopped));
    (server, source)
}

/// Every "N MiB/s" (or KiB/s, B/s) rate in `text`, in MiB/s.
fn rates(text: &str) -> Vec<f64> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("iB/s").chain(text.match_indices(" B/s")) {
        let before = &text[..at];
        let (number, unit) = match before.strip_suffix(" M").or(before.strip_suffix('M')) {
            Some(rest) => (rest, 1.0),
            None => match before.strip_suffix(" K").or(before.strip_suffix('K')) {
                Some(rest) => (rest, 1.0 / 1024.0),
                None => (before, 1.0 / (1024.0 * 1024.0)),
            },
        };
        let digits: String = number
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if let Ok(value) = digits.parse::<f64>() {
            found.push(value * unit);
        }
    }
    found
}

#[test]
fn a_resumed_upload_reports_where_it_resumed_what_it_sent_and_its_true_rate() {
    let env = TestEnv::new();
    let (_server, _source) = half_sent_clip(&env);
    let output = env
        .ferry()
        .args(["--progress", "lines", "--json", "upload", "--bwlimit", "4M"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let summary: serde_json::Value = stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|line| line["type"] == "upload_summary")
        .unwrap();
    let (sent, resumed) = (
        summary["sent"].as_u64().unwrap(),
        summary["resumed"].as_u64().unwrap(),
    );
    assert!((MIB..8 * MIB).contains(&resumed), "{summary}");
    assert!(sent >= 8 * MIB - resumed && sent < 8 * MIB, "{summary}");

    // Lines mode: where it resumed, and a summary of what was sent.
    let env = TestEnv::new();
    let (_server, _source) = half_sent_clip(&env);
    let output = env
        .ferry()
        .args(["--progress", "lines", "upload", "--bwlimit", "4M"])
        .output()
        .unwrap();
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("resuming clip.mov at "), "{text}");
    assert!(
        text.contains(" of 8.0 MiB (the destination confirmed"),
        "{text}"
    );
    assert!(text.contains("uploaded 1 file (8.0 MiB) in "), "{text}");
    assert!(text.contains(" resumed; 0 failed"), "{text}");
    let summary = text
        .lines()
        .find(|l| l.starts_with("uploaded 1 file"))
        .unwrap();
    assert!(rates(summary).iter().all(|&rate| rate < 5.0), "{summary}");

    // Bars: no rate is the jump to the resumed offset.
    let env = TestEnv::new();
    let (_server, _source) = half_sent_clip(&env);
    let mut upload = env.ferry();
    upload.args(["upload", "--bwlimit", "2M"]);
    let (code, printed) = under_pty(&env, &upload);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("resuming at"), "{printed:?}");
    let seen = rates(&printed);
    assert!(!seen.is_empty(), "{printed:?}");
    assert!(
        seen.iter().all(|&rate| rate < 4.0),
        "{seen:?} in {printed:?}"
    );
}

#[test]
fn an_interrupted_run_reports_the_bytes_it_sent() {
    let env = TestEnv::new();
    let source = env.path().join("card");
    write_big(&source.join("clip.mov"), (8 * MIB) as usize, 42);
    let server = Server::start(&env.path().join("dest"), &[]);
    let mut child = env
        .ferry()
        .args(["--json", "sync"])
        .arg(&source)
        .args(["--to", &server.url("/files/"), "--protocol", "ietf"])
        .args(["--chunk-size", "512K", "--bwlimit", "2M"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = std::io::BufReader::new(child.stdout.take().unwrap());
    read_until(&mut events, "no progress", |line| {
        line.contains("\"type\":\"progress\"") && !line.contains("\"offset\":0")
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut events, &mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let summary: serde_json::Value = rest
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|line| line["type"] == "upload_summary")
        .unwrap();
    assert_eq!(summary["succeeded"], 0, "{summary}");
    assert!(summary["sent"].as_u64().unwrap() >= 512 * 1024, "{summary}");
}

#[test]
fn a_file_name_cannot_forge_a_line_of_output_or_of_the_log() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    write_file(
        &source.join("new\nuploaded fake.jpg (1 KiB)\u{1b}[31m.jpg"),
        &crate::util::content(5, 3000),
    );
    let log = env.path().join("ferry.log");
    let output = env
        .ferry()
        .arg("--log-file")
        .arg(&log)
        .arg("sync")
        .arg(&source)
        .args(["--to", env.path().join("dest").to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // A file gone before its upload: the failure's reason quotes its path.
    let gone = source.join("gone\nuploaded forged.jpg");
    write_file(&gone, &crate::util::content(6, 3000));
    let to = env.path().join("dest2");
    run_ok(
        env.ferry()
            .args(["scan", "-q"])
            .arg(&source)
            .args(["--to", to.to_str().unwrap()]),
    );
    std::fs::remove_file(&gone).unwrap();
    let failed = env.ferry().arg("upload").output().unwrap();
    let failed = stderr_of(&failed);
    assert!(
        failed.contains("failed: gone\\nuploaded forged.jpg: "),
        "{failed}"
    );
    assert!(
        !failed
            .lines()
            .any(|line| line.starts_with("uploaded forged.jpg")),
        "{failed}"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    for text in [&stderr, &log] {
        assert!(
            text.contains("uploaded new\\nuploaded fake.jpg (1 KiB)\\u{1b}[31m.jpg (2.9 KiB)"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            !text
                .lines()
                .any(|line| line.starts_with("uploaded fake.jpg")
                    || line.contains(" uploaded fake.jpg")),
            "{text}"
        );
    }
}

#[test]
fn json_events_that_cannot_be_written_fail_the_run_and_the_upload_still_counts() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    write_file(&card.join("a.jpg"), b"a photo");
    let dest = env.path().join("backup");
    for command in [&["--json", "sync"][..], &["--json", "verify"][..]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut ferry = env.ferry();
        ferry.args(command);
        if command[1] == "sync" {
            ferry.arg(&card).arg("--to").arg(&dest);
        }
        let output = ferry.stdout(full).output().unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {stderr}");
        assert!(
            stderr.contains(
                "ferry: error: could not write to standard output: No space left on device"
            ),
            "{command:?}: {stderr}"
        );
    }
    // What the run did is not lost with its events.
    assert_eq!(std::fs::read(dest.join("a.jpg")).unwrap(), b"a photo");
    let jobs = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    assert!(jobs.contains("\"state\":\"succeeded\""), "{jobs}");
    // A worse exit code stays, and the lost output is still said.
    std::fs::remove_file(dest.join("a.jpg")).unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let verify = env
        .ferry()
        .args(["--json", "verify"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(3), "{}", stderr_of(&verify));
    assert!(
        stderr_of(&verify).contains("could not write to standard output"),
        "{}",
        stderr_of(&verify)
    );
}

#[test]
fn a_file_edited_in_place_with_its_times_kept_is_pointed_to_a_rehash_which_sends_it() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    let photo = card.join("a.jpg");
    write_file(&photo, b"AAAAAAAAAA");
    let scanned_at = std::fs::metadata(&photo).unwrap().modified().unwrap();
    let dest = env.path().join("backup");
    run_ok(
        env.ferry()
            .args(["scan", "-q"])
            .arg(&card)
            .arg("--to")
            .arg(&dest),
    );
    // The same size, mtime and inode; other bytes.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&photo)
        .unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, b"BBBBBBBBBB", 0).unwrap();
    file.set_modified(scanned_at).unwrap();
    drop(file);
    let upload = env.ferry().arg("upload").output().unwrap();
    assert_eq!(upload.status.code(), Some(3), "{}", stderr_of(&upload));
    let listed = stderr_of(&upload);
    assert!(
        listed.contains("so only `ferry sync --rehash` of its folder reads it again"),
        "{listed}"
    );
    // What the hint says: a plain sync trusts the hash it has...
    let sync = || {
        let mut command = env.ferry();
        command.arg("sync").arg(&card).arg("--to").arg(&dest);
        command
    };
    let plain = sync().output().unwrap();
    assert!(!dest.join("a.jpg").exists(), "{}", stderr_of(&plain));
    // ...and a rehash sends the new content.
    run_ok(sync().arg("--rehash"));
    assert_eq!(std::fs::read(dest.join("a.jpg")).unwrap(), b"BBBBBBBBBB");
}
