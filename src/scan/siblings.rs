//! A watcher's batch, whole by family: a settled file is scanned with the
//! files of its family already on disk (its folder and base name, as the
//! scan groups them), so that a sidecar, a RAW or a Live Photo's video
//! that settles apart from its photo still joins it, and clearing a card
//! never takes a photo while a file of its name stays behind unseen.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::{assets, media};
use crate::journal::job::MediaKind;

/// The family a file at `path` would join: its folder and base name;
/// `None` for a file that joins none.
pub fn family_of(path: &Path) -> Option<(PathBuf, String)> {
    let name = path.file_name()?.to_str()?;
    // As the walk sees a file: a Takeout `.json` is a sidecar too.
    let sidecar = assets::is_sidecar_name(name).then_some(MediaKind::Other);
    let kind = media::kind_of(name.as_bytes(), true).or(sidecar)?;
    let base = assets::family_base(name, kind)?;
    Some((path.parent()?.to_owned(), base))
}

/// `files`, and those of `siblings` (`siblings_on_disk`, read once) that
/// are of a family of `files` and not `passed_over` (still being
/// written): each once, sorted.
pub fn with_siblings(
    files: Vec<PathBuf>,
    siblings: Vec<PathBuf>,
    passed_over: impl Fn(&Path) -> bool,
) -> Vec<PathBuf> {
    let families: BTreeSet<_> = files.iter().filter_map(|file| family_of(file)).collect();
    let mut all: BTreeSet<PathBuf> = files.into_iter().collect();
    all.extend(siblings.into_iter().filter(|path| {
        !passed_over(path) && family_of(path).is_some_and(|family| families.contains(&family))
    }));
    all.into_iter().collect()
}

/// The files of `files`' families in their folders now, `files` aside.
pub fn siblings_on_disk(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut wanted: HashMap<PathBuf, BTreeSet<String>> = HashMap::new();
    for (folder, base) in files.iter().filter_map(|file| family_of(file)) {
        wanted.entry(folder).or_default().insert(base);
    }
    let mut found = Vec::new();
    for (folder, bases) in wanted {
        // A folder gone or unreadable: the scan says so of the files asked.
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = folder.join(entry.file_name());
            let sibling = family_of(&path).is_some_and(|(_, base)| bases.contains(&base));
            if sibling && !files.contains(&path) {
                found.push(path);
            }
        }
    }
    found
}

/// Whether the file at `path` changed (its content or its metadata)
/// within `settle` of now: a watcher that has not heard of it yet may be
/// about to, as it is still being written.
pub fn changed_within(path: &Path, settle: std::time::Duration) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return false;
    };
    let latest = meta.mtime().max(meta.ctime()) as f64
        + meta.mtime_nsec().max(meta.ctime_nsec()) as f64 / 1e9;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64());
    now - latest < settle.as_secs_f64()
}

/// Whether a photo or video of `path`'s family is in its folder now: a
/// sidecar alone starts no watch batch (the scan would leave it out; the
/// photo's batch takes it along when the photo comes).
pub fn has_media_beside(path: &Path) -> bool {
    siblings_on_disk(&[path.to_owned()]).iter().any(|sibling| {
        let name = sibling.file_name().unwrap_or_default().as_encoded_bytes();
        media::kind_of(name, false)
            .is_some_and(|kind| matches!(kind, MediaKind::Image | MediaKind::Video))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_file_brings_the_files_of_its_name_but_not_those_still_written() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("DCIM");
        std::fs::create_dir(&folder).unwrap();
        for name in [
            "IMG_0008.JPG",
            "IMG_0008.CR2",
            "IMG_0008.XMP",
            "IMG_0008.MOV",
            "IMG_0008.JPG.json",
            "IMG_0009.JPG",
            "IMG_0010.xmp",
            "notes.txt",
        ] {
            std::fs::write(folder.join(name), name).unwrap();
        }
        let writing = folder.join("IMG_0008.MOV");
        let settled = vec![folder.join("IMG_0008.XMP")];
        let on_disk = siblings_on_disk(&settled);
        let batch = with_siblings(settled, on_disk, |p| p == writing);
        let names: Vec<_> = batch.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(
            names,
            [
                "IMG_0008.CR2",
                "IMG_0008.JPG",
                "IMG_0008.JPG.json",
                "IMG_0008.XMP"
            ]
        );
        assert!(has_media_beside(&folder.join("IMG_0008.XMP")));
        assert!(!has_media_beside(&folder.join("IMG_0010.xmp")));
        // Just written: a watch that has not heard of it lets it settle.
        let settle = std::time::Duration::from_secs(60);
        assert!(changed_within(&folder.join("IMG_0008.MOV"), settle));
        assert!(!changed_within(
            &folder.join("IMG_0008.MOV"),
            std::time::Duration::ZERO
        ));
        assert!(!changed_within(&folder.join("gone.MOV"), settle));
        assert_eq!(
            family_of(&folder.join("IMG_0008.XMP")),
            family_of(&folder.join("IMG_0008.MOV"))
        );
        assert_eq!(family_of(&folder.join("notes.txt")), None);
    }
}
