//! `ferry verify`: is what the journal says was uploaded at its destination,
//! with the same content?
//!
//! Each succeeded job is checked as strongly as its destination allows:
//! `ferry serve` is asked for the stored file (`HEAD /files/<path>`, whose
//! `Repr-Digest` it computes from the file as it is now); a local folder's
//! copy is hashed again; an S3 object's SHA-256 checksum or
//! `x-amz-meta-sha256` is read with `HeadObject`; another IETF or PUT
//! server's `Repr-Digest` or `Content-Digest` is compared when it sends
//! one, else only the size, and a tus upload's offset against its length
//! ("size only"). A check that cannot be made is "unknown", never a pass.
//! Refused credentials (401, 403) are not an answer about one file: they
//! end the whole run as an error, as they end an upload. Checks run N at a
//! time and share the upload's client and retries.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use serde::Serialize;

use super::Settings;
use super::http::{self, Activity, Failure};
use super::protocols::sftp::{self, SftpRoute};
use super::protocols::{Exchange, put, s3};
use super::route;
use crate::digest::{HashError, Sha256, sha256_now};
use crate::journal::job::{Job, Protocol};
use crate::wire;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The destination confirmed the full SHA-256.
    Verified,
    /// Only the size could be compared, and it matches.
    SizeOnly,
    Missing,
    Different,
    /// The check could not be made (unreachable, or nothing to ask).
    Unknown,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::SizeOnly => "size only",
            Verdict::Missing => "missing",
            Verdict::Different => "different",
            Verdict::Unknown => "unknown",
        }
    }

    /// Missing or different: the upload has to be done again.
    pub fn is_bad(self) -> bool {
        matches!(self, Verdict::Missing | Verdict::Different)
    }

    /// The destination answered for the file (its digest, or at least its size).
    pub fn is_confirmed(self) -> bool {
        matches!(self, Verdict::Verified | Verdict::SizeOnly)
    }
}

/// One job's check.
#[derive(Debug)]
pub struct Checked {
    pub job: Job,
    pub verdict: Verdict,
    /// How it was checked, or why it could not be.
    pub detail: String,
}

/// Checks `jobs`, `concurrency` at a time; `done` is told after each.
/// `chosen` is the journal's memory of what `auto` chose per URL. A
/// destination that refuses the credentials ends the run with an error.
pub fn run(
    jobs: Vec<Job>,
    settings: &Settings,
    chosen: &HashMap<String, Protocol>,
    concurrency: usize,
    done: &(dyn Fn(&Checked) + Sync),
) -> anyhow::Result<Vec<Checked>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let client = http::client(settings)?;
    runtime.block_on(async {
        // Dropped when the check ends: each pool holds ssh masters and
        // their control folders in /tmp.
        let pools = SftpPools::default();
        let checks = futures_util::stream::iter(jobs).map(|job| {
            let (client, pools) = (&client, &pools);
            async move {
                let remembered = chosen.get(&job.destination.url).copied();
                match check_or_refused(client, settings, &job, remembered, pools).await {
                    Ok((verdict, detail)) => Ok(Checked {
                        job,
                        verdict,
                        detail,
                    }),
                    Err(message) => Err(format!(
                        "{}: {message}; {}",
                        job.destination.url,
                        http::CREDENTIALS_HINT
                    )),
                }
            }
        });
        let mut checked = Vec::new();
        let mut stream = checks.buffer_unordered(concurrency.max(1));
        while let Some(one) = stream.next().await {
            let one = one.map_err(anyhow::Error::msg)?;
            done(&one);
            checked.push(one);
        }
        Ok(checked)
    })
}

/// One job's check: its verdict and how it was reached. `remembered` is
/// what `auto` chose for the job's URL, if the journal knows. Refused
/// credentials are "unknown" here; `run` stops on them instead.
pub async fn check(
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
    remembered: Option<Protocol>,
) -> (Verdict, String) {
    check_or_refused(client, settings, job, remembered, &SftpPools::default())
        .await
        .unwrap_or_else(|message| (Verdict::Unknown, message))
}

