//! The uploader: processable jobs, N at a time, to their destinations.
//!
//! A job flows through four modules, each with one concern:
//! - `engine`: the run (scheduling N jobs at once, signals, progress
//!   sampling, the summary);
//! - `route`: per destination, which protocol to speak (the journal's memory,
//!   or OPTIONS via `probe`) and with which settings;
//! - `attempt`: one job's state machine over a resumable protocol: durable
//!   session, resume from the server's offset, 409, 413, lost sessions,
//!   retries with backoff;
//! - `protocols`: one file per protocol behind the `Adapter` trait, plus the
//!   local folder.
//!
//! `settings` is what the resolved configuration hands in, `shared` the
//! journal as concurrent jobs share it. This module is only what callers see:
//! the settings, `run`, and the two
//! one-shot uses of the protocols, `describe` (`ferry probe`) and `terminate`
//! (`ferry cancel`).

mod attempt;
mod body;
pub mod clear;
mod clear_assets;
mod clear_move;
mod engine;
mod feed;
pub(crate) mod http;
mod own_copy;
pub mod probe;
mod progress;
pub mod protocols;
mod record;
mod route;
mod run;
pub mod s3_access;
pub mod secrets;
mod settings;
mod shared;
mod signals;
pub mod throttle;
mod transfer;
pub mod verify;
pub mod window;

pub use engine::run;
pub use feed::Fed;
pub use protocols::put::PutMethod;
pub use route::Prepared;
pub use secrets::{is_secret_header, request_headers};
pub use settings::{Clearing, ProtocolChoice, Settings, Transfer};
pub use shared::Shared;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use self::http::Activity;
use self::protocols::Exchange;
use self::protocols::local::LocalFolder;
use crate::journal::job::{Destination, Job, Protocol};
use crate::journal::store::Store;

fn current_thread_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// A sync's look at its destination before the scan queues anything:
/// the route is resolved as the run would resolve it (the folder opened,
/// the bucket checked, the server reached with the credentials and its
/// protocol chosen), a `--delete-after` or `--move-to` that it could not
/// confirm is refused, and the route is given back for the run to use.
pub fn check_destination(
    store: Store,
    settings: &Settings,
    destination: &Destination,
) -> anyhow::Result<(Store, Prepared)> {
    let client = http::client(settings)?;
    let shared = shared::Shared::new(store);
    let resolved = current_thread_runtime()?.block_on(async {
        let route = route::route(&shared, settings, &client, destination).await?;
        // What the account may run is asked in this runtime's tasks, which
        // end with it: the answer is waited for here.
        if let route::Route::Sftp(sftp) = &route {
            sftp.settle_tool().await?;
        }
        route.leave_runtime();
        anyhow::Ok(route)
    });
    let store = shared.into_store().expect("no job holds the store yet");
    let routes = HashMap::from([(destination.clone(), Arc::new(resolved?))]);
    if let Some(after) = &settings.after_upload {
        clear::refuse_unconfirmable(after, &routes)?;
    }
    Ok((store, Prepared::new(routes)))
}

/// A dry run's look at an HTTP destination: the first probe every run
/// makes, which writes nothing; unreachable or refused credentials are an
/// error, as they are for the sync, and so is clearing toward a protocol
/// that cannot confirm a file (`remembered`: the protocol the journal
/// chose for an `auto` destination before).
pub fn check_reachable(
    settings: &Settings,
    destination: &Destination,
    remembered: Option<Protocol>,
) -> anyhow::Result<()> {
    let client = http::client(settings)?;
    // Anything else (a 5xx after the retries) is for the sync to weigh.
    let answer =
        current_thread_runtime()?.block_on(route::asked(settings, &client, destination))?;
    let Some(after) = &settings.after_upload else {
        return Ok(());
    };
    let protocol = match destination.protocol {
        Protocol::Auto => remembered.or(answer.ok().map(|found| found.protocol)),
        explicit => Some(explicit),
    };
    let Some(protocol) = protocol else {
        return Ok(());
    };
    let name = format!("{protocol:?}").to_lowercase();
    clear::refuse_protocol(after, protocol, &name, &destination.url)
}

/// `ferry probe`: what the destination speaks, and whether it takes the credentials.
pub fn describe(
    url: &str,
    headers: &HeaderMap,
    settings: &Settings,
) -> anyhow::Result<probe::Report> {
    let client = http::client(settings)?;
    current_thread_runtime()?
        .block_on(probe::describe(
            &client,
            headers,
            url,
            settings.idle_timeout,
        ))
        .map_err(|failure| anyhow::anyhow!("cannot reach {url}: {}", failure.text()))
}

