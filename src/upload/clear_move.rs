//! Moving a cleared source to `--move-to DIR` without replacing anything.
//!
//! On one file system the new name is a hard link, made before the old
//! name goes, so no moment exists without the file. Across file systems
//! the bytes are copied under a temporary name of the copy's own beside
//! the target, checked against the SHA-256 the destination confirmed,
//! synced, and linked into place: a name derived from the target's
//! (`IMG_0013.ferry-moving`) was shared by `IMG_0013.JPG` and
//! `IMG_0013.MOV` moved at once, mixing their bytes, and took a user's
//! file of that name for its own.

use std::path::Path;

use crate::digest::Sha256;

/// Why a source stays whose bytes, read again before it is cleared, are
/// not the ones the destination confirmed (an edit in place can keep a
/// file's size and times). Here, where the copy reads them, and for
/// `clear` and `clear_assets`, which hash them first.
pub(super) const EDITED_IN_PLACE: &str = "its content is not what was uploaded any more (edited in place, its size and times kept?); `ferry sync --rehash` sends it";

/// Gives `source` the name `target` (which must not exist), then removes
/// the old name. Across file systems the copy goes to a name of its own
/// beside the target (two files of one stem, `IMG_0013.JPG` and
/// `IMG_0013.MOV`, moved at once must not share one, nor may a user's
/// file be taken for it), and its bytes must hash to `expected` (what the
/// destination confirmed) before the old name goes.
pub(super) fn move_without_replacing(
    source: &Path,
    target: &Path,
    expected: &Sha256,
) -> Result<(), String> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|error| format!("{}: {error}", parent.display()))?;
    let exists = |_| format!("{} already exists; it is never replaced", target.display());
    match std::fs::hard_link(source, target) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists(())),
        // Another file system: copy beside the target, check, sync, link.
        Err(_) => {
            let partial = copy_checked(source, parent, expected)?;
            match partial.persist_noclobber(target) {
                Ok(_) => {}
                Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(exists(()));
                }
                Err(error) => return Err(format!("{}: {}", target.display(), error.error)),
            }
            // The new name outlives a power cut before the old one goes.
            std::fs::File::open(parent)
                .and_then(|folder| folder.sync_all())
                .map_err(|error| format!("{}: {error}", parent.display()))?;
        }
    }
    std::fs::remove_file(source).map_err(|error| error.to_string())
}

/// A synced copy of `source` in `folder` under a temporary name of its own
/// (removed if anything fails), whose bytes, as read, hash to `expected`.
fn copy_checked(
    source: &Path,
    folder: &Path,
    expected: &Sha256,
) -> Result<tempfile::NamedTempFile, String> {
    use sha2::Digest;
    use std::io::{Read, Write};
    let at = |error: std::io::Error| format!("{}: {error}", folder.display());
    let mut partial = tempfile::Builder::new()
        .prefix(".ferry-moving-")
        .tempfile_in(folder)
        .map_err(at)?;
    let mut from = std::fs::File::open(source).map_err(|error| error.to_string())?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let read = from.read(&mut buffer).map_err(|error| error.to_string())?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        partial.write_all(&buffer[..read]).map_err(at)?;
    }
    if Sha256(hasher.finalize().into()) != *expected {
        return Err(EDITED_IN_PLACE.to_owned());
    }
    // As a link on one file system would: the source's mode (a tempfile
    // is 0600, which a NAS's other readers could not open) and time.
    let meta = from.metadata().map_err(|error| error.to_string())?;
    let copy = partial.as_file();
    copy.set_permissions(meta.permissions()).map_err(at)?;
    copy.set_modified(meta.modified().map_err(at)?)
        .map_err(at)?;
    copy.sync_all().map_err(at)?;
    Ok(partial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_whose_bytes_are_not_the_confirmed_ones_is_never_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (source, folder) = (dir.path().join("IMG_0001.JPG"), dir.path().join("moved"));
        std::fs::write(&source, b"edited after its upload").unwrap();
        std::fs::create_dir(&folder).unwrap();
        let confirmed = Sha256([7; 32]);
        let error = copy_checked(&source, &folder, &confirmed).unwrap_err();
        assert_eq!(error, EDITED_IN_PLACE);
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);

        let matching = Sha256::of(b"edited after its upload");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(&source, mode).unwrap();
        let copy = copy_checked(&source, &folder, &matching).unwrap();
        let (theirs, ours) = (
            std::fs::metadata(copy.path()).unwrap(),
            std::fs::metadata(&source).unwrap(),
        );
        assert_eq!(theirs.permissions().mode() & 0o777, 0o644);
        assert_eq!(theirs.modified().unwrap(), ours.modified().unwrap());
        assert_eq!(
            std::fs::read(copy.path()).unwrap(),
            b"edited after its upload"
        );
    }
}
