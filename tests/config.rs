//! The config file: named destinations, precedence (flag, env var, config
//! file, default), `${VAR}` in headers, secrets, and one-line errors.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::http::Server;
use crate::upload::run_ok;
use crate::util::{TestEnv, content, stderr_of, stdout_of, write_file};

/// Writes the config where `directories` finds it for the test's HOME.
fn write_default_config(env: &TestEnv, text: &str) -> PathBuf {
    let path = env.path().join("home/.config/ferry/config.toml");
    write_config(&path, text, 0o600)
}

fn write_config(path: &Path, text: &str, mode: u32) -> PathBuf {
    write_file(path, text.as_bytes());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.to_owned()
}

/// The protocol `ferry serve` logged for the file named `name`.
fn protocol_logged(server: &Server, name: &str) -> String {
    let log = server.wait_for_log(name);
    let line = log.lines().find(|line| line.contains(name)).unwrap();
    line.rsplit(", ").next().unwrap().to_owned()
}

#[test]
fn flags_win_over_env_vars_which_win_over_the_config_file_which_wins_over_defaults() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let url = server.url("/files/");
    write_default_config(
        &env,
        &format!("[destinations.home]\nurl = \"{url}\"\nprotocol = \"tus\"\nietf-version = 5\n"),
    );
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: [Case; 6] = [
        ("config", &[], &[], "tus 1.0.0"),
        ("env", &[("FERRY_PROTOCOL", "put")], &[], "plain PUT"),
        (
            "flag-over-env",
            &[("FERRY_PROTOCOL", "put")],
            &["--protocol", "ietf"],
            "IETF draft (interop 5)",
        ),
        (
            "env-version",
            &[("FERRY_IETF_VERSION", "6")],
            &["--protocol", "ietf"],
            "IETF draft (interop 6)",
        ),
        (
            "flag-version",
            &[("FERRY_IETF_VERSION", "6")],
            &["--protocol", "ietf", "--ietf-version", "7"],
            "IETF draft (interop 7)",
        ),
        ("default", &[], &[], "IETF draft (interop 8)"),
    ];
    for (n, (case, vars, flags, expected)) in cases.into_iter().enumerate() {
        let source = env.path().join(case);
        let name = format!("{case}.jpg");
        write_file(&source.join(&name), &content(n as u32, 3000));
        // The default case names a URL that no configured destination has.
        let other = server.url("/files/other/");
        let to = if case == "default" { &other } else { "home" };
        let mut command = env.ferry();
        command
            .arg("sync")
            .arg(&source)
            .args(["--to", to])
            .args(flags)
            .envs(vars.iter().copied());
        run_ok(&mut command);
        assert_eq!(
            protocol_logged(&server, &name),
            expected,
            "{case}: {}",
            server.log()
        );
    }
}

