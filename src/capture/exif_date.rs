//! EXIF dates of a photo, through nom-exif, which reads only the
//! metadata of JPEG, HEIC/HEIF, PNG, TIFF-based RAWs (DNG, NEF, ARW,
//! CR2...), CR3 and RAF, without decoding or reading the image; ferry's
//! own TIFF reader (`tiff_date`) for the RAWs nom-exif refuses.

use std::path::Path;

use jiff::civil::DateTime;
use nom_exif::{EntryValue, Exif, ExifDateTime, ExifTag, MediaParser, MediaSource};

/// `DateTimeOriginal` (with its sub-seconds) and `DateTimeDigitized`
/// (`CreateDate`), as the wall-clock time the camera wrote.
#[derive(Debug, Default)]
pub struct ExifDates {
    pub original: Option<DateTime>,
    pub digitized: Option<DateTime>,
}

/// The EXIF dates of `path`; none when it has no EXIF or is not an image.
/// nom-exif first, then ferry's own TIFF reader for the RAWs it refuses.
pub fn exif_dates(parser: &mut MediaParser, path: &Path) -> ExifDates {
    let dates = nom_exif_dates(parser, path);
    if dates.original.is_some() || dates.digitized.is_some() {
        return dates;
    }
    let found = std::fs::File::open(path)
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
    }
}

/// EXIF's `2024:03:15 14:22:33`.
fn exif_text(text: &str) -> Option<DateTime> {
    let (date, time) = text.split_once(' ')?;
    format!("{}T{}", date.replace(':', "-"), time.get(..8)?)
        .parse()
        .ok()
}

/// Sub-seconds as digits only.
fn digits(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

fn nom_exif_dates(parser: &mut MediaParser, path: &Path) -> ExifDates {
    let Ok(source) = MediaSource::open(path) else {
        return ExifDates::default();
    };
    if source.kind() != nom_exif::MediaKind::Image {
        return ExifDates::default();
    }
    let Ok(iter) = parser.parse_exif(source) else {
        return ExifDates::default();
    };
    let exif: Exif = iter.into();
    let sub_seconds = exif
        .get(ExifTag::SubSecTimeOriginal)
        .and_then(EntryValue::as_str)
        .and_then(digits);
    ExifDates {
        original: wall_clock(exif.get(ExifTag::DateTimeOriginal)).map(|at| match sub_seconds {
            Some(digits) => with_fraction(at, digits),
            None => at,
        }),
        digitized: wall_clock(exif.get(ExifTag::CreateDate)),
    }
}

/// The time as the camera's clock showed it: an offset, when the camera
/// wrote one, tells where that was, not a time to convert to.
fn wall_clock(value: Option<&EntryValue>) -> Option<DateTime> {
    let naive = match value?.as_datetime()? {
        ExifDateTime::Aware(at) => at.naive_local(),
        ExifDateTime::Naive(at) => at,
    };
    naive.format("%Y-%m-%dT%H:%M:%S").to_string().parse().ok()
}

/// `at` with `digits` of a second (`SubSecTimeOriginal`: "25" is 0.25 s).
fn with_fraction(at: DateTime, digits: &str) -> DateTime {
    let digits = &digits[..digits.len().min(9)];
    let nanos: i32 = format!("{digits:0<9}").parse().unwrap_or(0);
    at.with().subsec_nanosecond(nanos).build().unwrap_or(at)
}
