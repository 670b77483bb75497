//! Clearing a card: `--delete-after` and `--move-to` against `ferry serve`
//! and a local folder. A source goes only once the destination confirmed
//! its SHA-256, never when it changed since the scan, never when the
//! confirmation is wrong, and never toward a protocol that cannot confirm.

use std::path::Path;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::http::Server;
use crate::upload::{assert_same_tree, photos, run_ok, sha256_of, tree, walk};
use crate::util::{TestEnv, stderr_of, stdout_of, write_file};

/// A fake camera card, and a copy of it to compare against later.
fn card(env: &TestEnv, n: u32) -> (std::path::PathBuf, std::path::PathBuf) {
    let card = env.path().join("card/DCIM");
    photos(&card, n);
    let copy = env.path().join("copy");
    for path in walk(&card) {
        let relative = path.strip_prefix(&card).unwrap();
        write_file(&copy.join(relative), &std::fs::read(&path).unwrap());
    }
    (card, copy)
}

fn sync(env: &TestEnv, card: &Path, to: &str, extra: &[&str]) -> std::process::Output {
    env.ferry()
        .arg("sync")
        .arg(card)
        .args(["--to", to])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_card_synced_with_delete_after_is_emptied_and_every_file_arrives() {
    let env = TestEnv::new();
    let (card, copy) = card(&env, 30);
    // A second name for one photo's bytes: the sync clears it with its
    // twin, and the dry run must say so.
    std::fs::copy(&walk(&card)[0], card.join("IMG_COPY.JPG")).unwrap();
    let server = Server::start(&env.path().join("dest"), &[]);

    let dry = run_ok(
        env.ferry()
            .args(["sync", "--dry-run", "--delete-after"])
            .arg(&card)
            .args(["--to", &server.url("/files/")]),
    );
    let listed = stdout_of(&dry);
    assert_eq!(
        listed
            .matches("then delete it once its upload is verified")
            .count(),
        31,
        "{listed}"
    );
    assert!(
        listed.contains("duplicate IMG_COPY.JPG: same content as"),
        "{listed}"
    );
    assert_eq!(walk(&card).len(), 31, "a dry run deletes nothing");

    let output = sync(&env, &card, &server.url("/files/"), &["--delete-after"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(
        walk(&card).is_empty(),
        "left on the card: {:?}",
        walk(&card)
    );
    assert_same_tree(&copy, &server.dir);
    let jobs = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    let cleared = jobs
        .lines()
        .filter(|line| line.contains("\"action\":\"deleted\""))
        .count();
    assert_eq!(cleared, 30, "{jobs}");
    let table = stdout_of(&run_ok(env.ferry().arg("jobs")));
    assert!(
        table.contains("succeeded (acked), source deleted"),
        "{table}"
    );
}

/// A dry run names each file it would clear on one line: a duplicate of
/// a file uploaded earlier is not listed again as a file to check.
#[test]
fn a_dry_run_lists_a_duplicate_of_an_uploaded_file_once() {
    let env = TestEnv::new();
    let (card, _) = card(&env, 3);
    let to = env.path().join("backup");
    let to = to.to_str().unwrap();
    run_ok(env.ferry().arg("sync").arg(&card).args(["--to", to]));
    std::fs::copy(&walk(&card)[0], card.join("IMG_COPY.JPG")).unwrap();

    let dry = run_ok(
        env.ferry()
            .args(["sync", "--dry-run", "--delete-after"])
            .arg(&card)
            .args(["--to", to]),
    );
    let listed = stdout_of(&dry);
    let lines: Vec<&str> = listed.lines().collect();
    let copy: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("IMG_COPY.JPG"))
        .collect();
    assert_eq!(copy.len(), 1, "{listed}");
    assert!(
        copy[0].starts_with("duplicate IMG_COPY.JPG: same content as ")
            && copy[0].ends_with(", then delete it once its upload is verified"),
        "{listed}"
    );
    let checked = lines
        .iter()
        .filter(|l| l.starts_with("would check ") && l.contains("(already uploaded), then delete"))
        .count();
    assert_eq!(checked, 3, "{listed}");
    assert_eq!(walk(&card).len(), 4, "a dry run deletes nothing");
}

/// A rule that leaves out one member of an asset (a Live Photo's video
/// not matched by `--include`, or over `--max-size`) keeps the whole asset
/// on the card, with a warning that names the member; without the rule,
/// the asset leaves the card whole.
#[test]
fn a_rule_that_leaves_out_a_member_keeps_its_whole_asset_on_the_card() {
    use crate::util::content;
    let env = TestEnv::new();
    let card = env.path().join("card");
    let to = env.path().join("backup");
    let to = to.to_str().unwrap();
    for (name, seed, len) in [
        ("IMG_0001.JPG", 1, 3000),
        ("IMG_0001.MOV", 2, 5000),
        ("IMG_0002.JPG", 3, 3000),
        ("more/IMG_0003.JPG", 4, 3000),
        ("more/IMG_0003.MOV", 5, 5000),
        ("takeout/IMG_0004.JPG", 6, 3000),
        ("takeout/IMG_0004.JPG.json", 7, 300),
    ] {
        write_file(&card.join(name), &content(seed, len));
    }
    for (rule, folder, kept, why) in [
        (
            ["--include", "*.JPG"],
            &card,
            "IMG_0001.JPG",
            "IMG_0001.MOV of its name was left out (not matched by --include)",
        ),
        (
            ["--max-size", "4k"],
            &card.join("more"),
            "IMG_0003.JPG",
            "IMG_0003.MOV of its name was left out (larger than --max-size)",
        ),
        (
            ["--include", "*.JPG"],
            &card.join("takeout"),
            "IMG_0004.JPG",
            "IMG_0004.JPG.json of its name was left out (not matched by --include)",
        ),
    ] {
        let output = sync(&env, folder, to, &[rule[0], rule[1], "--delete-after"]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "kept {}: {why}, so its asset would not leave the card whole",
                folder.join(kept).display()
            )),
            "{stderr}"
        );
        assert!(folder.join(kept).exists(), "{stderr}");
    }
    assert!(
        !card.join("IMG_0002.JPG").exists(),
        "a photo of its own is cleared"
    );
    let whole = sync(&env, &card, to, &["--delete-after"]);
    assert_eq!(whole.status.code(), Some(0), "{}", stderr_of(&whole));
    assert!(
        walk(&card).is_empty(),
        "left on the card: {:?}",
        walk(&card)
    );
}

