//! Where a file lands at its destination: `--layout TEMPLATE`.
//!
//! A template is text with tokens: `{year}`, `{month}`, `{day}` (of the
//! capture date, `src/capture`), `{name}` (`IMG_0001.HEIC`), `{stem}`
//! (`IMG_0001`), `{ext}` (`HEIC`), `{path}` (the path below the scanned
//! folder, where a file lands without a layout) and `{dir}` (that path's
//! folder). It is parsed once, when the command line is read, so a typo is
//! a usage error before anything is scanned, and rendered into a plain
//! relative path: empty parts (`{dir}` of a file at the top) and `.` drop
//! out, and `..` is refused. The name's bytes are kept as they are, so a
//! name that is not UTF-8 lands byte for byte. A template must name the
//! file (`{name}`, `{stem}` or `{path}`): otherwise every file of a day
//! would land on one name.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use jiff::civil::DateTime;

use crate::capture::{DateSource, Taken};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Year,
    Month,
    Day,
    Name,
    Stem,
    Ext,
    Path,
    Dir,
}

const TOKENS: &[(&str, Token)] = &[
    ("year", Token::Year),
    ("month", Token::Month),
    ("day", Token::Day),
    ("name", Token::Name),
    ("stem", Token::Stem),
    ("ext", Token::Ext),
    ("path", Token::Path),
    ("dir", Token::Dir),
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Token(Token),
}

/// A parsed `--layout` template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    text: String,
    parts: Vec<Part>,
}

impl Layout {
    pub fn parse(text: &str) -> Result<Layout, String> {
        let known = "use {year}, {month}, {day}, {name}, {stem}, {ext}, {path} or {dir}";
        if text.starts_with('/') || text.contains('\\') {
            return Err(format!(
                "layout {text:?} starts with / or holds \\: write a path below the destination, with / between folders"
            ));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let Some(close) = rest[open..].find('}') else {
                return Err(format!("layout {text:?}: a {{ without its }}; {known}"));
            };
            let name = &rest[open + 1..open + close];
            let Some(&(_, token)) = TOKENS.iter().find(|(known, _)| *known == name) else {
                return Err(format!("layout {text:?}: unknown {{{name}}}; {known}"));
            };
            parts.push(Part::Token(token));
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("layout {text:?}: a }} without its {{; {known}"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        let names_the_file = parts
            .iter()
            .any(|part| matches!(part, Part::Token(Token::Name | Token::Stem | Token::Path)));
        if !names_the_file {
            return Err(format!(
                "layout {text:?} does not name the file: add {{name}}, {{stem}} or {{path}}"
            ));
        }
        let layout = Layout {
            text: text.to_owned(),
            parts,
        };
        // Tokens never hold `..`: only the template's own text can.
        let sample = "2000-01-01T00:00:00".parse().expect("a date");
        if layout.render(Path::new("folder/file.jpg"), sample).is_err() {
            return Err(format!(
                "layout {text:?} leads outside the destination (..): write a path below it"
            ));
        }
        Ok(layout)
    }

    /// Where the file at `relative` below its scanned folder, taken `at`,
    /// lands.
    pub fn render(&self, relative: &Path, at: DateTime) -> Result<PathBuf, String> {
        let stem = relative.file_stem().unwrap_or_default();
        if matches!(stem.to_str(), Some("" | "." | "..")) {
            return Err(format!(
                "layout {:?} cannot name {}: its name has no stem",
                self.text,
                relative.display()
            ));
        }
        let mut out = OsString::new();
        for (i, part) in self.parts.iter().enumerate() {
            // `{stem}.{ext}` of a name without an extension: no dot.
            let no_ext = relative.extension().is_none()
                && matches!(self.parts.get(i + 1), Some(Part::Token(Token::Ext)));
            match part {
                Part::Text(text) if no_ext => out.push(text.strip_suffix('.').unwrap_or(text)),
                Part::Text(text) => out.push(text),
                Part::Token(token) => out.push(match token {
                    Token::Year => OsString::from(format!("{:04}", at.year())),
                    Token::Month => OsString::from(format!("{:02}", at.month())),
                    Token::Day => OsString::from(format!("{:02}", at.day())),
                    Token::Name => relative.file_name().unwrap_or_default().to_owned(),
                    Token::Stem => relative.file_stem().unwrap_or_default().to_owned(),
                    Token::Ext => relative.extension().unwrap_or_default().to_owned(),
                    Token::Path => relative.as_os_str().to_owned(),
                    Token::Dir => relative
                        .parent()
                        .map(|dir| dir.as_os_str().to_owned())
                        .unwrap_or_default(),
                }),
            }
        }
        let mut path = PathBuf::new();
        for component in Path::new(&out).components() {
            match component {
                Component::Normal(part) => path.push(part),
                Component::CurDir | Component::RootDir => {}
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(format!(
                        "layout {:?} puts {} outside the destination",
                        self.text,
                        relative.display()
                    ));
                }
            }
        }
        if path.as_os_str().is_empty() {
            return Err(format!(
                "layout {:?} gives {} no name",
                self.text,
                relative.display()
            ));
        }
        Ok(path)
    }
}

/// `--layout`, and `--layout-undated` for files whose only date is their
/// modification time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layouts {
    pub dated: Layout,
    pub undated: Option<Layout>,
}

