//! Parsing and writing the header fields both resumable protocols use.
//!
//! The IETF draft's fields are Structured Fields (RFC 9651), but ferry only
//! needs three shapes of them (a boolean, a non-negative integer, a digest
//! dictionary), so this is a small strict parser for those shapes rather than
//! a general one. tus's `Upload-Metadata` and `Upload-Checksum` live here too.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// A header's value as text, if it is there and readable.
pub fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The media type of `Content-Type`, lowercase and without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    text(headers, "Content-Type").map(|value| bare_item(value).to_ascii_lowercase())
}

/// A bad header, named in the one-line error the client gets.
#[derive(Debug, thiserror::Error)]
#[error("header {name}: {problem}")]
pub struct BadField {
    pub name: &'static str,
    pub problem: String,
}

fn bad(name: &'static str, problem: impl Into<String>) -> BadField {
    BadField {
        name,
        problem: problem.into(),
    }
}

/// Drops structured-field parameters (`?1;foo=bar` -> `?1`).
fn bare_item(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}

/// A Structured Field boolean (`?0` or `?1`).
pub fn boolean(headers: &HeaderMap, name: &'static str) -> Result<Option<bool>, BadField> {
    let Some(value) = text(headers, name) else {
        return Ok(None);
    };
    match bare_item(value) {
        "?1" => Ok(Some(true)),
        "?0" => Ok(Some(false)),
        other => Err(bad(name, format!("{other:?} is not ?0 or ?1"))),
    }
}

/// A non-negative integer: a Structured Field integer, or tus's plain decimal.
pub fn integer(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, BadField> {
    let Some(value) = text(headers, name) else {
        return Ok(None);
    };
    let digits = bare_item(value);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            name,
            format!("{digits:?} is not a non-negative integer"),
        ));
    }
    Ok(Some(digits.parse().expect("checked digits")))
}

/// The `sha-256` member of a `Repr-Digest` or `Content-Digest` dictionary,
/// as lowercase hex. Other algorithms are ignored, as RFC 9530 allows.
pub fn sha256_digest(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, BadField> {
    let Some(value) = text(headers, name) else {
        return Ok(None);
    };
    for member in value.split(',') {
        let Some((key, item)) = member.split_once('=') else {
            continue;
        };
        if key.trim() != "sha-256" {
            continue;
        }
        let bytes = bare_item(item)
            .strip_prefix(':')
            .and_then(|rest| rest.strip_suffix(':'))
            .and_then(|inner| STANDARD.decode(inner).ok())
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| bad(name, "sha-256 is not :base64 of 32 bytes:"))?;
        return Ok(Some(crate::digest::hex(&bytes)));
    }
    Ok(None)
}

/// A `Repr-Digest` value for a hex SHA-256.
pub fn repr_digest(sha256_hex: &str) -> String {
    format!(
        "sha-256=:{}:",
        STANDARD.encode(crate::digest::unhex(sha256_hex))
    )
}

/// tus `Upload-Metadata`: `key base64,key2 base64,key3`.
pub fn parse_metadata(headers: &HeaderMap) -> Result<BTreeMap<String, String>, BadField> {
    const NAME: &str = "Upload-Metadata";
    let mut metadata = BTreeMap::new();
    let Some(value) = text(headers, NAME) else {
        return Ok(metadata);
    };
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.split(' ').filter(|p| !p.is_empty());
        let key = parts.next().unwrap_or_default();
        let decoded = match parts.next() {
            None => String::new(),
            Some(encoded) => STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| bad(NAME, format!("the value of {key:?} is not base64 of UTF-8")))?,
        };
        if parts.next().is_some() {
            return Err(bad(NAME, format!("{pair:?} is not `key base64`")));
        }
        metadata.insert(key.to_owned(), decoded);
    }
    Ok(metadata)
}

