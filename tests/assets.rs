//! Assets kept whole: a Live Photo's still and video (paired by their
//! content identifiers, or by dates when one has none), RAW+JPEG, and
//! sidecars land together, dated by the still, on a local folder, ferry
//! serve and Garage; `--delete-after` keeps both halves of a Live Photo
//! whose video failed; `ferry status` shows the asset incomplete.
//!
//! The Live Photo fixtures are made here: ffmpeg writes the video's
//! `com.apple.quicktime.content.identifier`, and exiftool puts an Apple
//! MakerNote holding the same identifier (tag 0x0011) into the still;
//! exiftool then reads both back, so the fixture is what an iPhone writes
//! as far as exiftool can tell. The RAW is exiftool's own Canon CR2 sample.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::date_layout::sync_with_layout;
use crate::fault_proxy::FaultProxy;
use crate::http::Server;
use crate::peers;
use crate::s3::Store;
use crate::upload::{run_ok, sha256_of, tree};
use crate::util::{TestEnv, stderr_of, stdout_of, write_file};

const CAMERAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cameras");

const LIVE_ID: &str = "6C4A3F0E-1B2D-4E5F-8A9B-0C1D2E3F4A5B";
const HEIC_ID: &str = "F1E2D3C4-B5A6-4978-8695-A4B3C2D1E0F9";

/// An Apple MakerNote (`Apple iOS`, version 1, big-endian) whose only
/// entry is the content identifier `id`.
fn apple_maker_note(id: &str) -> Vec<u8> {
    let mut value = id.as_bytes().to_vec();
    value.push(0);
    let mut note = b"Apple iOS\0\0\x01MM".to_vec();
    note.extend_from_slice(&1u16.to_be_bytes());
    note.extend_from_slice(&0x0011u16.to_be_bytes());
    note.extend_from_slice(&2u16.to_be_bytes());
    note.extend_from_slice(&(value.len() as u32).to_be_bytes());
    note.extend_from_slice(&(14u32 + 2 + 12 + 4).to_be_bytes());
    note.extend_from_slice(&0u32.to_be_bytes());
    note.extend_from_slice(&value);
    note
}

/// A still from ffmpeg (different for each `seed`), taken `taken`, with
/// an iPhone's content identifier when `id` is given.
fn still(path: &Path, seed: u32, taken: &str, id: Option<&str>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    run_ok(
        Command::new(peers::ffmpeg())
            .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("color=c=0x{:06x}:size=16x16", seed * 0x10101))
            .args(["-frames:v", "1"])
            .arg(path),
    );
    let mut exiftool = Command::new(peers::exiftool());
    exiftool
        .arg("-overwrite_original")
        .arg(format!("-EXIF:DateTimeOriginal={taken}"));
    if let Some(id) = id {
        let note = path.with_extension("makernote");
        std::fs::write(&note, apple_maker_note(id)).unwrap();
        exiftool
            .arg("-Make=Apple")
            .arg(format!("-MakerNotes<={}", note.display()));
    }
    run_ok(exiftool.arg(path));
    let _ = std::fs::remove_file(path.with_extension("makernote"));
}

/// A short video from ffmpeg with Apple's creation date (`2024-03-15T14:22:33+0100`)
/// and content identifier when given.
fn video(path: &Path, seed: u32, created: &str, id: Option<&str>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut ffmpeg = Command::new(peers::ffmpeg());
    ffmpeg
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "color=c=0x{:06x}:size=16x16:rate=5",
            seed * 0x10101
        ))
        .args(["-t", "1", "-c:v", "mpeg4", "-movflags", "use_metadata_tags"])
        .args(["-metadata"])
        .arg(format!("com.apple.quicktime.creationdate={created}"));
    if let Some(id) = id {
        ffmpeg
            .arg("-metadata")
            .arg(format!("com.apple.quicktime.content.identifier={id}"));
    }
    run_ok(ffmpeg.arg(path));
}

/// What exiftool reads as `tag` in `path`.
fn exiftool_says(path: &Path, tag: &str) -> String {
    let output = run_ok(
        Command::new(peers::exiftool())
            .args(["-s3", &format!("-{tag}")])
            .arg(path),
    );
    stdout_of(&output).trim().to_owned()
}

