//! Capture dates, checked against exiftool on real camera files that
//! nobody here wrote (`tests/fixtures/cameras`, PROVENANCE.md says where
//! each comes from) and on fixtures made here with exiftool and ffmpeg for
//! what those lack: a video whose clock is UTC, one with Apple's local
//! creation date, garbage and future dates, a date only in the name, an
//! XMP sidecar, no date at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::peers;
use crate::upload::run_ok;
use crate::util::{TestEnv, stdout_of};

const CAMERAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cameras");

/// `file name -> (date to the second, source)` from a `scan --json`.
fn scanned_dates(
    env: &TestEnv,
    card: &Path,
    tz: &str,
    extra: &[&str],
) -> BTreeMap<String, (String, String)> {
    let output = run_ok(
        env.ferry()
            .env("TZ", tz)
            .args(["scan", "--json"])
            .arg(card)
            .arg("--to")
            .arg(env.path().join("dest"))
            .args(extra),
    );
    stdout_of(&output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["type"] == "queued")
        .map(|event| {
            let name = Path::new(event["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let taken = event["taken"].as_str().unwrap_or("none");
            let second = taken.get(..19).unwrap_or(taken).to_owned();
            (
                name,
                (
                    second,
                    event["taken_from"].as_str().unwrap_or("none").to_owned(),
                ),
            )
        })
        .collect()
}

/// exiftool's date tags of each file in `dir`, as it prints them.
fn exiftool_dates(dir: &Path, tz: &str) -> BTreeMap<String, serde_json::Value> {
    let output = run_ok(
        Command::new(peers::exiftool())
            .env("TZ", tz)
            .args(["-j", "-G0", "-api", "QuickTimeUTC=1"])
            .args([
                "-EXIF:DateTimeOriginal",
                "-EXIF:CreateDate",
                "-QuickTime:CreationDate",
                "-QuickTime:CreateDate",
                "-FileModifyDate",
            ])
            .arg(dir),
    );
    let files: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    files
        .into_iter()
        .map(|file| {
            let name = Path::new(file["SourceFile"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, file)
        })
        .collect()
}

/// `2024:03:15 14:22:33...` as `2024-03-15T14:22:33`, when it is a date
/// from 1990 on (what ferry takes as one).
fn wall_clock(value: &serde_json::Value) -> Option<String> {
    let text = value.as_str()?;
    let date = text.get(..10)?.replace(':', "-");
    let time = text.get(11..19)?;
    let year: u32 = date.get(..4)?.parse().ok()?;
    (1990..2100)
        .contains(&year)
        .then(|| format!("{date}T{time}"))
}

/// The date and source ferry should find, by its documented order, from
/// exiftool's tags (no sidecars or names with dates in this set).
fn expected_from_exiftool(tags: &serde_json::Value) -> (String, String) {
    let exif =
        wall_clock(&tags["EXIF:DateTimeOriginal"]).or_else(|| wall_clock(&tags["EXIF:CreateDate"]));
    if let Some(at) = exif {
        return (at, "exif".into());
    }
    // With QuickTimeUTC, exiftool shows mvhd in the TZ the test sets.
    let movie = wall_clock(&tags["QuickTime:CreationDate"])
        .or_else(|| wall_clock(&tags["QuickTime:CreateDate"]));
    if let Some(at) = movie {
        return (at, "quicktime".into());
    }
    (
        wall_clock(&tags["File:FileModifyDate"]).unwrap(),
        "mtime".into(),
    )
}

fn copy_cameras(card: &Path) -> Vec<String> {
    std::fs::create_dir_all(card).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(CAMERAS).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") || name.ends_with(".tsv") {
            continue;
        }
        std::fs::copy(&path, card.join(&name)).unwrap();
        names.push(name);
    }
    names.sort();
    names
}

#[test]
fn every_real_camera_file_gets_the_date_exiftool_reports() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    let names = copy_cameras(&card);
    assert!(names.len() >= 20, "{names:?}");
    for tz in ["UTC", "Asia/Tokyo"] {
        let ours = scanned_dates(&TestEnv::new(), &card, tz, &[]);
        let theirs = exiftool_dates(&card, tz);
        for name in &names {
            let expected = expected_from_exiftool(&theirs[name]);
            assert_eq!(
                ours.get(name),
                Some(&expected),
                "{name} in {tz}: {:#}",
                theirs[name]
            );
        }
    }
    // Every format the cameras wrote a date into was read from its headers.
    let ours = scanned_dates(&env, &card, "UTC", &[]);
    for name in [
        "Canon.jpg",
        "Google.jpg",
        "IMG_2682.heic",
        "exif.png",
        "CanonRaw.cr2",
        "CanonRaw.cr3",
        "DNG.dng",
        "Nikon.nef",
        "FujiFilm.raf",
        "Panasonic.rw2",
    ] {
        assert_eq!(ours[name].1, "exif", "{name}");
    }
    for name in ["meta.mov", "QuickTime.mov", "sony-a7-xavc.MP4"] {
        assert_eq!(ours[name].1, "quicktime", "{name}");
    }
    // Apple's creation date (local time, +08:00) wins over mvhd (UTC, and
    // years apart in this sample).
    assert_eq!(ours["meta.mov"].0, "2019-02-12T15:27:12");
    // A 3GP whose every date is zeros has none.
    assert_eq!(ours["3gp_640x360.3gp"].1, "mtime");
}

