//! One job's upload over a resumable HTTP protocol: a state machine with
//! bounded retries.
//!
//! An attempt opens a session (its URL fsynced in the journal before the
//! first data byte) or asks the server where an existing one stands (its
//! number wins), then appends from there until the server says the upload is
//! complete. A 409 moves to the server's offset, a 413 shrinks appends, a
//! lost session (404/410) starts again from 0 and says so. Transient failures
//! are retried with exponential backoff and jitter (or the server's
//! `Retry-After`); the count starts again whenever the server's offset moved,
//! so a long upload over a flaky link still finishes. The file is checked
//! against the scan before creation, before each append and after the last.

use std::sync::Arc;
use std::time::Duration;

use super::http::{self, Activity, Failure};
use super::protocols::{Appended, Exchange, Limits, Query};
use super::route::HttpRoute;
use super::shared::Shared;
use crate::digest::FileStat;
use crate::journal::job::{ErrorClass, Job, Resource, Response, Session};
use crate::journal::store::Durability;
use crate::report::{Event, Phase, Reporter};

/// Files up to this size (inclusive) go in one request where the protocol
/// allows it (IETF optimistic creation, tus creation-with-upload, PUT). An
/// interrupted one starts again from 0, which costs at most this much.
pub const WHOLE_FILE_MAX: u64 = 4 << 20;

/// 409s in a row that an attempt follows before it counts as a failure.
const MAX_CONFLICTS: u32 = 3;

/// The smallest append a 413 can shrink us to before the job fails.
const MIN_APPEND: u64 = 64 << 10;

/// One job's upload to one HTTP route, within a run.
pub struct JobUpload<'a> {
    pub client: &'a reqwest::Client,
    pub shared: &'a Shared,
    pub reporter: &'a dyn Reporter,
    /// Transient failures in a row before the job fails.
    pub retries: u32,
    /// How long a request may move no byte.
    pub idle: Duration,
    pub route: &'a HttpRoute,
    pub job: &'a Job,
    pub activity: &'a Arc<Activity>,
}