/// A card of assets and where each file lands under `{year}/{month}/{name}`,
/// with its SHA-256; and the role `ferry jobs` should show for each file
/// (`None`: on its own).
type Card = (
    BTreeMap<PathBuf, String>,
    BTreeMap<String, Option<&'static str>>,
);

fn card(root: &Path) -> Card {
    let dcim = root.join("DCIM/100APPLE");
    let mut roles = BTreeMap::new();
    let mut landing = BTreeMap::new();
    let mut lands = |file: &Path, at: &str, role: Option<&'static str>| {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        landing.insert(Path::new(at).join(&name), sha256_of(file));
        roles.insert(name, role);
    };

    // A Live Photo: the identifiers match, so the video (taken, by its own
    // clock, in April) lands beside the still, in March.
    let live_still = dcim.join("IMG_0001.JPG");
    still(&live_still, 1, "2024:03:15 14:22:33", Some(LIVE_ID));
    let live_video = dcim.join("IMG_0001.MOV");
    video(&live_video, 1, "2024-04-02T09:00:00+0100", Some(LIVE_ID));
    assert_eq!(exiftool_says(&live_still, "MediaGroupUUID"), LIVE_ID);
    assert_eq!(exiftool_says(&live_video, "ContentIdentifier"), LIVE_ID);
    let adjustments = dcim.join("IMG_O0001.AAE");
    write_file(
        &adjustments,
        b"<plist><dict><key>adjustmentFormatVersion</key></dict></plist>",
    );
    lands(&live_still, "2024/03", Some("photo"));
    lands(&live_video, "2024/03", Some("paired-video"));
    lands(&adjustments, "2024/03", Some("sidecar"));

    // An iPhone's HEIC (immich's sample, 2019-03-21), its MakerNote
    // replaced by one holding an identifier, and its video.
    let heic = dcim.join("IMG_0006.HEIC");
    std::fs::copy(Path::new(CAMERAS).join("IMG_2682.heic"), &heic).unwrap();
    let note = dcim.join("IMG_0006.makernote");
    std::fs::write(&note, apple_maker_note(HEIC_ID)).unwrap();
    run_ok(
        Command::new(peers::exiftool())
            .arg("-overwrite_original")
            .arg(format!("-MakerNotes<={}", note.display()))
            .arg(&heic),
    );
    std::fs::remove_file(&note).unwrap();
    assert_eq!(exiftool_says(&heic, "MediaGroupUUID"), HEIC_ID);
    let heic_video = dcim.join("IMG_0006.MOV");
    video(&heic_video, 8, "2019-06-01T00:00:00+0000", Some(HEIC_ID));
    lands(&heic, "2019/03", Some("photo"));
    lands(&heic_video, "2019/03", Some("paired-video"));

    // Identifiers that differ are not a pair, though the dates agree.
    let other_still = dcim.join("IMG_0002.JPG");
    still(&other_still, 2, "2024:05:01 10:00:00", Some(LIVE_ID));
    let other_video = dcim.join("IMG_0002.MOV");
    video(
        &other_video,
        2,
        "2024-05-01T10:00:00+0100",
        Some("00000000-1111-2222-3333-444444444444"),
    );
    lands(&other_still, "2024/05", None);
    lands(&other_video, "2024/05", None);

    // The same name, weeks apart, no identifiers: not a pair.
    let weeks_still = dcim.join("IMG_9140.JPG");
    still(&weeks_still, 3, "2024:07:30 18:00:00", None);
    let weeks_video = dcim.join("IMG_9140.MOV");
    video(&weeks_video, 3, "2024-08-20T12:00:00+0100", None);
    lands(&weeks_still, "2024/07", None);
    lands(&weeks_video, "2024/08", None);

    // No identifier on either, but one shot: paired by dates, and Apple's
    // export name for the video.
    let export_still = dcim.join("IMG_0005.JPG");
    still(&export_still, 5, "2024:09:01 10:00:00", None);
    let export_video = dcim.join("IMG_0005_HEVC.MOV");
    video(&export_video, 5, "2024-09-01T10:00:01+0200", None);
    lands(&export_still, "2024/09", Some("photo"));
    lands(&export_video, "2024/09", Some("paired-video"));

    // RAW+JPEG of one shot (exiftool's Canon CR2, 2005-08-03 18:59:18),
    // with an XMP sidecar of ratings and no date.
    let canon = root.join("DCIM/100CANON");
    let raw = canon.join("IMG_0003.CR2");
    std::fs::create_dir_all(&canon).unwrap();
    std::fs::copy(Path::new(CAMERAS).join("CanonRaw.cr2"), &raw).unwrap();
    let jpeg = canon.join("IMG_0003.JPG");
    still(&jpeg, 6, "2005:08:03 18:59:18", None);
    let xmp = canon.join("IMG_0003.xmp");
    write_file(
        &xmp,
        br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/></rdf:RDF></x:xmpmeta>"#,
    );
    lands(&jpeg, "2005/08", Some("photo"));
    lands(&raw, "2005/08", Some("alternate-photo"));
    lands(&xmp, "2005/08", Some("sidecar"));

    // A Google Takeout photo and its JSON; a Pixel motion photo (one file).
    let takeout = root.join("Takeout/Photos");
    let photo = takeout.join("IMG_0004.JPG");
    still(&photo, 7, "2024:10:05 08:00:00", None);
    let json = takeout.join("IMG_0004.JPG.supplemental-metadata.json");
    write_file(&json, br#"{"title": "IMG_0004.JPG"}"#);
    lands(&photo, "2024/10", Some("photo"));
    lands(&json, "2024/10", Some("sidecar"));
    let motion = takeout.join("PXL_20231006_225351724.MP.jpg");
    std::fs::copy(Path::new(CAMERAS).join("Google.jpg"), &motion).unwrap();
    lands(&motion, "2023/10", None);

    // A sidecar with no photo of its name is left out.
    write_file(&takeout.join("orphan.xmp"), b"<x:xmpmeta/>");
    (landing, roles)
}