fn ffmpeg_clip(path: &Path, creation_time: Option<&str>) {
    let mut command = Command::new(peers::ffmpeg());
    command
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=32x32:rate=1:duration=1")
        .args(["-c:v", "mjpeg"]);
    if let Some(at) = creation_time {
        command.arg("-metadata").arg(format!("creation_time={at}"));
    }
    run_ok(command.arg(path));
}

fn ffmpeg_still(path: &Path) {
    run_ok(
        Command::new(peers::ffmpeg())
            .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
            .arg("color=c=red:size=16x16")
            .args(["-frames:v", "1"])
            .arg(path),
    );
}

fn exiftool_write(path: &Path, tags: &[&str]) {
    run_ok(
        Command::new(peers::exiftool())
            .arg("-overwrite_original")
            .args(tags)
            .arg(path),
    );
}

fn set_mtime(path: &Path, tz: &str, at: &str) {
    run_ok(
        Command::new("touch")
            .env("TZ", tz)
            .args(["-d", at])
            .arg(path),
    );
}

#[test]
fn made_fixtures_follow_the_documented_order_and_reject_impossible_dates() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    std::fs::create_dir_all(&card).unwrap();
    let tz = "Asia/Tokyo";
    let at = |name: &str| -> PathBuf { card.join(name) };

    // A video whose clock is UTC (mvhd), shown in the machine's zone.
    ffmpeg_clip(&at("utc.mov"), Some("2024-03-15T13:22:33Z"));
    // Apple's creation date, local time with its offset, wins over mvhd.
    ffmpeg_clip(&at("apple.mov"), Some("2024-03-15T13:22:33Z"));
    exiftool_write(
        &at("apple.mov"),
        &["-Keys:CreationDate=2024:03:15 14:22:33+01:00"],
    );
    // mvhd zero (1904): no date; the name has one.
    ffmpeg_clip(&at("VID_20230102_030405.mov"), None);
    // Garbage EXIF: zeros, then the name's date.
    ffmpeg_still(&at("IMG_20240315_142233.jpg"));
    exiftool_write(
        &at("IMG_20240315_142233.jpg"),
        &["-EXIF:DateTimeOriginal#=0000:00:00 00:00:00"],
    );
    // A date in the future and one before 1990: neither, so the mtime.
    ffmpeg_still(&at("future.jpg"));
    exiftool_write(
        &at("future.jpg"),
        &[
            "-EXIF:DateTimeOriginal=2099:01:01 00:00:00",
            "-EXIF:CreateDate=1985:01:01 00:00:00",
        ],
    );
    set_mtime(&at("future.jpg"), tz, "2021-06-01 12:00:00");
    // No date anywhere.
    ffmpeg_still(&at("plain.jpg"));
    set_mtime(&at("plain.jpg"), tz, "2020-02-29 23:59:58");
    // DateTimeDigitized when DateTimeOriginal is missing; sub-seconds kept.
    ffmpeg_still(&at("digitized.jpg"));
    exiftool_write(
        &at("digitized.jpg"),
        &["-EXIF:CreateDate=2018:08:08 08:08:08"],
    );
    // A sidecar's date, fixed by hand, wins over the photo's own.
    ffmpeg_still(&at("edited.jpg"));
    exiftool_write(
        &at("edited.jpg"),
        &["-EXIF:DateTimeOriginal=2020:01:01 10:00:00"],
    );
    std::fs::write(
        at("edited.xmp"),
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:DateTimeOriginal="2019-05-05T05:05:05+02:00"/>
</rdf:RDF></x:xmpmeta>"#,
    )
    .unwrap();

    let ours = scanned_dates(&env, &card, tz, &[]);
    let wanted = |date: &str, from: &str| Some((date.to_owned(), from.to_owned()));
    for (name, date, from) in [
        ("utc.mov", "2024-03-15T22:22:33", "quicktime"),
        ("apple.mov", "2024-03-15T14:22:33", "quicktime"),
        ("VID_20230102_030405.mov", "2023-01-02T03:04:05", "filename"),
        ("IMG_20240315_142233.jpg", "2024-03-15T14:22:33", "filename"),
        ("future.jpg", "2021-06-01T12:00:00", "mtime"),
        ("plain.jpg", "2020-02-29T23:59:58", "mtime"),
        ("digitized.jpg", "2018-08-08T08:08:08", "exif"),
        ("edited.jpg", "2019-05-05T05:05:05", "xmp"),
    ] {
        assert_eq!(ours.get(name).cloned(), wanted(date, from), "{name}");
    }

    // What exiftool reports for the made videos, in the same zone.
    let theirs = exiftool_dates(&card, tz);
    assert_eq!(
        wall_clock(&theirs["utc.mov"]["QuickTime:CreateDate"]).as_deref(),
        Some("2024-03-15T22:22:33")
    );
    assert_eq!(
        wall_clock(&theirs["apple.mov"]["QuickTime:CreationDate"]).as_deref(),
        Some("2024-03-15T14:22:33")
    );

    // A camera that writes local time into mvhd: the switch reads it so.
    let local = scanned_dates(&TestEnv::new(), &card, tz, &["--video-clock", "local"]);
    assert_eq!(
        local.get("utc.mov").cloned(),
        wanted("2024-03-15T13:22:33", "quicktime")
    );
    assert_eq!(
        local.get("apple.mov").cloned(),
        wanted("2024-03-15T14:22:33", "quicktime")
    );
}

