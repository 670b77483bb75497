//! The scan: walk roots, filter, hash, dedupe, queue jobs. No network.
//!
//! It runs in two phases so that each is simple. The walk (`walk.rs`) lists
//! every candidate file with its stat (folders pruned by the filter,
//! symlinks only followed on request, special files never opened), or, for
//! `ferry watch`, just the files it names, under the same rules. Then candidates whose
//! size, mtime and inode match the journal reuse its hash, and the rest are
//! hashed on a bounded pool of threads; results are taken in walk order, so
//! which of two identical files gets the job is deterministic. Jobs are
//! written lazily and synced every thousand and at the end: a crash costs at
//! most a re-hash, never a wrong record.

pub mod ahead;
pub mod assets;
pub mod filter;
mod handover;
mod left_out;
pub mod media;
mod queue;
pub mod siblings;
mod targets;
mod walk;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::capture::{DateReader, Headers, Taken, VideoClock};
use crate::digest::{self, HashError, Sha256};
use crate::journal::job::{Destination, Job, JobId, MediaKind, State};
use crate::journal::paths::JournalPath;
use crate::journal::resource::AssetRef;
use crate::journal::store::{LimitReached, Store};
use crate::landing::Layouts;
use crate::scan::filter::{Filter, FilterOptions};
use ahead::{ReadAhead, Reserved};
pub use handover::{Handed, Pipe, ToUpload};
use left_out::LeftOut;
use queue::Queue;
use targets::Targets;
use walk::{Candidate, Root, resolve_roots, visit_only, walk};

pub(super) const SYNC_EVERY: u64 = 1000;

#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub roots: Vec<PathBuf>,
    pub destination: Destination,
    pub filter: FilterOptions,
    pub follow_links: bool,
    pub max_depth: Option<usize>,
    pub min_size: u64,
    pub max_size: Option<u64>,
    pub min_age: Duration,
    pub rehash: bool,
    pub dry_run: bool,
    pub hash_threads: usize,
    /// Look at just these files under the roots instead of walking them
    /// (`ferry watch`'s settled files).
    pub only: Option<Vec<PathBuf>>,
    /// How a video's `mvhd` time is read for its capture date.
    pub video_clock: VideoClock,
    /// Where new jobs land at the destination (`--layout`); `None`: at
    /// their path below the scanned folder.
    pub layouts: Option<Layouts>,
}

