//! S3's vocabulary: `s3://` addresses, object keys, part sizes, checksums,
//! and the few XML documents a multipart upload reads and writes.
//!
//! Signing is `rusty-s3`'s (in `upload::protocols::s3`); this module holds
//! the facts both the uploader and `ferry probe` need. S3 answers in small,
//! flat XML documents, so values are read by element name rather than
//! through a schema: ListParts' `ChecksumSHA256`, which Garage lists and
//! moto does not, is simply absent when a store leaves it out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::utf8_escaped;
use crate::digest::Sha256;
use crate::journal::job::Part;

/// S3's smallest part, except the last (`EntityTooSmall` below it).
pub const MIN_PART: u64 = 5 << 20;
/// The most parts one upload may have.
pub const MAX_PARTS: u64 = 10_000;
/// The part size when nothing asks for larger, as the AWS CLI uses.
pub const DEFAULT_PART: u64 = 8 << 20;
/// Files from this size on go by multipart; smaller ones in one `PutObject`.
pub const MULTIPART_THRESHOLD: u64 = 16 << 20;
/// Metadata that carries the file's SHA-256 (hex), for dedupe and `verify`.
pub const META_SHA256: &str = "x-amz-meta-sha256";
pub const CHECKSUM_SHA256: &str = "x-amz-checksum-sha256";

/// A bucket and the key prefix (or key template) under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl S3Url {
    /// `s3://BUCKET/PREFIX/`; the prefix may be empty or hold `{path}`,
    /// `{name}` and `{sha256}`.
    pub fn parse(text: &str) -> Result<S3Url, String> {
        let rest = text
            .get(..5)
            .filter(|scheme| scheme.eq_ignore_ascii_case("s3://"))
            .map(|_| &text[5..])
            .ok_or_else(|| format!("{text:?} is not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c);
        if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
            return Err(format!(
                "{text:?}: {bucket:?} is not a bucket name (3 to 63 lowercase letters, digits, '.' or '-')"
            ));
        }
        Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The part of the prefix before any placeholder: where every key of
    /// this destination starts.
    pub fn fixed_prefix(&self) -> &str {
        &self.prefix[..self.prefix.find('{').unwrap_or(self.prefix.len())]
    }

    /// The object key for a file: the prefix plus its relative path, or the
    /// prefix as a template. Names are written as `wire::utf8_escaped` spells them.
    pub fn key(&self, path: &[u8], sha256: &Sha256) -> String {
        let path = utf8_escaped(path);
        let placeholders = ["{path}", "{name}", "{sha256}"];
        if !placeholders.iter().any(|p| self.prefix.contains(p)) {
            return format!("{}{path}", self.prefix);
        }
        let name = path.rsplit('/').next().unwrap_or(&path);
        self.prefix
            .replace("{path}", &path)
            .replace("{name}", name)
            .replace("{sha256}", &sha256.to_hex())
    }
}

/// The part size for a file: the largest of 8 MiB, the asked-for size and
/// what keeps the file within 10,000 parts, rounded up to a whole MiB.
pub fn part_size(file_size: u64, asked: Option<u64>) -> u64 {
    const MIB: u64 = 1 << 20;
    let fits = file_size.div_ceil(MAX_PARTS);
    let size = DEFAULT_PART.max(asked.unwrap_or(0)).max(fits);
    size.div_ceil(MIB) * MIB
}

/// The parts a file of `size` bytes splits into: (number, offset, length).
pub fn parts(size: u64, part_size: u64) -> Vec<(u32, u64, u64)> {
    (0..size.div_ceil(part_size).max(1))
        .map(|index| {
            let offset = index * part_size;
            (index as u32 + 1, offset, part_size.min(size - offset))
        })
        .collect()
}

/// `x-amz-checksum-sha256`'s value: the raw digest in base64.
pub fn checksum(sha256: &Sha256) -> String {
    STANDARD.encode(sha256.0)
}

/// An `<Error>` document, which S3 sends with an error status and, for
/// `CompleteMultipartUpload`, sometimes with 200.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Error {
    pub code: String,
    pub message: String,
}

impl S3Error {
    pub fn parse(body: &str) -> Option<S3Error> {
        let error = element(body, "Error")?;
        Some(S3Error {
            code: element(error, "Code").unwrap_or("").to_owned(),
            message: unescape(element(error, "Message").unwrap_or("")),
        })
    }
}

/// The text inside the first `<tag>…</tag>` (attributes allowed).
pub fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    elements(xml, tag).next()
}

/// The text inside each `<tag>…</tag>`, in order.
pub fn elements<'a>(xml: &'a str, tag: &str) -> impl Iterator<Item = &'a str> + use<'a> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = xml;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find(&open)?;
            let after = &rest[start + open.len()..];
            // `<Part>` must not match `<PartNumber>`.
            if !after.starts_with(['>', ' ']) {
                rest = after;
                continue;
            }
            let body = &after[after.find('>')? + 1..];
            let end = body.find(&close)?;
            rest = &body[end + close.len()..];
            return Some(&body[..end]);
        }
    })
}

/// The five XML entities, which ETags (`&quot;`) and messages carry.
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A part as `ListParts` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedPart {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    /// `ChecksumSHA256`, when the store lists it (Garage does, moto not).
    pub sha256: Option<String>,
}

