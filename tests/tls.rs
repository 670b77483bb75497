//! `ferry serve` over TLS, with certificates made here by openssl: ferry
//! (`--ca-cert`), tus-js-client (`NODE_EXTRA_CA_CERTS`) and curl upload
//! byte-identical over HTTP/2 and HTTP/1.1; a wrong CA fails in one line; a
//! certificate swapped and reloaded with SIGHUP serves the next connection
//! while an upload in flight completes; a network address needs TLS.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::Server;
use crate::peers;
use crate::upload::run_ok;
use crate::util::{TestEnv, content, stderr_of, stdout_of, write_file};

/// A CA and a server certificate it signed for 127.0.0.1 and localhost.
pub struct Certs {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        stderr_of(&output)
    );
}

pub fn make_certs(dir: &Path) -> Certs {
    std::fs::create_dir_all(dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=ferry test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "key.pem",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

fn tls_server(env: &TestEnv, certs: &Certs) -> Server {
    Server::start(
        &env.path().join("dest"),
        &[
            "--tls-cert",
            certs.cert.to_str().unwrap(),
            "--tls-key",
            certs.key.to_str().unwrap(),
        ],
    )
}

fn https(server: &Server, path: &str) -> String {
    format!("https://{}{path}", server.address)
}

/// curl uploading `file` to `url` with `--cacert ca`; its HTTP version.
fn curl_put(ca: &Path, file: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-sS", "--fail", "--cacert"])
        .arg(ca)
        .args(["-T"])
        .arg(file)
        .args(["-w", "%{http_version}", "-o", "/dev/null"])
        .args(extra)
        .arg(url)
        .output()
        .unwrap()
}

#[test]
fn ferry_tus_js_client_and_curl_upload_over_tls_with_http2_and_http1() {
    let env = TestEnv::new();
    let certs = make_certs(&env.path().join("certs"));
    let server = tls_server(&env, &certs);
    assert!(
        server.log().contains("listening on https://"),
        "{}",
        server.log()
    );

    let source = env.path().join("card");
    for i in 0..5u32 {
        write_file(
            &source.join(format!("IMG_{i}.jpg")),
            &content(400 + i, 300_000),
        );
    }
    run_ok(
        env.ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &https(&server, "/files/ferry/")])
            .arg("--ca-cert")
            .arg(&certs.ca),
    );
    for i in 0..5u32 {
        let name = format!("IMG_{i}.jpg");
        assert_eq!(
            std::fs::read(server.dir.join("ferry").join(&name)).unwrap(),
            content(400 + i, 300_000)
        );
    }
    let verified = run_ok(env.ferry().arg("verify").arg("--ca-cert").arg(&certs.ca));
    assert_eq!(stdout_of(&verified).matches("verified ").count(), 5);
    // Without it, each check says what to do about the certificate.
    let untrusted = env
        .ferry()
        .args(["verify", "--retries", "0"])
        .output()
        .unwrap();
    let said = stdout_of(&untrusted);
    assert_eq!(untrusted.status.code(), Some(3), "{said}");
    assert_eq!(
        said.matches("trust its CA with --ca-cert FILE").count(),
        5,
        "{said}"
    );

    let body = content(7, 1 << 20);
    let file = env.path().join("clip.bin");
    write_file(&file, &body);
    for (flag, version, name) in [("--http2", "2", "h2.bin"), ("--http1.1", "1.1", "h1.bin")] {
        let put = curl_put(
            &certs.ca,
            &file,
            &https(&server, &format!("/files/{name}")),
            &[flag],
        );
        assert!(put.status.success(), "{}", stderr_of(&put));
        assert_eq!(stdout_of(&put), version);
        assert_eq!(std::fs::read(server.dir.join(name)).unwrap(), body);
    }

    let node = peers::node();
    let uploaded = Command::new("node")
        .arg(node.join("tus-js-upload.mjs"))
        .arg(https(&server, "/files/"))
        .arg(&file)
        .args(["tus-v1", "js/clip.bin", "262144"])
        .env("NODE_EXTRA_CA_CERTS", &certs.ca)
        .current_dir(node)
        .output()
        .unwrap();
    assert!(uploaded.status.success(), "{}", stderr_of(&uploaded));
    assert_eq!(std::fs::read(server.dir.join("js/clip.bin")).unwrap(), body);
}

