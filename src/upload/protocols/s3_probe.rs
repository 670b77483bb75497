//! `ferry probe s3://…`: whether a bucket will take an upload, asked
//! without leaving anything behind.
//!
//! `HeadBucket` says whether the bucket exists and the keys open it. Whether
//! they may write is asked by starting a multipart upload under the prefix
//! and aborting it at once (a test object would stay if the abort were lost
//! with the connection; an unfinished upload is what the next line counts
//! and what a lifecycle rule reaps). `ListMultipartUploads` then counts the
//! unfinished uploads under the prefix, which a crashed tool leaves and the
//! store keeps billing for, and gives the oldest one's age.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rusty_s3::S3Action;

use super::s3_store::{Call, S3Route, SIGNED_FOR};
use crate::journal::job::Session;
use crate::upload::http::Failure;
use crate::wire::s3 as vocabulary;

/// `ListMultipartUploads` pages read at most (1,000 uploads each).
const MAX_PAGES: usize = 100;

#[derive(Debug, serde::Serialize)]
pub struct S3Report {
    pub url: String,
    pub endpoint: String,
    pub region: String,
    /// accepted, refused, or unknown (the bucket is missing).
    pub credentials: &'static str,
    pub bucket_exists: bool,
    pub writable: bool,
    /// Unfinished multipart uploads under the prefix, and the oldest's age.
    pub unfinished_uploads: Option<u64>,
    pub oldest_unfinished_seconds: Option<u64>,
}

impl S3Report {
    /// Whether an upload here can work.
    pub fn ready(&self) -> bool {
        self.credentials == "accepted" && self.bucket_exists && self.writable
    }
}

pub async fn probe(route: &S3Route, url: &str, region: &str) -> Result<S3Report, Failure> {
    let call = Call::new(&route.client, Duration::from_secs(30));
    let mut report = S3Report {
        url: url.to_owned(),
        endpoint: route.endpoint.clone(),
        region: region.to_owned(),
        credentials: "unknown",
        bucket_exists: false,
        writable: false,
        unfinished_uploads: None,
        oldest_unfinished_seconds: None,
    };
    let head = route
        .bucket
        .head_bucket(Some(&route.credentials))
        .sign(SIGNED_FOR);
    let response = call.send(Method::HEAD, head, &[], None).await?;
    match response.status() {
        status if status.is_success() => {
            report.credentials = "accepted";
            report.bucket_exists = true;
        }
        StatusCode::NOT_FOUND => return Ok(report),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            report.credentials = "refused";
            return Ok(report);
        }
        _ => return Err(call.failure(response, "checking the bucket").await),
    }
    report.writable = writable(route, &call).await?;
    let (count, oldest) = unfinished(route, &call).await?;
    report.unfinished_uploads = Some(count);
    report.oldest_unfinished_seconds = oldest;
    Ok(report)
}

/// Starts a multipart upload under the prefix and aborts it.
async fn writable(route: &S3Route, call: &Call<'_>) -> Result<bool, Failure> {
    let key = format!(
        "{}.ferry-probe-{:016x}",
        route.url.fixed_prefix(),
        fastrand::u64(..)
    );
    let create = route
        .bucket
        .create_multipart_upload(Some(&route.credentials), &key)
        .sign(SIGNED_FOR);
    let response = call.send(Method::POST, create, &[], None).await?;
    if !response.status().is_success() {
        return Ok(false);
    }
    let body = call.text(response).await?;
    let Some(upload_id) = vocabulary::element(&body, "UploadId") else {
        return Ok(false);
    };
    let session = Session {
        url: format!("s3://{}/{key}", route.url.bucket),
        id: Some(upload_id.to_owned()),
        ..Session::default()
    };
    route.abort(&session).await?;
    Ok(true)
}

/// How many multipart uploads are unfinished under the prefix, and how old
/// the oldest is in seconds.
async fn unfinished(route: &S3Route, call: &Call<'_>) -> Result<(u64, Option<u64>), Failure> {
    let prefix = route.url.fixed_prefix().to_owned();
    let (mut count, mut oldest) = (0u64, None::<jiff::Timestamp>);
    let mut markers: Option<(String, String)> = None;
    for _ in 0..MAX_PAGES {
        let mut query = vec![("prefix", prefix.as_str()), ("uploads", "")];
        if let Some((key, id)) = &markers {
            query.push(("key-marker", key));
            query.push(("upload-id-marker", id));
        }
        query.sort();
        let credentials = &route.credentials;
        let url = rusty_s3::signing::sign(
            &jiff::Timestamp::now(),
            rusty_s3::Method::Get,
            route.bucket.base_url().clone(),
            credentials.key(),
            credentials.secret(),
            credentials.token(),
            route.bucket.region(),
            SIGNED_FOR.as_secs(),
            query.iter().copied(),
            std::iter::empty(),
        );
        let response = call.send(Method::GET, url, &[], None).await?;
        if !response.status().is_success() {
            return Err(call.failure(response, "ListMultipartUploads").await);
        }
        let body = call.text(response).await?;
        for upload in vocabulary::elements(&body, "Upload") {
            count += 1;
            let initiated = vocabulary::element(upload, "Initiated")
                .and_then(|text| text.trim().parse::<jiff::Timestamp>().ok());
            if let Some(initiated) = initiated {
                oldest = Some(oldest.map_or(initiated, |known| known.min(initiated)));
            }
        }
        let truncated =
            vocabulary::element(&body, "IsTruncated").is_some_and(|t| t.trim() == "true");
        let next = (
            vocabulary::element(&body, "NextKeyMarker"),
            vocabulary::element(&body, "NextUploadIdMarker"),
        );
        match (truncated, next) {
            (true, (Some(key), Some(id))) => markers = Some((key.to_owned(), id.to_owned())),
            _ => {
                let age = oldest.map(|oldest| {
                    let seconds = jiff::Timestamp::now().as_second() - oldest.as_second();
                    seconds.max(0) as u64
                });
                return Ok((count, age));
            }
        }
    }
    Err(Failure::permanent(
        crate::journal::job::ErrorClass::Server,
        "ListMultipartUploads: the store kept saying there were more pages",
    ))
}
