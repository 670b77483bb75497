//! One job's bytes over its route: the local folder's copy, S3's parts,
//! or an HTTP protocol's attempts, ended early by Ctrl-C or the window.

use std::sync::Arc;

use super::attempt::JobUpload;
use super::http::{Activity, Failure};
use super::protocols::{local, s3};
use super::route::Route;
use super::run::Run;
use crate::journal::job::Job;

impl Run {
    /// One job's transfer over `route`, ended early by Ctrl-C.
    pub(super) async fn transfer(
        &self,
        route: &Route,
        job: &Job,
        activity: &Arc<Activity>,
    ) -> Result<crate::journal::job::Response, Failure> {
        let transfer = async {
            match route {
                Route::Local(folder) => {
                    let stop = self.gates.halt.clone();
                    local::transfer(folder.clone(), job, activity, &self.reporter, stop).await
                }
                Route::S3(route) => {
                    s3::transfer(route, (&self.shared, &self.settings), job, activity).await
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
                    upload.to_the_end().await
                }
            }
        };
        tokio::select! {
            result = transfer => result,
            _ = self.gates.halt.cancelled() => Err(Failure::Stopped),
        }
    }
}
