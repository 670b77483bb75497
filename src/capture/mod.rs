//! When a photo or video was taken, and how ferry knows.
//!
//! Read from the file's own headers, never its pixels or frames, in a
//! documented order of trust (README, "Capture dates"):
//! 1. an XMP sidecar's date, which users fix by hand;
//! 2. EXIF `DateTimeOriginal` (with its sub-seconds);
//! 3. EXIF `DateTimeDigitized`;
//! 4. QuickTime `com.apple.quicktime.creationdate`;
//! 5. `mvhd`'s creation time, UTC by the standard, shown in this machine's
//!    time zone (or read as local time with `--video-clock local`, for
//!    cameras that write it so);
//! 6. a date in the file name (`IMG_20240315_142233`);
//! 7. the file's modification time.
//!
//! Every date is the wall-clock time where the photo was taken, which is
//! what a folder by date means to the person who took it. A value before
//! 1990 or more than a day in the future is no date (cameras write zeros,
//! and QuickTime's epoch is 1904), and the next source is asked.

mod apple_makernote;
mod exif_date;
mod name_date;
mod quicktime;
mod tiff_date;
mod xmp_date;

use std::path::Path;

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use name_date::date_in_name;

/// Where a capture date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateSource {
    Xmp,
    Exif,
    Quicktime,
    Filename,
    Mtime,
}

impl DateSource {
    pub fn name(self) -> &'static str {
        match self {
            DateSource::Xmp => "xmp",
            DateSource::Exif => "exif",
            DateSource::Quicktime => "quicktime",
            DateSource::Filename => "filename",
            DateSource::Mtime => "mtime",
        }
    }
}

/// A capture date: the wall-clock time where it was taken, and its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taken {
    #[serde(with = "civil_text")]
    pub at: DateTime,
    pub from: DateSource,
    /// The instant (Unix seconds) `at` was shown from, when it came from
    /// a UTC clock (`mvhd`, the mtime): kept so that a cached date is
    /// shown again in the time zone and `--video-clock` of each run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc: Option<i64>,
    /// A Live Photo's pairing key: the photo's Apple MakerNote identifier
    /// or the video's `com.apple.quicktime.content.identifier`. Kept here
    /// so that a rescan pairs unchanged files without opening them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<ContentId>,
}

/// A content identifier, as 128 bits: Apple's are UUIDs, kept as they are;
/// any other text is known by the first 128 bits of its SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContentId(pub u128);

impl ContentId {
    pub fn of(text: &str) -> ContentId {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        match (hex.len(), u128::from_str_radix(&hex, 16)) {
            (32, Ok(value)) => ContentId(value),
            _ => {
                let digest = crate::digest::Sha256::of(text.as_bytes());
                let bytes: [u8; 16] = digest.0[..16].try_into().expect("16 of 32 bytes");
                ContentId(u128::from_be_bytes(bytes))
            }
        }
    }
}

impl Serialize for ContentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{:032x}", self.0))
    }
}

impl<'de> Deserialize<'de> for ContentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        u128::from_str_radix(&text, 16)
            .map(ContentId)
            .map_err(serde::de::Error::custom)
    }
}

/// Which headers a file has: a photo's EXIF, a movie's `moov`, or neither
/// (audio: its name and mtime only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Headers {
    Photo,
    Movie,
    Neither,
}

/// How a video's `mvhd` time is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VideoClock {
    /// UTC, as the standard says: converted to this machine's time zone.
    #[default]
    Utc,
    /// Already local time, as some cameras write it.
    Local,
}

/// Reads capture dates; one per thread, since it keeps nom-exif's buffer.
pub struct DateReader {
    parser: nom_exif::MediaParser,
    clock: VideoClock,
    zone: jiff::tz::TimeZone,
    latest: DateTime,
}

impl DateReader {
    pub fn new(clock: VideoClock) -> DateReader {
        let zone = jiff::tz::TimeZone::system();
        let now = jiff::Timestamp::now().to_zoned(zone.clone()).datetime();
        DateReader {
            parser: nom_exif::MediaParser::new(),
            clock,
            zone,
            latest: now.saturating_add(jiff::Span::new().days(1)),
        }
    }

