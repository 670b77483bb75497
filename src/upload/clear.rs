//! Clearing a card: `--delete-after` and `--move-to DIR` remove or move a
//! source file once its upload is verified end to end.
//!
//! End to end means the destination itself confirmed the file's full
//! SHA-256: `ferry serve` (and any IETF or PUT server that does the same)
//! answers the upload's last request with a `Repr-Digest`, a local copy is
//! hashed again, an S3 object shows our checksum or `x-amz-meta-sha256` on
//! `HEAD`. tus and BITS carry no digest back, so a run toward them is
//! refused before anything is sent; an IETF or PUT server that answers
//! without a digest keeps its files on the card, each with a warning. A
//! file whose size, modification time or inode moved since the scan is
//! never touched. `--move-to` keeps the path below the scanned folder and
//! never replaces a file: it links (or, across file systems, copies,
//! syncs and links) the new name before the old one goes. Each deletion or
//! move is recorded on the job.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Settings;
use super::engine::Run;
use super::protocols::s3;
use super::route::Route;
use super::verify;
use crate::digest::{FileStat, Sha256};
use crate::journal::job::{Cleared, Destination, Job, Protocol};
use crate::journal::paths::JournalPath;
use crate::journal::store::Durability;
use crate::report::Event;
use crate::wire;

/// What happens to a source file once its upload is verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterUpload {
    Delete,
    MoveTo(PathBuf),
}

impl AfterUpload {
    pub fn flag(&self) -> &'static str {
        match self {
            AfterUpload::Delete => "--delete-after",
            AfterUpload::MoveTo(_) => "--move-to",
        }
    }

    /// What a dry run says would happen to `source` (`relative` below its
    /// scanned folder).
    pub fn would(&self, relative: &Path) -> String {
        match self {
            AfterUpload::Delete => "then delete it once its upload is verified".to_owned(),
            AfterUpload::MoveTo(dir) => format!(
                "then move it to {} once its upload is verified",
                dir.join(relative).display()
            ),
        }
    }
}

/// Refuses, before any upload, a destination that cannot confirm a file's
/// SHA-256.
pub fn refuse_unconfirmable(
    after: &AfterUpload,
    routes: &HashMap<Destination, Arc<Route>>,
) -> anyhow::Result<()> {
    for (destination, route) in routes {
        if let Route::Http(http) = route.as_ref()
            && matches!(http.adapter.protocol(), Protocol::Tus | Protocol::Bits)
        {
            return Err(crate::error::UsageError(format!(
                "{} needs a destination that confirms each file's SHA-256, and {} at {} cannot (its uploads carry no digest back); nothing was uploaded",
                after.flag(),
                route.name(),
                destination.url
            ))
            .into());
        }
    }
    Ok(())
}

/// After a job succeeded in `run`: with `--delete-after` / `--move-to`,
/// clears its source, records that on the job and reports it; whether the
/// source was cleared. Only a journal failure is an error.
pub async fn source(run: &Run, route: &Route, job: &Job) -> anyhow::Result<bool> {
    let Some(after) = &run.settings.after_upload else {
        return Ok(false);
    };
    match after_success(after, route, &run.client, &run.settings, job).await {
        Ok(cleared) => {
            let record = |job: &mut Job| job.record_cleared(cleared.clone());
            let job = (run.shared)
                .change(&job.id, Durability::Durable, record)
                .await?;
            (run.reporter).event(Event::Cleared {
                job: &job,
                cleared: &cleared,
            });
            Ok(true)
        }
        Err(reason) => {
            (run.reporter).event(Event::Kept {
                job,
                reason: &reason,
            });
            Ok(false)
        }
    }
}

/// Confirms `job`'s upload end to end, then deletes or moves its source.
pub async fn after_success(
    after: &AfterUpload,
    route: &Route,
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
) -> Result<Cleared, String> {
    let source = job.resource.source();
    confirm(route, client, settings, job)
        .await
        .map_err(|why| format!("kept {}: {why}", source.display()))?;
    let (after, job) = (after.clone(), job.clone());
    tokio::task::spawn_blocking(move || clear(&after, &job))
        .await
        .map_err(|error| error.to_string())?
}

async fn confirm(
    route: &Route,
    client: &reqwest::Client,
    settings: &Settings,
    job: &Job,
) -> Result<(), String> {
    let expected = &job.resource.sha256;
    match route {
        Route::Local(_) => match verify::check(client, settings, job, None).await {
            (verify::Verdict::Verified, _) => Ok(()),
            (_, detail) => Err(format!("the local copy was not confirmed: {detail}")),
        },
        Route::S3(route) => {
            let key = route.url.key(&job.resource.path.to_bytes(), expected);
            match s3::look_at(route, client, settings.idle_timeout, &key, expected).await {
                Ok(s3::Existing::Same) => Ok(()),
                Ok(_) => Err(format!(
                    "the object {key} does not show this file's SHA-256"
                )),
                Err(failure) => Err(failure.text()),
            }
        }
        Route::Http(_) => {
            let headers = job.response.as_ref().map(|r| &r.headers);
            let answered = headers.and_then(|headers| headers.get("repr-digest"));
            match answered.and_then(|value| read_digest(value)) {
                Some(found) if found == *expected => Ok(()),
                Some(found) => Err(format!(
                    "the server answered sha-256 {}, not {}",
                    found.to_hex(),
                    expected.to_hex()
                )),
                None => Err("the server did not confirm its SHA-256 (no Repr-Digest)".to_owned()),
            }
        }
    }
}

fn read_digest(value: &str) -> Option<Sha256> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("repr-digest", value.parse().ok()?);
    wire::fields::sha256_digest(&headers, "Repr-Digest").ok()?
}

/// Deletes or moves the source, if it is still the file that was scanned.
fn clear(after: &AfterUpload, job: &Job) -> Result<Cleared, String> {
    let source = job.resource.source();
    let kept = |why: String| format!("kept {}: {why}", source.display());
    let now = std::fs::symlink_metadata(&source).map_err(|error| kept(error.to_string()))?;
    if FileStat::of(&now) != job.resource.stat() {
        return Err(kept("it changed since the scan".to_owned()));
    }
    match after {
        AfterUpload::Delete => {
            std::fs::remove_file(&source).map_err(|error| kept(error.to_string()))?;
            Ok(Cleared::deleted())
        }
        AfterUpload::MoveTo(dir) => {
            let target = dir.join(job.resource.path.as_path());
            move_without_replacing(&source, &target).map_err(kept)?;
            Ok(Cleared::moved(JournalPath::new(target)))
        }
    }
}

/// Gives `source` the name `target` (which must not exist), then removes
/// the old name.
fn move_without_replacing(source: &Path, target: &Path) -> Result<(), String> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("{}: {error}", parent.display()))?;
    }
    let exists = |_| format!("{} already exists; it is never replaced", target.display());
    match std::fs::hard_link(source, target) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists(())),
        // Another file system: copy beside the target, sync, then link.
        Err(_) => {
            let partial = target.with_extension("ferry-moving");
            let copied = std::fs::copy(source, &partial)
                .and_then(|_| std::fs::File::open(&partial)?.sync_all())
                .and_then(|()| std::fs::hard_link(&partial, target));
            let _ = std::fs::remove_file(&partial);
            match copied {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(exists(()));
                }
                Err(error) => return Err(format!("{}: {error}", target.display())),
            }
        }
    }
    std::fs::remove_file(source).map_err(|error| error.to_string())
}
