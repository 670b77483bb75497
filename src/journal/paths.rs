//! Byte-exact paths in JSON.
//!
//! Media folders copied from old cameras and other systems hold names that are
//! not UTF-8. JSON strings can only carry Unicode, so a path that is valid UTF-8
//! is stored as a plain string (readable in the journal) and any other path as
//! `{"bytes": "<hex>"}` of its raw bytes. Both forms round-trip without loss.
//! `ferry serve` keeps its uploads' names and tus metadata the same way.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A path that survives a trip through the journal byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct JournalPath(PathBuf);

impl JournalPath {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(path.into())
    }

    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// A readable form for tables and messages (`Readable`).
    pub fn display(&self) -> impl fmt::Display + '_ {
        Readable(&self.0)
    }
}

/// A path for people: invalid bytes become U+FFFD, and control characters
/// (a newline, a tab, an escape) are shown escaped (`\n`, `\u{1b}`), so
/// that no file name can forge a line of ferry's output or log, or drive
/// the terminal.
pub struct Readable<'a>(pub &'a Path);

impl fmt::Display for Readable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.0.to_string_lossy()))
    }
}

/// `text` with its control characters escaped, as `Readable` shows a path:
/// for a message that may quote a file's name (an error's reason).
pub fn escape_controls(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c.is_control() {
            true => shown.extend(c.escape_default()),
            false => shown.push(c),
        }
    }
    shown
}

impl AsRef<Path> for JournalPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl From<PathBuf> for JournalPath {
    fn from(path: PathBuf) -> Self {
        Self(path)
    }
}

impl From<&str> for JournalPath {
    fn from(path: &str) -> Self {
        Self(PathBuf::from(path))
    }
}

impl JournalPath {
    /// A path from its raw bytes (a percent-decoded URL path, say).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(PathBuf::from(os_string(bytes)))
    }

    /// The path's raw bytes, as they go on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        os_bytes(self.0.as_os_str())
    }
}

/// Bytes that are nearly always text, such as a tus metadata value: a plain
/// JSON string when they are UTF-8, else `{"bytes": "<hex>"}`, like a path.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RawBytes(pub Vec<u8>);

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Encoded {
    Text(String),
    Raw { bytes: String },
}

impl Serialize for RawBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let encoded = match std::str::from_utf8(&self.0) {
            Ok(text) => Encoded::Text(text.to_owned()),
            Err(_) => Encoded::Raw {
                bytes: hex::encode(&self.0),
            },
        };
        encoded.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Encoded::deserialize(deserializer)? {
            Encoded::Text(text) => Ok(Self(text.into_bytes())),
            Encoded::Raw { bytes } => hex::decode(&bytes)
                .map(Self)
                .map_err(|_| serde::de::Error::custom("path bytes are not valid hex")),
        }
    }
}

impl Serialize for JournalPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawBytes(self.to_bytes()).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JournalPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawBytes::deserialize(deserializer).map(|raw| Self::from_bytes(raw.0))
    }
}

#[cfg(unix)]
fn os_bytes(os: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    os.as_bytes().to_vec()
}

#[cfg(unix)]
fn os_string(bytes: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes)
}

// Windows paths that are not valid UTF-16 are rare; they are stored lossily.
#[cfg(not(unix))]
fn os_bytes(os: &std::ffi::OsStr) -> Vec<u8> {
    os.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn os_string(bytes: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_paths_are_plain_strings() {
        let path = JournalPath::from("DCIM/100APPLE/IMG_0001.HEIC");
        let json = serde_json::to_string(&path).unwrap();
        assert_eq!(json, "\"DCIM/100APPLE/IMG_0001.HEIC\"");
        assert_eq!(serde_json::from_str::<JournalPath>(&json).unwrap(), path);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_round_trip_exactly() {
        let raw = b"caf\xe9/\xff\xfe photo.jpg".to_vec();
        let path = JournalPath::new(PathBuf::from(os_string(raw.clone())));
        let json = serde_json::to_string(&path).unwrap();
        assert!(json.contains("\"bytes\""), "{json}");
        let back: JournalPath = serde_json::from_str(&json).unwrap();
        assert_eq!(os_bytes(back.as_path().as_os_str()), raw);
    }

    #[test]
    fn bad_hex_is_refused() {
        assert!(serde_json::from_str::<JournalPath>(r#"{"bytes":"zz"}"#).is_err());
        assert!(serde_json::from_str::<JournalPath>(r#"{"bytes":"abc"}"#).is_err());
    }

    #[test]
    fn a_name_with_control_characters_is_shown_escaped() {
        let path = JournalPath::new("DCIM/new\nuploaded fake.jpg\t\u{1b}[31m.jpg");
        assert_eq!(
            path.display().to_string(),
            "DCIM/new\\nuploaded fake.jpg\\t\\u{1b}[31m.jpg"
        );
        assert_eq!(
            JournalPath::new("café.jpg").display().to_string(),
            "café.jpg"
        );
    }
}