/// What a scan reports as it goes.
pub enum ScanEvent<'a> {
    /// Something could not be read; the scan goes on.
    Warning { path: &'a Path, message: String },
    /// A file whose family lost a member that could not be read: it is
    /// queued as usual, but must stay on the card this run (`because`).
    Held { source: &'a Path, because: String },
    /// The walk is done: this many files will be looked at, and this many
    /// bytes must be read because the journal has no current hash for them.
    Walked { files: usize, bytes_to_hash: u64 },
    /// Progress: this many files looked at, this many bytes hashed so far.
    Scanned { files: u64, hashed_bytes: u64 },
    /// A file whose content a job in the journal already carries to the
    /// destination: the job of this same path (`same_path`), or another
    /// file's (this one is a duplicate). `stat` is what the scan saw.
    Carried {
        source: &'a Path,
        relative: &'a JournalPath,
        stat: crate::digest::FileStat,
        twin: &'a JobId,
        same_path: bool,
        /// Hashed by this scan, not known from the journal.
        read_now: bool,
        /// The asset this file is a member of, on this card.
        asset: Option<&'a AssetRef>,
    },
    /// A file left out by a rule, relative to its scanned folder.
    Skipped {
        relative: &'a Path,
        rule: &'static str,
    },
    /// A file whose content another file of the journal or of this scan
    /// already carries, relative to its scanned folder, and that file
    /// (relative to the same folder when it is under it).
    Duplicate {
        source: &'a Path,
        relative: &'a Path,
        twin: &'a Path,
        /// The twin is a job a dry run would queue, not one in the
        /// journal: no `Carried` follows, though a sync would carry it.
        planned: bool,
    },
    /// A job was queued (or would be, in a dry run).
    Queued {
        root: &'a JournalPath,
        path: &'a JournalPath,
        /// Where it lands at the destination.
        target: &'a JournalPath,
        size: u64,
        sha256: &'a Sha256,
        taken: Option<Taken>,
        asset: Option<&'a AssetRef>,
    },
}

#[derive(Debug, Default, Serialize)]
pub struct ScanSummary {
    /// Regular files met by the walk.
    pub seen: u64,
    /// Left out by a rule: filters, hidden, size, age, symlinks, special files.
    pub skipped: u64,
    /// Hash reused from the journal: size, mtime and inode unchanged.
    pub unchanged: u64,
    pub hashed: u64,
    pub hashed_bytes: u64,
    pub hash_seconds: f64,
    /// Content that already has a job from another path.
    pub duplicates: u64,
    /// Content that already has a job from this same path, not a failed one.
    pub known: u64,
    /// Content whose job from this same path failed: neither queued nor
    /// uploaded, and not sent again until `ferry retry`.
    pub failed_before: u64,
    pub queued: u64,
    pub queued_bytes: u64,
    /// Pending jobs cancelled because their file changed.
    pub superseded: u64,
    pub warnings: u64,
    /// Set when the job limit stopped the scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at_limit: Option<usize>,
    /// Then, the jobs that held the limit.
    #[serde(skip)]
    pub held_at_limit: usize,
}

/// Who already carries a piece of content to the destination: a job in the
/// store (by its slot), or a file this dry run would queue (its path).
#[derive(Clone)]
pub(super) enum Carrier {
    Job(usize),
    Planned(PathBuf),
}

pub(super) struct ContentIndex {
    pub(super) by_sha: HashMap<Sha256, Carrier>,
}

impl ContentIndex {
    fn new(store: &Store, destination: &Destination) -> Self {
        let by_sha = destination_jobs(store, destination)
            .map(|(slot, job)| (job.resource.sha256, Carrier::Job(slot)))
            .collect();
        Self { by_sha }
    }
}

/// A URL the journal's jobs go to that names `destination` but for a
/// trailing slash, when none goes to `destination` as written: dedupe
/// tells destinations apart by their URL as written.
fn other_spelling(store: &Store, destination: &Destination) -> Option<String> {
    let url = destination.url.as_str();
    let lower = url.to_ascii_lowercase();
    if !["http://", "https://", "sftp://"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
    {
        return None;
    }
    let urls = || store.jobs().iter().map(|job| job.destination.url.as_str());
    if urls().any(|known| known == url) {
        return None;
    }
    let bare = url.trim_end_matches('/');
    urls()
        .find(|known| known.trim_end_matches('/') == bare)
        .map(str::to_owned)
}

/// The jobs that carry content to `destination` (cancelled ones do not),
/// with their slots in the store.
fn destination_jobs<'s>(
    store: &'s Store,
    destination: &Destination,
) -> impl Iterator<Item = (usize, &'s Job)> {
    let url = destination.url.clone();
    store
        .jobs()
        .iter()
        .enumerate()
        .filter(move |(_, job)| job.state != State::Cancelled && job.destination.url == url)
}

/// What the journal knows of a file whose size, mtime and inode are
/// unchanged: its hash and capture date.
fn reusable_hash(
    store: &Store,
    roots: &[Root],
    options: &ScanOptions,
    candidate: &Candidate,
) -> Option<(Sha256, Option<Taken>)> {
    let seen = store.seen_file(&roots[candidate.root].journal, &candidate.relative)?;
    let unchanged = !options.rehash
        && seen.size == candidate.stat.size
        && seen.mtime_ns == candidate.stat.mtime_ns
        && seen.inode == candidate.stat.inode;
    unchanged.then_some((seen.sha256, seen.taken))
}

/// A media file's capture date, read right after its hash while its
/// headers are still in the page cache; none for a sidecar.
fn capture_date(reader: &mut DateReader, path: &Path, candidate: &Candidate) -> Option<Taken> {
    let headers = match candidate.kind {
        MediaKind::Image => Headers::Photo,
        MediaKind::Video => Headers::Movie,
        MediaKind::Audio => Headers::Neither,
        MediaKind::Other => return None,
    };
    Some(reader.read(path, headers, candidate.stat.mtime_ns))
}

type Hashed = Result<(Sha256, Option<Taken>), HashError>;

/// Fails as a scan of `roots` would before it reads anything: a folder
/// that is missing or cannot be resolved.
pub fn check_roots(roots: &[PathBuf]) -> anyhow::Result<()> {
    resolve_roots(roots).map(drop)
}

fn locked(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// A candidate's file name, or "" when it is not UTF-8 (such a file is
/// never in a family).
fn file_name(candidate: &Candidate) -> &str {
    let name = candidate.relative.as_path().file_name();
    name.and_then(|name| name.to_str()).unwrap_or("")
}

/// The candidates in the order the scan takes them, families side by side
/// (see `assets`), and each family's range; sidecars with no media file
/// of their name are left out here, each with its rule.
fn in_families(
    candidates: Vec<Candidate>,
    summary: &mut ScanSummary,
    on_event: &mut dyn FnMut(ScanEvent),
) -> (Vec<Candidate>, Vec<std::ops::Range<usize>>) {
    let named: Vec<assets::Named> = candidates
        .iter()
        .map(|candidate| assets::Named {
            folder: (
                candidate.root,
                candidate
                    .relative
                    .as_path()
                    .parent()
                    .unwrap_or(Path::new("")),
            ),
            name: Some(file_name(candidate)).filter(|name| !name.is_empty()),
            kind: candidate.kind,
        })
        .collect();
    let only_with_media: Vec<bool> = candidates.iter().map(|c| c.alone.is_some()).collect();
    let families = assets::families(&named, &only_with_media);
    for &i in &families.alone {
        summary.skipped += 1;
        on_event(ScanEvent::Skipped {
            relative: candidates[i].relative.as_path(),
            rule: candidates[i].alone.unwrap_or("a sidecar"),
        });
    }
    let mut slots: Vec<Option<Candidate>> = candidates.into_iter().map(Some).collect();
    let ordered = families
        .order
        .iter()
        .map(|&i| slots[i].take().expect("each file once"))
        .collect();
    (ordered, families.ranges)
}

/// Scans and queues. In a dry run, `store` may be read-only and nothing is
/// written. With a `pipe` (a sync), each new job is handed to the upload as
/// soon as it is queued, and the hashing keeps within the pipe's budget;
/// the store is locked for each file only, so the upload shares it.
pub fn scan(
    store: &Mutex<Store>,
    options: &ScanOptions,
    pipe: Option<&Pipe>,
    on_event: &mut dyn FnMut(ScanEvent),
) -> anyhow::Result<ScanSummary> {
    let roots = resolve_roots(&options.roots)?;
    let filter = Filter::new(options.filter.clone())?;
    let mut summary = ScanSummary::default();
    if let Some(other) = other_spelling(&locked(store), &options.destination) {
        summary.warnings += 1;
        on_event(ScanEvent::Warning {
            path: Path::new(&options.destination.url),
            message: format!(
                "the journal's jobs go to {other}, which differs only by its trailing slash: the server may store both in one place, but to the journal this is another destination, so files already uploaded there are sent again (give {other} to avoid that)"
            ),
        });
    }
    let mut left_out = LeftOut::default();
    let candidates = {
        let mut noting = |event: ScanEvent| {
            left_out.note(&event);
            on_event(event);
        };
        match &options.only {
            Some(files) => visit_only(files, &roots, options, &filter, &mut summary, &mut noting),
            None => walk(&roots, options, &filter, &mut summary, &mut noting),
        }
    };

    let (candidates, families) = in_families(candidates, &mut summary, on_event);
    let reused: Vec<bool> = {
        let store = locked(store);
        (candidates.iter())
            .map(|candidate| reusable_hash(&store, &roots, options, candidate).is_some())
            .collect()
    };
    let to_hash: Vec<usize> = (0..candidates.len()).filter(|&i| !reused[i]).collect();
    on_event(ScanEvent::Walked {
        files: candidates.len(),
        bytes_to_hash: to_hash.iter().map(|&i| candidates[i].stat.size).sum(),
    });

    let ahead = pipe.map_or_else(ReadAhead::unbounded, |pipe| pipe.ahead.clone());
    let (index, targets) = {
        let store = locked(store);
        let index = ContentIndex::new(&store, &options.destination);
        let targets = Targets::new(&store, &options.destination, options.layouts.as_ref());
        (index, targets)
    };
    let mut queue = Queue {
        index,
        targets,
        dates: DateReader::new(options.video_clock),
        options,
        roots: &roots,
        summary: &mut summary,
        since_sync: 0,
    };
    let stop = AtomicBool::new(false);
    let hash_started = Instant::now();
    let (sender, receiver) = mpsc::sync_channel::<(usize, Hashed, Reserved)>(64);
    // Time spent reading and hashing, not waiting for the upload: a sync's
    // hashing rate is the hashing's, not the upload's.
    let hashing_ns = std::sync::atomic::AtomicU64::new(0);
    let threads = options.hash_threads.max(1).min(to_hash.len().max(1));
    let outcome = std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..threads {
            let sender = sender.clone();
            let (candidates, to_hash, stop, roots, ahead, hashing_ns) =
                (&candidates, &to_hash, &stop, &roots, &ahead, &hashing_ns);
            let video_clock = options.video_clock;
            scope.spawn(move || {
                let mut dates = DateReader::new(video_clock);
                let stopped = || {
                    stop.load(Ordering::Relaxed)
                        || pipe.is_some_and(|pipe| pipe.stop.is_cancelled())
                };
                while !stopped()
                    && let Some(mut reserved) = ahead.begin_next(to_hash.len())
                {
                    let i = to_hash[reserved.position()];
                    let candidate = &candidates[i];
                    let path = candidate.path(roots);
                    let size = candidate.stat.size;
                    // Each few MiB read waits for the upload to send enough.
                    let began = Instant::now();
                    let mut waited = Duration::ZERO;
                    let mut pace = |to: u64| {
                        while reserved.bytes() < to {
                            let step = ahead::STEP.min(size - reserved.bytes());
                            let asked = Instant::now();
                            let granted = reserved.grow(step, &stopped);
                            waited += asked.elapsed();
                            if !granted {
                                return false;
                            }
                        }
                        true
                    };
                    let result = digest::sha256_file_paced(&path, &candidate.stat, &mut pace)
                        .map(|sha| (sha, capture_date(&mut dates, &path, candidate)));
                    let busy = began.elapsed().saturating_sub(waited);
                    hashing_ns.fetch_add(busy.as_nanos() as u64, Ordering::Relaxed);
                    if sender.send((i, result, reserved)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting: BTreeMap<usize, (Hashed, Reserved)> = BTreeMap::new();
        type Member = (usize, Sha256, Option<Taken>, Option<Reserved>);
        let mut family: Vec<Member> = Vec::new();
        let mut handover = pipe.map(handover::Handover::new);
        let result = (|| {
            for range in &families {
                if pipe.is_some_and(|pipe| pipe.stop.is_cancelled()) {
                    return Ok(());
                }
                family.clear();
                // A member that could not be read: the others stay on the card.
                let mut unread: Option<usize> = None;
                for i in range.clone() {
                    let candidate = &candidates[i];
                    let reused_sha = reused[i]
                        .then(|| reusable_hash(&locked(store), &roots, options, candidate))
                        .flatten();
                    let mut reserved = None;
                    let (sha, taken) = match reused_sha {
                        Some((sha, taken)) => {
                            queue.summary.unchanged += 1;
                            let taken = taken.map(|t| queue.dates.refresh(t)).or_else(|| {
                                // A journal of an older ferry kept no date.
                                let path = candidate.path(&roots);
                                capture_date(&mut queue.dates, &path, candidate)
                            });
                            (sha, taken)
                        }
                        None => {
                            let (result, held) = loop {
                                if let Some(result) = waiting.remove(&i) {
                                    ahead.taken(result.1.position());
                                    break result;
                                }
                                // The upload may be what the hashing waits for.
                                if let Some(handover) = handover.as_mut() {
                                    handover.now(store)?;
                                }
                                match receiver.recv() {
                                    Ok((done, result, held)) => {
                                        waiting.insert(done, (result, held));
                                    }
                                    Err(_) => anyhow::bail!("the hashing threads stopped early"),
                                }
                            };
                            match result {
                                // Stopped (Ctrl-C): the family is left for
                                // the next run, whole.
                                Err(HashError::Stopped) => return Ok(()),
                                Ok(hashed) => {
                                    reserved = Some(held);
                                    queue.summary.hashed += 1;
                                    queue.summary.hashed_bytes += candidate.stat.size;
                                    hashed
                                }
                                Err(error) => {
                                    queue.summary.warnings += 1;
                                    on_event(ScanEvent::Warning {
                                        path: &candidate.path(&roots),
                                        message: error.to_string(),
                                    });
                                    unread.get_or_insert(i);
                                    continue;
                                }
                            }
                        }
                    };
                    on_event(ScanEvent::Scanned {
                        files: i as u64 + 1,
                        hashed_bytes: queue.summary.hashed_bytes,
                    });
                    family.push((i, sha, taken, reserved));
                }
                // A member unread, or one a rule left out: the others
                // stay on the card (an unread one's reason first).
                let held = unread
                    .map(|lost| {
                        format!(
                            "{} of its name could not be read, so its asset is not whole",
                            candidates[lost].relative.as_path().display()
                        )
                    })
                    .or_else(|| left_out.splits(&candidates[range.start]));
                if let Some(because) = held {
                    for &(i, ..) in &family {
                        on_event(ScanEvent::Held {
                            source: &candidates[i].path(&roots),
                            because: because.clone(),
                        });
                    }
                }
                let decided = match family.len() {
                    0 | 1 => vec![None; family.len()],
                    _ => {
                        let members: Vec<assets::Member> = family
                            .iter()
                            .map(|&(i, sha256, taken, _)| assets::Member {
                                name: file_name(&candidates[i]),
                                kind: candidates[i].kind,
                                sha256,
                                taken,
                            })
                            .collect();
                        let first = &candidates[family[0].0];
                        let place = [
                            roots[first.root].journal.to_bytes(),
                            first.relative.as_path().parent().map_or(Vec::new(), |dir| {
                                dir.as_os_str().as_encoded_bytes().to_vec()
                            }),
                        ]
                        .join(&0u8);
                        assets::decide(&members, &place)
                    }
                };
                let dates: Vec<Option<Taken>> = family.iter().map(|member| member.2).collect();
                for ((i, sha, taken, reserved), membership) in family.drain(..).zip(decided) {
                    let dated_by = membership.as_ref().and_then(|m| dates[m.primary]).or(taken);
                    let asset = membership.map(|m| m.asset);
                    let hashed = queue::HashedFile {
                        read_now: reserved.is_some(),
                        candidate: &candidates[i],
                        sha256: sha,
                        taken,
                        dated_by,
                        asset: asset.as_ref(),
                    };
                    let queued = queue.take(&mut locked(store), hashed, on_event);
                    match (queued, handover.as_mut()) {
                        (Ok(Some(job)), Some(handover)) => {
                            handover.push(job, reserved, candidates[i].stat.size);
                        }
                        (Ok(_), _) => {}
                        (Err(error), _) => {
                            if let Some(limit) = error.downcast_ref::<LimitReached>() {
                                queue.summary.stopped_at_limit = Some(limit.limit);
                                queue.summary.held_at_limit = limit.held;
                                break;
                            }
                            return Err(error);
                        }
                    }
                }
                if let Some(handover) = handover.as_mut() {
                    handover.when_due(store)?;
                }
                if queue.summary.stopped_at_limit.is_some() {
                    break;
                }
            }
            if let Some(handover) = handover.as_mut() {
                handover.now(store)?;
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        ahead.wake();
        drop(receiver);
        result
    });
    queue.summary.hash_seconds = match pipe {
        None => hash_started.elapsed().as_secs_f64(),
        Some(_) => hashing_ns.load(Ordering::Relaxed) as f64 / 1e9 / threads as f64,
    };
    outcome?;
    if !options.dry_run {
        match pipe {
            // The upload shares the journal, and compacts it at its end;
            // the sync runs outside the lock, as the upload's do.
            Some(_) => {
                let journal = locked(store).journal_handle()?;
                journal.sync_all()?;
            }
            None => locked(store).checkpoint()?,
        }
    }
    Ok(summary)
}
