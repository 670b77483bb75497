//! Streaming a request body to disk, whatever stops it.
//!
//! Bodies go frame by frame from hyper into the part file, so memory does not
//! depend on the upload's size. Every way a body can end is a value here (all
//! of it arrived, the connection dropped, a newer request took over, a limit
//! was crossed) so that each protocol decides what to keep and what to
//! answer, and the bytes that did arrive are never lost by accident.

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::writers::WriterGuard;
use crate::serve::store::{Appender, UploadError};
use crate::wire::tus::ChecksumHasher;

/// A client that sends nothing for this long has gone away.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// After being preempted, bytes already on their way are still taken while
/// they keep coming this often, for at most `DRAIN_LIMIT`: a client that
/// resumes right after a reset finds them counted, not lost.
const DRAIN_GAP: Duration = Duration::from_millis(50);
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The whole body arrived.
    Complete,
    /// The connection failed or went quiet; what arrived is kept.
    Interrupted(String),
    /// A newer request for the same upload took over.
    Preempted,
    /// The body is larger than one request may carry (`max-append-size`).
    OverAppendLimit(u64),
    /// The upload would grow past its length or the size limit.
    OverLength(u64),
}

/// Copies `body` into `appender` until it ends one way or another. Only
/// disk errors are errors; the caller finishes or discards the append.
pub async fn receive(
    body: &mut Incoming,
    appender: &mut Appender,
    guard: &mut WriterGuard<'_>,
    max_append: Option<u64>,
    digest: Option<&mut ChecksumHasher>,
) -> Result<Ended, UploadError> {
    receive_after(body, appender, guard, max_append, digest, 0).await
}

/// `receive`, after dropping the body's first `skip` bytes: a BITS
/// fragment that overlaps what arrived before is trimmed, never written
/// twice.
pub async fn receive_after(
    body: &mut Incoming,
    appender: &mut Appender,
    guard: &mut WriterGuard<'_>,
    max_append: Option<u64>,
    mut digest: Option<&mut ChecksumHasher>,
    mut skip: u64,
) -> Result<Ended, UploadError> {
    let start = appender.offset();
    let mut draining_until: Option<Instant> = None;
    loop {
        let frame = match draining_until {
            None => tokio::select! {
                biased;
                () = guard.preempted() => {
                    draining_until = Some(Instant::now() + DRAIN_LIMIT);
                    continue;
                }
                frame = tokio::time::timeout(IDLE_TIMEOUT, body.frame()) => frame,
            },
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                tokio::time::timeout(DRAIN_GAP.min(left), body.frame()).await
            }
        };
        let data = match frame {
            Err(_) if draining_until.is_some() => return Ok(Ended::Preempted),
            Err(_) => {
                return Ok(Ended::Interrupted(format!(
                    "no data for {} s",
                    IDLE_TIMEOUT.as_secs()
                )));
            }
            Ok(None) => return Ok(Ended::Complete),
            Ok(Some(Err(error))) => return Ok(Ended::Interrupted(error.to_string())),
            Ok(Some(Ok(frame))) => match frame.into_data() {
                Ok(data) => data,
                Err(_trailers) => continue,
            },
        };
        let data = match skip {
            0 => data,
            _ => {
                let dropped = skip.min(data.len() as u64);
                skip -= dropped;
                data.slice(dropped as usize..)
            }
        };
        if let Some(limit) = max_append
            && appender.offset() - start + data.len() as u64 > limit
        {
            return Ok(Ended::OverAppendLimit(limit));
        }
        if let Some(digest) = digest.as_deref_mut() {
            digest.update(&data);
        }
        match tokio::task::block_in_place(|| appender.write(&data)) {
            Ok(()) => {}
            Err(UploadError::TooLong { length }) => return Ok(Ended::OverLength(length)),
            Err(error) => return Err(error),
        }
    }
}
