//! The config file: named destinations in TOML.
//!
//! serde reads it into typed fields, so a misspelt key or a wrong value is
//! caught while parsing, and `serde_path_to_error` plus toml's spans turn it
//! into one line naming the file, the line and the key. Header values keep
//! their spans because `${VAR}` is expanded only when a destination is used:
//! an unset variable is reported at its own line, and an unused destination
//! never needs its variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::landing::Layout;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::error::UsageError;
use crate::upload::ProtocolChoice;
use crate::upload::PutMethod;
use crate::upload::throttle::Schedule;
use crate::wire::ietf::INTEROP_VERSIONS;

/// `config.toml` in the user's config directory, e.g. `~/.config/ferry/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ferry")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

pub struct ConfigFile {
    pub path: PathBuf,
    text: String,
    pub destinations: BTreeMap<String, NamedDestination>,
}

/// Names only: the text and the headers may hold secrets.
impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field(
                "destinations",
                &self.destinations.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Contents {
    #[serde(default)]
    destinations: BTreeMap<String, NamedDestination>,
}

/// `[destinations.NAME]`: every key but `url` is optional.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NamedDestination {
    pub url: Spanned<String>,
    pub protocol: Option<ProtocolChoice>,
    #[serde(default, deserialize_with = "ietf_version")]
    pub ietf_version: Option<u8>,
    pub put_method: Option<PutMethod>,
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    #[serde(default, deserialize_with = "chunk_size")]
    pub chunk_size: Option<u64>,
    #[serde(default, deserialize_with = "concurrency")]
    pub concurrency: Option<u16>,
    /// This destination's own bandwidth limit: a rate or a timetable.
    #[serde(default, deserialize_with = "bwlimit")]
    pub bwlimit: Option<Schedule>,
    /// Where files land at this destination (`--layout`).
    #[serde(default, deserialize_with = "layout")]
    pub layout: Option<Layout>,
    #[serde(default, deserialize_with = "layout")]
    pub layout_undated: Option<Layout>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// S3: the store's URL (absent: AWS), region and addressing.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: Option<bool>,
    /// S3 keys, normally `${VAR}` references.
    pub access_key_id: Option<Spanned<String>>,
    pub secret_access_key: Option<Spanned<String>>,
}

/// A size as a number of bytes or as text with a unit, like the flags take.
#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
    Text(String),
}

fn chunk_size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let size = match Size::deserialize(deserializer)? {
        Size::Bytes(bytes) => bytes,
        Size::Text(text) => crate::format::parse_size(&text).map_err(serde::de::Error::custom)?,
    };
    if size == 0 {
        return Err(serde::de::Error::custom("must be at least 1 byte"));
    }
    Ok(Some(size))
}

fn ietf_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u8>, D::Error> {
    let version = u8::deserialize(deserializer)?;
    if !INTEROP_VERSIONS.contains(&version) {
        return Err(serde::de::Error::custom(format!(
            "{version} is not one of {}",
            crate::wire::ietf::listed()
        )));
    }
    Ok(Some(version))
}

