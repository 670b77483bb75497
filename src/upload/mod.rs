//! The upload engine: processable jobs, N at a time, to their destinations.
//!
//! Each job runs one loop whatever the protocol (`protocol::Adapter` hides the
//! differences): open a session, or ask the server where an existing one
//! stands (its number wins), then append from there until the server says the
//! upload is complete. The session URL is fsynced in the journal before the
//! first data byte leaves; offsets are written lazily, since the server is the
//! source of truth for them; a finished job waits for an fsync, which jobs
//! finishing together share (the journal's group commit). Transient failures
//! are retried with exponential backoff and jitter (or the server's
//! `Retry-After`); the
//! count starts again whenever the server's offset moved, so a long upload
//! over a flaky link still finishes. A 401/403 stops scheduling new jobs.
//! The first Ctrl-C (or SIGTERM) cancels the requests in flight and lets the
//! run checkpoint and summarize; a second one exits at once.

pub(crate) mod http;
pub mod probe;
pub mod protocols;

pub use protocols::ietf::{DEFAULT_VERSION as DEFAULT_IETF_VERSION, VERSIONS as IETF_VERSIONS};
pub use protocols::put::PutMethod;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use tokio_util::sync::CancellationToken;

use self::http::{Activity, Failure};
use self::probe::Capabilities;
use self::protocols::{Adapter, Appended, Exchange, Limits, Query};
use crate::digest::FileStat;
use crate::journal::job::{
    Action, Destination, ErrorClass, Job, JobError, JobId, Protocol, Resource, Response, Session,
    State,
};
use crate::journal::store::{Durability, Store};
use crate::report::{Event, Phase, Reporter, UploadSummary};
use crate::upload::protocols::local::{LocalError, LocalFolder};

pub use self::http::{is_secret_header, request_headers};

/// Files up to this size (inclusive) go in one request where the protocol allows it
/// (IETF optimistic creation, tus creation-with-upload, PUT). An interrupted
/// one starts again from 0, which costs at most this much.
pub const WHOLE_FILE_MAX: u64 = 4 << 20;

/// The smallest append a 413 can shrink us to before the job fails.
const MIN_APPEND: u64 = 64 << 10;

#[derive(Clone, Debug)]
pub struct Settings {
    pub concurrency: usize,
    pub retries: u32,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub auto_ack: bool,
    /// Only jobs for this destination (sync); every processable job otherwise.
    pub only: Option<Destination>,
    /// How to talk to a destination that `destinations` does not name.
    pub transfer: Transfer,
    /// Per destination URL, from the config file's named destinations.
    pub destinations: HashMap<String, Transfer>,
}

/// What may differ between destinations: request shape and credentials.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub chunk_size: Option<u64>,
    pub ietf_version: u8,
    pub put_method: PutMethod,
    /// `-H` headers, the token and configured headers; sent, never recorded.
    pub headers: HeaderMap,
}

impl Default for Transfer {
    fn default() -> Self {
        Transfer {
            chunk_size: None,
            ietf_version: DEFAULT_IETF_VERSION,
            put_method: PutMethod::Put,
            headers: HeaderMap::new(),
        }
    }
}

impl Settings {
    /// The transfer settings for one destination URL.
    pub fn transfer(&self, url: &str) -> &Transfer {
        self.destinations.get(url).unwrap_or(&self.transfer)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 4,
            retries: 8,
            idle_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            auto_ack: true,
            only: None,
            transfer: Transfer::default(),
            destinations: HashMap::new(),
        }
    }
}

/// Where a destination's jobs go, decided once per run.
enum Route {
    Local(Arc<LocalFolder>),
    Http(HttpRoute),
}

/// An HTTP destination: the protocol chosen, its limits, and how to talk to it.
struct HttpRoute {
    adapter: Adapter,
    limits: Limits,
    chunk_size: Option<u64>,
    headers: HeaderMap,
}

