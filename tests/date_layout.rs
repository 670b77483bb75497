//! `--layout`: files land by capture date, on every destination kind,
//! two files that render to one name both kept, and a dry run shows where
//! each would go. The card holds real camera files (tests/fixtures/cameras)
//! and stills made with ffmpeg and dated with exiftool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::http::Server;
use crate::peers;
use crate::s3::Store;
use crate::upload::{run_ok, sha256_of, tree};
use crate::util::{TestEnv, stderr_of, stdout_of, write_file};

const CAMERAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cameras");

/// A still from ffmpeg, different for each `seed`, dated with exiftool
/// (or left undated with `None`).
fn still(path: &Path, seed: u32, taken: Option<&str>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    run_ok(
        Command::new(peers::ffmpeg())
            .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("color=c=0x{:06x}:size=16x16", seed * 0x10101))
            .args(["-frames:v", "1"])
            .arg(path),
    );
    if let Some(taken) = taken {
        run_ok(
            Command::new(peers::exiftool())
                .arg("-overwrite_original")
                .arg(format!("-EXIF:DateTimeOriginal={taken}"))
                .arg(path),
        );
    }
}

/// A card of camera files in DCIM folders, two different `IMG_0001.JPG`
/// taken the same month, and a scan with no date; and where each file
/// should land under `{year}/{month}/{name}`, with its SHA-256.
fn card(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut landing = BTreeMap::new();
    for (name, folder, month) in [
        ("Canon.jpg", "DCIM/100CANON", "2003/12"),
        ("Google.jpg", "DCIM/Camera", "2023/10"),
        ("IMG_2682.heic", "DCIM/100APPLE", "2019/03"),
        ("meta.mov", "DCIM/100APPLE", "2019/02"),
        ("Nikon.nef", "DCIM/100NIKON", "2004/06"),
        ("FujiFilm.raf", "DCIM/100_FUJI", "2007/05"),
    ] {
        let path = root.join(folder).join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(CAMERAS).join(name), &path).unwrap();
        landing.insert(Path::new(month).join(name), sha256_of(&path));
    }
    let first = root.join("DCIM/101CANON/IMG_0001.JPG");
    still(&first, 1, Some("2024:03:15 10:00:00"));
    let second = root.join("DCIM/102CANON/IMG_0001.JPG");
    still(&second, 2, Some("2024:03:20 11:00:00"));
    // Walk order is by path: 101CANON's keeps the name.
    // The same name but for case: one file on APFS, NTFS or exFAT.
    let third = root.join("DCIM/103CANON/img_0001.jpg");
    still(&third, 4, Some("2024:03:25 12:00:00"));
    landing.insert(PathBuf::from("2024/03/IMG_0001.JPG"), sha256_of(&first));
    landing.insert(
        PathBuf::from("2024/03/IMG_0001 (1).JPG"),
        sha256_of(&second),
    );
    landing.insert(PathBuf::from("2024/03/img_0001 (2).jpg"), sha256_of(&third));
    let undated = root.join("scans/scan-0001.jpg");
    still(&undated, 3, None);
    run_ok(
        Command::new("touch")
            .env("TZ", "UTC")
            .args(["-d", "2022-07-01 12:00:00"])
            .arg(&undated),
    );
    landing.insert(PathBuf::from("2022/07/scan-0001.jpg"), sha256_of(&undated));
    landing
}

/// `ferry sync -q` with `{year}/{month}/{name}`: exits 0 only when every
/// job succeeded.
pub fn sync_with_layout(command: &mut Command, card: &Path, to: &str, extra: &[&str]) {
    run_ok(
        command
            .env("TZ", "UTC")
            .args(["sync", "-q", "-j", "4", "--layout", "{year}/{month}/{name}"])
            .arg(card)
            .args(["--to", to])
            .args(extra),
    );
}

