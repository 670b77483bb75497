//! `ferry serve`: a durable receiver for every protocol ferry uploads with.
//!
//! One URL space serves all of them. `/files/<path>` is where uploads are
//! created (IETF draft and tus `POST`, plain `PUT`); `/uploads/<id>` is an
//! upload resource for either resumable protocol. Which protocol a request
//! speaks is read from its headers (`Tus-Resumable`, the IETF interop
//! version, `Upload-Complete`), so one server and one store cover both, and a
//! client may even resume with a different protocol than it started with.
//! All state lives in `upload_store` on disk; the process keeps only the
//! table of active writers, so killing it loses nothing that was confirmed.
//!
//! hyper (with hyper-util for the connection loop) is used directly rather
//! than a framework: two routes need no router, and hyper's frame-by-frame
//! body is what keeps memory flat. hyper cannot send interim responses other
//! than `100 Continue`, so no `104 (Upload Resumption Supported)` is sent:
//! clients learn the upload URL from the `201` of a creation request, which
//! is why ferry's own client uses the draft's careful creation (an empty
//! `POST` with `Upload-Complete: ?0`).

mod appender;
mod background;
mod bits;
mod body;
mod described;
mod descriptors;
pub mod forward;
mod forwarded;
mod ietf;
mod lookup;
mod origin;
mod plain;
mod reply;
mod running;
mod space;
pub mod store;
mod stored;
pub mod tls;
mod tus;
mod unfinished;
mod upload_error;
mod upload_name;
mod whole;
mod writers;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, StatusCode};
use subtle::ConstantTimeEq;

use crate::format::human_bytes;
use crate::journal::job::Timestamp;
use crate::serve::store::{Completed, Forward, Upload, UploadError, UploadInfo, UploadStore};
use crate::wire::{
    self,
    ietf::{INTEROP_HEADER, Interop},
};
use lookup::Lookup;
use reply::HttpResponse;
pub use reply::Reply;
use writers::Writers;

/// Where uploads are created; tus clients use it as their endpoint.
pub const FILES_PREFIX: &str = "/files/";
/// How long a connection may take to send its request head (and, with
/// TLS, to finish its handshake).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once unless told otherwise; more wait in the
/// listen backlog, so idle or hostile connections cannot take every file
/// descriptor.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
pub use unfinished::DEFAULT_LIMIT as DEFAULT_MAX_UPLOADS;

/// Where upload resources live.
pub const UPLOADS_PREFIX: &str = "/uploads/";

/// `ferry serve`'s resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dir: PathBuf,
    pub listen: SocketAddr,
    /// Bearer token every request must carry, when set.
    pub token: Option<String>,
    pub max_size: Option<u64>,
    pub max_append_size: Option<u64>,
    /// Unfinished uploads held at once (`--max-uploads`).
    pub max_uploads: usize,
    /// Connections served at once (`--max-connections`).
    pub max_connections: usize,
    /// How long an upload lives after its last write.
    pub lifetime: Duration,
    /// Pass completed uploads on to a backend (`--forward`).
    pub forward: Option<forward::ForwardSettings>,
    /// HTTPS with these files (`--tls-cert`, `--tls-key`).
    pub tls: Option<tls::TlsFiles>,
    /// Host names answered besides IP literals and localhost (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to upload (`--cors-origin`).
    pub cors_origins: Vec<String>,
}

struct Server {
    settings: Settings,
    store: Arc<UploadStore>,
    writers: Writers,
    forwarder: Option<Arc<forward::Forwarder>>,
    /// Stored files' digests for `HEAD`, by size, mtime and inode.
    digests: stored::Digests,
}

/// Runs store calls that touch the disk without stalling other connections.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(work)
}

impl Server {
    /// An upload's URL, relative: behind a proxy that terminates TLS the
    /// client resolves it against the URL it used, which this server cannot
    /// know (RFC 9110 allows a relative `Location`).
    fn location(&self, id: &str) -> String {
        format!("{UPLOADS_PREFIX}{id}")
    }

    /// Seconds the upload may still live (`Upload-Limit: max-age`).
    fn remaining_life(&self, upload: Option<&Upload>) -> u64 {
        match upload {
            None => self.settings.lifetime.as_secs(),
            Some(upload) => upload
                .expires_at(self.settings.lifetime)
                .duration_since(SystemTime::now())
                .map_or(0, |left| left.as_secs()),
        }
    }

