//! `ferry serve`: conformance for each protocol and interop version, limits,
//! placement, security, concurrency and a restart mid-upload.

use std::io::Write;
use std::net::Shutdown;
use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::{Request, Response, Server, read_response, request};
use crate::util::{TestEnv, content, stderr_of, write_file};

fn repr_digest(bytes: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(sha2::Sha256::digest(bytes)))
}

fn sha256_hex(bytes: &[u8]) -> String {
    ferry::digest::Sha256::of(bytes).to_hex()
}

fn uploads_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join(".ferry-uploads"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// One IETF interop version's field names and media type.
struct Ietf(u64);

impl Ietf {
    fn request(&self, method: &'static str, target: &str) -> Request {
        request(method, target).header("Upload-Draft-Interop-Version", self.0)
    }

    fn field(&self) -> &'static str {
        if self.0 == 3 {
            "upload-incomplete"
        } else {
            "upload-complete"
        }
    }

    fn flag(&self, complete: bool) -> &'static str {
        if complete != (self.0 == 3) {
            "?1"
        } else {
            "?0"
        }
    }

    fn creation(&self, target: &str, complete: bool) -> Request {
        self.request("POST", target)
            .header(self.field(), self.flag(complete))
    }

    fn append(&self, location: &str, offset: u64, complete: bool) -> Request {
        let append = self
            .request("PATCH", &Server::path_of(location))
            .header("Upload-Offset", offset)
            .header(self.field(), self.flag(complete));
        match self.0 >= 6 {
            true => append.header("Content-Type", "application/partial-upload"),
            false => append,
        }
    }

    fn assert_complete(&self, response: &Response, complete: bool) {
        assert_eq!(
            response.expect(self.field()),
            self.flag(complete),
            "{response:?}"
        );
    }
}

#[test]
fn ietf_every_interop_version_creates_resumes_and_completes() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    for version in [3, 5, 6, 7, 8] {
        let ietf = Ietf(version);
        let body = content(version as u32, 300_000);
        let target = format!("/files/v{version}/clip.mov");

        let created = ietf
            .creation(&target, false)
            .header("Upload-Length", body.len())
            .send(server.address, b"");
        assert_eq!(created.status, 201, "v{version}: {created:?}");
        ietf.assert_complete(&created, false);
        assert_eq!(created.offset(), 0);
        let location = created.expect("Location").to_owned();
        // Relative, so that a proxy terminating TLS in front is no problem.
        assert!(location.starts_with("/uploads/"), "{location}");
        match version {
            3 | 5 => assert_eq!(created.header("Upload-Limit"), None),
            6 => assert!(created.expect("Upload-Limit").contains("expires=")),
            _ => assert!(created.expect("Upload-Limit").contains("max-age=")),
        }

        let head = ietf
            .request("HEAD", &Server::path_of(&location))
            .send(server.address, b"");
        assert_eq!(head.status, 204, "{head:?}");
        assert_eq!(head.offset(), 0);
        ietf.assert_complete(&head, false);
        assert_eq!(head.expect("Cache-Control"), "no-store");

        let half = body.len() / 2;
        let appended = ietf
            .append(&location, 0, false)
            .send(server.address, &body[..half]);
        assert_eq!(appended.status, 204, "{appended:?}");
        assert_eq!(appended.offset(), half as u64);
        ietf.assert_complete(&appended, false);

        if version >= 6 {
            let untyped = ietf
                .request("PATCH", &Server::path_of(&location))
                .header("Upload-Offset", half)
                .header(ietf.field(), ietf.flag(true))
                .send(server.address, &body[half..]);
            assert_eq!(untyped.status, 415, "{untyped:?}");
        }

        let stale = ietf.append(&location, 5, true).send(server.address, b"xx");
        assert_eq!(stale.status, 409, "{stale:?}");
        assert_eq!(stale.offset(), half as u64);
        assert!(stale.body.contains("mismatching-upload-offset"));

        let finished = ietf
            .append(&location, half as u64, true)
            .send(server.address, &body[half..]);
        assert_eq!(finished.status, 201, "{finished:?}");
        ietf.assert_complete(&finished, true);
        assert_eq!(
            finished.expect("Ferry-Path"),
            format!("v{version}/clip.mov")
        );
        assert_eq!(finished.expect("Repr-Digest"), repr_digest(&body));
        assert_eq!(
            std::fs::read(server.dir.join(format!("v{version}/clip.mov"))).unwrap(),
            body
        );

        let head = ietf
            .request("HEAD", &Server::path_of(&location))
            .send(server.address, b"");
        assert_eq!(head.status, 204);
        ietf.assert_complete(&head, true);
        assert_eq!(head.offset(), body.len() as u64);
        assert_eq!(head.expect("Ferry-Path"), format!("v{version}/clip.mov"));

        let late = ietf
            .append(&location, body.len() as u64, true)
            .send(server.address, b"more");
        assert_eq!(late.status, 400, "{late:?}");
        assert!(late.body.contains("inconsistent-upload-length"));
        let doomed = ietf
            .creation(&format!("/files/v{version}/doomed.mov"), false)
            .send(server.address, b"");
        let doomed = Server::path_of(doomed.expect("Location"));
        assert_eq!(
            ietf.request("DELETE", &doomed)
                .send(server.address, b"")
                .status,
            204
        );
        assert_eq!(
            ietf.request("HEAD", &doomed)
                .send(server.address, b"")
                .status,
            404
        );

        let log = server.wait_for_log(&format!("stored v{version}/clip.mov"));
        assert!(log.contains(&format!("(interop {version})")), "{log}");
    }
}