/// The store shared by concurrent jobs. The lock is held only to apply a
/// change in memory and append its line; fsyncs happen outside it.
#[derive(Clone)]
struct Shared {
    store: Arc<Mutex<Store>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies a change; a durable one returns after the fsync covering it.
    async fn change(
        &self,
        id: &JobId,
        durability: Durability,
        change: impl FnOnce(&mut Job) -> Result<(), crate::journal::job::TransitionError>,
    ) -> anyhow::Result<Job> {
        let (ticket, journal, job) = {
            let mut store = self.lock();
            let ticket = store.apply(id, Durability::Lazy, change)?;
            let job = store.job(id).cloned().expect("the job just changed");
            (ticket, store.journal_handle()?, job)
        };
        if durability == Durability::Durable {
            tokio::task::spawn_blocking(move || journal.sync(ticket)).await??;
        }
        Ok(job)
    }
}

/// What the run shares between its jobs.
struct Run {
    settings: Settings,
    shared: Shared,
    client: reqwest::Client,
    routes: HashMap<Destination, Arc<Route>>,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
    /// Set by a 401/403 or a journal failure: no new job starts, and the
    /// run ends with this message.
    stopped_by: Mutex<Option<String>>,
    /// The jobs in flight, sampled by `report_progress`.
    active: Mutex<HashMap<JobId, (Job, Arc<Activity>)>>,
}

/// How often the jobs in flight are sampled for progress events; reporters
/// throttle further (bars redraw at most 10 times a second, JSON once a
/// second per job).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Emits a `Progress` event per job in flight, then a `Tick`, until aborted.
async fn report_progress(run: Arc<Run>) {
    let mut interval = tokio::time::interval(PROGRESS_EVERY);
    loop {
        interval.tick().await;
        let active: Vec<(Job, u64)> = run
            .active()
            .values()
            .map(|(job, activity)| (job.clone(), activity.position.load(Ordering::Relaxed)))
            .collect();
        for (job, offset) in &active {
            run.reporter.event(Event::Progress {
                job,
                offset: *offset,
            });
        }
        run.reporter.event(Event::Tick);
    }
}

enum Outcome {
    Succeeded { bytes: u64, sent: u64 },
    Failed,
    Left,
}

/// Processes the journal's processable jobs and returns the run's summary.
/// Also returns the failures list: every failed job not yet retried or
/// acknowledged, this run's and earlier ones.
pub fn run(
    store: Store,
    settings: Settings,
    reporter: Arc<dyn Reporter>,
) -> anyhow::Result<(UploadSummary, Vec<Job>)> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run_async(store, settings, reporter))
}

