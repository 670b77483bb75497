//! Clearing a card asset by asset: `--delete-after` and `--move-to` never
//! leave a Live Photo's still without its video, a JPEG without its RAW,
//! or a photo without its sidecar, on the card or at the destination.
//!
//! A member's source is not cleared when its own job ends (`clear`) but
//! after the run, with the rest of its asset, and only when every job of
//! the asset toward that destination has succeeded, the destination
//! confirms each member's full SHA-256 (as `clear` does for one file), and
//! every member's file is still as the scan saw it. One member short, and
//! every member stays, each with a line naming the one at fault.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::{StreamExt, TryStreamExt};

use super::clear::{self, AfterUpload, CarriedOutcome, CarriedSource, Unconfirmed, asset_of};
use super::route::Routes;
use super::run::Run;
use crate::digest::{self, FileStat};
use crate::journal::job::{Job, JobId, State};
use crate::journal::store::Durability;
use crate::report::Event;

/// A file to clear with its asset; `fresh`: its job succeeded in this run,
/// so its upload's answer may stand in when the destination, asked again,
/// can neither confirm nor deny (a server whose HEAD carries no digest).
struct Member {
    file: CarriedSource,
    fresh: bool,
}

/// `job`'s own source, as a member of `asset` to clear.
fn own_source(job: &Job, asset: &str, read_now: bool) -> CarriedSource {
    CarriedSource {
        read_now,
        source: job.resource.source(),
        relative: job.resource.path.as_path().to_owned(),
        stat: job.resource.stat(),
        twin: job.id.clone(),
        same_path: true,
        asset: Some(asset.to_owned()),
    }
}

/// After the run's jobs: clears the sources of assets, each asset whole or
/// not at all, `-j` assets at a time.
pub async fn assets(
    run: &Run,
    routes: &Routes,
    done_now: &HashSet<JobId>,
) -> anyhow::Result<CarriedOutcome> {
    let Some(after) = &run.settings.after_upload else {
        return Ok(CarriedOutcome::default());
    };
    let done: Vec<JobId> = std::mem::take(&mut *run.asset_members_done());
    let mut groups: BTreeMap<(String, String), Vec<Member>> = BTreeMap::new();
    {
        let store = run.shared.lock();
        for job in done.iter().filter_map(|id| store.job(id)) {
            let Some(asset) = &job.resource.asset else {
                continue;
            };
            let key = (asset.id.clone(), job.destination.url.clone());
            groups.entry(key).or_default().push(Member {
                file: own_source(job, &asset.id, true),
                fresh: true,
            });
        }
    }
    let all_carried = run.settings.clearing.carried();
    for carried in &all_carried {
        if carried.same_path && done_now.contains(&carried.twin) {
            continue;
        }
        let Some(asset) = asset_of(run, carried) else {
            continue;
        };
        let url = run
            .shared
            .lock()
            .job(&carried.twin)
            .map(|job| job.destination.url.clone());
        let Some(url) = url else {
            continue;
        };
        groups.entry((asset, url)).or_default().push(Member {
            file: carried.clone(),
            fresh: false,
        });
    }
    // Each asset's jobs, from one pass over the journal rather than one
    // per asset.
    let mut jobs_of: HashMap<String, Vec<Job>> = (groups.keys())
        .map(|(asset, _)| (asset.clone(), Vec::new()))
        .collect();
    for job in run.shared.lock().jobs() {
        let asset = job.resource.asset.as_ref();
        if let Some(jobs) = asset.and_then(|asset| jobs_of.get_mut(&asset.id)) {
            jobs.push(job.clone());
        }
    }
    let jobs_of = &jobs_of;
    let outcomes: Vec<CarriedOutcome> = futures_util::stream::iter(groups)
        .map(|((asset, url), members)| {
            let jobs = jobs_of.get(&asset).map_or(&[][..], Vec::as_slice);
            clear_asset(run, routes, after, (asset, jobs), url, members)
        })
        .buffer_unordered(run.settings.concurrency.max(1))
        .try_collect()
        .await?;
    Ok(outcomes.into_iter().sum())
}