/// `check`, or the destination's refusal of the credentials.
async fn check_or_refused(
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
    remembered: Option<Protocol>,
    pools: &SftpPools,
) -> Result<(Verdict, String), String> {
    let response_headers = job.response.as_ref().map(|r| &r.headers);
    let header = |name: &str| response_headers.and_then(|headers| headers.get(name));
    let protocol = match (job.session.as_ref()).and_then(|session| session.protocol) {
        Some(used) => used,
        None if job.destination.protocol == Protocol::Auto => remembered.unwrap_or(Protocol::Auto),
        None => job.destination.protocol,
    };
    let result = if let Some(placed) = header("ferry-path") {
        ferry_serve(client, settings, job, placed).await
    } else {
        match protocol {
            Protocol::Local => Ok(local_copy(job, &super::own_copy::local_stored_path(job)).await),
            Protocol::S3 => s3_object(client, settings, job).await,
            Protocol::Sftp => match pools.route(settings, &job.destination.url).await {
                Ok(route) => Ok(sftp_verdict(&route, job).await),
                Err(message) => Ok((Verdict::Unknown, message)),
            },
            Protocol::Tus => session_size(client, settings, job, true).await,
            Protocol::Ietf => session_size(client, settings, job, false).await,
            Protocol::Put => put_target(client, settings, job).await,
            Protocol::Auto => Ok((
                Verdict::Unknown,
                "the journal does not say which protocol carried it".to_owned(),
            )),
            Protocol::Bits => Ok((
                Verdict::Unknown,
                "a BITS server cannot be asked about a finished upload".to_owned(),
            )),
        }
    };
    match result {
        Ok(verdict) => Ok(verdict),
        Err(Failure::Credentials { message, .. }) => Err(message),
        Err(failure) => {
            let text = failure.text();
            let hint = super::http::unreachable_hint(&text);
            Ok((Verdict::Unknown, format!("{text}{hint}")))
        }
    }
}

/// Sends a HEAD with the destination's headers, retried like an upload's
/// requests on transient failures.
async fn head(
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
    url: &str,
    extra: &[(&str, String)],
) -> Result<(u16, HeaderMap), Failure> {
    let transfer = settings.transfer(&job.destination.url);
    let activity = Arc::new(Activity::default());
    let mut attempt = 0;
    loop {
        let headers =
            crate::upload::secrets::headers_for(&transfer.headers, &job.destination.url, url);
        let mut builder = client.head(url).headers(headers);
        for (name, value) in extra {
            builder = builder.header(*name, value);
        }
        let sent = http::within_idle(&activity, settings.idle_timeout, async {
            let response = builder.send().await.map_err(http::send_failure)?;
            // A 5xx, 408, 423 or 429 is retried here as on every other
            // request path, a 401 or 403 ends the run; any other answer is
            // the check's to read.
            match response.status().as_u16() {
                status if http::answers_trouble(status) || matches!(status, 401 | 403) => {
                    Err(http::unexpected(response, "HEAD").await)
                }
                _ => Ok(response),
            }
        })
        .await;
        match sent {
            Ok(response) => return Ok((response.status().as_u16(), response.headers().clone())),
            Err(Failure::Transient { retry_after, .. }) if attempt < settings.retries => {
                attempt += 1;
                tokio::time::sleep(http::backoff(attempt, retry_after)).await;
            }
            Err(failure) => return Err(failure),
        }
    }
}

/// A digest or size in `headers` against the job's content.
fn compare(job: &Job, headers: &HeaderMap, what: &str) -> (Verdict, String) {
    for name in ["Repr-Digest", "Content-Digest"] {
        if let Ok(Some(found)) = wire::fields::sha256_digest(headers, name) {
            return digest_verdict(&found, &job.resource.sha256, &format!("{what} {name}"));
        }
    }
    match wire::fields::integer(headers, "Content-Length") {
        Ok(Some(size)) if size == job.resource.size => (
            Verdict::SizeOnly,
            format!("{what}: {size} bytes, no digest"),
        ),
        Ok(Some(size)) => (
            Verdict::Different,
            format!("{what}: {size} bytes, not {}", job.resource.size),
        ),
        _ => (Verdict::Unknown, format!("{what}: no digest and no size")),
    }
}