/// Each job's file name and role, from `ferry jobs --json`.
fn roles_of(command: &mut Command) -> BTreeMap<String, Option<String>> {
    let output = run_ok(command.args(["jobs", "--json"]));
    stdout_of(&output)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .map(|job| {
            let path = job["resource"]["path"].as_str().unwrap().to_owned();
            let name = path.rsplit('/').next().unwrap().to_owned();
            let role = job["resource"]["asset"]["role"].as_str().map(str::to_owned);
            (name, role)
        })
        .collect()
}

#[test]
fn assets_land_together_by_the_stills_date_in_a_folder_on_ferry_serve_and_in_garage() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let (landing, roles) = card(&card_dir);
    assert_eq!(landing.len(), 17);
    let roles: BTreeMap<String, Option<String>> = roles
        .into_iter()
        .map(|(name, role)| (name, role.map(str::to_owned)))
        .collect();

    let folder = env.path().join("backup");
    sync_with_layout(&mut env.ferry(), &card_dir, folder.to_str().unwrap(), &[]);
    assert_eq!(tree(&folder), landing);
    assert_eq!(roles_of(&mut env.ferry()), roles);

    let served = env.path().join("served");
    let server = Server::start(&served, &[]);
    let mut command = env.ferry();
    command.env("FERRY_JOURNAL", env.path().join("serve.jsonl"));
    sync_with_layout(&mut command, &card_dir, &server.url("/files/"), &[]);
    assert_eq!(tree(&served), landing);

    let garage = Store::garage(&env.path().join("garage"), 1, "photos");
    let mut command = garage.ferry(&env);
    command.env("FERRY_JOURNAL", env.path().join("s3.jsonl"));
    sync_with_layout(&mut command, &card_dir, "s3://photos/", &[]);
    let expected: BTreeMap<String, String> = landing
        .iter()
        .map(|(path, sha)| (path.display().to_string(), sha.clone()))
        .collect();
    assert_eq!(garage.digests("photos"), expected);
}