    /// Verifies and places a complete upload, passes it on with
    /// `--forward`, and returns how it stands.
    async fn finish(&self, info: &UploadInfo, protocol: &str) -> Result<Completed, UploadError> {
        if let Some(completed) = &info.completed {
            return Ok(completed.clone());
        }
        let completed = self.place(info, protocol)?;
        match &self.forwarder {
            Some(forwarder) if completed.forward.is_none() => {
                let waiting = Forward::Waiting {
                    attempts: 0,
                    error: None,
                };
                blocking(|| self.store.set_forward(&info.id, waiting))?;
                forwarder.forward(&self.store, info).await
            }
            _ => Ok(completed),
        }
    }

    /// Verifies and places a complete upload, and logs the one line that
    /// says so (or why not).
    fn place(&self, info: &UploadInfo, protocol: &str) -> Result<Completed, UploadError> {
        let result = blocking(|| self.store.finish(&info.id));
        let size = info.length.unwrap_or(0);
        let took = SystemTime::now()
            .duration_since(info.created_at.0)
            .unwrap_or_default();
        match &result {
            Ok(completed) => {
                let verified = match &info.sha256 {
                    Some(_) => "sha256 verified",
                    None => "sha256 not announced by the client",
                };
                let note = if completed.identical {
                    ", identical file already there"
                } else if completed.placed != info.relative {
                    ", name taken by a different file"
                } else {
                    ""
                };
                log(&format!(
                    "stored {} ({size} bytes, {}), {verified}, {:.2} s, {protocol}{note}",
                    completed.placed.display(),
                    human_bytes(size),
                    took.as_secs_f64()
                ));
            }
            Err(error) => log(&format!(
                "refused {} via {protocol}: {error}",
                info.relative.display()
            )),
        }
        result
    }

    /// The headers every finished upload reports, on its last response and
    /// on later `HEAD`s: where it landed, what it hashes to, and with
    /// `--forward` what the backend answered (or that it has not yet).
    fn completed_headers(reply: Reply, completed: &Completed) -> Reply {
        let mut reply = reply
            .header(
                "Ferry-Path",
                wire::encode_path_bytes(&completed.placed.to_bytes()),
            )
            .header(
                "Repr-Digest",
                wire::fields::write_sha256_digest(&completed.sha256),
            );
        if let Some(forward) = &completed.forward {
            reply = reply.header("Ferry-Forward", forward::status_text(forward));
        }
        if let Some(Forward::Answered(answer)) = &completed.forward {
            for (name, value) in &answer.headers {
                reply = reply.backend_header(name, value);
            }
        }
        reply
    }

