//! SFTP destinations (`sftp://[user@]host[:port]/path/`), through the
//! system `ssh`, as restic does.
//!
//! ferry never speaks SSH itself: the user's own `ssh` opens one master
//! connection per pool slot (`ControlMaster`, through the `openssh` crate),
//! so keys, the agent, `~/.ssh/config`, `known_hosts` and `ProxyJump` are
//! the user's, and host keys are checked strictly (`BatchMode=yes`,
//! `StrictHostKeyChecking=yes`: an unknown key is refused, never learnt).
//! Each master carries one SFTP channel (`openssh-sftp-client`, its
//! requests handed to ssh through a socket: `sftp_channel`) that several
//! jobs share, and one process that hashes file after file with the
//! server's own tool (`sftp_hash`), which confirms each upload whole; a
//! big file is hashed while it arrives (`sftp_follow`). A
//! files-only account (`internal-sftp`, a chroot) runs no command; its
//! uploads are confirmed by size, which is why it cannot clear a card.
//!
//! The URL's path is absolute, as curl reads it; `/~/` starts it at the
//! login's home folder.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use openssh::{KnownHosts, Session, SessionBuilder};
use openssh_sftp_client::{Sftp, SftpOptions};
use tokio_util::task::AbortOnDropHandle;

use crate::digest::Sha256;
use crate::journal::job::ErrorClass;
use crate::upload::http::Failure;

#[path = "sftp_channel.rs"]
mod channel;
#[path = "sftp_follow.rs"]
mod follow;
#[path = "sftp_hash.rs"]
mod hash;
#[path = "sftp_names.rs"]
mod names;
#[path = "sftp_probe.rs"]
pub mod probe;
#[path = "sftp_refusal.rs"]
mod refusal;
#[path = "sftp_ssh_config.rs"]
mod ssh_config;
#[path = "sftp_upload.rs"]
mod upload;
use hash::Hasher;
pub use hash::{HashTool, hash_limit};
pub use names::shell_quote;
use refusal::connect_error;
pub use refusal::{NotConnected, Refusal};
use ssh_config::StartConfig;
pub use upload::{discard, remote_sha256, transfer};
use upload::{make_folders, within};

/// Names an `ssh_config` file to read instead of `~/.ssh/config` (`ssh -F`).
pub const SSH_CONFIG_ENV: &str = "FERRY_SSH_CONFIG";
/// How long an idle master connection outlives its last user (a run killed
/// with SIGKILL leaves none behind for longer).
const MASTER_IDLE: Duration = Duration::from_secs(15);
/// The most a short remote command may take (hashing a big file excepted).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The parts of an `sftp://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SftpUrl {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// The destination folder on the server, as raw bytes (relative to
    /// the login's home folder when the URL said `/~/`).
    pub dir: PathBuf,
}

