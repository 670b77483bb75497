//! The Live Photo identifier in an iPhone photo's Apple MakerNote.
//!
//! nom-exif hands over the MakerNote (EXIF tag 0x927c) as bytes and reads
//! none of it. Apple's is a small TIFF-style directory: the header
//! `Apple iOS\0`, a version (2 bytes), a byte order (`MM` or `II`), then
//! one IFD whose offsets count from the MakerNote's first byte. Tag 0x0011
//! (exiftool's `MediaGroupUUID`) holds the same text as the paired video's
//! `com.apple.quicktime.content.identifier`. Only that entry is read, and
//! every offset is checked against the bytes at hand.

const HEADER: &[u8] = b"Apple iOS\0";
const CONTENT_IDENTIFIER: u16 = 0x0011;
const ASCII: u16 = 2;
/// Entries looked at, at most: Apple's directories have a few dozen.
const MAX_ENTRIES: usize = 256;

/// The content identifier in an Apple MakerNote, when `note` is one and
/// holds it.
pub fn content_identifier(note: &[u8]) -> Option<String> {
    if !note.starts_with(HEADER) {
        return None;
    }
    let big_endian = match note.get(12..14)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| {
        let bytes: [u8; 2] = note.get(at..at + 2)?.try_into().ok()?;
        Some(match big_endian {
            true => u16::from_be_bytes(bytes),
            false => u16::from_le_bytes(bytes),
        })
    };
    let u32_at = |at: usize| {
        let bytes: [u8; 4] = note.get(at..at + 4)?.try_into().ok()?;
        Some(match big_endian {
            true => u32::from_be_bytes(bytes),
            false => u32::from_le_bytes(bytes),
        })
    };
    let entries = usize::from(u16_at(14)?).min(MAX_ENTRIES);
    for index in 0..entries {
        let entry = 16 + index * 12;
        if u16_at(entry)? != CONTENT_IDENTIFIER {
            continue;
        }
        if u16_at(entry + 2)? != ASCII {
            return None;
        }
        let count = u32_at(entry + 4)? as usize;
        let value = match count {
            0..=4 => note.get(entry + 8..entry + 8 + count)?,
            _ => {
                let offset = u32_at(entry + 8)? as usize;
                note.get(offset..offset.checked_add(count)?)?
            }
        };
        let text = std::str::from_utf8(value)
            .ok()?
            .trim_end_matches('\0')
            .trim();
        return (!text.is_empty()).then(|| text.to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Apple MakerNote with `entries` (tag, type, count, value or offset)
    /// and `data` after the directory, `MM` or `II`.
    fn note(big_endian: bool, entries: &[(u16, u16, u32, u32)], data: &[u8]) -> Vec<u8> {
        let u16b = |v: u16| match big_endian {
            true => v.to_be_bytes(),
            false => v.to_le_bytes(),
        };
        let u32b = |v: u32| match big_endian {
            true => v.to_be_bytes(),
            false => v.to_le_bytes(),
        };
        let mut out = HEADER.to_vec();
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(if big_endian { b"MM" } else { b"II" });
        out.extend_from_slice(&u16b(entries.len() as u16));
        for &(tag, kind, count, value) in entries {
            out.extend_from_slice(&u16b(tag));
            out.extend_from_slice(&u16b(kind));
            out.extend_from_slice(&u32b(count));
            out.extend_from_slice(&u32b(value));
        }
        out.extend_from_slice(&u32b(0));
        out.extend_from_slice(data);
        out
    }

    const ID: &[u8] = b"6C4A3F0E-1B2D-4E5F-8A9B-0C1D2E3F4A5B\0";

    #[test]
    fn reads_the_identifier_in_either_byte_order_after_other_entries() {
        for big_endian in [true, false] {
            let offset = 14 + 2 + 2 * 12 + 4;
            let entries = [
                (0x0001, 9, 1, 14),
                (CONTENT_IDENTIFIER, ASCII, ID.len() as u32, offset),
            ];
            let bytes = note(big_endian, &entries, ID);
            assert_eq!(
                content_identifier(&bytes).as_deref(),
                Some("6C4A3F0E-1B2D-4E5F-8A9B-0C1D2E3F4A5B")
            );
        }
    }

    #[test]
    fn other_notes_offsets_past_the_end_and_wrong_types_give_none() {
        assert_eq!(content_identifier(b"Nikon\0\x02\x10\0\0MM\0*"), None);
        let past = note(true, &[(CONTENT_IDENTIFIER, ASCII, 37, 4000)], ID);
        assert_eq!(content_identifier(&past), None);
        let huge = note(true, &[(CONTENT_IDENTIFIER, ASCII, u32::MAX, 40)], ID);
        assert_eq!(content_identifier(&huge), None);
        let number = note(true, &[(CONTENT_IDENTIFIER, 4, 1, 7)], &[]);
        assert_eq!(content_identifier(&number), None);
        let cut = note(true, &[(CONTENT_IDENTIFIER, ASCII, 37, 44)], ID);
        assert_eq!(content_identifier(&cut[..30]), None);
    }
}