async fn run_async(
    store: Store,
    settings: Settings,
    reporter: Arc<dyn Reporter>,
) -> anyhow::Result<(UploadSummary, Vec<Job>)> {
    let started = Instant::now();
    let failures = |store: &Store| store.select(Action::Retry).cloned().collect::<Vec<Job>>();
    let ids: Vec<JobId> = store
        .select(Action::Process)
        .filter(|job| {
            // By URL, as the scan dedupes: a job queued with another --protocol still counts.
            (settings.only.as_ref()).is_none_or(|only| job.destination.url == only.url)
        })
        .map(|job| job.id.clone())
        .collect();
    if ids.is_empty() {
        let done_before = store
            .jobs()
            .iter()
            .filter(|job| job.state == State::Succeeded)
            .count() as u64;
        reporter.event(Event::NothingToDo { done_before });
        let listed = failures(&store);
        let summary = UploadSummary {
            failures_listed: listed.len() as u64,
            ..UploadSummary::default()
        };
        return Ok((summary, listed));
    }
    let client = http::client(settings.connect_timeout)?;
    let shared = Shared {
        store: Arc::new(Mutex::new(store)),
    };
    let cancel = CancellationToken::new();
    let routes = routes(&shared, &ids, &settings, &client).await?;
    let run = Arc::new(Run {
        settings,
        shared: shared.clone(),
        client,
        routes,
        reporter: reporter.clone(),
        cancel: cancel.clone(),
        stopped_by: Mutex::new(None),
        active: Mutex::new(HashMap::new()),
    });
    let signals = tokio::spawn(watch_signals(cancel.clone(), reporter.clone()));
    let (jobs, bytes) = {
        let store = shared.lock();
        let sizes = ids
            .iter()
            .filter_map(|id| store.job(id))
            .map(|job| job.resource.size);
        (ids.len() as u64, sizes.sum())
    };
    reporter.event(Event::RunStarted { jobs, bytes });
    let progress = tokio::spawn(report_progress(run.clone()));

    let concurrency = run.settings.concurrency.max(1);
    let outcomes: Vec<Outcome> = futures_util::stream::iter(ids)
        .map(|id| {
            let run = run.clone();
            async move { run.job(id).await }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    signals.abort();
    progress.abort();

    let mut summary = UploadSummary {
        seconds: started.elapsed().as_secs_f64(),
        interrupted: cancel.is_cancelled(),
        stopped_by: run.stopped_by().clone(),
        ..UploadSummary::default()
    };
    for outcome in outcomes {
        match outcome {
            Outcome::Succeeded { bytes, sent } => {
                summary.succeeded += 1;
                summary.bytes += bytes;
                summary.sent += sent;
            }
            Outcome::Failed => summary.failed += 1,
            Outcome::Left => summary.left += 1,
        }
    }
    let mut store = shared.lock();
    store.checkpoint()?;
    let listed = failures(&store);
    summary.failures_listed = listed.len() as u64;
    Ok((summary, listed))
}

/// First signal: cancel. Second: exit at once, as people expect of Ctrl-C.
async fn watch_signals(cancel: CancellationToken, reporter: Arc<dyn Reporter>) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    for press in 0.. {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        if press > 0 {
            std::process::exit(i32::from(crate::error::INTERRUPTED));
        }
        reporter.event(Event::Interrupting);
        cancel.cancel();
    }
}

/// One route per destination among the jobs: a local folder, or an HTTP
/// adapter chosen from the destination's protocol, the journal's memory of
/// what `auto` chose, or a fresh OPTIONS.
async fn routes(
    shared: &Shared,
    ids: &[JobId],
    settings: &Settings,
    client: &reqwest::Client,
) -> anyhow::Result<HashMap<Destination, Arc<Route>>> {
    let destinations: Vec<Destination> = {
        let store = shared.lock();
        let mut seen = Vec::new();
        for id in ids {
            let destination = &store.job(id).expect("selected").destination;
            if !seen.contains(destination) {
                seen.push(destination.clone());
            }
        }
        seen
    };
    let mut routes = HashMap::new();
    for destination in destinations {
        let route = match destination.protocol {
            Protocol::Local => {
                let folder = LocalFolder::open(std::path::Path::new(&destination.url))?;
                Route::Local(Arc::new(folder))
            }
            wanted => {
                let transfer = settings.transfer(&destination.url);
                let remembered = shared.lock().chosen_protocol(&destination.url);
                let probed = probe::probe(
                    client,
                    &transfer.headers,
                    &destination.url,
                    settings.connect_timeout + settings.idle_timeout,
                )
                .await;
                let capabilities = match (wanted, remembered, probed) {
                    (_, _, Err(Failure::Credentials { message, .. })) => {
                        anyhow::bail!(
                            "{}: {message}; check the credentials (-H, FERRY_TOKEN)",
                            destination.url
                        )
                    }
                    (_, _, Err(failure @ Failure::Transient { status: None, .. })) => {
                        anyhow::bail!(
                            "cannot reach {}: {}; no job was started",
                            destination.url,
                            failure_text(&failure)
                        )
                    }
                    (Protocol::Auto, None, Err(failure)) => anyhow::bail!(
                        "{}: cannot tell which protocol it speaks: {}",
                        destination.url,
                        failure_text(&failure)
                    ),
                    (Protocol::Auto, None, Ok(found)) => {
                        shared
                            .lock()
                            .choose_protocol(&destination.url, found.protocol)?;
                        found
                    }
                    (Protocol::Auto, Some(chosen), found) => Capabilities {
                        protocol: chosen,
                        ..found.unwrap_or_else(|_| Capabilities::none(chosen))
                    },
                    (explicit, _, found) => Capabilities {
                        protocol: explicit,
                        ..found.unwrap_or_else(|_| Capabilities::none(explicit))
                    },
                };
                let adapter = match capabilities.protocol {
                    Protocol::Ietf => Adapter::Ietf(protocols::ietf::Ietf {
                        version: transfer.ietf_version,
                    }),
                    Protocol::Tus => Adapter::Tus(capabilities.tus),
                    _ => Adapter::Put(protocols::put::Put {
                        method: transfer.put_method,
                    }),
                };
                Route::Http(HttpRoute {
                    adapter,
                    limits: capabilities.limits,
                    chunk_size: transfer.chunk_size,
                    headers: transfer.headers.clone(),
                })
            }
        };
        routes.insert(destination, Arc::new(route));
    }
    Ok(routes)
}

fn failure_text(failure: &Failure) -> String {
    match failure {
        Failure::Transient { message, .. }
        | Failure::Permanent { message, .. }
        | Failure::Credentials { message, .. } => message.clone(),
        Failure::Stopped => "interrupted".to_owned(),
    }
}

/// The first wait before a retry; it doubles with each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The server's `Retry-After` when it gave one; otherwise the doubled
/// backoff with jitter: a random wait between half of it and all of it.
fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait;
    }
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_BACKOFF);
    ceiling.mul_f64(0.5 + fastrand::f64() / 2.0)
}

