//! The HTTP vocabulary that the client (`upload`) and the receiver (`serve`)
//! share: header fields, their parsing and writing, and protocol facts.
//!
//! Both sides import this module and never each other, so a fact such as
//! "interop versions 3, 5, 6, 7 and 8" or "`?1;x` means complete" is written
//! once and both ends agree by construction. It depends on the `http` types
//! only, not on reqwest or hyper, which both re-export them.

pub mod bits;
pub mod fields;
pub mod ietf;
pub mod s3;
pub mod tus;

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// A header's value as text, if it is there and readable.
pub fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The media type of `Content-Type`, lowercase and without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = text(headers, "Content-Type")?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// A bad header, named in the one-line error the client gets.
#[derive(Debug, thiserror::Error)]
#[error("header {name}: {problem}")]
pub struct BadField {
    pub name: &'static str,
    pub problem: String,
}

impl BadField {
    pub fn new(name: &'static str, problem: impl Into<String>) -> BadField {
        BadField {
            name,
            problem: problem.into(),
        }
    }
}

/// The start of a header as someone typed it (`Name: value`), safe to show
/// in an error: the characters a field name may hold (RFC 9110 `tchar`), up
/// to the first it may not (a space, a colon, `=`). Nothing of a value is
/// ever echoed, not even a misplaced one (`Authorization Bearer user:pass`).
pub fn typed_header_name(text: &str) -> &str {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let text = text.trim_start();
    &text[..text.find(|c: char| !tchar(c)).unwrap_or(text.len())]
}

/// Characters left as they are in a path sent in a URL or header.
const PATH_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A relative path as a header value or URL path (percent-encoded UTF-8).
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH_SAFE).to_string()
}

/// A path's raw bytes percent-encoded the same way (names that are not
/// UTF-8 travel as they are and the receiver decides).
pub fn encode_path_bytes(path: &[u8]) -> String {
    percent_encoding::percent_encode(path, PATH_SAFE).to_string()
}

/// The URL for one file from a destination URL that may be a template:
/// `{path}`, `{name}` and `{sha256}` are filled in, and a URL without any of
/// them gets the file's relative path appended. Path and name come
/// percent-encoded (`encode_path`, `encode_path_bytes`).
pub fn file_url(
    template: &str,
    encoded_path: &str,
    encoded_name: &str,
    sha256: &crate::digest::Sha256,
) -> String {
    let placeholders = ["{path}", "{name}", "{sha256}"];
    if !placeholders.iter().any(|p| template.contains(p)) {
        return format!("{}/{encoded_path}", template.trim_end_matches('/'));
    }
    template
        .replace("{path}", encoded_path)
        .replace("{name}", &encoded_name.replace('/', "%2F"))
        .replace("{sha256}", &sha256.to_hex())
}

/// `Content-Disposition` naming a file by its percent-encoded path.
pub fn write_disposition(encoded_path: &str) -> String {
    format!("attachment; filename*=UTF-8''{encoded_path}")
}

/// The file name a `Content-Disposition` header carries (`filename*` wins),
/// as raw bytes: ferry percent-encodes a name that is not UTF-8 byte for
/// byte, and the bytes are kept as they are.
pub fn disposition_filename(headers: &HeaderMap) -> Option<Vec<u8>> {
    let value = text(headers, "Content-Disposition")?;
    let mut plain = None;
    for parameter in value.split(';').skip(1) {
        let Some((key, raw)) = parameter.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let encoded = raw.trim().split_once("''").map(|(_, rest)| rest)?;
                return Some(percent_encoding::percent_decode_str(encoded).collect());
            }
            "filename" => plain = Some(raw.trim().trim_matches('"').as_bytes().to_vec()),
            _ => {}
        }
    }
    plain
}

/// Headers from name-value pairs, for the tests of both sides.
/// A name as UTF-8, for a peer that takes nothing else (S3 keys, a foreign
/// tus server's metadata): `%` becomes `%25` and each byte that is not
/// UTF-8 becomes `%XX`, so percent-decoding gives back the exact name and no
/// two names share a spelling.
pub fn utf8_escaped(name: &[u8]) -> String {
    let mut key = String::with_capacity(name.len());
    for chunk in name.utf8_chunks() {
        key.push_str(&chunk.valid().replace('%', "%25"));
        for byte in chunk.invalid() {
            key.push_str(&format!("%{byte:02X}"));
        }
    }
    key
}

#[cfg(test)]
pub fn test_headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, http::HeaderValue::from_str(value).unwrap());
    }
    map
}

/// The folder `ferry serve` keeps its state in, inside the folder it
/// receives into: the server makes it, and a sync that clears files knows
/// a server's store by it (`upload::own_copy`).
pub const SERVE_STATE_DIR: &str = ".ferry-uploads";

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn disposition_names_and_header_paths() {
        let mut h = HeaderMap::new();
        h.insert(
            "content-disposition",
            HeaderValue::from_static(
                "inline; filename=\"a b.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9.jpg",
            ),
        );
        assert_eq!(disposition_filename(&h).unwrap(), "été.jpg".as_bytes());
        h.insert(
            "content-disposition",
            HeaderValue::from_static("inline; filename=\"a b.jpg\""),
        );
        assert_eq!(disposition_filename(&h).unwrap(), b"a b.jpg");
        let encoded = encode_path("2024/été (1).jpg");
        assert_eq!(encoded, "2024/%C3%A9t%C3%A9%20%281%29.jpg");
        h.insert(
            "content-disposition",
            HeaderValue::from_str(&write_disposition(&encoded)).unwrap(),
        );
        assert_eq!(
            disposition_filename(&h).unwrap(),
            "2024/été (1).jpg".as_bytes()
        );
        assert_eq!(encode_path_bytes(b"caf\xe9.jpg"), "caf%E9.jpg");
        h.insert(
            "content-disposition",
            HeaderValue::from_str(&write_disposition("caf%E9.jpg")).unwrap(),
        );
        assert_eq!(disposition_filename(&h).unwrap(), b"caf\xe9.jpg");
        assert_eq!(
            typed_header_name("Authorization Bearer user:pass"),
            "Authorization"
        );
        assert_eq!(typed_header_name(" X-Key=s3cret: x"), "X-Key");
        assert_eq!(typed_header_name("X-Api-Key: k"), "X-Api-Key");
    }
}