#[test]
fn a_card_lands_by_year_and_month_in_a_folder_on_ferry_serve_over_each_protocol_and_in_garage() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let landing = card(&card_dir);
    assert_eq!(landing.len(), 10);

    let folder = env.path().join("backup");
    sync_with_layout(&mut env.ferry(), &card_dir, folder.to_str().unwrap(), &[]);
    assert_eq!(tree(&folder), landing.clone().into_iter().collect());

    let served = env.path().join("served");
    let server = Server::start(&served, &[]);
    for protocol in ["ietf", "tus", "put", "bits"] {
        let journal = env.path().join(format!("{protocol}.jsonl"));
        let url = server.url(&format!("/files/{protocol}/"));
        let mut command = env.ferry();
        command.env("FERRY_JOURNAL", &journal);
        sync_with_layout(&mut command, &card_dir, &url, &["--protocol", protocol]);
        assert_eq!(
            tree(&served.join(protocol)),
            landing.clone().into_iter().collect(),
            "{protocol}"
        );
    }

    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let journal = env.path().join("s3.jsonl");
    let mut command = garage.ferry(&env);
    command.env("FERRY_JOURNAL", &journal);
    sync_with_layout(&mut command, &card_dir, "s3://photos/card/", &[]);
    let expected: BTreeMap<String, String> = landing
        .iter()
        .map(|(path, sha)| (format!("card/{}", path.display()), sha.clone()))
        .collect();
    assert_eq!(garage.digests("photos"), expected);
}

#[test]
fn a_dry_run_shows_where_each_file_would_land_and_a_bad_template_is_one_line() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let landing = card(&card_dir);
    let to = env.path().join("backup");
    let output = run_ok(
        env.ferry()
            .env("TZ", "UTC")
            .args(["sync", "--dry-run", "--layout", "{year}/{month}/{name}"])
            .arg(&card_dir)
            .arg("--to")
            .arg(&to),
    );
    let said = stdout_of(&output);
    for target in landing.keys() {
        let wanted = format!(" to {}/{}", to.display(), target.display());
        assert!(said.contains(&wanted), "{wanted} not in {said}");
    }
    assert!(!to.exists());
    let output = run_ok(
        env.ferry()
            .env("TZ", "UTC")
            .args([
                "scan",
                "--dry-run",
                "--json",
                "--layout",
                "{year}/{month}/{name}",
            ])
            .arg(&card_dir)
            .arg("--to")
            .arg(&to),
    );
    let targets: Vec<PathBuf> = stdout_of(&output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["type"] == "queued")
        .map(|event| PathBuf::from(event["target"].as_str().unwrap()))
        .collect();
    assert_eq!(targets.len(), landing.len());
    assert!(
        targets.iter().all(|t| landing.contains_key(t)),
        "{targets:?}"
    );

    for (args, wanted) in [
        (
            vec!["--layout", "{year}/{monht}/{name}"],
            "unknown {monht}; use {year}, {month}, {day}, {name}, {stem}, {ext}, {path} or {dir}",
        ),
        (vec!["--layout", "{year}/{month}"], "does not name the file"),
        (vec!["--layout", "../{name}"], "outside the destination"),
        (
            vec!["--layout-undated", "undated/{name}"],
            "--layout-undated places the files --layout does not date: give --layout too",
        ),
    ] {
        let output = env
            .ferry()
            .arg("sync")
            .arg(&card_dir)
            .arg("--to")
            .arg(&to)
            .args(&args)
            .output()
            .unwrap();
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
        assert!(!to.exists());
    }
}