/// Clears one asset's files toward `url`, or keeps them all.
async fn clear_asset(
    run: &Run,
    routes: &Routes,
    after: &AfterUpload,
    (asset, jobs): (String, &[Job]),
    url: String,
    members: Vec<Member>,
) -> anyhow::Result<CarriedOutcome> {
    let mut outcome = CarriedOutcome::default();
    if run.gates.closed.is_cancelled() {
        return Ok(outcome);
    }
    let (here, elsewhere) = asset_jobs(jobs, &url);
    // Members this run neither uploaded nor scanned (`ferry upload` after
    // a `retry`) are cleared with the rest, unless cleared before or gone.
    let mut members = members;
    for job in here.values() {
        let listed = (members.iter()).any(|m| m.file.same_path && m.file.twin == job.id);
        let gone = matches!(
            std::fs::symlink_metadata(job.resource.source()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound
        );
        if listed || gone || job.cleared.is_some() {
            continue;
        }
        members.push(Member {
            file: own_source(job, &asset, false),
            fresh: false,
        });
    }
    let twins: HashMap<JobId, Job> = {
        let store = run.shared.lock();
        (members.iter())
            .filter_map(|member| store.job(&member.file.twin))
            .map(|job| (job.id.clone(), job.clone()))
            .collect()
    };
    let shown = |job: &Job| job.resource.path.as_path().display().to_string();
    let mut problem = elsewhere
        .iter()
        .map(|job| {
            format!(
                "{} of the same asset went to {}, not here",
                shown(job),
                job.destination.url
            )
        })
        .chain(
            (here.values().chain(twins.values()))
                .filter(|job| job.state != State::Succeeded)
                .map(|job| format!("{} of the same asset is {}, not uploaded", shown(job), job.state)),
        )
        .chain(members.iter().filter(|m| !m.file.same_path).filter_map(|member| {
            // A duplicate's content went to the destination with another
            // photo, not beside this one.
            let twin = twins.get(&member.file.twin)?;
            let with_this_asset = twin.resource.asset.as_ref().is_some_and(|a| a.id == asset);
            (!with_this_asset).then(|| {
                format!(
                    "{} of the same asset has the content of {}, which was uploaded with another photo, not beside this one",
                    member.file.source.display(),
                    shown(twin)
                )
            })
        }))
        .next();
    if problem.is_none() {
        let held = members
            .iter()
            .find_map(|m| run.settings.clearing.held(&m.file.source));
        problem = held;
    }
    if problem.is_none() {
        problem = confirm_all(run, routes, &members, &twins, &mut outcome).await?;
    }
    if problem.is_none() {
        problem = still_as_scanned(after, &members, &twins).await;
    }
    for member in &members {
        let Some(twin) = twins.get(&member.file.twin) else {
            continue;
        };
        let source = &member.file.source;
        let result = match &problem {
            // Its own job's failure or interruption says why already.
            Some(_) if twin.state != State::Succeeded && member.file.same_path => continue,
            Some(why) => Err(format!("kept {}: {why}", source.display())),
            None => {
                let (after, file) = (after.clone(), member.file.clone());
                let twin = (*twin).clone();
                tokio::task::spawn_blocking(move || {
                    let (source, relative) = (&file.source, &file.relative);
                    clear::clear_file(&after, source, relative, file.stat, &twin)
                })
                .await
                .map_err(|error| error.to_string())
                .and_then(|cleared| cleared)
            }
        };
        match result {
            Ok(cleared) => {
                if member.file.same_path {
                    let record = |job: &mut Job| job.record_cleared(cleared.clone());
                    (run.shared)
                        .change(&twin.id, Durability::Durable, record)
                        .await?;
                }
                let duplicate = (!member.file.same_path).then_some(source.as_path());
                (run.reporter).event(Event::Cleared {
                    job: twin,
                    cleared: &cleared,
                    duplicate,
                });
                outcome.cleared += 1;
            }
            Err(reason) => {
                (run.reporter).event(Event::Kept {
                    job: twin,
                    source,
                    reason: &reason,
                });
                outcome.kept += 1;
                outcome.kept_fresh += u64::from(member.fresh);
            }
        }
    }
    Ok(outcome)
}

/// Jobs by their file: its scanned folder's and its own path's bytes.
type ByFile = BTreeMap<(Vec<u8>, Vec<u8>), Job>;

/// The asset's jobs (`jobs`, in the journal's order) toward `url`, the
/// latest for each file (a file changed since gets a newer job), and the
/// files of the asset whose latest job went to another destination only
/// (`retry --to`).
fn asset_jobs(jobs: &[Job], url: &str) -> (ByFile, Vec<Job>) {
    let mut here = ByFile::new();
    let mut anywhere = ByFile::new();
    for job in jobs.iter().filter(|job| job.state != State::Cancelled) {
        let file = (job.resource.root.to_bytes(), job.resource.path.to_bytes());
        if job.destination.url == url {
            here.insert(file.clone(), job.clone());
        }
        anywhere.insert(file, job.clone());
    }
    let elsewhere = anywhere
        .into_iter()
        .filter(|(file, _)| !here.contains_key(file))
        .map(|(_, job)| job)
        .collect();
    (here, elsewhere)
}

/// Asks the destination for each member's full SHA-256; what stops the
/// asset from being cleared, if anything. A copy the destination lost is
/// queued again.
async fn confirm_all(
    run: &Run,
    routes: &Routes,
    members: &[Member],
    twins: &HashMap<JobId, Job>,
    outcome: &mut CarriedOutcome,
) -> anyhow::Result<Option<String>> {
    let mut asked: HashSet<&JobId> = HashSet::new();
    for member in members {
        let Some(twin) = twins.get(&member.file.twin) else {
            continue;
        };
        if !asked.insert(&twin.id) {
            continue;
        }
        let Some(route) = routes.for_url(&twin.destination.url) else {
            return Ok(Some(format!(
                "{} of the same asset has no route to its destination in this run",
                twin.resource.path.as_path().display()
            )));
        };
        // Asked now, even for a member this run uploaded: members are
        // cleared after the whole run, and a copy may have changed at the
        // destination since its upload was answered. A copy found missing
        // or different wins. Only a destination that answers with the
        // size but can give no digest (a plain PUT server) leaves a fresh
        // member to its upload's answer; one that cannot answer now
        // (unreachable, an error) keeps the asset.
        let confirmed = tokio::select! {
            confirmed = clear::confirm_now(run, &route, twin) => confirmed,
            _ = run.gates.closed.cancelled() => {
                return Ok(Some("the run was stopped before it was confirmed".to_owned()));
            }
        };
        let confirmed = match confirmed {
            Err(Unconfirmed::SizeOnly(_)) if member.fresh => {
                clear::confirm_answered(&route, &run.client, &run.settings, twin)
                    .await
                    .map_err(Unconfirmed::Unknown)
            }
            other => other,
        };
        let said = |why: &str| {
            format!(
                "{} of the same asset: {why}",
                twin.resource.path.as_path().display()
            )
        };
        match confirmed {
            Ok(()) => {}
            Err(Unconfirmed::Lost(why)) => {
                (run.shared)
                    .change(&twin.id, Durability::Durable, Job::requeue)
                    .await?;
                outcome.requeued += 1;
                return Ok(Some(said(&format!(
                    "{why}; queued again, the next run sends it"
                ))));
            }
            Err(Unconfirmed::Unknown(why) | Unconfirmed::SizeOnly(why)) => {
                return Ok(Some(said(&why)));
            }
            Err(Unconfirmed::NotUploaded(state)) => {
                return Ok(Some(said(&format!("it is {state}, not uploaded"))));
            }
        }
    }
    Ok(None)
}

/// Members at most this big are hashed again before their asset is
/// cleared, whatever the scan read: sidecars and `.AAE` edits, a few KiB.
const READ_AGAIN_UP_TO: u64 = 1 << 20;

/// Whether every member's file is still as the scan saw it (a duplicate's
/// bytes hashed again) and, with `--move-to`, has its new name free:
/// checked before any is cleared.
async fn still_as_scanned(
    after: &AfterUpload,
    members: &[Member],
    twins: &HashMap<JobId, Job>,
) -> Option<String> {
    let move_to = match after {
        AfterUpload::MoveTo(dir) => Some(dir.clone()),
        AfterUpload::Delete => None,
    };
    let checks: Vec<(CarriedSource, crate::digest::Sha256)> = members
        .iter()
        .filter_map(|member| {
            let twin = twins.get(&member.file.twin)?;
            Some((member.file.clone(), twin.resource.sha256))
        })
        .collect();
    let checked = tokio::task::spawn_blocking(move || {
        for (file, expected) in &checks {
            let now = std::fs::symlink_metadata(&file.source);
            let now = match now {
                Ok(meta) => FileStat::of(&meta),
                Err(error) => return Some(format!("{}: {error}", file.source.display())),
            };
            if now != file.stat {
                return Some(format!(
                    "{} of the same asset changed since the scan",
                    file.source.display()
                ));
            }
            if let Some(target) = move_to.as_ref().map(|dir| dir.join(&file.relative))
                && std::fs::symlink_metadata(&target).is_ok()
            {
                return Some(format!(
                    "{} already exists, so {} of the same asset cannot move there",
                    target.display(),
                    file.source.display()
                ));
            }
            // A small member (a sidecar: what editors rewrite in place,
            // `exiftool -P` keeping its time) is read again as well, as it
            // may have changed while the rest of its asset uploaded.
            if !file.same_path || !file.read_now || file.stat.size <= READ_AGAIN_UP_TO {
                match digest::sha256_file(&file.source, &file.stat) {
                    Ok(hashed) if hashed == *expected => {}
                    Ok(_) => {
                        return Some(match file.same_path {
                            true => format!(
                                "{} of the same asset: {}",
                                file.source.display(),
                                super::clear_move::EDITED_IN_PLACE
                            ),
                            false => format!(
                                "{} of the same asset is not the same as its twin's content any more",
                                file.source.display()
                            ),
                        });
                    }
                    Err(error) => return Some(format!("{}: {error}", file.source.display())),
                }
            }
        }
        None
    })
    .await;
    checked.unwrap_or_else(|error| Some(error.to_string()))
}
