//! Byte-exact paths in JSON.
//!
//! Media folders copied from old cameras and other systems hold names that are
//! not UTF-8. JSON strings can only carry Unicode, so a path that is valid UTF-8
//! is stored as a plain string (readable in the journal) and any other path as
//! `{"bytes": "<hex>"}` of its raw bytes. Both forms round-trip without loss.

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

    /// A readable form for tables and messages: invalid bytes become U+FFFD.
    pub fn display(&self) -> impl fmt::Display + '_ {
        self.0.display()
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

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Encoded {
    Text(String),
    Raw { bytes: String },
}

impl Serialize for JournalPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let encoded = match self.0.to_str() {
            Some(text) => Encoded::Text(text.to_owned()),
            None => Encoded::Raw {
                bytes: hex::encode(os_bytes(self.0.as_os_str())),
            },
        };
        encoded.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JournalPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Encoded::deserialize(deserializer)? {
            Encoded::Text(text) => Ok(Self(PathBuf::from(text))),
            Encoded::Raw { bytes } => {
                let raw = hex::decode(&bytes)
                    .map_err(|_| serde::de::Error::custom("path bytes are not valid hex"))?;
                Ok(Self(PathBuf::from(os_string(raw))))
            }
        }
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
}
