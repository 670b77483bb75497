//! What every HTTP adapter shares: one client, the idle-transfer watchdog,
//! and reading answers (file bodies are `upload::body`).
//!
//! Every chunk of a body sent counts as activity for the watchdog. An
//! answer is turned into a
//! `Failure` by status once, here, so the adapters only say what a status
//! means in their protocol when it means something special there.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::throttle::Throttle;
use crate::journal::job::ErrorClass;

/// What every refusal of the credentials ends with: where they come from.
pub const CREDENTIALS_HINT: &str = "check the credentials (-H, --token-file, FERRY_TOKEN)";

/// Why an attempt ended without the job finishing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth trying again: connect, reset, timeout, 5xx, 408, 423, 429.
    Transient {
        status: Option<u16>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The job cannot succeed as it is: it fails with this reason.
    Permanent {
        class: ErrorClass,
        status: Option<u16>,
        message: String,
    },
    /// 401 or 403: no job will do better, so the run stops.
    Credentials { status: u16, message: String },
    /// The destination refuses uploads themselves (404 on the collection,
    /// 405, 501 at creation): no job will do better, so the run stops with
    /// one line and leaves the jobs pending.
    Refused { status: u16, message: String },
    /// The destination has no room (HTTP 507, a full disk or quota): no
    /// job will do better until it has, so the run stops with one line and
    /// leaves the jobs pending for the next run.
    Full { message: String },
    /// The run is being interrupted.
    Stopped,
    /// The journal cannot record any more: the run must stop.
    Journal(String),
}

