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
use super::protocol::Limits;
use super::tus::{Checksum, Tus};
use crate::job::Protocol;

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
        let protocol =
            if text("upload-limit").is_some() || text("upload-draft-interop-version").is_some() {
                Protocol::Ietf
            } else if text("tus-version").is_some_and(|versions| versions.contains("1.0.0")) {
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

/// Asks `url` what it speaks. Errors are those of the OPTIONS request itself.
pub async fn probe(
    client: &reqwest::Client,
    headers: &HeaderMap,
    url: &str,
    timeout: Duration,
) -> Result<Capabilities, Failure> {
    let request = client
        .request(reqwest::Method::OPTIONS, url)
        .headers(headers.clone())
        .timeout(timeout);
    let response = request.send().await.map_err(http::send_failure)?;
    let status = response.status();
    match status.as_u16() {
        401 | 403 => Err(http::unexpected(response, "asking the server what it supports").await),
        _ => Ok(Capabilities::from_headers(response.headers())),
    }
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