#[test]
fn ietf_optimistic_creation_digests_lengths_and_cancellation() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let body = content(1, 50_000);
    for version in [3, 8] {
        let ietf = Ietf(version);
        let target = format!("/files/one-shot-{version}.jpg");
        let whole = ietf
            .creation(&target, true)
            .header("Repr-Digest", repr_digest(&body))
            .send(server.address, &body);
        assert_eq!(whole.status, 201, "{whole:?}");
        ietf.assert_complete(&whole, true);
        assert_eq!(std::fs::read(server.dir.join(&target[7..])).unwrap(), body);
    }
    let ietf = Ietf(8);

    let wrong = ietf
        .creation("/files/wrong.jpg", true)
        .header("Repr-Digest", repr_digest(b"something else"))
        .send(server.address, &body);
    assert_eq!(wrong.status, 400, "{wrong:?}");
    assert!(wrong.body.contains("SHA-256"), "{wrong:?}");
    assert!(!server.dir.join("wrong.jpg").exists());
    assert!(server.wait_for_log("refused wrong.jpg").contains("SHA-256"));

    let inconsistent = ietf
        .creation("/files/short.jpg", true)
        .header("Upload-Length", 10)
        .send(server.address, b"12345");
    assert_eq!(inconsistent.status, 400);
    assert!(inconsistent.body.contains("inconsistent-upload-length"));

    let created = ietf
        .creation("/files/grows.jpg", false)
        .header("Upload-Length", 4)
        .send(server.address, b"");
    let location = created.expect("Location").to_owned();
    let over = ietf
        .append(&location, 0, false)
        .send(server.address, b"123456");
    assert_eq!(over.status, 400, "{over:?}");
    assert!(over.body.contains("inconsistent-upload-length"));
    let gone = ietf
        .request("HEAD", &Server::path_of(&location))
        .send(server.address, b"");
    assert_eq!(gone.status, 404, "an overlong upload is deactivated");

    let created = ietf
        .creation("/files/cancel.jpg", false)
        .send(server.address, b"");
    let location = created.expect("Location").to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    assert!(uploads_in(&server.dir).contains(&format!("{id}.part")));
    let deleted = ietf
        .request("DELETE", &Server::path_of(&location))
        .send(server.address, b"");
    assert_eq!(deleted.status, 204);
    assert!(
        !uploads_in(&server.dir)
            .iter()
            .any(|name| name.starts_with(&id))
    );
    let head = ietf
        .request("HEAD", &Server::path_of(&location))
        .send(server.address, b"");
    assert_eq!(head.status, 404);

    let unsupported = Ietf(4)
        .creation("/files/x.jpg", false)
        .send(server.address, b"");
    assert_eq!(unsupported.status, 400);
    assert!(unsupported.body.contains("3, 5, 6, 7 and 8"));
    let no_flag = ietf
        .request("POST", "/files/x.jpg")
        .send(server.address, b"");
    assert_eq!(no_flag.status, 400);
    assert!(no_flag.body.contains("Upload-Complete"), "{no_flag:?}");
}

#[test]
fn limits_are_announced_and_enforced() {
    let env = TestEnv::new();
    let server = Server::start(
        &env.path().join("dest"),
        &["--max-size", "1000", "--max-append-size", "100"],
    );
    let options = request("OPTIONS", "/files/").send(server.address, b"");
    assert_eq!(options.status, 204);
    let limits = options.expect("Upload-Limit");
    assert!(limits.contains("max-size=1000"), "{limits}");
    assert!(limits.contains("max-append-size=100"), "{limits}");
    assert_eq!(options.expect("Tus-Max-Size"), "1000");
    assert!(
        options
            .expect("Accept-Patch")
            .contains("application/partial-upload")
    );

    for version in [3, 5, 6, 7, 8] {
        let ietf = Ietf(version);
        let big = ietf
            .creation("/files/big.jpg", false)
            .header("Upload-Length", 2000)
            .send(server.address, b"");
        assert_eq!(big.status, 413);
        assert!(big.expect("Upload-Limit").contains("max-size=1000"));

        let created = ietf
            .creation("/files/ok.jpg", false)
            .send(server.address, b"");
        let location = created.expect("Location").to_owned();
        let fat = ietf
            .append(&location, 0, false)
            .send(server.address, &[7; 150]);
        assert_eq!(fat.status, 413, "{fat:?}");
        assert!(fat.expect("Upload-Limit").contains("max-append-size=100"));
        let head = ietf
            .request("HEAD", &Server::path_of(&location))
            .send(server.address, b"");
        assert_eq!(head.offset(), 0, "a refused append leaves nothing behind");
    }

    let tus_big = tus("POST", "/files/")
        .header("Upload-Length", 2000)
        .header("Upload-Metadata", "filename YS5qcGc=")
        .send(server.address, b"");
    assert_eq!(tus_big.status, 413);

    let tus_created = tus("POST", "/files/")
        .header("Upload-Length", 500)
        .header("Upload-Metadata", "filename YS5qcGc=")
        .send(server.address, b"");
    let location = tus_created.expect("Location").to_owned();
    let tus_fat = tus_patch(&location, 0).send(server.address, &[7; 150]);
    assert_eq!(tus_fat.status, 413);

    let put = request("PUT", "/files/whole.jpg").send(server.address, &[1; 2000]);
    assert_eq!(put.status, 413);
    assert!(!server.dir.join("whole.jpg").exists());
}

/// Bodies of several MiB go to disk in batches, from a thread of their
/// own: one that crosses the size limit there is refused and leaves
/// nothing, and one that arrives whole is stored and verified.
#[test]
fn large_bodies_are_written_in_batches_and_still_held_to_the_limits() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &["--max-size", "2M"]);
    let body = content(9, 3 << 20);
    let put = request("PUT", "/files/whole.mov").send_refused(server.address, &body);
    assert_eq!(put.status, 413, "{put:?}");
    assert!(!server.dir.join("whole.mov").exists());

    let ietf = Ietf(8);
    let created = ietf
        .creation("/files/deferred.mov", false)
        .send(server.address, b"");
    let location = created.expect("Location").to_owned();
    // Not complete, so no length to refuse it by before the body arrives.
    let over = ietf
        .append(&location, 0, false)
        .send_refused(server.address, &body);
    assert_eq!(over.status, 413, "{over:?}");
    let head = ietf
        .request("HEAD", &Server::path_of(&location))
        .send(server.address, b"");
    assert_eq!(head.status, 404, "the upload was deactivated: {head:?}");

    let fits = &body[..(2 << 20) - 1];
    let created = ietf
        .creation("/files/fits.mov", false)
        .header("Upload-Length", fits.len())
        .header("Repr-Digest", repr_digest(fits))
        .send(server.address, b"");
    let location = created.expect("Location").to_owned();
    let done = ietf.append(&location, 0, true).send(server.address, fits);
    assert_eq!(done.status, 201, "{done:?}");
    assert_eq!(std::fs::read(server.dir.join("fits.mov")).unwrap(), fits);
    assert!(
        server
            .wait_for_log("stored fits.mov")
            .contains("sha256 verified")
    );
}

