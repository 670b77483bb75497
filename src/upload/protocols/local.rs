//! The built-in destination: a folder on a local or mounted disk.
//!
//! It behaves like a resumable server without the network. Bytes are appended
//! to `<dest>/.ferry-partial/<job id>.part`, whose length is the offset to
//! resume from, so an interrupted copy loses nothing it wrote. The source's
//! size, mtime and inode are checked before reading (size and mtime after),
//! and the copy is hashed as it is written (an earlier run's prefix read back
//! from the partial file) and compared with the job's SHA-256, so bytes that
//! changed since the scan are never stored under the old hash. The file
//! is then linked into place by `placement::place`, which never overwrites a
//! different file (the same rule `ferry serve` follows).
//!
//! Durability is shared, not paid per file: the copy is written without a
//! sync and gives up its place among the transfers; its recording then waits
//! for a sync of the destination (`GroupSync`) that many copies share, links
//! the file into place, and waits for a second shared sync that makes the
//! new name durable. Only then is the job recorded as succeeded. A crash
//! before the first sync leaves a partial file that the next run hashes
//! before trusting; one before the second leaves a whole file that the next
//! run finds identical at its name.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

use sha2::Digest;

use super::local_settle::{Settler, Unsettled};
use crate::digest::{FileStat, Sha256};
use crate::drop_behind::{DropBehind, WriteBehind};
use crate::group_sync::{Flush, GroupSync};
use crate::journal::job::{ErrorClass, Job, JobId, Resource, Response};
use crate::placement::{self, Placed};
use crate::report::{Event, Phase, Reporter};
use crate::upload::http::{Activity, Failure};

const PARTIAL_DIR: &str = ".ferry-partial";
const BUFFER: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("{path}: changed since scan ({what})")]
    Changed { path: PathBuf, what: String },
    #[error("{path}: vanished since scan")]
    Vanished { path: PathBuf },
    #[error("{path}: not a relative path under the source folder")]
    BadPath { path: PathBuf },
    #[error("stopped at byte {offset}")]
    Stopped { offset: u64 },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What one call to `copy` did.
#[derive(Debug, PartialEq, Eq)]
pub struct Copied {
    /// Where this call started: bytes already there from an earlier run.
    pub resumed_at: u64,
}

pub struct LocalFolder {
    dir: PathBuf,
    partial: PathBuf,
    /// The syncs that copies share.
    group: Arc<GroupSync>,
    settler: Settler,
}

impl LocalFolder {
    pub fn open(dir: &Path) -> io::Result<LocalFolder> {
        LocalFolder::open_with(dir, None)
    }

    /// `flush`: how to sync, or `None` for what the folder's file system
    /// allows (asked once the folder exists).
    pub fn open_with(dir: &Path, flush: Option<Flush>) -> io::Result<LocalFolder> {
        let partial = dir.join(PARTIAL_DIR);
        fs_err::create_dir_all(&partial)?;
        let flush = flush.unwrap_or_else(|| Flush::for_folder(dir));
        let group = GroupSync::open(&partial, flush)?;
        Ok(LocalFolder {
            dir: dir.to_owned(),
            settler: Settler::new(group.clone()),
            group,
            partial,
        })
    }

