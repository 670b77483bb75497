//! What one hashed file means for the journal: known, a duplicate, or a
//! new job placed by the layout. Apart from the walk and the hashing
//! (`mod.rs`) because it alone writes jobs.

use crate::capture::{DateReader, Taken};
use crate::digest::Sha256;
use crate::journal::job::{Action, Job, JobId, MediaKind, State};
use crate::journal::paths::JournalPath;
use crate::journal::store::{Durability, LimitReached, SeenFile, Store};

use super::targets::Targets;
use super::walk::{Candidate, Root};
use super::{Carrier, ContentIndex, SYNC_EVERY, ScanEvent, ScanOptions, ScanSummary};
use crate::journal::resource::AssetRef;

/// One file hashed and read, with what its family made of it.
pub(super) struct HashedFile<'c> {
    /// Hashed by this scan (else its hash is the journal's).
    pub(super) read_now: bool,
    pub(super) candidate: &'c Candidate,
    pub(super) sha256: Sha256,
    pub(super) taken: Option<Taken>,
    /// The date that places it: its asset's primary's, else its own.
    pub(super) dated_by: Option<Taken>,
    pub(super) asset: Option<&'c AssetRef>,
}

pub(super) struct Queue<'a> {
    pub(super) index: ContentIndex,
    pub(super) targets: Targets<'a>,
    pub(super) dates: DateReader,
    pub(super) options: &'a ScanOptions,
    pub(super) roots: &'a [Root],
    pub(super) summary: &'a mut ScanSummary,
    pub(super) since_sync: u64,
}

