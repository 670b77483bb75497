//! How a job's end is recorded: a local copy placed once durable (its syncs
//! shared in `local_settle`), the journal's durable change (its fsync shared
//! by every job that waits, the group commit), then the events and the
//! clearing of the source. Apart from the engine because it runs apart:
//! a job gives up its place among the N transfers before it is recorded, so
//! many small files share one fsync instead of waiting for each other's.

use std::sync::Arc;

use super::clear;
use super::http::Failure;
use super::protocols::local;
use super::route::Route;
use super::run::Run;
use super::transfer::Delivered;
use crate::journal::job::{ErrorClass, Job, JobError, JobId, Response};
use crate::report::Event;

/// How many finished transfers may wait to be recorded, per place: enough
/// that one fsync of the journal covers many small files.
pub const RECORDING_PER_PLACE: usize = 64;

/// A job's transfer, ended or never begun.
pub enum Transferred {
    /// Never started, or the journal failed before it could be recorded.
    Left,
    Done(Box<Done>),
}

/// A transfer that ended: what the recording of its end needs.
pub struct Done {
    pub job: Job,
    pub route: Arc<Route>,
    pub result: Result<Delivered, Failure>,
    pub sent: u64,
    pub resumed: u64,
    /// Tries after the first in this run (`Activity::retried`).
    pub retried: u32,
}

pub enum Outcome {
    Succeeded { bytes: u64, cleared: bool },
    Failed,
    Left,
}

/// How one job ended, and what its transfer moved: body bytes sent, and
/// what the destination already had when the run took it up.
pub struct Ended {
    pub outcome: Outcome,
    pub sent: u64,
    pub resumed: u64,
}

impl Run {
    /// Records how a transfer ended, then says so; "uploaded" and the
    /// clearing of its source come after the fsync that keeps the record.
    pub async fn record(self: Arc<Self>, transferred: Transferred) -> Ended {
        let left = Ended {
            outcome: Outcome::Left,
            sent: 0,
            resumed: 0,
        };
        let Transferred::Done(done) = transferred else {
            return left;
        };
        let Done {
            job,
            route,
            result,
            sent,
            resumed,
            retried,
        } = *done;
        let result = match result {
            Ok(Delivered::Confirmed(response)) => Ok(response),
            Ok(Delivered::Copied(folder)) => match local::settle(&folder, &job).await {
                Ok(placed) => placed,
                Err(why) => {
                    self.stop(format!(
                        "{}: {why}; the copies not yet recorded stay queued for the next run",
                        job.destination.url
                    ));
                    Err(Failure::Stopped)
                }
            },
            Err(failure) => Err(failure),
        };
        match self.outcome(&job, &route, result, (sent, retried)).await {
            Ok(outcome) => Ended {
                outcome,
                sent,
                resumed,
            },
            Err(error) => {
                self.stop(format!("journal: {}", crate::error::one_line(&error)));
                Ended {
                    outcome: Outcome::Left,
                    sent,
                    resumed,
                }
            }
        }
    }

    async fn outcome(
        &self,
        job: &Job,
        route: &Arc<Route>,
        result: Result<Response, Failure>,
        (sent, retried): (u64, u32),
    ) -> anyhow::Result<Outcome> {
        let id = &job.id;
        Ok(match result {
            Ok(response) => {
                let auto_ack = self.settings.auto_ack;
                let job = self
                    .shared
                    .record_end(id, |job| {
                        job.retried(retried);
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
                    cleared: clear::source(self, route, &job).await?,
                }
            }
            Err(Failure::Stopped) => {
                self.reporter.event(Event::Stopped { job });
                Outcome::Left
            }
            // The transfer stage stopped the run already.
            Err(
                Failure::Journal(_)
                | Failure::Credentials { .. }
                | Failure::Refused { .. }
                | Failure::Full { .. },
            ) => {
                self.reporter.event(Event::Stopped { job });
                Outcome::Left
            }
            Err(Failure::Transient {
                status, message, ..
            }) => {
                let class = match status {
                    Some(_) => ErrorClass::Server,
                    None => ErrorClass::Network,
                };
                self.fail(id, class, status, message, retried).await?
            }
            Err(Failure::Permanent {
                class,
                status,
                message,
            }) => self.fail(id, class, status, message, retried).await?,
        })
    }

    async fn fail(
        &self,
        id: &JobId,
        class: ErrorClass,
        status: Option<u16>,
        message: String,
        retried: u32,
    ) -> anyhow::Result<Outcome> {
        let error = JobError {
            class,
            status,
            message,
        };
        let job = self
            .shared
            .record_end(id, |job| {
                job.retried(retried);
                job.fail(error.clone())
            })
            .await?;
        self.reporter.event(Event::Failed {
            job: &job,
            error: &error,
        });
        Ok(Outcome::Failed)
    }
}
