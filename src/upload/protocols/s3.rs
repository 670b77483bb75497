//! S3-compatible object storage: one `PutObject` for small files, a
//! multipart upload that survives a crash for large ones.
//!
//! S3 has no offset to ask for, so it is a route of its own, not an
//! `Adapter`. A multipart upload's ID is fsynced in the journal before the
//! first part, and each finished part (number, size, SHA-256, ETag) is
//! recorded as it lands. A later run lists the store's parts (`ListParts`,
//! every page) and keeps those whose size and ETag match the journal, or
//! whose listed SHA-256 matches the file; it sends only the rest, several
//! parts at once, each hashed just before it is sent (it is then in the page
//! cache) and streamed from disk, so memory does not grow with the file.
//!
//! Requests are presigned by `rusty-s3` (SigV4, payload unsigned, each part's
//! `x-amz-checksum-sha256` signed), so no `Authorization` header exists. A
//! presigned URL is itself a credential for an hour, so errors are reported
//! without it. An object is never replaced unless `--overwrite` says so:
//! `If-None-Match: *` where the store honours it, and a `HEAD` before every
//! new upload where it does not (Garage).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use rusty_s3::S3Action;

use crate::digest::Sha256;
use crate::journal::job::{ErrorClass, Job, Part, Protocol, Response, Session};
use crate::journal::store::Durability;
use crate::upload::body::file_body;
use crate::upload::http::{self, Activity, Failure};
use crate::upload::shared::Shared;
use crate::wire::s3::{self as vocabulary, CHECKSUM_SHA256, META_SHA256, S3Error};

use super::digest_range;
use super::s3_store::{Call, SIGNED_FOR, failure_of, key_of};
pub use super::s3_store::{Options, REFUSED_CREDENTIALS, S3Route};
use crate::wire::tus::Checksum;

/// `ListParts` pages read at most (1,000 parts each; 10,000 parts at most).
const MAX_PAGES: usize = 12;

/// One job's upload to an `s3://` route, within a run.
pub async fn transfer(
    route: &S3Route,
    (shared, settings): (&Shared, &crate::upload::Settings),
    job: &Job,
    activity: &Arc<Activity>,
) -> Result<Response, Failure> {
    let upload = S3Upload {
        route,
        shared,
        retries: settings.retries,
        idle: settings.idle_timeout,
        job,
        activity,
    };
    upload.to_the_end().await
}

/// What a `HEAD` of the key found.
pub enum Existing {
    Nothing,
    Same,
    Different,
}

/// What `key` holds: this content when its `x-amz-meta-sha256` is ours, or
/// its SHA-256 checksum is (an object another tool stored whole with a
/// checksum, `x-amz-checksum-mode: ENABLED`). Also `ferry verify`'s check.
pub async fn look_at(
    route: &S3Route,
    idle: Duration,
    key: &str,
    sha256: &Sha256,
) -> Result<Existing, Failure> {
    const MODE: (&str, &str) = ("x-amz-checksum-mode", "ENABLED");
    let call = Call::new(&route.client, idle);
    let mut action = route.bucket.head_object(Some(&route.credentials), key);
    action.headers_mut().insert(MODE.0, MODE.1);
    let url = action.sign(SIGNED_FOR);
    let headers = [(MODE.0, MODE.1.to_owned())];
    let response = call.send(Method::HEAD, url, &headers, None).await?;
    match response.status() {
        StatusCode::NOT_FOUND => Ok(Existing::Nothing),
        status if status.is_success() => {
            let found = |name| crate::wire::text(response.headers(), name);
            let same = found(META_SHA256) == Some(sha256.to_hex().as_str())
                || found(CHECKSUM_SHA256) == Some(vocabulary::checksum(sha256).as_str());
            Ok(match same {
                true => Existing::Same,
                false => Existing::Different,
            })
        }
        _ => Err(call.failure(response, "looking at the key").await),
    }
}

