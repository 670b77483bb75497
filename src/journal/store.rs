//! The jobs table: the journal replayed into memory.
//!
//! Every job lives in a `Vec` in creation order with an index by ID. A change is
//! made on a copy, appended to the journal as the job's whole new record, and
//! only then applied in memory, so memory never runs ahead of the file. The last
//! record of a job wins on replay; compaction (on open and at checkpoints, when
//! dead lines outnumber live ones) keeps the file near the size of the table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::journal::job::{
    Action, Destination, Job, JobId, MediaKind, Protocol, Resource, TransitionError,
};
use crate::journal::lock::{self, JournalLock};
use crate::journal::paths::JournalPath;
use crate::journal::{self, Journal, Ticket};

/// Enough for a first backup of a large phone library (50,000 photos and their
/// videos) with room to spare.
pub const DEFAULT_JOB_LIMIT: usize = 200_000;

/// A file as the last scan saw it, so that an unchanged file is not read again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenFile {
    pub root: JournalPath,
    pub path: JournalPath,
    pub size: u64,
    pub mtime_ns: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inode: Option<u64>,
    pub sha256: Sha256,
    /// The capture date read with the hash, so that an unchanged file is
    /// not opened again for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken: Option<crate::capture::Taken>,
}

impl SeenFile {
    /// This version of the file as a job's resource.
    pub fn resource(&self, kind: MediaKind) -> Resource {
        Resource {
            root: self.root.clone(),
            path: self.path.clone(),
            size: self.size,
            mtime_ns: self.mtime_ns,
            inode: self.inode,
            sha256: self.sha256,
            kind,
            taken: self.taken,
            target: None,
            asset: None,
        }
    }
}

/// One line of the journal after the header. Records live only between
/// parsing and `load`, so their size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Record {
    Job(Job),
    File(SeenFile),
    Protocol(ChosenProtocol),
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum RecordRef<'a> {
    Job(&'a Job),
    File(&'a SeenFile),
    Protocol(&'a ChosenProtocol),
}

/// The protocol `auto` chose for a destination URL, kept so that it never
/// changes under the destination's registered jobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenProtocol {
    pub url: String,
    pub protocol: Protocol,
}

/// Seen files by root, then by path under it: looked up by reference,
/// without building a key, since a rescan asks once or twice per file.
type FileIndex = HashMap<JournalPath, HashMap<JournalPath, SeenFile>>;

/// Whether a change must be on disk before the call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// fsynced (group commit): jobs created, sessions opened, jobs finished.
    Durable,
    /// Written, synced at the next durable change or checkpoint: offsets.
    Lazy,
    /// Kept in memory and written with the job's next change, which records
    /// the whole job: a small file's start, whose end follows within
    /// milliseconds. A crash before then leaves the job as it was, to be
    /// taken up again.
    Deferred,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "job limit reached: {held} {} not yet acknowledged (limit {limit}); make room with `ferry ack --succeeded` or `ferry ack --failed` (pending jobs leave once uploaded, or with `ferry cancel --pending`), or raise the limit with --job-limit",
    if *held == 1 { "job is" } else { "jobs are" }
)]
pub struct LimitReached {
    pub held: usize,
    pub limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("no job matches the ID {0:?}; `ferry jobs` lists them")]
    NotFound(String),
    #[error("the ID {prefix:?} is ambiguous: {count} jobs start with it; give more characters")]
    Ambiguous { prefix: String, count: usize },
}

#[derive(Clone, Debug)]
pub struct OpenOptions {
    pub wait_lock: Option<Duration>,
    pub job_limit: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            wait_lock: None,
            job_limit: DEFAULT_JOB_LIMIT,
        }
    }
}

pub struct Store {
    path: PathBuf,
    jobs: Vec<Job>,
    index: HashMap<JobId, usize>,
    files: FileIndex,
    protocols: HashMap<String, ChosenProtocol>,
    holding_limit: usize,
    job_limit: usize,
    warnings: Vec<String>,
    journal: Option<Arc<Journal>>,
    _lock: Option<JournalLock>,
}

