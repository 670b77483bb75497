//! A source that may be the destination's own copy is never cleared.
//!
//! A file is a duplicate of an uploaded one when its content is: the
//! destination's copy itself qualifies, when the destination stores into a
//! folder being synced (`ferry sync ~ --to ~/ferry-backup`, or
//! `ferry serve --dir` inside the synced folder). Its confirmation is then
//! of itself, and clearing it would delete the only copy. A local
//! destination's folder is known exactly; an HTTP server's is not, so any
//! folder a `ferry serve` receives into (it holds `.ferry-uploads`) counts.
//! S3 and SFTP stores keep no such marker (see the README). Paths alone
//! miss a symlink or a mount that leads the destination folder back to the
//! card, so a local copy is also compared with its source by device and
//! inode; where the copy lies (`local_stored_path`) is read from the job's
//! answer, and verify reads it from here too.

use std::path::{Path, PathBuf};

use crate::journal::job::{Destination, Job, Protocol};
use crate::wire::SERVE_STATE_DIR as STATE_DIR;

/// Why `source` may be `destination`'s own copy, if it may.
pub fn may_be_own_copy(source: &Path, destination: &Destination) -> Option<String> {
    let folder = std::fs::canonicalize(source.parent()?).ok()?;
    match destination.protocol {
        Protocol::Local => {
            let store = std::fs::canonicalize(&destination.url).ok()?;
            folder.starts_with(&store).then(|| {
                format!(
                    "it lies in {}, the destination folder, so it may be the destination's own copy",
                    store.display()
                )
            })
        }
        Protocol::S3 | Protocol::Sftp => None,
        _ => serve_store_above(&folder).map(|store| {
            format!(
                "it lies in {}, a folder `ferry serve` receives uploads into (it holds {STATE_DIR}), so it may be the destination's own copy",
                store.display()
            )
        }),
    }
}

/// Why `source` is the local destination's copy of `uploaded` itself, if
/// it is: the same file (device and inode), reached through a symlink in
/// the destination folder or a mount that leads back to the card. Paths
/// alone cannot tell.
pub fn is_the_local_copy(source: &Path, uploaded: &Job) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if uploaded.destination.protocol != Protocol::Local {
        return None;
    }
    let stored = local_stored_path(uploaded);
    let (theirs, ours) = (
        std::fs::metadata(&stored).ok()?,
        std::fs::metadata(source).ok()?,
    );
    ((theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino())).then(|| {
        format!(
            "the destination's copy {} is this very file (a symlink or a mount leads the destination folder back to it), so no other copy exists",
            stored.display()
        )
    })
}

/// The nearest folder at or above `folder` that a `ferry serve` keeps its
/// state in.
fn serve_store_above(folder: &Path) -> Option<PathBuf> {
    folder
        .ancestors()
        .find(|above| above.join(STATE_DIR).is_dir())
        .map(Path::to_owned)
}

/// The path of a local destination's copy of `job`.
pub fn local_stored_path(job: &Job) -> PathBuf {
    Path::new(&job.destination.url).join(placed_name(job))
}

/// The name the destination placed `job`'s file under, below its folder,
/// from its answer: the raw bytes when the name was not UTF-8, else the
/// readable `path`.
pub fn placed_name(job: &Job) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let headers = job.response.as_ref().map(|r| &r.headers);
    let header = |name: &str| headers.and_then(|headers| headers.get(name));
    match header("path-bytes").and_then(|hex| hex::decode(hex).ok()) {
        Some(bytes) => PathBuf::from(std::ffi::OsString::from_vec(bytes)),
        None => PathBuf::from(header("path").cloned().unwrap_or_default()),
    }
}
