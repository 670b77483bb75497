//! Assets: the files of one shot kept together, as Apple's upload jobs
//! carry a photo, its paired video, its RAW and its adjustment data as
//! resources of one asset.
//!
//! It works in two steps because names alone build wrong pairs
//! (`IMG_9140.JPG` and an `IMG_9140.MOV` taken weeks apart). Before any
//! file is read, files of one folder whose names share a base
//! (`IMG_1234.HEIC`, `IMG_1234.MOV`, `IMG_1234_HEVC.MOV`, `IMG_O1234.AAE`,
//! `IMG_1234.HEIC.xmp`, a Takeout `IMG_1234.JPG.json`) become a family,
//! placed side by side in the scan's order, and a sidecar with no media
//! file of its name is left out (unless `--sidecars`). Once the family's
//! files are hashed and their headers read, `decide` keeps only the true
//! members: a video pairs with the still when their content identifiers
//! match, or, when one is missing, when both dates from headers agree to
//! within a few seconds; a RAW pairs with the still when their dates
//! agree; a sidecar belongs to the file it names.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use crate::capture::{DateSource, Taken};
use crate::digest::Sha256;
use crate::journal::resource::{AssetRef, MediaKind, Role};

/// Seconds two dates from headers may differ and still be one shot.
const SAME_SHOT_SECONDS: i64 = 3;

const RAWS: &[&str] = &[
    "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef",
    "srw", "x3f", "3fr", "iiq", "rwl", "erf", "mrw", "dcr", "kdc", "raw",
];
const SIDECARS: &[&str] = &["xmp", "aae", "thm", "json"];

fn extension(name: &str) -> String {
    match name.rfind('.') {
        Some(dot) => name[dot + 1..].to_ascii_lowercase(),
        None => String::new(),
    }
}

fn stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(dot) if dot > 0 => &name[..dot],
        _ => name,
    }
}

/// Whether `name` has a sidecar's extension.
pub fn is_sidecar_name(name: &str) -> bool {
    SIDECARS.contains(&extension(name).as_str())
}

/// A 36-character UUID, as Apple's exports name files.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A media file's base: its stem, lower case, without the suffixes
/// Apple gives a Live Photo's video (`_HEVC`, a UUID's `_3`).
fn media_base(name: &str) -> String {
    let stem = stem(name).to_ascii_lowercase();
    if let Some(before) = stem.strip_suffix("_hevc") {
        return before.to_owned();
    }
    match stem.strip_suffix("_3") {
        Some(before) if is_uuid(before) => before.to_owned(),
        _ => stem,
    }
}

/// A sidecar's base, and the full name of the media file it names when it
/// names one (`IMG_1234.HEIC.xmp`, `IMG_1234.JPG.supplemental-metadata.json`).
fn sidecar_base(name: &str) -> (String, Option<String>) {
    let mut inner = stem(name).to_owned();
    // Google Takeout: `.supplemental-metadata`, cut short in long names.
    if extension(name) == "json" {
        let last = extension(&inner);
        if last.len() >= 4 && "supplemental-metadata".starts_with(&last) {
            inner = stem(&inner).to_owned();
        }
    }
    let lower = inner.to_ascii_lowercase();
    // `IMG_O1234.AAE`: the original's adjustments.
    let lower = match lower.strip_prefix("img_o") {
        Some(rest) if rest.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty() => {
            format!("img_{rest}")
        }
        _ => lower,
    };
    let names_media = crate::scan::media::kind_of(lower.as_bytes(), false).is_some();
    match names_media {
        true => (media_base(&lower), Some(lower)),
        false => (lower, None),
    }
}

/// A scanned file as the family step sees it.
pub(super) struct Named<'a> {
    pub folder: (usize, &'a Path),
    pub name: Option<&'a str>,
    pub kind: MediaKind,
}

/// The order in which the scan takes its files (families side by side,
/// stills first), each family's range in that order, and the indexes of
/// files that only come with a media file and found none.
pub(super) struct Families {
    pub order: Vec<usize>,
    pub ranges: Vec<Range<usize>>,
    pub alone: Vec<usize>,
}

/// The name a file's family goes by in its folder: a media file's or a
/// sidecar's base name; `None` for a file that joins no family.
pub(super) fn family_base(name: &str, kind: MediaKind) -> Option<String> {
    match kind {
        MediaKind::Image | MediaKind::Video => Some(media_base(name)),
        MediaKind::Other if is_sidecar_name(name) => Some(sidecar_base(name).0),
        _ => None,
    }
}