fn tus(method: &'static str, target: &str) -> Request {
    request(method, target).header("Tus-Resumable", "1.0.0")
}

fn tus_patch(location: &str, offset: u64) -> Request {
    tus("PATCH", &Server::path_of(location))
        .header("Upload-Offset", offset)
        .header("Content-Type", "application/offset+octet-stream")
}

fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{key} {}", STANDARD.encode(value)))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn tus_core_creation_checksums_deferred_length_and_termination() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let body = content(2, 200_000);

    let old = request("POST", "/files/")
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Length", 1)
        .send(server.address, b"");
    assert_eq!(old.status, 412);
    assert_eq!(old.expect("Tus-Version"), "1.0.0");

    let options = request("OPTIONS", "/files/").send(server.address, b"");
    assert!(
        options
            .expect("Tus-Extension")
            .contains("creation-defer-length")
    );
    assert!(options.expect("Tus-Extension").contains("expiration"));
    assert_eq!(options.expect("Tus-Checksum-Algorithm"), "sha1,sha256");

    let fields = metadata(&[
        ("relativePath", "2024/trip/IMG_0001.HEIC"),
        ("filetype", "image/heic"),
        ("sha256", &sha256_hex(&body)),
    ]);
    let created = tus("POST", "/files/")
        .header("Upload-Length", body.len())
        .header("Upload-Metadata", &fields)
        .send(server.address, b"");
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.expect("Tus-Resumable"), "1.0.0");
    assert!(created.expect("Upload-Expires").ends_with("GMT"));
    let location = created.expect("Location").to_owned();

    let head = tus("HEAD", &Server::path_of(&location)).send(server.address, b"");
    assert_eq!(head.status, 200);
    assert_eq!(head.offset(), 0);
    assert_eq!(head.expect("Upload-Length"), body.len().to_string());
    assert_eq!(head.expect("Upload-Metadata"), {
        let mut sorted: Vec<&str> = fields.split(',').collect();
        sorted.sort();
        sorted.join(",")
    });
    assert_eq!(head.expect("Cache-Control"), "no-store");

    let untyped = tus("PATCH", &Server::path_of(&location))
        .header("Upload-Offset", 0)
        .send(server.address, &body[..10]);
    assert_eq!(untyped.status, 415);

    let chunk = &body[..100_000];
    let bad_sum = tus_patch(&location, 0)
        .header(
            "Upload-Checksum",
            format!("sha1 {}", STANDARD.encode(sha1::Sha1::digest(b"not it"))),
        )
        .send(server.address, chunk);
    assert_eq!(bad_sum.status, 460, "{bad_sum:?}");
    let head = tus("HEAD", &Server::path_of(&location)).send(server.address, b"");
    assert_eq!(head.offset(), 0, "the mismatching chunk was discarded");

    let unknown = tus_patch(&location, 0)
        .header("Upload-Checksum", "md5 AAAA")
        .send(server.address, chunk);
    assert_eq!(unknown.status, 400);

    let good = tus_patch(&location, 0)
        .header(
            "Upload-Checksum",
            format!("sha1 {}", STANDARD.encode(sha1::Sha1::digest(chunk))),
        )
        .send(server.address, chunk);
    assert_eq!(good.status, 204, "{good:?}");
    assert_eq!(good.offset(), 100_000);

    let conflict = tus_patch(&location, 5).send(server.address, b"x");
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.offset(), 100_000);

    let rest = &body[100_000..];
    let last = tus_patch(&location, 100_000)
        .header(
            "Upload-Checksum",
            format!("sha256 {}", STANDARD.encode(sha2::Sha256::digest(rest))),
        )
        .send(server.address, rest);
    assert_eq!(last.status, 204, "{last:?}");
    assert_eq!(last.expect("Ferry-Path"), "2024/trip/IMG_0001.HEIC");
    assert_eq!(
        std::fs::read(server.dir.join("2024/trip/IMG_0001.HEIC")).unwrap(),
        body
    );
    let done = tus("HEAD", &Server::path_of(&location)).send(server.address, b"");
    assert_eq!(done.offset(), body.len() as u64);
    server.wait_for_log("stored 2024/trip/IMG_0001.HEIC");
    assert!(server.log().contains("sha256 verified"));

    // creation-defer-length, then creation-with-upload.
    let deferred = tus("POST", "/files/")
        .header("Upload-Defer-Length", 1)
        .header("Upload-Metadata", metadata(&[("filename", "later.mov")]))
        .send(server.address, b"");
    assert_eq!(deferred.status, 201);
    let location = deferred.expect("Location").to_owned();
    let head = tus("HEAD", &Server::path_of(&location)).send(server.address, b"");
    assert_eq!(head.expect("Upload-Defer-Length"), "1");
    let first = tus_patch(&location, 0).send(server.address, b"hello ");
    assert_eq!(first.offset(), 6);
    let second = tus_patch(&location, 6)
        .header("Upload-Length", 11)
        .send(server.address, b"world");
    assert_eq!(second.status, 204, "{second:?}");
    assert_eq!(
        std::fs::read(server.dir.join("later.mov")).unwrap(),
        b"hello world"
    );

    let with_upload = tus("POST", "/files/")
        .header("Upload-Length", 5)
        .header("Upload-Metadata", metadata(&[("filename", "quick.jpg")]))
        .header("Content-Type", "application/offset+octet-stream")
        .send(server.address, b"quick");
    assert_eq!(with_upload.status, 201, "{with_upload:?}");
    assert_eq!(with_upload.offset(), 5);
    assert_eq!(
        std::fs::read(server.dir.join("quick.jpg")).unwrap(),
        b"quick"
    );

    // A whole-file digest that does not match: refused, nothing placed.
    let lying = tus("POST", "/files/")
        .header("Upload-Length", 3)
        .header(
            "Upload-Metadata",
            metadata(&[("filename", "lie.jpg"), ("sha256", &sha256_hex(b"abc"))]),
        )
        .send(server.address, b"");
    let location = lying.expect("Location").to_owned();
    let refused = tus_patch(&location, 0).send(server.address, b"abd");
    assert_eq!(refused.status, 400, "{refused:?}");
    assert!(!server.dir.join("lie.jpg").exists());

    // Termination.
    let doomed = tus("POST", "/files/")
        .header("Upload-Length", 10)
        .header("Upload-Metadata", metadata(&[("filename", "doomed.jpg")]))
        .send(server.address, b"");
    let location = doomed.expect("Location").to_owned();
    let deleted = tus("DELETE", &Server::path_of(&location)).send(server.address, b"");
    assert_eq!(deleted.status, 204);
    let head = tus("HEAD", &Server::path_of(&location)).send(server.address, b"");
    assert_eq!(head.status, 404);
}

