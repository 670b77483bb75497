//! An S3 store as a run sees it: the bucket and its keys (checked once per
//! run), one presigned request under the idle watchdog, and what an error
//! answer means for ferry.
//!
//! Kept apart from `s3`, which decides what one job sends when; this is
//! what every S3 request shares. A presigned URL is a credential for an hour, so a
//! failed send is reported without its URL; an error answer is classed by
//! its `<Code>` first (`SlowDown` is transient whatever its status,
//! `InvalidAccessKeyId` stops the run), then by its status.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use tokio::sync::Semaphore;

use crate::error::UsageError;
use crate::journal::job::{ErrorClass, Session};
use crate::upload::http::{self, Activity, Failure, within_idle};
use crate::upload::s3_access::Configured;
use crate::wire::s3::S3Error;
use crate::wire::s3::{self as vocabulary, S3Url};

/// What to say when the store refuses the keys.
pub const REFUSED_CREDENTIALS: &str = "the store refused the credentials: check the access key \
     and secret (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the AWS profile, or the config file)";

/// How long a presigned request stays valid: longer than any one request.
pub const SIGNED_FOR: Duration = Duration::from_secs(3600);
/// Requests in flight to one store, all jobs and parts together.
const MAX_IN_FLIGHT: usize = 16;

/// One `s3://` destination: the bucket, its keys and the run's limits.
pub struct S3Route {
    pub bucket: Bucket,
    pub credentials: Credentials,
    pub url: S3Url,
    pub endpoint: String,
    pub part_size_asked: Option<u64>,
    pub part_concurrency: usize,
    pub overwrite: bool,
    pub in_flight: Arc<Semaphore>,
    /// The run's client (its connections shared), or one of its own that
    /// also trusts `AWS_CA_BUNDLE`.
    pub client: reqwest::Client,
}

pub struct Options {
    pub chunk_size: Option<u64>,
    pub part_concurrency: usize,
    pub overwrite: bool,
}