    /// The capture date of `path`, a file with `kind` of headers modified
    /// at `mtime_ns`.
    pub fn read(&mut self, path: &Path, kind: Headers, mtime_ns: i64) -> Taken {
        let (in_headers, content_id) = self.date_in_headers(path, kind);
        let taken = in_headers
            .or_else(|| {
                let stem = path.file_stem()?.to_str()?;
                let at = date_in_name(stem).filter(|at| plausible(*at, self.latest))?;
                Some(Taken {
                    at,
                    from: DateSource::Filename,
                    utc: None,
                    content_id: None,
                })
            })
            .unwrap_or_else(|| self.from_mtime(mtime_ns));
        Taken {
            content_id: content_id.as_deref().map(ContentId::of),
            ..taken
        }
    }

    /// The date in the headers, and the content identifier beside it.
    fn date_in_headers(&mut self, path: &Path, kind: Headers) -> (Option<Taken>, Option<String>) {
        let taken = |at: Option<DateTime>, from| {
            Some(Taken {
                at: at?,
                from,
                utc: None,
                content_id: None,
            })
        };
        let latest = self.latest;
        let plausible = |at: Option<DateTime>| at.filter(|at| plausible(*at, latest));
        let sidecar = taken(plausible(xmp_date::sidecar_date(path)), DateSource::Xmp);
        match kind {
            Headers::Photo => {
                let dates = exif_date::exif_dates(&mut self.parser, path);
                let found = sidecar
                    .or_else(|| taken(plausible(dates.original), DateSource::Exif))
                    .or_else(|| taken(plausible(dates.digitized), DateSource::Exif));
                (found, dates.content_identifier)
            }
            Headers::Movie => {
                let facts = crate::digest::open_regular(path)
                    .and_then(|mut file| quicktime::read(&mut file))
                    .unwrap_or_default();
                let creation = facts
                    .creation_date
                    .as_deref()
                    .and_then(|text| text.get(..19)?.parse().ok());
                let mvhd = facts
                    .mvhd_seconds
                    .map(|seconds| self.mvhd_wall_clock(seconds));
                let mvhd = plausible(mvhd.flatten()).map(|at| Taken {
                    at,
                    from: DateSource::Quicktime,
                    utc: facts.mvhd_seconds,
                    content_id: None,
                });
                let found = sidecar
                    .or_else(|| taken(plausible(creation), DateSource::Quicktime))
                    .or(mvhd);
                (found, facts.content_identifier)
            }
            Headers::Neither => (sidecar, None),
        }
    }

    fn mvhd_wall_clock(&self, seconds: i64) -> Option<DateTime> {
        let at = jiff::Timestamp::from_second(seconds).ok()?;
        Some(match self.clock {
            VideoClock::Utc => at.to_zoned(self.zone.clone()).datetime(),
            VideoClock::Local => at.to_zoned(jiff::tz::TimeZone::UTC).datetime(),
        })
    }

    /// The modification time `mtime_ns` as a capture date, in this
    /// machine's time zone, to the second.
    pub fn from_mtime(&self, mtime_ns: i64) -> Taken {
        let seconds = mtime_ns.div_euclid(1_000_000_000);
        let at = jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        Taken {
            at: at.to_zoned(self.zone.clone()).datetime(),
            from: DateSource::Mtime,
            utc: Some(seconds),
            content_id: None,
        }
    }

    /// A date read by an earlier scan, shown as this run would read it: one
    /// from a UTC clock in this run's time zone and `--video-clock`.
    pub fn refresh(&self, taken: Taken) -> Taken {
        let Some(seconds) = taken.utc else {
            return taken;
        };
        let at = match taken.from {
            DateSource::Mtime => Some(self.from_mtime(seconds.saturating_mul(1_000_000_000)).at),
            _ => self.mvhd_wall_clock(seconds),
        };
        Taken {
            at: at.unwrap_or(taken.at),
            ..taken
        }
    }
}

/// After 1989, and at most `latest` (a day ahead of now).
fn plausible(at: DateTime, latest: DateTime) -> bool {
    at.year() >= 1990 && at <= latest
}

/// A civil date-time as ISO 8601 text without an offset.
mod civil_text {
    use jiff::civil::DateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(at)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
