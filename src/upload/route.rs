//! Where a destination's jobs go, decided once per run, and the one place
//! that lists the protocols.
//!
//! A local folder is its own route. For HTTP, the protocol comes from the
//! destination (`--protocol`), from the journal's memory of what `auto` chose
//! for that URL (so registered jobs never switch protocol), or from a fresh
//! OPTIONS (`probe`); the same answer carries the limits and tus extensions.
//! The destination's transfer settings (interop version, PUT method, chunk
//! size, headers) are applied here, so `ferry cancel` builds its adapters the
//! same way as an upload does.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;

use super::http::Failure;
use super::probe::{self, Capabilities};
use super::protocols::local::LocalFolder;
use super::protocols::s3::{self, S3Route};
use super::protocols::sftp::SftpRoute;
use super::protocols::{Adapter, Limits, bits::Bits, ietf::Ietf, put::Put};
use super::settings::{Settings, Transfer};
use super::shared::Shared;
use crate::journal::job::{Destination, JobId, Protocol};
use crate::wire::ietf::Interop;

pub enum Route {
    Local(Arc<LocalFolder>),
    S3(Arc<S3Route>),
    Sftp(Arc<SftpRoute>),
    Http(HttpRoute),
}

impl Route {
    /// Called before the runtime the route was opened in ends, for the
    /// run's own runtime to use it (`SftpRoute::leave_runtime`). HTTP and
    /// S3 clients drop connections whose runtime went by themselves.
    pub fn leave_runtime(&self) {
        if let Route::Sftp(sftp) = self {
            sftp.leave_runtime();
        }
    }

    /// How a job's `started` line names the protocol, e.g. "ietf (interop 8)".
    pub fn name(&self) -> String {
        match self {
            Route::Local(_) => "local".to_owned(),
            Route::S3(_) => "s3".to_owned(),
            Route::Sftp(_) => "sftp".to_owned(),
            Route::Http(route) => route.adapter.name(),
        }
    }

    /// What to say when the destination refuses the credentials.
    pub fn refused_credentials(&self) -> &'static str {
        match self {
            Route::S3(_) => s3::REFUSED_CREDENTIALS,
            _ => "the server refused the credentials: check -H, --token-file and FERRY_TOKEN",
        }
    }
}

/// An HTTP destination: the protocol chosen, its limits, and how to talk to it.
pub struct HttpRoute {
    pub adapter: Box<dyn Adapter>,
    /// The protocol is the journal's memory of what `auto` chose for this
    /// URL, not this run's probe: a refusal means asking again.
    pub remembered: bool,
    pub limits: Limits,
    pub chunk_size: Option<u64>,
    pub headers: HeaderMap,
}

/// The adapter that speaks `protocol` to a destination with these settings
/// and capabilities. Adding a protocol adds one line here.
fn adapter(protocol: Protocol, transfer: &Transfer, found: &Capabilities) -> Box<dyn Adapter> {
    match protocol {
        Protocol::Ietf => Box::new(Ietf {
            interop: Interop::new(transfer.ietf_version).unwrap_or_default(),
        }),
        Protocol::Tus => Box::new(found.tus.clone()),
        Protocol::Bits => Box::new(Bits),
        // Local folders, S3 and SFTP are routes of their own and never get here.
        Protocol::Put | Protocol::Auto | Protocol::Local | Protocol::S3 | Protocol::Sftp => {
            Box::new(Put {
                method: transfer.put_method,
            })
        }
    }
}

/// The adapter for ending an existing session, when its protocol has sessions.
pub fn session_adapter(protocol: Protocol, transfer: &Transfer) -> Option<Box<dyn Adapter>> {
    let has_sessions = matches!(protocol, Protocol::Ietf | Protocol::Tus | Protocol::Bits);
    has_sessions.then(|| adapter(protocol, transfer, &Capabilities::none(protocol)))
}

/// Routes resolved before the run (a sync's check of its destination,
/// before its scan), so that the run does not ask the server again.
#[derive(Clone, Default)]
pub struct Prepared(HashMap<Destination, Arc<Route>>);

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Prepared {
    pub fn new(map: HashMap<Destination, Arc<Route>>) -> Prepared {
        Prepared(map)
    }
}

/// One route per destination among the jobs.
pub async fn routes(
    shared: &Shared,
    ids: &[JobId],
    settings: &Settings,
    prepared: &Prepared,
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
    let mut routes = prepared.0.clone();
    for destination in destinations {
        let route = match prepared.0.get(&destination) {
            Some(prepared) => prepared.clone(),
            None => Arc::new(route(shared, settings, client, &destination).await?),
        };
        routes.insert(destination, route);
    }
    Ok(routes)
}

/// One destination's route: its folder, its bucket checked, or the
/// protocol its server speaks (from the journal's memory or OPTIONS).
pub async fn route(
    shared: &Shared,
    settings: &Settings,
    client: &reqwest::Client,
    destination: &Destination,
) -> anyhow::Result<Route> {
    Ok(match destination.protocol {
        Protocol::Local => {
            let folder = LocalFolder::open(std::path::Path::new(&destination.url))?;
            Route::Local(Arc::new(folder))
        }
        Protocol::S3 => Route::S3(Arc::new(s3_route(settings, client, destination).await?)),
        Protocol::Sftp => {
            let route = SftpRoute::open(
                &destination.url,
                settings.concurrency,
                settings.connect_timeout,
                settings.retries,
            )
            .await?;
            // Clearing is refused before any upload where the account
            // cannot confirm a file's SHA-256; else the first bytes go
            // while the server answers.
            if settings.after_upload.is_some() {
                route.settle_tool().await?;
            }
            if !settings.dry_run {
                (route.make_folder().await).map_err(|failure| {
                    anyhow::anyhow!("{}: {}", destination.url, failure.text())
                })?;
            }
            Route::Sftp(Arc::new(route))
        }
        wanted => http_route(shared, settings, client, destination, wanted, true).await?,
    })
}