#[test]
fn a_dry_run_and_json_name_each_members_asset_and_role() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    card(&card_dir);
    let output = run_ok(
        env.ferry()
            .env("TZ", "UTC")
            .args(["sync", "--dry-run", "--layout", "{year}/{month}/{name}"])
            .arg(&card_dir)
            .args(["--to", "/backup"]),
    );
    let said = stdout_of(&output);
    let line = |name: &str| {
        said.lines()
            .find(|line| line.starts_with(&format!("would queue DCIM/100APPLE/{name} ")))
            .unwrap_or_else(|| panic!("{name} not in {said}"))
            .to_owned()
    };
    let still = line("IMG_0001.JPG");
    let asset = still.rsplit("photo of asset ").next().unwrap();
    assert_eq!(asset.len(), 8, "{still}");
    assert!(
        line("IMG_0001.MOV").ends_with(&format!(
            "to /backup/2024/03/IMG_0001.MOV, paired-video of asset {asset}"
        )),
        "{said}"
    );
    assert!(!line("IMG_9140.MOV").contains("asset"), "{said}");
    assert!(
        said.contains(
            "skipped Takeout/Photos/orphan.xmp: a sidecar without a photo or video of its name (--sidecars takes it)"
        ),
        "{said}"
    );

    let output = run_ok(
        env.ferry()
            .args(["scan", "--dry-run", "--json"])
            .arg(&card_dir)
            .args(["--to", "/backup"]),
    );
    let events: Vec<serde_json::Value> = stdout_of(&output)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|event: &serde_json::Value| event["type"] == "queued")
        .collect();
    let of = |name: &str| {
        events
            .iter()
            .find(|event| event["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    assert_eq!(of("/IMG_0003.CR2")["role"], "alternate-photo");
    assert_eq!(of("/IMG_0003.CR2")["asset"], of("/IMG_0003.JPG")["asset"]);
    assert_eq!(of("/IMG_0003.JPG")["asset"].as_str().unwrap().len(), 16);
    assert!(of("/IMG_0002.MOV").get("asset").is_none());
}

#[test]
fn delete_after_keeps_both_halves_of_a_live_photo_whose_video_failed_and_status_says_why() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    card(&card_dir);
    let before = tree(&card_dir);
    let server = Server::start(&env.path().join("served"), &[]);
    // The Live Photo's video never gets through: ferry serve's PUT is one
    // request per file, named by its target.
    let proxy = FaultProxy::start_refusing(server.address, "IMG_0001.MOV", 400);
    let output = env
        .ferry()
        .env("TZ", "UTC")
        .args(["sync", "-j", "2", "--protocol", "put", "--delete-after"])
        .args(["--layout", "{year}/{month}/{name}"])
        .arg(&card_dir)
        .arg("--to")
        .arg(format!("http://{}/files/", proxy.address))
        .output()
        .unwrap();
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    let after = tree(&card_dir);
    // Both halves and the adjustments stay, byte for byte.
    for name in ["IMG_0001.JPG", "IMG_0001.MOV", "IMG_O0001.AAE"] {
        let path = PathBuf::from("DCIM/100APPLE").join(name);
        assert_eq!(after.get(&path), before.get(&path), "{name}: {text}");
    }
    assert!(
        text.contains("of the same asset is failed, not uploaded"),
        "{text}"
    );
    assert!(
        text.contains("DCIM/100APPLE/IMG_0001.MOV of the same asset"),
        "{text}"
    );
    // Every other asset, whole at the destination, left the card.
    let left: Vec<&PathBuf> = after.keys().collect();
    assert_eq!(
        left,
        vec![
            Path::new("DCIM/100APPLE/IMG_0001.JPG"),
            Path::new("DCIM/100APPLE/IMG_0001.MOV"),
            Path::new("DCIM/100APPLE/IMG_O0001.AAE"),
            Path::new("Takeout/Photos/orphan.xmp"),
        ],
        "{text}"
    );

    let output = run_ok(env.ferry().arg("status"));
    let status_before = stdout_of(&output);

    let said = status_before;
    assert!(
        said.contains("incomplete asset")
            && said.contains("DCIM/100APPLE/IMG_0001.MOV (paired-video) failed"),
        "{said}"
    );
    let output = run_ok(env.ferry().args(["status", "--json"]));
    let report: serde_json::Value = serde_json::from_str(stdout_of(&output).trim()).unwrap();
    let incomplete = report["incomplete_assets"].as_array().unwrap();
    assert_eq!(incomplete.len(), 1, "{report}");
    assert_eq!(incomplete[0]["failed"].as_array().unwrap().len(), 1);
    assert_eq!(incomplete[0]["succeeded"].as_array().unwrap().len(), 2);

    // The video gets through on a retry: `ferry upload`, which scans
    // nothing, clears the whole Live Photo, the still and AAE too.
    proxy.stop_refusing();
    run_ok(env.ferry().args(["retry", "--all"]));
    let output = run_ok(env.ferry().args(["upload", "--delete-after"]));
    let left: Vec<PathBuf> = tree(&card_dir).into_keys().collect();
    assert_eq!(
        left,
        vec![PathBuf::from("Takeout/Photos/orphan.xmp")],
        "{}",
        stderr_of(&output)
    );
    let served = tree(&env.path().join("served"));
    for name in ["IMG_0001.JPG", "IMG_0001.MOV", "IMG_O0001.AAE"] {
        let path = PathBuf::from("DCIM/100APPLE").join(name);
        let landed = Path::new("2024/03").join(name);
        assert_eq!(served.get(&landed), before.get(&path), "{name}");
    }
    let output = run_ok(env.ferry().arg("status"));
    assert!(!stdout_of(&output).contains("incomplete"));
}

/// A Live Photo, its AAE, and an XMP'd RAW+JPEG in one folder: the small
/// card of the tests below.
fn small_card(root: &Path) -> PathBuf {
    let dcim = root.join("DCIM/100APPLE");
    still(
        &dcim.join("IMG_0001.JPG"),
        1,
        "2024:03:15 14:22:33",
        Some(LIVE_ID),
    );
    video(
        &dcim.join("IMG_0001.MOV"),
        1,
        "2024-03-15T14:22:31+0100",
        Some(LIVE_ID),
    );
    write_file(&dcim.join("IMG_O0001.AAE"), b"<plist/>");
    dcim
}

#[test]
fn move_to_keeps_a_live_photo_whole_when_one_members_new_name_is_taken() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    small_card(&card_dir);
    let before = tree(&card_dir);
    let moved = env.path().join("moved");
    write_file(&moved.join("DCIM/100APPLE/IMG_0001.MOV"), b"another file");
    let output = env
        .ferry()
        .arg("sync")
        .arg(&card_dir)
        .arg("--to")
        .arg(env.path().join("backup"))
        .arg("--move-to")
        .arg(&moved)
        .output()
        .unwrap();
    let text = stderr_of(&output);
    assert_eq!(tree(&card_dir), before, "{text}");
    assert!(
        text.contains("IMG_0001.MOV already exists, so")
            && text.contains("of the same asset cannot move there"),
        "{text}"
    );
    assert_eq!(text.matches("warning: kept").count(), 3, "{text}");
    assert_eq!(tree(&moved).len(), 1, "{text}");
}

