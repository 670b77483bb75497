//! `ferry serve --forward URL`: a resumable front for a backend that takes
//! only whole files.
//!
//! Once an upload is complete and verified, whatever protocol brought it,
//! the placed file is streamed to the backend in one plain request, and the
//! backend's answer (status, `ETag`, `Location`, `Content-Type`) becomes the
//! answer that completes the upload, as SwiftNIO's resumable upload server
//! translates resumable uploads into regular ones. The upload stays complete
//! whatever the backend does: a transient failure leaves it `Waiting` in the
//! durable store, retried with backoff by a background task (also after a
//! restart), and a `HEAD` says so; a client therefore never sends its bytes
//! again because of the backend. After a 2xx the file leaves `--dir` unless
//! `--keep` is given. The forward headers may hold secrets and are never
//! logged, and neither is the backend URL (its query may hold a key):
//! errors name the backend by its origin at most.
//!
//! Each backend request has a deadline that slides with progress (no byte
//! of the body taken and no answer for `BACKEND_IDLE` ends it), the request
//! completing an upload waits at most `INLINE_PATIENCE` in all, and waiting
//! uploads are retried `RETRY_AT_ONCE` at a time from a queue kept in
//! memory (rebuilt from the store once, at start), so one hung backend
//! request never stalls the others.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::HeaderMap;

use super::forwarded::Record;
use super::store::{Answer, Completed, Forward, UploadError, UploadInfo, UploadStore};
use crate::wire;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardMethod {
    Put,
    Post,
}

/// What `--forward` and its companions say.
#[derive(Clone, Debug)]
pub struct ForwardSettings {
    /// The backend URL, maybe a template with `{path}`, `{name}`, `{sha256}`.
    pub url: String,
    pub method: ForwardMethod,
    /// `--forward-header`, `${VAR}` expanded; sent, never logged.
    pub headers: HeaderMap,
    /// Keep the file in `--dir` after the backend took it.
    pub keep: bool,
    /// CA certificates trusted for the backend besides the system's
    /// (`--forward-ca-cert`).
    pub ca_certs: Vec<reqwest::Certificate>,
}

/// The backend's headers the client is shown.
const PASSED_ON: [&str; 3] = ["etag", "location", "content-type"];
/// How long the request that completes an upload waits for the backend
/// before answering that the upload is complete and waiting for it.
const INLINE_PATIENCE: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Attempts before an upload is given up on: with the backoff capped at 5
/// minutes, about 16 hours of a backend that never answers. The file stays
/// in `--dir` and `HEAD` says why it was not passed on.
const MAX_ATTEMPTS: u32 = 200;
/// No body byte taken and no answer for this long ends a backend request.
const BACKEND_IDLE: Duration = Duration::from_secs(30);
/// Waiting uploads tried at once by the background task.
const RETRY_AT_ONCE: usize = 4;

pub struct Forwarder {
    settings: ForwardSettings,
    dir: PathBuf,
    client: reqwest::Client,
    /// Uploads being forwarded right now: one forward per upload at a time.
    busy: Mutex<HashSet<String>>,
    /// Uploads waiting for the backend, and when each may be tried again.
    next_try: Mutex<HashMap<String, Instant>>,
}

/// Why one attempt did not get a final answer.
enum Attempt {
    /// Worth another try: the backend failed or was unreachable.
    Transient(String),
    /// The file to send is gone from `--dir`; no retry brings it back.
    Lost(String),
}

/// One caller's hold on an upload, released when dropped.
struct Held<'a> {
    busy: &'a Mutex<HashSet<String>>,
    id: String,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

fn backoff(attempts: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << attempts.min(16))
        .min(MAX_BACKOFF)
}

