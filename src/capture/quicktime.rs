//! The dates and identifiers in a QuickTime or MP4 file's `moov` atom,
//! read without reading the media: the top-level atoms are stepped over by
//! their sizes, and only `moov` (kilobytes, wherever it sits) is read.
//!
//! nom-exif merges `com.apple.quicktime.creationdate` (local time with its
//! offset) and `mvhd` (UTC) into one value and drops the Live Photo
//! identifier, so this small reader keeps them apart: the first is the
//! wall-clock time where the video was taken, the second needs a time zone.

use std::io::{Read, Seek, SeekFrom};

/// The most of a `moov` atom read; a bigger one is not a camera's.
const MOOV_LIMIT: u64 = 64 << 20;
/// Top-level atoms stepped over looking for `moov`, at most: a camera's
/// file has a handful; a file of millions of tiny atoms is not a movie.
const MAX_ATOMS: usize = 1024;
/// Seconds from 1904-01-01 (QuickTime's epoch) to 1970-01-01.
const EPOCH_1904: i64 = 2_082_844_800;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct QuickTimeFacts {
    /// `com.apple.quicktime.creationdate`, as written (ISO 8601 with offset).
    pub creation_date: Option<String>,
    /// `com.apple.quicktime.content.identifier`: a Live Photo's pairing key.
    pub content_identifier: Option<String>,
    /// `mvhd`'s creation time, Unix seconds (UTC by the standard); `None`
    /// when zero (no date).
    pub mvhd_seconds: Option<i64>,
}

/// Reads the facts of the QuickTime/MP4 file `file` (unbuffered: each
/// atom costs one small read, wherever it is).
pub fn read(file: &mut (impl Read + Seek)) -> std::io::Result<QuickTimeFacts> {
    let end = file.seek(SeekFrom::End(0))?;
    let mut at = 0;
    for _ in 0..MAX_ATOMS {
        if at + 8 > end {
            break;
        }
        file.seek(SeekFrom::Start(at))?;
        let (kind, header, size) = atom_header(file, end - at)?;
        if kind == *b"moov" {
            if size - header > MOOV_LIMIT {
                break;
            }
            let mut moov = vec![0; (size - header) as usize];
            file.read_exact(&mut moov)?;
            return Ok(facts_of_moov(&moov));
        }
        at += size;
    }
    Ok(QuickTimeFacts::default())
}

/// An atom's type, header length and whole size (to `left` when 0).
fn atom_header(file: &mut impl Read, left: u64) -> std::io::Result<([u8; 4], u64, u64)> {
    let mut head = [0; 8];
    file.read_exact(&mut head)?;
    let kind: [u8; 4] = head[4..8].try_into().expect("4 bytes");
    let (header, size) = match u32::from_be_bytes(head[0..4].try_into().expect("4 bytes")) {
        0 => (8, left),
        1 => {
            let mut large = [0; 8];
            file.read_exact(&mut large)?;
            (16, u64::from_be_bytes(large))
        }
        size => (8, u64::from(size)),
    };
    if size < header || size > left {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "an atom's size runs past the file",
        ));
    }
    Ok((kind, header, size))
}

/// The children of an atom's body: (type, body).
fn children(mut body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        if body.len() < 8 {
            return None;
        }
        let size = u32::from_be_bytes(body[0..4].try_into().ok()?) as usize;
        let kind: [u8; 4] = body[4..8].try_into().ok()?;
        let (header, size) = match size {
            0 => (8, body.len()),
            1 if body.len() >= 16 => (
                16,
                usize::try_from(u64::from_be_bytes(body[8..16].try_into().ok()?)).ok()?,
            ),
            size => (8, size),
        };
        if size < header || size > body.len() {
            return None;
        }
        let child = &body[header..size];
        body = &body[size..];
        Some((kind, child))
    })
}

fn facts_of_moov(moov: &[u8]) -> QuickTimeFacts {
    let mut facts = QuickTimeFacts::default();
    for (kind, body) in children(moov) {
        match &kind {
            b"mvhd" => facts.mvhd_seconds = mvhd_seconds(body),
            b"meta" => read_meta(body, &mut facts),
            b"udta" => {
                for (kind, body) in children(body) {
                    if &kind == b"meta" {
                        read_meta(body, &mut facts);
                    }
                }
            }
            _ => {}
        }
    }
    facts
}

fn mvhd_seconds(body: &[u8]) -> Option<i64> {
    let seconds = match body.first()? {
        0 => u64::from(u32::from_be_bytes(body.get(4..8)?.try_into().ok()?)),
        1 => u64::from_be_bytes(body.get(4..12)?.try_into().ok()?),
        _ => return None,
    };
    (seconds != 0).then(|| i64::try_from(seconds).ok().map(|s| s - EPOCH_1904))?
}