impl Store {
    /// Opens for reading and writing: takes the lock, replays, cuts a torn
    /// tail, and compacts when dead lines outnumber live ones.
    pub fn open(path: &Path, options: &OpenOptions) -> anyhow::Result<Store> {
        let path = &journal::resolve(path)?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs_err::create_dir_all(dir)?;
        }
        let lock = lock::acquire(path, options.wait_lock)?;
        let mut store = Store::empty(path, options.job_limit);
        let replay = journal::replay(path, |record| store.load(record))?;
        if let Some(warning) = replay.as_ref().and_then(|r| r.torn_warning(path)) {
            store.warnings.push(warning);
        }
        let journal = Journal::open(path, replay.as_ref())?;
        store.journal = Some(Arc::new(journal));
        store._lock = Some(lock);
        store.compact_if_worth_it()?;
        Ok(store)
    }

    /// Opens a snapshot for reading without the lock, so that `ferry status`
    /// works while an upload runs. A missing journal reads as empty.
    pub fn open_read_only(path: &Path) -> anyhow::Result<Store> {
        let path = &journal::resolve(path)?;
        let mut store = Store::empty(path, DEFAULT_JOB_LIMIT);
        let replay = journal::replay(path, |record| store.load(record))?;
        if !lock::writer_active(path)
            && let Some(warning) = replay.as_ref().and_then(|r| r.torn_warning(path))
        {
            store.warnings.push(warning);
        }
        Ok(store)
    }

    fn empty(path: &Path, job_limit: usize) -> Store {
        Store {
            path: path.to_owned(),
            jobs: Vec::new(),
            index: HashMap::new(),
            files: HashMap::new(),
            protocols: HashMap::new(),
            holding_limit: 0,
            job_limit,
            warnings: Vec::new(),
            journal: None,
            _lock: None,
        }
    }

    fn load(&mut self, record: Record) {
        match record {
            Record::Job(job) => self.put(job),
            Record::File(file) => self.put_file(file),
            Record::Protocol(chosen) => {
                self.protocols.insert(chosen.url.clone(), chosen);
            }
        }
    }

    fn put(&mut self, job: Job) {
        let holds = usize::from(job.holds_limit());
        match self.index.get(&job.id) {
            Some(&slot) => {
                let old = std::mem::replace(&mut self.jobs[slot], job);
                self.holding_limit = self.holding_limit + holds - usize::from(old.holds_limit());
            }
            None => {
                self.index.insert(job.id.clone(), self.jobs.len());
                self.jobs.push(job);
                self.holding_limit += holds;
            }
        }
    }

    /// Warnings met while opening (a dropped torn line), for the caller to show.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub fn job(&self, id: &JobId) -> Option<&Job> {
        self.index.get(id).map(|&slot| &self.jobs[slot])
    }

    /// What the journal knows of the file at `path` under `root`.
    pub fn seen_file(&self, root: &JournalPath, path: &JournalPath) -> Option<&SeenFile> {
        self.files.get(root)?.get(path)
    }

    pub fn seen_files(&self) -> impl Iterator<Item = &SeenFile> {
        self.files.values().flat_map(HashMap::values)
    }

    fn put_file(&mut self, file: SeenFile) {
        self.files
            .entry(file.root.clone())
            .or_default()
            .insert(file.path.clone(), file);
    }

    /// Remembers a file's hash; written lazily, as a lost record costs only a re-read.
    pub fn record_file(&mut self, file: SeenFile) -> anyhow::Result<()> {
        if self.seen_file(&file.root, &file.path) == Some(&file) {
            return Ok(());
        }
        self.journal()?.append(&RecordRef::File(&file))?;
        self.put_file(file);
        Ok(())
    }

    /// The protocol `auto` chose for `url` in an earlier run.
    pub fn chosen_protocol(&self, url: &str) -> Option<Protocol> {
        self.protocols.get(url).map(|chosen| chosen.protocol)
    }

    /// Remembers what `auto` chose for `url`, durably.
    pub fn choose_protocol(&mut self, url: &str, protocol: Protocol) -> anyhow::Result<()> {
        let chosen = ChosenProtocol {
            url: url.to_owned(),
            protocol,
        };
        let journal = self.journal()?;
        let ticket = journal.append(&RecordRef::Protocol(&chosen))?;
        journal.sync(ticket)?;
        self.protocols.insert(chosen.url.clone(), chosen);
        Ok(())
    }

    pub fn select(&self, action: Action) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(move |job| action.selects(job))
    }

    /// The failures list: failed jobs nobody retried or acknowledged, all
    /// of them or those toward the destination at `url`.
    pub fn failures(&self, url: Option<&str>) -> Vec<Job> {
        let listed = self.select(Action::Retry);
        let toward = listed.filter(|job| url.is_none_or(|url| job.destination.url == url));
        toward.cloned().collect()
    }

    /// Jobs counting against the limit: not acknowledged and not cancelled.
    pub fn holding_limit(&self) -> usize {
        self.holding_limit
    }

    pub fn set_job_limit(&mut self, limit: usize) {
        self.job_limit = limit;
    }

    pub fn job_limit(&self) -> usize {
        self.job_limit
    }

    /// The one job whose ID starts with `prefix`, as git resolves commits.
    pub fn resolve(&self, prefix: &str) -> Result<JobId, SelectError> {
        let wanted = prefix.to_ascii_lowercase();
        if let Some(job) = self.job(&JobId::from_string(wanted.clone())) {
            return Ok(job.id.clone());
        }
        let mut matches = self
            .jobs
            .iter()
            .filter(|job| !wanted.is_empty() && job.id.as_str().starts_with(&wanted));
        match (matches.next(), matches.count()) {
            (Some(job), 0) => Ok(job.id.clone()),
            (None, _) => Err(SelectError::NotFound(prefix.to_owned())),
            (Some(_), more) => Err(SelectError::Ambiguous {
                prefix: prefix.to_owned(),
                count: more + 1,
            }),
        }
    }

    fn journal(&self) -> anyhow::Result<&Arc<Journal>> {
        self.journal.as_ref().with_context(|| {
            format!(
                "{} was opened read-only; changes need the lock",
                self.path.display()
            )
        })
    }

    /// The open journal, for callers that sync tickets outside a lock.
    pub fn journal_handle(&self) -> anyhow::Result<Arc<Journal>> {
        self.journal().cloned()
    }

    /// Queues a new pending job, durably, unless the job limit is reached.
    pub fn create(
        &mut self,
        resource: Resource,
        destination: Destination,
        durability: Durability,
    ) -> anyhow::Result<JobId> {
        let mut job = Job::new(resource, destination);
        while self.index.contains_key(&job.id) {
            job.id = JobId::random();
        }
        let id = job.id.clone();
        self.write(job, None, durability)?;
        Ok(id)
    }

    /// Applies one checked change to a job and records it.
    pub fn apply(
        &mut self,
        id: &JobId,
        durability: Durability,
        change: impl FnOnce(&mut Job) -> Result<(), TransitionError>,
    ) -> anyhow::Result<Ticket> {
        let current = self
            .job(id)
            .ok_or_else(|| SelectError::NotFound(id.to_string()))?;
        let was_holding = current.holds_limit();
        let mut next = current.clone();
        change(&mut next)?;
        self.write(next, Some(was_holding), durability)
    }

    /// Checks every change first and writes only if all are legal, so a
    /// command naming several jobs changes all of them or none.
    pub fn apply_all(
        &mut self,
        ids: &[JobId],
        change: impl Fn(&mut Job) -> Result<(), TransitionError>,
    ) -> anyhow::Result<()> {
        for id in ids {
            let mut probe = self
                .job(id)
                .ok_or_else(|| SelectError::NotFound(id.to_string()))?
                .clone();
            change(&mut probe)?;
        }
        let mut last = None;
        for id in ids {
            last = Some(self.apply(id, Durability::Lazy, &change)?);
        }
        if let Some(ticket) = last {
            self.journal()?.sync(ticket)?;
        }
        Ok(())
    }

    fn write(
        &mut self,
        job: Job,
        was_holding: Option<bool>,
        durability: Durability,
    ) -> anyhow::Result<Ticket> {
        if job.holds_limit() && was_holding != Some(true) && self.holding_limit >= self.job_limit {
            return Err(LimitReached {
                held: self.holding_limit,
                limit: self.job_limit,
            }
            .into());
        }
        let journal = self.journal()?;
        let ticket = match durability {
            Durability::Deferred => journal.last_ticket(),
            _ => journal.append(&RecordRef::Job(&job))?,
        };
        if durability == Durability::Durable {
            journal.sync(ticket)?;
        }
        self.put(job);
        Ok(ticket)
    }

    /// Makes everything durable, then compacts if dead lines outnumber live ones.
    pub fn checkpoint(&mut self) -> anyhow::Result<()> {
        self.journal()?.sync_all()?;
        self.compact_if_worth_it()
    }

    fn compact_if_worth_it(&mut self) -> anyhow::Result<()> {
        let journal = self.journal()?;
        let files: usize = self.files.values().map(HashMap::len).sum();
        let live = (self.jobs.len() + files + self.protocols.len()) as u64;
        if journal.record_count().saturating_sub(live) > live {
            let records: Vec<RecordRef> = self
                .jobs
                .iter()
                .map(RecordRef::Job)
                .chain(self.seen_files().map(RecordRef::File))
                .chain(self.protocols.values().map(RecordRef::Protocol))
                .collect();
            journal.compact(records.iter())?;
        }
        Ok(())
    }
}