#[test]
fn tus_uploads_expire_and_are_swept() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &["--expire-after", "1s"]);
    let create = || {
        tus("POST", "/files/")
            .header("Upload-Length", 10)
            .header("Upload-Metadata", metadata(&[("filename", "slow.jpg")]))
            .send(server.address, b"")
            .expect("Location")
            .to_owned()
    };
    let asked = create();
    let swept = create();
    std::thread::sleep(Duration::from_millis(1500));
    let head = tus("HEAD", &Server::path_of(&asked)).send(server.address, b"");
    assert!(
        [404, 410].contains(&head.status),
        "an expired upload is gone: {head:?}"
    );
    let swept_id = swept.rsplit('/').next().unwrap().to_owned();
    for _ in 0..200 {
        if uploads_in(&server.dir).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(
        uploads_in(&server.dir),
        Vec::<String>::new(),
        "{swept_id} swept"
    );
    let patch = tus_patch(&swept, 0).send(server.address, b"x");
    assert!([404, 410].contains(&patch.status));
}

#[test]
fn plain_put_places_files_and_never_overwrites_a_different_one() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let first = content(3, 10_000);
    let other = content(4, 10_000);
    let put = |body: &[u8]| request("PUT", "/files/2024/a%20b.jpg").send(server.address, body);

    let created = put(&first);
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.expect("Ferry-Path"), "2024/a%20b.jpg");
    let again = put(&first);
    assert_eq!(again.status, 200, "identical content is success");
    assert_eq!(again.expect("Ferry-Path"), "2024/a%20b.jpg");
    let different = put(&other);
    assert_eq!(different.status, 201);
    assert_eq!(different.expect("Ferry-Path"), "2024/a%20b%20%281%29.jpg");
    assert_eq!(
        std::fs::read(server.dir.join("2024/a b.jpg")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read(server.dir.join("2024/a b (1).jpg")).unwrap(),
        other
    );
    assert!(
        server
            .wait_for_log("a b (1).jpg")
            .contains("name taken by a different file")
    );

    let digest = request("PUT", "/files/checked.jpg")
        .header("Content-Digest", repr_digest(&first))
        .send(server.address, &other);
    assert_eq!(digest.status, 400);
    assert!(!server.dir.join("checked.jpg").exists());
    assert_eq!(uploads_in(&server.dir), Vec::<String>::new());

    let unicode =
        request("PUT", "/files/%C3%A9t%C3%A9/%E5%86%99%E7%9C%9F.jpg").send(server.address, &first);
    assert_eq!(unicode.status, 201);
    assert_eq!(
        std::fs::read(server.dir.join("été/写真.jpg")).unwrap(),
        first
    );
    // A name that is not UTF-8 is written with exactly its bytes.
    let latin1 = request("PUT", "/files/%FF.jpg").send(server.address, &first);
    assert_eq!(latin1.status, 201);
    assert_eq!(latin1.expect("Ferry-Path"), "%FF.jpg");
    use std::os::unix::ffi::OsStrExt;
    let raw = server.dir.join(std::ffi::OsStr::from_bytes(b"\xff.jpg"));
    assert_eq!(std::fs::read(raw).unwrap(), first);
}

#[test]
fn identical_content_is_already_there_only_when_the_file_still_is() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let a = content(5, 20_000);
    let b = content(6, 20_000);
    let put = |body: &[u8]| request("PUT", "/files/IMG.jpg").send(server.address, body);
    assert_eq!(put(&a).status, 201);
    let second = put(&b);
    assert_eq!(second.expect("Ferry-Path"), "IMG%20%281%29.jpg");
    std::fs::remove_file(server.dir.join("IMG.jpg")).unwrap();

    let again = put(&a);
    assert_eq!(
        again.status, 201,
        "a file gone is not already there: {again:?}"
    );
    assert_eq!(again.expect("Ferry-Path"), "IMG.jpg");
    assert_eq!(again.expect("Repr-Digest"), repr_digest(&a));
    assert_eq!(std::fs::read(server.dir.join("IMG.jpg")).unwrap(), a);
    // Nor is a file that changed since.
    write_file(&server.dir.join("IMG (1).jpg"), &content(7, 20_000));
    let b_again = put(&b);
    assert_eq!(b_again.status, 201, "{b_again:?}");
    assert_eq!(b_again.expect("Ferry-Path"), "IMG%20%282%29.jpg");
    assert_eq!(std::fs::read(server.dir.join("IMG (2).jpg")).unwrap(), b);
}

