//! Clearing a card: `--delete-after` and `--move-to DIR` remove or move a
//! source file once its upload is verified end to end.
//!
//! End to end means the destination itself confirmed the file's full
//! SHA-256: `ferry serve` (and any IETF or PUT server that does the same)
//! answers the upload's last request with a `Repr-Digest`, a local copy is
//! hashed again, an S3 object shows our checksum or `x-amz-meta-sha256` on
//! `HEAD`. tus and BITS carry no digest back, so a run toward them is
//! refused before anything is sent; an IETF or PUT server that answers
//! without a digest keeps its files on the card, each with a warning. A
//! file whose size, modification time or inode moved since the scan is
//! never touched. `--move-to` keeps the path below the scanned folder and
//! never replaces a file: it links (or, across file systems, copies,
//! syncs and links) the new name before the old one goes. Each deletion or
//! move is recorded on the job.
//!
//! A sync with these flags also clears what earlier runs uploaded, since
//! clearing a card already backed up is the commonest use: a file whose
//! job already succeeded is cleared once the destination confirms the full
//! SHA-256 now (verify's check, not the journal's memory) and the file is
//! as the scan saw it (read again when the scan took its hash from the
//! journal: an edit in place can keep a file's size and times); a
//! duplicate on the card (the same content under another name, which
//! dedupe never uploads) is cleared once the file holding its content is
//! confirmed there and its own bytes hash the same again, and the line
//! names the twin that vouched for it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};

use super::Settings;
use super::clear_move::EDITED_IN_PLACE;
use super::route::Route;
use super::run::Run;
use super::verify;
use crate::digest::{self, FileStat, Sha256};
use crate::journal::job::{Cleared, Destination, Job, JobId, Protocol, State};
use crate::journal::paths::JournalPath;
use crate::journal::store::Durability;
use crate::report::{Event, Reporter};
use crate::wire;

pub use super::settings::{AfterUpload, CarriedSource};

/// Refuses, before any upload, a destination that cannot confirm a file's
/// SHA-256.
pub fn refuse_unconfirmable(
    after: &AfterUpload,
    routes: &HashMap<Destination, Arc<Route>>,
) -> anyhow::Result<()> {
    for (destination, route) in routes {
        if let Route::Sftp(sftp) = route.as_ref()
            // Settled before (`SftpRoute::settle_tool`); not known, it
            // is refused all the same.
            && !matches!(sftp.known_tool(), Some(Some(_)))
        {
            return Err(crate::error::UsageError(format!(
                "{} needs a destination that confirms each file's SHA-256, and the account at {} runs no SHA-256 tool (a files-only SFTP account runs no commands), so uploads there are confirmed by size alone; nothing was uploaded",
                after.flag(),
                destination.url
            ))
            .into());
        }
        if let Route::Http(http) = route.as_ref() {
            refuse_protocol(
                after,
                http.adapter.protocol(),
                &route.name(),
                &destination.url,
            )?;
        }
    }
    Ok(())
}

/// Refuses `--move-to` a folder that a scan of `roots` (resolved) walks
/// into (`walked`: whether the filter enters a folder, by its path below
/// the root): the moved files would be found again by every later scan
/// and moved one folder deeper each time. A folder the scan passes over
/// (hidden, excluded) is fine, and so is one above a root: moved files
/// land beside it, by their path below the root.
pub fn refuse_moving_into_roots(
    after: &AfterUpload,
    roots: &[PathBuf],
    walked: impl Fn(&Path) -> bool,
) -> anyhow::Result<()> {
    let AfterUpload::MoveTo(folder) = after else {
        return Ok(());
    };
    let resolved = resolved_folder(folder);
    for root in roots {
        let Ok(below) = resolved.strip_prefix(root) else {
            continue;
        };
        if !below.as_os_str().is_empty() && !walked(below) {
            continue;
        }
        return Err(crate::error::UsageError(format!(
            "--move-to {}: it is in {}, a folder being synced, so moved files would be scanned and moved again by later runs; give a folder outside it (or one the scan leaves out, such as a hidden one)",
            folder.display(),
            root.display()
        ))
        .into());
    }
    Ok(())
}