fn layout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Layout>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Layout::parse(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn bwlimit<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Schedule>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Schedule::parse(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn concurrency<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u16>, D::Error> {
    match u16::deserialize(deserializer)? {
        jobs @ 1..=256 => Ok(Some(jobs)),
        jobs => Err(serde::de::Error::custom(format!(
            "{jobs} is not in 1..=256"
        ))),
    }
}

impl ConfigFile {
    /// Reads and checks the file; `Ok(None)` when an optional file is missing.
    pub fn load(path: &Path, required: bool) -> anyhow::Result<Option<ConfigFile>> {
        let text = match fs_err::read_to_string(path) {
            Ok(text) => text,
            Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(error) => return Err(UsageError(format!("config: {error}")).into()),
        };
        let mut file = ConfigFile {
            path: path.to_owned(),
            text,
            destinations: BTreeMap::new(),
        };
        let parsed = toml::Deserializer::parse(&file.text)
            .map_err(|error| file.error(error.span(), "", error.message()))?;
        let contents: Contents = serde_path_to_error::deserialize(parsed).map_err(|error| {
            let key = error
                .path()
                .to_string()
                .replace(".$__serde_spanned_private_value", "");
            file.error(error.inner().span(), &key, error.inner().message())
        })?;
        file.destinations = contents.destinations;
        file.check_header_names()?;
        Ok(Some(file))
    }

    /// `config FILE line N, KEY: MESSAGE`.
    fn error(&self, span: Option<std::ops::Range<usize>>, key: &str, message: &str) -> UsageError {
        let line = match span {
            Some(span) => format!(" line {}", self.line_of(span.start)),
            None => String::new(),
        };
        let key = if key.is_empty() || key == "." {
            String::new()
        } else {
            format!(", {key}")
        };
        let message = message.lines().next().unwrap_or_default();
        UsageError(format!(
            "config {}{line}{key}: {message}",
            self.path.display()
        ))
    }

    fn line_of(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count()
            + 1
    }

    fn header_key(name: &str, header: &str) -> String {
        format!("destinations.{name}.headers.{header}")
    }

    fn check_header_names(&self) -> Result<(), UsageError> {
        for (name, destination) in &self.destinations {
            for (header, value) in &destination.headers {
                if HeaderName::from_bytes(header.as_bytes()).is_err() {
                    return Err(self.error(
                        Some(value.span()),
                        &Self::header_key(name, header),
                        "not a header name",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Secret-looking headers written out literally, when others may read
    /// the file: one warning each, naming the line and the key.
    pub fn exposed_secrets(&self) -> Vec<String> {
        if !readable_by_others(&self.path) {
            return Vec::new();
        }
        let mut warnings = Vec::new();
        for (name, destination) in &self.destinations {
            for (header, value) in &destination.headers {
                if crate::upload::is_secret_header(header) && holds_literal_secret(value.get_ref())
                {
                    warnings.push(format!(
                        "config {} line {}, {}: a secret written in a file others can read; write ${{VAR}} and set VAR, or chmod 600 {}",
                        self.path.display(),
                        self.line_of(value.span().start),
                        Self::header_key(name, header),
                        self.path.display()
                    ));
                }
            }
        }
        warnings
    }

    /// The destination's S3 settings, with `${VAR}` expanded in the keys.
    pub fn s3(&self, name: &str) -> Result<crate::upload::s3_access::Configured, UsageError> {
        let Some(destination) = self.destinations.get(name) else {
            return Ok(crate::upload::s3_access::Configured::default());
        };
        let secret = |key: &str, value: &Option<Spanned<String>>| {
            value
                .as_ref()
                .map(|value| {
                    expand(value.get_ref(), crate::upload::secrets::variable)
                        .map(|text| text.trim().to_owned())
                        .map_err(|message| {
                            self.error(
                                Some(value.span()),
                                &format!("destinations.{name}.{key}"),
                                &message,
                            )
                        })
                })
                .transpose()
        };
        Ok(crate::upload::s3_access::Configured {
            endpoint: destination.endpoint.clone(),
            region: destination.region.clone(),
            path_style: destination.path_style,
            access_key_id: secret("access-key-id", &destination.access_key_id)?,
            secret_access_key: secret("secret-access-key", &destination.secret_access_key)?,
        })
    }

    /// The destination's headers with `${VAR}` expanded from the environment.
    pub fn headers(&self, name: &str) -> Result<HeaderMap, UsageError> {
        let mut headers = HeaderMap::new();
        let Some(destination) = self.destinations.get(name) else {
            return Ok(headers);
        };
        for (header, value) in &destination.headers {
            let at = |message: &str| {
                self.error(Some(value.span()), &Self::header_key(name, header), message)
            };
            let expanded = expand(value.get_ref(), crate::upload::secrets::variable)
                .map_err(|message| at(&message))?;
            let mut value = HeaderValue::from_str(expanded.trim())
                .map_err(|_| at("the value has characters a header cannot carry"))?;
            value.set_sensitive(crate::upload::is_secret_header(header));
            let header =
                HeaderName::from_bytes(header.as_bytes()).map_err(|_| at("not a header name"))?;
            headers.insert(header, value);
        }
        Ok(headers)
    }
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

/// Whether a header value holds more than `${VAR}` references and an
/// authentication scheme word such as `Bearer`.
fn holds_literal_secret(value: &str) -> bool {
    let literal = expand(value, |_| Some(String::new())).unwrap_or_default();
    literal.split_whitespace().any(|word| {
        !["bearer", "basic", "token", "digest"].contains(&word.to_ascii_lowercase().as_str())
    })
}

/// Replaces each `${NAME}` with `lookup(NAME)`; `$$` is a literal `$`.
pub(crate) fn expand(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| format!("{:?} has a ${{ without its }}", text))?;
            let var = &after[..end];
            if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("${{{var}}} is not a variable name"));
            }
            let value = lookup(var).ok_or_else(|| format!("${{{var}}} is not set (or empty)"))?;
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> anyhow::Result<Option<ConfigFile>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        ConfigFile::load(&path, true)
    }

    fn error_of(text: &str) -> String {
        let error = load(text).unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some());
        let message = error.to_string();
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn expansion() {
        let env = |var: &str| (var == "T").then(|| "abc".to_owned());
        assert_eq!(expand("Bearer ${T}", env).unwrap(), "Bearer abc");
        assert_eq!(expand("a$$b $x ${T}${T}", env).unwrap(), "a$b $x abcabc");
        assert!(expand("${U}", env).unwrap_err().contains("${U} is not set"));
        assert!(expand("${T", env).unwrap_err().contains("without its }"));
        assert!(
            expand("${a-b}", env)
                .unwrap_err()
                .contains("not a variable name")
        );
    }

    #[test]
    fn literal_secrets() {
        assert!(!holds_literal_secret("Bearer ${FERRY_TOKEN}"));
        assert!(!holds_literal_secret("${KEY}"));
        assert!(holds_literal_secret("Bearer s3cret"));
        assert!(holds_literal_secret("s3cret"));
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let text = "[destinations.home]\nurl = \"http://127.0.0.1:1/\"\n\nconcurrency = \"many\"\n";
        let message = error_of(text);
        assert!(
            message.contains("line 4, destinations.home.concurrency: invalid type"),
            "{message}"
        );
        let message = error_of("[destinations.home]\nurl = \"x\"\nchunksize = 3\n");
        assert!(
            message.contains("line 3, destinations.home.chunksize: unknown field"),
            "{message}"
        );
        let message = error_of("[destinations.home]\nurl = \"x\"\nchunk-size = \"4 parsecs\"\n");
        assert!(
            message.contains("line 3, destinations.home.chunk-size: "),
            "{message}"
        );
        let message = error_of("[destinations.home]\nurl = \"x\"\nprotocol = \"ftp\"\n");
        assert!(
            message.contains("line 3, destinations.home.protocol: unknown variant"),
            "{message}"
        );
        let message = error_of("[destinations.home]\nurl = \"x\"\nheaders = { \"a b\" = \"1\" }\n");
        assert!(
            message.contains("line 3, destinations.home.headers.a b: not a header name"),
            "{message}"
        );
        let message = error_of("[destinations.home\n");
        assert!(message.contains("line 1: "), "{message}");
        let message = error_of("[destinations.home]\nprotocol = \"tus\"\n");
        assert!(
            message.contains("destinations.home: missing field `url`"),
            "{message}"
        );
    }

    #[test]
    fn sizes_take_units_or_bytes() {
        let text = "[destinations.a]\nurl = \"x\"\nchunk-size = \"4M\"\n[destinations.b]\nurl = \"y\"\nchunk-size = 1000\nietf-version = 6\n";
        let file = load(text).unwrap().unwrap();
        assert_eq!(file.destinations["a"].chunk_size, Some(4 << 20));
        assert_eq!(file.destinations["b"].chunk_size, Some(1000));
        assert_eq!(file.destinations["b"].ietf_version, Some(6));
    }
}