pub fn encode_metadata(metadata: &BTreeMap<String, String>) -> String {
    metadata
        .iter()
        .map(|(key, value)| match value.is_empty() {
            true => key.clone(),
            false => format!("{key} {}", STANDARD.encode(value)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// tus `Upload-Checksum: <algorithm> <base64 digest>`.
pub fn tus_checksum(headers: &HeaderMap) -> Result<Option<(String, Vec<u8>)>, BadField> {
    const NAME: &str = "Upload-Checksum";
    let Some(value) = text(headers, NAME) else {
        return Ok(None);
    };
    let (algorithm, encoded) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| bad(NAME, "expected `<algorithm> <base64 digest>`"))?;
    let digest = STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad(NAME, "the digest is not base64"))?;
    Ok(Some((algorithm.to_ascii_lowercase(), digest)))
}

/// The file name a `Content-Disposition` header carries (`filename*` wins).
pub fn disposition_filename(headers: &HeaderMap) -> Option<String> {
    let value = text(headers, "Content-Disposition")?;
    let mut plain = None;
    for parameter in value.split(';').skip(1) {
        let Some((key, raw)) = parameter.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let encoded = raw.trim().split_once("''").map(|(_, rest)| rest)?;
                return percent_encoding::percent_decode_str(encoded)
                    .decode_utf8()
                    .ok()
                    .map(|name| name.into_owned());
            }
            "filename" => plain = Some(raw.trim().trim_matches('"').to_owned()),
            _ => {}
        }
    }
    plain
}

/// Characters left as they are in a path sent back in a header.
const PATH_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A relative path as a header value (percent-encoded UTF-8).
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH_SAFE).to_string()
}

/// A path's raw bytes percent-encoded the same way (names that are not
/// UTF-8 travel as they are and the receiver decides).
pub fn encode_path_bytes(path: &[u8]) -> String {
    percent_encoding::percent_encode(path, PATH_SAFE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn structured_booleans_integers_and_digests() {
        let h = headers(&[
            ("upload-complete", "?1;x=1"),
            ("upload-offset", "123"),
            ("upload-length", "-1"),
            (
                "repr-digest",
                "sha-512=:AAAA:, sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
            ),
        ]);
        assert_eq!(boolean(&h, "upload-complete").unwrap(), Some(true));
        assert_eq!(boolean(&h, "upload-incomplete").unwrap(), None);
        assert_eq!(integer(&h, "upload-offset").unwrap(), Some(123));
        assert!(integer(&h, "upload-length").is_err());
        assert_eq!(
            sha256_digest(&h, "repr-digest").unwrap().unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            repr_digest("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
        );
    }

    #[test]
    fn tus_metadata_round_trips_and_bad_values_are_named() {
        let h = headers(&[(
            "upload-metadata",
            "filename aW1nLmpwZw==,relativePath MjAyNC9pbWcuanBn,flag",
        )]);
        let metadata = parse_metadata(&h).unwrap();
        assert_eq!(metadata["filename"], "img.jpg");
        assert_eq!(metadata["relativePath"], "2024/img.jpg");
        assert_eq!(metadata["flag"], "");
        let again = headers(&[("upload-metadata", &encode_metadata(&metadata))]);
        assert_eq!(parse_metadata(&again).unwrap(), metadata);
        let broken = headers(&[("upload-metadata", "filename !!!")]);
        assert!(
            parse_metadata(&broken)
                .unwrap_err()
                .to_string()
                .contains("filename")
        );
    }

    #[test]
    fn disposition_names_and_header_paths() {
        let h = headers(&[(
            "content-disposition",
            "inline; filename=\"a b.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9.jpg",
        )]);
        assert_eq!(disposition_filename(&h).unwrap(), "été.jpg");
        let h = headers(&[("content-disposition", "inline; filename=\"a b.jpg\"")]);
        assert_eq!(disposition_filename(&h).unwrap(), "a b.jpg");
        assert_eq!(
            encode_path("2024/été (1).jpg"),
            "2024/%C3%A9t%C3%A9%20%281%29.jpg"
        );
    }
}
