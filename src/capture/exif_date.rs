//! EXIF dates of a photo, through nom-exif, which reads only the
//! metadata of JPEG, HEIC/HEIF, PNG, TIFF-based RAWs (DNG, NEF, ARW,
//! CR2...), CR3 and RAF, without decoding or reading the image; ferry's
//! own TIFF reader (`tiff_date`) for the RAWs nom-exif refuses.

use std::path::Path;

use jiff::civil::DateTime;
use nom_exif::{EntryValue, ExifDateTime, ExifTag, IfdIndex, MediaParser, MediaSource, TagOrCode};

/// `DateTimeOriginal` (with its sub-seconds) and `DateTimeDigitized`
/// (`CreateDate`), as the wall-clock time the camera wrote.
#[derive(Debug, Default)]
pub struct ExifDates {
    pub original: Option<DateTime>,
    pub digitized: Option<DateTime>,
    /// An iPhone's Live Photo identifier, from its Apple MakerNote.
    pub content_identifier: Option<String>,
}

/// The EXIF dates of `path`; none when it has no EXIF or is not an image.
/// nom-exif first, then ferry's own TIFF reader for the RAWs it refuses.
pub fn exif_dates(parser: &mut MediaParser, path: &Path) -> ExifDates {
    let dates = nom_exif_dates(parser, path);
    if dates.original.is_some() || dates.digitized.is_some() {
        return dates;
    }
    let found = crate::digest::open_regular(path)
        .and_then(|file| super::tiff_date::read(&mut std::io::BufReader::new(file)));
    let Ok(found) = found else {
        return dates;
    };
    let original = found.original.as_deref().and_then(exif_text);
    ExifDates {
        original: match (original, found.sub_seconds.as_deref().and_then(digits)) {
            (Some(at), Some(digits)) => Some(with_fraction(at, digits)),
            (at, _) => at,
        },
        digitized: found.digitized.as_deref().and_then(exif_text),
        content_identifier: dates.content_identifier,
    }
}

/// EXIF's `2024:03:15 14:22:33`.
fn exif_text(text: &str) -> Option<DateTime> {
    // Also what some software writes instead: `2024-03-15T14:22:33`, an
    // offset after the time, or no seconds.
    let text = text.trim().trim_end_matches('\0');
    let date = text.get(..10)?.replace(':', "-");
    let time = text.get(11..)?;
    let time = time.get(..8).filter(|t| t.as_bytes().get(5) == Some(&b':'));
    let time = match time {
        Some(time) => time.to_owned(),
        None => format!("{}:00", text.get(11..16)?),
    };
    format!("{date}T{time}").parse().ok()
}

/// Sub-seconds as digits only.
fn digits(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

/// nom-exif on the file's first `PREFIX` bytes, held in memory: a photo's
/// EXIF sits at its start (a JPEG's APP1, at most 64 KiB, first or after
/// its APP0), and a
/// crafted file of millions of tiny segments then costs a bounded parse,
/// not one that grows with its size. Formats whose boxes may point past
/// the prefix (HEIF, CR3, RAF, the TIFF RAWs) are read whole when the
/// prefix had no date.
fn nom_exif_dates(parser: &mut MediaParser, path: &Path) -> ExifDates {
    let Ok(mut file) = crate::digest::open_regular(path) else {
        return ExifDates::default();
    };
    let mut prefix = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, PREFIX), &mut prefix).is_err()
    {
        return ExifDates::default();
    }
    let whole = prefix.len() < PREFIX as usize;
    let found = MediaSource::from_memory(prefix)
        .map(|source| parse(parser, source))
        .unwrap_or_default();
    if whole || found.original.is_some() || found.digitized.is_some() || !boxed(path) {
        return found;
    }
    MediaSource::open(path)
        .map(|source| parse(parser, source))
        .unwrap_or_default()
}

/// Bytes of a photo parsed from memory first.
const PREFIX: u64 = 256 << 10;

/// Whether `path` names a format whose metadata may sit past its prefix.
fn boxed(path: &Path) -> bool {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        extension.as_str(),
        "heic"
            | "heif"
            | "hif"
            | "avif"
            | "cr3"
            | "raf"
            | "dng"
            | "nef"
            | "nrw"
            | "arw"
            | "cr2"
            | "orf"
            | "rw2"
            | "pef"
            | "srw"
            | "tif"
            | "tiff"
    )
}

