//! One job's upload over SFTP, resumable from a temporary name.
//!
//! The bytes go to `.ferry-<job id>.part` beside the target, sent as
//! write requests that several at a time keep in flight: at most `WINDOW`
//! bytes are ever sent but not yet written, and within that window they
//! may land out of order. A later run reads the partial file's last window
//! and `TAIL` bytes back and compares them with the source: it resumes at
//! the first byte that differs (a hole a kill left), or starts over when
//! bytes before the window differ (a changed source, another writer). The
//! whole file is then fsynced (`fsync@openssh.com`) and confirmed by the
//! SHA-256 the server's own tool gives: of a big file, taken while its
//! bytes landed (`sftp_follow`), else hashed now, beside the fsync; a files-only
//! account runs no tool, so there the bytes are hashed as they are sent
//! (as they are on any account until the server has said which it is)
//! and the upload is confirmed by its size; on resume there, the whole
//! prefix kept on the server is read back and compared. It is linked into
//! place (`hardlink@openssh.com`), which never replaces an existing file:
//! the same content there counts as done, other content gets
//! `name (1).ext`. Every step has a deadline, and the writes of a transfer
//! ended early are aborted with it.

use std::io::SeekFrom;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use openssh_sftp_client::Error as SftpError;
use openssh_sftp_client::UnixTimeStamp;
use openssh_sftp_client::error::SftpErrorKind;
use openssh_sftp_client::file::File as RemoteFile;
use openssh_sftp_client::metadata::MetaDataBuilder;
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::follow::Following;
use super::names::{partial_path, relative_path, response};
use super::{Link, SftpRoute};

#[path = "sftp_place.rs"]
mod place;
pub(super) use place::make_folders;
#[path = "sftp_readback.rs"]
mod readback;
#[path = "sftp_windows.rs"]
mod windows;
use crate::digest::{FileStat, Sha256};
use crate::journal::job::{ErrorClass, Job, Response};
use crate::report::{Event, Phase, Reporter};
use crate::upload::http::{self, Activity, Failure, within_idle};
use bytes::Bytes;
use readback::{hash_prefix, prefix_sha256, read_back};
use windows::SourceWindows;

/// Bytes before a partial file's last window read back and compared with
/// the source: they must be this file's, or the upload starts over.
const TAIL: u64 = 1 << 20;
/// Bytes sent but not yet written on one file, at most: what a kill can
/// lose. Read and hashed a half at a time, sent as `CHUNK`-byte requests.
/// 8 MiB rather than 2 took 0.2 s off 1 GiB to a loopback sshd (the
/// round trips of a busy server stall less).
pub const WINDOW: usize = 8 << 20;
/// One write request's bytes (OpenSSH's sftp-server takes up to 255 KiB).
const CHUNK: usize = 255 << 10;
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
    let (mut failures, mut attempts, mut best) = (0, 0, 0);
    let mut restarted = false;
    // The furthest byte the server confirmed, all attempts together.
    let confirmed = AtomicU64::new(0);
    loop {
        attempts += 1;
        let attempt = async {
            let (slot, link) = route.link().await?;
            let upload = Upload {
                route,
                link: &link,
                confirmed: &confirmed,
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
            Err(Failure::Transient { retry_after, .. })
                if failures < route.retries && attempts <= 10 * (route.retries + 1) =>
            {
                // Failures in a row: an attempt that got further than any before
                // starts the count again (ten times --retries attempts, at most).
                let reached = confirmed.load(Ordering::Relaxed);
                if reached > best {
                    (best, failures) = (reached, 0);
                }
                tokio::time::sleep(http::backoff(failures, retry_after)).await;
                failures += 1;
                activity.retrying();
            }
            result => return result,
        }
    }
}

/// A failure of an SFTP request: the server's refusal of this file is
/// the job's, a lost connection or a server-side fault is transient.
pub(super) fn failure(doing: &str, error: SftpError) -> Failure {
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
    /// The furthest byte the server confirmed: written, or kept from
    /// before and checked (progress counts what was handed over).
    confirmed: &'a AtomicU64,
    job: &'a Job,
    activity: &'a Arc<Activity>,
    reporter: &'a dyn Reporter,
    idle: std::time::Duration,
}

