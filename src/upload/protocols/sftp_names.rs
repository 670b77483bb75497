//! Names on the server: where a job's bytes wait, which resource paths
//! are accepted, and the answer a job records. Pure functions, kept
//! apart from the upload that uses them.

use std::path::{Path, PathBuf};

use crate::journal::job::{ErrorClass, JobId, Response};
use crate::upload::http::Failure;

/// `bytes` in single quotes for a POSIX shell, any byte kept as it is.
pub fn shell_quote(bytes: &[u8]) -> Vec<u8> {
    let mut quoted = vec![b'\''];
    for &byte in bytes {
        match byte {
            b'\'' => quoted.extend_from_slice(b"'\\''"),
            _ => quoted.push(byte),
        }
    }
    quoted.push(b'\'');
    quoted
}

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

/// The resource's path, if it is a plain relative one.
pub fn relative_path(path: &Path) -> Result<&Path, Failure> {
    match super::super::is_plain_relative(path) {
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
    let mut response = super::super::placed_response(relative, identical);
    (response.headers).insert("confirmed-by".to_owned(), confirmed.to_owned());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_every_byte_and_ends_quotes() {
        assert_eq!(shell_quote(b"it's"), b"'it'\\''s'".to_vec());
        assert_eq!(shell_quote(b"caf\xe9 $(x)"), b"'caf\xe9 $(x)'".to_vec());
    }
}