    /// The job's partial file. A job ID read from a damaged journal could
    /// be anything, so only hex digits may become a file name.
    fn partial_path(&self, job: &JobId) -> io::Result<PathBuf> {
        let id = job.as_str();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("job ID {id:?} is not hexadecimal"),
            ));
        }
        Ok(self.partial.join(format!("{id}.part")))
    }

    /// Bytes of the job already copied (0 when none).
    pub fn offset(&self, job: &JobId) -> io::Result<u64> {
        match std::fs::metadata(self.partial_path(job)?) {
            Ok(meta) => Ok(meta.len()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(error),
        }
    }

    /// Forgets a cancelled job's partial copy.
    pub fn discard(&self, job: &JobId) -> io::Result<()> {
        placement::remove_if_there(&self.partial_path(job)?)
    }

    /// Copies the job's file into its partial file, resuming a partial
    /// copy, and checks the whole copy against the job's SHA-256. Nothing
    /// is synced: `place_durably` waits for the shared syncs. `progress`
    /// gets the offset after each buffer; setting `stop` ends the copy after
    /// the current buffer, with what was copied kept.
    pub fn copy(
        &self,
        job: &JobId,
        resource: &Resource,
        progress: &mut dyn FnMut(u64),
        stop: &AtomicBool,
    ) -> Result<Copied, LocalError> {
        let source = resource.source();
        relative_path(resource)?;
        let changed = |what: &str| LocalError::Changed {
            path: source.clone(),
            what: what.to_owned(),
        };
        let vanished = |error: io::Error| match error.kind() {
            io::ErrorKind::NotFound => LocalError::Vanished {
                path: source.clone(),
            },
            _ => LocalError::Io(error),
        };
        let mut input = crate::digest::open_regular(&source).map_err(vanished)?;
        let before = FileStat::of(&input.metadata()?);
        if let Some(what) = resource.stat().what_changed(&before) {
            return Err(changed(what));
        }

        let partial_path = self.partial_path(job)?;
        let mut partial = fs_err::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&partial_path)?;
        let mut offset = partial.metadata()?.len();
        if offset > resource.size {
            partial.set_len(0)?;
            offset = 0;
        }
        let resumed_at = offset;
        let mut buffer = vec![0; BUFFER.min(resource.size.max(1) as usize)];
        // The copy is hashed as it is written: what an earlier run wrote is
        // read back once, and the rest is hashed from the bytes written.
        let mut hasher = sha2::Sha256::new();
        let mut prefix = (&mut partial).take(offset);
        loop {
            match prefix.read(&mut buffer)? {
                0 => break,
                read => hasher.update(&buffer[..read]),
            }
        }
        input.seek(SeekFrom::Start(offset))?;
        // Where the copy starts, before its first buffer.
        progress(offset);
        let mut behind = DropBehind::from(offset);
        let mut written = WriteBehind::from(offset);
        while offset < resource.size {
            behind.sent_to(&input, offset);
            written.written_to(partial.file(), offset);
            if stop.load(Ordering::Relaxed) {
                partial.sync_data()?;
                return Err(LocalError::Stopped { offset });
            }
            let wanted = buffer.len().min((resource.size - offset) as usize);
            let read = input.read(&mut buffer[..wanted])?;
            if read == 0 {
                partial.sync_data()?;
                return Err(changed("it is shorter than when it was scanned"));
            }
            partial.write_all(&buffer[..read])?;
            hasher.update(&buffer[..read]);
            offset += read as u64;
            progress(offset);
        }
        behind.drop_to(&input, offset);
        // Of the open file: the bytes copied are its bytes, whatever its
        // name holds now.
        let after = FileStat::of(&input.metadata()?);
        if after != before {
            return Err(changed("it was modified while being copied"));
        }
        let copied = Sha256(hasher.finalize().into());
        if copied != resource.sha256 {
            self.discard(job)?;
            if resumed_at > 0 {
                // The partial copy itself may be what differs (a crash
                // before its data reached the disk leaves zeros or less):
                // copy the whole file once more before blaming the source.
                return self.copy(job, resource, progress, stop);
            }
            return Err(changed("its content no longer has the scanned SHA-256"));
        }
        // The copy keeps the source's modification time, as rclone's does:
        // for a photo without a date inside, it is the only date there is.
        partial.file().set_modified(resource.modified())?;
        Ok(Copied { resumed_at })
    }

    /// Links a verified copy into place, never over a different file.
    /// Makes nothing durable by itself.
    fn place(&self, job: &JobId, resource: &Resource) -> Result<Placed, LocalError> {
        let relative = relative_path(resource)?;
        let partial_path = self.partial_path(job)?;
        let no_sync = |_: &Path| Ok(());
        Ok(placement::place(
            &self.dir,
            relative,
            &partial_path,
            &resource.sha256,
            &|_| None,
            &no_sync,
        )?)
    }

    /// After `copy`: the copy's data made durable by a sync shared with
    /// other copies, then the file linked into place and its name made
    /// durable by another (`local_settle`).
    pub async fn place_durably(
        self: &Arc<Self>,
        job: &JobId,
        resource: &Resource,
    ) -> Result<Placed, Unsettled> {
        let (folder, owned_job, owned) = (self.clone(), job.clone(), resource.clone());
        let place = Box::new(move || {
            let placed = folder
                .place(&owned_job, &owned)
                .map_err(|error| match error {
                    LocalError::Io(error) => error,
                    other => io::Error::other(other.to_string()),
                })?;
            let target = folder.dir.join(&placed.relative);
            let parent = target.parent().unwrap_or(&folder.dir);
            let changed = placement::folders_up_to(parent, &folder.dir);
            Ok((placed, changed.into_iter().map(Path::to_owned).collect()))
        });
        let partial = self.partial_path(job).map_err(Unsettled::Place)?;
        self.settler.settle(partial, place).await
    }

    /// Shared syncs run so far.
    pub fn syncs(&self) -> u64 {
        self.group.syncs()
    }
}