#[test]
fn unsafe_paths_are_refused_and_nothing_lands_outside_the_folder() {
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    let server = Server::start(&dest, &[]);
    for target in [
        "/files/../escaped.jpg",
        "/files/%2e%2e/escaped.jpg",
        "/files/a/../../escaped.jpg",
        "/files/a/%2E%2E/%2E%2E/escaped.jpg",
        "/files/%2Fetc%2Fescaped.jpg",
        "/files/a%00b.jpg",
        "/files/.ferry-uploads/x.json",
        "/files/a%5C..%5Cescaped.jpg",
    ] {
        let put = request("PUT", target).send(server.address, b"data");
        assert!([400, 404].contains(&put.status), "{target}: {put:?}");
        let created = Ietf(8).creation(target, true).send(server.address, b"data");
        assert!(
            [400, 404].contains(&created.status),
            "{target}: {created:?}"
        );
    }
    for relative in [
        "../escaped.jpg",
        "/etc/escaped.jpg",
        "a/../../escaped.jpg",
        "",
    ] {
        let created = tus("POST", "/files/")
            .header("Upload-Length", 4)
            .header("Upload-Metadata", metadata(&[("relativePath", relative)]))
            .send(server.address, b"");
        assert_eq!(created.status, 400, "{relative:?}: {created:?}");
    }
    assert!(!env.path().join("escaped.jpg").exists());
    let placed: Vec<_> = walkdir::WalkDir::new(&dest)
        .into_iter()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().is_file())
        .collect();
    assert!(placed.is_empty(), "{placed:?}");
}

#[test]
fn a_symlink_in_the_served_folder_never_leads_a_write_or_a_head_outside_it() {
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    let outside = env.path().join("outside");
    std::fs::create_dir_all(dest.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), b"secret").unwrap();
    std::os::unix::fs::symlink(&outside, dest.join("linkdir")).unwrap();
    std::os::unix::fs::symlink(dest.join("sub"), dest.join("inside")).unwrap();
    let server = Server::start(&dest, &[]);
    let shown = |text: &str| !text.contains(env.path().to_str().unwrap());
    for target in [
        "/files/linkdir/pwned.jpg",
        "/files/linkdir/newsub/pwned.jpg",
    ] {
        let put = request("PUT", target).send(server.address, b"data");
        assert_eq!(put.status, 400, "{target}: {put:?}");
        assert!(
            put.body
                .contains("its folder leads outside the served folder (a symlink)"),
            "{put:?}"
        );
        assert!(shown(&put.body), "the server's own path: {put:?}");
    }
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        1,
        "only the secret is outside"
    );
    let head = request("HEAD", "/files/linkdir/secret.txt").send(server.address, b"");
    assert_eq!(head.status, 404, "{head:?}");
    // A symlink that stays inside is followed.
    let inside = request("PUT", "/files/inside/ok.jpg").send(server.address, b"fine");
    assert_eq!(inside.status, 201, "{inside:?}");
    assert_eq!(std::fs::read(dest.join("sub/ok.jpg")).unwrap(), b"fine");
    // A file where a folder of the name would be is the name's fault, said
    // without the server's path.
    let file = request("PUT", "/files/a/b/c").send(server.address, b"x");
    assert_eq!(file.status, 201, "{file:?}");
    let under = request("PUT", "/files/a/b/c/d.jpg").send(server.address, b"zzz");
    assert_eq!(under.status, 400, "{under:?}");
    assert!(
        under
            .body
            .contains("cannot store a/b/c/d.jpg: a part of its folder is a file on the server"),
        "{under:?}"
    );
    assert!(shown(&under.body), "the server's own path: {under:?}");
}

/// ferry serve requiring the token `s3cret-token`.
fn serving_with_token(env: &TestEnv) -> Server {
    let token_file = env.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    Server::start(
        &env.path().join("dest"),
        &["--token-file", token_file.to_str().unwrap()],
    )
}

#[test]
fn a_token_is_required_everywhere_once_set_and_never_logged() {
    let env = TestEnv::new();
    let server = serving_with_token(&env);
    for unauthorized in [
        request("OPTIONS", "/files/"),
        request("PUT", "/files/a.jpg"),
        request("PUT", "/files/a.jpg").header("Authorization", "Bearer wrong"),
        tus("HEAD", "/uploads/00000000000000000000000000000000"),
    ] {
        let response = unauthorized.send(server.address, b"x");
        assert_eq!(response.status, 401, "{response:?}");
        assert_eq!(response.expect("WWW-Authenticate"), "Bearer");
    }
    let allowed = request("PUT", "/files/a.jpg")
        .header("Authorization", "Bearer s3cret-token")
        .send(server.address, b"x");
    assert_eq!(allowed.status, 201);
    // The scheme is case-insensitive; the token is not.
    let lowercase = request("PUT", "/files/b.jpg")
        .header("Authorization", "bearer s3cret-token")
        .send(server.address, b"y");
    assert_eq!(lowercase.status, 201, "{lowercase:?}");
    let shouting = request("PUT", "/files/c.jpg")
        .header("Authorization", "BEARER S3CRET-TOKEN")
        .send(server.address, b"z");
    assert_eq!(shouting.status, 401, "{shouting:?}");
    assert!(
        server
            .wait_for_log("stored a.jpg")
            .contains("bearer token required")
    );
    assert!(!server.log().contains("s3cret"));

    for (listen, token) in [("0.0.0.0:0", None), ("127.0.0.1:0", Some("  \n"))] {
        let mut command = env.ferry_bare();
        command.args(["serve", "--dir", "d", "--listen", listen]);
        if let Some(token) = token {
            let empty = env.path().join("empty-token");
            std::fs::write(&empty, token).unwrap();
            command.arg("--token-file").arg(&empty);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("token"), "{stderr}");
    }
}