/// Groups files by folder and base name; `only_with_media[i]`: file `i`
/// is taken only as a member of a family with a media file.
pub(super) fn families(files: &[Named], only_with_media: &[bool]) -> Families {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<(usize, &Path, String), usize> = HashMap::new();
    for (index, file) in files.iter().enumerate() {
        let base = file.name.and_then(|name| family_base(name, file.kind));
        let slot = match base {
            Some(base) => *by_key
                .entry((file.folder.0, file.folder.1, base))
                .or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                }),
            None => {
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        groups[slot].push(index);
    }
    let rank = |index: usize| {
        let file = &files[index];
        let raw = file
            .name
            .is_some_and(|name| RAWS.contains(&extension(name).as_str()));
        match (file.kind, raw) {
            (MediaKind::Image, false) => 0,
            (MediaKind::Image, true) => 1,
            (MediaKind::Video, _) => 2,
            _ => 3,
        }
    };
    let mut families = Families {
        order: Vec::with_capacity(files.len()),
        ranges: Vec::with_capacity(groups.len()),
        alone: Vec::new(),
    };
    for mut group in groups {
        let has_media = group
            .iter()
            .any(|&i| matches!(files[i].kind, MediaKind::Image | MediaKind::Video));
        group.retain(|&i| {
            let keep = has_media || !only_with_media[i];
            if !keep {
                families.alone.push(i);
            }
            keep
        });
        if group.is_empty() {
            continue;
        }
        group.sort_by_key(|&i| (rank(i), i));
        let start = families.order.len();
        families.order.extend(group);
        families.ranges.push(start..families.order.len());
    }
    families
}

/// A family's file once hashed and read.
pub(super) struct Member<'a> {
    pub name: &'a str,
    pub kind: MediaKind,
    pub sha256: Sha256,
    pub taken: Option<Taken>,
}

/// What `decide` gives a member: its asset, and the member whose date
/// places it (the asset's primary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Membership {
    pub asset: AssetRef,
    pub primary: usize,
}

/// Whether two dates from the files' own headers are of one shot. Not an
/// XMP sidecar's: `IMG_1.xmp` dates the JPEG and the MOV of its name alike.
fn same_shot(a: Option<Taken>, b: Option<Taken>) -> bool {
    let from_headers = |taken: Option<Taken>| {
        taken.filter(|t| matches!(t.from, DateSource::Exif | DateSource::Quicktime))
    };
    let (Some(a), Some(b)) = (from_headers(a), from_headers(b)) else {
        return false;
    };
    let seconds = |at: jiff::civil::DateTime| {
        at.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_second())
            .unwrap_or(i64::MIN / 2)
    };
    (seconds(a.at) - seconds(b.at)).abs() <= SAME_SHOT_SECONDS
}

/// Whether a Live Photo's still and video are one: matching identifiers,
/// or, with one missing, dates that agree.
fn live_pair(still: &Member, video: &Member) -> bool {
    let id = |m: &Member| m.taken.and_then(|t| t.content_id);
    match (id(still), id(video)) {
        (Some(a), Some(b)) => a == b,
        _ => same_shot(still.taken, video.taken),
    }
}