/// Where the resource lands, if that is a plain relative path.
fn relative_path(resource: &Resource) -> Result<&Path, LocalError> {
    let relative = resource.target_path().as_path();
    if !super::is_plain_relative(relative) {
        return Err(LocalError::BadPath {
            path: relative.to_owned(),
        });
    }
    Ok(relative)
}

/// Runs the copy on the blocking pool for the engine, with progress and the
/// run's cancellation. The copy is verified but not yet placed: `settle`
/// does that once its batch is durable.
pub async fn transfer(
    folder: Arc<LocalFolder>,
    job: &Job,
    activity: &Arc<Activity>,
    reporter: &Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<(), Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let (owned, progress, reporter) = (job.clone(), activity.clone(), reporter.clone());
    let stop_on_cancel = {
        let stop = stop.clone();
        tokio::spawn(async move {
            cancel.cancelled().await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let copied = tokio::task::spawn_blocking(move || {
        copy_reporting(&folder, &owned, &progress, reporter.as_ref(), &stop)
    })
    .await
    .map_err(|error| Failure::permanent(ErrorClass::File, error.to_string()));
    stop_on_cancel.abort();
    match copied? {
        Ok(copied) => {
            activity.starts_at(copied.resumed_at);
            activity
                .sent
                .store(job.resource.size - copied.resumed_at, Ordering::Relaxed);
            Ok(())
        }
        Err(LocalError::Stopped { .. }) => Err(Failure::Stopped),
        Err(LocalError::Io(error)) => Err(Failure::of_local_write(&error, error.to_string())),
        Err(error) => Err(Failure::permanent(ErrorClass::File, error.to_string())),
    }
}

/// `LocalFolder::copy` with the job's phases and progress reported, on a
/// blocking thread. Under a bandwidth limit, each buffer after the first
/// waits its turn as bodies do, a slice at a time.
fn copy_reporting(
    folder: &LocalFolder,
    job: &Job,
    progress: &Activity,
    reporter: &dyn Reporter,
    stop: &AtomicBool,
) -> Result<Copied, LocalError> {
    // The first call says where the copy starts (0, or where a partial
    // copy ends).
    let mut paced_to: Option<u64> = None;
    let mut count = |offset| {
        match paced_to.replace(offset) {
            None if offset < job.resource.size => reporter.event(Event::Phase {
                job,
                phase: Phase::Uploading { from: offset },
            }),
            Some(before) if !progress.throttles.is_empty() => {
                // A slice at a time, as bodies go, so that a stop (Ctrl-C,
                // the window's end) ends the wait within one slice.
                let runtime = tokio::runtime::Handle::current();
                let slice = progress.slice().unwrap_or(usize::MAX).max(1) as u64;
                let mut left = offset.saturating_sub(before);
                while left > 0 && !stop.load(Ordering::Relaxed) {
                    let step = left.min(slice);
                    runtime.block_on(progress.pace(step));
                    left -= step;
                }
            }
            _ => {}
        }
        progress.sent.store(offset, Ordering::Relaxed);
        progress.position.store(offset, Ordering::Relaxed);
        if offset == job.resource.size {
            // The copy is whole; `copy` checks its hash.
            reporter.event(Event::Phase {
                job,
                phase: Phase::Verifying,
            });
        }
    };
    folder.copy(&job.id, &job.resource, &mut count, stop)
}

/// After `transfer`, outside the transfers' places: the copy placed once
/// durable, answered as an HTTP upload would be. `Err` when nothing can be
/// made durable in the folder now, which stops the run (the job stays
/// queued); a copy that cannot be placed fails its job alone.
pub async fn settle(
    folder: &Arc<LocalFolder>,
    job: &Job,
) -> Result<Result<Response, Failure>, String> {
    let placed = match folder.place_durably(&job.id, &job.resource).await {
        Ok(placed) => placed,
        Err(Unsettled::Place(error)) => {
            return Ok(Err(Failure::of_local_write(&error, error.to_string())));
        }
        Err(Unsettled::Sync(error)) => return Err(error.to_string()),
    };
    Ok(Ok(super::placed_response(
        &placed.relative,
        placed.identical,
    )))
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
