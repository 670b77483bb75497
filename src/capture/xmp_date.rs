//! The date in an XMP sidecar (`IMG_1234.xmp` or `IMG_1234.HEIC.xmp`),
//! which photo editors write and users fix by hand: it wins over the
//! file's own headers.
//!
//! XMP is RDF in XML, with each property either an attribute
//! (`exif:DateTimeOriginal="…"`) or an element (`<exif:DateTimeOriginal>…`).
//! Only the date properties are looked for, as text, which is all a
//! sidecar's few kilobytes need; the value is the wall-clock time as
//! written, its offset left aside.

use std::path::{Path, PathBuf};

use jiff::civil::DateTime;

/// Sidecars read, at most: a bigger file is not one.
const SIDECAR_LIMIT: u64 = 1 << 20;
/// The properties that hold when a photo was taken, in order of trust.
const PROPERTIES: &[&str] = &[
    "exif:DateTimeOriginal",
    "photoshop:DateCreated",
    "xmp:CreateDate",
];

/// The sidecar files that may belong to `path`: the name with `.xmp`
/// added, or its extension replaced, in either case.
pub fn sidecars_of(path: &Path) -> Vec<PathBuf> {
    let mut names = Vec::new();
    for extension in ["xmp", "XMP"] {
        let mut added = path.as_os_str().to_owned();
        added.push(".");
        added.push(extension);
        names.push(PathBuf::from(added));
        names.push(path.with_extension(extension));
    }
    names
}

/// The capture date in the first sidecar of `path` that has one.
pub fn sidecar_date(path: &Path) -> Option<DateTime> {
    sidecars_of(path).iter().find_map(|sidecar| {
        let meta = std::fs::metadata(sidecar).ok()?;
        if !meta.is_file() || meta.len() > SIDECAR_LIMIT {
            return None;
        }
        date_in_xmp(&String::from_utf8_lossy(&std::fs::read(sidecar).ok()?))
    })
}

/// The first date property in an XMP packet.
pub fn date_in_xmp(text: &str) -> Option<DateTime> {
    PROPERTIES.iter().find_map(|property| {
        let openings = [
            format!("{property}=\""),
            format!("{property}='"),
            format!("<{property}>"),
        ];
        let value = openings.iter().find_map(|opening| {
            let start = text.find(opening.as_str())? + opening.len();
            let end = text[start..].find(['"', '\'', '<'])? + start;
            Some(&text[start..end])
        })?;
        parse_xmp_date(value.trim())
    })
}

/// `YYYY-MM-DDThh:mm:ss` with optional fractions and offset; the date
/// alone or without seconds as XMP allows.
fn parse_xmp_date(value: &str) -> Option<DateTime> {
    let date = value.get(..10)?;
    let time = match value[10..].strip_prefix('T') {
        // The wall-clock time ends where its offset starts.
        Some(rest) => rest.split(['+', '-', 'Z']).next()?,
        None if value.len() == 10 => "00:00:00",
        None => return None,
    };
    let time = match time.len() {
        5 => format!("{time}:00"),
        _ => time.to_owned(),
    };
    format!("{date}T{time}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_elements_in_order_of_trust() {
        let attribute = r#"<rdf:Description xmp:CreateDate="2020-01-01T00:00:00"
            exif:DateTimeOriginal="2024-03-15T14:22:33.25+01:00"/>"#;
        assert_eq!(
            date_in_xmp(attribute).unwrap().to_string(),
            "2024-03-15T14:22:33.25"
        );
        let element = "<photoshop:DateCreated>2023-07-01T09:05-05:00</photoshop:DateCreated>";
        assert_eq!(
            date_in_xmp(element).unwrap().to_string(),
            "2023-07-01T09:05:00"
        );
        assert_eq!(
            date_in_xmp(r#"xmp:CreateDate="2019-12-24""#)
                .unwrap()
                .to_string(),
            "2019-12-24T00:00:00"
        );
        assert_eq!(
            date_in_xmp("exif:DateTimeOriginal='2022-02-02T02:02:02'")
                .unwrap()
                .to_string(),
            "2022-02-02T02:02:02"
        );
        assert_eq!(date_in_xmp(r#"xmp:Rating="5""#), None);
        assert_eq!(date_in_xmp(r#"exif:DateTimeOriginal="garbage""#), None);
    }

    #[test]
    fn sidecar_names_beside_a_photo() {
        let names = sidecars_of(Path::new("/card/IMG_1234.HEIC"));
        assert!(names.contains(&PathBuf::from("/card/IMG_1234.HEIC.xmp")));
        assert!(names.contains(&PathBuf::from("/card/IMG_1234.xmp")));
        assert!(names.contains(&PathBuf::from("/card/IMG_1234.XMP")));
    }
}