#[test]
fn a_cached_utc_date_is_shown_in_each_runs_time_zone_and_video_clock() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    std::fs::create_dir_all(&card).unwrap();
    ffmpeg_clip(&card.join("utc.mov"), Some("2024-03-15T13:22:33Z"));
    let scan = |tz: &str, to: &str, extra: &[&str]| {
        let output = run_ok(
            env.ferry()
                .env("TZ", tz)
                .args(["scan", "--json"])
                .arg(&card)
                .arg("--to")
                .arg(env.path().join(to))
                .args(extra),
        );
        let line = stdout_of(&output)
            .lines()
            .find(|l| l.contains(r#""type":"queued""#))
            .unwrap()
            .to_owned();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        event["taken"].as_str().unwrap().to_owned()
    };
    assert_eq!(scan("UTC", "one", &[]), "2024-03-15T13:22:33");
    // The same unchanged file, its date from the journal's cache.
    assert_eq!(scan("Asia/Tokyo", "two", &[]), "2024-03-15T22:22:33");
    assert_eq!(
        scan("Asia/Tokyo", "three", &["--video-clock", "local"]),
        "2024-03-15T13:22:33"
    );
}

#[test]
fn dates_are_shown_by_jobs_and_a_rescan_of_unchanged_files_opens_none() {
    let env = TestEnv::new();
    let card = env.path().join("card");
    let names = copy_cameras(&card);
    run_ok(
        env.ferry()
            .env("TZ", "UTC")
            .args(["scan", "-q"])
            .arg(&card)
            .arg("--to")
            .arg(env.path().join("dest")),
    );
    let jobs = stdout_of(&run_ok(env.ferry().arg("jobs")));
    let canon = jobs.lines().find(|l| l.contains("Canon.jpg")).unwrap();
    assert!(canon.contains("2003-12-04 06:46:52 exif"), "{jobs}");
    let movie = jobs.lines().find(|l| l.contains("meta.mov")).unwrap();
    assert!(movie.contains("2019-02-12 15:27:12 quicktime"), "{jobs}");
    let listed = stdout_of(&run_ok(env.ferry().args(["jobs", "--json"])));
    assert!(
        listed.contains(r#""taken":{"at":"2004-06-09T16:02:35","from":"exif"}"#),
        "{listed}"
    );

    let trace = env.path().join("trace");
    let output = run_ok(
        Command::new(peers::strace())
            .args(["-f", "-e", "trace=open,openat,openat2", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_ferry"))
            .env("FERRY_JOURNAL", env.journal())
            .env("HOME", env.path().join("home"))
            .env("TZ", "UTC")
            .args(["scan", "--json"])
            .arg(&card)
            .arg("--to")
            .arg(env.path().join("dest")),
    );
    let summary = stdout_of(&output);
    let unchanged = format!(r#""unchanged":{}"#, names.len());
    assert!(summary.contains(&unchanged), "{summary}");
    let opened: Vec<String> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|line| line.contains(card.to_str().unwrap()) && !line.contains("O_DIRECTORY"))
        .map(str::to_owned)
        .collect();
    assert!(opened.is_empty(), "{opened:#?}");
}