#[test]
fn a_sidecar_edited_before_its_upload_takes_its_own_name_not_a_number() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let dcim = small_card(&card_dir);
    let xmp = dcim.join("IMG_0001.xmp");
    write_file(&xmp, b"<x:xmpmeta rating='4'/>");
    let to = env.path().join("backup");
    let layout = ["--layout", "{year}/{month}/{name}"];
    run_ok(
        env.ferry()
            .arg("scan")
            .arg(&card_dir)
            .arg("--to")
            .arg(&to)
            .args(layout),
    );
    write_file(&xmp, b"<x:xmpmeta rating='5'/>");
    run_ok(
        env.ferry()
            .arg("sync")
            .arg(&card_dir)
            .arg("--to")
            .arg(&to)
            .args(layout),
    );
    let landed = tree(&to);
    assert_eq!(
        landed.get(Path::new("2024/03/IMG_0001.xmp")),
        Some(&sha256_of(&xmp)),
        "{landed:?}"
    );
    assert_eq!(landed.len(), 4, "{landed:?}");
}

/// The same photo in another folder is another asset: clearing that
/// folder never touches the first, and keeps a copy whose content went to
/// the destination with the first folder's photo.
#[test]
fn a_photo_copied_to_another_folder_is_another_asset_and_the_first_is_never_cleared_from_there() {
    let env = TestEnv::new();
    let first = env.path().join("A");
    still(&first.join("IMG_1.JPG"), 1, "2024:03:15 14:22:33", None);
    write_file(&first.join("IMG_1.xmp"), b"<x:xmpmeta rating='1'/>");
    let to = env.path().join("backup");
    run_ok(env.ferry().arg("sync").arg(&first).arg("--to").arg(&to));
    let second = env.path().join("B");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::copy(first.join("IMG_1.JPG"), second.join("IMG_1.JPG")).unwrap();
    write_file(&second.join("IMG_1.AAE"), b"<plist/>");
    let (first_before, second_before) = (tree(&first), tree(&second));
    let output = env
        .ferry()
        .arg("sync")
        .arg(&second)
        .arg("--to")
        .arg(&to)
        .arg("--delete-after")
        .output()
        .unwrap();
    let text = stderr_of(&output);
    assert_eq!(tree(&first), first_before, "{text}");
    assert_eq!(tree(&second), second_before, "{text}");
    assert!(
        text.contains("which was uploaded with another photo"),
        "{text}"
    );
}