/// The true assets of a family, `members` in `families`' order (stills,
/// RAWs, videos, then sidecars), in the folder `place` names (its scanned
/// root and path): one entry per member, `None` for a file that stays on
/// its own. An asset's ID comes from its primary file's content and place,
/// so the same photo copied to another folder is another asset.
pub(super) fn decide(members: &[Member], place: &[u8]) -> Vec<Option<Membership>> {
    let mut joined: Vec<Option<(usize, Role)>> = vec![None; members.len()];
    let is_raw = |m: &Member| RAWS.contains(&extension(m.name).as_str());
    let primary = members
        .iter()
        .position(|m| m.kind == MediaKind::Image)
        .or_else(|| members.iter().position(|m| m.kind == MediaKind::Video));
    if let Some(p) = primary {
        let still = members[p].kind == MediaKind::Image;
        for (i, member) in members.iter().enumerate().skip(p + 1) {
            let role = match member.kind {
                MediaKind::Image if still && is_raw(member) && !is_raw(&members[p]) => {
                    same_shot(members[p].taken, member.taken).then_some(Role::AlternatePhoto)
                }
                MediaKind::Video if still && live_pair(&members[p], member) => {
                    Some(Role::PairedVideo)
                }
                _ => None,
            };
            joined[i] = role.map(|role| (p, role));
        }
    }
    // Sidecars: to the file they name, else to the primary.
    for (i, member) in members.iter().enumerate() {
        if member.kind != MediaKind::Other || !is_sidecar_name(member.name) {
            continue;
        }
        let named = sidecar_base(member.name).1;
        let owner = named
            .and_then(|named| {
                members
                    .iter()
                    .position(|m| m.kind != MediaKind::Other && m.name.eq_ignore_ascii_case(&named))
            })
            .or(primary);
        if let Some(owner) = owner {
            let head = joined[owner].map(|(head, _)| head).unwrap_or(owner);
            joined[i] = Some((head, Role::Sidecar));
            if joined[head].is_none() {
                let role = match members[head].kind {
                    MediaKind::Video => Role::Video,
                    _ => Role::Photo,
                };
                joined[head] = Some((head, role));
            }
        }
    }
    // A primary with at least one member is an asset too.
    for i in 0..members.len() {
        if let Some((head, _)) = joined[i]
            && head != i
            && joined[head].is_none()
        {
            joined[head] = Some((head, Role::Photo));
        }
    }
    joined
        .iter()
        .map(|entry| {
            let (head, role) = (*entry)?;
            let named = [
                &members[head].sha256.0[..],
                place,
                members[head].name.as_bytes(),
            ];
            let id = Sha256::of(&named.join(&0u8)).to_hex()[..16].to_owned();
            Some(Membership {
                asset: AssetRef { id, role },
                primary: head,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::ContentId;

    fn at(text: &str, from: DateSource, id: Option<u128>) -> Option<Taken> {
        Some(Taken {
            at: text.parse().unwrap(),
            from,
            utc: None,
            content_id: id.map(ContentId),
        })
    }

    fn member<'a>(name: &'a str, kind: MediaKind, taken: Option<Taken>) -> Member<'a> {
        Member {
            name,
            kind,
            sha256: Sha256::of(name.as_bytes()),
            taken,
        }
    }

    fn roles(members: &[Member]) -> Vec<Option<(&'static str, usize)>> {
        decide(members, b"/card\0DCIM")
            .into_iter()
            .map(|m| m.map(|m| (m.asset.role.name(), m.primary)))
            .collect()
    }

    #[test]
    fn names_make_families_and_a_sidecar_without_media_is_alone() {
        let folder = Path::new("DCIM");
        let named = |name: &'static str, kind| Named {
            folder: (0, folder),
            name: Some(name),
            kind,
        };
        let files = [
            named("IMG_1234.AAE", MediaKind::Other),
            named("IMG_1234.HEIC", MediaKind::Image),
            named("IMG_1234_HEVC.MOV", MediaKind::Video),
            named("IMG_2000.CR2", MediaKind::Image),
            named("IMG_2000.JPG", MediaKind::Image),
            named("IMG_O1234.AAE", MediaKind::Other),
            named("IMG_1234.HEIC.xmp", MediaKind::Other),
            named("lonely.xmp", MediaKind::Other),
            named("IMG_2000.JPG.supplemental-metad.json", MediaKind::Other),
            named(
                "6F2E3C1A-0000-4000-8000-000000000001.heic",
                MediaKind::Image,
            ),
            named(
                "6F2E3C1A-0000-4000-8000-000000000001_3.mov",
                MediaKind::Video,
            ),
        ];
        let only = [
            true, false, false, false, false, true, true, true, true, false, false,
        ];
        let families = families(&files, &only);
        let names: Vec<Vec<&str>> = families
            .ranges
            .iter()
            .map(|r| {
                families.order[r.clone()]
                    .iter()
                    .map(|&i| files[i].name.unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(
            names,
            vec![
                vec![
                    "IMG_1234.HEIC",
                    "IMG_1234_HEVC.MOV",
                    "IMG_1234.AAE",
                    "IMG_O1234.AAE",
                    "IMG_1234.HEIC.xmp"
                ],
                vec![
                    "IMG_2000.JPG",
                    "IMG_2000.CR2",
                    "IMG_2000.JPG.supplemental-metad.json"
                ],
                vec![
                    "6F2E3C1A-0000-4000-8000-000000000001.heic",
                    "6F2E3C1A-0000-4000-8000-000000000001_3.mov"
                ],
            ]
        );
        assert_eq!(families.alone, vec![7]);
    }

    #[test]
    fn a_live_photo_pairs_by_identifier_and_not_when_identifiers_differ() {
        let still = member(
            "IMG_1.HEIC",
            MediaKind::Image,
            at("2024-03-15T14:22:33", DateSource::Exif, Some(7)),
        );
        let same = member(
            "IMG_1.MOV",
            MediaKind::Video,
            at("2024-03-15T14:22:31", DateSource::Quicktime, Some(7)),
        );
        assert_eq!(
            roles(&[still, same]),
            vec![Some(("photo", 0)), Some(("paired-video", 0))]
        );
        let still = member(
            "IMG_1.HEIC",
            MediaKind::Image,
            at("2024-03-15T14:22:33", DateSource::Exif, Some(7)),
        );
        let other = member(
            "IMG_1.MOV",
            MediaKind::Video,
            at("2024-03-15T14:22:33", DateSource::Quicktime, Some(8)),
        );
        assert_eq!(roles(&[still, other]), vec![None, None]);
    }

    #[test]
    fn without_an_identifier_only_dates_that_agree_pair() {
        let still = || {
            member(
                "IMG_9140.JPG",
                MediaKind::Image,
                at("2024-03-15T14:22:33", DateSource::Exif, None),
            )
        };
        let weeks = member(
            "IMG_9140.MOV",
            MediaKind::Video,
            at("2024-04-02T09:00:00", DateSource::Quicktime, Some(3)),
        );
        assert_eq!(roles(&[still(), weeks]), vec![None, None]);
        let near = member(
            "IMG_9140.MOV",
            MediaKind::Video,
            at("2024-03-15T14:22:35", DateSource::Quicktime, None),
        );
        assert_eq!(
            roles(&[still(), near]),
            vec![Some(("photo", 0)), Some(("paired-video", 0))]
        );
        // Modification times say nothing about the shot.
        let mtime = member(
            "IMG_9140.MOV",
            MediaKind::Video,
            at("2024-03-15T14:22:33", DateSource::Mtime, None),
        );
        assert_eq!(roles(&[still(), mtime]), vec![None, None]);
    }

    #[test]
    fn raw_and_jpeg_pair_by_date_and_sidecars_join_the_file_they_name() {
        let jpeg = member(
            "IMG_2.JPG",
            MediaKind::Image,
            at("2024-03-15T14:22:33", DateSource::Exif, None),
        );
        let raw = member(
            "IMG_2.CR2",
            MediaKind::Image,
            at("2024-03-15T14:22:33", DateSource::Exif, None),
        );
        let video = member(
            "IMG_2.MOV",
            MediaKind::Video,
            at("2023-01-01T00:00:00", DateSource::Quicktime, None),
        );
        let xmp = member("IMG_2.xmp", MediaKind::Other, None);
        let movie_xmp = member("IMG_2.MOV.xmp", MediaKind::Other, None);
        assert_eq!(
            roles(&[jpeg, raw, video, xmp, movie_xmp]),
            vec![
                Some(("photo", 0)),
                Some(("alternate-photo", 0)),
                Some(("video", 2)),
                Some(("sidecar", 0)),
                Some(("sidecar", 2)),
            ]
        );
        let raw_far = member(
            "IMG_3.CR2",
            MediaKind::Image,
            at("2024-03-15T14:30:00", DateSource::Exif, None),
        );
        let jpeg = member(
            "IMG_3.JPG",
            MediaKind::Image,
            at("2024-03-15T14:22:33", DateSource::Exif, None),
        );
        assert_eq!(roles(&[jpeg, raw_far]), vec![None, None]);
    }

    #[test]
    fn the_asset_is_named_by_its_primary_files_content_and_place() {
        let pair = || {
            [
                member("IMG_2.JPG", MediaKind::Image, None),
                member("IMG_2.xmp", MediaKind::Other, None),
            ]
        };
        let id = |place: &[u8]| {
            let decided = decide(&pair(), place);
            let ids: Vec<String> = decided.into_iter().map(|m| m.unwrap().asset.id).collect();
            assert_eq!(ids[0], ids[1]);
            ids[0].clone()
        };
        assert_eq!(id(b"/card\0DCIM"), id(b"/card\0DCIM"));
        assert_ne!(id(b"/card\0DCIM"), id(b"/card\0Copy"));
        assert_eq!(id(b"/card\0DCIM").len(), 16);
    }

    #[test]
    fn a_shared_xmp_date_does_not_pair_shots_taken_apart() {
        let still = member(
            "IMG_9.JPG",
            MediaKind::Image,
            at("2024-03-15T14:22:33", DateSource::Xmp, None),
        );
        let video = member(
            "IMG_9.MOV",
            MediaKind::Video,
            at("2024-03-15T14:22:33", DateSource::Xmp, None),
        );
        assert_eq!(roles(&[still, video]), vec![None, None]);
    }
}
