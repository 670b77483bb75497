//! What a run is told: concurrency, retries, timeouts, and per destination
//! the request shape and credentials.
//!
//! `config` builds these from flags, variables and the config file; the
//! upload modules only read them, so nothing below `upload` knows where a
//! setting came from.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::HeaderMap;

use super::clear::{AfterUpload, CarriedSource};
use super::protocols::put::PutMethod;
use super::route::Prepared;
use super::throttle::Schedule;
use super::window::Window;
use crate::config::s3::Configured;
use crate::journal::job::Destination;
use crate::wire::ietf::DEFAULT_INTEROP;

#[derive(Clone, Debug)]
pub struct Settings {
    pub concurrency: usize,
    pub retries: u32,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
    pub auto_ack: bool,
    /// S3: parts of one file in flight at once.
    pub part_concurrency: usize,
    /// S3: replace an object holding different content.
    pub overwrite: bool,
    /// The run's own bandwidth limit (`--bwlimit`), on all jobs together.
    pub bwlimit: Option<Schedule>,
    /// When the run must end (`--max-duration`, `--stop-at`).
    pub window: Option<Window>,
    /// `--delete-after` or `--move-to`: what happens to a verified upload's source.
    pub after_upload: Option<AfterUpload>,
    /// Only jobs for this destination (sync); every processable job otherwise.
    pub only: Option<Destination>,
    /// How to talk to a destination that `destinations` does not name.
    pub transfer: Transfer,
    /// Per destination URL, from the config file's named destinations.
    pub destinations: HashMap<String, Transfer>,
    /// Routes already resolved (by `check_destination`), used as they are.
    pub prepared: Prepared,
    /// With `after_upload`: scanned files whose content a job already
    /// carries, cleared once the destination confirms it.
    pub carried: Vec<CarriedSource>,
    /// Trusted besides the system's roots (`--ca-cert`).
    pub ca_certs: Vec<reqwest::Certificate>,
}

/// What may differ between destinations: request shape and credentials.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub chunk_size: Option<u64>,
    /// One of `wire::ietf::INTEROP_VERSIONS` (checked where it is read).
    pub ietf_version: u8,
    pub put_method: PutMethod,
    /// `-H` headers, the token and configured headers; sent, never recorded.
    pub headers: HeaderMap,
    /// For `s3://` destinations: the config file's endpoint, region and
    /// keys; never recorded.
    pub s3: Configured,
    /// The destination's own bandwidth limit, from the config file.
    pub bwlimit: Option<Schedule>,
}

impl Default for Transfer {
    fn default() -> Self {
        Transfer {
            chunk_size: None,
            ietf_version: DEFAULT_INTEROP,
            put_method: PutMethod::Put,
            headers: HeaderMap::new(),
            s3: Configured::default(),
            bwlimit: None,
        }
    }
}

impl Settings {
    /// The transfer settings for one destination URL.
    pub fn transfer(&self, url: &str) -> &Transfer {
        self.destinations.get(url).unwrap_or(&self.transfer)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 4,
            retries: 8,
            idle_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            auto_ack: true,
            part_concurrency: 4,
            overwrite: false,
            bwlimit: None,
            window: None,
            after_upload: None,
            only: None,
            transfer: Transfer::default(),
            destinations: HashMap::new(),
            prepared: Prepared::default(),
            carried: Vec::new(),
            ca_certs: Vec::new(),
        }
    }
}
