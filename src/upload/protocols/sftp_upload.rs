//! One job's upload over SFTP, resumable from a temporary name.
//!
//! The bytes go to `.ferry-<job id>.part` beside the target, sent as
//! write requests that several at a time keep in flight: at most `WINDOW`
//! bytes are ever sent but not yet written, and within that window they
//! may land out of order. A later run reads the partial file's last window
//! and `TAIL` bytes back and compares them with the source: it resumes at
//! the first byte that differs (a hole a kill left), or starts over when
//! bytes before the window differ (a changed source, another writer). The
//! whole file is then fsynced (`fsync@openssh.com`) while the server
//! hashes it with its own tool, and confirmed by that SHA-256; a files-only
//! account runs no tool, so there the bytes are hashed as they are sent
//! and the upload is confirmed by its size. It is renamed into place with
//! SFTP's plain rename, which never replaces an existing file: the same
//! content there counts as done, other content gets `name (1).ext`.

use std::io::SeekFrom;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use openssh_sftp_client::Error as SftpError;
use openssh_sftp_client::error::SftpErrorKind;
use openssh_sftp_client::file::File as RemoteFile;
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::names::{numbered, partial_path, relative_path, response};
use super::{Link, SftpRoute};
use crate::digest::{FileStat, Sha256};
use crate::journal::job::{ErrorClass, Job, Response};
use crate::report::{Event, Phase, Reporter};
use crate::upload::http::{self, Activity, Failure, within_idle};

/// Bytes before a partial file's last window read back and compared with
/// the source: they must be this file's, or the upload starts over.
const TAIL: u64 = 1 << 20;
/// Source bytes read at a time where nothing is sent (a prefix hashed).
const BUFFER: usize = 1 << 20;
/// Bytes sent but not yet written on one file, at most: what a kill can
/// lose. Read and hashed as one buffer, sent as `CHUNK`-byte requests.
pub const WINDOW: usize = 2 << 20;
/// One write request's bytes (OpenSSH's sftp-server takes up to 255 KiB).
const CHUNK: usize = 255 << 10;
/// Bytes asked for in one read request (within any server's limit).
const READ: u64 = 64 << 10;
/// Names tried beside a different file, `name (1).ext` onwards.
const MAX_RENAMES: u32 = 1000;

/// One job's upload to `route`, retried on transient faults (a broken
/// connection is reopened) up to `--retries` times in a row.
pub async fn transfer(
    route: &SftpRoute,
    job: &Job,
    activity: &Arc<Activity>,
    reporter: &dyn Reporter,
    idle: std::time::Duration,
) -> Result<Response, Failure> {
    let mut failures = 0;
    let mut restarted = false;
    loop {
        let attempt = async {
            let (slot, link) = route.link().await?;
            let upload = Upload {
                route,
                link: &link,
                job,
                activity,
                reporter,
                idle,
            };
            let result = upload.run(&mut restarted).await;
            if matches!(result, Err(Failure::Transient { .. })) {
                route.broken(slot, &link);
            }
            result
        };
        match attempt.await {
            Err(Failure::Transient { retry_after, .. }) if failures < route.retries => {
                tokio::time::sleep(http::backoff(failures, retry_after)).await;
                failures += 1;
            }
            result => return result,
        }
    }
}

/// A failure of an SFTP request: the server's refusal of this file is
/// the job's, a lost connection or a server-side fault is transient.
fn failure(doing: &str, error: SftpError) -> Failure {
    match &error {
        SftpError::SftpError(SftpErrorKind::PermDenied | SftpErrorKind::NoSuchFile, said) => {
            Failure::permanent(ErrorClass::Server, format!("{doing}: {}", said.get().0))
        }
        SftpError::SftpError(_, said) => Failure::transient(format!("{doing}: {}", said.get().0)),
        _ => Failure::transient(format!("{doing}: {error}")),
    }
}

fn is_missing(error: &SftpError) -> bool {
    matches!(error, SftpError::SftpError(SftpErrorKind::NoSuchFile, _))
}