/// What an HTTP destination answers to the first probe, as every run asks
/// it (retried like a request, up to `--retries`): refused credentials and
/// a server that cannot be reached end the run here, in one line; any
/// other failure is the caller's to weigh.
pub async fn asked(
    settings: &Settings,
    client: &reqwest::Client,
    destination: &Destination,
) -> anyhow::Result<Result<Capabilities, Failure>> {
    let probed = probe::probe(
        client,
        &settings.transfer(&destination.url).headers,
        &destination.url,
        settings.connect_timeout + settings.idle_timeout,
        settings.retries,
    )
    .await;
    match probed {
        Err(Failure::Credentials { message, .. }) => anyhow::bail!(
            "{}: {message}; {}",
            destination.url,
            super::http::CREDENTIALS_HINT
        ),
        Err(failure @ Failure::Transient { status: None, .. }) => {
            let text = failure.text();
            anyhow::bail!(
                "cannot reach {}: {text}; no job was started{}",
                destination.url,
                super::http::unreachable_hint(&text)
            )
        }
        other => Ok(other),
    }
}

/// An `s3://` destination's route, its bucket checked once.
pub async fn s3_route(
    settings: &Settings,
    client: &reqwest::Client,
    destination: &Destination,
) -> anyhow::Result<S3Route> {
    let transfer = settings.transfer(&destination.url);
    let options = s3::Options {
        chunk_size: transfer.chunk_size,
        part_concurrency: settings.part_concurrency,
        overwrite: settings.overwrite,
    };
    let route = S3Route::open(&destination.url, &transfer.s3, options, (settings, client))?;
    route
        .check_bucket(settings.idle_timeout, settings.retries)
        .await?;
    Ok(route)
}

/// The run's routes. One may be replaced once per run, when the server
/// refuses the protocol the journal remembered for an `auto` destination.
pub struct Routes {
    map: Mutex<HashMap<Destination, Arc<Route>>>,
    asked_again: Mutex<HashSet<Destination>>,
}

impl Routes {
    pub fn new(map: HashMap<Destination, Arc<Route>>) -> Routes {
        Routes {
            map: Mutex::new(map),
            asked_again: Mutex::new(HashSet::new()),
        }
    }

    /// The route of the destination at `url`, whatever protocol a job
    /// toward it was queued with.
    pub fn for_url(&self, url: &str) -> Option<Arc<Route>> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let found = map.iter().find(|(destination, _)| destination.url == url);
        found.map(|(_, route)| route.clone())
    }

    /// The route of `destination`, or of its URL when a job queued with
    /// another protocol joined the run after the routes were chosen (a
    /// failed job a watch requeued after its scan).
    pub fn get(&self, destination: &Destination) -> Arc<Route> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(route) = map.get(destination) {
            return route.clone();
        }
        drop(map);
        (self.for_url(&destination.url)).expect("a sync's jobs all go to its destination's URL")
    }

    /// After a 405, 412 or 501 to a protocol the journal remembered for an
    /// `auto` destination, asks the server again (once per run); the new
    /// route when the answer names another protocol, which the journal
    /// then remembers instead.
    pub async fn ask_again(
        &self,
        (shared, settings, client): (&Shared, &Settings, &reqwest::Client),
        route: &Route,
        destination: &Destination,
        failure: Option<&Failure>,
    ) -> Option<Arc<Route>> {
        let Route::Http(used) = route else {
            return None;
        };
        let refused = matches!(
            failure,
            Some(
                Failure::Permanent {
                    status: Some(405 | 412 | 501),
                    ..
                } | Failure::Refused {
                    status: 405 | 501,
                    ..
                }
            )
        );
        let first = || {
            let mut asked = self.asked_again.lock().unwrap_or_else(|p| p.into_inner());
            asked.insert(destination.clone())
        };
        if !refused || !used.remembered || !first() {
            return None;
        }
        let fresh = reprobe(shared, settings, client, destination).await.ok()?;
        match &fresh {
            Route::Http(new) if new.adapter.protocol() != used.adapter.protocol() => {}
            _ => return None,
        }
        let fresh = Arc::new(fresh);
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(destination.clone(), fresh.clone());
        Some(fresh)
    }
}

/// Asks again what an `auto` destination speaks, ignoring the journal's
/// memory; the new answer replaces it.
async fn reprobe(
    shared: &Shared,
    settings: &Settings,
    client: &reqwest::Client,
    destination: &Destination,
) -> anyhow::Result<Route> {
    http_route(shared, settings, client, destination, Protocol::Auto, false).await
}

async fn http_route(
    shared: &Shared,
    settings: &Settings,
    client: &reqwest::Client,
    destination: &Destination,
    wanted: Protocol,
    use_memory: bool,
) -> anyhow::Result<Route> {
    let transfer = settings.transfer(&destination.url);
    let remembered = match use_memory {
        true => shared.lock().chosen_protocol(&destination.url),
        false => None,
    };
    let probed = asked(settings, client, destination).await?;
    let capabilities = match (wanted, remembered, probed) {
        (Protocol::Auto, None, Err(failure)) => anyhow::bail!(
            "{}: cannot tell which protocol it speaks: {}",
            destination.url,
            failure.text()
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
    let adapter = adapter(capabilities.protocol, transfer, &capabilities);
    Ok(Route::Http(HttpRoute {
        remembered: wanted == Protocol::Auto && remembered.is_some(),
        chunk_size: transfer.chunk_size.or(adapter.default_append()),
        adapter,
        limits: capabilities.limits,
        headers: transfer.headers.clone(),
    }))
}