#[test]
fn configured_excludes_add_to_the_flags_and_a_flag_include_replaces_the_configured_one() {
    let env = TestEnv::new();
    let source = env.path().join("media");
    for name in ["keep.jpg", "keep.png", "skip-1.jpg", "other-1.jpg"] {
        write_file(&source.join(name), name.as_bytes());
    }
    let dest = env.path().join("backup");
    write_default_config(
        &env,
        &format!(
            "[destinations.nas]\nurl = \"{}\"\ninclude = [\"*.jpg\"]\nexclude = [\"skip-*\"]\n",
            dest.display()
        ),
    );
    let queued = |extra: &[&str]| -> Vec<String> {
        let output = run_ok(
            env.ferry()
                .args(["--json", "scan", "--dry-run"])
                .arg(&source)
                .args(["--to", "nas"])
                .args(extra),
        );
        let mut names: Vec<String> = stdout_of(&output)
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .filter(|event| event["type"] == "queued")
            .map(|event| {
                let path = event["path"].as_str().unwrap();
                path.rsplit('/').next().unwrap().to_owned()
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(queued(&[]), ["keep.jpg", "other-1.jpg"]);
    assert_eq!(queued(&["--exclude", "other-*"]), ["keep.jpg"]);
    assert_eq!(queued(&["--include", "*.png"]), ["keep.png"]);
}

#[test]
fn a_configured_secret_from_an_env_var_is_sent_and_never_recorded() {
    const TOKEN: &str = "c0nfig-s3cret-token";
    const LITERAL: &str = "l1teral-api-key";
    let env = TestEnv::new();
    let token_file = env.path().join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &["--token-file", token_file.to_str().unwrap()]);
    let config = write_default_config(
        &env,
        &format!(
            "[destinations.home]\nurl = \"{}\"\nheaders = {{ Authorization = \"Bearer ${{HOME_TOKEN}}\" }}\n",
            server.url("/files/")
        ),
    );
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(7, 9000));

    let unset = env
        .ferry()
        .arg("sync")
        .arg(&source)
        .args(["--to", "home"])
        .output()
        .unwrap();
    let stderr = stderr_of(&unset);
    assert_eq!(unset.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!(
            "ferry: error: config {} line 3, destinations.home.headers.Authorization: ${{HOME_TOKEN}} is not set (or empty)",
            config.display()
        )
    );

    let probed = run_ok(
        env.ferry_bare()
            .env("HOME_TOKEN", TOKEN)
            .args(["--json", "probe", "home"]),
    );
    let report: serde_json::Value = serde_json::from_str(stdout_of(&probed).trim()).unwrap();
    assert_eq!(report["credentials"], "accepted");

    // FERRY_TOKEN holds another server's token: the configured header wins.
    let output = run_ok(
        env.ferry()
            .env("HOME_TOKEN", TOKEN)
            .env("FERRY_TOKEN", "token-for-another-server")
            .arg("--json")
            .arg("--log-file")
            .arg(env.path().join("ferry.log"))
            .arg("sync")
            .arg(&source)
            .args(["--to", "home"]),
    );
    assert_eq!(std::fs::read(dest.join("a.jpg")).unwrap(), content(7, 9000));
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    let log = std::fs::read_to_string(env.path().join("ferry.log")).unwrap();
    assert!(log.contains("started a.jpg"), "{log}");
    for text in [
        &journal,
        &log,
        &stdout_of(&output),
        &stderr_of(&output),
        &server.log(),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert!(!stderr_of(&output).contains("warning"));

    // A literal secret in a file others can read: a warning naming the line
    // and key, never the secret; none once the file is private.
    let shared = env.path().join("shared.toml");
    let text = format!(
        "[destinations.lit]\nurl = \"{}\"\n\n[destinations.lit.headers]\nX-Api-Key = \"{LITERAL}\"\nAuthorization = \"Bearer ${{HOME_TOKEN}}\"\n",
        server.url("/files/")
    );
    write_config(&shared, &text, 0o644);
    let warned = run_ok(
        env.ferry()
            .env("HOME_TOKEN", TOKEN)
            .arg("--config")
            .arg(&shared)
            .args(["--json", "probe", "lit"]),
    );
    let stderr = stderr_of(&warned);
    assert!(
        stderr.contains(&format!(
            "warning: config {} line 5, destinations.lit.headers.X-Api-Key: a secret written in a file others can read",
            shared.display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.matches("warning").count(), 1, "{stderr}");
    for text in [&stdout_of(&warned), &stderr, &server.log()] {
        assert!(!text.contains(LITERAL) && !text.contains(TOKEN), "{text}");
    }
    write_config(&shared, &text, 0o600);
    let quiet = run_ok(
        env.ferry()
            .env("HOME_TOKEN", TOKEN)
            .env("FERRY_CONFIG", &shared)
            .args(["probe", "lit"]),
    );
    assert!(
        !stderr_of(&quiet).contains("warning"),
        "{}",
        stderr_of(&quiet)
    );
}

#[test]
fn a_bad_config_file_is_one_line_naming_the_file_the_line_and_the_key() {
    let env = TestEnv::new();
    let cases = [
        (
            "[destinations.home]\nurl = \"http://127.0.0.1:9/\"\nconcurency = 4\n",
            "line 3, destinations.home.concurency: unknown field `concurency`",
        ),
        (
            "[destinations.home]\nurl = \"http://127.0.0.1:9/\"\n\nchunk-size = \"lots\"\n",
            "line 4, destinations.home.chunk-size: ",
        ),
        (
            "[destinations.home]\nurl = \"http://127.0.0.1:9/\"\nietf-version = 4\n",
            "line 3, destinations.home.ietf-version: 4 is not one of 3, 5, 6, 7, 8",
        ),
        ("[destinations.home\nurl = 1\n", "line 1: "),
    ];
    for (text, expected) in cases {
        let path = write_config(&env.path().join("bad.toml"), text, 0o600);
        let output = env
            .ferry()
            .arg("--config")
            .arg(&path)
            .arg("status")
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!(
                "ferry: error: config {} {expected}",
                path.display()
            )),
            "{stderr}"
        );
    }

    let missing = env.path().join("missing.toml");
    let output = env
        .ferry()
        .arg("--config")
        .arg(&missing)
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains(missing.to_str().unwrap()));

    write_default_config(&env, "[destinations.home]\nurl = \"http://127.0.0.1:9/\"\n");
    let unknown = env
        .ferry()
        .args(["scan", "media", "--to", "hmoe"])
        .output()
        .unwrap();
    let stderr = stderr_of(&unknown);
    assert_eq!(unknown.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("destination \"hmoe\" is not a configured destination")
            && stderr.contains("names home); for a new folder here write ./hmoe"),
        "{stderr}"
    );
}

/// A server on 127.0.0.1 that answers every request `204` and keeps each
/// request head, lowercased.
fn recording_server() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line.to_ascii_lowercase());
            }
            kept.lock().unwrap().push(head);
            let _ = stream.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (address, heads)
}