fn digest_verdict(found: &Sha256, expected: &Sha256, how: &str) -> (Verdict, String) {
    match found == expected {
        true => (Verdict::Verified, format!("{how}: sha-256 matches")),
        false => (
            Verdict::Different,
            format!(
                "{how}: sha-256 {} instead of {}",
                found.to_hex(),
                expected.to_hex()
            ),
        ),
    }
}

async fn ferry_serve(
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
    placed: &str,
) -> Result<(Verdict, String), Failure> {
    // The files' root on that server: the destination up to /files/.
    let url = &job.destination.url;
    let root = match url.find("/files/") {
        Some(at) => url[..at + "/files/".len()].to_owned(),
        // `…/files`, as the README writes it: the root is `…/files/`,
        // not a prefix of the names.
        None => format!("{}/", url.trim_end_matches('/')),
    };
    let (status, headers) = head(client, settings, job, &format!("{root}{placed}"), &[]).await?;
    let shown = job.stored_as().unwrap_or_else(|| placed.to_owned());
    Ok(match status {
        200 => match wire::text(&headers, "Ferry-Forward") {
            // Passed on by `serve --forward`: its digest was checked then.
            Some(forward) => {
                let how = format!("ferry serve forwarded {shown} (backend {forward}),");
                compare(job, &headers, &how)
            }
            None => compare(job, &headers, "ferry serve"),
        },
        404 => (Verdict::Missing, format!("ferry serve has no {shown}")),
        other => (Verdict::Unknown, format!("HEAD {shown}: HTTP {other}")),
    })
}

/// One connection pool per `sftp://` destination for the checks of one
/// run, or why it could not be opened (asked once, not once per file);
/// closed when dropped.
#[derive(Default)]
struct SftpPools(tokio::sync::Mutex<HashMap<String, Result<Arc<SftpRoute>, String>>>);

impl SftpPools {
    async fn route(&self, settings: &Settings, url: &str) -> Result<Arc<SftpRoute>, String> {
        let mut pools = self.0.lock().await;
        if let Some(route) = pools.get(url) {
            return route.clone();
        }
        let opened = async {
            let route = SftpRoute::open(url, 2, settings.connect_timeout, settings.retries).await?;
            route.settle_tool().await?;
            anyhow::Ok(route)
        };
        let route = opened
            .await
            .map(Arc::new)
            .map_err(|error| crate::error::one_line(&error));
        pools.insert(url.to_owned(), route.clone());
        route
    }
}

/// What an SFTP server holds at the job's placed name, hashed by the
/// server (or read back over SFTP on a files-only account).
pub async fn sftp_verdict(route: &SftpRoute, job: &Job) -> (Verdict, String) {
    let target = route.target(&super::own_copy::placed_name(job));
    let shown = target.display();
    let (slot, link) = match route.link().await {
        Ok(link) => link,
        Err(failure) => return (Verdict::Unknown, failure.text()),
    };
    match route.exists(&link, &target).await {
        Ok(true) => {}
        Ok(false) => return (Verdict::Missing, format!("{shown} is not there")),
        Err(failure) => {
            route.broken(slot, &link);
            return (Verdict::Unknown, failure.text());
        }
    }
    let how = match route.hash_tool().await.ok().flatten() {
        Some(tool) => format!("{shown} hashed by the server's {}", tool.name()),
        None => format!("{shown} read back over SFTP"),
    };
    match sftp::remote_sha256(route, &link, &target, job.resource.size).await {
        Ok(found) => digest_verdict(&found, &job.resource.sha256, &how),
        Err(failure) => {
            route.broken(slot, &link);
            (Verdict::Unknown, failure.text())
        }
    }
}

async fn local_copy(job: &Job, path: &Path) -> (Verdict, String) {
    let owned = path.to_owned();
    // The copy as storage holds it, not as the cache remembers it.
    let hashed = tokio::task::spawn_blocking(move || {
        crate::drop_behind::read_from_storage_next(&owned);
        sha256_now(&owned)
    })
    .await;
    let shown = path.display();
    match hashed {
        Ok(Ok((_, found))) => {
            digest_verdict(&found, &job.resource.sha256, &format!("{shown} re-hashed"))
        }
        Ok(Err(HashError::Vanished)) => (Verdict::Missing, format!("{shown} is not there")),
        Ok(Err(error)) => (Verdict::Unknown, format!("{shown}: {error}")),
        Err(error) => (Verdict::Unknown, error.to_string()),
    }
}