struct Upload<'a> {
    route: &'a SftpRoute,
    link: &'a Arc<Link>,
    job: &'a Job,
    activity: &'a Arc<Activity>,
    reporter: &'a dyn Reporter,
    idle: std::time::Duration,
}

impl Upload<'_> {
    async fn run(&self, restarted: &mut bool) -> Result<Response, Failure> {
        let resource = &self.job.resource;
        let relative = relative_path(resource.path.as_path())?;
        let target = self.route.target(relative);
        let folder = target.parent().unwrap_or(Path::new("/")).to_owned();
        if target.to_str().is_none() && self.route.hash_tool.is_none() {
            return Err(Failure::permanent(
                ErrorClass::Server,
                format!(
                    "{}: the name is not UTF-8, and ferry's SFTP library sends UTF-8 names only; such names go through the server's shell, which this files-only account does not have",
                    relative.display()
                ),
            ));
        }
        let temp = partial_path(&target, &self.job.id);
        let temp_folder = temp.parent().unwrap_or(Path::new("."));
        let source_path = resource.source();
        let opened = tokio::fs::File::open(&source_path).await;
        let before = match &opened {
            Ok(file) => Some(FileStat::of(&file.metadata().await.map_err(local)?)),
            Err(_) => None,
        };
        let changed = match before.as_ref() {
            None => Some("it is gone"),
            Some(now) => resource.stat().what_changed(now),
        };
        if let Some(what) = changed {
            // Bytes of the old content must never be resumed onto.
            let _ = self.link.sftp.fs().remove_file(&temp).await;
            return Err(Failure::changed_since_scan(&source_path, what));
        }
        let (Ok(mut source), Some(before)) = (opened, before) else {
            return Err(Failure::changed_since_scan(&source_path, "it is gone"));
        };
        let mut file = self.open_temp(temp_folder, &temp).await?;
        let mut offset = (file.metadata().await)
            .map_err(|e| failure("reading the partial file's size", e))?
            .len()
            .unwrap_or(0);
        if offset == 0
            && let Some(placed) = self.already_there(&target).await?
        {
            let _ = file.close().await;
            let _ = self.link.sftp.fs().remove_file(&temp).await;
            return Ok(placed);
        }
        let resume = self.resume_point(&mut file, &mut source, offset).await?;
        if resume != offset {
            file.set_len(resume)
                .await
                .map_err(|e| failure("cutting the partial file back", e))?;
            offset = resume;
        }
        let resumed_at = offset;
        // The server's own SHA-256 confirms a shell account's upload; a
        // files-only account's is confirmed by size, so the bytes sent
        // are hashed here (the prefix read back from the source).
        let mut hasher = self.route.hash_tool.is_none().then(sha2::Sha256::new);
        if let Some(hasher) = hasher.as_mut() {
            hash_prefix(&mut source, offset, hasher).await?;
        }
        self.activity.starts_at(offset);
        self.reporter.event(Event::Phase {
            job: self.job,
            phase: Phase::Uploading { from: offset },
        });
        let send = self.send(&mut source, &file, offset, hasher.as_mut());
        within_idle(self.activity, self.idle, send).await?;
        let after = FileStat::of(&source.metadata().await.map_err(local)?);
        if after != before {
            return Err(Failure::changed_since_scan(
                &source_path,
                "it was modified while being sent",
            ));
        }
        if hasher.is_some_and(|hasher| Sha256(hasher.finalize().into()) != resource.sha256) {
            return Err(Failure::changed_since_scan(
                &source_path,
                "its content no longer has the scanned SHA-256",
            ));
        }
        self.reporter.event(Event::Phase {
            job: self.job,
            phase: Phase::Verifying,
        });
        // The server hashes the bytes while they go to its disk: both
        // before the rename.
        let syncing = async {
            match self.link.sftp.support_fsync() {
                true => file.sync_all().await,
                false => Ok(()),
            }
        };
        let (synced, confirmed) = tokio::join!(syncing, self.confirm(&temp));
        synced.map_err(|e| failure("syncing the partial file", e))?;
        let _ = file.close().await;
        let confirmed = match confirmed {
            Ok(how) => how,
            Err(Unconfirmed::Differs(said)) => {
                let _ = self.link.sftp.fs().remove_file(&temp).await;
                if resumed_at > 0 && !*restarted {
                    // The prefix kept from the earlier run may be what
                    // differs: send the whole file once more.
                    *restarted = true;
                    return Err(Failure::transient(said));
                }
                return Err(Failure::permanent(ErrorClass::Server, said));
            }
            Err(Unconfirmed::Failed(failure)) => return Err(failure),
        };
        if folder != temp_folder {
            self.make_folders(&folder).await?;
        }
        let (placed, identical) = self.place(&temp, &target, relative).await?;
        Ok(response(&placed, identical, confirmed))
    }

    /// Opens the partial file for writing, making its folders if missing.
    async fn open_temp(&self, folder: &Path, temp: &Path) -> Result<RemoteFile, Failure> {
        let open = || async {
            let mut options = self.link.sftp.options();
            options.read(true).write(true).create(true);
            options.open(temp).await
        };
        match open().await {
            Err(error) if is_missing(&error) => {
                self.make_folders(folder).await?;
                open()
                    .await
                    .map_err(|e| failure("creating the partial file", e))
            }
            other => other.map_err(|e| failure("opening the partial file", e)),
        }
    }

    /// `mkdir -p` over SFTP: each missing folder from the top (through
    /// the shell for a name that is not UTF-8).
    async fn make_folders(&self, folder: &Path) -> Result<(), Failure> {
        if folder.to_str().is_none() {
            let mut line = b"mkdir -p -- ".to_vec();
            line.extend(super::shell_quote(folder.as_os_str().as_bytes()));
            self.link
                .run(&line, std::time::Duration::from_secs(60))
                .await?;
            return Ok(());
        }
        let mut fs = self.link.sftp.fs();
        let mut missing = Vec::new();
        for above in folder.ancestors() {
            if above.as_os_str().is_empty() || fs.metadata(above).await.is_ok() {
                break;
            }
            missing.push(above);
        }
        for folder in missing.into_iter().rev() {
            if let Err(error) = fs.create_dir(folder).await
                && fs.metadata(folder).await.is_err()
            {
                return Err(failure(&format!("creating {}", folder.display()), error));
            }
        }
        Ok(())
    }

    /// A whole earlier upload already at the target (a run killed after
    /// its rename, before its record): done, without sending it again.
    async fn already_there(&self, target: &Path) -> Result<Option<Response>, Failure> {
        let Ok(meta) = self.link.sftp.fs().metadata(target).await else {
            // Missing, or a name the SFTP library cannot send: upload.
            return Ok(None);
        };
        if meta.len() != Some(self.job.resource.size) || self.route.hash_tool.is_none() {
            return Ok(None);
        }
        match self.route.server_sha256(self.link, target).await? {
            Some(found) if found == self.job.resource.sha256 => {
                let relative = relative_path(self.job.resource.path.as_path())?;
                Ok(Some(response(relative, true, "sha256")))
            }
            _ => Ok(None),
        }
    }

    /// Where to resume a partial file of `size` bytes: its last `WINDOW`
    /// plus `TAIL` bytes are read back and compared with the source. Writes
    /// land out of order within a window, so a kill can leave a hole there:
    /// the upload resumes at the first byte that differs. A difference
    /// before the last window (where every write had landed) means the
    /// bytes are not this file's: start over (0).
    async fn resume_point(
        &self,
        file: &mut RemoteFile,
        source: &mut tokio::fs::File,
        size: u64,
    ) -> Result<u64, Failure> {
        if size == 0 || size > self.job.resource.size {
            return Ok(0);
        }
        let from = size.saturating_sub(WINDOW as u64 + TAIL);
        let settled = size.saturating_sub(WINDOW as u64);
        let mut ours = vec![0; (size - from) as usize];
        source.seek(SeekFrom::Start(from)).await.map_err(local)?;
        source.read_exact(&mut ours).await.map_err(local)?;
        let mut theirs = Vec::with_capacity(ours.len());
        (file.seek(SeekFrom::Start(from)).await)
            .map_err(|e| Failure::transient(format!("seeking in the partial file: {e}")))?;
        while (theirs.len() as u64) < size - from {
            let want = (size - from - theirs.len() as u64).min(READ) as u32;
            let buffer = bytes::BytesMut::with_capacity(want as usize);
            match file.read(want, buffer).await {
                Ok(Some(read)) if !read.is_empty() => theirs.extend_from_slice(&read),
                Ok(_) => break,
                Err(error) => return Err(failure("reading back the partial file", error)),
            }
        }
        let same = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count() as u64;
        Ok(match from + same {
            differs if differs < settled => 0,
            differs => differs,
        })
    }

    /// Sends the source from `offset` to its end, hashing it: read and
    /// hashed a half window at a time, sent as `CHUNK`-byte requests, with
    /// the next half read while the last two are written. So at most one
    /// window is ever sent but not yet written.
    async fn send(
        &self,
        source: &mut tokio::fs::File,
        file: &RemoteFile,
        mut offset: u64,
        mut hasher: Option<&mut sha2::Sha256>,
    ) -> Result<(), Failure> {
        type Writes = Vec<tokio::task::JoinHandle<Result<(), SftpError>>>;
        let size = self.job.resource.size;
        let half = (WINDOW / 2) as u64;
        source.seek(SeekFrom::Start(offset)).await.map_err(local)?;
        let mut in_flight: std::collections::VecDeque<(u64, Writes)> = Default::default();
        loop {
            let next = match offset < size {
                true => Some(self.read_window(source, (size - offset).min(half)).await?),
                false => None,
            };
            let most = if next.is_some() { 1 } else { 0 };
            while in_flight.len() > most {
                let (written_to, writes) = in_flight.pop_front().expect("not empty");
                for write in writes {
                    let written = write.await.map_err(|e| Failure::transient(e.to_string()))?;
                    written.map_err(|e| failure("writing", e))?;
                }
                self.activity.touch();
                self.activity.position.store(written_to, Ordering::Relaxed);
            }
            let Some(window) = next else {
                return Ok(());
            };
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(&window);
            }
            self.activity.pace(window.len() as u64).await;
            let mut writes = Writes::new();
            let mut at = 0;
            while at < window.len() {
                let chunk = window.slice(at..window.len().min(at + CHUNK));
                let (mut file, start) = (file.clone(), offset + at as u64);
                at += chunk.len();
                writes.push(tokio::spawn(async move {
                    file.seek(SeekFrom::Start(start)).await?;
                    file.write_all_zero_copy(&mut [chunk]).await
                }));
            }
            offset += window.len() as u64;
            self.activity
                .sent
                .fetch_add(window.len() as u64, Ordering::Relaxed);
            in_flight.push_back((offset, writes));
        }
    }

    /// The source's next `len` bytes.
    async fn read_window(
        &self,
        source: &mut tokio::fs::File,
        len: u64,
    ) -> Result<bytes::Bytes, Failure> {
        let mut window = bytes::BytesMut::zeroed(len as usize);
        let mut filled = 0;
        while filled < window.len() {
            match source.read(&mut window[filled..]).await.map_err(local)? {
                0 => {
                    return Err(Failure::changed_since_scan(
                        &self.job.resource.source(),
                        "it is shorter than when it was scanned",
                    ));
                }
                read => filled += read,
            }
        }
        Ok(window.freeze())
    }

    /// Checks the partial file whole: the server's SHA-256 when it runs
    /// commands, else its size. How it was confirmed.
    async fn confirm(&self, temp: &Path) -> Result<&'static str, Unconfirmed> {
        let resource = &self.job.resource;
        match self.route.server_sha256(self.link, temp).await {
            Ok(Some(found)) if found == resource.sha256 => return Ok("sha256"),
            Ok(Some(found)) => {
                return Err(Unconfirmed::Differs(format!(
                    "the server holds SHA-256 {} for the upload, not {}",
                    found.to_hex(),
                    resource.sha256.to_hex()
                )));
            }
            Ok(None) => {}
            Err(failure) => return Err(Unconfirmed::Failed(failure)),
        }
        let meta = (self.link.sftp.fs().metadata(temp).await)
            .map_err(|e| Unconfirmed::Failed(failure("reading the upload's size", e)))?;
        match meta.len() {
            Some(len) if len == resource.size => Ok("size"),
            found => Err(Unconfirmed::Differs(format!(
                "the server holds {} bytes for the upload, not {}",
                found.unwrap_or(0),
                resource.size
            ))),
        }
    }

    /// Renames the confirmed partial file into place, never over another
    /// file: the same content there is success, other content moves the
    /// new file to `name (1).ext` and on. The name placed (relative) and
    /// whether an identical file was already there.
    async fn place(
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
            if name.to_str().is_none() {
                if self.link_into_place(temp, &name).await? {
                    return Ok((placed, false));
                }
            } else {
                let renamed = match fs.rename(temp, &name).await {
                    Ok(()) => return Ok((placed, false)),
                    Err(error) => error,
                };
                if fs.metadata(&name).await.is_err() {
                    return Err(failure("renaming the upload into place", renamed));
                }
            }
            if remote_sha256(self.route, self.link, &name).await? == self.job.resource.sha256 {
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
}

impl Upload<'_> {
    /// Places a name that is not UTF-8 through the shell: a hard link,
    /// which never replaces a file, then the partial name removed. Whether
    /// it was placed (`false`: the name is taken).
    async fn link_into_place(&self, temp: &Path, name: &Path) -> Result<bool, Failure> {
        let (temp, name) = (
            super::shell_quote(temp.as_os_str().as_bytes()),
            super::shell_quote(name.as_os_str().as_bytes()),
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

enum Unconfirmed {
    /// The server holds other bytes than the source's.
    Differs(String),
    Failed(Failure),
}

/// What the destination holds at `path`: the server's own hash when it
/// runs commands, else the file read back and hashed here.
pub async fn remote_sha256(route: &SftpRoute, link: &Link, path: &Path) -> Result<Sha256, Failure> {
    if let Some(found) = route.server_sha256(link, path).await? {
        return Ok(found);
    }
    let mut file = (link.sftp.open(path).await).map_err(|e| failure("reading back a file", e))?;
    let mut hasher = sha2::Sha256::new();
    let most = READ as u32;
    loop {
        let buffer = bytes::BytesMut::with_capacity(most as usize);
        match file.read(most, buffer).await {
            Ok(Some(read)) if !read.is_empty() => {
                hasher.update(&read);
            }
            Ok(_) => break,
            Err(error) => return Err(failure("reading back a file", error)),
        }
    }
    Ok(Sha256(hasher.finalize().into()))
}

/// Removes a cancelled job's partial upload, if there is one.
pub async fn discard(route: &SftpRoute, job: &Job) -> Result<(), Failure> {
    let relative = relative_path(job.resource.path.as_path())?;
    let temp = partial_path(&route.target(relative), &job.id);
    let (_, link) = route.link().await?;
    match link.sftp.fs().remove_file(&temp).await {
        Err(error) if !is_missing(&error) => Err(failure("removing the partial upload", error)),
        _ => Ok(()),
    }
}

fn local(error: std::io::Error) -> Failure {
    Failure::permanent(ErrorClass::File, error.to_string())
}

/// Reads the source's first `len` bytes into `hasher`.
async fn hash_prefix(
    source: &mut tokio::fs::File,
    len: u64,
    hasher: &mut sha2::Sha256,
) -> Result<(), Failure> {
    source.seek(SeekFrom::Start(0)).await.map_err(local)?;
    let mut left = len;
    let mut buffer = vec![0; BUFFER];
    while left > 0 {
        let want = buffer.len().min(left as usize);
        let read = source.read(&mut buffer[..want]).await.map_err(local)?;
        if read == 0 {
            return Err(local(std::io::ErrorKind::UnexpectedEof.into()));
        }
        hasher.update(&buffer[..read]);
        left -= read as u64;
    }
    Ok(())
}
