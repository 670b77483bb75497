//! tus 1.0.0's vocabulary: its version, media type, metadata and checksums.
//!
//! `Upload-Metadata` is `key base64,key2 base64,key3`; `Upload-Checksum` is
//! `<algorithm> <base64 digest>`. Both ends read and write them here.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use sha2::Digest;

use super::{BadField, text};

pub const TUS_VERSION: &str = "1.0.0";
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
/// ferry serve's word that its tus metadata values may be any bytes.
pub const RAW_METADATA: (&str, &str) = ("Ferry-Metadata", "bytes");

/// Checksum algorithms ferry computes, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksum {
    Sha256,
    Sha1,
}

impl Checksum {
    pub const ALL: [Checksum; 2] = [Checksum::Sha256, Checksum::Sha1];

    pub fn name(self) -> &'static str {
        match self {
            Checksum::Sha256 => "sha256",
            Checksum::Sha1 => "sha1",
        }
    }

    pub fn named(name: &str) -> Option<Checksum> {
        Checksum::ALL
            .into_iter()
            .find(|checksum| checksum.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The best algorithm in a `Tus-Checksum-Algorithm` list.
    pub fn choose(listed: &str) -> Option<Checksum> {
        let listed: Vec<Checksum> = listed.split(',').filter_map(Checksum::named).collect();
        Checksum::ALL
            .into_iter()
            .find(|checksum| listed.contains(checksum))
    }

    /// The algorithms as `Tus-Checksum-Algorithm` lists them.
    pub const LISTED: &str = "sha1,sha256";

    pub fn hasher(self) -> ChecksumHasher {
        match self {
            Checksum::Sha256 => ChecksumHasher::Sha256(sha2::Sha256::new()),
            Checksum::Sha1 => ChecksumHasher::Sha1(sha1::Sha1::new()),
        }
    }

    /// The value of `Upload-Checksum` for a digest.
    pub fn header_value(self, digest: &[u8]) -> String {
        format!("{} {}", self.name(), STANDARD.encode(digest))
    }
}

/// A running digest in one of the `Checksum` algorithms.
pub enum ChecksumHasher {
    Sha256(sha2::Sha256),
    Sha1(sha1::Sha1),
}

impl ChecksumHasher {
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            ChecksumHasher::Sha256(hasher) => hasher.update(bytes),
            ChecksumHasher::Sha1(hasher) => hasher.update(bytes),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            ChecksumHasher::Sha256(hasher) => hasher.finalize().to_vec(),
            ChecksumHasher::Sha1(hasher) => hasher.finalize().to_vec(),
        }
    }
}

/// `Upload-Checksum`: the algorithm as sent (lowercase) and the digest.
pub fn read_checksum(headers: &HeaderMap) -> Result<Option<(String, Vec<u8>)>, BadField> {
    const NAME: &str = "Upload-Checksum";
    let Some(value) = text(headers, NAME) else {
        return Ok(None);
    };
    let (algorithm, encoded) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| BadField::new(NAME, "expected `<algorithm> <base64 digest>`"))?;
    let digest = STANDARD
        .decode(encoded.trim())
        .map_err(|_| BadField::new(NAME, "the digest is not base64"))?;
    Ok(Some((algorithm.to_ascii_lowercase(), digest)))
}

/// `Upload-Metadata` as a map of raw values; a key without a value maps to
/// nothing. Values are bytes, not text: a file name that is not UTF-8 is
/// base64 of its exact bytes and stays that way.
pub fn read_metadata(headers: &HeaderMap) -> Result<BTreeMap<String, Vec<u8>>, BadField> {
    const NAME: &str = "Upload-Metadata";
    let mut metadata = BTreeMap::new();
    let Some(value) = text(headers, NAME) else {
        return Ok(metadata);
    };
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or_default();
        let decoded = match parts.next() {
            None => Vec::new(),
            Some(encoded) => STANDARD
                .decode(encoded)
                .map_err(|_| BadField::new(NAME, format!("the value of {key:?} is not base64")))?,
        };
        if parts.next().is_some() {
            return Err(BadField::new(NAME, format!("{pair:?} is not `key base64`")));
        }
        metadata.insert(key.to_owned(), decoded);
    }
    Ok(metadata)
}

pub fn write_metadata<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    pairs
        .into_iter()
        .map(|(key, value)| match value.is_empty() {
            true => key.to_owned(),
            false => format!("{key} {}", STANDARD.encode(value)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn metadata_round_trips_and_bad_values_are_named() {
        let mut h = HeaderMap::new();
        h.insert(
            "upload-metadata",
            HeaderValue::from_static("filename aW1nLmpwZw==,relativePath MjAyNC9pbWcuanBn,flag"),
        );
        let metadata = read_metadata(&h).unwrap();
        assert_eq!(metadata["filename"], b"img.jpg");
        assert_eq!(metadata["relativePath"], b"2024/img.jpg");
        assert_eq!(metadata["flag"], b"");
        let written = write_metadata(metadata.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
        h.insert("upload-metadata", HeaderValue::from_str(&written).unwrap());
        assert_eq!(read_metadata(&h).unwrap(), metadata);
        let latin1 = write_metadata([("filename", &b"caf\xe9.jpg"[..])]);
        assert_eq!(latin1, "filename Y2Fm6S5qcGc=");
        h.insert("upload-metadata", HeaderValue::from_str(&latin1).unwrap());
        assert_eq!(read_metadata(&h).unwrap()["filename"], b"caf\xe9.jpg");
        h.insert("upload-metadata", HeaderValue::from_static("filename !!!"));
        assert!(
            read_metadata(&h)
                .unwrap_err()
                .to_string()
                .contains("filename")
        );
    }

    #[test]
    fn checksum_prefers_sha256() {
        assert_eq!(
            Checksum::choose("md5, sha1, sha256"),
            Some(Checksum::Sha256)
        );
        assert_eq!(Checksum::choose("SHA1,crc32"), Some(Checksum::Sha1));
        assert_eq!(Checksum::choose("md5"), None);
        assert_eq!(Checksum::Sha1.header_value(&[0, 0, 0]), "sha1 AAAA");
    }
}