#[test]
fn a_configured_layout_applies_and_undated_files_get_their_own_folder() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let landing = card(&card_dir);
    let to = env.path().join("nas");
    let config = env.path().join("config.toml");
    write_file(
        &config,
        format!(
            "[destinations.nas]\nurl = {:?}\nlayout = \"{{year}}/{{name}}\"\nlayout-undated = \"undated/{{dir}}/{{name}}\"\n",
            to.to_str().unwrap()
        )
        .as_bytes(),
    );
    run_ok(
        env.ferry()
            .env("TZ", "UTC")
            .arg("--config")
            .arg(&config)
            .args(["sync", "-q"])
            .arg(&card_dir)
            .args(["--to", "nas"]),
    );
    let expected: BTreeMap<PathBuf, String> = landing
        .iter()
        .map(|(path, sha)| {
            let name = path.file_name().unwrap();
            let target = match path.starts_with("2022/07") {
                true => Path::new("undated/scans").join(name),
                false => path.iter().next().map(Path::new).unwrap().join(name),
            };
            (target, sha.clone())
        })
        .collect();
    assert_eq!(tree(&to), expected);
    let jobs = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    assert!(jobs.contains(r#""target":"2003/Canon.jpg""#), "{jobs}");
}

#[test]
fn files_scanned_without_a_layout_and_not_sent_yet_take_the_layouts_place() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let landing = card(&card_dir);
    let folder = env.path().join("backup");
    // One file is uploaded before any layout: it stays where it went.
    let early = env.path().join("early");
    std::fs::create_dir_all(&early).unwrap();
    std::fs::copy(
        card_dir.join("DCIM/100CANON/Canon.jpg"),
        early.join("Canon.jpg"),
    )
    .unwrap();
    run_ok(
        env.ferry()
            .args(["sync", "-q"])
            .arg(&early)
            .arg("--to")
            .arg(&folder),
    );
    run_ok(
        env.ferry()
            .env("TZ", "UTC")
            .args(["scan", "-q"])
            .arg(&card_dir)
            .arg("--to")
            .arg(&folder),
    );
    sync_with_layout(&mut env.ferry(), &card_dir, folder.to_str().unwrap(), &[]);
    let mut expected: BTreeMap<PathBuf, String> = landing
        .into_iter()
        .filter(|(path, _)| !path.ends_with("Canon.jpg"))
        .collect();
    // The same content as the early upload: a duplicate, not sent again.
    expected.insert(
        PathBuf::from("Canon.jpg"),
        sha256_of(&early.join("Canon.jpg")),
    );
    assert_eq!(tree(&folder), expected);
}

/// With a layout, a file's new place is shown even when it ends with the
/// file's path (a file at the top of the card under `{name}`).
#[test]
fn a_file_at_the_top_of_the_card_is_shown_with_its_new_place() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    still(
        &card_dir.join("IMG_0001.JPG"),
        1,
        Some("2024:03:15 10:00:00"),
    );
    let to = env.path().join("backup");
    let output = run_ok(
        env.ferry()
            .args(["sync", "--layout", "{year}/{month}/{name}"])
            .arg(&card_dir)
            .arg("--to")
            .arg(&to),
    );
    assert!(
        stderr_of(&output).contains("uploaded IMG_0001.JPG as 2024/03/IMG_0001.JPG"),
        "{}",
        stderr_of(&output)
    );
    let jobs = stdout_of(&run_ok(env.ferry().arg("jobs")));
    assert!(
        jobs.contains("IMG_0001.JPG as 2024/03/IMG_0001.JPG"),
        "{jobs}"
    );
}

#[test]
fn copies_keep_the_modification_time_an_undated_file_has_as_its_only_date() {
    use std::time::{Duration, UNIX_EPOCH};
    let env = TestEnv::new();
    let card = env.path().join("card");
    let scan = card.join("scan-0001.png");
    write_file(&scan, b"a scanned print, no date inside");
    let taken = UNIX_EPOCH + Duration::new(1_500_000_000, 123_456_789);
    let file = std::fs::File::options().write(true).open(&scan).unwrap();
    file.set_modified(taken).unwrap();
    drop(file);
    let modified = |path: &Path| std::fs::metadata(path).unwrap().modified().unwrap();

    let backup = env.path().join("backup");
    run_ok(
        env.ferry()
            .args(["sync", "-q"])
            .arg(&card)
            .arg("--to")
            .arg(&backup),
    );
    assert_eq!(modified(&backup.join("scan-0001.png")), taken);

    // SFTP carries whole seconds.
    let sshd = crate::sftp::Sshd::start();
    let nas = env.path().join("nas");
    sshd.sync_quietly(&env, &card, &nas);
    let at = modified(&nas.join("scan-0001.png"));
    assert_eq!(
        at.duration_since(UNIX_EPOCH).unwrap().as_secs(),
        1_500_000_000
    );
}