/// One page of `ListParts`: its parts, and the marker for the next page.
pub fn parse_parts(xml: &str) -> Result<(Vec<ListedPart>, Option<u32>), String> {
    let mut parts = Vec::new();
    for part in elements(xml, "Part") {
        let number = element(part, "PartNumber").and_then(|n| n.trim().parse().ok());
        let size = element(part, "Size").and_then(|n| n.trim().parse().ok());
        let (Some(number), Some(size)) = (number, size) else {
            return Err("a ListParts <Part> without a PartNumber or Size".to_owned());
        };
        parts.push(ListedPart {
            number,
            size,
            etag: unescape(element(part, "ETag").unwrap_or("")),
            sha256: element(part, "ChecksumSHA256").map(str::to_owned),
        });
    }
    let truncated = element(xml, "IsTruncated").is_some_and(|t| t.trim() == "true");
    let next = element(xml, "NextPartNumberMarker").and_then(|n| n.trim().parse().ok());
    Ok((parts, next.filter(|_| truncated)))
}

/// `CompleteMultipartUpload`'s body: every part, ascending, with its ETag
/// and SHA-256.
pub fn complete_body(parts: &[Part]) -> String {
    let mut sorted: Vec<&Part> = parts.iter().collect();
    sorted.sort_by_key(|part| part.number);
    let mut body = String::from("<CompleteMultipartUpload>");
    for part in sorted {
        body.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag><ChecksumSHA256>{}</ChecksumSHA256></Part>",
            part.number,
            escape(&part.etag),
            checksum(&part.sha256)
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(byte: u8) -> Sha256 {
        Sha256([byte; 32])
    }

    #[test]
    fn urls_keys_and_templates() {
        let url = S3Url::parse("s3://photos/2026/").unwrap();
        assert_eq!(url.bucket, "photos");
        assert_eq!(url.key(b"DCIM/IMG_1.JPG", &sha(1)), "2026/DCIM/IMG_1.JPG");
        assert_eq!(S3Url::parse("S3://b-1.x").unwrap().prefix, "");
        assert!(S3Url::parse("s3://Photos/").is_err());
        assert!(S3Url::parse("http://photos/").is_err());
        let template = S3Url::parse("s3://photos/by-hash/{sha256}-{name}").unwrap();
        assert_eq!(
            template.key(b"a/b.jpg", &sha(0)),
            format!("by-hash/{}-b.jpg", "00".repeat(32))
        );
    }

    #[test]
    fn names_that_are_not_utf8_get_reversible_distinct_keys() {
        assert_eq!(utf8_escaped(b"caf\xe9.jpg"), "caf%E9.jpg");
        assert_eq!(utf8_escaped("café.jpg".as_bytes()), "café.jpg");
        // A literal "%E9" cannot be mistaken for the byte.
        assert_eq!(utf8_escaped(b"caf%E9.jpg"), "caf%25E9.jpg");
        let decoded: Vec<u8> = percent_encoding::percent_decode_str("caf%E9.jpg").collect();
        assert_eq!(decoded, b"caf\xe9.jpg");
    }

    #[test]
    fn part_sizes_follow_the_limits() {
        assert_eq!(part_size(1 << 30, None), 8 << 20);
        assert_eq!(part_size(1 << 30, Some(20 << 20)), 20 << 20);
        assert_eq!(part_size(1 << 30, Some((10 << 20) + 1)), 11 << 20);
        // 100 GiB: 10,000 parts of 8 MiB are too few.
        let big = 100u64 << 30;
        let size = part_size(big, None);
        assert!(big.div_ceil(size) <= MAX_PARTS && size.is_multiple_of(1 << 20));
        let split = parts(20 << 20, 8 << 20);
        assert_eq!(
            split,
            vec![
                (1, 0, 8 << 20),
                (2, 8 << 20, 8 << 20),
                (3, 16 << 20, 4 << 20)
            ]
        );
    }

    #[test]
    fn list_parts_errors_and_complete() {
        let page = r#"<?xml version="1.0"?><ListPartsResult><IsTruncated>true</IsTruncated>
            <NextPartNumberMarker>2</NextPartNumberMarker>
            <Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag><Size>5</Size>
            <ChecksumSHA256>AAA=</ChecksumSHA256></Part>
            <Part><PartNumber>2</PartNumber><ETag>"def"</ETag><Size>7</Size></Part>
            </ListPartsResult>"#;
        let (parts, next) = parse_parts(page).unwrap();
        assert_eq!(next, Some(2));
        assert_eq!(parts[0].etag, "\"abc\"");
        assert_eq!(parts[0].sha256.as_deref(), Some("AAA="));
        assert_eq!(parts[1].sha256, None);
        let error = S3Error::parse(
            "<Error><Code>SlowDown</Code><Message>Please reduce &amp; retry</Message></Error>",
        )
        .unwrap();
        assert_eq!(error.code, "SlowDown");
        assert_eq!(error.message, "Please reduce & retry");
        let body = complete_body(&[
            Part {
                number: 2,
                size: 1,
                sha256: sha(2),
                etag: "\"b\"".to_owned(),
            },
            Part {
                number: 1,
                size: 1,
                sha256: sha(1),
                etag: "\"a\"".to_owned(),
            },
        ]);
        assert!(body.find("<PartNumber>1").unwrap() < body.find("<PartNumber>2").unwrap());
        assert!(body.contains("<ETag>&quot;a&quot;</ETag>"), "{body}");
    }
}
