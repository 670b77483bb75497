//! What counts as media, and what is junk.
//!
//! The lists are data, not logic: a case-insensitive extension table covering
//! phone and camera formats (RAW included), and the names that NAS boxes and
//! operating systems scatter through photo folders.

use crate::journal::job::MediaKind;

const IMAGES: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "heic", "heif", "hif", "png", "gif", "webp", "avif", "tif",
    "tiff", "bmp", "jxl", "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf",
    "orf", "rw2", "pef", "srw", "x3f", "3fr", "iiq", "rwl", "erf", "mrw", "dcr", "kdc", "raw",
];

const VIDEOS: &[&str] = &[
    "mp4", "mov", "m4v", "3gp", "3g2", "avi", "mkv", "mts", "m2ts", "m2t", "webm", "wmv", "mpg",
    "mpeg", "vob", "insv",
];

const AUDIO: &[&str] = &[
    "mp3", "m4a", "aac", "wav", "flac", "ogg", "opus", "aif", "aiff", "amr", "wma",
];

/// Files that describe a photo rather than hold it: kept only with `--sidecars`.
const SIDECARS: &[&str] = &["xmp", "aae", "thm"];

/// Names excluded by default, matched against each file or folder name
/// (`._*` is the AppleDouble prefix).
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "@eaDir",
    "@__thumb",
    "#recycle",
    ".DS_Store",
    "._*",
    "Thumbs.db",
    "desktop.ini",
    ".Trashes",
    "$RECYCLE.BIN",
];

/// The kind of a file by its extension, or `None` when it is not media.
pub fn kind_of(name: &[u8], sidecars: bool) -> Option<MediaKind> {
    let dot = name.iter().rposition(|&b| b == b'.')?;
    let extension = std::str::from_utf8(&name[dot + 1..])
        .ok()?
        .to_ascii_lowercase();
    let extension = extension.as_str();
    if IMAGES.contains(&extension) {
        Some(MediaKind::Image)
    } else if VIDEOS.contains(&extension) {
        Some(MediaKind::Video)
    } else if AUDIO.contains(&extension) {
        Some(MediaKind::Audio)
    } else if sidecars && SIDECARS.contains(&extension) {
        Some(MediaKind::Other)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_case_insensitive() {
        assert_eq!(kind_of(b"IMG_0001.HEIC", false), Some(MediaKind::Image));
        assert_eq!(kind_of(b"DSC01234.ARW", false), Some(MediaKind::Image));
        assert_eq!(kind_of(b"clip.Mts", false), Some(MediaKind::Video));
        assert_eq!(kind_of(b"memo.m4a", false), Some(MediaKind::Audio));
        assert_eq!(kind_of(b"notes.txt", false), None);
        assert_eq!(kind_of(b"noextension", false), None);
    }

    #[test]
    fn sidecars_only_when_asked() {
        assert_eq!(kind_of(b"IMG_0001.xmp", false), None);
        assert_eq!(kind_of(b"IMG_0001.XMP", true), Some(MediaKind::Other));
    }
}
