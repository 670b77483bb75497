//! Names on the server: where a job's bytes wait, the name beside a
//! different file, and the answer a job records. Pure functions, kept
//! apart from the upload that uses them.

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::journal::job::{ErrorClass, JobId, Response};
use crate::upload::http::Failure;

/// Where a job's bytes wait until they are whole: beside the target, in
/// its folder or the nearest one above whose name the SFTP library can
/// send (it sends UTF-8 names only).
pub fn partial_path(target: &Path, job: &JobId) -> PathBuf {
    let folder = target.parent().unwrap_or(Path::new("/"));
    let temp_folder = (folder.ancestors())
        .find(|above| above.to_str().is_some())
        .unwrap_or(Path::new("."));
    temp_folder.join(format!(".ferry-{}.part", job.as_str()))
}

/// `IMG_1.jpg` as `IMG_1 (n).jpg`, in the same folder.
pub fn numbered(path: &Path, n: u32) -> PathBuf {
    let stem = path.file_stem().map(|s| s.as_bytes()).unwrap_or_default();
    let mut name = stem.to_vec();
    name.extend_from_slice(format!(" ({n})").as_bytes());
    if let Some(ext) = path.extension() {
        name.push(b'.');
        name.extend_from_slice(ext.as_bytes());
    }
    path.with_file_name(std::ffi::OsStr::from_bytes(&name))
}

/// The resource's path, if it is a plain relative one.
pub fn relative_path(path: &Path) -> Result<&Path, Failure> {
    let plain = !path.as_os_str().is_empty()
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    match plain {
        true => Ok(path),
        false => Err(Failure::permanent(
            ErrorClass::File,
            format!(
                "{}: not a relative path under the source folder",
                path.display()
            ),
        )),
    }
}

/// The answer recorded on the job, as a local folder's: where the file
/// landed (raw bytes too when not UTF-8) and how it was confirmed.
pub fn response(relative: &Path, identical: bool, confirmed: &str) -> Response {
    let mut headers = std::collections::BTreeMap::new();
    headers.insert("path".to_owned(), relative.to_string_lossy().into_owned());
    if relative.to_str().is_none() {
        let raw = relative.as_os_str().as_bytes();
        headers.insert("path-bytes".to_owned(), hex::encode(raw));
    }
    if identical {
        headers.insert("identical".to_owned(), "true".to_owned());
    }
    headers.insert("confirmed-by".to_owned(), confirmed.to_owned());
    Response {
        status: 201,
        headers,
    }
}