/// `ferry probe --protocol bits`: a BITS `Ping`, since BITS servers announce
/// nothing on OPTIONS.
pub fn ping_bits(
    url: &str,
    headers: &HeaderMap,
    settings: &Settings,
) -> anyhow::Result<protocols::bits::PingReport> {
    let client = http::client(settings)?;
    current_thread_runtime()?
        .block_on(protocols::bits::ping(
            &client,
            headers,
            url,
            settings.idle_timeout,
        ))
        .map_err(|failure| anyhow::anyhow!("cannot reach {url}: {}", failure.text()))
}

/// `ferry probe s3://…`: the endpoint, whether the keys open the bucket and
/// may write to it, and the unfinished multipart uploads under the prefix.
pub fn probe_s3(
    url: &str,
    configured: &crate::upload::s3_access::Configured,
    settings: &Settings,
) -> anyhow::Result<protocols::s3_probe::S3Report> {
    let options = protocols::s3::Options {
        chunk_size: None,
        part_concurrency: 1,
        overwrite: false,
    };
    let client = http::client(settings)?;
    let route = protocols::s3::S3Route::open(url, configured, options, (settings, &client))?;
    let region = route.bucket.region().to_owned();
    current_thread_runtime()?
        .block_on(protocols::s3_probe::probe(&route, url, &region))
        .map_err(|failure| anyhow::anyhow!("cannot reach {}: {}", route.endpoint, failure.text()))
}

/// Removes a cancelled SFTP job's partial upload, one connection per server.
async fn discard_sftp(
    routes: &mut HashMap<String, protocols::sftp::SftpRoute>,
    settings: &Settings,
    job: &Job,
) -> Result<(), String> {
    let url = &job.destination.url;
    if !routes.contains_key(url) {
        let route = protocols::sftp::SftpRoute::open(url, 1, settings.connect_timeout, 0).await;
        routes.insert(url.clone(), route.map_err(|e| crate::error::one_line(&e))?);
    }
    protocols::sftp::discard(&routes[url], job)
        .await
        .map_err(|failure| failure.text())
}

/// `ferry probe sftp://…`: the host key, the login, the folder and what
/// the account may run.
pub fn probe_sftp(
    url: &str,
    settings: &Settings,
) -> anyhow::Result<protocols::sftp::probe::SftpReport> {
    current_thread_runtime()?
        .block_on(protocols::sftp::probe::probe(url, settings.connect_timeout))
        .map_err(|error| crate::error::UsageError(error).into())
}

/// Ends what cancelled jobs left behind: their server sessions (tus
/// termination, IETF `DELETE`, in the destination's configured interop
/// version), S3 multipart uploads and local partial copies. Returns one warning per session that
/// could not be ended; the jobs stay cancelled either way.
pub fn terminate(jobs: &[Job], settings: &Settings) -> anyhow::Result<Vec<String>> {
    let client = http::client(settings)?;
    let runtime = current_thread_runtime()?;
    let mut warnings = Vec::new();
    let mut sftp_routes = HashMap::new();
    for job in jobs {
        let path = job.resource.path.display();
        if job.destination.protocol == Protocol::Sftp {
            if let Err(reason) = runtime.block_on(discard_sftp(&mut sftp_routes, settings, job)) {
                warnings.push(format!(
                    "{path}: could not remove the partial upload: {reason}"
                ));
            }
            continue;
        }
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
        let transfer = settings.transfer(&job.destination.url);
        if job.destination.protocol == Protocol::S3 {
            let options = protocols::s3::Options {
                chunk_size: None,
                part_concurrency: 1,
                overwrite: false,
            };
            let aborted = protocols::s3::S3Route::open(
                &job.destination.url,
                &transfer.s3,
                options,
                (settings, &client),
            )
            .map_err(|error| crate::error::one_line(&error))
            .and_then(|route| {
                runtime
                    .block_on(route.abort(session))
                    .map_err(|failure| failure.text())
            });
            if let Err(reason) = aborted {
                warnings.push(format!(
                    "{path}: could not abort the multipart upload: {reason}"
                ));
            }
            continue;
        }
        let Some(adapter) = session
            .protocol
            .and_then(|protocol| route::session_adapter(protocol, transfer))
        else {
            continue;
        };
        let activity = Arc::new(Activity::default());
        let exchange = Exchange {
            client: &client,
            headers: &transfer.headers,
            endpoint: &job.destination.url,
            resource: &job.resource,
            activity: &activity,
            idle: Duration::from_secs(10),
        };
        if let Err(failure) = runtime.block_on(adapter.terminate(&exchange, session)) {
            warnings.push(format!(
                "{path}: could not end the upload session at {}: {}",
                session.url,
                failure.text()
            ));
        }
    }
    Ok(warnings)
}
