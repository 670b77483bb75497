//! Partial uploads on the receiving side, durable across restarts.
//!
//! Each upload is two files in `<dir>/.ferry-uploads/`: `<id>.json`, its
//! description (written once through a temp file and rename, rewritten only
//! when a deferred length becomes known), and `<id>.part`, the bytes received
//! so far. The offset is the length of the part file, synced at the end of
//! each append, so there is no second copy of it to drift: after a crash or a
//! restart the server reports exactly what is on disk. Appends and placements
//! that end together share one sync (`GroupSync`: a `syncfs` on Linux), so
//! many small uploads do not pay a sync each, and none is answered before
//! its sync has ended. Finishing verifies the
//! SHA-256 of the whole upload before the file is placed (computed as the
//! bytes arrived, or read from the part file after a restart), and keeps the
//! description (marked completed) so a client that missed the last response
//! can still learn that its upload landed. Expiry is measured from the last
//! write (the files' mtime), so an active upload never needs a rewrite to
//! stay alive. An upload whose one request carries it whole creates its
//! part file only: its description is held in memory, then kept as a line
//! of `completed.jsonl` (`whole`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sha2::Digest;

use super::appender::Appender;
pub use super::described::{Answer, Completed, Forward, Upload, UploadInfo};
use super::forwarded::Forwarded;
use super::running::RunningDigests;
use super::space;
use super::unfinished::{self, Unfinished};
pub use super::upload_error::UploadError;
use super::whole::{Held, WholeUploads};
use crate::digest::{self, FileStat, Sha256};
use crate::group_sync::{Flush, GroupSync};
use crate::journal::job::Timestamp;
use crate::journal::paths::{JournalPath, RawBytes};
use crate::journal::store::Durability;
use crate::placement::{self, Placed, remove_if_there};

const STATE_DIR: &str = crate::wire::SERVE_STATE_DIR;

pub struct UploadStore {
    dir: PathBuf,
    state: PathBuf,
    running: RunningDigests,
    /// What `--forward` passed on: answers for files gone from `dir`.
    pub forwarded: Forwarded,
    /// `--max-size`: no upload grows past it, whenever its length is set.
    max_size: Option<u64>,
    /// `--max-uploads`: how many may be unfinished at once.
    unfinished: Unfinished,
    /// The syncs that uploads finishing together share.
    group: Arc<GroupSync>,
    /// Uploads whose one request carries them whole: no description file.
    whole: WholeUploads,
}

/// An upload's ID is a capability (whoever knows its URL can write to it),
/// so it comes from the operating system's CSPRNG.
fn new_id() -> Result<String, UploadError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| {
        UploadError::Io(io::Error::other(format!("no random upload ID: {error}")))
    })?;
    Ok(hex::encode(bytes))
}

fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl UploadStore {
    /// The folder finished uploads are placed in.
    pub fn root(&self) -> &Path {
        &self.dir
    }

    pub fn open(dir: &Path) -> io::Result<UploadStore> {
        let state = dir.join(STATE_DIR);
        fs_err::create_dir_all(&state)?;
        let mut store = UploadStore {
            dir: dir.to_owned(),
            forwarded: Forwarded::open(&state)?,
            group: GroupSync::open(&state, Flush::for_folder(&state))?,
            running: RunningDigests::default(),
            max_size: None,
            unfinished: Unfinished::new([], unfinished::DEFAULT_LIMIT),
            whole: WholeUploads::open(&state)?,
            state,
        };
        let (uploads, _) = store.uploads().map_err(|error| match error {
            UploadError::Io(error) => error,
            other => io::Error::other(other.to_string()),
        })?;
        let unfinished = uploads.into_iter().filter(|upload| !upload.is_complete());
        store.unfinished = Unfinished::new(
            unfinished.map(|upload| upload.info.id),
            unfinished::DEFAULT_LIMIT,
        );
        Ok(store)
    }

    /// The store with `--max-uploads`: creating one more than `limit`
    /// unfinished uploads is refused until some complete or expire.
    pub fn holding_at_most(mut self, limit: usize) -> UploadStore {
        self.unfinished = self.unfinished.with_limit(limit);
        self
    }

    /// When `--max-uploads` is reached: deletes the unfinished uploads not
    /// written for `unfinished::EVICT_IDLE` (a body is cut after 60 s of
    /// silence, so none is being written), so that clients that created
    /// uploads and went away do not hold every place until they expire.
    fn evict_idle(&self) {
        let now = SystemTime::now();
        for id in self.unfinished.ids() {
            let idle = self.get(&id).is_ok_and(|upload| {
                upload.modified + unfinished::EVICT_IDLE <= now && !upload.is_complete()
            });
            if idle {
                let _ = self.delete(&id);
            }
        }
    }

    /// Refuses an upload that could not fit in the free space of the
    /// store's disk as it is now, before a byte of it arrives.
    fn room_for(&self, bytes: u64) -> Result<(), UploadError> {
        match space::free(&self.state) {
            Some(free) if bytes > free => Err(UploadError::NoSpace {
                length: bytes,
                free,
            }),
            _ => Ok(()),
        }
    }

    /// The store with `--max-size`: every length, declared at creation or
    /// later (tus creation-defer-length, BITS, IETF), and every append
    /// stays within it.
    pub fn limited_to(mut self, max_size: Option<u64>) -> UploadStore {
        self.max_size = max_size;
        self
    }

    fn info_path(&self, id: &str) -> PathBuf {
        self.state.join(format!("{id}.json"))
    }

    fn part_path(&self, id: &str) -> PathBuf {
        self.state.join(format!("{id}.part"))
    }

    /// Replaces the description atomically; `Durability::Lazy` skips the
    /// fsyncs, for a finished upload whose file is already durable in place
    /// (a crash then loses only the tombstone that lets HEAD say "complete").
    /// A whole upload's goes to `WholeUploads` instead, unless it must be
    /// durable (a length set later, `--forward`'s state): from then on it
    /// is described by a file of its own.
    fn write_info(&self, info: &UploadInfo, durability: Durability) -> io::Result<()> {
        let forwarding = (info.completed.as_ref()).is_some_and(|done| done.forward.is_some());
        if durability != Durability::Durable && !forwarding && self.whole.update(info)? {
            return Ok(());
        }
        let text = serde_json::to_vec(info).map_err(io::Error::other)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".info-")
            .tempfile_in(&self.state)?;
        io::Write::write_all(&mut temp, &text)?;
        if durability == Durability::Durable {
            temp.as_file().sync_all()?;
        }
        temp.persist(self.info_path(&info.id))
            .map_err(|error| error.error)?;
        if durability == Durability::Durable {
            File::open(&self.state)?.sync_all()?;
        }
        self.whole.remove(&info.id)?;
        Ok(())
    }

    /// Registers a new upload; its relative path must be safe. An upload
    /// whose one request carries all of it (`whole`) is described in memory
    /// only, until it completes: its URL reaches the client only then (no
    /// 104 is sent), so a crash before leaves nothing anyone could resume,
    /// only a part file that `sweep_expired` removes.
    pub fn create(
        &self,
        relative: &JournalPath,
        length: Option<u64>,
        sha256: Option<Sha256>,
        metadata: BTreeMap<String, Vec<u8>>,
        whole: bool,
    ) -> Result<UploadInfo, UploadError> {
        placement::safe_relative_path(&relative.to_bytes())?;
        if let Some(length) = length {
            self.room_for(length)?;
        }
        let info = UploadInfo {
            id: new_id()?,
            length,
            relative: relative.clone(),
            sha256,
            metadata: metadata
                .into_iter()
                .map(|(key, value)| (key, RawBytes(value)))
                .collect(),
            created_at: Timestamp::now(),
            completed: None,
        };
        if self.unfinished.admit(&info.id).is_err() {
            self.evict_idle();
            self.unfinished
                .admit(&info.id)
                .map_err(UploadError::TooManyUploads)?;
        }
        // Empty: the directory fsync in `write_info` makes its name durable.
        if let Err(error) = File::create(self.part_path(&info.id)) {
            self.unfinished.ended(&info.id);
            return Err(error.into());
        }
        self.running.put(&info.id, 0, sha2::Sha256::new());
        if whole {
            self.whole.begin(&info);
            return Ok(info);
        }
        if let Err(error) = self.write_info(&info, Durability::Durable) {
            let _ = std::fs::remove_file(self.part_path(&info.id));
            self.unfinished.ended(&info.id);
            return Err(error.into());
        }
        Ok(info)
    }

    /// A whole upload whose request ended before it completed, with an
    /// answer that names it: the client may come back to it, so from now on
    /// it is described by a file of its own, as any other upload.
    pub fn describe(&self, id: &str) -> Result<(), UploadError> {
        if let Some(Held::Receiving(info)) = self.whole.get(id)
            && self.part_path(id).exists()
        {
            self.write_info(&info, Durability::Durable)?;
        }
        Ok(())
    }

    /// Marks a whole upload that has no URL (plain `PUT`): it is deleted
    /// once answered, so its completion is not written down.
    pub fn unnamed(&self, id: &str) {
        self.whole.unnamed(id);
    }

    /// The upload, its offset and when it was last written.
    pub fn get(&self, id: &str) -> Result<Upload, UploadError> {
        if !valid_id(id) {
            return Err(UploadError::NotFound(id.to_owned()));
        }
        let not_found = |error: io::Error| match error.kind() {
            io::ErrorKind::NotFound => UploadError::NotFound(id.to_owned()),
            _ => UploadError::Io(error),
        };
        let info = match self.whole.get(id) {
            Some(Held::Completed(info, at)) => {
                let offset = info.length.unwrap_or(0);
                return Ok(Upload {
                    info,
                    offset,
                    modified: at,
                });
            }
            Some(Held::Receiving(info)) => info,
            None => {
                let info_path = self.info_path(id);
                let text = std::fs::read(&info_path).map_err(not_found)?;
                serde_json::from_slice(&text).map_err(|error| {
                    io::Error::other(format!("{}: {error}", info_path.display()))
                })?
            }
        };
        let (offset, modified) = match &info.completed {
            Some(_) => (
                info.length.unwrap_or(0),
                std::fs::metadata(self.info_path(id))?.modified()?,
            ),
            None => {
                let meta = std::fs::metadata(self.part_path(id)).map_err(not_found)?;
                (meta.len(), meta.modified()?)
            }
        };
        Ok(Upload {
            info,
            offset,
            modified,
        })
    }

    /// Like `get`, after making the received bytes durable: bytes a killed
    /// server wrote but never fsynced are fsynced before anyone is told
    /// they arrived.
    pub fn get_durable(&self, id: &str) -> Result<Upload, UploadError> {
        let upload = self.get(id)?;
        if !upload.is_complete() {
            File::open(self.part_path(id))?.sync_data()?;
        }
        Ok(upload)
    }

    /// Starts appending at `offset`, which must be the current one. `limit`
    /// caps the upload's size while its length is unknown.
    pub fn append(
        &self,
        id: &str,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<Appender, UploadError> {
        let upload = self.get(id)?;
        if upload.is_complete() {
            return Err(UploadError::Completed);
        }
        if offset != upload.offset {
            return Err(UploadError::OffsetMismatch {
                claimed: offset,
                actual: upload.offset,
            });
        }
        let file = fs_err::OpenOptions::new()
            .append(true)
            .open(self.part_path(id))?
            .into_file();
        let limit = [upload.info.length, limit, self.max_size]
            .into_iter()
            .flatten()
            .min();
        let digest = self.running.take(id, offset);
        Ok(Appender::new(
            (file, self.part_path(id)),
            offset,
            limit,
            id,
            digest,
            (self.running.clone(), self.group.clone()),
        ))
    }

    /// Sets the length once it is known; it may not be below what already
    /// arrived, and a length set before may only be repeated.
    pub fn set_length(&self, id: &str, length: u64) -> Result<UploadInfo, UploadError> {
        let Upload {
            mut info, offset, ..
        } = self.get(id)?;
        match info.length {
            Some(known) if known == length => return Ok(info),
            Some(known) => return Err(UploadError::LengthAlreadySet(known)),
            None => {}
        }
        if offset > length {
            return Err(UploadError::TooLong { length });
        }
        if let Some(max) = self.max_size.filter(|max| length > *max) {
            return Err(UploadError::OverMaxSize { length, max });
        }
        self.room_for(length - offset)?;
        info.length = Some(length);
        self.write_info(&info, Durability::Durable)?;
        Ok(info)
    }

    /// Records the SHA-256 the finished file must have (announced after creation).
    pub fn set_sha256(&self, id: &str, sha256: Sha256) -> Result<(), UploadError> {
        let mut info = self.get(id)?.info;
        if info.sha256.as_ref() != Some(&sha256) {
            info.sha256 = Some(sha256);
            self.write_info(&info, Durability::Durable)?;
        }
        Ok(())
    }

    /// Verifies the complete upload and moves it into place. On a digest
    /// mismatch the upload is discarded: its bytes are known to be wrong.
    /// Finishing a finished upload returns how it ended.
    pub fn finish(&self, id: &str) -> Result<Completed, UploadError> {
        let Upload {
            mut info, offset, ..
        } = self.get(id)?;
        if let Some(completed) = info.completed {
            return Ok(completed);
        }
        if info.length != Some(offset) {
            return Err(UploadError::Incomplete {
                offset,
                length: info.length,
            });
        }
        let part = self.part_path(id);
        let actual = match self.running.take(id, offset) {
            Some(digest) => Sha256(digest.finalize().into()),
            None => {
                let stat = FileStat::of(&std::fs::metadata(&part)?);
                digest::sha256_file(&part, &stat).map_err(|error| match error {
                    digest::HashError::Io(error) => UploadError::Io(error),
                    other => UploadError::Io(io::Error::other(other.to_string())),
                })?
            }
        };
        if let Some(expected) = &info.sha256
            && *expected != actual
        {
            self.delete(id)?;
            return Err(UploadError::DigestMismatch {
                expected: *expected,
                actual,
            });
        }
        let relative = placement::safe_relative_path(&info.relative.to_bytes())?;
        if placement::leads_outside(&self.dir, &relative)? {
            self.delete(id)?;
            return Err(UploadError::outside(&relative));
        }
        let placing = placement::place(
            &self.dir,
            &relative,
            &part,
            &actual,
            &|name| self.forwarded.taken_by(name),
            // The new name and the part file's removal, in a sync shared
            // with every upload placed meanwhile.
            &|folder| {
                let mut changed = placement::folders_up_to(folder, &self.dir);
                changed.push(&self.state);
                self.group.wait(self.group.ticket(&changed))
            },
        );
        let Placed {
            relative: placed,
            identical,
        } = placing.map_err(|error| {
            // Placed, then the sync failed: a whole upload whose part file
            // went would stay in memory for ever.
            if !part.exists() {
                let _ = self.whole.remove(id);
            }
            UploadError::placing(&relative, error)
        })?;
        let completed = Completed {
            placed: JournalPath::new(placed),
            sha256: actual,
            identical,
            forward: None,
        };
        info.completed = Some(completed.clone());
        self.unfinished.ended(id);
        self.write_info(&info, Durability::Lazy)?;
        Ok(completed)
    }

    /// Records how passing a completed upload on stands.
    pub fn set_forward(&self, id: &str, forward: Forward) -> Result<Completed, UploadError> {
        let mut info = self.get(id)?.info;
        let completed = info.completed.as_mut().ok_or(UploadError::Incomplete {
            offset: 0,
            length: info.length,
        })?;
        completed.forward = Some(forward);
        let completed = completed.clone();
        self.write_info(&info, Durability::Durable)?;
        Ok(completed)
    }

    /// How a completed upload stands.
    pub fn completed(&self, id: &str) -> Result<Completed, UploadError> {
        let info = self.get(id)?.info;
        info.completed.ok_or(UploadError::Incomplete {
            offset: 0,
            length: info.length,
        })
    }

    /// Every upload the store holds (unreadable ones are skipped), and
    /// the part files no upload describes: a whole upload's, cut off by a
    /// restart before it completed.
    fn uploads(&self) -> Result<(Vec<Upload>, Vec<PathBuf>), UploadError> {
        let (mut uploads, mut orphans) = (Vec::new(), Vec::new());
        for entry in fs_err::read_dir(&self.state)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".json")
                && let Ok(upload) = self.get(id)
            {
                uploads.push(upload);
            } else if let Some(id) = name.strip_suffix(".part")
                && self.whole.get(id).is_none()
                && !self.info_path(id).exists()
            {
                orphans.push(entry.path());
            }
        }
        let described: std::collections::HashSet<_> = uploads
            .iter()
            .map(|upload| upload.info.id.clone())
            .collect();
        for id in self.whole.ids() {
            if let Ok(upload) = self.get(&id)
                && !described.contains(&id)
            {
                uploads.push(upload);
            }
        }
        Ok((uploads, orphans))
    }

    /// Completed uploads still waiting to be passed on.
    pub fn waiting_forwards(&self) -> Result<Vec<UploadInfo>, UploadError> {
        let uploads = self.uploads()?.0.into_iter();
        Ok(uploads
            .filter(|upload| upload.is_waiting_for_backend())
            .map(|upload| upload.info)
            .collect())
    }

    /// Removes an upload and its bytes (termination, expiry, a bad digest).
    pub fn delete(&self, id: &str) -> Result<(), UploadError> {
        // Held ones first: even one whose part file went is forgotten.
        if self.whole.get(id).is_none() {
            self.get(id)?;
        }
        self.whole.remove(id)?;
        self.running.take(id, u64::MAX);
        self.unfinished.ended(id);
        remove_if_there(&self.info_path(id))?;
        remove_if_there(&self.part_path(id))?;
        Ok(())
    }

    /// Deletes uploads not written for `lifetime` (completed ones are kept
    /// as long, for clients that missed the last response); returns their IDs.
    pub fn sweep_expired(&self, lifetime: Duration) -> Result<Vec<String>, UploadError> {
        let now = SystemTime::now();
        let (uploads, orphans) = self.uploads()?;
        let swept = self.forget_expired(uploads, lifetime, now)?;
        remove_expired_orphans(&orphans, lifetime, now)?;
        self.whole.compact()?;
        Ok(swept)
    }

    /// Deletes those of `uploads`, listed a moment ago, that expired; one
    /// a client deleted since then is passed over, not an error.
    fn forget_expired(
        &self,
        uploads: Vec<Upload>,
        lifetime: Duration,
        now: SystemTime,
    ) -> Result<Vec<String>, UploadError> {
        let mut swept = Vec::new();
        for upload in uploads {
            if upload.expires_at(lifetime) <= now && !upload.is_waiting_for_backend() {
                match self.delete(&upload.info.id) {
                    Ok(()) => swept.push(upload.info.id),
                    Err(UploadError::NotFound(_)) => {}
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(swept)
    }
}

/// Removes the part files in `orphans`, listed a moment ago, not written
/// for `lifetime`; one that went since then is passed over.
fn remove_expired_orphans(
    orphans: &[PathBuf],
    lifetime: Duration,
    now: SystemTime,
) -> io::Result<()> {
    for orphan in orphans {
        let modified = match fs_err::metadata(orphan) {
            Ok(meta) => meta.modified()?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        if modified + lifetime <= now {
            remove_if_there(orphan)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
