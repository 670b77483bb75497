//! The IETF resumable uploads draft's vocabulary, for every interop version.
//!
//! Client and server both take their version facts from `Interop`, so the
//! list of versions and what differs between them is written once:
//! - 3 (draft -01) says `Upload-Incomplete: ?1` where later ones say
//!   `Upload-Complete: ?0`;
//! - 6 and later (drafts -04 on) type appends `application/partial-upload`
//!   and announce `Upload-Limit`, whose lifetime key is `expires` in 6 and
//!   `max-age` from 7 on.

use http::HeaderMap;

use super::{BadField, fields};

/// Every interop version ferry speaks, oldest first.
pub const INTEROP_VERSIONS: [u8; 5] = [3, 5, 6, 7, 8];
/// The version used when none is configured (and assumed for a request
/// that names none).
pub const DEFAULT_INTEROP: u8 = 8;

pub const INTEROP_HEADER: &str = "Upload-Draft-Interop-Version";
pub const PARTIAL_UPLOAD: &str = "application/partial-upload";

/// The versions as people read them: "3, 5, 6, 7, 8".
pub fn listed() -> String {
    INTEROP_VERSIONS
        .map(|version| version.to_string())
        .join(", ")
}

/// The versions in a sentence: "3, 5, 6, 7 and 8".
fn listed_in_words() -> String {
    let (last, rest) = INTEROP_VERSIONS.split_last().expect("versions");
    let rest: Vec<String> = rest.iter().map(u8::to_string).collect();
    format!("{} and {last}", rest.join(", "))
}

/// One interop version; only the versions in `INTEROP_VERSIONS` exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interop(u8);

impl Default for Interop {
    fn default() -> Interop {
        Interop(DEFAULT_INTEROP)
    }
}

/// Why a request's IETF fields cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    #[error("Upload-Draft-Interop-Version {0} is not supported; this server speaks {versions}", versions = listed_in_words())]
    Unsupported(u64),
    #[error(transparent)]
    Bad(#[from] BadField),
}

impl Interop {
    pub fn new(version: u8) -> Option<Interop> {
        INTEROP_VERSIONS
            .contains(&version)
            .then_some(Interop(version))
    }

    /// The version a request speaks; `None` when it speaks no IETF at all.
    pub fn of(headers: &HeaderMap) -> Result<Option<Interop>, InteropError> {
        match fields::integer(headers, INTEROP_HEADER)? {
            Some(version) => u8::try_from(version)
                .ok()
                .and_then(Interop::new)
                .map(Some)
                .ok_or(InteropError::Unsupported(version)),
            None if headers.contains_key("Upload-Incomplete") => Ok(Some(Interop(3))),
            None if headers.contains_key("Upload-Complete") => Ok(Some(Interop::default())),
            None => Ok(None),
        }
    }

    pub fn version(self) -> u8 {
        self.0
    }

    /// `Upload-Complete`, or `Upload-Incomplete` in version 3.
    pub fn complete_field(self) -> &'static str {
        match self.0 {
            3 => "Upload-Incomplete",
            _ => "Upload-Complete",
        }
    }

    /// Whether the fields say the upload is complete; `None` when absent.
    pub fn read_complete(self, headers: &HeaderMap) -> Result<Option<bool>, BadField> {
        let flag = fields::boolean(headers, self.complete_field())?;
        Ok(flag.map(|flag| flag != (self.0 == 3)))
    }

    /// The value of `complete_field` that says `complete`.
    pub fn complete_value(self, complete: bool) -> String {
        fields::write_boolean(complete != (self.0 == 3))
    }

    /// From version 6 on, appends are typed and limits are announced.
    pub fn announces_limits(self) -> bool {
        self.0 >= 6
    }

    /// The `Upload-Limit` key for the upload's remaining lifetime.
    pub fn age_key(self) -> &'static str {
        if self.0 == 6 { "expires" } else { "max-age" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_headers as headers;

    #[test]
    fn versions_and_completeness() {
        assert_eq!(Interop::new(4), None);
        assert_eq!(listed(), "3, 5, 6, 7, 8");
        assert_eq!(listed_in_words(), "3, 5, 6, 7 and 8");
        let v3 = Interop::new(3).unwrap();
        let v8 = Interop::default();
        assert_eq!(v3.complete_value(true), "?0");
        assert_eq!(v8.complete_value(true), "?1");
        let h = headers(&[("upload-complete", "?1;x"), ("upload-incomplete", "?1")]);
        assert_eq!(v8.read_complete(&h).unwrap(), Some(true));
        assert_eq!(v3.read_complete(&h).unwrap(), Some(false));
        let asked = headers(&[(INTEROP_HEADER, "6")]);
        assert_eq!(Interop::of(&asked).unwrap(), Interop::new(6));
        let unknown = headers(&[(INTEROP_HEADER, "4")]);
        assert!(matches!(
            Interop::of(&unknown),
            Err(InteropError::Unsupported(4))
        ));
        assert_eq!(Interop::of(&HeaderMap::new()).unwrap(), None);
    }
}
