//! Giving an upload its name on the server, never over another file:
//! folders made as needed, a hard link (or, through the shell, `ln` for a
//! name the SFTP library cannot send), and `name (1).ext` beside a
//! different file.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::super::Link;
use super::{MAX_RENAMES, Upload, failure, remote_sha256};
use crate::journal::job::ErrorClass;
use crate::placement::numbered;
use crate::upload::http::Failure;

/// `mkdir -p` over SFTP: each missing folder from the top (through the
/// shell for a name that is not UTF-8).
pub(in crate::upload::protocols::sftp) async fn make_folders(
    link: &Link,
    folder: &Path,
) -> Result<(), Failure> {
    if folder.to_str().is_none() {
        let mut line = b"mkdir -p -- ".to_vec();
        line.extend(super::super::shell_quote(folder.as_os_str().as_bytes()));
        link.run(&line, std::time::Duration::from_secs(60)).await?;
        return Ok(());
    }
    let mut fs = link.sftp.fs();
    let mut missing = Vec::new();
    let mut existing = None;
    for above in folder.ancestors() {
        if above.as_os_str().is_empty() || fs.metadata(above).await.is_ok() {
            existing = Some(above);
            break;
        }
        missing.push(above);
    }
    for folder in missing.into_iter().rev() {
        if let Err(error) = fs.create_dir(folder).await
            && fs.metadata(folder).await.is_err()
        {
            // The server's words ("No such file") can hide that the
            // folder above exists but takes no new folder.
            let doing = match existing {
                Some(above) if !above.as_os_str().is_empty() => format!(
                    "creating {} (the server would not make it in {}, which exists; `ferry probe` says more)",
                    folder.display(),
                    above.display()
                ),
                _ => format!("creating {}", folder.display()),
            };
            return Err(failure(&doing, error));
        }
        existing = Some(folder);
    }
    Ok(())
}

impl Upload<'_> {
    pub(super) async fn make_folders(&self, folder: &Path) -> Result<(), Failure> {
        make_folders(self.link, folder).await
    }

    /// Links the confirmed partial file into place, never over another
    /// file: the same content there is success, other content moves the
    /// new file to `name (1).ext` and on. The name placed (relative) and
    /// whether an identical file was already there.
    pub(super) async fn place(
        &self,
        temp: &Path,
        target: &Path,
        relative: &Path,
    ) -> Result<(PathBuf, bool), Failure> {
        let mut fs = self.link.sftp.fs();
        for attempt in 0..=MAX_RENAMES {
            let (name, placed) = match attempt {
                0 => (target.to_owned(), relative.to_owned()),
                n => (numbered(target, n), numbered(relative, n)),
            };
            let size = self.job.resource.size;
            if name.to_str().is_none() {
                if self.link_into_place(temp, &name).await? {
                    return Ok((placed, false));
                }
            } else {
                let linked = match self.link_or_rename(temp, &name).await {
                    Ok(()) => return Ok((placed, false)),
                    Err(error) => error,
                };
                match fs.metadata(&name).await {
                    Err(_) => return Err(linked),
                    // Another size is other content: no need to hash it.
                    Ok(taken) if taken.len() != Some(size) => continue,
                    Ok(_) => {}
                }
            }
            if remote_sha256(self.route, self.link, &name, size).await? == self.job.resource.sha256
            {
                let _ = fs.remove_file(temp).await;
                return Ok((placed, true));
            }
        }
        Err(Failure::permanent(
            ErrorClass::Server,
            format!(
                "{}: every name up to ({MAX_RENAMES}) is taken",
                target.display()
            ),
        ))
    }

    /// Gives the partial file its name, never replacing a file there:
    /// a hard link (`hardlink@openssh.com`, which fails on an existing
    /// name), then the partial name removed. The library's rename is
    /// `posix-rename@openssh.com` where offered, which replaces; so on a
    /// server without hard links the name is first checked to be free.
    async fn link_or_rename(&self, temp: &Path, name: &Path) -> Result<(), Failure> {
        let mut fs = self.link.sftp.fs();
        if self.link.sftp.support_hardlink() {
            fs.hard_link(temp, name)
                .await
                .map_err(|e| failure("linking the upload into place", e))?;
            let _ = fs.remove_file(temp).await;
            return Ok(());
        }
        if self.route.exists(self.link, name).await? {
            return Err(Failure::permanent(ErrorClass::Server, "the name is taken"));
        }
        fs.rename(temp, name)
            .await
            .map_err(|e| failure("renaming the upload into place", e))
    }

    /// Places a name that is not UTF-8 through the shell: a hard link,
    /// which never replaces a file, then the partial name removed. Whether
    /// it was placed (`false`: the name is taken).
    async fn link_into_place(&self, temp: &Path, name: &Path) -> Result<bool, Failure> {
        let (temp, name) = (
            super::super::shell_quote(temp.as_os_str().as_bytes()),
            super::super::shell_quote(name.as_os_str().as_bytes()),
        );
        let mut line = b"if ln -- ".to_vec();
        for part in [
            &temp[..],
            b" ",
            &name[..],
            b" 2>/dev/null; then rm -f -- ",
            &temp[..],
        ] {
            line.extend_from_slice(part);
        }
        line.extend_from_slice(b"; echo ferry-placed; elif test -e ");
        line.extend_from_slice(&name);
        line.extend_from_slice(b"; then echo ferry-taken; else echo ferry-failed; fi");
        let said = self
            .link
            .run(&line, std::time::Duration::from_secs(60))
            .await?;
        match said.as_slice() {
            s if s.starts_with(b"ferry-placed") => Ok(true),
            s if s.starts_with(b"ferry-taken") => Ok(false),
            _ => Err(Failure::transient(
                "the server could not link the upload into place",
            )),
        }
    }
}