/// A Live Photo's video sent elsewhere by `retry --to`: the still, the
/// video and the AAE all stay on the card, and status names the split.
#[test]
fn a_member_retried_to_another_destination_keeps_the_whole_asset_on_the_card() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    small_card(&card_dir);
    let before = tree(&card_dir);
    let server = Server::start(&env.path().join("served"), &[]);
    let proxy = FaultProxy::start_refusing(server.address, "IMG_0001.MOV", 400);
    let through_proxy = format!("http://{}/files/", proxy.address);
    let output = env
        .ferry()
        .args(["sync", "--protocol", "put", "--delete-after"])
        .arg(&card_dir)
        .args(["--to", &through_proxy])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let direct = server.url("/files/other/");
    run_ok(env.ferry().args(["retry", "--all", "--to", &direct]));
    let output = run_ok(env.ferry().args(["upload", "--delete-after"]));
    let text = stderr_of(&output);
    assert_eq!(tree(&card_dir), before, "{text}");
    assert!(text.contains("of the same asset went to"), "{text}");
    // Whole nowhere: status says so at the first destination.
    let said = stdout_of(&run_ok(env.ferry().arg("status")));
    let wanted = format!("DCIM/100APPLE/IMG_0001.MOV (paired-video) at {direct}, not here");
    assert!(
        said.contains("incomplete asset") && said.contains(&wanted),
        "{said}"
    );
}

/// A member edited after its upload gets a new job; once that is up, the
/// asset is cleared (the old job's stale size and time do not hold it).
#[test]
fn an_asset_whose_sidecar_changed_after_its_upload_is_cleared_once_the_new_one_is_up() {
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let dcim = small_card(&card_dir);
    let xmp = dcim.join("IMG_0001.xmp");
    write_file(&xmp, b"<x:xmpmeta rating='4'/>");
    let to = env.path().join("backup");
    run_ok(env.ferry().arg("sync").arg(&card_dir).arg("--to").arg(&to));
    write_file(&xmp, b"<x:xmpmeta rating='5'/>");
    let output = run_ok(
        env.ferry()
            .arg("sync")
            .arg(&card_dir)
            .arg("--to")
            .arg(&to)
            .arg("--delete-after"),
    );
    let text = stderr_of(&output);
    assert!(tree(&card_dir).is_empty(), "{text}");
    assert!(text.contains("4 source files cleared"), "{text}");
}

/// A Live Photo whose video cannot be read: the still and AAE are
/// uploaded, but stay on the card, each with the reason.
#[test]
fn a_member_that_cannot_be_read_keeps_the_rest_of_its_family_on_the_card() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let card_dir = env.path().join("card");
    let dcim = small_card(&card_dir);
    let unreadable = dcim.join("IMG_0001.MOV");
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    let to = env.path().join("backup");
    let mut command = env.ferry();
    command
        .arg("sync")
        .arg(&card_dir)
        .arg("--to")
        .arg(&to)
        .arg("--delete-after");
    let output = crate::util::without_root_privileges(command)
        .output()
        .unwrap();
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = stderr_of(&output);
    assert_eq!(output.status.code(), Some(3), "{text}");
    assert_eq!(tree(&card_dir).len(), 3, "{text}");
    assert_eq!(tree(&to).len(), 2, "{text}");
    assert_eq!(
        text.matches(
            "DCIM/100APPLE/IMG_0001.MOV of its name could not be read, so its asset is not whole"
        )
        .count(),
        2,
        "{text}"
    );
}