/// A `meta` atom's `keys` and `ilst`: the named values QuickTime keeps.
fn read_meta(body: &[u8], facts: &mut QuickTimeFacts) {
    // QuickTime's `meta` is a plain atom; MP4's is a full box (4 bytes of
    // version and flags before its children).
    let body = match body.get(4..8) {
        Some(b"hdlr") | Some(b"keys") | Some(b"ilst") => body,
        _ => body.get(4..).unwrap_or(&[]),
    };
    let mut keys: Vec<&[u8]> = Vec::new();
    for (kind, child) in children(body) {
        match &kind {
            b"keys" => keys = read_keys(child),
            b"ilst" => {
                for (index, item) in children(child) {
                    let index = u32::from_be_bytes(index) as usize;
                    let Some(key) = index.checked_sub(1).and_then(|i| keys.get(i)) else {
                        continue;
                    };
                    let Some(text) = item_text(item) else {
                        continue;
                    };
                    match *key {
                        b"com.apple.quicktime.creationdate" => facts.creation_date = Some(text),
                        b"com.apple.quicktime.content.identifier" => {
                            facts.content_identifier = Some(text)
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn read_keys(body: &[u8]) -> Vec<&[u8]> {
    let Some(mut rest) = body.get(8..) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    while rest.len() >= 8 {
        let size = u32::from_be_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
        if size < 8 || size > rest.len() {
            break;
        }
        keys.push(&rest[8..size]);
        rest = &rest[size..];
    }
    keys
}

/// The UTF-8 text of an `ilst` item's `data` atom.
fn item_text(item: &[u8]) -> Option<String> {
    let (_, data) = children(item).find(|(kind, _)| kind == b"data")?;
    // Type indicator (1 = UTF-8), then the locale, then the value.
    if data.get(0..4)? != [0, 0, 0, 1] {
        return None;
    }
    String::from_utf8(data.get(8..)?.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn apple_movie(creation: &str, identifier: &str, mvhd: u32) -> Vec<u8> {
        let mut mvhd_body = vec![0u8; 4];
        mvhd_body.extend_from_slice(&mvhd.to_be_bytes());
        mvhd_body.extend_from_slice(&[0; 92]);
        let mut keys = vec![0u8; 4];
        keys.extend_from_slice(&2u32.to_be_bytes());
        for name in [
            "com.apple.quicktime.content.identifier",
            "com.apple.quicktime.creationdate",
        ] {
            let mut entry = ((name.len() + 8) as u32).to_be_bytes().to_vec();
            entry.extend_from_slice(b"mdta");
            entry.extend_from_slice(name.as_bytes());
            keys.extend(entry);
        }
        let data = |text: &str| {
            let mut body = vec![0, 0, 0, 1, 0, 0, 0, 0];
            body.extend_from_slice(text.as_bytes());
            atom(b"data", &body)
        };
        let mut ilst = atom(&1u32.to_be_bytes(), &data(identifier));
        ilst.extend(atom(&2u32.to_be_bytes(), &data(creation)));
        let mut meta = atom(b"hdlr", &[0; 24]);
        meta.extend(atom(b"keys", &keys));
        meta.extend(atom(b"ilst", &ilst));
        let mut moov = atom(b"mvhd", &mvhd_body);
        moov.extend(atom(b"meta", &meta));
        let mut file = atom(b"ftyp", b"qt  \0\0\0\0qt  ");
        file.extend(atom(b"mdat", &[7; 1000]));
        file.extend(atom(b"moov", &moov));
        file
    }

    #[test]
    fn reads_apple_keys_and_mvhd_after_the_media() {
        let bytes = apple_movie(
            "2024-03-15T14:22:33+0100",
            "6F2E3C1A-0000-4000-8000-000000000001",
            3_793_620_153,
        );
        let facts = read(&mut std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(
            facts.creation_date.as_deref(),
            Some("2024-03-15T14:22:33+0100")
        );
        assert_eq!(
            facts.content_identifier.as_deref(),
            Some("6F2E3C1A-0000-4000-8000-000000000001")
        );
        assert_eq!(facts.mvhd_seconds, Some(3_793_620_153 - EPOCH_1904));
    }

    #[test]
    fn a_zero_mvhd_is_no_date_and_a_truncated_file_is_an_error_not_a_panic() {
        let bytes = apple_movie("x", "y", 0);
        let facts = read(&mut std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(facts.mvhd_seconds, None);
        let cut = bytes[..bytes.len() - 10].to_vec();
        assert!(read(&mut std::io::Cursor::new(cut)).is_err());
        assert_eq!(
            read(&mut std::io::Cursor::new(b"not a movie at all".to_vec())).ok(),
            None
        );
    }

    #[test]
    fn a_file_of_tiny_atoms_is_given_up_on_after_max_atoms() {
        let movie = apple_movie("2024-03-15T14:22:33+0100", "x", 0);
        let mut padded = Vec::new();
        for _ in 0..MAX_ATOMS {
            padded.extend(atom(b"free", &[]));
        }
        padded.extend(&movie);
        let facts = read(&mut std::io::Cursor::new(padded)).unwrap();
        assert_eq!(facts, QuickTimeFacts::default());
        // One atom fewer, and the movie's facts are found.
        let mut padded = Vec::new();
        for _ in 0..MAX_ATOMS - 3 {
            padded.extend(atom(b"free", &[]));
        }
        padded.extend(&movie);
        let facts = read(&mut std::io::Cursor::new(padded)).unwrap();
        assert!(facts.creation_date.is_some());
    }
}