/// `folder` with its links resolved as far as it exists (a `--move-to`
/// folder is made on first use).
fn resolved_folder(folder: &Path) -> PathBuf {
    let absolute = std::path::absolute(folder).unwrap_or_else(|_| folder.to_owned());
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return missing
                .iter()
                .rev()
                .fold(real, |path, part| path.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Refuses clearing toward an HTTP protocol whose uploads carry no digest
/// back (`name`: how the route names it), as a sync would before its scan.
pub fn refuse_protocol(
    after: &AfterUpload,
    protocol: Protocol,
    name: &str,
    url: &str,
) -> anyhow::Result<()> {
    if !matches!(protocol, Protocol::Tus | Protocol::Bits) {
        return Ok(());
    }
    Err(crate::error::UsageError(format!(
        "{} needs a destination that confirms each file's SHA-256, and {name} at {url} cannot (its uploads carry no digest back); nothing was uploaded",
        after.flag(),
    ))
    .into())
}

/// After a job succeeded in `run`: with `--delete-after` / `--move-to`,
/// clears its source, records that on the job and reports it; whether the
/// source was cleared. Only a journal failure is an error.
pub async fn source(run: &Run, route: &Route, job: &Job) -> anyhow::Result<bool> {
    let Some(after) = &run.settings.after_upload else {
        return Ok(false);
    };
    let source = job.resource.source();
    if let Some(because) = run.settings.clearing.held(&source) {
        let reason = format!("kept {}: {because}", source.display());
        (run.reporter).event(Event::Kept {
            job,
            source: &source,
            reason: &reason,
        });
        return Ok(false);
    }
    if job.resource.asset.is_some() {
        // Cleared with the rest of its asset after the run (`clear_assets`).
        run.asset_members_done().push(job.id.clone());
        return Ok(false);
    }
    match after_success(after, route, &run.client, &run.settings, job).await {
        Ok(cleared) => {
            let record = |job: &mut Job| job.record_cleared(cleared.clone());
            let job = (run.shared)
                .change(&job.id, Durability::Durable, record)
                .await?;
            (run.reporter).event(Event::Cleared {
                job: &job,
                cleared: &cleared,
                duplicate: None,
            });
            Ok(true)
        }
        Err(reason) => {
            (run.reporter).event(Event::Kept {
                job,
                source: &source,
                reason: &reason,
            });
            Ok(false)
        }
    }
}

/// What clearing the carried sources came to.
#[derive(Default)]
pub struct CarriedOutcome {
    pub cleared: u64,
    pub kept: u64,
    /// Jobs whose copy the destination lost, put back in the queue.
    pub requeued: u64,
    /// Of `kept`, the files this run uploaded (an asset's members, kept
    /// with their asset): counted among the run's uploads already.
    pub kept_fresh: u64,
}

impl CarriedOutcome {
    pub fn add(&mut self, other: CarriedOutcome) {
        self.cleared += other.cleared;
        self.kept += other.kept;
        self.requeued += other.requeued;
        self.kept_fresh += other.kept_fresh;
    }
}

impl std::iter::Sum for CarriedOutcome {
    fn sum<I: Iterator<Item = CarriedOutcome>>(outcomes: I) -> CarriedOutcome {
        let mut total = CarriedOutcome::default();
        outcomes.for_each(|outcome| total.add(outcome));
        total
    }
}

/// Why a twin's copy was not confirmed.
pub(super) enum Unconfirmed {
    /// The destination answered: missing, or other content.
    Lost(String),
    /// No answer that decides (unreachable, an error, nothing to ask).
    Unknown(String),
    /// The destination holds a file of the size, and gave no digest.
    SizeOnly(String),
    /// The twin's own upload has not succeeded.
    NotUploaded(State),
}

/// The asset a carried file belongs to: the one this scan found it in, or
/// its own job's.
pub(super) fn asset_of(run: &Run, carried: &CarriedSource) -> Option<String> {
    carried.asset.clone().or_else(|| {
        let store = run.shared.lock();
        let job = store.job(&carried.twin).filter(|_| carried.same_path)?;
        Some(job.resource.asset.as_ref()?.id.clone())
    })
}

/// After the run's jobs: clears the scanned files whose content an
/// already succeeded job carries (`settings.carried`), one twin's files
/// after another's confirmation, `-j` twins at a time. Jobs this run
/// processed had their own source handled when they ended (`done_now`).
/// Ctrl-C or the end of the time window starts no further check.
pub async fn carried(
    run: &Run,
    routes: &super::route::Routes,
    done_now: &HashSet<JobId>,
) -> anyhow::Result<CarriedOutcome> {
    let Some(after) = &run.settings.after_upload else {
        return Ok(CarriedOutcome::default());
    };
    let mut groups: Vec<(&JobId, Vec<&CarriedSource>)> = Vec::new();
    let mut slot: HashMap<&JobId, usize> = HashMap::new();
    let all_carried = run.settings.clearing.carried();
    for carried in &all_carried {
        if carried.same_path && done_now.contains(&carried.twin) {
            continue;
        }
        if asset_of(run, carried).is_some() {
            // Cleared with its whole asset (`clear_assets`).
            continue;
        }
        let at = *slot.entry(&carried.twin).or_insert_with(|| {
            groups.push((&carried.twin, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(carried);
    }
    let outcomes: Vec<CarriedOutcome> = futures_util::stream::iter(groups)
        .map(|(twin, sources)| clear_twins_files(run, routes, after, twin, sources))
        .buffer_unordered(run.settings.concurrency.max(1))
        .try_collect()
        .await?;
    Ok(outcomes.into_iter().sum())
}

/// Confirms one twin's copy, then clears the files it vouches for.
async fn clear_twins_files(
    run: &Run,
    routes: &super::route::Routes,
    after: &AfterUpload,
    twin: &JobId,
    sources: Vec<&CarriedSource>,
) -> anyhow::Result<CarriedOutcome> {
    let mut outcome = CarriedOutcome::default();
    let stopping = || run.gates.closed.is_cancelled();
    let Some(twin) = run.shared.lock().job(twin).cloned() else {
        return Ok(outcome);
    };
    if stopping() {
        return Ok(outcome);
    }
    let confirmation = match (twin.state, routes.for_url(&twin.destination.url)) {
        (State::Succeeded, Some(route)) => tokio::select! {
            confirmed = confirm_now(run, &route, &twin) => confirmed,
            _ = run.gates.closed.cancelled() => return Ok(outcome),
        },
        (State::Succeeded, None) => Err(Unconfirmed::Unknown(
            "no route to its destination in this run".to_owned(),
        )),
        (state, _) => Err(Unconfirmed::NotUploaded(state)),
    };
    if let Err(Unconfirmed::Lost(_)) = &confirmation {
        // The backup is short of this content: the next run sends it again.
        (run.shared)
            .change(&twin.id, Durability::Durable, Job::requeue)
            .await?;
        outcome.requeued += 1;
    }
    let holder = twin.resource.source();
    for carried in sources {
        if stopping() {
            break;
        }
        let kept = |why: String| format!("kept {}: {why}", carried.source.display());
        let twin_said = |why: &str| match carried.same_path {
            true => why.to_owned(),
            false => format!("{} holding the same content: {why}", holder.display()),
        };
        let held = run.settings.clearing.held(&carried.source);
        let result = match &confirmation {
            _ if let Some(because) = held => Err(kept(because)),
            Ok(()) => clear_carried(after, carried, &twin).await,
            Err(Unconfirmed::Lost(why)) => Err(kept(twin_said(&format!(
                "{why}; {} queued again, the next run sends it",
                match carried.same_path {
                    true => "it is",
                    false => "that file is",
                }
            )))),
            Err(Unconfirmed::Unknown(why) | Unconfirmed::SizeOnly(why)) => {
                Err(kept(twin_said(why)))
            }
            // Its own job's failure or interruption says why already.
            Err(Unconfirmed::NotUploaded(_)) if carried.same_path => continue,
            Err(Unconfirmed::NotUploaded(state)) => {
                Err(kept(twin_said(&format!("it is {state}, not uploaded"))))
            }
        };
        match result {
            Ok(cleared) => {
                if carried.same_path {
                    let record = |job: &mut Job| job.record_cleared(cleared.clone());
                    (run.shared)
                        .change(&twin.id, Durability::Durable, record)
                        .await?;
                }
                let duplicate = (!carried.same_path).then_some(carried.source.as_path());
                (run.reporter).event(Event::Cleared {
                    job: &twin,
                    cleared: &cleared,
                    duplicate,
                });
                outcome.cleared += 1;
            }
            Err(reason) => {
                (run.reporter).event(Event::Kept {
                    job: &twin,
                    source: &carried.source,
                    reason: &reason,
                });
                outcome.kept += 1;
            }
        }
    }
    Ok(outcome)
}

/// With `--delete-after` or `--move-to`, a run that cleared nothing says
/// why: `kept` files stayed (each with its warning), or there was nothing.
pub fn say_why_nothing_was_cleared(settings: &Settings, reporter: &dyn Reporter, kept: u64) {
    let Some(after) = &settings.after_upload else {
        return;
    };
    let reason = match kept {
        0 => "no file under the folders was uploaded or is already at the destination".to_owned(),
        1 => "1 file was kept; the warning above says why".to_owned(),
        n => format!("{n} files were kept; the warnings above say why"),
    };
    reporter.event(Event::ClearedNothing {
        flag: after.flag(),
        reason: &reason,
    });
}

/// Asks the destination now whether it holds `job`'s full SHA-256.
pub(super) async fn confirm_now(run: &Run, route: &Route, job: &Job) -> Result<(), Unconfirmed> {
    let (verdict, detail) = match route {
        Route::S3(route) => verify::s3_verdict(route, &run.settings, job)
            .await
            .unwrap_or_else(|failure| (verify::Verdict::Unknown, failure.text())),
        Route::Sftp(route) => verify::sftp_verdict(route, job).await,
        _ => {
            let remembered = run.shared.lock().chosen_protocol(&job.destination.url);
            verify::check(&run.client, &run.settings, job, remembered).await
        }
    };
    let said = format!(
        "the destination did not confirm its SHA-256 ({}: {detail})",
        verdict.label()
    );
    match verdict {
        verify::Verdict::Verified => Ok(()),
        verdict if verdict.is_bad() => Err(Unconfirmed::Lost(said)),
        verify::Verdict::SizeOnly => Err(Unconfirmed::SizeOnly(said)),
        _ => Err(Unconfirmed::Unknown(said)),
    }
}

/// Clears one carried source; a duplicate, or a file whose hash the scan
/// took from the journal, is hashed again first.
async fn clear_carried(
    after: &AfterUpload,
    carried: &CarriedSource,
    twin: &Job,
) -> Result<Cleared, String> {
    let (after, carried, twin) = (after.clone(), carried.clone(), twin.clone());
    let expected = twin.resource.sha256;
    tokio::task::spawn_blocking(move || {
        let source = &carried.source;
        // A duplicate, or a file whose hash is the journal's memory, is
        // read again: an edit in place may have kept its size and times.
        if !carried.same_path || !carried.read_now {
            let hashed = digest::sha256_file(source, &carried.stat)
                .map_err(|error| format!("kept {}: {error}", source.display()))?;
            if hashed != expected {
                return Err(match carried.same_path {
                    true => format!("kept {}: {EDITED_IN_PLACE}", source.display()),
                    false => format!(
                        "kept {}: its content is not the same as its twin's any more",
                        source.display()
                    ),
                });
            }
        }
        clear_file(&after, source, &carried.relative, carried.stat, &twin)
    })
    .await
    .map_err(|error| error.to_string())?
}

/// Confirms `job`'s upload end to end, then deletes or moves its source.
pub async fn after_success(
    after: &AfterUpload,
    route: &Route,
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
) -> Result<Cleared, String> {
    let source = job.resource.source();
    confirm_answered(route, client, settings, job)
        .await
        .map_err(|why| format!("kept {}: {why}", source.display()))?;
    let (after, job) = (after.clone(), job.clone());
    tokio::task::spawn_blocking(move || {
        let resource = &job.resource;
        clear_file(
            &after,
            &source,
            resource.path.as_path(),
            resource.stat(),
            &job,
        )
    })
    .await
    .map_err(|error| error.to_string())?
}

pub(super) async fn confirm_answered(
    route: &Route,
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
) -> Result<(), String> {
    let expected = &job.resource.sha256;
    match route {
        Route::Local(_) => match verify::check(client, settings, job, None).await {
            (verify::Verdict::Verified, _) => Ok(()),
            (_, detail) => Err(format!("the local copy was not confirmed: {detail}")),
        },
        Route::S3(route) => match verify::s3_verdict(route, settings, job).await {
            Ok((verify::Verdict::Verified, _)) => Ok(()),
            Ok((_, detail)) => Err(format!("the object was not confirmed: {detail}")),
            Err(failure) => Err(failure.text()),
        },
        Route::Sftp(route) => match verify::sftp_verdict(route, job).await {
            (verify::Verdict::Verified, _) => Ok(()),
            (_, detail) => Err(format!("the server did not confirm the file: {detail}")),
        },
        Route::Http(_) => {
            let headers = job.response.as_ref().map(|r| &r.headers);
            let answered = headers.and_then(|headers| headers.get("repr-digest"));
            match answered.and_then(|value| read_digest(value)) {
                Some(found) if found == *expected => Ok(()),
                Some(found) => Err(format!(
                    "the server answered sha-256 {}, not {}",
                    found.to_hex(),
                    expected.to_hex()
                )),
                None => Err("the server did not confirm its SHA-256 (no Repr-Digest)".to_owned()),
            }
        }
    }
}

fn read_digest(value: &str) -> Option<Sha256> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("repr-digest", value.parse().ok()?);
    wire::fields::sha256_digest(&headers, "Repr-Digest").ok()?
}

/// Deletes or moves `source` (`relative` below its scanned folder), if it
/// is still the file the scan saw (`scanned`).
pub(super) fn clear_file(
    after: &AfterUpload,
    source: &Path,
    relative: &Path,
    scanned: FileStat,
    uploaded: &Job,
) -> Result<Cleared, String> {
    let kept = |why: String| format!("kept {}: {why}", source.display());
    if let Some(why) = super::own_copy::may_be_own_copy(source, &uploaded.destination) {
        return Err(kept(why));
    }
    if let Some(why) = super::own_copy::is_the_local_copy(source, uploaded) {
        return Err(kept(why));
    }
    let expected = &uploaded.resource.sha256;
    let now = std::fs::symlink_metadata(source).map_err(|error| kept(error.to_string()))?;
    if FileStat::of(&now) != scanned {
        return Err(kept("it changed since the scan".to_owned()));
    }
    match after {
        AfterUpload::Delete => {
            std::fs::remove_file(source).map_err(|error| kept(error.to_string()))?;
            Ok(Cleared::deleted())
        }
        AfterUpload::MoveTo(dir) => {
            let target = dir.join(relative);
            super::clear_move::move_without_replacing(source, &target, expected).map_err(kept)?;
            Ok(Cleared::moved(JournalPath::new(target)))
        }
    }
}
