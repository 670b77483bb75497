//! Structured Fields (RFC 9651) as the resumable-upload headers use them.
//!
//! Parsing and writing go through the `sfv` crate, so both ends read a field
//! the same way: `?1;x` is true to the client and to the server alike, and a
//! value the RFC refuses is refused whole rather than half-read. Only the
//! shapes the protocols need are exposed: a boolean, a non-negative integer
//! (which tus's plain decimals also are), the `sha-256` member of a digest
//! dictionary (`Repr-Digest`, `Content-Digest`, RFC 9530) and `Upload-Limit`.

use http::HeaderMap;
use sfv::{BareItem, Dictionary, Item, KeyRef, ListEntry, Parser};

use super::{BadField, text};
use crate::digest::Sha256;

fn item(value: &str) -> Option<BareItem> {
    Parser::new(value)
        .parse::<Item>()
        .ok()
        .map(|item| item.bare_item)
}

fn dictionary(value: &str) -> Option<Dictionary> {
    Parser::new(value).parse::<Dictionary>().ok()
}

/// A boolean (`?0` or `?1`, parameters allowed and ignored).
pub fn boolean(headers: &HeaderMap, name: &'static str) -> Result<Option<bool>, BadField> {
    let Some(value) = text(headers, name) else {
        return Ok(None);
    };
    match item(value) {
        Some(BareItem::Boolean(flag)) => Ok(Some(flag)),
        _ => Err(BadField::new(
            name,
            format!("{:?} is not ?0 or ?1", value.trim()),
        )),
    }
}

