//! A watcher's batch, whole by family: a settled file is scanned with the
//! files of its family already on disk (its folder and base name, as the
//! scan groups them), so that a sidecar, a RAW or a Live Photo's video
//! that settles apart from its photo still joins it, and clearing a card
//! never takes a photo while a file of its name stays behind unseen.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::{assets, media};

/// The family a file at `path` would join: its folder and base name;
/// `None` for a file that joins none.
pub fn family_of(path: &Path) -> Option<(PathBuf, String)> {
    let name = path.file_name()?.to_str()?;
    let kind = media::kind_of(name.as_bytes(), true)?;
    let base = assets::family_base(name, kind)?;
    Some((path.parent()?.to_owned(), base))
}

/// `files`, and the other files of their families in their folders now,
/// but those `passed_over` (still being written): each once, sorted.
pub fn with_siblings(files: Vec<PathBuf>, passed_over: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut wanted: HashMap<PathBuf, BTreeSet<String>> = HashMap::new();
    for (folder, base) in files.iter().filter_map(|file| family_of(file)) {
        wanted.entry(folder).or_default().insert(base);
    }
    let mut all: BTreeSet<PathBuf> = files.into_iter().collect();
    for (folder, bases) in wanted {
        // A folder gone or unreadable: the scan says so of the files asked.
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = folder.join(entry.file_name());
            let sibling = family_of(&path).is_some_and(|(_, base)| bases.contains(&base));
            if sibling && !passed_over(&path) {
                all.insert(path);
            }
        }
    }
    all.into_iter().collect()
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
            "IMG_0009.JPG",
            "notes.txt",
        ] {
            std::fs::write(folder.join(name), name).unwrap();
        }
        let writing = folder.join("IMG_0008.MOV");
        let batch = with_siblings(vec![folder.join("IMG_0008.XMP")], |p| p == writing);
        let names: Vec<_> = batch.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(names, ["IMG_0008.CR2", "IMG_0008.JPG", "IMG_0008.XMP"]);
        assert_eq!(
            family_of(&folder.join("IMG_0008.XMP")),
            family_of(&folder.join("IMG_0008.MOV"))
        );
        assert_eq!(family_of(&folder.join("notes.txt")), None);
    }
}