/// The file as the scan saw it, or the reason it is not.
fn unchanged(resource: &Resource) -> Result<(), Failure> {
    let path = resource.source();
    match std::fs::metadata(&path) {
        Ok(meta) => {
            let now = FileStat::of(&meta);
            if now.size != resource.size || now.mtime_ns != resource.mtime_ns {
                Err(Failure::changed_since_scan(
                    &path,
                    "size or modification time differs",
                ))
            } else {
                Ok(())
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(Failure::permanent(
            ErrorClass::File,
            format!("{}: vanished since scan", path.display()),
        )),
        Err(error) => Err(Failure::permanent(
            ErrorClass::File,
            format!("{}: {error}", path.display()),
        )),
    }
}

impl Run {
    async fn job(self: Arc<Self>, id: JobId) -> Outcome {
        if self.cancel.is_cancelled() || self.stopped_by().is_some() {
            return Outcome::Left;
        }
        match self.job_inner(&id).await {
            Ok(outcome) => outcome,
            Err(error) => {
                // The journal itself failed: nothing more can be recorded.
                self.stop(format!("journal: {}", crate::error::one_line(&error)));
                Outcome::Left
            }
        }
    }

    fn stopped_by(&self) -> MutexGuard<'_, Option<String>> {
        self.stopped_by.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop(&self, message: String) {
        self.stopped_by().get_or_insert(message);
    }

    fn active(&self) -> MutexGuard<'_, HashMap<JobId, (Job, Arc<Activity>)>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn job_inner(&self, id: &JobId) -> anyhow::Result<Outcome> {
        let job = self
            .shared
            .change(id, Durability::Lazy, Job::start_attempt)
            .await?;
        let route = self.routes[&job.destination].clone();
        let activity = Arc::new(Activity::default());
        let protocol = match route.as_ref() {
            Route::Local(_) => "local".to_owned(),
            Route::Http(route) => route.adapter.name(),
        };
        self.reporter.event(Event::Started {
            job: &job,
            protocol: &protocol,
        });
        let transfer = async {
            match route.as_ref() {
                Route::Local(folder) => self.local(folder.clone(), &job, &activity).await,
                Route::Http(route) => self.http(route, job.clone(), &activity).await,
            }
        };
        self.active()
            .insert(id.clone(), (job.clone(), activity.clone()));
        let result = tokio::select! {
            result = transfer => result,
            _ = self.cancel.cancelled() => Err(Failure::Stopped),
        };
        self.active().remove(id);
        let sent = activity.sent.load(Ordering::Relaxed);
        Ok(match result {
            Ok(response) => {
                let auto_ack = self.settings.auto_ack;
                let job = self
                    .shared
                    .change(id, Durability::Durable, |job| {
                        job.succeed(response)?;
                        if auto_ack {
                            job.acknowledge()?;
                        }
                        Ok(())
                    })
                    .await?;
                self.reporter.event(Event::Succeeded { job: &job, sent });
                Outcome::Succeeded {
                    bytes: job.resource.size,
                    sent,
                }
            }
            Err(Failure::Stopped) => {
                self.reporter.event(Event::Stopped { job: &job });
                Outcome::Left
            }
            Err(Failure::Credentials { message, .. }) => {
                self.stop(format!(
                    "{message}; the server refused the credentials: check -H and FERRY_TOKEN"
                ));
                self.reporter.event(Event::Stopped { job: &job });
                Outcome::Left
            }
            Err(Failure::Transient {
                status, message, ..
            }) => {
                let class = match status {
                    Some(_) => ErrorClass::Server,
                    None => ErrorClass::Network,
                };
                self.fail(id, class, status, message).await?
            }
            Err(Failure::Permanent {
                class,
                status,
                message,
            }) => self.fail(id, class, status, message).await?,
        })
    }

    async fn fail(
        &self,
        id: &JobId,
        class: ErrorClass,
        status: Option<u16>,
        message: String,
    ) -> anyhow::Result<Outcome> {
        let error = JobError {
            class,
            status,
            message,
        };
        let job = self
            .shared
            .change(id, Durability::Durable, |job| job.fail(error.clone()))
            .await?;
        self.reporter.event(Event::Failed {
            job: &job,
            error: &error,
        });
        Ok(Outcome::Failed)
    }

    async fn local(
        &self,
        folder: Arc<LocalFolder>,
        job: &Job,
        activity: &Arc<Activity>,
    ) -> Result<Response, Failure> {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_on_cancel = {
            let stop = stop.clone();
            let cancel = self.cancel.clone();
            tokio::spawn(async move {
                cancel.cancelled().await;
                stop.store(true, Ordering::Relaxed);
            })
        };
        let (owned, progress, reporter) = (job.clone(), activity.clone(), self.reporter.clone());
        let copied = tokio::task::spawn_blocking(move || {
            let mut count = |offset| {
                progress.sent.store(offset, Ordering::Relaxed);
                progress.position.store(offset, Ordering::Relaxed);
                if offset == owned.resource.size {
                    // The copy is whole; `upload` now hashes it.
                    reporter.event(Event::Phase {
                        job: &owned,
                        phase: Phase::Verifying,
                    });
                }
            };
            folder.upload(&owned.id, &owned.resource, &mut count, &stop)
        })
        .await
        .map_err(|error| Failure::permanent(ErrorClass::File, error.to_string()));
        stop_on_cancel.abort();
        let copied = copied?;
        match copied {
            Ok(copied) => {
                activity
                    .sent
                    .store(job.resource.size - copied.resumed_at, Ordering::Relaxed);
                let mut headers = std::collections::BTreeMap::new();
                let relative = copied.placed.relative.to_string_lossy().into_owned();
                headers.insert("path".to_owned(), relative);
                if copied.placed.identical {
                    headers.insert("identical".to_owned(), "true".to_owned());
                }
                Ok(Response {
                    status: 201,
                    headers,
                })
            }
            Err(LocalError::Stopped { .. }) => Err(Failure::Stopped),
            Err(error) => Err(Failure::permanent(ErrorClass::File, error.to_string())),
        }
    }

    /// Runs attempts until the upload completes, retrying transient failures.
    async fn http(
        &self,
        route: &HttpRoute,
        job: Job,
        activity: &Arc<Activity>,
    ) -> Result<Response, Failure> {
        let protocol = route.adapter.protocol();
        let mut state = Attempt {
            session: job
                .session
                .clone()
                .filter(|session| session.protocol.is_none_or(|p| p == protocol)),
            limits: route.limits,
            append: route.chunk_size.unwrap_or(u64::MAX),
            confirmed: 0,
        };
        let mut failures = 0u32;
        loop {
            let before = state.confirmed;
            let failure = match self.attempt(route, &job, activity, &mut state).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let Failure::Transient {
                retry_after,
                message,
                ..
            } = &failure
            else {
                return Err(failure);
            };
            if state.confirmed > before {
                failures = 0;
            }
            if failures >= self.settings.retries {
                return Err(failure);
            }
            let wait = backoff(failures, *retry_after);
            self.reporter.event(Event::Retrying {
                job: &job,
                attempt: failures + 1,
                wait,
                reason: message,
            });
            failures += 1;
            tokio::time::sleep(wait).await;
        }
    }

    fn exchange<'a>(
        &'a self,
        route: &'a HttpRoute,
        job: &'a Job,
        activity: &'a Arc<Activity>,
    ) -> Exchange<'a> {
        Exchange {
            client: &self.client,
            headers: &route.headers,
            endpoint: &job.destination.url,
            resource: &job.resource,
            activity,
            idle: self.settings.idle_timeout,
        }
    }

    /// One attempt: open or find the session, then append until complete.
    async fn attempt(
        &self,
        route: &HttpRoute,
        job: &Job,
        activity: &Arc<Activity>,
        state: &mut Attempt,
    ) -> Result<Response, Failure> {
        let adapter = &route.adapter;
        let x = self.exchange(route, job, activity);
        let size = job.resource.size;
        unchanged(&job.resource)?;
        if let Some(max) = state.limits.max_size
            && size > max
        {
            return Err(Failure::permanent(
                ErrorClass::Client,
                format!(
                    "{} is {size} bytes; the server accepts at most {max} bytes per upload",
                    job.resource.path.display()
                ),
            ));
        }
        let mut offset = match &state.session {
            Some(session) => match adapter.query(&x, &session.url).await? {
                Query::At {
                    done: Some(response),
                    ..
                } => return Ok(response),
                Query::At { offset, .. } => offset,
                Query::Gone(status) => {
                    return self.restart(route, job, activity, state, status).await;
                }
            },
            None => {
                let whole = adapter.creates_with(size, WHOLE_FILE_MAX);
                let phase = match whole {
                    true => Phase::Uploading { from: 0 },
                    false => Phase::Creating,
                };
                self.reporter.event(Event::Phase { job, phase });
                let created = adapter.create(&x, whole.then_some(size)).await?;
                state.limits = state.limits.merge(created.limits);
                if let Some(response) = created.done {
                    unchanged(&job.resource)?;
                    return Ok(response);
                }
                let Some(url) = created.url else {
                    return Err(Failure::permanent(
                        ErrorClass::Server,
                        "the server neither finished the upload nor gave a session URL",
                    ));
                };
                let session = Session {
                    url,
                    offset: created.offset,
                    protocol: Some(adapter.protocol()),
                };
                self.shared
                    .change(&job.id, Durability::Durable, |job| {
                        job.register(session.clone())
                    })
                    .await
                    .map_err(|error| {
                        Failure::permanent(ErrorClass::File, crate::error::one_line(&error))
                    })?;
                state.session = Some(session);
                created.offset
            }
        };
        let url = state
            .session
            .as_ref()
            .map(|s| s.url.clone())
            .unwrap_or_default();
        state.confirmed = state.confirmed.max(offset);
        activity.position.store(offset, Ordering::Relaxed);
        self.reporter.event(Event::Phase {
            job,
            phase: Phase::Uploading { from: offset },
        });
        let mut stuck = 0;
        loop {
            unchanged(&job.resource)?;
            let limit = state
                .append
                .min(state.limits.max_append.unwrap_or(u64::MAX));
            let len = (size - offset.min(size)).min(limit);
            match adapter.append(&x, &url, offset, len).await? {
                Appended::At {
                    done: Some(response),
                    ..
                } => {
                    unchanged(&job.resource)?;
                    return Ok(response);
                }
                Appended::At { offset: next, .. } => {
                    stuck = if next > offset { 0 } else { stuck + 1 };
                    if stuck >= 3 {
                        return Err(Failure::transient(format!(
                            "the server accepted no bytes at offset {offset}"
                        )));
                    }
                    offset = next;
                    state.confirmed = state.confirmed.max(offset);
                    let _ = self
                        .shared
                        .change(&job.id, Durability::Lazy, |job| job.record_offset(offset))
                        .await;
                }
                Appended::Conflict(server) => {
                    offset = match server {
                        Some(server) => server,
                        None => match adapter.query(&x, &url).await? {
                            Query::At {
                                done: Some(response),
                                ..
                            } => return Ok(response),
                            Query::At { offset, .. } => offset,
                            Query::Gone(status) => {
                                return self.restart(route, job, activity, state, status).await;
                            }
                        },
                    };
                }
                Appended::TooLarge(server_limit) => {
                    let told = server_limit.filter(|&limit| limit > 0 && limit < len);
                    let next = told.unwrap_or(len / 2);
                    if next == 0 || (told.is_none() && next < MIN_APPEND) {
                        return Err(Failure::Permanent {
                            class: ErrorClass::Client,
                            status: Some(413),
                            message: format!(
                                "the server refused an append of {len} bytes as too large and gave no smaller limit"
                            ),
                        });
                    }
                    state.append = next;
                }
                Appended::Gone(status) => {
                    return self.restart(route, job, activity, state, status).await;
                }
            }
        }
    }
}