impl Queue<'_> {
    /// Decides what one hashed file means: known, duplicate or a new job
    /// (given back, unless this is a dry run).
    pub(super) fn take(
        &mut self,
        store: &mut Store,
        file: HashedFile,
        on_event: &mut dyn FnMut(ScanEvent),
    ) -> anyhow::Result<Option<JobId>> {
        let HashedFile {
            read_now,
            candidate,
            sha256,
            taken,
            dated_by,
            asset,
        } = file;
        let root = &self.roots[candidate.root].journal;
        let previous = store
            .seen_file(root, &candidate.relative)
            .map(|seen| seen.sha256)
            .filter(|old| *old != sha256);
        let seen = SeenFile {
            root: root.clone(),
            path: candidate.relative.clone(),
            size: candidate.stat.size,
            mtime_ns: candidate.stat.mtime_ns,
            inode: candidate.stat.inode,
            sha256,
            taken,
        };
        if !self.options.dry_run {
            store.record_file(seen.clone())?;
        }
        // First the job of this path's old content, so that a place it
        // gave up is free for the new one.
        if let Some(old) = previous
            && !self.options.dry_run
        {
            self.supersede(store, root, &candidate.relative, &old)?;
        }
        let sha256 = &seen.sha256;
        let key = *sha256;
        match self.index.by_sha.get(&key) {
            Some(&Carrier::Job(slot)) => {
                let twin = &store.jobs()[slot];
                let same_path =
                    twin.resource.root == *root && twin.resource.path == candidate.relative;
                match same_path {
                    true if twin.state == State::Failed => self.summary.failed_before += 1,
                    true => self.summary.known += 1,
                    false => {
                        self.summary.duplicates += 1;
                        let twin = twin.resource.source();
                        let home = &self.roots[candidate.root].real;
                        on_event(ScanEvent::Duplicate {
                            source: &candidate.path(self.roots),
                            relative: candidate.relative.as_path(),
                            twin: twin.strip_prefix(home).unwrap_or(&twin),
                            planned: false,
                        });
                    }
                }
                on_event(ScanEvent::Carried {
                    source: &candidate.path(self.roots),
                    relative: &candidate.relative,
                    stat: candidate.stat,
                    twin: &twin.id,
                    same_path,
                    read_now,
                    asset,
                });
                if same_path && !self.options.dry_run {
                    self.place_unsent(store, slot, key, dated_by, asset)?;
                }
            }
            Some(Carrier::Planned(twin)) => {
                self.summary.duplicates += 1;
                let home = &self.roots[candidate.root].real;
                on_event(ScanEvent::Duplicate {
                    source: &candidate.path(self.roots),
                    relative: candidate.relative.as_path(),
                    twin: twin.strip_prefix(home).unwrap_or(twin),
                    planned: true,
                });
            }
            None => {
                let taken_or_mtime =
                    dated_by.unwrap_or_else(|| self.dates.from_mtime(seen.mtime_ns));
                let placed = self
                    .targets
                    .place(candidate.relative.as_path(), key, taken_or_mtime);
                let target = match placed {
                    Ok(target) => target,
                    Err(message) => {
                        self.summary.warnings += 1;
                        on_event(ScanEvent::Warning {
                            path: &candidate.path(self.roots),
                            message,
                        });
                        return Ok(None);
                    }
                };
                let mut created = None;
                let carrier = if self.options.dry_run {
                    let held = store.holding_limit() + self.summary.queued as usize;
                    if held >= store.job_limit() {
                        return Err(LimitReached {
                            held,
                            limit: store.job_limit(),
                        }
                        .into());
                    }
                    Carrier::Planned(candidate.path(self.roots))
                } else {
                    let mut resource = seen.resource(candidate.kind);
                    resource.target = target.clone();
                    resource.asset = asset.cloned();
                    let id = store.create(
                        resource,
                        self.options.destination.clone(),
                        Durability::Lazy,
                    )?;
                    created = Some(id);
                    self.since_sync += 1;
                    if self.since_sync >= SYNC_EVERY {
                        store.journal_handle()?.sync_all()?;
                        self.since_sync = 0;
                    }
                    Carrier::Job(store.jobs().len() - 1)
                };
                self.summary.queued += 1;
                self.summary.queued_bytes += candidate.stat.size;
                self.index.by_sha.insert(key, carrier);
                on_event(ScanEvent::Queued {
                    root,
                    path: &candidate.relative,
                    target: target.as_ref().unwrap_or(&candidate.relative),
                    size: candidate.stat.size,
                    sha256,
                    taken,
                    asset,
                });
                return Ok(created);
            }
        }
        Ok(None)
    }

    /// A job queued before without a layout and never tried (pending, no
    /// attempt, no upload session) takes the place `--layout` gives: a
    /// `scan` and then a `sync --layout` place the files by date. A job
    /// that was tried keeps its place, since the destination may hold
    /// part of it there. A job queued by a ferry that knew no assets
    /// learns its asset.
    fn place_unsent(
        &mut self,
        store: &mut Store,
        slot: usize,
        sha256: Sha256,
        taken: Option<Taken>,
        asset: Option<&AssetRef>,
    ) -> anyhow::Result<()> {
        let job = &store.jobs()[slot];
        if job.resource.asset.is_none()
            && let Some(asset) = asset
        {
            let id = job.id.clone();
            store.apply(&id, Durability::Lazy, |job| {
                job.resource.asset = Some(asset.clone());
                Ok(())
            })?;
        }
        let job = &store.jobs()[slot];
        let untried = job.state == State::Pending
            && job.attempts == 0
            && job.session.is_none()
            && job.resource.target.is_none();
        if self.options.layouts.is_none() || !untried {
            return Ok(());
        }
        let taken = taken.unwrap_or_else(|| self.dates.from_mtime(job.resource.mtime_ns));
        let relative = job.resource.path.clone();
        let id = job.id.clone();
        let Ok(Some(target)) = self.targets.place(relative.as_path(), sha256, taken) else {
            return Ok(());
        };
        if target != relative {
            store.apply(&id, Durability::Lazy, |job| {
                job.resource.target = Some(target);
                job.resource.taken = job.resource.taken.or(Some(taken));
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The layout place of job `id`, holding `sha256`, is free again.
    fn release_place(&mut self, store: &Store, id: &JobId, sha256: &Sha256) {
        if let Some(job) = store.job(id) {
            (self.targets).release(job.resource.target_path().as_path(), sha256);
        }
    }

    /// The file at `path` no longer holds `old`: a job still waiting to upload
    /// `old` from this path moves to another file holding it, or is cancelled;
    /// a failed one leaves the failures list as superseded.
    fn supersede(
        &mut self,
        store: &mut Store,
        root: &JournalPath,
        path: &JournalPath,
        old: &Sha256,
    ) -> anyhow::Result<()> {
        let stale: Vec<(JobId, MediaKind)> = store
            .select(Action::Process)
            .chain(store.select(Action::Retry))
            .filter(|job| {
                job.resource.sha256 == *old
                    && job.resource.root == *root
                    && job.resource.path == *path
                    && job.destination.url == self.options.destination.url
            })
            .map(|job| (job.id.clone(), job.resource.kind))
            .collect();
        for (id, kind) in stale {
            if store.job(&id).is_some_and(|job| job.state == State::Failed) {
                self.release_place(store, &id, old);
                store.apply(&id, Durability::Lazy, Job::supersede)?;
                self.index.by_sha.remove(old);
                self.summary.superseded += 1;
                continue;
            }
            let elsewhere = store
                .seen_files()
                .find(|seen| seen.sha256 == *old && (&seen.root, &seen.path) != (root, path))
                .map(|seen| seen.resource(kind));
            match elsewhere {
                Some(mut resource) => {
                    // Same content: it keeps the place its layout gave it, and its asset.
                    store.apply(&id, Durability::Lazy, |job| {
                        resource.target = job.resource.target.clone();
                        resource.asset = job.resource.asset.clone();
                        job.move_resource(resource)
                    })?;
                }
                None => {
                    self.release_place(store, &id, old);
                    store.apply(&id, Durability::Lazy, Job::supersede)?;
                    self.index.by_sha.remove(old);
                    self.summary.superseded += 1;
                }
            }
        }
        Ok(())
    }
}
