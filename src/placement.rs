//! Where a finished upload lands on the receiving side.
//!
//! A client names the file by its relative path; that name is untrusted input.
//! Only plain relative paths are accepted: no `..`, no absolute paths, no
//! empty or `.` parts, no NUL, control characters or backslashes, and nothing
//! under the receiver's own state folder. A finished file is hard-linked into
//! place, which fails instead of replacing an existing file, so a different
//! file is never overwritten even by a racing upload: identical content counts
//! as success, and different content gets a distinct name, `name (1).ext`.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use crate::digest::{self, FileStat, Sha256};

/// Names starting with this are the receiver's own; clients may not use them.
pub const STATE_PREFIX: &str = ".ferry-";

/// `folder` and each folder above it up to `dir`: those whose entries a
/// new file at `folder` may have changed (a new name, a folder made for it).
pub fn folders_up_to<'a>(folder: &'a Path, dir: &Path) -> Vec<&'a Path> {
    (folder.ancestors())
        .take_while(|above| above.starts_with(dir))
        .collect()
}

const MAX_COMPONENT: usize = 255;
const MAX_RENAMES: u32 = 10_000;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsafe file name {name:?}: {reason}")]
pub struct UnsafePath {
    pub name: String,
    pub reason: &'static str,
}

/// Checks a client-supplied relative path, `/`-separated, as raw bytes: a
/// name that is not UTF-8 (`caf\xe9.jpg` from an old camera) is kept byte
/// for byte, never replaced by U+FFFD.
pub fn safe_relative_path(name: &[u8]) -> Result<PathBuf, UnsafePath> {
    let text = String::from_utf8_lossy(name);
    let refuse = |reason| {
        Err(UnsafePath {
            name: text.clone().into_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.starts_with(b"/") {
        return refuse("absolute paths are not accepted");
    }
    if name.contains(&0) {
        return refuse("it contains NUL");
    }
    // Invalid bytes read as U+FFFD here, which is not a control character.
    if text.chars().any(char::is_control) {
        return refuse("it contains control characters");
    }
    if name.contains(&b'\\') {
        return refuse("backslashes are not accepted");
    }
    let mut path = PathBuf::new();
    for part in name.split(|&byte| byte == b'/') {
        match part {
            b"" => return refuse("it has an empty path component"),
            b"." | b".." => return refuse("`.` and `..` are not accepted"),
            _ if part.len() > MAX_COMPONENT => return refuse("a path component is too long"),
            _ if path.as_os_str().is_empty() && part.starts_with(STATE_PREFIX.as_bytes()) => {
                return refuse("names starting with .ferry- are reserved");
            }
            _ => path.push(OsStr::from_bytes(part)),
        }
    }
    debug_assert!(path.components().all(|c| matches!(c, Component::Normal(_))));
    Ok(path)
}

/// What `place` did with a finished file.
#[derive(Debug, PartialEq, Eq)]
pub struct Placed {
    /// Where the content now lives, relative to the destination folder.
    pub relative: PathBuf,
    /// The requested name held identical content already; nothing was added.
    pub identical: bool,
}

/// Whether `relative` under `dir` leads outside `dir` through a symlink:
/// the deepest part of it that exists, resolved, must lie inside. A
/// receiver keeps to its folder, as Samba does with `wide links = no`; a
/// symlink that stays inside is followed.
pub fn leads_outside(dir: &Path, relative: &Path) -> io::Result<bool> {
    let root = dir.canonicalize()?;
    let mut probe = dir.join(relative);
    loop {
        match probe.canonicalize() {
            Ok(real) => return Ok(!real.starts_with(&root)),
            // Not there (or a dangling link, which placing never follows).
            Err(_) if probe.pop() => {}
            Err(_) => return Ok(false),
        }
    }
}

/// Removes `path`; one already gone is no error.
pub fn remove_if_there(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// `IMG.jpg` -> `IMG (n).jpg`, keeping the name's bytes as they are.
pub fn numbered(relative: &Path, n: u32) -> PathBuf {
    let mut name = relative.file_stem().unwrap_or_default().to_owned();
    name.push(format!(" ({n})"));
    if let Some(ext) = relative.extension() {
        name.push(".");
        name.push(ext);
    }
    relative.with_file_name(name)
}

/// The names this process has seen taken, per target, with what they hold
/// (size, and the digest once known): a name that collides for the
/// thousandth time starts looking where the last one ended, instead of
/// trying and hashing the 999 names before it again. Memory only points:
/// an "identical content is already there" found in it is hashed again on
/// disk before it is believed (the file may have been removed, or moved on
/// by `--forward`), and a stale entry makes the search start over from the
/// plain name. The link itself decides every new name, so a stale entry
/// never costs a file.
static TAKEN: Mutex<Option<HashMap<PathBuf, Vec<Taken>>>> = Mutex::new(None);

#[derive(Clone, Copy)]
struct Taken {
    attempt: u32,
    size: u64,
    sha256: Option<Sha256>,
}

fn taken(target: &Path) -> Vec<Taken> {
    let taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    taken
        .as_ref()
        .and_then(|map| map.get(target).cloned())
        .unwrap_or_default()
}

fn forget_taken(target: &Path) {
    let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(names) = taken.as_mut() {
        names.remove(target);
    }
}

fn note_taken(target: &Path, seen: Taken) {
    let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    let names = taken.get_or_insert_with(HashMap::new);
    let entry = names.entry(target.to_owned()).or_default();
    match entry.iter_mut().find(|known| known.attempt == seen.attempt) {
        Some(known) => *known = seen,
        None => entry.push(seen),
    }
}

fn candidate(relative: &Path, attempt: u32) -> PathBuf {
    match attempt {
        0 => relative.to_owned(),
        n => numbered(relative, n),
    }
}

/// What a taken name holds, when it is a file of `size` bytes (none when
/// the name is free again).
fn digest_if_size(path: &Path, size: u64) -> io::Result<Option<Sha256>> {
    let meta = match std::fs::metadata(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        meta => meta?,
    };
    if !meta.is_file() || meta.len() != size {
        return Ok(None);
    }
    match digest::sha256_file(path, &FileStat::of(&meta)) {
        Ok(existing) => Ok(Some(existing)),
        Err(digest::HashError::Io(error)) => Err(error),
        Err(_) => Ok(None),
    }
}

/// Names that are taken although no file holds them in `dir` (files
/// `ferry serve --forward` passed on): the content each was taken by.
pub type Reserved<'a> = &'a dyn Fn(&Path) -> Option<Sha256>;

/// Moves the verified file `finished` (whose SHA-256 is `sha256`) into `dir`
/// at `relative`, never replacing a different file. Identical content already
/// at the name (or at one of its numbered names) counts as placed. A name
/// `reserved` for other content is passed over; one reserved for the same
/// content is used again. `name_durable` makes the folder's new entry
/// durable (an fsync of it, or nothing for a caller whose group sync comes
/// after).
pub fn place(
    dir: &Path,
    relative: &Path,
    finished: &Path,
    sha256: &Sha256,
    reserved: Reserved,
    name_durable: &dyn Fn(&Path) -> io::Result<()>,
) -> io::Result<Placed> {
    let size = std::fs::metadata(finished)?.len();
    let key = dir.join(relative);
    let target_dir = key.parent().map(Path::to_owned);
    // The folder is made only when the link finds it missing: most files
    // go to a folder that is there, and asking first costs two calls each.
    let link = |target: &Path| match std::fs::hard_link(finished, target) {
        Err(error) if error.kind() == io::ErrorKind::NotFound && finished.exists() => {
            if let Some(parent) = &target_dir {
                fs_err::create_dir_all(parent)?;
            }
            std::fs::hard_link(finished, target)
        }
        other => other,
    };
    let identical = |attempt: u32| -> io::Result<Placed> {
        fs_err::remove_file(finished)?;
        Ok(Placed {
            relative: candidate(relative, attempt),
            identical: true,
        })
    };
    let mut known = taken(&key);
    let remembered = known.iter().filter(|seen| seen.size == size);
    let recalled = remembered.filter(|seen| seen.sha256.is_none_or(|held| held == *sha256));
    for seen in recalled.copied().collect::<Vec<_>>() {
        // What memory says is checked on disk now: the name may be gone
        // or hold something else since.
        let on_disk = digest_if_size(&dir.join(candidate(relative, seen.attempt)), size)?;
        if on_disk == Some(*sha256) {
            return identical(seen.attempt);
        }
        if seen.sha256.is_some() {
            forget_taken(&key);
            known.clear();
            break;
        }
    }
    let after_known = known.iter().map(|seen| seen.attempt + 1).max().unwrap_or(0);
    // A name passed on with this very content is this content's name again.
    let first = (0..after_known)
        .find(|&n| reserved(&candidate(relative, n)) == Some(*sha256))
        .unwrap_or(after_known);
    for attempt in first..=MAX_RENAMES {
        if reserved(&candidate(relative, attempt)).is_some_and(|held| held != *sha256) {
            continue;
        }
        let target = dir.join(candidate(relative, attempt));
        match link(&target) {
            Ok(()) => {
                fs_err::remove_file(finished)?;
                if let Some(parent) = &target_dir {
                    name_durable(parent)?;
                }
                // Only names that collided are remembered: a server's
                // memory grows with collisions, not with every upload.
                if attempt > 0 {
                    let sha256 = Some(*sha256);
                    note_taken(
                        &key,
                        Taken {
                            attempt,
                            size,
                            sha256,
                        },
                    );
                }
                return Ok(Placed {
                    relative: candidate(relative, attempt),
                    identical: false,
                });
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                // Sizes first: only a file of the same size is hashed.
                let held = digest_if_size(&target, size)?;
                if held == Some(*sha256) {
                    return identical(attempt);
                }
                let existing = std::fs::metadata(&target).map_or(u64::MAX, |meta| meta.len());
                note_taken(
                    &key,
                    Taken {
                        attempt,
                        size: existing,
                        sha256: held,
                    },
                );
            }
            Err(error) => {
                return Err(io::Error::new(
                    error.kind(),
                    format!("cannot place {}: {error}", target.display()),
                ));
            }
        }
    }
    Err(io::Error::other(format!(
        "cannot place {}: {MAX_RENAMES} other files already use its name",
        relative.display()
    )))
}

#[cfg(test)]
mod tests {
    /// The tests look at names, not at what a crash would keep.
    fn sync_folder(_: &Path) -> io::Result<()> {
        Ok(())
    }
    use super::*;

    #[test]
    fn plain_relative_paths_are_accepted() {
        assert_eq!(
            safe_relative_path(b"2024/06/IMG_0001.HEIC").unwrap(),
            PathBuf::from("2024/06/IMG_0001.HEIC")
        );
        assert_eq!(
            safe_relative_path("été 2024/a b.jpg".as_bytes()).unwrap(),
            PathBuf::from("été 2024/a b.jpg")
        );
        assert!(safe_relative_path(b"..hidden/x..y.jpg").is_ok());
        assert_eq!(
            safe_relative_path(b"2024/caf\xe9.jpg").unwrap(),
            Path::new("2024").join(OsStr::from_bytes(b"caf\xe9.jpg"))
        );
        let numbered = candidate(Path::new(OsStr::from_bytes(b"caf\xe9.jpg")), 2);
        assert_eq!(numbered.as_os_str().as_bytes(), b"caf\xe9 (2).jpg");
    }

    #[test]
    fn traversal_and_odd_names_are_refused() {
        for name in [
            "",
            "../etc/passwd",
            "a/../../b",
            "a/./b",
            "/etc/passwd",
            "a//b",
            "a/",
            "a\0b",
            "a\nb.jpg",
            "a\\..\\b",
            ".ferry-uploads/x",
            "..",
            ".",
        ] {
            assert!(
                safe_relative_path(name.as_bytes()).is_err(),
                "{name:?} was accepted"
            );
        }
        let long = "x".repeat(256);
        assert!(safe_relative_path(long.as_bytes()).is_err());
        assert!(safe_relative_path("a\u{85}b".as_bytes()).is_err());
        let error = safe_relative_path(b"../x").unwrap_err().to_string();
        assert!(error.contains("\"../x\""), "{error}");
    }

    fn finished(dir: &Path, bytes: &[u8]) -> (PathBuf, Sha256) {
        let path = dir.join(format!(".ferry-part-{}", fastrand::u64(..)));
        std::fs::write(&path, bytes).unwrap();
        let sha =
            digest::sha256_file(&path, &FileStat::of(&std::fs::metadata(&path).unwrap())).unwrap();
        (path, sha)
    }

    #[test]
    fn a_different_file_is_never_overwritten_and_identical_content_is_success() {
        let dir = tempfile::tempdir().unwrap();
        let name = Path::new("2024/IMG.jpg");

        let (first, sha) = finished(dir.path(), b"first");
        let placed = place(dir.path(), name, &first, &sha, &|_| None, &sync_folder).unwrap();
        assert_eq!(
            placed,
            Placed {
                relative: name.into(),
                identical: false
            }
        );
        assert!(!first.exists());

        let (again, sha) = finished(dir.path(), b"first");
        let placed = place(dir.path(), name, &again, &sha, &|_| None, &sync_folder).unwrap();
        assert!(placed.identical);
        assert!(!again.exists());

        let (other, sha) = finished(dir.path(), b"second");
        let placed = place(dir.path(), name, &other, &sha, &|_| None, &sync_folder).unwrap();
        assert_eq!(placed.relative, PathBuf::from("2024/IMG (1).jpg"));
        let (third, sha) = finished(dir.path(), b"third");
        assert_eq!(
            place(dir.path(), name, &third, &sha, &|_| None, &sync_folder)
                .unwrap()
                .relative,
            PathBuf::from("2024/IMG (2).jpg")
        );

        assert_eq!(
            std::fs::read(dir.path().join("2024/IMG.jpg")).unwrap(),
            b"first"
        );
        assert_eq!(
            std::fs::read(dir.path().join("2024/IMG (1).jpg")).unwrap(),
            b"second"
        );
        assert_eq!(
            std::fs::read(dir.path().join("2024/IMG (2).jpg")).unwrap(),
            b"third"
        );
    }

    #[test]
    fn numbered_names_are_found_again_and_identical_content_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let name = Path::new("DCIM/IMG_0001.JPG");
        let place_bytes = |bytes: &[u8]| {
            let (part, sha) = finished(dir.path(), bytes);
            place(dir.path(), name, &part, &sha, &|_| None, &sync_folder).unwrap()
        };
        let names: Vec<String> = [&b"first"[..], b"second", b"third!"]
            .iter()
            .map(|bytes| place_bytes(bytes).relative.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "DCIM/IMG_0001.JPG",
                "DCIM/IMG_0001 (1).JPG",
                "DCIM/IMG_0001 (2).JPG"
            ]
        );
        let again = place_bytes(b"second");
        assert!(again.identical);
        assert_eq!(again.relative, Path::new("DCIM/IMG_0001 (1).JPG"));
        // A name taken behind our back is never overwritten.
        std::fs::write(dir.path().join("DCIM/IMG_0001 (3).JPG"), b"someone else").unwrap();
        let fourth = place_bytes(b"fourth");
        assert_eq!(fourth.relative, Path::new("DCIM/IMG_0001 (4).JPG"));
        assert_eq!(
            std::fs::read(dir.path().join("DCIM/IMG_0001 (3).JPG")).unwrap(),
            b"someone else"
        );
    }

    #[test]
    fn identical_content_remembered_at_a_name_is_believed_only_when_it_is_still_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let name = Path::new("gone/IMG.jpg");
        let place_bytes = |bytes: &[u8]| {
            let (part, sha) = finished(dir.path(), bytes);
            place(dir.path(), name, &part, &sha, &|_| None, &sync_folder).unwrap()
        };
        place_bytes(b"content A");
        assert_eq!(
            place_bytes(b"content B").relative,
            Path::new("gone/IMG (1).jpg")
        );
        std::fs::remove_file(dir.path().join("gone/IMG.jpg")).unwrap();
        let again = place_bytes(b"content A");
        assert!(!again.identical, "{again:?}");
        assert_eq!(again.relative, Path::new("gone/IMG.jpg"));
        assert_eq!(
            std::fs::read(dir.path().join("gone/IMG.jpg")).unwrap(),
            b"content A"
        );
        // The same name changed behind our back is not taken for A either.
        std::fs::write(dir.path().join("gone/IMG (1).jpg"), b"content C").unwrap();
        let b_again = place_bytes(b"content B");
        assert!(!b_again.identical, "{b_again:?}");
        assert_eq!(
            std::fs::read(dir.path().join(&b_again.relative)).unwrap(),
            b"content B"
        );
    }
}
