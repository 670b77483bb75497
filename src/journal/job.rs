//! The job model, after PhotoKit's `PHAssetResourceUploadJob`.
//!
//! A job pairs a resource (a file and its content hash) with a destination and
//! moves through five states. Every change goes through one method here that
//! checks the transition, so an illegal move is an error and never a silent
//! no-op; the store persists whatever these methods produce.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::journal::paths::JournalPath;
pub use crate::journal::resource::{MediaKind, Resource};

/// Sixteen lowercase hex digits; any unique prefix names the job on the command line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    pub fn random() -> Self {
        Self(format!("{:016x}", fastrand::u64(..)))
    }

    pub fn from_string(id: String) -> Self {
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The short form shown in tables, long enough to stay unique in practice.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Queued, not started.
    Pending,
    /// The server holds an upload session; bytes may be partly sent.
    Registered,
    /// Uploaded and confirmed.
    Succeeded,
    /// Gave up; stays on the failures list until retried or acknowledged.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Pending,
        State::Registered,
        State::Succeeded,
        State::Failed,
        State::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Registered => "registered",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a caller wants to do with jobs; each selects the jobs it applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Jobs to upload: pending or registered.
    Process,
    /// Jobs that can be retried: failed and not acknowledged.
    Retry,
    /// Jobs that can be acknowledged: succeeded or failed, not yet acknowledged.
    Acknowledge,
}

impl Action {
    pub fn selects(self, job: &Job) -> bool {
        match self {
            Action::Process => matches!(job.state, State::Pending | State::Registered),
            Action::Retry => job.state == State::Failed && !job.is_acknowledged(),
            Action::Acknowledge => {
                matches!(job.state, State::Succeeded | State::Failed) && !job.is_acknowledged()
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Auto,
    Ietf,
    Tus,
    Put,
    Local,
    Bits,
    /// S3-compatible object storage (`s3://BUCKET/PREFIX/`).
    S3,
    /// A server reached through the system `ssh` (`sftp://host/path/`).
    Sftp,
}

/// Where a job goes. Only non-secret headers are ever stored here.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Destination {
    pub url: String,
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

impl Destination {
    pub fn new(url: impl Into<String>, protocol: Protocol) -> Self {
        Self {
            url: url.into(),
            protocol,
            headers: BTreeMap::new(),
        }
    }
}

/// The server's upload session: where to resume and the last offset it confirmed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub url: String,
    pub offset: u64,
    /// The protocol that opened it: a session is only resumed in its own protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// The session's name where the URL alone does not name it (BITS, an
    /// S3 multipart upload ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// An S3 multipart upload's finished parts, as the store confirmed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    /// An S3 multipart upload's part size, which fixes where each part starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_size: Option<u64>,
}

/// One finished part of an S3 multipart upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub number: u32,
    pub size: u64,
    pub sha256: crate::digest::Sha256,
    pub etag: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorClass {
    Network,
    Server,
    Client,
    File,
    Auth,
}

/// The last error a job met, in one readable line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    pub class: ErrorClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub message: String,
}

impl JobError {
    /// The file changed or vanished after its scan: retrying the job
    /// uploads the old content from a file that no longer holds it.
    pub fn is_changed_file(&self) -> bool {
        self.class == ErrorClass::File
            && (self.message.contains("changed since scan")
                || self.message.contains("vanished since scan"))
    }
}

/// The server's final answer, with secret header values already redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub status: u16,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// A source file removed after its verified upload: deleted, or moved to
/// `to`. The file's path and SHA-256 are the job's resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleared {
    pub action: ClearedBy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<JournalPath>,
    pub at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClearedBy {
    Deleted,
    Moved,
}

impl Cleared {
    pub fn deleted() -> Cleared {
        Cleared {
            action: ClearedBy::Deleted,
            to: None,
            at: Timestamp::now(),
        }
    }