impl Upload<'_> {
    async fn run(&self, restarted: &mut bool) -> Result<Response, Failure> {
        let resource = &self.job.resource;
        let relative = &self
            .route
            .stored_name(relative_path(resource.target_path().as_path())?)
            .await?;
        let target = self.route.target(relative);
        let folder = target.parent().unwrap_or(Path::new("/")).to_owned();
        let temp = partial_path(&target, &self.job.id);
        let temp_folder = temp.parent().unwrap_or(Path::new("."));
        let source_path = resource.source();
        let opened = crate::digest::open_regular(&source_path).map(tokio::fs::File::from_std);
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
        let idle = self.idle;
        let mut file = within(idle, "opening", self.open_temp(temp_folder, &temp)).await?;
        let size_now = async {
            (file.metadata().await).map_err(|e| failure("reading the partial file's size", e))
        };
        let mut offset = within(idle, "asking", size_now).await?.len().unwrap_or(0);
        let limit = super::hash_limit(resource.size);
        if offset == 0
            && let Some(placed) =
                within(limit, "looking", self.already_there(&target, relative)).await?
        {
            let _ = file.close().await;
            let _ = self.link.sftp.fs().remove_file(&temp).await;
            return Ok(placed);
        }
        let resume = self.resume_point(&mut file, &mut source, offset);
        let resume = within(idle, "reading back", resume).await?;
        if resume != offset {
            let cut = async {
                (file.set_len(resume).await)
                    .map_err(|e| failure("cutting the partial file back", e))
            };
            within(idle, "cutting", cut).await?;
            offset = resume;
        }
        // The server's own SHA-256 confirms a shell account's upload; a
        // files-only account's is confirmed by size, so the bytes sent
        // are hashed here (the prefix read back from the source). The
        // first bytes do not wait for the server to say which it is: until
        // it has, they are hashed here as well.
        let tool = match offset {
            0 => self.route.known_tool(),
            _ => {
                let asking = self.route.hash_tool();
                Some(within(idle, "asking which hash tool the account has", asking).await?)
            }
        };
        let mut hasher = match tool {
            Some(Some(_)) => None,
            _ => Some(sha2::Sha256::new()),
        };
        if let Some(hasher) = hasher.as_mut() {
            hash_prefix(&mut source, offset, hasher).await?;
            // Only the size will confirm this upload: the whole prefix
            // kept on the server must be the source's (a server crash can
            // lose pages anywhere in a file never synced).
            if offset > 0 {
                let limit = super::hash_limit(offset);
                let theirs = within(limit, "reading back", prefix_sha256(&file, offset));
                if theirs.await? != Sha256(hasher.clone().finalize().into()) {
                    file.set_len(0)
                        .await
                        .map_err(|e| failure("emptying the partial file", e))?;
                    (offset, *hasher) = (0, sha2::Sha256::new());
                }
            }
        }
        let resumed_at = offset;
        self.activity.starts_at(offset);
        self.confirmed.fetch_max(offset, Ordering::Relaxed);
        self.reporter.event(Event::Phase {
            job: self.job,
            phase: Phase::Uploading { from: offset },
        });
        let left = resource.size - offset;
        let mut checks = Checks {
            hasher,
            following: tool
                .and_then(|tool| Following::worth(&self.link.session, tool, &temp, left)),
            tool_unknown: tool.is_none(),
        };
        let send = self.send(&mut source, &file, offset, &mut checks, &temp);
        within_idle(self.activity, self.idle, send).await?;
        let Checks {
            hasher, following, ..
        } = checks;
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
        // before the rename. The file keeps the source's modification time
        // (whole seconds in SFTP), if the server lets it.
        let syncing = async {
            if let Ok(at) = UnixTimeStamp::new(resource.modified()) {
                let times = MetaDataBuilder::new().time(at, at).create();
                let _ = file.set_metadata(times).await;
            }
            match self.link.sftp.support_fsync() {
                true => (file.sync_all().await).map_err(|e| failure("syncing the partial file", e)),
                false => Ok(()),
            }
        };
        let both = async {
            let (synced, confirmed) = tokio::join!(syncing, self.confirm(&temp, following));
            synced.map(|()| confirmed)
        };
        // A follower's time (bounded in `finish`), then a whole hash's.
        let both = within(limit.saturating_mul(2), "syncing and hashing", both);
        let confirmed = both.await?;
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
            within(idle, "making folders", self.make_folders(&folder)).await?;
        }
        let placing = self.place(&temp, &target, relative);
        let (placed, identical) = within(limit, "placing", placing).await?;
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

    /// A whole earlier upload already at the target (a run killed after
    /// its rename, before its record): done, without sending it again.
    async fn already_there(
        &self,
        target: &Path,
        relative: &Path,
    ) -> Result<Option<Response>, Failure> {
        let Ok(meta) = self.link.sftp.fs().metadata(target).await else {
            // Missing, or a name the SFTP library cannot send: upload.
            return Ok(None);
        };
        if meta.len() != Some(self.job.resource.size) || self.route.hash_tool().await?.is_none() {
            return Ok(None);
        }
        let limit = super::hash_limit(self.job.resource.size);
        match self.route.server_sha256(self.link, target, limit).await? {
            Some(found) if found == self.job.resource.sha256 => {
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
        let theirs = read_back(file, from, size - from)
            .await
            .map_err(|e| failure("reading back the partial file", e))?;
        let same = ours
            .iter()
            .zip(theirs.iter())
            .take_while(|(a, b)| a == b)
            .count() as u64;
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
        checks: &mut Checks,
        temp: &Path,
    ) -> Result<(), Failure> {
        // Aborted when dropped: a transfer ended early (an error, the
        // window, Ctrl-C) leaves no writes going on behind its retry.
        type Writes = Vec<tokio_util::task::AbortOnDropHandle<Result<(), SftpError>>>;
        let size = self.job.resource.size;
        let half = (WINDOW / 2) as u64;
        let mut windows = SourceWindows::of(source).await.map_err(local)?;
        let mut in_flight: std::collections::VecDeque<(u64, Bytes, Writes)> = Default::default();
        let mut behind = crate::drop_behind::DropBehind::from(offset);
        loop {
            if checks.tool_unknown
                && let Some(tool) = self.route.known_tool()
            {
                // A shell account: the server's own hash confirms.
                checks.tool_unknown = false;
                if tool.is_some() {
                    checks.hasher = None;
                    checks.following =
                        Following::worth(&self.link.session, tool, temp, size - offset);
                }
            }
            let next = match offset < size {
                true => Some(
                    self.read_window(&mut windows, offset, (size - offset).min(half))
                        .await?,
                ),
                false => None,
            };
            let most = if next.is_some() { 1 } else { 0 };
            while in_flight.len() > most {
                let (written_to, window, writes) = in_flight.pop_front().expect("not empty");
                for write in writes {
                    let written = write.await.map_err(|e| Failure::transient(e.to_string()))?;
                    written.map_err(|e| failure("writing", e))?;
                }
                windows.give_back(window);
                self.activity.touch();
                if let Some(following) = checks.following.as_mut() {
                    following.settled(written_to).await;
                }
                self.confirmed.fetch_max(written_to, Ordering::Relaxed);
                behind.sent_to(windows.file(), written_to);
            }
            let Some(window) = next else {
                behind.drop_to(windows.file(), offset);
                return Ok(());
            };
            if let Some(hasher) = checks.hasher.as_mut() {
                hasher.update(&window);
            }
            let mut writes = Writes::new();
            let mut at = 0;
            while at < window.len() {
                let chunk = window.slice(at..window.len().min(at + CHUNK));
                // Paced a request at a time: a low --bwlimit sends
                // evenly, not a half window at once.
                self.activity.pace(chunk.len() as u64).await;
                let (mut file, start) = (file.clone(), offset + at as u64);
                let activity = self.activity.clone();
                at += chunk.len();
                // Handed over, as an HTTP body counts its bytes: progress
                // moves with each request, not each half window.
                (self.activity.sent).fetch_add(chunk.len() as u64, Ordering::Relaxed);
                (self.activity.position).store(offset + at as u64, Ordering::Relaxed);
                writes.push(tokio_util::task::AbortOnDropHandle::new(tokio::spawn(
                    async move {
                        file.seek(SeekFrom::Start(start)).await?;
                        file.write_all_zero_copy(&mut [chunk]).await?;
                        // Each request written is the link moving.
                        activity.touch();
                        Ok(())
                    },
                )));
            }
            offset += window.len() as u64;
            in_flight.push_back((offset, window, writes));
        }
    }

    /// The source's `len` bytes at `at`.
    async fn read_window(
        &self,
        windows: &mut SourceWindows,
        at: u64,
        len: u64,
    ) -> Result<Bytes, Failure> {
        match windows.read(at, len as usize).await.map_err(local)? {
            Some(window) => Ok(window),
            None => Err(Failure::changed_since_scan(
                &self.job.resource.source(),
                "it is shorter than when it was scanned",
            )),
        }
    }

    /// Checks the partial file whole: the server's SHA-256 when it runs
    /// commands, else its size. How it was confirmed.
    async fn confirm(
        &self,
        temp: &Path,
        following: Option<Following>,
    ) -> Result<&'static str, Unconfirmed> {
        let resource = &self.job.resource;
        // A follower's digest can only confirm; else the whole is hashed.
        if let Some(following) = following
            && following.finish(resource.size).await == Some(resource.sha256)
        {
            return Ok("sha256");
        }
        let limit = super::hash_limit(resource.size);
        match self.route.server_sha256(self.link, temp, limit).await {
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
}

/// How the bytes sent will be confirmed, settled while they go.
struct Checks {
    /// The bytes hashed here: on a files-only account, and until the
    /// server has said it is not one.
    hasher: Option<sha2::Sha256>,
    /// The server's hash of a big file, taken while it lands.
    following: Option<Following>,
    /// The server has not said yet what the account may run.
    tool_unknown: bool,
}

enum Unconfirmed {
    /// The server holds other bytes than the source's.
    Differs(String),
    Failed(Failure),
}

/// What the destination holds at `path`: the server's own hash when it
/// runs commands, else the file read back and hashed here.
pub async fn remote_sha256(
    route: &SftpRoute,
    link: &Link,
    path: &Path,
    size: u64,
) -> Result<Sha256, Failure> {
    if let Some(found) = route
        .server_sha256(link, path, super::hash_limit(size))
        .await?
    {
        return Ok(found);
    }
    let mut file = (link.sftp.open(path).await).map_err(|e| failure("reading back a file", e))?;
    // Its own length, not the one expected: a longer file must not pass.
    let meta = (file.metadata().await).map_err(|e| failure("reading back a file", e))?;
    prefix_sha256(&file, meta.len().unwrap_or(0)).await
}

/// Removes a cancelled job's partial upload, if there is one.
pub async fn discard(route: &SftpRoute, job: &Job) -> Result<(), Failure> {
    let relative =
        (route.stored_name(relative_path(job.resource.target_path().as_path())?)).await?;
    let temp = partial_path(&route.target(&relative), &job.id);
    let (_, link) = route.link().await?;
    match link.sftp.fs().remove_file(&temp).await {
        Err(error) if !is_missing(&error) => Err(failure("removing the partial upload", error)),
        _ => Ok(()),
    }
}

fn local(error: std::io::Error) -> Failure {
    Failure::permanent(ErrorClass::File, error.to_string())
}

/// `step` ended as transient when the server takes over `limit`: a hung
/// server never holds a job (or the link it shares) for ever.
pub(super) async fn within<T>(
    limit: std::time::Duration,
    doing: &str,
    step: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(limit, step).await {
        Ok(result) => result,
        Err(_) => Err(Failure::transient(format!(
            "the server did not finish {doing} within {}",
            humantime::format_duration(limit)
        ))),
    }
}
