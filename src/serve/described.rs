//! What the server keeps of each upload: what the client said at creation,
//! and how it ended. Apart from the store, so that the ways of keeping it
//! (a file per upload, or `whole`'s log) share one shape.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::digest::Sha256;
use crate::journal::job::Timestamp;
use crate::journal::paths::{JournalPath, RawBytes};

/// What the client told us about an upload when it created it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadInfo {
    pub id: String,
    /// `None` while the length is deferred (tus creation-defer-length).
    pub length: Option<u64>,
    /// Where the file goes under the destination folder, already validated.
    pub relative: JournalPath,
    /// Lowercase hex SHA-256 the finished file must have, when the client sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, RawBytes>,
    pub created_at: Timestamp,
    /// Set once the file is verified and placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Completed>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completed {
    /// Where the file landed, relative to the destination folder; differs
    /// from `relative` when a different file already had that name.
    pub placed: JournalPath,
    pub sha256: Sha256,
    /// The name already held identical content.
    pub identical: bool,
    /// Where passing the file on to a backend stands (`serve --forward`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Forward>,
}

/// Passing a completed upload on to the backend (`serve --forward`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forward {
    /// Not answered yet, or only with a transient failure; retried.
    Waiting {
        attempts: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The backend's final answer, which the client gets as the upload's.
    Answered(Answer),
    /// Given up: the file to send vanished from the folder, or the backend
    /// failed every attempt.
    Abandoned { error: String },
}

/// A backend's answer: its status and the headers the client may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
}

/// An upload as it stands on disk.
#[derive(Clone, Debug)]
pub struct Upload {
    pub info: UploadInfo,
    /// Bytes received and durable; the length once completed.
    pub offset: u64,
    /// Last write, from which expiry is counted.
    pub modified: SystemTime,
}

impl Upload {
    /// Complete, and not yet taken by the `--forward` backend.
    pub fn is_waiting_for_backend(&self) -> bool {
        matches!(
            self.info.completed,
            Some(Completed {
                forward: Some(Forward::Waiting { .. }),
                ..
            })
        )
    }

    pub fn is_complete(&self) -> bool {
        self.info.completed.is_some()
    }

    pub fn expires_at(&self, lifetime: Duration) -> SystemTime {
        self.modified + lifetime
    }
}