async fn s3_object(
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
) -> Result<(Verdict, String), Failure> {
    let route = route::s3_route(settings, client, &job.destination)
        .await
        .map_err(|error| Failure::transient(crate::error::one_line(&error)))?;
    s3_verdict(&route, settings, job).await
}

/// What `HeadObject` on the job's key says of its content, on a route
/// already open (verify's, or a clearing run's).
pub async fn s3_verdict(
    route: &s3::S3Route,
    settings: &Settings,
    job: &Job,
) -> Result<(Verdict, String), Failure> {
    let expected = &job.resource.sha256;
    let key = route
        .url
        .key(&job.resource.target_path().to_bytes(), expected);
    Ok(
        match s3::look_at(route, settings.idle_timeout, &key, expected).await? {
            s3::Existing::Same => (Verdict::Verified, format!("{key}: sha-256 matches")),
            s3::Existing::Different => (Verdict::Different, format!("{key} holds other content")),
            s3::Existing::Nothing => (Verdict::Missing, format!("no object {key}")),
        },
    )
}

/// tus (and IETF servers other than ferry serve): the upload session's
/// offset against the file's size.
async fn session_size(
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
    tus: bool,
) -> Result<(Verdict, String), Failure> {
    // A file sent whole in its creation request has no session recorded;
    // the creation's answer says where the upload lives.
    let location = (job.response.as_ref())
        .and_then(|response| response.headers.get("location"))
        .and_then(|location| {
            reqwest::Url::parse(&job.destination.url)
                .ok()?
                .join(location)
                .ok()
        })
        .map(String::from);
    let Some(url) = job.session.as_ref().map(|s| s.url.clone()).or(location) else {
        return Ok((
            Verdict::Unknown,
            "no upload session was recorded".to_owned(),
        ));
    };
    let extra = match tus {
        true => vec![("Tus-Resumable", "1.0.0".to_owned())],
        false => {
            let version = settings.transfer(&job.destination.url).ietf_version;
            vec![(wire::ietf::INTEROP_HEADER, version.to_string())]
        }
    };
    let (status, headers) = head(client, settings, job, &url, &extra).await?;
    if !(200..300).contains(&status) {
        return Ok((
            Verdict::Unknown,
            format!("the upload session answers HTTP {status} (it may have expired)"),
        ));
    }
    if !tus && let Ok(Some(found)) = wire::fields::sha256_digest(&headers, "Repr-Digest") {
        return Ok(digest_verdict(
            &found,
            &job.resource.sha256,
            "the session's Repr-Digest",
        ));
    }
    let offset = wire::fields::integer(&headers, "Upload-Offset")
        .ok()
        .flatten();
    Ok(match offset {
        Some(offset) if offset == job.resource.size => (
            Verdict::SizeOnly,
            format!("the upload's offset is its length, {offset} bytes"),
        ),
        Some(offset) => (
            Verdict::Different,
            format!(
                "the upload stands at {offset} of {} bytes",
                job.resource.size
            ),
        ),
        None => (
            Verdict::Unknown,
            "no Upload-Offset in the answer".to_owned(),
        ),
    })
}

async fn put_target(
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
) -> Result<(Verdict, String), Failure> {
    let transfer = settings.transfer(&job.destination.url);
    let activity = Arc::new(Activity::default());
    let exchange = Exchange {
        client,
        headers: &transfer.headers,
        endpoint: &job.destination.url,
        resource: &job.resource,
        activity: &activity,
        idle: settings.idle_timeout,
    };
    let url = put::target(&exchange);
    let (status, headers) = head(client, settings, job, &url, &[]).await?;
    Ok(match status {
        200..=299 => compare(job, &headers, "HEAD"),
        404 | 410 => (Verdict::Missing, format!("{url}: HTTP {status}")),
        other => (Verdict::Unknown, format!("HEAD {url}: HTTP {other}")),
    })
}
