//! The run: processable jobs, N at a time, each to its route.
//!
//! Each job runs through `attempt` (HTTP protocols) or the local folder's
//! copy; this module only schedules them (`buffer_unordered` over one shared
//! client), hands each finished transfer to `record`, and watches what
//! concerns the whole run. The session URL is fsynced in the journal before
//! the first data byte leaves; offsets are written lazily, since the server
//! is the source of truth for them; a finished transfer gives up its place
//! and waits, beside up to 64 per place, for the fsync that records it, which
//! all of them share (the journal's group commit). A 401/403 or a journal
//! failure stops scheduling new jobs. The first Ctrl-C (or SIGTERM) cancels
//! the requests in flight and lets the run checkpoint and summarize; a second
//! one exits at once. The jobs in flight are sampled for progress events.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::Settings;
use super::feed::{self, Fed};
use super::http::{self, Activity, Failure};
use super::progress;
use super::record::{Done, Ended, Outcome, RECORDING_PER_PLACE, Transferred};
use super::route::{self, Prepared, Routes};
use super::run::Run;
use super::shared::Shared;
use super::signals;
use super::throttle::Limits;
use super::window::Gates;
use super::{clear, clear_assets};
use crate::journal::job::{Action, Job, JobId, State};
use crate::journal::store::{Durability, Store};
use crate::report::{Event, Reporter, UploadSummary};

/// Files up to this size are sent in one request (copied in one go): their
/// start is recorded only with their end.
const SMALL: u64 = super::attempt::WHOLE_FILE_MAX;

/// Processes the journal's processable jobs, and with `fed` those a sync's
/// scan hands over as it goes, and returns the run's summary. Also returns
/// the failures list: every failed job not yet retried or acknowledged,
/// this run's and earlier ones.
pub fn run(
    shared: Shared,
    settings: Settings,
    prepared: Prepared,
    reporter: Arc<dyn Reporter>,
    fed: Option<Fed>,
) -> anyhow::Result<(UploadSummary, Vec<Job>)> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run_async(shared, settings, prepared, reporter, fed))
}

/// Jobs of this run's scope that succeeded before it: for "nothing to do".
fn done_before(store: &Store, settings: &Settings) -> u64 {
    // Of the destination and folders asked about, not the whole journal.
    let in_scope = |job: &&Job| {
        (settings.only.as_ref()).is_none_or(|only| job.destination.url == only.url)
            && (settings.only_roots.is_empty()
                || (settings.only_roots.iter()).any(|root| job.resource.source().starts_with(root)))
    };
    (store.jobs().iter())
        .filter(|job| job.state == State::Succeeded)
        .filter(in_scope)
        .count() as u64
}