/// One job's upload to an `s3://` route.
pub struct S3Upload<'a> {
    pub route: &'a S3Route,
    pub shared: &'a Shared,
    pub retries: u32,
    pub idle: Duration,
    pub job: &'a Job,
    pub activity: &'a Arc<Activity>,
}

impl S3Upload<'_> {
    fn call(&self) -> Call<'_> {
        Call::new(&self.route.client, self.idle)
    }

    fn key(&self) -> String {
        let resource = &self.job.resource;
        self.route
            .url
            .key(&resource.target_path().to_bytes(), &resource.sha256)
    }

    /// Runs `attempt` until it succeeds, fails for good, or has failed
    /// transiently `retries` times in a row.
    async fn retrying<T, F>(&self, mut attempt: impl FnMut() -> F) -> Result<T, Failure>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        let mut failures = 0;
        loop {
            match attempt().await {
                Err(Failure::Transient { retry_after, .. }) if failures < self.retries => {
                    tokio::time::sleep(http::backoff(failures, retry_after)).await;
                    failures += 1;
                }
                result => return result,
            }
        }
    }

    fn check_file(&self) -> Result<(), Failure> {
        let resource = &self.job.resource;
        let source = resource.source();
        match std::fs::metadata(&source) {
            Ok(meta) => match resource
                .stat()
                .what_changed(&crate::digest::FileStat::of(&meta))
            {
                Some(what) => Err(Failure::changed_since_scan(&source, what)),
                None => Ok(()),
            },
            Err(_) => Err(Failure::changed_since_scan(&source, "it is gone")),
        }
    }

    pub async fn to_the_end(&self) -> Result<Response, Failure> {
        let key = self.key();
        if let Err(failure) = self.check_file() {
            // Parts of the old bytes must never be completed, nor resumed.
            if let Some(session) = &self.job.session {
                let _ = self.route.abort(session).await;
            }
            return Err(failure);
        }
        let session = self.job.session.as_ref().filter(|s| {
            s.protocol == Some(Protocol::S3) && s.id.is_some() && key_of(s).as_deref() == Some(&key)
        });
        if let Some(session) = session
            && let Some(response) = self.resume(session, &key).await?
        {
            return Ok(response);
        }
        if !self.route.overwrite {
            match self.retrying(|| self.head(&key)).await? {
                Existing::Same => return Ok(self.done(&key, "identical object already there")),
                Existing::Different => return Err(self.different(&key)),
                Existing::Nothing => {}
            }
        }
        if self.job.resource.size < vocabulary::MULTIPART_THRESHOLD {
            return self.put_object(&key).await;
        }
        let part_size = vocabulary::part_size(self.job.resource.size, self.route.part_size_asked);
        let upload_id = self.retrying(|| self.create(&key)).await?;
        let session = Session {
            url: format!("s3://{}/{key}", self.route.url.bucket),
            offset: 0,
            protocol: Some(Protocol::S3),
            id: Some(upload_id.clone()),
            parts: Vec::new(),
            part_size: Some(part_size),
        };
        self.shared
            .change(&self.job.id, Durability::Durable, |job| {
                job.register(session)
            })
            .await
            .map_err(journal_failure)?;
        self.finish(&key, &upload_id, part_size, Vec::new()).await
    }

    fn done(&self, key: &str, note: &str) -> Response {
        let mut headers = BTreeMap::new();
        headers.insert("key".to_owned(), key.to_owned());
        headers.insert("note".to_owned(), note.to_owned());
        Response {
            status: 200,
            headers,
        }
    }

    fn different(&self, key: &str) -> Failure {
        Failure::permanent(
            ErrorClass::Client,
            format!("a different object exists at {key}; --overwrite replaces it"),
        )
    }

    async fn head(&self, key: &str) -> Result<Existing, Failure> {
        look_at(self.route, self.idle, key, &self.job.resource.sha256).await
    }

    /// PUTs `len` bytes of the file from `offset`, streamed from disk.
    async fn put_bytes(
        &self,
        url: &reqwest::Url,
        headers: &[(&str, String)],
        offset: u64,
        len: u64,
    ) -> Result<reqwest::Response, Failure> {
        let body = file_body(
            self.job.resource.source(),
            offset,
            len,
            self.activity.clone(),
        );
        let body = Some((body, self.activity));
        // A streamed body would otherwise go chunked, which S3 refuses
        // (MissingContentLength) unless it is aws-chunked.
        let mut headers = headers.to_vec();
        headers.push(("content-length", len.to_string()));
        self.call()
            .send(Method::PUT, url.clone(), &headers, body)
            .await
    }

    async fn put_object(&self, key: &str) -> Result<Response, Failure> {
        let resource = &self.job.resource;
        let checksum = vocabulary::checksum(&resource.sha256);
        let mut headers = vec![
            (CHECKSUM_SHA256, checksum),
            (META_SHA256, resource.sha256.to_hex()),
        ];
        if !self.route.overwrite {
            headers.push(("if-none-match", "*".to_owned()));
        }
        let mut action = self
            .route
            .bucket
            .put_object(Some(&self.route.credentials), key);
        for (name, value) in &headers {
            action.headers_mut().insert(*name, value.clone());
        }
        let response = self
            .retrying(|| async {
                self.check_file()?;
                // Signed for each attempt: retries that honour long
                // Retry-After waits may outlive any one signature.
                let url = action.sign(SIGNED_FOR);
                let response = self.put_bytes(&url, &headers, 0, resource.size).await?;
                match response.status() {
                    status if status.is_success() || status == StatusCode::PRECONDITION_FAILED => {
                        Ok(response)
                    }
                    _ => Err(self.call().failure(response, "PutObject").await),
                }
            })
            .await?;
        if response.status() == StatusCode::PRECONDITION_FAILED {
            return match self.retrying(|| self.head(key)).await? {
                Existing::Same => Ok(self.done(key, "identical object already there")),
                _ => Err(self.different(key)),
            };
        }
        Ok(self.done(key, "uploaded"))
    }

    async fn create(&self, key: &str) -> Result<String, Failure> {
        let mut action = self
            .route
            .bucket
            .create_multipart_upload(Some(&self.route.credentials), key);
        let headers = [
            (META_SHA256, self.job.resource.sha256.to_hex()),
            ("x-amz-checksum-algorithm", "SHA256".to_owned()),
        ];
        for (name, value) in &headers {
            action.headers_mut().insert(*name, value.clone());
        }
        let url = action.sign(SIGNED_FOR);
        let response = self.call().send(Method::POST, url, &headers, None).await?;
        if !response.status().is_success() {
            return Err(self.call().failure(response, "CreateMultipartUpload").await);
        }
        let body = self.call().text(response).await?;
        vocabulary::element(&body, "UploadId")
            .map(str::to_owned)
            .ok_or_else(|| Failure::transient("CreateMultipartUpload: no UploadId in the answer"))
    }

    /// Picks up a recorded multipart upload. `None`: it is gone and the
    /// key does not hold the file, so a new upload starts.
    async fn resume(&self, session: &Session, key: &str) -> Result<Option<Response>, Failure> {
        let upload_id = session.id.as_deref().unwrap_or_default();
        let Some(listed) = self.retrying(|| self.list_parts(key, upload_id)).await? else {
            return match self.retrying(|| self.head(key)).await? {
                Existing::Same => Ok(Some(self.done(key, "completed by an earlier run"))),
                _ => Ok(None),
            };
        };
        let size = self.job.resource.size;
        let part_size = session
            .part_size
            .unwrap_or_else(|| vocabulary::part_size(size, self.route.part_size_asked));
        let layout: HashMap<u32, (u64, u64)> = vocabulary::parts(size, part_size)
            .into_iter()
            .map(|(number, offset, len)| (number, (offset, len)))
            .collect();
        let recorded: HashMap<u32, &Part> = session.parts.iter().map(|p| (p.number, p)).collect();
        let mut kept = Vec::new();
        for part in listed {
            let Some(&(offset, len)) = layout.get(&part.number) else {
                continue;
            };
            if part.size != len {
                continue;
            }
            if let Some(known) = recorded
                .get(&part.number)
                .filter(|known| known.etag == part.etag)
            {
                kept.push((*known).clone());
            } else if let Some(listed_sum) = &part.sha256 {
                let sha256 = self.hash_part(offset, len).await?;
                if *listed_sum == vocabulary::checksum(&sha256) {
                    kept.push(Part {
                        number: part.number,
                        size: len,
                        sha256,
                        etag: part.etag,
                    });
                }
            }
        }
        self.finish(key, upload_id, part_size, kept).await.map(Some)
    }

    /// Every page of `ListParts`; `None` when the upload is gone.
    async fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<Vec<vocabulary::ListedPart>>, Failure> {
        let mut all = Vec::new();
        let mut marker = None;
        for _ in 0..MAX_PAGES {
            let mut action =
                self.route
                    .bucket
                    .list_parts(Some(&self.route.credentials), key, upload_id);
            if let Some(marker) = marker {
                action.set_part_number_marker(marker);
            }
            let url = action.sign(SIGNED_FOR);
            let response = self.call().send(Method::GET, url, &[], None).await?;
            let status = response.status();
            let body = self.call().text(response).await?;
            if !status.is_success() {
                let error = S3Error::parse(&body);
                if status == StatusCode::NOT_FOUND
                    || error.as_ref().is_some_and(|e| e.code == "NoSuchUpload")
                {
                    return Ok(None);
                }
                return Err(failure_of(status.as_u16(), error, None, "ListParts"));
            }
            let (parts, next) = vocabulary::parse_parts(&body)
                .map_err(|message| Failure::permanent(ErrorClass::Server, message))?;
            all.extend(parts);
            match next.and_then(|n| u16::try_from(n).ok()) {
                Some(next) => marker = Some(next),
                None => return Ok(Some(all)),
            }
        }
        Err(Failure::permanent(
            ErrorClass::Server,
            "ListParts: the store kept saying there were more pages",
        ))
    }

    /// SHA-256 of one part, read from the file.
    async fn hash_part(&self, offset: u64, len: u64) -> Result<Sha256, Failure> {
        let source = self.job.resource.source();
        let digest = digest_range(source, offset, len, Checksum::Sha256).await?;
        Ok(Sha256::from_slice(&digest).expect("a SHA-256 digest is 32 bytes"))
    }

    /// Sends the parts not in `kept`, several at once, then completes.
    async fn finish(
        &self,
        key: &str,
        upload_id: &str,
        part_size: u64,
        kept: Vec<Part>,
    ) -> Result<Response, Failure> {
        let have: Vec<u32> = kept.iter().map(|part| part.number).collect();
        self.activity
            .starts_at(kept.iter().map(|part| part.size).sum());
        let missing: Vec<(u32, u64, u64)> = vocabulary::parts(self.job.resource.size, part_size)
            .into_iter()
            .filter(|(number, _, _)| !have.contains(number))
            .collect();
        let sent: Vec<Part> = futures_util::stream::iter(missing)
            .map(|(number, offset, len)| self.send_part(key, upload_id, number, offset, len))
            .buffer_unordered(self.route.part_concurrency)
            .try_collect()
            .await?;
        let mut parts = kept;
        parts.extend(sent);
        if let Err(failure) = self.check_file() {
            // Parts of other bytes must never be completed, nor resumed.
            let _ = self.route.abort(&self.session_for(key, upload_id)).await;
            return Err(failure);
        }
        self.retrying(|| self.complete(key, upload_id, &parts))
            .await
    }

    fn session_for(&self, key: &str, upload_id: &str) -> Session {
        Session {
            url: format!("s3://{}/{key}", self.route.url.bucket),
            id: Some(upload_id.to_owned()),
            ..Session::default()
        }
    }

    async fn send_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        offset: u64,
        len: u64,
    ) -> Result<Part, Failure> {
        let _permit = self
            .route
            .in_flight
            .acquire()
            .await
            .map_err(|_| Failure::Stopped)?;
        let part_number = u16::try_from(number)
            .map_err(|_| Failure::permanent(ErrorClass::Client, "more than 10,000 parts"))?;
        self.check_file()?;
        let sha256 = self.hash_part(offset, len).await?;
        let headers = [(CHECKSUM_SHA256, vocabulary::checksum(&sha256))];
        let mut action = self.route.bucket.upload_part(
            Some(&self.route.credentials),
            key,
            part_number,
            upload_id,
        );
        action
            .headers_mut()
            .insert(CHECKSUM_SHA256, headers[0].1.clone());
        let etag = self
            .retrying(|| async {
                let url = action.sign(SIGNED_FOR);
                let response = self.put_bytes(&url, &headers, offset, len).await?;
                if !response.status().is_success() {
                    return Err(self
                        .call()
                        .failure(response, &format!("UploadPart {number}"))
                        .await);
                }
                crate::wire::text(response.headers(), "etag")
                    .map(str::to_owned)
                    .ok_or_else(|| Failure::transient(format!("UploadPart {number}: no ETag")))
            })
            .await?;
        let part = Part {
            number,
            size: len,
            sha256,
            etag,
        };
        let recorded = part.clone();
        self.shared
            .change(&self.job.id, Durability::Lazy, |job| {
                job.record_part(recorded)
            })
            .await
            .map_err(journal_failure)?;
        Ok(part)
    }

    async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[Part],
    ) -> Result<Response, Failure> {
        let action = self.route.bucket.complete_multipart_upload(
            Some(&self.route.credentials),
            key,
            upload_id,
            std::iter::empty::<&str>(),
        );
        let url = action.sign(SIGNED_FOR);
        let mut headers = vec![("content-type", "application/xml".to_owned())];
        if !self.route.overwrite {
            headers.push(("if-none-match", "*".to_owned()));
        }
        let body = vocabulary::complete_body(parts);
        let response = self
            .call()
            .send(
                Method::POST,
                url,
                &headers,
                Some((body.into(), self.activity)),
            )
            .await?;
        let status = response.status();
        let text = self.call().text(response).await?;
        let error = S3Error::parse(&text);
        let gone = status == StatusCode::NOT_FOUND
            || error.as_ref().is_some_and(|e| e.code == "NoSuchUpload");
        if status == StatusCode::PRECONDITION_FAILED || gone {
            // A lost answer to an earlier Complete, or another writer.
            return match self.head(key).await? {
                Existing::Same => Ok(self.done(key, "uploaded")),
                // Retrying Complete cannot help; the job's next run finds
                // the upload gone (ListParts) and starts a new one.
                _ if gone => Err(Failure::permanent(
                    ErrorClass::Server,
                    "CompleteMultipartUpload: the upload is gone (NoSuchUpload) and the key does \
                     not hold the file; `ferry retry` uploads it again",
                )),
                _ => Err(self.different(key)),
            };
        }
        match (status.is_success(), error) {
            // A 200 can still carry an <Error>.
            (true, None) => Ok(self.done(key, "uploaded")),
            (_, error) => Err(failure_of(
                status.as_u16(),
                error,
                None,
                "CompleteMultipartUpload",
            )),
        }
    }
}

fn journal_failure(error: anyhow::Error) -> Failure {
    Failure::Journal(crate::error::one_line(&error))
}
