//! Where a new upload goes below `/files/`: the URL path, or a folder in
//! the URL and the name the request gives, or that name alone. Its own
//! module because IETF, tus, plain PUT and BITS all ask it.

use hyper::{HeaderMap, StatusCode};

use super::{FILES_PREFIX, Reply};
use crate::journal::paths::JournalPath;
use crate::wire;

/// Where a new upload goes: the URL path; or, when the URL names a folder
/// (ends in `/`), that folder joined with the tus metadata's relative path,
/// else a `Content-Disposition` or metadata file name.
/// `creation`: an IETF or tus creation, whose URL may name the folder
/// rather than the file; a plain PUT's or BITS's URL is the file.
pub(super) fn choose_relative(
    target: &[u8],
    metadata: &std::collections::BTreeMap<String, Vec<u8>>,
    headers: &HeaderMap,
    creation: bool,
) -> Result<JournalPath, Reply> {
    let from_metadata = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| metadata.get(*key).filter(|value| !value.is_empty()))
            .cloned()
    };
    let named = || {
        from_metadata(&["relativePath", "relative_path", "path"])
            .or_else(|| wire::disposition_filename(headers))
            .or_else(|| from_metadata(&["filename", "name"]))
    };
    let relative = match target {
        b"" => named(),
        folder if folder.ends_with(b"/") => named().map(|name| [folder, &name].concat()),
        // A destination written without its trailing slash
        // (`--to …/files/backup`) with the file named in the request: the
        // URL is its folder, unless it already ends with that name.
        file => match named().filter(|_| creation) {
            Some(name) if !ends_with_component(file, &name) => Some([file, b"/", &name].concat()),
            _ => Some(file.to_owned()),
        },
    }
    .ok_or_else(|| {
        Reply::error(
            StatusCode::BAD_REQUEST,
            format!(
                "no file name: put it in the URL ({FILES_PREFIX}<path>), in Upload-Metadata \
                 (relativePath or filename) or in Content-Disposition"
            ),
        )
    })?;
    crate::placement::safe_relative_path(&relative)
        .map_err(|error| Reply::error(StatusCode::BAD_REQUEST, error))?;
    Ok(JournalPath::from_bytes(relative))
}

/// Whether `path` ends with the path `tail`, whole components only.
fn ends_with_component(path: &[u8], tail: &[u8]) -> bool {
    path == tail
        || (path.len() > tail.len()
            && path.ends_with(tail)
            && path[path.len() - tail.len() - 1] == b'/')
}