    /// The start of a reply that completes an upload, where the protocol
    /// leaves the status free (IETF, plain PUT): 201, or 200 when identical
    /// content was there. With `--forward`: the backend's 2xx; 202 while it
    /// has not answered; 422 with the reason when it refused the file (its
    /// 409, 413 or 403 would mean something else to a resumable client);
    /// 502 when it was given up on.
    fn completion(completed: &Completed) -> Reply {
        let own = match completed.identical {
            true => StatusCode::OK,
            false => StatusCode::CREATED,
        };
        match &completed.forward {
            None => Reply::new(own),
            Some(Forward::Waiting { .. }) => Reply::new(StatusCode::ACCEPTED),
            Some(Forward::Answered(answer)) => match StatusCode::from_u16(answer.status) {
                Ok(status) if status.is_success() => Reply::new(status),
                _ => Reply::error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("the backend refused the file: HTTP {}", answer.status),
                ),
            },
            Some(Forward::Abandoned { error }) => Reply::error(
                StatusCode::BAD_GATEWAY,
                format!("the file was not passed on: {error}"),
            ),
        }
    }

    fn check_token(&self, headers: &HeaderMap) -> Option<Reply> {
        let token = self.settings.token.as_ref()?;
        // The scheme is case-insensitive (RFC 9110, section 11.1).
        let presented = wire::text(headers, "Authorization")
            .and_then(|value| value.trim_start().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
            .map(|(_, credentials)| credentials.trim());
        match presented {
            Some(presented) if bool::from(presented.as_bytes().ct_eq(token.as_bytes())) => None,
            Some(_) => Some(unauthorized("the bearer token is wrong")),
            None => Some(unauthorized(
                "this server needs Authorization: Bearer <token>",
            )),
        }
    }

    /// `peer`: the client's address, for the line a refused caller gets
    /// in the log.
    async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> HttpResponse {
        let (parts, mut body) = request.into_parts();
        let (method, headers, path) = (parts.method, parts.headers, parts.uri.path());
        // An answer to HEAD carries no body (HTTP/2 clients reset a stream
        // that sends one), errors included.
        let is_head = method == Method::HEAD;
        let settings = &self.settings;
        let authority = parts.uri.authority().map(|a| a.as_str());
        let caller = origin::check(
            &settings.allowed_hosts,
            &settings.cors_origins,
            authority,
            &headers,
        );
        let refused = |reply: Reply| {
            log_refusal(&method, path, peer, &reply);
            reply
        };
        let reply = match caller {
            Err(reply) => refused(reply),
            Ok(origin::Caller::Allowed(origin)) => {
                match method == Method::OPTIONS
                    && headers.contains_key("Access-Control-Request-Method")
                {
                    true => origin::preflight(&origin, &headers),
                    false => match self.check_token(&headers) {
                        Some(reply) => origin::with_cors(refused(reply), &origin),
                        None => origin::with_cors(
                            self.answer(method.clone(), &headers, path, &mut body).await,
                            &origin,
                        ),
                    },
                }
            }
            Ok(origin::Caller::Plain) => match self.check_token(&headers) {
                Some(reply) => refused(reply),
                None => self.answer(method.clone(), &headers, path, &mut body).await,
            },
        };
        match is_head {
            true => reply.without_body().into_response(),
            false => reply.into_response(),
        }
    }

    /// The reply to a request that passed the browser checks.
    async fn answer(
        &self,
        method: Method,
        headers: &HeaderMap,
        path: &str,
        body: &mut Incoming,
    ) -> Reply {
        let is_tus = headers.contains_key("Tus-Resumable");
        let is_bits = method.as_str() == wire::bits::METHOD
            || (method == Method::POST
                && wire::text(headers, "X-Http-Method-Override")
                    .is_some_and(|name| name.trim() == wire::bits::METHOD));
        if method == Method::OPTIONS {
            self.options(headers)
        } else if let Some(rest) = path
            .strip_prefix(FILES_PREFIX)
            .or_else(|| (path == FILES_PREFIX.trim_end_matches('/')).then_some(""))
        {
            let target = decode_path(rest);
            match (method, Interop::of(headers)) {
                _ if is_bits => bits::handle(self, headers, body, &target).await,
                (_, Err(error)) => Reply::from(error),
                (Method::POST, _) if is_tus => tus::create(self, headers, body, &target).await,
                (Method::POST | Method::PUT, Ok(Some(interop))) => {
                    ietf::create(self, headers, body, &target, interop).await
                }
                (Method::POST | Method::PUT, Ok(None)) => {
                    plain::put(self, headers, body, &target).await
                }
                (Method::HEAD, _) => stored::head(self, &target).await,
                _ => method_not_allowed("OPTIONS, HEAD, POST, PUT, BITS_POST"),
            }
        } else if let Some(id) = path.strip_prefix(UPLOADS_PREFIX) {
            match Interop::of(headers) {
                Err(error) => Reply::from(error),
                Ok(_) if is_tus => tus::resource(self, &method, headers, body, id).await,
                Ok(interop) => {
                    let interop = interop.unwrap_or_default();
                    ietf::resource(self, &method, headers, body, id, interop).await
                }
            }
        } else {
            Reply::error(
                StatusCode::NOT_FOUND,
                format!("nothing at {path}: uploads go to {FILES_PREFIX}<path>"),
            )
        }
    }

    /// What this server supports, in both protocols' words.
    fn options(&self, headers: &HeaderMap) -> Reply {
        let interop = Interop::of(headers).ok().flatten();
        let reply = Reply::new(StatusCode::NO_CONTENT)
            .header("Allow", "OPTIONS, HEAD, POST, PUT, PATCH, DELETE")
            .header(
                "Accept-Patch",
                "application/partial-upload, application/offset+octet-stream",
            )
            .header(
                "Upload-Limit",
                ietf::upload_limit(self, interop.unwrap_or_default(), None),
            )
            .optional_header(INTEROP_HEADER, interop.map(|interop| interop.version()));
        tus::capabilities(self, reply)
    }
}

fn unauthorized(message: &str) -> Reply {
    Reply::error(StatusCode::UNAUTHORIZED, message).header("WWW-Authenticate", "Bearer")
}

fn method_not_allowed(allowed: &str) -> Reply {
    Reply::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here").header("Allow", allowed)
}

/// The path under `/files/`, percent-decoded to raw bytes: a name that is
/// not UTF-8 arrives percent-encoded byte for byte and is kept so.
fn decode_path(raw: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(raw).collect()
}