#[test]
fn a_newer_request_ends_the_older_one_and_dropped_bytes_are_kept() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let ietf = Ietf(8);
    let body = content(5, 1 << 20);
    let created = ietf
        .creation("/files/race.mov", false)
        .header("Upload-Length", body.len())
        .send(server.address, b"");
    let location = created.expect("Location").to_owned();
    let part = server.dir.join(format!(
        ".ferry-uploads/{}.part",
        location.rsplit('/').next().unwrap()
    ));

    // The old request sends 100 KiB of its 1 MiB and hangs, connection open.
    let mut stuck = ietf.append(&location, 0, true).start(
        server.address,
        Some(body.len() as u64),
        &body[..100 << 10],
    );
    wait_for_size(&part, 100 << 10);
    let head = ietf
        .request("HEAD", &Server::path_of(&location))
        .send(server.address, b"");
    assert_eq!(head.status, 204);
    assert_eq!(
        head.offset(),
        100 << 10,
        "the old request saved what it got"
    );
    let ended = read_response(&mut stuck, false);
    assert_eq!(ended.status, 409, "{ended:?}");

    // A dropped connection keeps what arrived, too.
    let mut dropped = ietf.append(&location, 100 << 10, true).start(
        server.address,
        Some((body.len() - (100 << 10)) as u64),
        &body[100 << 10..300 << 10],
    );
    wait_for_size(&part, 300 << 10);
    dropped.flush().unwrap();
    dropped.shutdown(Shutdown::Both).unwrap();
    let head = ietf
        .request("HEAD", &Server::path_of(&location))
        .send(server.address, b"");
    assert_eq!(head.offset(), 300 << 10);

    let finished = ietf
        .append(&location, 300 << 10, true)
        .send(server.address, &body[300 << 10..]);
    assert_eq!(finished.status, 201, "{finished:?}");
    assert_eq!(std::fs::read(server.dir.join("race.mov")).unwrap(), body);
}

fn wait_for_size(path: &Path, size: u64) {
    for _ in 0..800 {
        if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) >= size {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} never reached {size} bytes", path.display());
}

#[test]
fn a_server_killed_mid_upload_resumes_after_a_restart() {
    let env = TestEnv::new();
    let dest = env.path().join("dest");
    let body = content(6, 8 << 20);
    let ietf = Ietf(7);
    let server = Server::start(&dest, &[]);
    let created = ietf
        .creation("/files/restart/video.mp4", false)
        .header("Upload-Length", body.len())
        .header("Repr-Digest", repr_digest(&body))
        .send(server.address, b"");
    let location = created.expect("Location").to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    let sent = 3 << 20;
    let _connection = ietf.append(&location, 0, true).start(
        server.address,
        Some(body.len() as u64),
        &body[..sent],
    );
    wait_for_size(&dest.join(format!(".ferry-uploads/{id}.part")), sent as u64);
    drop(server); // SIGKILL, mid-request

    let server = Server::start(&dest, &[]);
    let path = format!("/uploads/{id}");
    let head = ietf.request("HEAD", &path).send(server.address, b"");
    assert_eq!(head.status, 204, "{head:?}");
    let offset = head.offset();
    assert_eq!(offset, sent as u64);
    let finished = ietf
        .append(&server.url(&path), offset, true)
        .send(server.address, &body[offset as usize..]);
    assert_eq!(finished.status, 201, "{finished:?}");
    assert_eq!(std::fs::read(dest.join("restart/video.mp4")).unwrap(), body);
    assert!(
        server
            .wait_for_log("stored restart/video.mp4")
            .contains("sha256 verified")
    );
}

#[test]
fn through_a_faulty_proxy_the_server_keeps_exactly_what_arrived() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let proxy = FaultProxy::start(
        server.address,
        &[
            Fault::Status(503),
            Fault::TooManyRequests(2),
            Fault::Pass,
            Fault::ResetAfter(40_000),
            Fault::Pass,
            Fault::Stall(Duration::from_millis(300)),
        ],
    );
    let ietf = Ietf(8);
    let body = content(7, 100_000);
    let create = || {
        ietf.creation("/files/faulty.mov", false)
            .header("Upload-Length", body.len())
            .send(proxy.address, b"")
    };
    assert_eq!(create().status, 503);
    assert!(
        uploads_in(&server.dir).is_empty(),
        "503 came from the proxy"
    );
    let limited = create();
    assert_eq!(limited.status, 429);
    assert_eq!(limited.expect("Retry-After"), "2");
    let location = create().expect("Location").to_owned();

    let mut reset =
        ietf.append(&location, 0, true)
            .start(proxy.address, Some(body.len() as u64), &body);
    let mut buffer = [0; 64];
    assert!(
        matches!(std::io::Read::read(&mut reset, &mut buffer), Ok(0) | Err(_)),
        "the proxy cut the connection"
    );
    // The reset can reach this client before the server has read the bytes
    // the proxy passed on; the offset counts them once they are stored.
    let id = location.rsplit('/').next().unwrap();
    wait_for_size(
        &server.dir.join(format!(".ferry-uploads/{id}.part")),
        40_000,
    );
    let head = ietf
        .request("HEAD", &Server::path_of(&location))
        .send(proxy.address, b"");
    assert_eq!(head.offset(), 40_000, "{head:?}");

    let mut stalled =
        ietf.append(&location, 40_000, true)
            .start(proxy.address, Some(60_000), &body[40_000..]);
    assert!(matches!(
        std::io::Read::read(&mut stalled, &mut buffer),
        Ok(0) | Err(_)
    ));
    assert_eq!(proxy.remaining(), 0);
    let head = ietf
        .request("HEAD", &Server::path_of(&location))
        .send(proxy.address, b"");
    assert_eq!(head.offset(), 40_000, "a stalled request adds nothing");

    let finished = ietf
        .append(&location, 40_000, true)
        .send(proxy.address, &body[40_000..]);
    assert_eq!(finished.status, 201, "{finished:?}");
    assert_eq!(std::fs::read(server.dir.join("faulty.mov")).unwrap(), body);
    assert_eq!(
        proxy.forwarded(),
        body.len() as u64,
        "resuming from the server's offset sent no byte twice"
    );
}

/// `--max-size` holds for a tus upload whose length comes later: the
/// length a PATCH declares is checked, and bytes never grow past the limit.
#[test]
fn max_size_holds_for_a_deferred_length() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &["--max-size", "10"]);
    let create = || {
        let deferred = tus("POST", "/files/")
            .header("Upload-Defer-Length", 1)
            .header("Upload-Metadata", metadata(&[("filename", "big.mov")]))
            .send(server.address, b"");
        assert_eq!(deferred.status, 201, "{deferred:?}");
        deferred.expect("Location").to_owned()
    };
    let body = content(9, 100_000);
    let declared = tus_patch(&create(), 0)
        .header("Upload-Length", 100_000)
        .send_refused(server.address, &body);
    assert_eq!(declared.status, 413, "{declared:?}");
    let undeclared = tus_patch(&create(), 0).send_refused(server.address, &body);
    assert_eq!(undeclared.status, 413, "{undeclared:?}");
    assert!(!server.dir.join("big.mov").exists());
    let parts: u64 = std::fs::read_dir(server.dir.join(".ferry-uploads"))
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".part"))
        .map(|entry| entry.metadata().unwrap().len())
        .sum();
    assert!(parts <= 20, "{parts} bytes were kept");
}