impl S3Route {
    pub fn open(
        destination: &str,
        configured: &Configured,
        options: Options,
        (settings, shared): (&crate::upload::Settings, &reqwest::Client),
    ) -> anyhow::Result<S3Route> {
        let url = S3Url::parse(destination).map_err(UsageError)?;
        let access =
            crate::upload::s3_access::resolve(configured, crate::upload::secrets::variable);
        if let Some(size) = options
            .chunk_size
            .filter(|&size| size < vocabulary::MIN_PART)
        {
            return Err(UsageError(format!(
                "--chunk-size {size}: S3 parts must be at least 5 MiB"
            ))
            .into());
        }
        let endpoint = access.endpoint_url();
        let (Some(key_id), Some(secret)) = (&access.key_id, &access.secret) else {
            return Err(UsageError(format!(
                "{destination}: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 a profile in ~/.aws/credentials, or access-key-id and secret-access-key in the config file"
            ))
            .into());
        };
        let credentials = match &access.session_token {
            Some(token) => Credentials::new_with_token(key_id, secret, token),
            None => Credentials::new(key_id, secret),
        };
        let style = match access.path_style {
            true => UrlStyle::Path,
            false => UrlStyle::VirtualHost,
        };
        let parsed = Url::parse(&endpoint)
            .map_err(|error| UsageError(format!("S3 endpoint {endpoint:?}: {error}")))?;
        let bucket = Bucket::new(parsed, style, url.bucket.clone(), access.region.clone())
            .map_err(|error| UsageError(format!("S3 endpoint {endpoint:?}: {error}")))?;
        // As the AWS CLI does, the bundle matters only to an https endpoint
        // (a bundle set for another store does not stop an http one).
        let bundle = access
            .ca_bundle
            .as_ref()
            .filter(|_| endpoint.starts_with("https://"));
        let client = match bundle {
            None => shared.clone(),
            Some(path) => {
                let certs = crate::upload::http::certificates_in(path).map_err(|problem| {
                    UsageError(format!("AWS_CA_BUNDLE {}: {problem}", path.display()))
                })?;
                crate::upload::http::client_trusting(settings, &certs)?
            }
        };
        Ok(S3Route {
            client,
            bucket,
            credentials,
            url,
            endpoint,
            part_size_asked: options.chunk_size,
            part_concurrency: options.part_concurrency.max(1),
            overwrite: options.overwrite,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// Checks once per run that the bucket is there and the keys open it,
    /// so that a typo is one line rather than one failure per job.
    pub async fn check_bucket(&self, idle: Duration, retries: u32) -> anyhow::Result<()> {
        let call = Call::new(&self.client, idle);
        let mut failures = 0;
        let response = loop {
            let url = self
                .bucket
                .head_bucket(Some(&self.credentials))
                .sign(SIGNED_FOR);
            let sent = tokio::time::timeout(idle, self.client.head(url).send()).await;
            // Refused, a name that does not resolve, a certificate not
            // trusted: no retry changes that within a run. A reset (in the
            // handshake too) or a stall may pass: tried again, as jobs are.
            let (failure, settled) = match sent {
                Ok(Ok(response)) => break response,
                Ok(Err(error)) => {
                    let settled = http::unreachable(&error);
                    (http::send_failure(error.without_url()), settled)
                }
                Err(_) => {
                    let stalled = format!("no answer in {} s", idle.as_secs());
                    (Failure::transient(stalled), false)
                }
            };
            if !settled && failures < retries {
                tokio::time::sleep(http::backoff(failures, None)).await;
                failures += 1;
                continue;
            }
            let text = failure.text();
            anyhow::bail!(
                "cannot reach {}: {text}{}",
                self.endpoint,
                http::unreachable_hint(&text)
            );
        };
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND => anyhow::bail!(
                "bucket {} does not exist at {} (NoSuchBucket)",
                self.url.bucket,
                self.endpoint
            ),
            _ => match call.failure(response, "checking the bucket").await {
                Failure::Credentials { message, .. } => {
                    anyhow::bail!("{message}; {REFUSED_CREDENTIALS}")
                }
                // Anything else is left to the jobs, which retry.
                _ => Ok(()),
            },
        }
    }

    /// `ferry cancel`: aborts a job's multipart upload.
    pub async fn abort(&self, session: &Session) -> Result<(), Failure> {
        let (Some(upload_id), Some(key)) = (&session.id, key_of(session)) else {
            return Ok(());
        };
        let url = self
            .bucket
            .abort_multipart_upload(Some(&self.credentials), &key, upload_id)
            .sign(SIGNED_FOR);
        let call = Call::new(&self.client, Duration::from_secs(30));
        let response = call.send(Method::DELETE, url, &[], None).await?;
        match response.status() {
            status if status.is_success() || status == StatusCode::NOT_FOUND => Ok(()),
            _ => Err(call
                .failure(response, "aborting the multipart upload")
                .await),
        }
    }
}

/// The key a session's `s3://bucket/key` URL names.
pub fn key_of(session: &Session) -> Option<String> {
    let rest = session.url.strip_prefix("s3://")?;
    rest.split_once('/').map(|(_, key)| key.to_owned())
}

/// One request with the idle watchdog; failures never carry the URL.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub client: &'a reqwest::Client,
    idle: Duration,
}

impl<'a> Call<'a> {
    pub fn new(client: &'a reqwest::Client, idle: Duration) -> Self {
        Call { client, idle }
    }

    pub async fn send(
        &self,
        method: Method,
        url: Url,
        headers: &[(&str, String)],
        body: Option<(reqwest::Body, &Arc<Activity>)>,
    ) -> Result<reqwest::Response, Failure> {
        let mut builder = self.client.request(method, url);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let activity = match body {
            Some((body, activity)) => {
                builder = builder.body(body);
                activity.clone()
            }
            None => Arc::new(Activity::default()),
        };
        within_idle(&activity, self.idle, async {
            builder
                .send()
                .await
                .map_err(|error| http::send_failure(error.without_url()))
        })
        .await
    }

