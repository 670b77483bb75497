//! Whole-file replacement the way cargo does it: a temp file beside the
//! target, fsync, rename, then fsync the folder so that the rename itself
//! is durable. A reader sees the old file or the new one, never half.
//!
//! Errors carry the path at fault (the temp file, the target or the
//! folder), so each caller can name it in its own error type.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Replaces `path` with what `fill` writes; the temp file's name starts with `prefix`.
pub fn write(
    path: &Path,
    prefix: &str,
    fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), (PathBuf, io::Error)> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)
        .map_err(at(dir))?;
    {
        let mut out = BufWriter::new(temp.as_file());
        fill(&mut out).map_err(at(temp.path()))?;
        out.flush().map_err(at(temp.path()))?;
    }
    temp.as_file().sync_all().map_err(at(temp.path()))?;
    temp.persist(path)
        .map_err(|error| (path.to_owned(), error.error))?;
    sync_dir(dir).map_err(at(dir))
}

/// Pairs an error with the path it happened at.
fn at(path: &Path) -> impl FnOnce(io::Error) -> (PathBuf, io::Error) + '_ {
    move |error| (path.to_owned(), error)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