#[test]
fn cancel_ends_an_ietf_session_in_the_destinations_configured_interop_version() {
    use ferry::journal::job::{Destination, Protocol, Session};
    use ferry::journal::store::Durability;
    let env = TestEnv::new();
    let (address, heads) = recording_server();
    let configured = format!("http://{address}/old/");
    write_default_config(
        &env,
        &format!("[destinations.old]\nurl = \"{configured}\"\nietf-version = 5\n"),
    );
    let mut store = env.store();
    for (url, session) in [
        (configured.clone(), "configured"),
        (format!("http://{address}/other/"), "unconfigured"),
    ] {
        let id = store
            .create(
                crate::util::resource(&format!("{session}.jpg"), 100),
                Destination::new(url, Protocol::Ietf),
                Durability::Lazy,
            )
            .unwrap();
        store
            .apply(&id, Durability::Lazy, |job| {
                job.register(Session {
                    url: format!("http://{address}/uploads/{session}"),
                    offset: 10,
                    protocol: Some(Protocol::Ietf),
                    id: None,
                    ..Default::default()
                })
            })
            .unwrap();
    }
    store.checkpoint().unwrap();
    drop(store);

    let output = run_ok(env.ferry().args(["cancel", "--pending"]));
    assert_eq!(stdout_of(&output).trim(), "cancel: 2 jobs");
    let heads = heads.lock().unwrap().clone();
    let head_of = |session: &str| {
        heads
            .iter()
            .find(|head| head.starts_with(&format!("delete /uploads/{session} ")))
            .unwrap_or_else(|| panic!("no DELETE of {session} in {heads:?}"))
            .clone()
    };
    assert!(
        head_of("configured").contains("upload-draft-interop-version: 5\r\n"),
        "{heads:?}"
    );
    assert!(
        head_of("unconfigured").contains("upload-draft-interop-version: 8\r\n"),
        "{heads:?}"
    );
}

#[test]
fn a_token_file_is_sent_never_recorded_and_a_bad_one_is_named() {
    const TOKEN: &str = "f1le-s3cret-token";
    let env = TestEnv::new();
    let server_token = env.path().join("server-token");
    std::fs::write(&server_token, TOKEN).unwrap();
    let server = Server::start(
        &env.path().join("dest"),
        &["--token-file", server_token.to_str().unwrap()],
    );
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(8, 9000));
    let sync = |token_file: &Path| {
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &server.url("/files/")])
            .arg("--token-file")
            .arg(token_file)
            .output()
            .unwrap()
    };

    let missing = env.path().join("no-such-token");
    let output = sync(&missing);
    assert_eq!(output.status.code(), Some(1), "{}", stderr_of(&output));
    assert_eq!(
        stderr_of(&output).trim(),
        format!(
            "ferry: error: --token-file {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    let two_words = env.path().join("two-words");
    std::fs::write(&two_words, "Bearer f1le-s3cret-token\n").unwrap();
    let output = sync(&two_words);
    assert_eq!(
        stderr_of(&output).trim(),
        format!(
            "ferry: error: --token-file {}: expected one token without spaces",
            two_words.display()
        )
    );

    let token_file = env.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let output = sync(&token_file);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(
        std::fs::read(server.dir.join("a.jpg")).unwrap(),
        content(8, 9000)
    );
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    assert!(!journal.contains(TOKEN));
    assert!(!stderr_of(&output).contains(TOKEN));
}

#[test]
fn a_password_in_a_destination_url_is_refused_and_never_shown() {
    const PASSWORD: &str = "hunter2-in-the-url";
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    let source = env.path().join("media");
    write_file(&source.join("a.jpg"), &content(8, 3000));
    let with_password =
        server
            .url("/files/")
            .replacen("http://", &format!("http://bob:{PASSWORD}@"), 1);
    write_default_config(
        &env,
        &format!("[destinations.home]\nurl = \"{with_password}\"\n"),
    );
    let sftp = format!("sftp://bob:{PASSWORD}@127.0.0.1:1/x/");
    let query = format!("{}?token={PASSWORD}", server.url("/files/"));
    let output = (env.ferry().arg("sync").arg(&source).args(["--to", &query]))
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a credential in the URL's query") && !stderr.contains(PASSWORD),
        "{stderr}"
    );
    for to in [with_password.as_str(), "home", sftp.as_str()] {
        let output = env
            .ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", to])
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{to}: {stderr}");
        assert!(
            stderr.contains("bob:***@127.0.0.1")
                && stderr.contains("a password in the URL is not accepted"),
            "{to}: {stderr}"
        );
        assert!(!stderr.contains(PASSWORD), "{stderr}");
        assert!(stdout_of(&output).is_empty(), "{to}");
    }
    assert!(!dest.join("a.jpg").exists());
    let journal = std::fs::read_to_string(env.journal()).unwrap_or_default();
    assert!(!journal.contains(PASSWORD), "{journal}");
}
