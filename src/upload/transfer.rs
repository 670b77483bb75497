//! One job's bytes over its route: the local folder's copy, S3's parts,
//! or an HTTP protocol's attempts, ended early by Ctrl-C or the window.

use std::sync::Arc;

use super::attempt::JobUpload;
use super::http::{Activity, Failure};
use super::protocols::local::{self, LocalFolder};
use super::protocols::{s3, sftp};
use super::route::Route;
use super::run::Run;
use crate::journal::job::{Job, Response};

/// What a transfer that worked leaves behind.
pub enum Delivered {
    /// The destination confirmed the upload.
    Confirmed(Response),
    /// The local folder's copy, verified but not yet placed: its record
    /// places it once a shared sync has made it durable (`local::settle`).
    Copied(Arc<LocalFolder>),
}

impl Run {
    /// One job's transfer over `route`, ended early by Ctrl-C.
    pub(super) async fn transfer(
        &self,
        route: &Route,
        job: &Job,
        activity: &Arc<Activity>,
    ) -> Result<Delivered, Failure> {
        // A local copy runs on a thread of its own and stops itself at its
        // next buffer: it is awaited, never dropped, so the run does not
        // shut its runtime down under a copy still pacing on its clock
        // (`--bwlimit`), which panicked.
        if let Route::Local(folder) = route {
            let stop = self.gates.halt.clone();
            let copied = local::transfer(folder.clone(), job, activity, &self.reporter, stop);
            return copied.await.map(|()| Delivered::Copied(folder.clone()));
        }
        let transfer = async {
            match route {
                Route::Local(_) => unreachable!("copied above"),
                Route::S3(route) => {
                    let confirmed =
                        s3::transfer(route, (&self.shared, &self.settings), job, activity);
                    confirmed.await.map(Delivered::Confirmed)
                }
                Route::Sftp(route) => {
                    let reporter = self.reporter.as_ref();
                    let idle = self.settings.idle_timeout;
                    let confirmed = sftp::transfer(route, job, activity, reporter, idle);
                    confirmed.await.map(Delivered::Confirmed)
                }
                Route::Http(route) => {
                    let upload = JobUpload {
                        client: &self.client,
                        shared: &self.shared,
                        reporter: self.reporter.as_ref(),
                        retries: self.settings.retries,
                        idle: self.settings.idle_timeout,
                        route,
                        job,
                        activity,
                    };
                    upload.to_the_end().await.map(Delivered::Confirmed)
                }
            }
        };
        tokio::select! {
            result = transfer => result,
            _ = self.gates.halt.cancelled() => Err(Failure::Stopped),
        }
    }
}
