//! What a run shares between its jobs: settings, journal, client, routes,
//! gates and what is in flight. Its own module so that the engine, the
//! clearing of sources and the progress sampler all read it without
//! importing one another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use super::Settings;
use super::http::Activity;
use super::route::Routes;
use super::shared::Shared;
use super::throttle::Limits;
use super::window::Gates;
use crate::journal::job::{Job, JobId};
use crate::report::Reporter;

/// What the run shares between its jobs.
pub struct Run {
    pub settings: Settings,
    pub shared: Shared,
    pub client: reqwest::Client,
    pub(super) routes: Routes,
    pub reporter: Arc<dyn Reporter>,
    pub cancel: CancellationToken,
    /// Ctrl-C, or the end of the time window: see `window`.
    pub(super) gates: Gates,
    pub limits: Limits,
    /// Set by a 401/403 or a journal failure: no new job starts, and the
    /// run ends with this message.
    pub(super) stopped_by: Mutex<Option<String>>,
    /// The jobs in flight, sampled by `report_progress`.
    pub(super) active: Mutex<HashMap<JobId, (Job, Arc<Activity>)>>,
    /// Jobs of assets that succeeded in this run: with `--delete-after` or
    /// `--move-to`, cleared after the run, with their whole asset.
    pub(super) asset_members_done: Mutex<Vec<JobId>>,
}

impl Run {
    pub(super) fn stopped_by(&self) -> MutexGuard<'_, Option<String>> {
        self.stopped_by.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn stop(&self, message: String) {
        self.stopped_by().get_or_insert(message);
    }

    pub(super) fn asset_members_done(&self) -> MutexGuard<'_, Vec<JobId>> {
        self.asset_members_done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub fn active(&self) -> MutexGuard<'_, HashMap<JobId, (Job, Arc<Activity>)>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }
}