    /// An answer's body, ended as transient once nothing has arrived for
    /// the idle time (a store may stall halfway through an XML document).
    pub async fn text(&self, response: reqwest::Response) -> Result<String, Failure> {
        let status = response.status().as_u16();
        match http::capped_body(response, http::MAX_ANSWER, self.idle).await? {
            Some(body) => Ok(String::from_utf8_lossy(&body).into_owned()),
            None => Err(Failure::permanent(
                ErrorClass::Server,
                format!(
                    "the store's answer (HTTP {status}) is larger than {}; it is not an S3 answer",
                    crate::format::human_bytes(http::MAX_ANSWER as u64)
                ),
            )),
        }
    }

    /// The failure an S3 error answer means, by its `<Code>` first.
    pub async fn failure(&self, response: reqwest::Response, doing: &str) -> Failure {
        let status = response.status().as_u16();
        let retry_after = http::retry_after(response.headers());
        let body = match self.text(response).await {
            Ok(body) => body,
            Err(Failure::Permanent { class, message, .. }) => {
                return Failure::Permanent {
                    class,
                    status: Some(status),
                    message: format!("{doing}: {message}"),
                };
            }
            Err(_) => String::new(),
        };
        failure_of(status, S3Error::parse(&body), retry_after, doing)
    }
}

pub fn failure_of(
    status: u16,
    error: Option<S3Error>,
    retry_after: Option<Duration>,
    doing: &str,
) -> Failure {
    let code = error.as_ref().map_or("", |e| e.code.as_str());
    let said = match &error {
        Some(error) if !error.message.is_empty() => format!("{}: {}", error.code, error.message),
        Some(error) => error.code.clone(),
        None => StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
            .to_owned(),
    };
    let message = format!("{doing}: HTTP {status} {said}");
    let permanent = |class, message: String| Failure::Permanent {
        class,
        status: Some(status),
        message,
    };
    match code {
        "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" => {
            Failure::Transient {
                status: Some(status),
                message,
                retry_after,
            }
        }
        "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" => {
            Failure::Credentials { status, message }
        }
        "NoSuchBucket" => permanent(
            ErrorClass::Client,
            format!("{doing}: the bucket does not exist (NoSuchBucket)"),
        ),
        "EntityTooSmall" => permanent(
            ErrorClass::Client,
            format!(
                "{doing}: a part is smaller than the store's minimum (EntityTooSmall); use --chunk-size 5M or more"
            ),
        ),
        "RequestTimeTooSkewed" => permanent(
            ErrorClass::Client,
            format!(
                "{doing}: this computer's clock is off from the store's by more than 15 minutes (RequestTimeTooSkewed); set the clock"
            ),
        ),
        _ => match status {
            401 | 403 => Failure::Credentials { status, message },
            408 | 429 | 500..=599 => Failure::Transient {
                status: Some(status),
                message,
                retry_after,
            },
            _ => permanent(ErrorClass::Server, message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str) -> Option<S3Error> {
        Some(S3Error {
            code: code.to_owned(),
            message: String::new(),
        })
    }

    #[test]
    fn s3_codes_map_to_ferry_classes() {
        assert!(matches!(
            failure_of(503, error("SlowDown"), None, "x"),
            Failure::Transient { .. }
        ));
        assert!(matches!(
            failure_of(500, error("InternalError"), None, "x"),
            Failure::Transient { .. }
        ));
        assert!(matches!(
            failure_of(400, error("RequestTimeout"), None, "x"),
            Failure::Transient { .. }
        ));
        assert!(matches!(
            failure_of(403, error("InvalidAccessKeyId"), None, "x"),
            Failure::Credentials { .. }
        ));
        assert!(matches!(
            failure_of(403, error("SignatureDoesNotMatch"), None, "x"),
            Failure::Credentials { .. }
        ));
        let skewed = failure_of(403, error("RequestTimeTooSkewed"), None, "x").text();
        assert!(skewed.contains("clock"), "{skewed}");
        let small = failure_of(400, error("EntityTooSmall"), None, "x").text();
        assert!(small.contains("--chunk-size"), "{small}");
        let bucket = failure_of(404, error("NoSuchBucket"), None, "x").text();
        assert!(bucket.contains("does not exist"), "{bucket}");
    }
}