/// A web page is not a client: a cross-site request (by `Origin` or
/// `Sec-Fetch-Site`) is refused and writes nothing, a DNS-rebinding host
/// name gets no answer, and only an origin the operator allowed may upload,
/// with the CORS answers a browser needs.
#[test]
fn browsers_on_other_sites_and_rebinding_host_names_are_refused() {
    let env = TestEnv::new();
    let server = Server::start(
        &env.path().join("dest"),
        &[
            "--allow-host",
            "photos.example",
            "--cors-origin",
            "https://app.example",
        ],
    );
    let body = content(13, 3000);
    let evil = request("POST", "/files/evil.jpg")
        .header("Origin", "https://evil.example")
        .header("Content-Type", "text/plain")
        .send(server.address, &body);
    assert_eq!(evil.status, 403, "{evil:?}");
    assert!(evil.body.contains("--cors-origin"), "{evil:?}");
    let fetched = request("PUT", "/files/evil2.jpg")
        .header("Sec-Fetch-Site", "cross-site")
        .send(server.address, &body);
    assert_eq!(fetched.status, 403, "{fetched:?}");
    assert!(!server.dir.join("evil.jpg").exists() && !server.dir.join("evil2.jpg").exists());

    // A rebinding page reaches us under its own name: no answer.
    assert_eq!(
        request("PUT", "/files/kept.jpg")
            .send(server.address, &body)
            .status,
        201
    );
    let rebound = request("HEAD", "/files/kept.jpg")
        .header("Host", "evil.example")
        .send(server.address, b"");
    assert_eq!(rebound.status, 421, "{rebound:?}");
    assert!(rebound.header("Repr-Digest").is_none());
    for host in ["localhost", "photos.example:8920", "[::1]:8920"] {
        let answered = request("HEAD", "/files/kept.jpg")
            .header("Host", host)
            .send(server.address, b"");
        assert_eq!(answered.status, 200, "{host}: {answered:?}");
    }

    // The page's own server (same origin), and the allowed origin.
    let own = format!("http://{}", server.address);
    let same = request("PUT", "/files/same.jpg")
        .header("Origin", &own)
        .send(server.address, &body);
    assert_eq!(same.status, 201, "{same:?}");
    let preflight = request("OPTIONS", "/files/app.jpg")
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "content-type, repr-digest",
        )
        .send(server.address, b"");
    assert_eq!(preflight.status, 204, "{preflight:?}");
    assert_eq!(
        preflight.expect("Access-Control-Allow-Origin"),
        "https://app.example"
    );
    assert!(
        preflight
            .expect("Access-Control-Allow-Methods")
            .contains("PATCH")
    );
    let app = request("PUT", "/files/app.jpg")
        .header("Origin", "https://app.example")
        .send(server.address, &body);
    assert_eq!(app.status, 201, "{app:?}");
    assert!(
        app.expect("Access-Control-Expose-Headers")
            .contains("Ferry-Path")
    );
    assert_eq!(std::fs::read(server.dir.join("app.jpg")).unwrap(), body);
}

/// The bytes `ferry serve` has read so far (`rchar` in /proc/PID/io).
fn bytes_read(server: &Server) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{}/io", server.child.id())).unwrap();
    let line = io.lines().find(|line| line.starts_with("rchar:")).unwrap();
    line["rchar:".len()..].trim().parse().unwrap()
}

/// A `HEAD` of a stored file hashes it once; later ones reuse the digest
/// until its size, mtime or inode moves.
#[test]
fn head_hashes_a_stored_file_again_only_when_it_changed() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let body = content(31, 8 << 20);
    assert_eq!(
        request("PUT", "/files/clip.mov")
            .send(server.address, &body)
            .status,
        201
    );
    // A file changed in the last 2 s is not kept (a write within the same
    // timestamp tick would not show).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let head = || request("HEAD", "/files/clip.mov").send(server.address, b"");
    let first = head();
    assert_eq!(first.expect("Repr-Digest"), repr_digest(&body));
    let before = bytes_read(&server);
    for _ in 0..5 {
        assert_eq!(head().expect("Repr-Digest"), repr_digest(&body));
    }
    let read = bytes_read(&server) - before;
    assert!(
        read < 1 << 20,
        "{read} bytes read for five HEADs of an unchanged file"
    );
    // Four bytes overwritten in place and the mtime set back: size, mtime
    // and inode are as before, the change time is not; hashed again.
    use std::io::{Seek, SeekFrom};
    let path = server.dir.join("clip.mov");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.seek(SeekFrom::Start(1000)).unwrap();
    file.write_all(b"ROT!").unwrap();
    file.set_modified(mtime).unwrap();
    drop(file);
    let mut changed = body.clone();
    changed[1000..1004].copy_from_slice(b"ROT!");
    assert_eq!(head().expect("Repr-Digest"), repr_digest(&changed));
}

/// An upload that cannot fit in the free space is refused at creation with
/// 507 and how much is free, before a byte of it arrives.
#[test]
fn an_upload_bigger_than_the_free_space_is_refused_at_creation() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let huge = 999_999_999_999_999u64;
    let tus_create = tus("POST", "/files/")
        .header("Upload-Length", huge)
        .header("Upload-Metadata", metadata(&[("filename", "huge.mov")]))
        .send(server.address, b"");
    assert_eq!(tus_create.status, 507, "{tus_create:?}");
    assert!(tus_create.body.contains("bytes are free"), "{tus_create:?}");
    let mut stream = request("PUT", "/files/huge2.mov").start(server.address, Some(huge), b"");
    let put = crate::http::read_response(&mut stream, false);
    assert_eq!(put.status, 507, "{put:?}");
    // What fits is taken as before.
    let fits = tus("POST", "/files/")
        .header("Upload-Length", 1000)
        .header("Upload-Metadata", metadata(&[("filename", "small.mov")]))
        .send(server.address, b"");
    assert_eq!(fits.status, 201, "{fits:?}");
}