impl JobUpload<'_> {
    /// Runs attempts until the upload completes, retrying transient failures.
    pub async fn to_the_end(&self) -> Result<Response, Failure> {
        let (route, job) = (self.route, self.job);
        let protocol = route.adapter.protocol();
        let mut state = Attempt {
            session: job
                .session
                .clone()
                .filter(|session| session.protocol.is_none_or(|p| p == protocol)),
            limits: route.limits,
            append: route.chunk_size.unwrap_or(u64::MAX),
            whole_refused: false,
            confirmed: 0,
        };
        let mut failures = 0u32;
        loop {
            let before = state.confirmed;
            let failure = match self.attempt(&mut state).await {
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
            if failures >= self.retries {
                return Err(failure);
            }
            let wait = http::backoff(failures, *retry_after);
            self.reporter.event(Event::Retrying {
                job,
                attempt: failures + 1,
                wait,
                reason: message,
            });
            failures += 1;
            self.activity.retrying();
            tokio::time::sleep(wait).await;
        }
    }

    fn exchange(&self) -> Exchange<'_> {
        Exchange {
            client: self.client,
            headers: &self.route.headers,
            endpoint: &self.job.destination.url,
            resource: &self.job.resource,
            activity: self.activity,
            idle: self.idle,
        }
    }

    /// One attempt: open or find the session, then append until complete.
    async fn attempt(&self, state: &mut Attempt) -> Result<Response, Failure> {
        let (adapter, job, activity) = (&self.route.adapter, self.job, self.activity);
        let x = self.exchange();
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
            Some(session) => match adapter.query(&x, session).await? {
                Query::At {
                    done: Some(response),
                    ..
                } => return Ok(response),
                Query::At { offset, .. } => offset,
                Query::Gone(status) => {
                    return self.restart(state, status).await;
                }
            },
            None => {
                // One request for a small file, unless the server said it
                // takes less per request.
                let fits = size <= state.limits.max_append.unwrap_or(u64::MAX);
                let whole =
                    adapter.creates_with(size, WHOLE_FILE_MAX) && fits && !state.whole_refused;
                let phase = match whole {
                    true => Phase::Uploading { from: 0 },
                    false => Phase::Creating,
                };
                self.reporter.event(Event::Phase { job, phase });
                let created = match adapter.create(&x, whole.then_some(size)).await {
                    // Too large to come with the creation: create it empty,
                    // then append in sizes that fit (a 413 shrinks appends).
                    Err(Failure::Permanent {
                        status: Some(413), ..
                    }) if whole => {
                        state.whole_refused = true;
                        self.reporter.event(Event::Phase {
                            job,
                            phase: Phase::Creating,
                        });
                        adapter.create(&x, None).await?
                    }
                    other => other?,
                };
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
                    id: created.session_id,
                    parts: Vec::new(),
                    part_size: None,
                };
                self.shared
                    .change(&job.id, Durability::Durable, |job| {
                        job.register(session.clone())
                    })
                    .await
                    .map_err(|error| Failure::Journal(crate::error::one_line(&error)))?;
                state.session = Some(session);
                created.offset
            }
        };
        let mut session = state.session.clone().ok_or_else(|| {
            Failure::permanent(ErrorClass::Server, "the upload has no session to append to")
        })?;
        state.confirmed = state.confirmed.max(offset);
        activity.starts_at(offset);
        self.reporter.event(Event::Phase {
            job,
            phase: Phase::Uploading { from: offset },
        });
        let mut stuck = 0;
        let mut conflicts = 0;
        loop {
            unchanged(&job.resource)?;
            if offset > size {
                return Err(Failure::transient(format!(
                    "the server says the upload holds {offset} bytes, more than the file's {size}"
                )));
            }
            let limit = state
                .append
                .min(state.limits.max_append.unwrap_or(u64::MAX));
            let len = (size - offset.min(size)).min(limit);
            match adapter.append(&x, &session, offset, len).await? {
                Appended::At {
                    done: Some(response),
                    ..
                } => {
                    unchanged(&job.resource)?;
                    return Ok(response);
                }
                Appended::At { offset: next, .. } => {
                    conflicts = 0;
                    stuck = if next > offset { 0 } else { stuck + 1 };
                    if stuck >= 3 {
                        return Err(Failure::transient(format!(
                            "the server accepted no bytes at offset {offset}"
                        )));
                    }
                    offset = next;
                    state.confirmed = state.confirmed.max(offset);
                    session.offset = offset;
                    state.session = Some(session.clone());
                    self.shared
                        .change(&job.id, Durability::Lazy, |job| job.record_offset(offset))
                        .await
                        .map_err(|error| Failure::Journal(crate::error::one_line(&error)))?;
                }
                Appended::Conflict(server) => {
                    conflicts += 1;
                    if conflicts > MAX_CONFLICTS {
                        return Err(Failure::Transient {
                            status: Some(409),
                            message: format!(
                                "the server answered 409 (offset conflict) {conflicts} times in a row at offset {offset}"
                            ),
                            retry_after: None,
                        });
                    }
                    offset = match server {
                        Some(server) => server,
                        None => match adapter.query(&x, &session).await? {
                            Query::At {
                                done: Some(response),
                                ..
                            } => return Ok(response),
                            Query::At { offset, .. } => offset,
                            Query::Gone(status) => {
                                return self.restart(state, status).await;
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
                    return self.restart(state, status).await;
                }
            }
        }
    }

    /// The server lost the session (404, 410): say so, and start again from
    /// 0 on the next attempt. It counts as a transient failure, so a server
    /// that keeps losing sessions is waited for and, after `--retries`, the
    /// job fails saying so.
    async fn restart(&self, state: &mut Attempt, status: u16) -> Result<Response, Failure> {
        self.reporter.event(Event::Restarted {
            job: self.job,
            status,
        });
        state.session = None;
        Err(Failure::Transient {
            status: Some(status),
            message: format!("the server no longer has the upload session (HTTP {status})"),
            retry_after: None,
        })
    }
}

/// The file as the scan saw it, or the reason it is not.
fn unchanged(resource: &Resource) -> Result<(), Failure> {
    let path = resource.source();
    match std::fs::metadata(&path) {
        Ok(meta) => match resource.stat().what_changed(&FileStat::of(&meta)) {
            Some(what) => Err(Failure::changed_since_scan(&path, what)),
            None => Ok(()),
        },
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

/// What an upload carries from one attempt to the next.
struct Attempt {
    session: Option<Session>,
    limits: Limits,
    /// The largest append to send; shrinks after a 413.
    append: u64,
    /// The server refused the whole file in the creation request (413).
    whole_refused: bool,
    /// The highest offset the server confirmed in this run.
    confirmed: u64,
}