impl Layouts {
    /// Where the file at `relative`, taken `taken`, lands.
    pub fn render(&self, relative: &Path, taken: Taken) -> Result<PathBuf, String> {
        let layout = match (&self.undated, taken.from) {
            (Some(undated), DateSource::Mtime) => undated,
            _ => &self.dated,
        };
        layout.render(relative, taken.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    fn at() -> DateTime {
        "2024-03-05T14:22:33".parse().unwrap()
    }

    #[test]
    fn renders_dates_and_names() {
        let layout = Layout::parse("{year}/{month}/{name}").unwrap();
        let path = layout.render(Path::new("DCIM/100APPLE/IMG_0001.HEIC"), at());
        assert_eq!(path.unwrap(), PathBuf::from("2024/03/IMG_0001.HEIC"));
        let layout = Layout::parse("{year}-{month}-{day}/{dir}/{stem}.{ext}").unwrap();
        assert_eq!(
            layout.render(Path::new("a/b/c.jpg"), at()).unwrap(),
            PathBuf::from("2024-03-05/a/b/c.jpg")
        );
        // {dir} of a file at the top is empty, and drops out.
        assert_eq!(
            layout.render(Path::new("c.jpg"), at()).unwrap(),
            PathBuf::from("2024-03-05/c.jpg")
        );
        let layout = Layout::parse("by-year/{year}/{path}").unwrap();
        let name = OsString::from_vec(b"caf\xe9.jpg".to_vec());
        assert_eq!(
            layout
                .render(Path::new(&name), at())
                .unwrap()
                .as_os_str()
                .as_bytes(),
            b"by-year/2024/caf\xe9.jpg"
        );
    }

    #[test]
    fn refuses_unknown_tokens_no_name_and_escapes() {
        let error = Layout::parse("{year}/{monht}/{name}").unwrap_err();
        assert!(error.contains("unknown {monht}"), "{error}");
        assert!(
            Layout::parse("{year}/{month}")
                .unwrap_err()
                .contains("does not name the file")
        );
        assert!(Layout::parse("{year/{name}").is_err());
        assert!(Layout::parse("{name}}").is_err());
        let error = Layout::parse("../{name}").unwrap_err();
        assert!(error.contains("outside the destination"), "{error}");
        assert!(Layout::parse("/{year}/{name}").is_err());
        assert!(Layout::parse("{year}\\{name}").is_err());
        let layout = Layout::parse("{year}/{stem}.{ext}").unwrap();
        assert_eq!(
            layout.render(Path::new("README"), at()).unwrap(),
            PathBuf::from("2024/README")
        );
        let error = layout.render(Path::new("..jpg"), at()).unwrap_err();
        assert!(error.contains("no stem"), "{error}");
    }
}
