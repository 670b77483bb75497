//! Where a finished upload lands on the receiving side.
//!
//! A client names the file by its relative path; that name is untrusted input.
//! Only plain relative paths are accepted: no `..`, no absolute paths, no
//! empty or `.` parts, no NUL, control characters or backslashes, and nothing
//! under the receiver's own state folder. A finished file is hard-linked into
//! place, which fails instead of replacing an existing file, so a different
//! file is never overwritten even by a racing upload: identical content counts
//! as success, and different content gets a distinct name, `name (1).ext`.

use std::io;
use std::path::{Component, Path, PathBuf};

use crate::digest::{self, FileStat, Sha256};

/// Names starting with this are the receiver's own; clients may not use them.
pub const STATE_PREFIX: &str = ".ferry-";

const MAX_COMPONENT: usize = 255;
const MAX_RENAMES: u32 = 10_000;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsafe file name {name:?}: {reason}")]
pub struct UnsafePath {
    pub name: String,
    pub reason: &'static str,
}

/// Checks a client-supplied relative path, `/`-separated.
pub fn safe_relative_path(name: &str) -> Result<PathBuf, UnsafePath> {
    let refuse = |reason| {
        Err(UnsafePath {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.starts_with('/') {
        return refuse("absolute paths are not accepted");
    }
    if name.chars().any(|c| c == '\0') {
        return refuse("it contains NUL");
    }
    if name.chars().any(|c| c.is_control()) {
        return refuse("it contains control characters");
    }
    if name.contains('\\') {
        return refuse("backslashes are not accepted");
    }
    let mut path = PathBuf::new();
    for part in name.split('/') {
        match part {
            "" => return refuse("it has an empty path component"),
            "." | ".." => return refuse("`.` and `..` are not accepted"),
            _ if part.len() > MAX_COMPONENT => return refuse("a path component is too long"),
            _ => path.push(part),
        }
    }
    if path.components().next().is_some_and(|first| {
        first
            .as_os_str()
            .to_string_lossy()
            .starts_with(STATE_PREFIX)
    }) {
        return refuse("names starting with .ferry- are reserved");
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

/// `IMG.jpg` -> `IMG (n).jpg`.
fn numbered(relative: &Path, n: u32) -> PathBuf {
    let stem = relative
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match relative.extension() {
        Some(ext) => format!("{stem} ({n}).{}", ext.to_string_lossy()),
        None => format!("{stem} ({n})"),
    };
    relative.with_file_name(name)
}

fn same_content(path: &Path, sha256: &Sha256) -> io::Result<bool> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Ok(false);
    }
    match digest::sha256_file(path, &FileStat::of(&meta)) {
        Ok(existing) => Ok(existing == *sha256),
        Err(digest::HashError::Io(error)) => Err(error),
        Err(_) => Ok(false),
    }
}

/// Moves the verified file `finished` (whose SHA-256 is `sha256`) into `dir`
/// at `relative`, never replacing a different file.
pub fn place(dir: &Path, relative: &Path, finished: &Path, sha256: &Sha256) -> io::Result<Placed> {
    let target_dir = dir.join(relative).parent().map(Path::to_owned);
    if let Some(parent) = &target_dir {
        fs_err::create_dir_all(parent)?;
    }
    for attempt in 0..=MAX_RENAMES {
        let candidate = if attempt == 0 {
            relative.to_owned()
        } else {
            numbered(relative, attempt)
        };
        let target = dir.join(&candidate);
        match std::fs::hard_link(finished, &target) {
            Ok(()) => {
                fs_err::remove_file(finished)?;
                if let Some(parent) = &target_dir {
                    std::fs::File::open(parent)?.sync_all()?;
                }
                return Ok(Placed {
                    relative: candidate,
                    identical: false,
                });
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                if same_content(&target, sha256)? {
                    fs_err::remove_file(finished)?;
                    return Ok(Placed {
                        relative: candidate,
                        identical: true,
                    });
                }
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
    use super::*;

    #[test]
    fn plain_relative_paths_are_accepted() {
        assert_eq!(
            safe_relative_path("2024/06/IMG_0001.HEIC").unwrap(),
            PathBuf::from("2024/06/IMG_0001.HEIC")
        );
        assert_eq!(
            safe_relative_path("été 2024/a b.jpg").unwrap(),
            PathBuf::from("été 2024/a b.jpg")
        );
        assert!(safe_relative_path("..hidden/x..y.jpg").is_ok());
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
            assert!(safe_relative_path(name).is_err(), "{name:?} was accepted");
        }
        let long = "x".repeat(256);
        assert!(safe_relative_path(&long).is_err());
        let error = safe_relative_path("../x").unwrap_err().to_string();
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
        let placed = place(dir.path(), name, &first, &sha).unwrap();
        assert_eq!(
            placed,
            Placed {
                relative: name.into(),
                identical: false
            }
        );
        assert!(!first.exists());

        let (again, sha) = finished(dir.path(), b"first");
        let placed = place(dir.path(), name, &again, &sha).unwrap();
        assert!(placed.identical);
        assert!(!again.exists());

        let (other, sha) = finished(dir.path(), b"second");
        let placed = place(dir.path(), name, &other, &sha).unwrap();
        assert_eq!(placed.relative, PathBuf::from("2024/IMG (1).jpg"));
        let (third, sha) = finished(dir.path(), b"third");
        assert_eq!(
            place(dir.path(), name, &third, &sha).unwrap().relative,
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
}