/// A non-negative integer: a Structured Field integer, or tus's plain decimal.
pub fn integer(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, BadField> {
    let Some(value) = text(headers, name) else {
        return Ok(None);
    };
    match item(value) {
        Some(BareItem::Integer(number)) => match u64::try_from(i64::from(number)) {
            Ok(number) => Ok(Some(number)),
            Err(_) => Err(not_a_count(name, value)),
        },
        _ => Err(not_a_count(name, value)),
    }
}

fn not_a_count(name: &'static str, value: &str) -> BadField {
    BadField::new(
        name,
        format!("{:?} is not a non-negative integer", value.trim()),
    )
}

/// A boolean written as a field value.
pub fn write_boolean(flag: bool) -> String {
    sfv::ItemSerializer::new().bare_item(flag).finish()
}

/// The `sha-256` member of a `Repr-Digest` or `Content-Digest` dictionary.
/// Other algorithms are ignored, as RFC 9530 allows.
pub fn sha256_digest(headers: &HeaderMap, name: &'static str) -> Result<Option<Sha256>, BadField> {
    let Some(value) = text(headers, name) else {
        return Ok(None);
    };
    let members = dictionary(value)
        .ok_or_else(|| BadField::new(name, "not a Structured Field dictionary"))?;
    let Some(member) = members.get("sha-256") else {
        return Ok(None);
    };
    match member {
        ListEntry::Item(Item {
            bare_item: BareItem::ByteSequence(bytes),
            ..
        }) => Sha256::from_slice(bytes)
            .map(Some)
            .ok_or_else(|| BadField::new(name, "sha-256 is not :base64 of 32 bytes:")),
        _ => Err(BadField::new(name, "sha-256 is not :base64 of 32 bytes:")),
    }
}

/// A `Repr-Digest` (or `Content-Digest`) value carrying a SHA-256.
pub fn write_sha256_digest(sha256: &Sha256) -> String {
    let mut members = sfv::DictSerializer::new();
    members.bare_item(key("sha-256"), sha256.as_bytes().as_slice());
    members.finish().unwrap_or_default()
}

fn key(name: &'static str) -> &'static KeyRef {
    KeyRef::from_str(name).expect("a lowercase key")
}

/// `Upload-Limit` (IETF draft): what the server accepts. Unknown keys and a
/// field that does not parse are ignored, as the draft asks of clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadLimit {
    pub max_size: Option<u64>,
    pub min_size: Option<u64>,
    pub max_append_size: Option<u64>,
    pub min_append_size: Option<u64>,
    /// Seconds the upload may live; written as `max-age`, or as `expires` for
    /// interop 6 (`wire::ietf::Interop::age_key`).
    pub max_age: Option<u64>,
}

const LIMIT_KEYS: [&str; 4] = ["max-size", "min-size", "max-append-size", "min-append-size"];

impl UploadLimit {
    pub fn read(headers: &HeaderMap) -> UploadLimit {
        let mut limit = UploadLimit::default();
        let Some(members) = text(headers, "Upload-Limit").and_then(dictionary) else {
            return limit;
        };
        let number = |name: &str| match members.get(name) {
            Some(ListEntry::Item(Item {
                bare_item: BareItem::Integer(number),
                ..
            })) => u64::try_from(i64::from(*number)).ok(),
            _ => None,
        };
        limit.max_size = number("max-size");
        limit.min_size = number("min-size");
        limit.max_append_size = number("max-append-size");
        limit.min_append_size = number("min-append-size");
        limit.max_age = number("max-age").or_else(|| number("expires"));
        limit
    }

    /// The field value, with the lifetime under `age_key`.
    pub fn write(&self, age_key: &'static str) -> String {
        let values = [
            self.max_size,
            self.min_size,
            self.max_append_size,
            self.min_append_size,
        ];
        let mut members = sfv::DictSerializer::new();
        for (name, value) in LIMIT_KEYS.into_iter().zip(values) {
            if let Some(value) = value.and_then(|v| sfv::Integer::try_from(v).ok()) {
                members.bare_item(key(name), value);
            }
        }
        if let Some(age) = self.max_age.and_then(|v| sfv::Integer::try_from(v).ok()) {
            members.bare_item(key(age_key), age);
        }
        members.finish().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_headers as headers;

    #[test]
    fn booleans_integers_and_digests() {
        let h = headers(&[
            ("upload-complete", "?1;x"),
            ("upload-incomplete", "?0;x=1"),
            ("upload-offset", "123"),
            ("upload-length", "-1"),
            ("content-length", "12 34"),
            (
                "repr-digest",
                "sha-512=:AAAA:, sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
            ),
        ]);
        assert_eq!(boolean(&h, "upload-complete").unwrap(), Some(true));
        assert_eq!(boolean(&h, "upload-incomplete").unwrap(), Some(false));
        assert_eq!(boolean(&h, "upload-draft-interop-version").unwrap(), None);
        assert!(boolean(&h, "upload-offset").is_err());
        assert_eq!(integer(&h, "upload-offset").unwrap(), Some(123));
        assert!(integer(&h, "upload-length").is_err());
        assert!(integer(&h, "content-length").is_err());
        let empty = Sha256::of(b"");
        assert_eq!(sha256_digest(&h, "repr-digest").unwrap(), Some(empty));
        assert_eq!(
            write_sha256_digest(&empty),
            "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
        );
        assert_eq!(write_boolean(true), "?1");
        let short = headers(&[("repr-digest", "sha-256=:AAAA:")]);
        assert!(sha256_digest(&short, "repr-digest").is_err());
        let other = headers(&[("repr-digest", "sha-512=:AAAA:")]);
        assert_eq!(sha256_digest(&other, "repr-digest").unwrap(), None);
    }

    #[test]
    fn upload_limit_round_trips() {
        let limit = UploadLimit {
            max_size: Some(1000),
            min_size: Some(1),
            max_append_size: Some(100),
            min_append_size: None,
            max_age: Some(60),
        };
        let text = limit.write("max-age");
        assert_eq!(
            text,
            "max-size=1000, min-size=1, max-append-size=100, max-age=60"
        );
        assert_eq!(
            UploadLimit::read(&headers(&[("upload-limit", &text)])),
            limit
        );
        let expires = limit.write("expires");
        assert!(expires.ends_with("expires=60"), "{expires}");
        assert_eq!(
            UploadLimit::read(&headers(&[("upload-limit", &expires)])),
            limit
        );
        let junk = headers(&[("upload-limit", "max-size=\"big\", max-append-size=5;x")]);
        assert_eq!(
            UploadLimit::read(&junk),
            UploadLimit {
                max_append_size: Some(5),
                ..UploadLimit::default()
            }
        );
        assert_eq!(
            UploadLimit::read(&headers(&[("upload-limit", ",,,")])),
            UploadLimit::default()
        );
    }
}