impl SftpUrl {
    pub fn parse(text: &str) -> Result<SftpUrl, String> {
        let shown = crate::upload::secrets::url_password_hidden(text);
        let shown = shown.as_deref().unwrap_or(text);
        let bad = |why: &str| format!("destination {shown:?}: {why}");
        let url = reqwest::Url::parse(text).map_err(|error| bad(&error.to_string()))?;
        if url.scheme() != "sftp" {
            return Err(bad("not an sftp:// URL"));
        }
        if url.password().is_some() {
            return Err(bad(
                "a password in the URL is not accepted; ssh asks its agent or key files",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("an sftp:// URL takes no query or fragment"));
        }
        let host = url.host_str().ok_or_else(|| bad("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let user = Some(url.username())
            .filter(|user| !user.is_empty())
            .map(|user| {
                percent_encoding::percent_decode_str(user)
                    .decode_utf8_lossy()
                    .into_owned()
            });
        let raw: Vec<u8> = percent_encoding::percent_decode_str(url.path()).collect();
        let dir = match raw.strip_prefix(b"/~") {
            Some(rest) if rest.is_empty() || rest.starts_with(b"/") => {
                let rest = rest.strip_prefix(b"/").unwrap_or(rest);
                match rest.is_empty() {
                    true => PathBuf::from("."),
                    false => PathBuf::from(OsStr::from_bytes(rest)),
                }
            }
            _ if raw.is_empty() => PathBuf::from("/"),
            _ => PathBuf::from(OsStr::from_bytes(&raw)),
        };
        Ok(SftpUrl {
            user,
            host,
            port: url.port(),
            dir,
        })
    }

    /// `user@host`, `-p PORT` spelled out: what to type to accept its key.
    pub fn ssh_command(&self) -> String {
        let mut line = String::from("ssh ");
        // The same file ferry's ssh reads, or the host key is accepted
        // into a known_hosts ferry never looks at.
        if let Some(config) = ssh_config::user_config() {
            line.push_str(&format!("-F {} ", config.display()));
        }
        if let Some(port) = self.port {
            line.push_str(&format!("-p {port} "));
        }
        if let Some(user) = &self.user {
            line.push_str(user);
            line.push('@');
        }
        line.push_str(&self.host);
        line
    }
}

/// One SSH connection and the SFTP channel over it.
pub struct Link {
    session: Arc<Session>,
    pub sftp: Sftp,
    /// The link's hasher; the question that finds the tool fills it.
    hasher: Arc<tokio::sync::Mutex<Option<Hasher>>>,
    /// Which hash tool the account may run, asked on a command session of
    /// its own (`Hasher::detect`): an answer any number may wait for.
    asking: Mutex<Option<Asking>>,
}

type Asking = Shared<BoxFuture<'static, Result<Option<HashTool>, String>>>;

/// Asks `session` which hash tool the account may run, without waiting;
/// the hasher that answers becomes `hasher`'s.
fn ask(session: &Arc<Session>, hasher: &Arc<tokio::sync::Mutex<Option<Hasher>>>) -> Asking {
    // Held from now, so that no hash asked meanwhile starts another.
    let held = hasher.clone().try_lock_owned().ok();
    let (session, hasher) = (session.clone(), hasher.clone());
    let task = tokio::spawn(async move {
        let mut slot = match held {
            Some(held) => held,
            None => hasher.lock_owned().await,
        };
        match Hasher::detect(&session, COMMAND_TIMEOUT).await {
            Ok(Some((tool, found))) => {
                *slot = Some(found);
                Ok(Some(tool))
            }
            Ok(None) => Ok(None),
            Err(failure) => Err(failure.text()),
        }
    });
    // Aborted when the last one waiting, and the link, are gone.
    let task = AbortOnDropHandle::new(task);
    async move {
        (task.await).map_err(|error| format!("asking the server for a hash tool: {error}"))?
    }
        .boxed()
        .shared()
}

impl Link {
    /// Connects; with `detect`, starts asking for the hash tool while the
    /// SFTP channel opens (only a route's first link does: the rest start
    /// a hasher when first needed).
    pub async fn open(
        url: &SftpUrl,
        connect_timeout: Duration,
        detect: bool,
    ) -> Result<Link, NotConnected> {
        let mut builder = SessionBuilder::default();
        builder
            .known_hosts_check(KnownHosts::Strict)
            .control_directory(std::env::temp_dir())
            .control_persist(openssh::ControlPersist::IdleFor(
                std::num::NonZeroUsize::new(MASTER_IDLE.as_secs() as usize).expect("not zero"),
            ))
            .connect_timeout(connect_timeout)
            .server_alive_interval(Duration::from_secs(15));
        let config = StartConfig::write().map_err(|error| NotConnected {
            refusal: Refusal::Unreachable,
            message: format!("could not write an ssh_config for ssh to start with: {error}"),
        })?;
        if let Some(path) = config.path() {
            builder.config_file(path);
        }
        if let Some(user) = &url.user {
            builder.user(user.clone());
        }
        if let Some(port) = url.port {
            builder.port(port);
        }
        let session = builder
            .connect_mux(&url.host)
            .await
            .map_err(|error| connect_error(url, &error))?;
        drop(config);
        Link::over(Arc::new(session), url, connect_timeout, detect).await
    }

    /// Opens the SFTP channel (and with `detect`, starts asking for the
    /// hash tool) over a connection already made, within `connect_timeout`.
    async fn over(
        session: Arc<Session>,
        url: &SftpUrl,
        connect_timeout: Duration,
        detect: bool,
    ) -> Result<Link, NotConnected> {
        let options = SftpOptions::new()
            .max_pending_requests(std::num::NonZeroU16::new(64).expect("not zero"));
        let hasher = Arc::new(tokio::sync::Mutex::new(None));
        let asking = detect.then(|| ask(&session, &hasher));
        let unopened = |why: String| NotConnected {
            refusal: Refusal::Unreachable,
            message: format!("sftp://{}: logged in, but {why}", url.host),
        };
        // A subsystem that never answers the handshake would hold the run.
        let sftp = tokio::time::timeout(connect_timeout, channel::open(&session, options))
            .await
            .map_err(|_| {
                unopened(format!(
                    "the server's SFTP subsystem did not answer within {}s",
                    connect_timeout.as_secs()
                ))
            })?
            .map_err(|error| unopened(format!("no SFTP channel opened: {error}")))?;
        Ok(Link {
            session,
            sftp,
            hasher,
            asking: Mutex::new(asking),
        })
    }

    /// Runs `line` through the login's shell; its standard output when it
    /// exits 0.
    pub async fn run(&self, line: &[u8], timeout: Duration) -> Result<Vec<u8>, Failure> {
        let mut command = self.session.raw_command(OsStr::from_bytes(line));
        command.stdin(openssh::Stdio::null());
        command.stdout(openssh::Stdio::piped());
        command.stderr(openssh::Stdio::piped());
        let output = tokio::time::timeout(timeout, command.output())
            .await
            .map_err(|_| Failure::transient(format!("the server took over {timeout:?} to answer")))?
            .map_err(|error| Failure::transient(format!("running a command over ssh: {error}")))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            return Err(Failure::permanent(
                ErrorClass::Server,
                format!("the server's command failed: {}", said.trim()),
            ));
        }
        Ok(output.stdout)
    }

    /// Which hash tool the account may run (`Hasher::detect`): asked once
    /// per link, and again after a fault.
    pub async fn hash_tool(&self) -> Result<Option<HashTool>, Failure> {
        self.asking().await.map_err(Failure::transient)
    }

    /// The account's answer, if the server has given it: never waits
    /// (after a fault, it asks again).
    fn hash_tool_now(&self) -> Option<Option<HashTool>> {
        self.asking().now_or_never()?.ok()
    }

    /// The question, asked again when the last one failed.
    fn asking(&self) -> Asking {
        let mut held = self.asking.lock().unwrap_or_else(|p| p.into_inner());
        if held
            .as_ref()
            .is_some_and(|asked| matches!(asked.peek(), Some(Err(_))))
        {
            *held = None;
        }
        held.get_or_insert_with(|| ask(&self.session, &self.hasher))
            .clone()
    }
}

/// A place in a route's pool of connections.
#[derive(Clone)]
enum Slot {
    Empty,
    /// A connection whose SFTP channel ended with the runtime that opened
    /// it (`SftpRoute::leave_runtime`).
    Connected(Arc<Session>),
    Open(Arc<Link>),
}

/// An `sftp://` destination for one run: a small pool of connections,
/// opened once and reopened when one breaks, and what the account may do.
pub struct SftpRoute {
    pub url: SftpUrl,
    slots: Vec<Mutex<Slot>>,
    next: AtomicUsize,
    connect_timeout: Duration,
    /// The tool that hashes a file remotely, once the server said;
    /// `None` in it on a files-only account.
    tool: OnceLock<Option<HashTool>>,
    pub retries: u32,
}

impl SftpRoute {
    /// Connects the first link, which starts asking what the account may
    /// run (`hash_tool`): an upload's first bytes need not wait for the
    /// answer. The others connect when first used. `concurrency` is `-j`.
    pub async fn open(
        destination: &str,
        concurrency: usize,
        connect_timeout: Duration,
        retries: u32,
    ) -> anyhow::Result<SftpRoute> {
        let url = SftpUrl::parse(destination).map_err(crate::error::UsageError)?;
        let first = Link::open(&url, connect_timeout, true).await?;
        let pool = concurrency.div_ceil(2).clamp(1, 4);
        let mut slots: Vec<Mutex<Slot>> = (0..pool).map(|_| Mutex::new(Slot::Empty)).collect();
        slots[0] = Mutex::new(Slot::Open(Arc::new(first)));
        Ok(SftpRoute {
            url,
            slots,
            next: AtomicUsize::new(0),
            connect_timeout,
            tool: OnceLock::new(),
            retries,
        })
    }

    /// Waits for what the account may run, asked again after a fault, as
    /// an HTTP destination's first probe is, up to --retries times: for
    /// what must know before it starts (`--delete-after`, `ferry verify`,
    /// and a sync, whose route goes to another runtime after its scan).
    pub async fn settle_tool(&self) -> anyhow::Result<Option<HashTool>> {
        let mut attempt = 0;
        loop {
            match self.hash_tool().await {
                Ok(tool) => return Ok(tool),
                Err(Failure::Transient { .. }) if attempt < self.retries => {
                    attempt += 1;
                    tokio::time::sleep(crate::upload::http::backoff(attempt, None)).await;
                }
                Err(failure) => anyhow::bail!(
                    "sftp://{}: could not ask whether the account runs commands: {}",
                    self.url.host,
                    failure.text()
                ),
            }
        }
    }

    /// Which hash tool the account may run; `None` on a files-only
    /// account. Waits for the first link's answer, or asks again.
    pub async fn hash_tool(&self) -> Result<Option<HashTool>, Failure> {
        if let Some(tool) = self.tool.get() {
            return Ok(*tool);
        }
        let (_, link) = self.link_at(0).await?;
        let tool = link.hash_tool().await?;
        Ok(*self.tool.get_or_init(|| tool))
    }

    /// What the account may run, if the server has said: never waits.
    pub fn known_tool(&self) -> Option<Option<HashTool>> {
        if let Some(tool) = self.tool.get() {
            return Some(*tool);
        }
        let first = self.slots[0].lock().unwrap_or_else(|p| p.into_inner());
        let Slot::Open(link) = &*first else {
            return None;
        };
        let tool = link.hash_tool_now()?;
        Some(*self.tool.get_or_init(|| tool))
    }

    /// Makes the destination's folder if it is missing, before any file
    /// goes: a folder the server will not make is one line, not a failed
    /// job per file. Bounded as an upload's own folders are.
    pub async fn make_folder(&self) -> Result<(), Failure> {
        let (_, link) = self.link_at(0).await?;
        let making = make_folders(&link, &self.url.dir);
        within(COMMAND_TIMEOUT, "making the destination folder", making).await
    }

    /// A link for the next job, round robin over the pool.
    pub async fn link(&self) -> Result<(usize, Arc<Link>), Failure> {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        self.link_at(slot).await
    }

    async fn link_at(&self, slot: usize) -> Result<(usize, Arc<Link>), Failure> {
        let current = self.slots[slot]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        // The first slot asks again what the account may run, if the link
        // that was asking broke before the answer.
        let detect = slot == 0 && self.tool.get().is_none();
        let opened = match current {
            Slot::Open(link) => return Ok((slot, link)),
            Slot::Connected(session) => {
                match Link::over(session, &self.url, self.connect_timeout, detect).await {
                    Ok(link) => Ok(link),
                    // ssh's master is gone (idle past `MASTER_IDLE` during a
                    // long scan, or its network dropped): connect again.
                    Err(_) => Link::open(&self.url, self.connect_timeout, detect).await,
                }
            }
            Slot::Empty => Link::open(&self.url, self.connect_timeout, detect).await,
        };
        let link = Arc::new(opened.map_err(|error| Failure::transient(error.message))?);
        let mut held = self.slots[slot].lock().unwrap_or_else(|p| p.into_inner());
        match &*held {
            Slot::Open(first) => Ok((slot, first.clone())),
            _ => {
                *held = Slot::Open(link.clone());
                Ok((slot, link))
            }
        }
    }

    /// Forgets a link that broke, so that the next use reconnects.
    pub fn broken(&self, slot: usize, link: &Arc<Link>) {
        let mut held = self.slots[slot].lock().unwrap_or_else(|p| p.into_inner());
        if matches!(&*held, Slot::Open(current) if Arc::ptr_eq(current, link)) {
            *held = Slot::Empty;
        }
    }

    /// Called before the runtime that opened the links ends, for another
    /// to use the route: each SFTP channel and hasher lives in tasks of
    /// that runtime and ends with it, but the SSH connection under it is
    /// ssh's own process. So the channels are closed here and the
    /// connections kept: the next runtime opens a channel over each when
    /// first used, rather than failing on a dead one.
    pub fn leave_runtime(&self) {
        for slot in &self.slots {
            let mut held = slot.lock().unwrap_or_else(|p| p.into_inner());
            if let Slot::Open(link) = &*held {
                *held = Slot::Connected(link.session.clone());
            }
        }
    }

    /// Whether `path` exists on the server. A name that is not UTF-8 is
    /// asked through the shell: the SFTP library sends UTF-8 names only.
    pub async fn exists(&self, link: &Link, path: &Path) -> Result<bool, Failure> {
        if path.to_str().is_some() {
            return match link.sftp.fs().symlink_metadata(path).await {
                Ok(_) => Ok(true),
                Err(openssh_sftp_client::Error::SftpError(
                    openssh_sftp_client::error::SftpErrorKind::NoSuchFile,
                    _,
                )) => Ok(false),
                Err(error) => Err(upload::failure(
                    &format!("asking about {}", path.display()),
                    error,
                )),
            };
        }
        let quoted = shell_quote(path.as_os_str().as_bytes());
        let mut line = b"if test -e ".to_vec();
        line.extend_from_slice(&quoted);
        line.extend_from_slice(b" || test -L ");
        line.extend_from_slice(&quoted);
        line.extend_from_slice(b"; then echo ferry-yes; else echo ferry-no; fi");
        let said = link.run(&line, COMMAND_TIMEOUT).await?;
        Ok(said.starts_with(b"ferry-yes"))
    }

    /// The name a file gets on the server: its own, byte for byte, but on
    /// a files-only account for a name that is not UTF-8. The SFTP library
    /// sends UTF-8 names only, and such an account has no shell to go
    /// around it, so there each byte that is not UTF-8 is written `%XX`
    /// and `%` is written `%25`, as for S3 keys (percent-decoding gives the
    /// exact name back).
    pub async fn stored_name(&self, relative: &Path) -> Result<PathBuf, Failure> {
        if relative.to_str().is_some() {
            return Ok(relative.to_owned());
        }
        let raw = relative.as_os_str().as_bytes();
        Ok(match self.hash_tool().await? {
            None => PathBuf::from(crate::wire::utf8_escaped(raw)),
            Some(_) => relative.to_owned(),
        })
    }

    /// Where `relative` lands on the server.
    pub fn target(&self, relative: &Path) -> PathBuf {
        self.url.dir.join(relative)
    }

    /// The SHA-256 the server computes of `path`, with its own tool.
    /// `limit`: how long the server may take (it reads the whole file).
    pub async fn server_sha256(
        &self,
        link: &Link,
        path: &Path,
        limit: Duration,
    ) -> Result<Option<Sha256>, Failure> {
        let Some(tool) = self.hash_tool().await? else {
            return Ok(None);
        };
        // Out of the slot while it works: a request dropped halfway (a
        // window closing, Ctrl-C) drops the process with it, and the next
        // file starts another, never reading this one's answer.
        let mut slot = link.hasher.lock().await;
        let mut hasher = match slot.take() {
            Some(hasher) => hasher,
            None => Hasher::start(&link.session, tool).await?,
        };
        let said = match tokio::time::timeout(limit, hasher.ask(path)).await {
            Ok(Ok(said)) => said,
            failed => {
                let why = match failed {
                    Ok(Err(error)) => error.to_string(),
                    _ => format!("no answer within {}", humantime::format_duration(limit)),
                };
                return Err(Failure::transient(format!(
                    "{} on the server: {why}",
                    tool.name()
                )));
            }
        };
        *slot = Some(hasher);
        match Sha256::from_hex(&said).ok() {
            Some(found) => Ok(Some(found)),
            None => Err(Failure::permanent(
                ErrorClass::Server,
                format!(
                    "the server's {} could not read {}",
                    tool.name(),
                    path.display()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_absolute_and_home_relative_folders() {
        let url = SftpUrl::parse("sftp://alice@nas.local:2222/volume1/photos/").unwrap();
        assert_eq!(url.user.as_deref(), Some("alice"));
        assert_eq!(url.host, "nas.local");
        assert_eq!(url.port, Some(2222));
        assert_eq!(url.dir, PathBuf::from("/volume1/photos/"));
        assert_eq!(url.ssh_command(), "ssh -p 2222 alice@nas.local");
        let home = SftpUrl::parse("sftp://nas/~/backup").unwrap();
        assert_eq!(home.dir, PathBuf::from("backup"));
        assert_eq!(
            SftpUrl::parse("sftp://nas/~").unwrap().dir,
            PathBuf::from(".")
        );
        assert_eq!(SftpUrl::parse("sftp://[::1]/x").unwrap().host, "::1");
        let raw = SftpUrl::parse("sftp://nas/caf%E9/").unwrap();
        assert_eq!(raw.dir.as_os_str().as_bytes(), b"/caf\xe9/");
        assert!(SftpUrl::parse("sftp://a:secret@nas/x").is_err());
    }
}
