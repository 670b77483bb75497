//! One OPTIONS request per destination and run: which protocol, what limits.
//!
//! `auto` picks IETF when the answer carries `Upload-Limit` or the interop
//! header, else tus when it carries `Tus-Version`, else plain PUT: a server
//! that speaks both (like `ferry serve`) gets the newer protocol. The choice
//! is remembered in the journal per destination, so a destination never
//! switches protocol under its registered jobs. The same answer tells the tus
//! adapter which extensions and checksums it may use; for a protocol given
//! explicitly a failed OPTIONS only means "no extras".

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::http::{self, Failure};
use super::protocols::Limits;
use super::protocols::tus::Tus;
use crate::journal::job::Protocol;
use crate::wire::fields;
use crate::wire::ietf::{INTEROP_HEADER, INTEROP_VERSIONS};
use crate::wire::tus::{Checksum, RAW_METADATA, TUS_VERSION};

#[derive(Debug, Clone)]
pub struct Capabilities {
    /// What the headers point to (never `Auto` or `Local`).
    pub protocol: Protocol,
    pub tus: Tus,
    pub limits: Limits,
}

impl Capabilities {
    pub fn none(protocol: Protocol) -> Capabilities {
        Capabilities {
            protocol,
            tus: Tus::default(),
            limits: Limits::default(),
        }
    }

    pub fn from_headers(headers: &HeaderMap) -> Capabilities {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let protocol = if text("upload-limit").is_some() || text(INTEROP_HEADER).is_some() {
            Protocol::Ietf
        } else if text("tus-version").is_some_and(|versions| versions.contains(TUS_VERSION)) {
            Protocol::Tus
        } else {
            Protocol::Put
        };
        let extensions: Vec<&str> = text("tus-extension")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .collect();
        let tus = Tus {
            creation_with_upload: extensions.contains(&"creation-with-upload"),
            checksum: extensions
                .contains(&"checksum")
                .then(|| text("tus-checksum-algorithm").and_then(Checksum::choose))
                .flatten(),
            raw_metadata: text(&RAW_METADATA.0.to_ascii_lowercase()) == Some(RAW_METADATA.1),
        };
        let max_size = text("tus-max-size").and_then(|size| size.trim().parse().ok());
        let limits = Limits::from_upload_limit(headers).merge(Limits {
            max_size,
            max_append: None,
        });
        Capabilities {
            protocol,
            tus,
            limits: Limits::default().merge(limits),
        }
    }
}

/// Sends OPTIONS, with an interop version when one is given.
async fn options(
    client: &reqwest::Client,
    headers: &HeaderMap,
    url: &str,
    timeout: Duration,
    version: Option<u8>,
) -> Result<reqwest::Response, reqwest::Error> {
    let mut request = client
        .request(reqwest::Method::OPTIONS, url)
        .headers(headers.clone())
        .timeout(timeout);
    if let Some(version) = version {
        request = request.header(INTEROP_HEADER, version.to_string());
    }
    request.send().await
}

/// Asks `url` what it speaks. Only a clear answer decides: a reset, a
/// timeout, a 408, a 429 or a 5xx (but 501 and 505) is retried with the
/// uploads' backoff, up to `retries` times, and then returned as the
/// failure it is, never read as "no protocol, so PUT". A refused
/// connection (nothing listens) is returned at once.
pub async fn probe(
    client: &reqwest::Client,
    headers: &HeaderMap,
    url: &str,
    timeout: Duration,
    retries: u32,
) -> Result<Capabilities, Failure> {
    const DOING: &str = "asking the server what it supports";
    let mut failures = 0;
    loop {
        let failure = match options(client, headers, url, timeout, None).await {
            Ok(response) => match response.status().as_u16() {
                401 | 403 => return Err(http::unexpected(response, DOING).await),
                501 | 505 => return Ok(Capabilities::from_headers(response.headers())),
                408 | 429 | 500..=599 => http::unexpected(response, DOING).await,
                _ => return Ok(Capabilities::from_headers(response.headers())),
            },
            Err(error) if error.is_connect() && !error.is_timeout() => {
                return Err(http::send_failure(error));
            }
            Err(error) => http::send_failure(error),
        };
        let Failure::Transient { retry_after, .. } = &failure else {
            return Err(failure);
        };
        if failures >= retries {
            return Err(failure);
        }
        tokio::time::sleep(http::backoff(failures, *retry_after)).await;
        failures += 1;
    }
}