impl Failure {
    pub fn permanent(class: ErrorClass, message: impl Into<String>) -> Failure {
        Failure::Permanent {
            class,
            status: None,
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Failure {
        Failure::Transient {
            status: None,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The reason as one line.
    pub fn text(&self) -> String {
        match self {
            Failure::Transient { message, .. }
            | Failure::Permanent { message, .. }
            | Failure::Credentials { message, .. }
            | Failure::Refused { message, .. }
            | Failure::Full { message } => message.clone(),
            Failure::Stopped => "interrupted".to_owned(),
            Failure::Journal(message) => message.clone(),
        }
    }

    /// This failure, met when creating an upload: a 404, 405 or 501 there
    /// is the destination's, not the file's.
    pub fn at_creation(self) -> Failure {
        match self {
            Failure::Permanent {
                status: Some(status @ (404 | 405 | 501)),
                message,
                ..
            } => Failure::Refused { status, message },
            other => other,
        }
    }

    /// A local write's error: a full disk or quota stops the run (`Full`),
    /// anything else fails the job.
    pub fn of_local_write(error: &std::io::Error, message: String) -> Failure {
        let full = error.kind() == std::io::ErrorKind::StorageFull
            || error.kind() == std::io::ErrorKind::QuotaExceeded
            || error.raw_os_error() == Some(libc::EDQUOT);
        match full {
            true => Failure::Full { message },
            false => Failure::permanent(ErrorClass::File, message),
        }
    }

    pub fn changed_since_scan(path: &std::path::Path, what: &str) -> Failure {
        Failure::permanent(
            ErrorClass::File,
            format!("{}: changed since scan ({what})", path.display()),
        )
    }
}

/// Time of the last byte that moved, shared by a request's body and its watchdog.
#[derive(Debug)]
pub struct Activity {
    started: Instant,
    last_ms: AtomicU64,
    /// Body bytes handed to the connection by this job, all attempts together.
    pub sent: AtomicU64,
    /// The file offset reached: the start of the request under way plus
    /// what it has handed over (or the local copy's length).
    pub position: AtomicU64,
    /// The bandwidth limits this job's bytes count against.
    pub throttles: Vec<Arc<Throttle>>,
    /// Waits for the bandwidth limit under way: they are not silence.
    pacing: AtomicU64,
    /// Where this run's first transfer of the job started (what the
    /// destination already had); `u64::MAX` until known.
    resumed: AtomicU64,
    /// Tries after a transient fault in this run: each is an attempt of
    /// the job's as much as the first (the failures list counts them).
    retried: AtomicU32,
}

impl Default for Activity {
    fn default() -> Self {
        Activity::throttled(Vec::new())
    }
}

impl Activity {
    pub fn throttled(throttles: Vec<Arc<Throttle>>) -> Activity {
        Activity {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            position: AtomicU64::new(0),
            throttles,
            pacing: AtomicU64::new(0),
            resumed: AtomicU64::new(u64::MAX),
            retried: AtomicU32::new(0),
        }
    }

    /// Waits until every limit lets `bytes` more go. The wait is not
    /// silence: the stall watchdog does not count it.
    pub async fn pace(&self, bytes: u64) {
        if self.throttles.is_empty() {
            return;
        }
        /// Ends the pacing when the wait ends, also when the request is
        /// dropped during it (a reset, an early answer).
        struct Pacing<'a>(&'a Activity);
        impl Drop for Pacing<'_> {
            fn drop(&mut self) {
                self.0.touch();
                self.0.pacing.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.pacing.fetch_add(1, Ordering::Relaxed);
        let _pacing = Pacing(self);
        for throttle in &self.throttles {
            throttle.take(bytes).await;
        }
    }

    /// The transfer starts at `offset`, which the destination confirmed:
    /// the first such offset of the run is what it resumed from.
    pub fn starts_at(&self, offset: u64) {
        self.position.store(offset, Ordering::Relaxed);
        let _ =
            (self.resumed).compare_exchange(u64::MAX, offset, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The job is tried again after a transient fault.
    pub fn retrying(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }

    /// Tries after the first in this run.
    pub fn retried(&self) -> u32 {
        self.retried.load(Ordering::Relaxed)
    }

    /// Bytes the destination already had when this run took the job up.
    pub fn resumed(&self) -> u64 {
        match self.resumed.load(Ordering::Relaxed) {
            u64::MAX => 0,
            offset => offset,
        }
    }

    /// The slice a body should send at once: the smallest of its limits'.
    pub fn slice(&self) -> Option<usize> {
        self.throttles.iter().filter_map(|t| t.slice()).min()
    }

    pub fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        if self.pacing.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let now = self.started.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Runs a request, ending it as transient once nothing has moved for `idle`.
pub async fn within_idle<T>(
    activity: &Activity,
    idle: Duration,
    request: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    activity.touch();
    tokio::pin!(request);
    loop {
        let wait = idle.saturating_sub(activity.idle_for());
        tokio::select! {
            result = &mut request => return result,
            _ = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {
                if activity.idle_for() >= idle {
                    return Err(Failure::transient(format!(
                        "the transfer stalled: nothing moved for {}",
                        humantime::format_duration(idle)
                    )));
                }
            }
        }
    }
}

/// The shared client: connections are reused across jobs; no proxy from the
/// environment, since a proxy would send traffic somewhere we were not told.
pub fn client(settings: &super::Settings) -> anyhow::Result<reqwest::Client> {
    client_trusting(settings, &[])
}

/// `client`, also trusting `extra` CA certificates (an S3 route's
/// `AWS_CA_BUNDLE`) besides the system's and `--ca-cert`.
pub fn client_trusting(
    settings: &super::Settings,
    extra: &[reqwest::Certificate],
) -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    for cert in settings.ca_certs.iter().chain(extra) {
        builder = builder.add_root_certificate(cert.clone());
    }
    Ok(builder
        .no_proxy()
        .connect_timeout(settings.connect_timeout)
        .pool_max_idle_per_host(32)
        .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

/// The CA certificates in a PEM file (`--ca-cert`, `AWS_CA_BUNDLE`); the
/// error says what is wrong with the file, for the caller to name it.
pub fn certificates_in(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|error| error.to_string())?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|error| format!("not PEM certificates ({error})"))?;
    match certs.is_empty() {
        true => Err("no PEM certificate in it".to_owned()),
        false => Ok(certs),
    }
}

/// The error and its causes on one line, as every error is shown.
fn one_line(error: reqwest::Error) -> String {
    crate::error::one_line(&anyhow::Error::from(error))
}

/// A connection that cannot be made as things stand: refused, a name that
/// does not resolve, a certificate that is not trusted. A reset or a
/// timeout, even during the handshake, is not one of these.
pub fn unreachable(error: &reqwest::Error) -> bool {
    if !error.is_connect() || error.is_timeout() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return true,
                std::io::ErrorKind::InvalidData => return true,
                _ => {}
            }
        }
        if cause.to_string().starts_with("dns error") {
            return true;
        }
        source = cause.source();
    }
    false
}

/// What to do about a connection that failed, when the error says: a
/// certificate from a CA the client does not know, or plain HTTP sent to
/// a server that speaks TLS.
pub fn unreachable_hint(error: &str) -> &'static str {
    if error.contains("invalid peer certificate") {
        " (a private CA or a self-signed server: trust its CA with --ca-cert FILE or FERRY_CA_CERT)"
    } else if error.contains("invalid HTTP version parsed") {
        " (the server may speak HTTPS: try https://)"
    } else {
        ""
    }
}

/// A send that failed before an answer came: always worth another try,
/// except when the request could not even be built.
pub fn send_failure(error: reqwest::Error) -> Failure {
    if error.is_builder() {
        return Failure::permanent(ErrorClass::Client, one_line(error));
    }
    Failure::transient(one_line(error))
}

/// The first wait before a retry; it doubles with each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The server's `Retry-After` when it gave one; otherwise the doubled
/// backoff with jitter: a random wait between half of it and all of it.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait;
    }
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_BACKOFF);
    ceiling.mul_f64(0.5 + fastrand::f64() / 2.0)
}