impl Forwarder {
    pub fn new(settings: ForwardSettings, dir: PathBuf) -> anyhow::Result<Forwarder> {
        // The backend may be https: the TLS provider must be chosen first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder();
        for cert in &settings.ca_certs {
            builder = builder.add_root_certificate(cert.clone());
        }
        let client = builder
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ferry-serve/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Forwarder {
            settings,
            dir,
            client,
            busy: Mutex::new(HashSet::new()),
            next_try: Mutex::new(HashMap::new()),
        })
    }

    /// The uploads the store holds as waiting for the backend (after a
    /// restart): read once, at start.
    pub fn queue_waiting(&self, store: &UploadStore) -> Result<(), UploadError> {
        for info in store.waiting_forwards()? {
            self.later(&info.id, Duration::ZERO);
        }
        Ok(())
    }

    /// Forwards a just-completed upload; returns how it stands for the
    /// reply after at most `INLINE_PATIENCE`. The attempts run in a task of
    /// their own: one still under way when the patience ends goes on (the
    /// backend never gets the file twice because the client was answered).
    pub async fn forward(
        self: &Arc<Self>,
        store: &Arc<UploadStore>,
        info: &UploadInfo,
    ) -> Result<Completed, UploadError> {
        // In the queue, in case this process stops before it is passed on;
        // not due before the inline attempts are over.
        self.later(&info.id, INLINE_PATIENCE);
        let (this, owned_store, owned_info) = (self.clone(), store.clone(), info.clone());
        let passing = tokio::spawn(async move {
            if let Err(error) = this.forward_inline(&owned_store, &owned_info).await {
                super::log(&format!("forwarding upload {}: {error}", owned_info.id));
            }
        });
        let _ = tokio::time::timeout(INLINE_PATIENCE, passing).await;
        store.completed(&info.id)
    }

    /// Tries an upload, with backoff, while `INLINE_PATIENCE` lasts.
    async fn forward_inline(
        &self,
        store: &UploadStore,
        info: &UploadInfo,
    ) -> Result<(), UploadError> {
        let Some(_held) = self.hold(&info.id) else {
            return Ok(());
        };
        let started = Instant::now();
        let mut attempts = 0;
        while let Forward::Waiting { attempts: now, .. } =
            self.try_once(store, info, attempts).await?
        {
            attempts = now;
            let wait = backoff(attempts - 1);
            if started.elapsed() + wait > INLINE_PATIENCE {
                self.later(&info.id, wait);
                break;
            }
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    fn later(&self, id: &str, wait: Duration) {
        let mut next = self.next_try.lock().unwrap_or_else(|p| p.into_inner());
        next.insert(id.to_owned(), Instant::now() + wait);
    }

    /// The upload is passed on or given up: it leaves the queue.
    fn done(&self, id: &str) {
        let mut next = self.next_try.lock().unwrap_or_else(|p| p.into_inner());
        next.remove(id);
    }

    /// Holds `id` for one caller at a time; `None` when another holds it.
    fn hold(&self, id: &str) -> Option<Held<'_>> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.insert(id.to_owned()).then(|| Held {
            busy: &self.busy,
            id: id.to_owned(),
        })
    }

    /// One attempt, recorded in the store; the caller holds the upload.
    async fn try_once(
        &self,
        store: &UploadStore,
        info: &UploadInfo,
        attempts: u32,
    ) -> Result<Forward, UploadError> {
        let completed = store.completed(&info.id)?;
        if let Some(done @ (Forward::Answered(_) | Forward::Abandoned { .. })) = completed.forward {
            self.done(&info.id);
            return Ok(done);
        }
        let forward = match self.send(&completed).await {
            Ok(answer) => {
                let accepted = (200..300).contains(&answer.status);
                // The ledger's line first: a file never leaves --dir
                // without a record of where it went.
                let recorded = match accepted {
                    true => self.record(store, info, &completed, &answer),
                    false => Ok(()),
                };
                if let Err(error) = &recorded {
                    super::log(&format!(
                        "keeping {} in the folder: recording its forward failed: {error}",
                        completed.placed.display()
                    ));
                }
                if accepted && recorded.is_ok() && !self.settings.keep {
                    let _ = std::fs::remove_file(self.dir.join(&completed.placed));
                }
                Forward::Answered(answer)
            }
            Err(Attempt::Lost(error)) => {
                super::log(&format!(
                    "not forwarding {}: {error}",
                    completed.placed.display()
                ));
                Forward::Abandoned { error }
            }
            Err(Attempt::Transient(error)) if attempts + 1 >= MAX_ATTEMPTS => {
                let error =
                    format!("the backend did not take it in {MAX_ATTEMPTS} attempts ({error})");
                super::log(&format!(
                    "not forwarding {}: {error}",
                    completed.placed.display()
                ));
                Forward::Abandoned { error }
            }
            Err(Attempt::Transient(error)) => {
                super::log(&format!(
                    "forwarding {} failed (attempt {}): {error}; it waits and is retried",
                    completed.placed.display(),
                    attempts + 1
                ));
                Forward::Waiting {
                    attempts: attempts + 1,
                    error: Some(error),
                }
            }
        };
        if !matches!(forward, Forward::Waiting { .. }) {
            self.done(&info.id);
        }
        store.set_forward(&info.id, forward.clone())?;
        // Said once it is recorded: a HEAD after this line sees the answer.
        if let Forward::Answered(answer) = &forward {
            super::log(&format!(
                "forwarded {} to the backend: HTTP {}",
                completed.placed.display(),
                answer.status
            ));
        }
        Ok(forward)
    }

    /// Writes the accepted forward of `completed` to the ledger.
    fn record(
        &self,
        store: &UploadStore,
        info: &UploadInfo,
        completed: &Completed,
        answer: &Answer,
    ) -> std::io::Result<()> {
        let record = Record {
            path: completed.placed.clone(),
            sha256: completed.sha256,
            size: info.length.unwrap_or_default(),
            status: answer.status,
            headers: answer.headers.clone(),
        };
        tokio::task::block_in_place(|| store.forwarded.record(record))
    }

    /// One request to the backend with the file as its body.
    async fn send(&self, completed: &Completed) -> Result<Answer, Attempt> {
        let path = self.dir.join(&completed.placed);
        let placed = completed.placed.as_path();
        let name = placed.file_name().unwrap_or(placed.as_os_str());
        let url = wire::file_url(
            &self.settings.url,
            &wire::encode_path_bytes(placed.as_os_str().as_bytes()),
            &wire::encode_path_bytes(name.as_bytes()),
            &completed.sha256,
        );
        let unreadable = |error: std::io::Error| match error.kind() {
            std::io::ErrorKind::NotFound => Attempt::Lost(format!("{} is gone", path.display())),
            _ => Attempt::Transient(format!("{}: {error}", path.display())),
        };
        let file = tokio::fs::File::open(&path).await.map_err(unreadable)?;
        let size = file.metadata().await.map_err(unreadable)?.len();
        // Each chunk the backend takes moves the deadline.
        let moved = Arc::new(Mutex::new(Instant::now()));
        let progress = moved.clone();
        let body = reqwest::Body::wrap_stream(
            tokio_util::io::ReaderStream::with_capacity(file, 1 << 20).map(move |chunk| {
                *progress.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                chunk
            }),
        );
        let method = match self.settings.method {
            ForwardMethod::Put => reqwest::Method::PUT,
            ForwardMethod::Post => reqwest::Method::POST,
        };
        let sent = self
            .client
            .request(method, &url)
            .headers(self.settings.headers.clone())
            .header("Content-Length", size)
            .header("Content-Type", "application/octet-stream")
            .header(
                "Repr-Digest",
                wire::fields::write_sha256_digest(&completed.sha256),
            )
            .body(body)
            .send();
        let stalled = async {
            loop {
                let since = moved.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
                if since >= BACKEND_IDLE {
                    return;
                }
                tokio::time::sleep(BACKEND_IDLE - since).await;
            }
        };
        let response = tokio::select! {
            sent = sent => sent.map_err(|error| {
                // The URL may hold a key: never in a log line or a header.
                let error = anyhow::Error::from(error.without_url());
                Attempt::Transient(crate::error::one_line(&error))
            })?,
            () = stalled => {
                return Err(Attempt::Transient(format!(
                    "the backend took no byte and gave no answer for {} s",
                    BACKEND_IDLE.as_secs()
                )));
            }
        };
        let status = response.status().as_u16();
        if matches!(status, 408 | 429 | 500..=599) {
            return Err(Attempt::Transient(format!("HTTP {status}")));
        }
        let headers: BTreeMap<String, String> = response
            .headers()
            .iter()
            .filter(|(name, _)| PASSED_ON.contains(&name.as_str()))
            .filter_map(|(name, value)| {
                let value = value.to_str().ok()?;
                // A backend's Location may echo the URL's key: its query
                // and fragment are never passed on or recorded.
                let value = match name.as_str() {
                    "location" => value.split(['?', '#']).next().unwrap_or_default(),
                    _ => value,
                };
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect();
        Ok(Answer { status, headers })
    }

    /// Tries the queued uploads whose backoff has passed, `RETRY_AT_ONCE`
    /// at a time (the background task).
    pub async fn retry_waiting(&self, store: &UploadStore) {
        let due: Vec<String> = {
            let next = self.next_try.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            next.iter()
                .filter(|(_, at)| **at <= now)
                .map(|(id, _)| id.clone())
                .collect()
        };
        futures_util::stream::iter(due)
            .for_each_concurrent(RETRY_AT_ONCE, |id| self.retry_one(store, id))
            .await;
    }

    async fn retry_one(&self, store: &UploadStore, id: String) {
        let Some(_held) = self.hold(&id) else {
            return;
        };
        let info = match tokio::task::block_in_place(|| store.get(&id)) {
            Ok(upload) => upload.info,
            // Gone from the store (swept, deleted): nothing to pass on.
            Err(_) => return self.done(&id),
        };
        let attempts = match &info.completed {
            Some(Completed {
                forward: Some(Forward::Waiting { attempts, .. }),
                ..
            }) => *attempts,
            _ => return self.done(&id),
        };
        match self.try_once(store, &info, attempts).await {
            Ok(Forward::Waiting { attempts, .. }) => self.later(&id, backoff(attempts)),
            Ok(_) => {}
            Err(error) => {
                super::log(&format!("forwarding upload {id}: {error}"));
                self.later(&id, backoff(attempts + 1));
            }
        }
    }
}

/// The `Ferry-Forward` value: how passing the upload on stands.
pub fn status_text(forward: &Forward) -> String {
    match forward {
        Forward::Waiting { attempts, error } => format!(
            "waiting for the backend ({attempts} attempts{})",
            error
                .as_ref()
                .map(|error| format!(", last: {error}"))
                .unwrap_or_default()
        ),
        Forward::Answered(answer) => format!("answered HTTP {}", answer.status),
        Forward::Abandoned { error } => format!("not forwarded: {error}"),
    }
}