/// nom-exif's dates of one source. A panic inside it (third-party code on
/// hostile input) is a file without a date, not a scan that stops.
fn parse<R: std::io::Read>(parser: &mut MediaParser, source: MediaSource<R>) -> ExifDates {
    if source.kind() != nom_exif::MediaKind::Image {
        return ExifDates::default();
    }
    // Entries are parsed one at a time; the walk stops once the three
    // dates are found (the MakerNote, tag 0x927c, comes before the last,
    // 0x9291, in the EXIF IFD's sorted order), or when it leaves the main
    // image's IFDs (IFD0 and the EXIF IFD) for the thumbnail's.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut found: [Option<EntryValue>; 4] = [None, None, None, None];
        for entry in parser.parse_exif(source).ok()? {
            if entry.ifd() != IfdIndex::MAIN {
                break;
            }
            let slot = match entry.tag() {
                TagOrCode::Tag(ExifTag::DateTimeOriginal) => 0,
                TagOrCode::Tag(ExifTag::CreateDate) => 1,
                TagOrCode::Tag(ExifTag::SubSecTimeOriginal) => 2,
                TagOrCode::Tag(ExifTag::MakerNote) => 3,
                _ => continue,
            };
            found[slot] = entry.into_result().ok();
            if found[..3].iter().all(Option::is_some) {
                break;
            }
        }
        Some(found)
    }));
    let [original, digitized, sub_seconds, maker_note] = match parsed {
        Ok(Some(found)) => found,
        Ok(None) => return ExifDates::default(),
        Err(_) => {
            // Its buffer may be in any state: start a new one.
            *parser = MediaParser::new();
            return ExifDates::default();
        }
    };
    let sub_seconds = sub_seconds
        .as_ref()
        .and_then(EntryValue::as_str)
        .and_then(digits);
    ExifDates {
        original: wall_clock(original.as_ref()).map(|at| match sub_seconds {
            Some(digits) => with_fraction(at, digits),
            None => at,
        }),
        digitized: wall_clock(digitized.as_ref()),
        content_identifier: match maker_note {
            Some(EntryValue::Undefined(bytes) | EntryValue::U8Array(bytes)) => {
                super::apple_makernote::content_identifier(&bytes)
            }
            _ => None,
        },
    }
}

/// The time as the camera's clock showed it: an offset, when the camera
/// wrote one, tells where that was, not a time to convert to.
fn wall_clock(value: Option<&EntryValue>) -> Option<DateTime> {
    let value = value?;
    let naive = match value.as_datetime() {
        Some(ExifDateTime::Aware(at)) => at.naive_local(),
        Some(ExifDateTime::Naive(at)) => at,
        // Text nom-exif could not read as a date.
        None => return value.as_str().and_then(exif_text),
    };
    naive.format("%Y-%m-%dT%H:%M:%S").to_string().parse().ok()
}

/// `at` with `digits` of a second (`SubSecTimeOriginal`: "25" is 0.25 s).
fn with_fraction(at: DateTime, digits: &str) -> DateTime {
    let digits = &digits[..digits.len().min(9)];
    let nanos: i32 = format!("{digits:0<9}").parse().unwrap_or(0);
    at.with().subsec_nanosecond(nanos).build().unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Canon.jpg's EXIF behind `junk` APP15 segments of 64 KiB each.
    fn behind_junk(dir: &Path, junk: usize) -> std::path::PathBuf {
        let canon = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/cameras/Canon.jpg"
        );
        let canon = std::fs::read(canon).unwrap();
        let mut bytes = canon[..2].to_vec();
        for _ in 0..junk {
            bytes.extend_from_slice(&[0xff, 0xef, 0xff, 0xff]);
            bytes.extend(std::iter::repeat_n(0u8, 0xfffd));
        }
        bytes.extend_from_slice(&canon[2..]);
        let path = dir.join(format!("junk{junk}.jpg"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn date_text_as_other_software_writes_it() {
        for (text, wanted) in [
            ("2024:03:15 14:22:33", "2024-03-15T14:22:33"),
            ("2024:03:15 14:22:33+02:00", "2024-03-15T14:22:33"),
            ("2024-03-15T14:22:33", "2024-03-15T14:22:33"),
            ("2024:03:15 14:22", "2024-03-15T14:22:00"),
        ] {
            assert_eq!(
                exif_text(text).map(|d| d.to_string()).as_deref(),
                Some(wanted),
                "{text}"
            );
        }
        for text in [
            "0000:00:00 00:00:00",
            "2024:03:15 25:00:00",
            "    :  :     :  :  ",
            "",
        ] {
            assert_eq!(exif_text(text), None, "{text}");
        }
    }

    #[test]
    fn sub_seconds_are_kept() {
        let pixel = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/cameras/Google.jpg"
        );
        let dates = exif_dates(&mut MediaParser::new(), Path::new(pixel));
        // exiftool: DateTimeOriginal 2023:10:06 22:53:51, SubSecTimeOriginal 724.
        assert_eq!(
            dates.original.unwrap().to_string(),
            "2023-10-06T22:53:51.724"
        );
    }

    #[test]
    fn a_jpeg_is_parsed_within_its_first_256_kib_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut parser = MediaParser::new();
        let near = exif_dates(&mut parser, &behind_junk(dir.path(), 2));
        assert_eq!(near.original.unwrap().to_string(), "2003-12-04T06:46:52");
        // Past the first 256 KiB: a crafted file's cost is bounded, so no date.
        let far = exif_dates(&mut parser, &behind_junk(dir.path(), 5));
        assert!(far.original.is_none() && far.digitized.is_none());
    }
}