/// `Retry-After` as seconds or an HTTP date, capped at ten minutes.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(Duration::from_secs(600)))
}

/// A status that says the server is in trouble for now (timeout, locked,
/// too many requests, 5xx), so the request is worth sending again;
/// `unexpected` still makes 501 and 505 permanent.
pub fn answers_trouble(status: u16) -> bool {
    matches!(status, 408 | 423 | 429 | 500..=599)
}

/// The failure an unexpected status means, with the server's own words when
/// it gave a short reason (a problem document's title or a text body).
pub async fn unexpected(response: reqwest::Response, doing: &str) -> Failure {
    let status = response.status().as_u16();
    let standard = response.status().canonical_reason().unwrap_or("");
    let retry_after = retry_after(response.headers());
    let reason = reason(response).await;
    let message = match reason {
        Some(reason) => format!("{doing}: HTTP {status} {standard}: {reason}"),
        None => format!("{doing}: HTTP {status} {standard}"),
    };
    let message = message.replace(" :", ":").trim_end().to_owned();
    match status {
        401 | 403 => Failure::Credentials { status, message },
        507 => Failure::Full { message },
        // Not implemented, version not supported: asking again will not help.
        501 | 505 => Failure::Permanent {
            class: ErrorClass::Server,
            status: Some(status),
            message,
        },
        status if answers_trouble(status) => Failure::Transient {
            status: Some(status),
            message,
            retry_after,
        },
        _ => Failure::Permanent {
            class: if status >= 500 {
                ErrorClass::Server
            } else {
                ErrorClass::Client
            },
            status: Some(status),
            message,
        },
    }
}

/// The most of a peer's answer ferry reads into memory (an S3 XML page,
/// an error's words).
pub const MAX_ANSWER: usize = 4 << 20;

/// Reads an answer's body, at most `cap` bytes, ending the read once
/// nothing has arrived for `idle`; `Ok(None)` when there was more (the rest
/// is never read: a peer that keeps sending cannot fill our memory).
pub async fn capped_body(
    mut response: reqwest::Response,
    cap: usize,
    idle: Duration,
) -> Result<Option<Vec<u8>>, Failure> {
    let activity = Activity::default();
    let mut body = Vec::new();
    let whole = within_idle(&activity, idle, async {
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| send_failure(error.without_url()))?
        {
            activity.touch();
            if body.len() + chunk.len() > cap {
                return Ok(false);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(true)
    })
    .await?;
    Ok(whole.then_some(body))
}

async fn reason(response: reqwest::Response) -> Option<String> {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_problem = content_type.contains("json");
    let is_markup = content_type.contains("html") || content_type.contains("xml");
    // Only the start of an error page is read: its first words are the reason.
    let body = capped_body(response, 64 << 10, Duration::from_secs(5))
        .await
        .ok()??;
    let text = String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned();
    let text = if is_problem {
        let problem: serde_json::Value = serde_json::from_str(&text).ok()?;
        let field = |name: &str| {
            problem
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        field("title").or_else(|| field("detail"))?
    } else if is_markup || text.trim_start().starts_with('<') {
        // An error page's words are a page, not a reason (Python's
        // http.server wrote 200 characters of one into every job).
        return None;
    } else {
        text
    };
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!line.is_empty()).then(|| line.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        headers.insert(
            "retry-after",
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        headers.insert("retry-after", HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(600)));
    }
}