    pub fn moved(to: JournalPath) -> Cleared {
        Cleared {
            action: ClearedBy::Moved,
            to: Some(to),
            at: Timestamp::now(),
        }
    }
}

/// A wall-clock instant, stored as RFC 3339 with milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub SystemTime);

impl Timestamp {
    pub fn now() -> Self {
        Self(SystemTime::now())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_rfc3339_millis(self.0).fmt(f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_rfc3339_weak(&text)
            .map(Timestamp)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub state: State,
    pub resource: Resource,
    pub destination: Destination,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<Timestamp>,
    /// What `--delete-after` or `--move-to` did with the source file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared: Option<Cleared>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub retries: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A refused transition: names the job, its state and what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {id} is {state}{acked}; {rule}")]
pub struct TransitionError {
    pub id: JobId,
    pub state: State,
    acked: &'static str,
    rule: &'static str,
}

impl Job {
    pub fn new(resource: Resource, destination: Destination) -> Self {
        let now = Timestamp::now();
        Self {
            id: JobId::random(),
            state: State::Pending,
            resource,
            destination,
            session: None,
            error: None,
            response: None,
            acknowledged_at: None,
            cleared: None,
            attempts: 0,
            retries: 0,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_acknowledged(&self) -> bool {
        self.acknowledged_at.is_some()
    }

    /// The name the destination reported storing the file under, when it
    /// reports one: `ferry serve`'s `Ferry-Path` (percent-decoded), the S3
    /// key, or the path below a local destination folder.
    pub fn stored_as(&self) -> Option<String> {
        let headers = &self.response.as_ref()?.headers;
        if let Some(encoded) = headers.get("ferry-path") {
            let decoded = percent_encoding::percent_decode_str(encoded);
            return Some(decoded.decode_utf8_lossy().into_owned());
        }
        headers.get("key").or(headers.get("path")).cloned()
    }

    /// The file's path below its scanned folder, followed by ` as <name>`
    /// when it lands under another name: its `--layout` place, or the
    /// name the destination stored it under (`IMG (1).jpg`). The
    /// destination's own folder or key prefix in front of that place
    /// (`c3/IMG.jpg` for `--to …/files/c3/`) is not another name.
    pub fn shown_path(&self) -> String {
        use super::paths::Readable;
        let path = self.resource.path.as_path();
        let target = self.resource.target_path().as_path();
        let raw = target.to_string_lossy();
        let stored = self
            .stored_as()
            .filter(|stored| *stored != raw && !stored.ends_with(&format!("/{raw}")));
        let path = Readable(path);
        match stored {
            Some(stored) => format!("{path} as {}", Readable(std::path::Path::new(&stored))),
            None if target != self.resource.path.as_path() => {
                format!("{path} as {}", Readable(target))
            }
            None => path.to_string(),
        }
    }

    /// Counts against the job limit: everything not yet acknowledged, except cancelled jobs.
    pub fn holds_limit(&self) -> bool {
        self.state != State::Cancelled && !self.is_acknowledged()
    }

    fn refuse(&self, rule: &'static str) -> TransitionError {
        TransitionError {
            id: self.id.clone(),
            state: self.state,
            acked: if self.is_acknowledged() {
                " and acknowledged"
            } else {
                ""
            },
            rule,
        }
    }

    fn require_processable(&self, rule: &'static str) -> Result<(), TransitionError> {
        match self.state {
            State::Pending | State::Registered => Ok(()),
            _ => Err(self.refuse(rule)),
        }
    }

    fn touch(&mut self) {
        self.updated_at = Timestamp::now();
    }

    /// An upload attempt begins.
    pub fn start_attempt(&mut self) -> Result<(), TransitionError> {
        self.require_processable("only pending or registered jobs can be uploaded")?;
        self.attempts += 1;
        self.touch();
        Ok(())
    }

    /// The attempt begun was tried `times` more after transient faults:
    /// each is an attempt too.
    pub fn retried(&mut self, times: u32) {
        self.attempts = self.attempts.saturating_add(times);
    }

    /// The server opened an upload session (or a new one replaced a lost one).
    pub fn register(&mut self, session: Session) -> Result<(), TransitionError> {
        self.require_processable("only pending or registered jobs can open an upload session")?;
        self.state = State::Registered;
        self.session = Some(session);
        self.touch();
        Ok(())
    }

    /// The server confirmed bytes up to `offset`.
    pub fn record_offset(&mut self, offset: u64) -> Result<(), TransitionError> {
        match (&mut self.session, self.state) {
            (Some(session), State::Registered) => {
                session.offset = offset;
                self.touch();
                Ok(())
            }
            _ => Err(self.refuse("only registered jobs have an upload offset")),
        }
    }

    /// The store confirmed one more part of a multipart upload.
    pub fn record_part(&mut self, part: Part) -> Result<(), TransitionError> {
        match (&mut self.session, self.state) {
            (Some(session), State::Registered) => {
                session.parts.retain(|known| known.number != part.number);
                session.parts.push(part);
                // What the store holds, however often a part was sent again.
                session.offset = session.parts.iter().map(|part| part.size).sum();
                self.touch();
                Ok(())
            }
            _ => Err(self.refuse("only registered jobs have parts")),
        }
    }

    pub fn succeed(&mut self, response: Response) -> Result<(), TransitionError> {
        self.require_processable("only pending or registered jobs can succeed")?;
        self.state = State::Succeeded;
        self.response = Some(response);
        self.error = None;
        self.touch();
        Ok(())
    }

    pub fn fail(&mut self, error: JobError) -> Result<(), TransitionError> {
        self.require_processable("only pending or registered jobs can fail")?;
        self.state = State::Failed;
        self.error = Some(error);
        self.touch();
        Ok(())
    }

    pub fn cancel(&mut self) -> Result<(), TransitionError> {
        self.require_processable("only pending or registered jobs can be cancelled")?;
        self.state = State::Cancelled;
        self.touch();
        Ok(())
    }

    /// The file changed before this job uploaded it, and no other file holds
    /// the old content: the job is cancelled, with the reason recorded. A
    /// failed job on the failures list leaves it the same way: a newer scan
    /// of its path queued what the file holds now, so retrying the old
    /// content could only fail again.
    pub fn supersede(&mut self) -> Result<(), TransitionError> {
        let message = match self.state {
            State::Failed if !self.is_acknowledged() => format!(
                "superseded: the file changed and was scanned again (it had failed: {})",
                self.error
                    .as_ref()
                    .map_or("no reason recorded", |e| &e.message)
            ),
            _ => {
                self.require_processable(
                    "only pending, registered or unacknowledged failed jobs can be superseded",
                )?;
                "superseded: the file changed before it was uploaded".to_owned()
            }
        };
        self.state = State::Cancelled;
        self.error = Some(JobError {
            class: ErrorClass::File,
            status: None,
            message,
        });
        self.touch();
        Ok(())
    }

    /// Another file holds the same content: upload it from there instead.
    pub fn move_resource(&mut self, resource: Resource) -> Result<(), TransitionError> {
        self.require_processable("only pending or registered jobs can move to another file")?;
        self.resource = resource;
        self.touch();
        Ok(())
    }

    /// Back to pending. The session is kept so that the upload can resume
    /// where the server stopped; a new destination drops it, since it belongs
    /// to the old server. An acknowledged failure may be retried when named
    /// explicitly.
    pub fn retry(&mut self, destination: Option<Destination>) -> Result<(), TransitionError> {
        if self.state != State::Failed {
            return Err(self.refuse("only failed jobs can be retried"));
        }
        if let Some(destination) = destination
            && destination != self.destination
        {
            self.destination = destination;
            self.session = None;
        }
        self.state = State::Pending;
        self.acknowledged_at = None;
        self.retries += 1;
        self.touch();
        Ok(())
    }

    /// The source file was deleted or moved after the verified upload.
    pub fn record_cleared(&mut self, cleared: Cleared) -> Result<(), TransitionError> {
        if self.state != State::Succeeded {
            return Err(self.refuse("only succeeded jobs can have their source cleared"));
        }
        self.cleared = Some(cleared);
        self.touch();
        Ok(())
    }

    /// `ferry verify --requeue`: a succeeded job whose file is missing or
    /// different at the destination goes back to pending, for a new upload
    /// (its finished session is of no use any more).
    pub fn requeue(&mut self) -> Result<(), TransitionError> {
        if self.state != State::Succeeded {
            return Err(self.refuse("only succeeded jobs can be requeued after verification"));
        }
        self.state = State::Pending;
        self.session = None;
        self.response = None;
        self.acknowledged_at = None;
        self.touch();
        Ok(())
    }

    pub fn acknowledge(&mut self) -> Result<(), TransitionError> {
        if !Action::Acknowledge.selects(self) {
            return Err(self.refuse(
                "only succeeded or failed jobs that are not yet acknowledged can be acknowledged",
            ));
        }
        self.acknowledged_at = Some(Timestamp::now());
        self.touch();
        Ok(())
    }
}