async fn run_async(
    shared: Shared,
    settings: Settings,
    prepared: Prepared,
    reporter: Arc<dyn Reporter>,
    fed: Option<Fed>,
) -> anyhow::Result<(UploadSummary, Vec<Job>)> {
    let started = Instant::now();
    // A sync's exit code and list are about its own destination's files.
    let only = settings.only.as_ref().map(|only| only.url.clone());
    let failures = |store: &Store| store.failures(only.as_deref());
    let ids: Vec<JobId> = shared
        .lock()
        .select(Action::Process)
        .filter(|job| {
            // By URL, as the scan dedupes: a job queued with another --protocol still counts.
            (settings.only.as_ref()).is_none_or(|only| job.destination.url == only.url)
        })
        .map(|job| job.id.clone())
        .collect();
    // A sync's scan may yet hand over jobs, and find files to clear.
    if ids.is_empty() && fed.is_none() {
        let done_before = done_before(&shared.lock(), &settings);
        reporter.event(Event::NothingToDo { done_before });
    }
    let clearing = settings.after_upload.is_some() && settings.clearing.carries_any();
    if ids.is_empty() && !clearing && fed.is_none() {
        clear::say_why_nothing_was_cleared(&settings, reporter.as_ref(), 0);
        let listed = failures(&shared.lock());
        let summary = UploadSummary {
            failures_listed: listed.len() as u64,
            ..UploadSummary::default()
        };
        return Ok((summary, listed));
    }
    let client = http::client(&settings)?;
    let was_fed = fed.is_some();
    let (fed, cancel) = match fed {
        Some(fed) => (Some(fed.jobs), fed.cancel),
        None => (None, CancellationToken::new()),
    };
    let signals = tokio::spawn(signals::watch(cancel.clone(), reporter.clone())?);
    // Asking the servers what they speak may take retries: Ctrl-C ends it.
    let routes = tokio::select! {
        routes = route::routes(&shared, &ids, &settings, &prepared, &client) => routes?,
        _ = cancel.cancelled() => {
            signals.abort();
            let summary = UploadSummary {
                interrupted: true,
                left: ids.len() as u64,
                seconds: started.elapsed().as_secs_f64(),
                ..UploadSummary::default()
            };
            let listed = failures(&shared.lock());
            return Ok((UploadSummary { failures_listed: listed.len() as u64, ..summary }, listed));
        }
    };
    if let Some(after) = &settings.after_upload {
        clear::refuse_unconfirmable(after, &routes)?;
    }
    let gates = Gates::new(&cancel);
    let window =
        (settings.window.as_ref()).map(|window| gates.start_timer(window, reporter.clone()));
    let run = Arc::new(Run {
        limits: Limits::new(&settings),
        settings,
        shared: shared.clone(),
        client,
        routes: Routes::new(routes),
        reporter: reporter.clone(),
        cancel: cancel.clone(),
        gates: gates.clone(),
        stopped_by: Mutex::new(None),
        active: Mutex::new(HashMap::new()),
        asset_members_done: Mutex::new(Vec::new()),
    });
    let (jobs, bytes) = {
        let store = shared.lock();
        let sizes = ids
            .iter()
            .filter_map(|id| store.job(id))
            .map(|job| job.resource.size);
        (ids.len() as u64, sizes.sum())
    };
    if jobs > 0 && !was_fed {
        reporter.event(Event::RunStarted { jobs, bytes });
    }
    for (destination, rate) in run.limits.rates(false) {
        reporter.event(Event::Bwlimit { destination, rate });
    }
    let progress = tokio::spawn(progress::report(run.clone()));

    let concurrency = run.settings.concurrency.max(1);
    // A sync's scan hands over every job it takes, those of earlier runs
    // too: `ids` only chose the routes.
    let waiting = if was_fed { Vec::new() } else { ids };
    let (jobs, taken) = feed::jobs(&shared, fed, waiting, reporter.clone());
    // A job holds one of the N places while it transfers; recording how it
    // ended (the journal's fsync, shared by all who wait for it) runs as a
    // task of its own after, so small files do not wait for each other's
    // syncs, and the transfers in flight are polled all the while. A
    // transfer waits for a recording permit before it gives up its place:
    // at most 64 per place wait to be recorded, or N when clearing a source
    // asks the destination.
    let recording = match run.settings.after_upload {
        Some(_) => concurrency,
        None => concurrency * RECORDING_PER_PLACE,
    };
    let permits = Arc::new(tokio::sync::Semaphore::new(recording));
    // Each recording task sends how its job ended and is then gone: a
    // handle kept per job would hold every finished task's memory (about
    // 6 KiB each: 600 MiB for 100,000 small files) until the run ends.
    let (ends, mut ended) = tokio::sync::mpsc::unbounded_channel::<Ended>();
    let spawned: usize = jobs
        .map(|handed| {
            let (run, permits, ends) = (run.clone(), permits.clone(), ends.clone());
            async move {
                let transferred = feed::sent(&run, handed).await;
                let permit = permits.acquire_owned().await.expect("never closed");
                tokio::spawn(async move {
                    let _ = ends.send(run.record(transferred).await);
                    drop(permit);
                });
            }
        })
        .buffer_unordered(concurrency)
        .fold(0, |spawned, ()| async move { spawned + 1 })
        .await;
    drop(ends);
    let mut outcomes: Vec<Ended> = Vec::with_capacity(spawned);
    while let Some(end) = ended.recv().await {
        outcomes.push(end);
    }
    if outcomes.len() < spawned {
        anyhow::bail!(
            "{} of {spawned} jobs' ends could not be recorded",
            spawned - outcomes.len()
        );
    }
    let (done_now, scan_ended_well) = {
        let mut taken = taken.lock().unwrap_or_else(|p| p.into_inner());
        (
            std::mem::take(&mut taken.ids),
            taken.scan_ended_well || !was_fed,
        )
    };
    let went_on = !cancel.is_cancelled() && run.stopped_by().is_none();
    if was_fed && done_now.is_empty() && scan_ended_well && went_on {
        let done_before = done_before(&shared.lock(), &run.settings);
        reporter.event(Event::NothingToDo { done_before });
    }
    // A scan that failed may not have looked at every file it would clear.
    let carried = match !went_on || !scan_ended_well {
        true => clear::CarriedOutcome::default(),
        false => {
            let assets = clear_assets::assets(&run, &run.routes, &done_now).await?;
            let mut carried = clear::carried(&run, &run.routes, &done_now).await?;
            carried.add(assets);
            carried
        }
    };
    signals.abort();
    progress.abort();
    window.inspect(|timer| timer.abort());

    let on_schedule = gates.closed.is_cancelled() && !cancel.is_cancelled();
    let stopped_by = run.stopped_by().clone();
    let mut summary = UploadSummary {
        seconds: started.elapsed().as_secs_f64(),
        interrupted: cancel.is_cancelled(),
        on_schedule: on_schedule && stopped_by.is_none(),
        stopped_by: stopped_by.or_else(|| {
            let window = run.settings.window.as_ref().filter(|_| on_schedule);
            window.map(|window| window.by.to_owned())
        }),
        ..UploadSummary::default()
    };
    for ended in outcomes {
        summary.sent += ended.sent;
        summary.resumed += ended.resumed;
        match ended.outcome {
            Outcome::Succeeded { bytes, cleared } => {
                summary.succeeded += 1;
                summary.cleared += u64::from(cleared);
                summary.bytes += bytes;
            }
            Outcome::Failed => summary.failed += 1,
            Outcome::Left => summary.left += 1,
        }
    }
    summary.cleared += carried.cleared;
    summary.requeued += carried.requeued;
    if summary.cleared == 0 && !summary.interrupted {
        // Each upload kept its source; an asset's members among them are
        // counted once, with their asset.
        let kept = summary.succeeded + carried.kept - carried.kept_fresh.min(carried.kept);
        clear::say_why_nothing_was_cleared(&run.settings, reporter.as_ref(), kept);
    }
    let mut store = shared.lock();
    store.checkpoint()?;
    let listed = failures(&store);
    summary.failures_listed = listed.len() as u64;
    Ok((summary, listed))
}