impl Run {
    /// The server lost the session (404, 410): say so and start again from 0.
    async fn restart(
        &self,
        route: &HttpRoute,
        job: &Job,
        activity: &Arc<Activity>,
        state: &mut Attempt,
        status: u16,
    ) -> Result<Response, Failure> {
        self.reporter.event(Event::Restarted { job, status });
        state.session = None;
        Box::pin(self.attempt(route, job, activity, state)).await
    }
}

/// `ferry probe`: what the destination speaks, and whether it takes the credentials.
pub fn describe(url: &str, headers: &HeaderMap) -> anyhow::Result<probe::Report> {
    let settings = Settings::default();
    let client = http::client(settings.connect_timeout)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime
        .block_on(probe::describe(
            &client,
            headers,
            url,
            settings.idle_timeout,
        ))
        .map_err(|failure| anyhow::anyhow!("cannot reach {url}: {}", failure_text(&failure)))
}

/// Ends what cancelled jobs left behind: their server sessions (tus
/// termination, IETF `DELETE`) and local partial copies. Returns one warning
/// per session that could not be ended; the jobs stay cancelled either way.
pub fn terminate(jobs: &[Job], settings: &Settings) -> anyhow::Result<Vec<String>> {
    let client = http::client(settings.connect_timeout)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut warnings = Vec::new();
    for job in jobs {
        let path = job.resource.path.display();
        if job.destination.protocol == Protocol::Local {
            if let Err(error) = LocalFolder::open(std::path::Path::new(&job.destination.url))
                .and_then(|folder| folder.discard(&job.id))
            {
                warnings.push(format!(
                    "{path}: could not remove the partial copy: {error}"
                ));
            }
            continue;
        }
        let Some(session) = &job.session else {
            continue;
        };
        let adapter = match session.protocol {
            Some(Protocol::Tus) => Adapter::Tus(protocols::tus::Tus::default()),
            Some(Protocol::Ietf) => Adapter::Ietf(protocols::ietf::Ietf {
                version: DEFAULT_IETF_VERSION,
            }),
            _ => continue,
        };
        let activity = Arc::new(Activity::default());
        let exchange = Exchange {
            client: &client,
            headers: &settings.transfer(&job.destination.url).headers,
            endpoint: &job.destination.url,
            resource: &job.resource,
            activity: &activity,
            idle: Duration::from_secs(10),
        };
        if let Err(failure) = runtime.block_on(adapter.terminate(&exchange, &session.url)) {
            warnings.push(format!(
                "{path}: could not end the upload session at {}: {}",
                session.url,
                failure_text(&failure)
            ));
        }
    }
    Ok(warnings)
}

/// What an upload carries from one attempt to the next.
struct Attempt {
    session: Option<Session>,
    limits: Limits,
    /// The largest append to send; shrinks after a 413.
    append: u64,
    /// The highest offset the server confirmed in this run.
    confirmed: u64,
}