#[test]
fn a_certificate_from_another_ca_fails_in_one_line_naming_the_problem() {
    let env = TestEnv::new();
    let certs = make_certs(&env.path().join("certs"));
    let other = make_certs(&env.path().join("other"));
    let server = tls_server(&env, &certs);
    let source = env.path().join("card");
    write_file(&source.join("a.jpg"), &content(3, 4000));
    for extra in [vec!["--ca-cert", other.ca.to_str().unwrap()], vec![]] {
        let output = env
            .ferry()
            .arg("sync")
            .arg(&source)
            .args(["--to", &https(&server, "/files/")])
            .args(&extra)
            .output()
            .unwrap();
        let text = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("certificate"), "{text}");
        assert!(text.contains("invalid peer certificate"), "{text}");
        // And what to do about it.
        assert!(text.contains("trust its CA with --ca-cert FILE"), "{text}");
    }
    let missing = env
        .ferry()
        .args(["sync", "--ca-cert", "/nonexistent/ca.pem", "--to"])
        .arg(https(&server, "/files/"))
        .arg(&source)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", stderr_of(&missing));
    assert!(stderr_of(&missing).contains("--ca-cert /nonexistent/ca.pem"));
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections_and_an_upload_in_flight_completes() {
    let env = TestEnv::new();
    let dir = env.path().join("certs");
    let first = make_certs(&dir.join("first"));
    let second = make_certs(&dir.join("second"));
    let live = dir.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let (cert, key) = (live.join("cert.pem"), live.join("key.pem"));
    std::fs::copy(&first.cert, &cert).unwrap();
    std::fs::copy(&first.key, &key).unwrap();
    let server = tls_server(
        &env,
        &Certs {
            ca: first.ca.clone(),
            cert: cert.clone(),
            key: key.clone(),
        },
    );

    // A slow upload under the first certificate: 2 MiB at 512 KiB/s.
    let body = content(8, 2 << 20);
    let file = env.path().join("slow.bin");
    write_file(&file, &body);
    let slow = Command::new("curl")
        .args([
            "-sS",
            "--fail",
            "--http1.1",
            "--limit-rate",
            "512K",
            "--cacert",
        ])
        .arg(&first.ca)
        .arg("-T")
        .arg(&file)
        .arg(https(&server, "/files/slow.bin"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    std::fs::copy(&second.cert, &cert).unwrap();
    std::fs::copy(&second.key, &key).unwrap();
    let _ = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status();
    server.wait_for_log("TLS certificate reloaded");

    let small = env.path().join("small.bin");
    write_file(&small, b"after the reload");
    let new = curl_put(&second.ca, &small, &https(&server, "/files/new.bin"), &[]);
    assert!(new.status.success(), "{}", stderr_of(&new));
    let old = curl_put(&first.ca, &small, &https(&server, "/files/old.bin"), &[]);
    assert!(!old.status.success(), "the old certificate is still served");

    let started = Instant::now();
    let output = slow.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(std::fs::read(server.dir.join("slow.bin")).unwrap(), body);

    // A reload that fails keeps the certificate that works.
    std::fs::write(&cert, "not a certificate").unwrap();
    let _ = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status();
    server.wait_for_log("TLS certificate not reloaded");
    let again = curl_put(&second.ca, &small, &https(&server, "/files/again.bin"), &[]);
    assert!(again.status.success(), "{}", stderr_of(&again));
}

#[test]
fn a_network_address_needs_tls_unless_a_proxy_ends_it() {
    let env = TestEnv::new();
    let token = env.path().join("token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let refused = env
        .ferry_bare()
        .args(["serve", "--listen", "0.0.0.0:0", "--dir"])
        .arg(env.path().join("dest"))
        .arg("--token-file")
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));
    assert!(
        stderr_of(&refused).contains("--tls-cert"),
        "{}",
        stderr_of(&refused)
    );
    let proxied = Server::start_on(
        &env.path().join("dest"),
        "0.0.0.0:0",
        &["--token-file", token.to_str().unwrap(), "--insecure-http"],
    );
    assert!(proxied.log().contains("listening on http://"));
}

/// A TLS connection that finishes its handshake and then says nothing is
/// closed after the 30 s a request head may take (it used to stay open).
#[test]
fn a_silent_tls_connection_is_closed_after_the_header_timeout() {
    let env = TestEnv::new();
    let certs = make_certs(&env.path().join("certs"));
    let server = tls_server(&env, &certs);
    let script = "import socket, ssl, sys, time\n\
ctx = ssl.create_default_context(cafile=sys.argv[1])\n\
raw = socket.create_connection(('127.0.0.1', int(sys.argv[2])))\n\
s = ctx.wrap_socket(raw, server_hostname='127.0.0.1')\n\
s.settimeout(90)\n\
start = time.time()\n\
try:\n    data = s.recv(1)\nexcept (ConnectionResetError, ssl.SSLError):\n    data = b''\n\
print(len(data), round(time.time() - start))\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&certs.ca)
        .arg(server.address.port().to_string())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let printed = stdout_of(&output);
    let mut fields = printed.split_whitespace();
    assert_eq!(fields.next(), Some("0"), "{printed}");
    let seconds: u64 = fields.next().unwrap().parse().unwrap();
    assert!((25..=40).contains(&seconds), "closed after {seconds} s");
}

/// An S3 endpoint behind a private CA (moto over https): the run trusts
/// `AWS_CA_BUNDLE`, as the AWS CLI does, for the sync, `ferry probe` and
/// `ferry verify`; without it the sync stops in one line naming the
/// certificate and queues nothing; a bundle that is not PEM is named.
#[test]
fn an_s3_endpoint_behind_a_private_ca_is_trusted_through_aws_ca_bundle() {
    let env = TestEnv::new();
    let certs = make_certs(&env.path().join("certs"));
    let store = crate::s3::Store::moto_tls(
        &env.path().join("moto.log"),
        "photos",
        &certs.cert,
        &certs.key,
        &certs.ca,
    );
    let source = env.path().join("card");
    write_file(&source.join("a.jpg"), &content(4, 5000));
    write_file(&source.join("b/c.jpg"), &content(5, 7000));
    let ferry = |args: &[&str], bundle: Option<&Path>| {
        let mut command = store.ferry(&env);
        command.env_remove("AWS_CA_BUNDLE");
        if let Some(bundle) = bundle {
            command.env("AWS_CA_BUNDLE", bundle);
        }
        command.args(args).output().unwrap()
    };
    let card = source.to_str().unwrap();
    let refused = ferry(&["sync", card, "--to", "s3://photos/"], None);
    let text = stderr_of(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("invalid peer certificate"), "{text}");
    let jobs = ferry(&["jobs", "--json"], None);
    assert_eq!(stdout_of(&jobs).trim(), "", "a refused sync queued jobs");

    let not_pem = env.path().join("not.pem");
    write_file(&not_pem, b"hello");
    let bad = ferry(&["sync", card, "--to", "s3://photos/"], Some(&not_pem));
    assert_eq!(bad.status.code(), Some(2), "{}", stderr_of(&bad));
    assert!(
        stderr_of(&bad).contains("AWS_CA_BUNDLE"),
        "{}",
        stderr_of(&bad)
    );

    let probe = ferry(&["probe", "s3://photos/"], Some(&certs.ca));
    assert!(probe.status.success(), "{}", stderr_of(&probe));
    run_ok(store.ferry(&env).env("AWS_CA_BUNDLE", &certs.ca).args([
        "sync",
        card,
        "--to",
        "s3://photos/",
    ]));
    let stored = store.digests("photos");
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(
        stored["b/c.jpg"],
        crate::upload::sha256_of(&source.join("b/c.jpg"))
    );
    let verified = ferry(&["verify"], Some(&certs.ca));
    assert!(verified.status.success(), "{}", stdout_of(&verified));
    assert_eq!(stdout_of(&verified).matches("verified").count(), 2);
}

/// `serve --forward` to an https backend behind a private CA: with
/// `--forward-ca-cert` the file is passed on byte-identical; without it the
/// backend is not trusted, nothing arrives there, and the front keeps the
/// file waiting with the certificate problem in its log.
#[test]
fn forward_trusts_a_private_ca_for_its_backend_only_when_given() {
    let env = TestEnv::new();
    let certs = make_certs(&env.path().join("certs"));
    let backend = tls_server(&env, &certs);
    let body = content(6, 300_000);
    for (name, trusted) in [("trusted", true), ("untrusted", false)] {
        let ca = certs.ca.to_str().unwrap();
        let url = https(&backend, &format!("/files/{name}/"));
        let mut extra = vec!["--forward", url.as_str()];
        if trusted {
            extra.extend(["--forward-ca-cert", ca]);
        }
        let front = Server::start(&env.path().join(name), &extra);
        let put = crate::http::request("PUT", "/files/clip.mov").send(front.address, &body);
        match trusted {
            true => {
                assert_eq!(put.status, 201, "{put:?}");
                assert_eq!(
                    std::fs::read(backend.dir.join("trusted/clip.mov")).unwrap(),
                    body
                );
            }
            false => {
                assert_eq!(put.status, 202, "{put:?}");
                assert!(front.wait_for_log("certificate").contains("UnknownIssuer"));
                assert!(!backend.dir.join("untrusted").exists());
            }
        }
    }
}