impl Run {
    pub(super) async fn job(self: Arc<Self>, id: JobId) -> Transferred {
        if self.gates.closed.is_cancelled() || self.stopped_by().is_some() {
            return Transferred::Left;
        }
        self.transfer_job(&id).await.unwrap_or_else(|error| {
            // The journal itself failed: nothing more can be recorded.
            self.stop(format!("journal: {}", crate::error::one_line(&error)));
            Transferred::Left
        })
    }

    async fn transfer_job(&self, id: &JobId) -> anyhow::Result<Transferred> {
        // A small file's end follows its start within milliseconds and
        // records the whole job: its start gets no line of its own.
        let small = (self.shared.lock().job(id)).is_some_and(|job| job.resource.size <= SMALL);
        let durability = match small {
            true => Durability::Deferred,
            false => Durability::Lazy,
        };
        let job = self
            .shared
            .change(id, durability, Job::start_attempt)
            .await?;
        let route = self.routes.get(&job.destination);
        let activity = Arc::new(Activity::throttled(
            self.limits.for_destination(&job.destination.url),
        ));
        self.reporter.event(Event::Started {
            job: &job,
            protocol: &route.name(),
        });
        self.active()
            .insert(id.clone(), (job.clone(), activity.clone()));
        let mut result = self.transfer(&route, &job, &activity).await;
        let asked = (&self.shared, &self.settings, &self.client);
        if let Some(again) = self
            .routes
            .ask_again(asked, &route, &job.destination, result.as_ref().err())
            .await
        {
            activity.retrying();
            result = self.transfer(&again, &job, &activity).await;
        }
        self.active().remove(id);
        // What stops the run stops it now, before another transfer starts
        // (the record of this one comes later).
        match &result {
            Err(Failure::Journal(message)) => self.stop(format!("journal: {message}")),
            Err(Failure::Credentials { message, .. }) => {
                self.stop(format!("{message}; {}", route.refused_credentials()))
            }
            Err(Failure::Full { message }) => self.stop(format!(
                "{}: {message}: the destination has no room, so the run stopped and its jobs stay pending; they go on the next run once it has",
                job.destination.url
            )),
            Err(Failure::Refused { message, .. }) => self.stop(format!(
                "{}: {message}; it takes no uploads there, so the run stopped and its jobs stay pending (`ferry cancel --pending --to {}` drops them)",
                job.destination.url, job.destination.url
            )),
            _ => {}
        }
        Ok(Transferred::Done(Box::new(Done {
            job,
            route,
            result,
            sent: activity.sent.load(Ordering::Relaxed),
            resumed: activity.resumed(),
            retried: activity.retried(),
        })))
    }
}