/// A caller refused at the door (a wrong or missing token, another site's
/// page, a host name not served) gets one line in the log: what it asked,
/// from where, and why not; never a token, the wrong one included. Before,
/// the log said nothing of them.
#[test]
fn callers_refused_at_the_door_are_logged_without_their_tokens() {
    let env = TestEnv::new();
    let server = serving_with_token(&env);
    let body = content(14, 3000);
    let wrong = request("PUT", "/files/a.jpg")
        .header("Authorization", "Bearer another-servers-token")
        .send(server.address, &body);
    assert_eq!(wrong.status, 401, "{wrong:?}");
    let missing = request("PUT", "/files/b%20c.jpg").send(server.address, &body);
    assert_eq!(missing.status, 401, "{missing:?}");
    let page = request("POST", "/files/evil.jpg")
        .header("Authorization", "Bearer s3cret-token")
        .header("Origin", "https://evil.example")
        .send(server.address, &body);
    assert_eq!(page.status, 403, "{page:?}");
    let rebound = request("PUT", "/files/d.jpg")
        .header("Authorization", "Bearer s3cret-token")
        .header("Host", "evil.example")
        .send(server.address, &body);
    assert_eq!(rebound.status, 421, "{rebound:?}");
    let long = format!("/files/{}.jpg", "a".repeat(5000));
    let flood = request("PUT", &long).send(server.address, &body);
    assert_eq!(flood.status, 401, "{flood:?}");
    let log = server.wait_for_log("aaa...");
    let refused: Vec<&str> = log.lines().filter(|l| l.contains(" refused ")).collect();
    assert_eq!(refused.len(), 5, "{log}");
    assert!(refused[4].len() < 400, "a long path is cut: {}", refused[4]);
    for (line, (asked, why)) in refused.iter().zip([
        ("PUT /files/a.jpg", "401 the bearer token is wrong"),
        (
            "PUT /files/b%20c.jpg",
            "401 this server needs Authorization",
        ),
        ("POST /files/evil.jpg", "403 a web page on another site"),
        (
            "PUT /files/d.jpg",
            "421 this server does not answer to the host name",
        ),
    ]) {
        assert!(
            line.contains(&format!("refused {asked} from 127.0.0.1:")),
            "{line}"
        );
        assert!(line.contains(why), "{line}");
    }
    assert!(
        !log.contains("s3cret") && !log.contains("another-servers"),
        "{log}"
    );
}

/// A completed IETF upload is answered for only while its file holds what
/// it completed with: clients resume, verify and clear on that answer, and
/// a session that still said "complete, sha-256 …" after the file was cut
/// short let a resumed sync delete the card's only copy.
#[test]
fn a_completed_uploads_session_is_gone_once_its_file_changed_or_went() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let ietf = Ietf(8);
    let body = content(9, 30_000);
    let created = ietf
        .creation("/files/IMG_5000.JPG", true)
        .send(server.address, &body);
    assert_eq!(created.status, 201, "{created:?}");
    let session = Server::path_of(created.expect("Location"));
    let head = || ietf.request("HEAD", &session).send(server.address, b"");
    let stored = server.dir.join("IMG_5000.JPG");

    let whole = head();
    assert_eq!(whole.status, 204, "{whole:?}");
    assert_eq!(whole.expect("Repr-Digest"), repr_digest(&body));
    write_file(&stored, &body[..1000]);
    assert_eq!(head().status, 404, "cut short");
    write_file(&stored, &body);
    assert_eq!(head().status, 204, "whole again");
    std::fs::remove_file(&stored).unwrap();
    assert_eq!(head().status, 404, "gone");

    // tus asks by the same session: a resume of an upload whose file was
    // cut short must not hear "complete" from the server's memory.
    let body = content(10, 30_000);
    let created = tus("POST", "/files/")
        .header("Upload-Length", body.len())
        .header("Upload-Metadata", metadata(&[("filename", "IMG_5001.JPG")]))
        .header("Content-Type", "application/offset+octet-stream")
        .send(server.address, &body);
    assert_eq!(created.status, 201, "{created:?}");
    let session = Server::path_of(created.expect("Location")).to_owned();
    let head = || tus("HEAD", &session).send(server.address, b"");
    let stored = server.dir.join("IMG_5001.JPG");
    assert_eq!(head().offset(), body.len() as u64, "complete");
    write_file(&stored, &body[..1000]);
    let cut = head();
    assert_eq!(cut.status, 404, "cut short: {cut:?}");
    assert_eq!(cut.expect("Cache-Control"), "no-store");
    let patch = tus_patch(&session, 1000).send(server.address, &body[1000..]);
    assert_eq!(patch.status, 404, "no bytes go to a session that is gone");
    write_file(&stored, &body);
    assert_eq!(head().offset(), body.len() as u64, "whole again");

    // A file that cannot be read now (a symlink loop: ELOOP) is a fault
    // to ask again about, not a file gone: 503, and the session stays.
    let body = content(11, 20_000);
    let created = tus("POST", "/files/")
        .header("Upload-Length", body.len())
        .header(
            "Upload-Metadata",
            metadata(&[("relativePath", "d/IMG_5002.JPG")]),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .send(server.address, &body);
    assert_eq!(created.status, 201, "{created:?}");
    let session = Server::path_of(created.expect("Location")).to_owned();
    let head = || tus("HEAD", &session).send(server.address, b"");
    let (folder, aside) = (server.dir.join("d"), server.dir.join("d.real"));
    std::fs::rename(&folder, &aside).unwrap();
    std::os::unix::fs::symlink("d", &folder).unwrap();
    let looped = head();
    assert_eq!(looped.status, 503, "unreadable: {looped:?}");
    std::fs::remove_file(&folder).unwrap();
    std::fs::rename(&aside, &folder).unwrap();
    assert_eq!(head().offset(), body.len() as u64, "readable again");
}