/// Replies for store failures every protocol answers alike.
fn store_error(error: UploadError) -> Reply {
    match error {
        UploadError::NotFound(id) => Reply::error(StatusCode::NOT_FOUND, format!("no upload {id}")),
        UploadError::UnsafePath(error) => Reply::error(StatusCode::BAD_REQUEST, error),
        UploadError::NotPlaceable { .. } => Reply::error(StatusCode::BAD_REQUEST, error),
        UploadError::DigestMismatch { .. } => Reply::error(StatusCode::BAD_REQUEST, error),
        UploadError::OverMaxSize { .. } => Reply::error(StatusCode::PAYLOAD_TOO_LARGE, error),
        UploadError::NoSpace { .. } => Reply::error(StatusCode::INSUFFICIENT_STORAGE, error),
        UploadError::TooManyUploads(_) => {
            Reply::error(StatusCode::SERVICE_UNAVAILABLE, error).header("Retry-After", "30")
        }
        other => {
            log(&format!("error: {other}"));
            Reply::error(StatusCode::INTERNAL_SERVER_ERROR, other)
        }
    }
}

/// One line for a caller refused at the door (another site's page, a host
/// name not served, a missing or wrong token): what it asked, and why not.
/// The path is as sent (percent-encoded; any other character escaped, and
/// cut at `SHOWN_PATH` characters), and no header value but the Origin
/// named in the reason reaches the log.
fn log_refusal(method: &Method, path: &str, peer: SocketAddr, reply: &Reply) {
    let mut shown: String = path
        .chars()
        .take(SHOWN_PATH)
        .flat_map(char::escape_debug)
        .collect();
    if path.chars().count() > SHOWN_PATH {
        shown.push_str("...");
    }
    log(&format!(
        "refused {method} {shown} from {peer}: {} {}",
        reply.status().as_u16(),
        reply.message()
    ));
}

/// The most of a refused request's path a log line shows.
const SHOWN_PATH: usize = 200;

fn log(line: &str) {
    crate::report::stream::err_line(&format!("{} {line}", Timestamp::now()));
}

/// Starts the server and runs until Ctrl-C or SIGTERM.
pub fn run(settings: Settings) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(serve(settings))
}

async fn serve(settings: Settings) -> anyhow::Result<u8> {
    let store = UploadStore::open(&settings.dir)
        .with_context(|| format!("cannot use {} for uploads", settings.dir.display()))?
        .limited_to(settings.max_size)
        .holding_at_most(settings.max_uploads);
    let tls = match &settings.tls {
        Some(files) => Some(Arc::new(
            tls::Tls::load(files.clone()).context("cannot use the TLS certificate")?,
        )),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let address = listener.local_addr()?;
    let forwarder = match &settings.forward {
        Some(forward) => {
            let forwarder = forward::Forwarder::new(forward.clone(), settings.dir.clone())?;
            forwarder
                .queue_waiting(&store)
                .context("cannot read the uploads waiting for the backend")?;
            Some(Arc::new(forwarder))
        }
        None => None,
    };
    let server = Arc::new(Server {
        settings: Settings {
            listen: address,
            ..settings
        },
        forwarder,
        store: Arc::new(store),
        writers: Writers::default(),
        digests: stored::Digests::default(),
    });
    background::sweep(&server);
    // The open-file limit is raised before anyone is told where to connect.
    let (max_connections, file_limit) = descriptors::connections_allowed(
        server.settings.max_connections,
        server.settings.max_uploads,
    );
    log(&format!(
        "listening on {}://{address}{FILES_PREFIX}, storing in {}{}",
        if tls.is_some() { "https" } else { "http" },
        server.settings.dir.display(),
        match server.settings.token {
            Some(_) => ", bearer token required",
            None => "",
        }
    ));
    let background = background::start(&server);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    if let Some(file_limit) = file_limit {
        log(&format!(
            "serving at most {max_connections} connections, not {}: the open-file limit is {file_limit} (ulimit -n)",
            server.settings.max_connections
        ));
    }
    let connections = Arc::new(tokio::sync::Semaphore::new(max_connections));
    loop {
        // A free place first (signals still end the wait), then a connection.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        };
        let (stream, peer) = tokio::select! {
            _ = hangup.recv() => {
                match tls.as_ref().map(|tls| tls.reload()) {
                    Some(Ok(())) => log("TLS certificate reloaded; new connections use it"),
                    Some(Err(error)) => log(&format!(
                        "TLS certificate not reloaded, keeping the previous one: {}",
                        crate::error::one_line(&error)
                    )),
                    None => {}
                }
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    log(&format!("accept failed: {error}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        };
        let server = server.clone();
        let acceptor = tls.as_ref().map(|tls| tls.acceptor());
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(server.handle(request, peer).await) }
            });
            tls::serve_connection(stream, acceptor, service, HEADER_TIMEOUT).await;
        });
    }
    background.abort();
    log("stopped; partial uploads are kept and resume after a restart");
    Ok(crate::error::SUCCESS)
}