#[test]
fn a_file_changed_after_the_scan_is_kept_and_its_job_fails() {
    let env = TestEnv::new();
    let (card, _) = card(&env, 5);
    let server = Server::start(&env.path().join("dest"), &[]);
    run_ok(
        env.ferry()
            .arg("scan")
            .arg(&card)
            .args(["--to", &server.url("/files/")]),
    );
    let changed = card.join("01/IMG_0001.jpg");
    let mut bytes = std::fs::read(&changed).unwrap();
    bytes.extend_from_slice(b" edited");
    write_file(&changed, &bytes);

    let output = env
        .ferry()
        .args(["upload", "--delete-after"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert_eq!(
        walk(&card),
        vec![changed.clone()],
        "only the changed file stays"
    );
    assert_eq!(std::fs::read(&changed).unwrap(), bytes);
    assert!(
        stderr_of(&output).contains("changed since scan"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_wrong_digest_from_the_server_deletes_nothing() {
    let env = TestEnv::new();
    let (card, copy) = card(&env, 6);
    let server = Server::start(&env.path().join("dest"), &[]);
    let proxy = FaultProxy::start(server.address, &vec![Fault::WrongDigest; 64]);
    let output = sync(
        &env,
        &card,
        &format!("http://{}/files/", proxy.address),
        &["--delete-after"],
    );
    let text = stderr_of(&output);
    assert_eq!(walk(&card).len(), 6, "nothing deleted: {text}");
    assert_eq!(tree(&card), tree(&copy));
    assert_eq!(text.matches("warning: kept").count(), 6, "{text}");
    assert!(
        text.contains("the server answered sha-256 e3b0c442"),
        "{text}"
    );
}

#[test]
fn delete_after_toward_tus_is_refused_before_any_upload() {
    let env = TestEnv::new();
    let (card, _) = card(&env, 3);
    let server = Server::start(&env.path().join("dest"), &[]);
    let output = sync(
        &env,
        &card,
        &server.url("/files/"),
        &["--protocol", "tus", "--delete-after"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let text = stderr_of(&output);
    assert!(
        text.contains(
            "--delete-after needs a destination that confirms each file's SHA-256, and tus"
        ),
        "{text}"
    );
    assert_eq!(walk(&card).len(), 3);
    assert!(walk(&server.dir).is_empty(), "nothing was uploaded");
    // A dry run is refused alike, rather than listing deletions the sync
    // would refuse (a new-user trial found it promising them).
    let moved = env.path().join("moved");
    let moved = moved.to_str().unwrap();
    for (protocol, clearing) in [
        ("tus", vec!["--delete-after"]),
        ("bits", vec!["--move-to", moved]),
    ] {
        let mut extra = vec!["--protocol", protocol, "--dry-run"];
        extra.extend(clearing.iter().copied());
        let output = sync(&env, &card, &server.url("/files/"), &extra);
        let text = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{protocol}: {text}");
        assert!(
            text.contains(&format!(
                "{} needs a destination that confirms each file's SHA-256, and {protocol} at",
                clearing[0]
            )),
            "{text}"
        );
        assert!(!stdout_of(&output).contains("would queue"), "{protocol}");
    }
    // Nothing was queued either: a later plain upload sends nothing, and
    // an auto destination that turns out to speak tus is refused the same.
    let jobs = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    assert_eq!(jobs.lines().count(), 0, "{jobs}");
    let tus = crate::upload::Peer::tus_node(&env.path().join("tus"));
    let output = sync(&env, &card, &tus.url, &["--delete-after"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let output = sync(&env, &card, &tus.url, &["--delete-after", "--dry-run"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr_of(&output));
    let jobs = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    assert_eq!(jobs.lines().count(), 0, "{jobs}");
    let upload = run_ok(env.ferry().arg("upload"));
    assert!(
        stderr_of(&upload).contains("nothing to upload"),
        "{}",
        stderr_of(&upload)
    );
}

#[test]
fn move_to_keeps_relative_paths_and_never_overwrites() {
    let env = TestEnv::new();
    let (card, copy) = card(&env, 8);
    let archive = env.path().join("archive");
    let taken = archive.join("02/IMG_0002.jpg");
    write_file(&taken, b"already here");
    let backup = env.path().join("backup");
    let output = sync(
        &env,
        &card,
        backup.to_str().unwrap(),
        &["--move-to", archive.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_same_tree(&copy, &backup);
    assert_eq!(
        walk(&card),
        vec![card.join("02/IMG_0002.jpg")],
        "the one whose name was taken stays"
    );
    assert_eq!(std::fs::read(&taken).unwrap(), b"already here");
    assert!(stderr_of(&output).contains("already exists; it is never replaced"));
    for path in walk(&copy) {
        let relative = path.strip_prefix(&copy).unwrap();
        if relative != Path::new("02/IMG_0002.jpg") {
            assert_eq!(
                std::fs::read(archive.join(relative)).unwrap(),
                std::fs::read(&path).unwrap()
            );
        }
    }
}

/// The worst case of a server that believes its memory: the copy at the
/// destination is gone, the server says "identical file already there",
/// and the card's only copy is deleted.
#[test]
fn delete_after_never_removes_a_source_whose_copy_was_removed_at_the_server() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let to = server.url("/files/");
    let a = crate::util::content(11, 50_000);
    let first = env.path().join("first");
    write_file(&first.join("IMG.jpg"), &a);
    run_ok(env.ferry().arg("sync").arg(&first).args(["--to", &to]));
    let second = env.path().join("second");
    write_file(&second.join("IMG.jpg"), &crate::util::content(12, 50_000));
    run_ok(env.ferry().arg("sync").arg(&second).args(["--to", &to]));
    assert!(server.dir.join("IMG (1).jpg").exists());
    std::fs::remove_file(server.dir.join("IMG.jpg")).unwrap();

    // A card holding A again, backed up by another machine's journal.
    let card = env.path().join("card");
    write_file(&card.join("IMG.jpg"), &a);
    let output = env
        .ferry_bare()
        .arg("--journal")
        .arg(env.path().join("other-journal.jsonl"))
        .arg("sync")
        .arg(&card)
        .args(["--to", &to, "--delete-after"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let stored = std::fs::read(server.dir.join("IMG.jpg"));
    assert!(
        stored.as_deref().ok() == Some(&a[..]) || card.join("IMG.jpg").exists(),
        "the card's copy was deleted and the server has no copy: {}",
        stderr_of(&output)
    );
    assert_eq!(stored.unwrap(), a);
    assert!(!card.join("IMG.jpg").exists());
}

/// A card of 30 photos, 3 of them duplicates of others, backed up once;
/// its contents by SHA-256.
fn backed_up_card(env: &TestEnv, sync: &dyn Fn(&[&str]) -> std::process::Output) -> Vec<String> {
    let card = env.path().join("card");
    photos(&card.join("DCIM"), 27);
    for i in 0..3 {
        let original = card.join(format!("DCIM/{:02}/IMG_{i:04}.jpg", i % 7));
        let copy = card.join(format!("Copies/copy of IMG_{i:04}.jpg"));
        write_file(&copy, &std::fs::read(original).unwrap());
    }
    let mut contents: Vec<String> = walk(&card).iter().map(|path| sha256_of(path)).collect();
    contents.sort();
    contents.dedup();
    assert_eq!((walk(&card).len(), contents.len()), (30, 27));
    let output = sync(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    contents
}

/// The second sync, with --delete-after: every file goes, each duplicate
/// vouched for by its twin, and the destination holds every content.
fn clear_the_backed_up_card(
    env: &TestEnv,
    sync: &dyn Fn(&[&str]) -> std::process::Output,
    stored: &dyn Fn() -> Vec<String>,
) {
    let card = env.path().join("card");
    let contents = backed_up_card(env, sync);
    let output = sync(&["--delete-after", "-v"]);
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        walk(&card).is_empty(),
        "left on the card: {:?}\n{text}",
        walk(&card)
    );
    assert_eq!(text.matches("deleted ").count(), 30, "{text}");
    assert_eq!(
        text.matches(", confirmed at the destination)").count(),
        3,
        "{text}"
    );
    assert!(text.contains("30 source files cleared"), "{text}");
    let at_destination = stored();
    for sha in &contents {
        assert!(
            at_destination.contains(sha),
            "{sha} is not at the destination"
        );
    }
}

#[test]
fn a_card_already_backed_up_to_ferry_serve_is_cleared_by_a_second_sync() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let to = server.url("/files/");
    let card = env.path().join("card");
    let sync = |extra: &[&str]| sync(&env, &card, &to, extra);
    let stored = || {
        walk(&server.dir)
            .iter()
            .map(|path| sha256_of(path))
            .collect()
    };
    clear_the_backed_up_card(&env, &sync, &stored);
}

#[test]
fn a_card_already_backed_up_to_a_local_folder_is_cleared_by_a_second_sync() {
    let env = TestEnv::new();
    let dest = env.path().join("backup");
    let card = env.path().join("card");
    let to = dest.to_str().unwrap();
    let sync = |extra: &[&str]| sync(&env, &card, to, extra);
    let stored = || walk(&dest).iter().map(|path| sha256_of(path)).collect();
    clear_the_backed_up_card(&env, &sync, &stored);
}

#[test]
fn a_copy_gone_from_the_destination_keeps_its_file_and_its_duplicate_on_the_card() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let to = server.url("/files/");
    let card = env.path().join("card");
    let sync = |extra: &[&str]| sync(&env, &card, &to, extra);
    backed_up_card(&env, &sync);
    // The walk meets Copies/ first: its file carries the content, and the
    // one in DCIM/ is the duplicate.
    std::fs::remove_file(server.dir.join("Copies/copy of IMG_0000.jpg")).unwrap();
    let output = sync(&["--delete-after"]);
    let text = stderr_of(&output);
    // The backup is short of a file: not a success, and it is queued again.
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert!(
        text.contains("1 lost at the destination and queued again"),
        "{text}"
    );
    assert!(
        text.contains("queued again, the next run sends it"),
        "{text}"
    );
    let mut left: Vec<String> = walk(&card)
        .iter()
        .map(|path| path.strip_prefix(&card).unwrap().display().to_string())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["Copies/copy of IMG_0000.jpg", "DCIM/00/IMG_0000.jpg"],
        "{text}"
    );
    assert!(
        text.contains("ferry serve has no Copies/copy of IMG_0000.jpg"),
        "{text}"
    );
    assert!(text.contains("28 source files cleared"), "{text}");

    // The next sync sends it again, and then both files go.
    let output = sync(&["--delete-after"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert!(walk(&card).is_empty(), "{}", stderr_of(&output));
    assert!(server.dir.join("Copies/copy of IMG_0000.jpg").exists());

    // Nothing left to clear: the run says so.
    let output = sync(&["--delete-after"]);
    let text = stderr_of(&output);
    assert!(
        text.contains("--delete-after cleared nothing: no file under the folders"),
        "{text}"
    );
}

#[test]
fn a_card_already_backed_up_to_garage_is_cleared_by_a_second_sync() {
    let env = TestEnv::new();
    let garage = crate::s3::Store::garage(&env.path().join("garage"), 1, "photos");
    let card = env.path().join("card");
    let sync = |extra: &[&str]| {
        garage
            .ferry(&env)
            .arg("sync")
            .arg(&card)
            .args(["--to", "s3://photos/card/"])
            .args(extra)
            .output()
            .unwrap()
    };
    let stored = || garage.digests("photos").into_values().collect();
    clear_the_backed_up_card(&env, &sync, &stored);
}

/// Ctrl-C during the checks of files uploaded earlier starts no further
/// check and deletes nothing more: the run ends at once with 130.
#[test]
fn ctrl_c_while_earlier_uploads_are_checked_clears_nothing_more() {
    use std::time::{Duration, Instant};
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("dest"), &[]);
    let card = env.path().join("card");
    photos(&card, 10);
    // The first sync's 11 requests and the second's OPTIONS pass; every
    // check after that hangs.
    let mut faults = vec![Fault::Pass; 12];
    faults.extend(vec![Fault::Stall(Duration::from_secs(40)); 20]);
    let proxy = FaultProxy::start(server.address, &faults);
    let to = format!("http://{}/files/", proxy.address);
    // Ten uploads of one request each, after the destination check.
    run_ok(
        env.ferry()
            .arg("sync")
            .arg(&card)
            .args(["--to", &to, "-j", "1"]),
    );
    assert_eq!(proxy.requests().len(), 11, "{:#?}", proxy.requests());
    let child = env
        .ferry()
        .arg("sync")
        .arg(&card)
        .args(["--to", &to, "--delete-after", "-j", "2"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let heads = || {
        proxy
            .requests()
            .iter()
            .filter(|r| r.starts_with("HEAD"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while heads() == 0 {
        assert!(Instant::now() < deadline, "{:#?}", proxy.requests());
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let output = crate::util::output_within(
        child,
        Duration::from_secs(5),
        "the checks went on after Ctrl-C",
    );
    assert_eq!(output.status.code(), Some(130), "{}", stderr_of(&output));
    assert_eq!(walk(&card).len(), 10, "{}", stderr_of(&output));
    assert!(
        heads() <= 2,
        "no check started after Ctrl-C: {:#?}",
        proxy.requests()
    );
}

/// `--move-to` a folder the scan of the card walks into is refused before
/// anything is read: the moved files would be scanned again by the next
/// run and moved one folder deeper each time (a new-user trial found
/// `done/done/DCIM/g1.jpg` after two runs). A hidden folder there, which
/// the scan passes over, is fine.
#[test]
fn move_to_a_folder_the_scan_walks_into_is_refused() {
    let env = TestEnv::new();
    let (card, copy) = card(&env, 3);
    let dest = env.path().join("dest");
    let inside = card.join("done");
    let output = sync(
        &env,
        &card,
        dest.to_str().unwrap(),
        &["--move-to", inside.to_str().unwrap()],
    );
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!(
            "--move-to {}: it is in {}, a folder being synced",
            inside.display(),
            card.canonicalize().unwrap().display()
        )),
        "{text}"
    );
    assert_eq!(tree(&card), tree(&copy));
    assert!(!dest.exists() && !inside.exists());
    let hidden = card.join(".done");
    for _ in 0..2 {
        let output = sync(
            &env,
            &card,
            dest.to_str().unwrap(),
            &["--move-to", hidden.to_str().unwrap()],
        );
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert_eq!(tree(&hidden), tree(&copy), "moved once, not again");
    }
}

/// A dry run with `--move-to` says a file whose name is taken in the
/// folder would stay, as the sync then keeps it; before, it promised the
/// move (a new-user trial found it).
#[test]
fn a_dry_run_says_a_move_onto_a_taken_name_keeps_the_file() {
    let env = TestEnv::new();
    let (card, _) = card(&env, 2);
    let moved = env.path().join("moved");
    write_file(&moved.join("01/IMG_0001.jpg"), b"another file");
    let dest = env.path().join("dest");
    let mut extra = vec!["--move-to", moved.to_str().unwrap()];
    let dry = sync(
        &env,
        &card,
        dest.to_str().unwrap(),
        &[&extra[..], &["--dry-run"]].concat(),
    );
    let listed = stdout_of(&dry);
    assert!(
        listed.contains(&format!(
            "then keep it, since {} already exists",
            moved.join("01/IMG_0001.jpg").display()
        )),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(
            "then move it to {}",
            moved.join("00/IMG_0000.jpg").display()
        )),
        "{listed}"
    );
    extra.push("-v");
    let real = sync(&env, &card, dest.to_str().unwrap(), &extra);
    assert!(
        card.join("01/IMG_0001.jpg").exists(),
        "{}",
        stderr_of(&real)
    );
    assert_eq!(
        std::fs::read(moved.join("01/IMG_0001.jpg")).unwrap(),
        b"another file"
    );
    assert!(moved.join("00/IMG_0000.jpg").exists());
}

#[test]
fn a_backup_inside_the_synced_folder_is_never_cleared_as_a_duplicate() {
    use crate::util::content;
    let env = TestEnv::new();
    let home = env.path().join("home");
    let pictures = home.join("Pictures");
    for (name, seed) in [("IMG_0001.JPG", 1), ("IMG_0002.JPG", 2)] {
        write_file(&pictures.join(name), &content(seed, 4000));
    }
    // A local destination inside the folder synced next: the README's own
    // ~/Pictures and ~/ferry-backup, then all of ~ with --delete-after.
    let backup = home.join("ferry-backup");
    let to = backup.to_str().unwrap();
    let first = sync(&env, &pictures, to, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
    let output = sync(&env, &home, to, &["--delete-after", "-v"]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "skipped ferry-backup: the destination folder, left out: its files are the backup, not sources"
        ),
        "{stderr}"
    );
    for (name, seed) in [("IMG_0001.JPG", 1), ("IMG_0002.JPG", 2)] {
        assert_eq!(
            std::fs::read(backup.join(name)).unwrap(),
            content(seed, 4000)
        );
        assert!(!pictures.join(name).exists(), "{stderr}");
    }
    // The backup itself given to sync: a warning, exit 3, nothing cleared.
    let inside = sync(&env, &backup, to, &["--delete-after"]);
    let stderr = stderr_of(&inside);
    assert_eq!(inside.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("not scanned: it is in the destination folder"),
        "{stderr}"
    );
    assert!(backup.join("IMG_0001.JPG").exists(), "{stderr}");

    // `ferry serve --dir` inside the synced folder: its files are kept.
    let home = env.path().join("home2");
    let pictures = home.join("Pictures");
    write_file(&pictures.join("IMG_0003.JPG"), &content(3, 4000));
    let store = home.join("received");
    let server = Server::start(&store, &[]);
    let first = sync(&env, &pictures, &server.url("/files/"), &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
    let dry = sync(
        &env,
        &home,
        &server.url("/files/"),
        &["--delete-after", "--dry-run"],
    );
    assert!(
        stdout_of(&dry).contains(&format!(
            "duplicate received/IMG_0003.JPG: same content as Pictures/IMG_0003.JPG, then keep it: it lies in {}",
            store.display()
        )),
        "{}",
        stdout_of(&dry)
    );
    let output = sync(&env, &home, &server.url("/files/"), &["--delete-after"]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: kept {}: it lies in {}, a folder `ferry serve` receives uploads into (it holds .ferry-uploads), so it may be the destination's own copy",
            store.join("IMG_0003.JPG").display(),
            store.display()
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(store.join("IMG_0003.JPG")).unwrap(),
        content(3, 4000)
    );
    assert!(!pictures.join("IMG_0003.JPG").exists(), "{stderr}");
}

#[test]
fn a_file_edited_in_place_with_its_times_kept_is_never_cleared_on_the_journals_word() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    let photo = card.join("DSC_0002.JPG");
    write_file(&photo, b"the first content");
    // And a photo with its sidecar, one asset, cleared whole or not at all.
    let (jpeg, sidecar) = (card.join("IMG_0003.JPG"), card.join("IMG_0003.JPG.xmp"));
    write_file(&jpeg, b"a jpeg with a sidecar");
    write_file(&sidecar, b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>");
    let dest = env.path().join("backup");
    let to = dest.to_str().unwrap();
    let first = sync(&env, &card, to, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
    // The same size, mtime and inode; other bytes.
    for path in [&photo, &jpeg] {
        let scanned_at = std::fs::metadata(path).unwrap().modified().unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&file, b"THE", 0).unwrap();
        file.set_modified(scanned_at).unwrap();
    }
    let clearing = sync(&env, &card, to, &["--delete-after"]);
    let stderr = stderr_of(&clearing);
    assert_eq!(
        std::fs::read(&photo).unwrap(),
        b"THE first content",
        "the only copy of the new content was deleted: {stderr}"
    );
    assert!(
        stderr.contains("DSC_0002.JPG: its content is not what was uploaded any more (edited in place, its size and times kept?); `ferry sync --rehash` sends it"),
        "{stderr}"
    );
    assert!(jpeg.exists() && sidecar.exists(), "{stderr}");
    assert!(
        stderr.contains(
            "IMG_0003.JPG of the same asset: its content is not what was uploaded any more"
        ),
        "{stderr}"
    );
    // What the line says: a rehash sends the new content, and then clears.
    let rehashed = sync(&env, &card, to, &["--rehash", "--delete-after"]);
    assert_eq!(rehashed.status.code(), Some(0), "{}", stderr_of(&rehashed));
    assert!(!photo.exists() && !jpeg.exists() && !sidecar.exists());
    let kept: Vec<Vec<u8>> = walk(&dest)
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(kept.contains(&b"THE first content".to_vec()), "{kept:?}");
}

/// A folder on another file system than `near`, for `--move-to` to copy
/// across: /dev/shm (tmpfs) or /var/tmp, whichever `near` is not on.
fn folder_on_another_file_system(near: &Path) -> tempfile::TempDir {
    use std::os::unix::fs::MetadataExt;
    let device = std::fs::metadata(near).unwrap().dev();
    let base = ["/dev/shm", "/var/tmp", "/tmp"]
        .into_iter()
        .find(|base| std::fs::metadata(base).is_ok_and(|meta| meta.dev() != device))
        .expect("a folder on another file system than the test's");
    tempfile::tempdir_in(base).unwrap()
}

/// Across file systems, each moved file is copied under a name of its
/// own: `IMG_0013.JPG` and `IMG_0013.MOV` moved at once once shared
/// `IMG_0013.ferry-moving`, mixing their bytes, and a user's file of that
/// name was overwritten and removed.
#[test]
fn move_to_another_file_system_gives_each_copy_a_name_of_its_own() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    for n in 10..30 {
        for extension in ["JPG", "MOV"] {
            let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + n * 31) as u8).collect();
            let name = format!("IMG_00{n}.{extension}");
            let mut bytes = bytes;
            bytes.extend_from_slice(name.as_bytes());
            write_file(&card.join(name), &bytes);
        }
    }
    write_file(&card.join("IMG_0099.JPG"), b"a small photo");
    let expected: Vec<(String, Vec<u8>)> = walk(&card)
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    let archive = folder_on_another_file_system(env.path());
    let users = archive.path().join("IMG_0099.ferry-moving");
    write_file(&users, b"my notes");
    let backup = env.path().join("backup");
    let output = sync(
        &env,
        &card,
        backup.to_str().unwrap(),
        &["--move-to", archive.path().to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    assert_eq!(
        walk(&card),
        Vec::<std::path::PathBuf>::new(),
        "{}",
        stderr_of(&output)
    );
    for (name, bytes) in &expected {
        let moved = std::fs::read(archive.path().join(name)).unwrap();
        assert!(moved == *bytes, "{name} moved with other bytes");
    }
    assert_eq!(std::fs::read(&users).unwrap(), b"my notes");
    let left: Vec<_> = walk(archive.path())
        .into_iter()
        .filter(|path| path.to_string_lossy().contains(".ferry-moving-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A symlink in the destination folder that leads back to the card makes
/// the "copy" the source itself: it is kept, whatever the paths say.
#[test]
fn a_destination_that_leads_back_to_the_card_never_clears_it() {
    let env = TestEnv::new();
    let (card, copy) = card(&env, 3);
    let backup = env.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    for folder in ["00", "01"] {
        std::os::unix::fs::symlink(card.join(folder), backup.join(folder)).unwrap();
    }
    let output = sync(&env, &card, backup.to_str().unwrap(), &["--delete-after"]);
    let said = stderr_of(&output);
    let kept = [card.join("00/IMG_0000.jpg"), card.join("01/IMG_0001.jpg")];
    assert_eq!(walk(&card), kept, "{said}");
    for path in &kept {
        let relative = path.strip_prefix(&card).unwrap();
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(copy.join(relative)).unwrap()
        );
    }
    assert_eq!(said.matches("is this very file").count(), 2, "{said}");
    // A file the symlinks do not lead to is uploaded and cleared.
    let third = std::fs::read(backup.join("02/IMG_0002.jpg")).unwrap();
    assert_eq!(third, std::fs::read(copy.join("02/IMG_0002.jpg")).unwrap());
}

/// An asset's members are cleared after the whole run, so each is asked
/// again then, not taken on its upload's answer: a sidecar lost at the
/// server while its photo still uploads keeps the asset on the card, and
/// the sidecar is queued again.
#[test]
fn an_asset_member_lost_at_the_server_during_the_run_keeps_the_asset() {
    let env = TestEnv::new();
    let server = Server::start(&env.path().join("srv"), &[]);
    let card = env.path().join("card");
    let photo = crate::util::content(3, 8_000_000);
    write_file(&card.join("IMG_0300.JPG"), &photo);
    write_file(&card.join("IMG_0300.xmp"), b"<x:xmpmeta rating=\"5\"/>");
    let started = std::time::Instant::now();
    let mut sync = env
        .ferry()
        .arg("sync")
        .arg(&card)
        .args(["--to", &server.url("/files/"), "--delete-after"])
        .args(["--bwlimit", "1M", "-j", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let sidecar = server.dir.join("IMG_0300.xmp");
    while !sidecar.exists() {
        assert!(
            started.elapsed().as_secs() < 3,
            "the sidecar never arrived early"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let running = sync.try_wait().unwrap().is_none();
    std::fs::remove_file(&sidecar).unwrap();
    let output = sync.wait_with_output().unwrap();
    assert!(
        running,
        "the photo was sent before the sidecar: {}",
        stderr_of(&output)
    );
    let said = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{said}");
    assert!(
        said.contains("1 lost at the destination and queued again"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(card.join("IMG_0300.JPG")).unwrap(),
        photo,
        "{said}"
    );
    assert!(card.join("IMG_0300.xmp").exists(), "{said}");
}

/// An asset member this run uploaded is cleared only on what the
/// destination says at the end of the run. A destination that then cannot
/// answer for it (503) does not let its upload's earlier answer stand in:
/// the asset stays. One that answers with the size but no digest does.
#[test]
fn an_asset_member_the_destination_cannot_answer_for_at_clearing_keeps_the_asset() {
    for (fault, cleared) in [(Fault::Status(503), false), (Fault::NoDigest, true)] {
        let env = TestEnv::new();
        let server = Server::start(&env.path().join("srv"), &[]);
        let proxy =
            FaultProxy::start_faulting(server.address, "HEAD /files/IMG_0400.xmp", fault.clone());
        let card = env.path().join("card");
        write_file(
            &card.join("IMG_0400.JPG"),
            &crate::util::content(5, 200_000),
        );
        write_file(&card.join("IMG_0400.xmp"), b"<x:xmpmeta rating=\"4\"/>");
        let output = sync(
            &env,
            &card,
            &format!("http://{}/files/", proxy.address),
            &["--delete-after", "--retries", "1"],
        );
        let said = stderr_of(&output);
        assert!(
            server.dir.join("IMG_0400.xmp").exists(),
            "{fault:?}: {said}"
        );
        assert!(
            server.dir.join("IMG_0400.JPG").exists(),
            "{fault:?}: {said}"
        );
        for name in ["IMG_0400.JPG", "IMG_0400.xmp"] {
            assert_eq!(
                !card.join(name).exists(),
                cleared,
                "{fault:?} {name}: {said}"
            );
        }
        if !cleared {
            assert!(said.contains("IMG_0400.xmp of the same asset"), "{said}");
        }
    }
}

/// A sidecar edited in place while its photo uploads, its size and time
/// kept (as `exiftool -P` does), is read again before its asset is
/// cleared: the asset stays, and the edit with it.
#[test]
fn a_sidecar_edited_in_place_during_the_run_keeps_its_asset() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    let card = env.path().join("card");
    let photo = crate::util::content(4, 8_000_000);
    write_file(&card.join("IMG_0200.JPG"), &photo);
    let sidecar = card.join("IMG_0200.xmp");
    write_file(&sidecar, b"<x rating=\"1\"/>");
    let backup = env.path().join("backup");
    let started = std::time::Instant::now();
    let mut sync = env
        .ferry()
        .arg("sync")
        .arg(&card)
        .arg("--to")
        .arg(&backup)
        .args(["--delete-after", "--bwlimit", "1M", "-j", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while !backup.join("IMG_0200.xmp").exists() {
        assert!(
            started.elapsed().as_secs() < 3,
            "the sidecar never arrived early"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let running = sync.try_wait().unwrap().is_none();
    let before = std::fs::metadata(&sidecar).unwrap();
    std::fs::write(&sidecar, b"<x rating=\"5\"/>").unwrap();
    let times = std::fs::FileTimes::new()
        .set_accessed(before.accessed().unwrap())
        .set_modified(before.modified().unwrap());
    std::fs::File::options()
        .write(true)
        .open(&sidecar)
        .unwrap()
        .set_times(times)
        .unwrap();
    assert_eq!(
        std::fs::metadata(&sidecar).unwrap().mtime_nsec(),
        before.mtime_nsec()
    );
    let output = sync.wait_with_output().unwrap();
    let said = stderr_of(&output);
    assert!(running, "the photo was sent before the sidecar: {said}");
    assert!(said.contains("edited in place"), "{said}");
    // Each member once, though each was also uploaded in this run.
    assert!(
        said.contains("cleared nothing: 2 files were kept"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&sidecar).unwrap(),
        b"<x rating=\"5\"/>",
        "{said}"
    );
    assert_eq!(
        std::fs::read(card.join("IMG_0200.JPG")).unwrap(),
        photo,
        "{said}"
    );
}