/// What `ferry probe` prints: everything an OPTIONS answer says.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub url: String,
    /// The OPTIONS answer's status.
    pub status: u16,
    /// "accepted", "refused", "none sent" when no credential was given and
    /// none was asked for, "needed, none sent" when the server asked.
    pub credentials: &'static str,
    /// What `--protocol auto` would use; none while the server refuses to
    /// answer without credentials.
    pub auto_picks: Option<Protocol>,
    pub ietf_interop_versions: Vec<u8>,
    pub tus_versions: Vec<String>,
    pub tus_extensions: Vec<String>,
    pub tus_checksum_algorithms: Vec<String>,
    pub max_size: Option<u64>,
    pub max_append_size: Option<u64>,
}

fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|text| {
            text.split(',')
                .map(|item| item.trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Asks `url` with OPTIONS, once plainly and once per IETF interop version
/// (a server that speaks a version answers with it).
pub async fn describe(
    client: &reqwest::Client,
    headers: &HeaderMap,
    url: &str,
    timeout: Duration,
) -> Result<Report, Failure> {
    let response = options(client, headers, url, timeout, None)
        .await
        .map_err(http::send_failure)?;
    let status = response.status().as_u16();
    let refused = matches!(status, 401 | 403);
    let answer = response.headers();
    let found = Capabilities::from_headers(answer);
    let mut report = Report {
        url: url.to_owned(),
        status,
        credentials: match (refused, headers.is_empty()) {
            (true, true) => "needed, none sent",
            (true, false) => "refused",
            (false, true) => "none sent",
            (false, false) => "accepted",
        },
        auto_picks: (!refused).then_some(found.protocol),
        ietf_interop_versions: Vec::new(),
        tus_versions: list(answer, "tus-version"),
        tus_extensions: list(answer, "tus-extension"),
        tus_checksum_algorithms: list(answer, "tus-checksum-algorithm"),
        max_size: found.limits.max_size,
        max_append_size: found.limits.max_append,
    };
    if refused {
        return Ok(report);
    }
    for version in INTEROP_VERSIONS {
        let response = options(client, headers, url, timeout, Some(version))
            .await
            .map_err(http::send_failure)?;
        let echoed = fields::integer(response.headers(), INTEROP_HEADER)
            .is_ok_and(|echoed| echoed == Some(u64::from(version)));
        if echoed {
            report.ietf_interop_versions.push(version);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn ietf_wins_over_tus_and_put_is_the_fallback() {
        let both = headers(&[
            ("upload-limit", "max-size=100"),
            ("tus-version", "1.0.0"),
            ("tus-extension", "creation,creation-with-upload,checksum"),
            ("tus-checksum-algorithm", "sha1,sha256"),
        ]);
        let found = Capabilities::from_headers(&both);
        assert_eq!(found.protocol, Protocol::Ietf);
        assert!(found.tus.creation_with_upload);
        assert_eq!(found.tus.checksum, Some(Checksum::Sha256));
        assert_eq!(found.limits.max_size, Some(100));
        let tus = headers(&[("tus-version", "1.0.0,0.2.2"), ("tus-max-size", "5")]);
        let found = Capabilities::from_headers(&tus);
        assert_eq!(
            (found.protocol, found.limits.max_size),
            (Protocol::Tus, Some(5))
        );
        assert_eq!(found.tus.checksum, None);
        assert_eq!(
            Capabilities::from_headers(&headers(&[("dav", "1, 2")])).protocol,
            Protocol::Put
        );
    }
}
