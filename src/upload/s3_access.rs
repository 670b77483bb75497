//! Where an `s3://` destination is and whose keys open it.
//!
//! People who use S3 already have the AWS tools set up, so ferry reads the
//! same places in the same order: the config file's destination first, then
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL(_S3)` and `AWS_CA_BUNDLE`, then the profile (`AWS_PROFILE`,
//! else `default`) in `~/.aws/credentials` and `~/.aws/config`. The result
//! holds secrets, so its `Debug` leaves them out and nothing here is ever
//! recorded.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// The config file's S3 keys for one destination, `${VAR}` already
/// expanded. Resolved against the environment and the AWS files only when
/// an `s3://` route is opened, so other runs never read them.
#[derive(Clone, Default)]
pub struct Configured {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: Option<bool>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// How to reach a store: resolved, ready to sign with.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Access {
    /// `None`: AWS itself, `https://s3.<region>.amazonaws.com`.
    pub endpoint: Option<String>,
    pub region: String,
    pub path_style: bool,
    pub key_id: Option<String>,
    pub secret: Option<String>,
    pub session_token: Option<String>,
    /// CA certificates to trust besides the system's, for a private
    /// endpoint (`AWS_CA_BUNDLE`, or the profile's `ca_bundle`), as the
    /// AWS CLI and SDKs do.
    pub ca_bundle: Option<PathBuf>,
}

impl fmt::Debug for Configured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Configured")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for S3Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Access")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl S3Access {
    /// The endpoint URL requests go to.
    pub fn endpoint_url(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!("https://s3.{}.amazonaws.com", self.region),
        }
    }
}

/// Resolves the access for one destination from `configured`, the
/// environment (`var`) and the AWS files.
pub fn resolve(configured: &Configured, var: impl Fn(&str) -> Option<String>) -> S3Access {
    let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let profile_name = var("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
    let home = var("HOME").map(PathBuf::from);
    let file = |variable: &str, default: &str| {
        var(variable)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|home| home.join(".aws").join(default)))
    };
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
        .map(|path| profile(&path, &profile_name, false))
        .unwrap_or_default();
    let config = file("AWS_CONFIG_FILE", "config")
        .map(|path| profile(&path, &profile_name, true))
        .unwrap_or_default();
    let from_files = |key: &str| credentials.get(key).or(config.get(key)).cloned();
    let endpoint = configured
        .endpoint
        .clone()
        .or_else(|| var("AWS_ENDPOINT_URL_S3"))
        .or_else(|| var("AWS_ENDPOINT_URL"))
        .or_else(|| from_files("endpoint_url"));
    let region = configured
        .region
        .clone()
        .or_else(|| var("AWS_REGION"))
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .or_else(|| from_files("region"))
        .unwrap_or_else(|| "us-east-1".to_owned());
    // A key pair comes whole from one place, never half from each.
    let (key_id, secret, session_token) = match (
        &configured.access_key_id,
        &configured.secret_access_key,
        var("AWS_ACCESS_KEY_ID"),
        var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret), _, _) => (Some(id.clone()), Some(secret.clone()), None),
        (_, _, Some(id), Some(secret)) => (Some(id), Some(secret), var("AWS_SESSION_TOKEN")),
        _ => (
            from_files("aws_access_key_id"),
            from_files("aws_secret_access_key"),
            from_files("aws_session_token"),
        ),
    };
    let ca_bundle = var("AWS_CA_BUNDLE")
        .or_else(|| from_files("ca_bundle"))
        .map(PathBuf::from);
    S3Access {
        ca_bundle,
        path_style: configured.path_style.unwrap_or(endpoint.is_some()),
        endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
        region,
        key_id,
        secret,
        session_token,
    }
}

/// One profile's keys from an AWS INI file (`[name]` in credentials,
/// `[profile name]` or `[default]` in config); empty when it is absent.
fn profile(path: &std::path::Path, name: &str, config: bool) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let wanted = match (config, name) {
        (true, "default") | (false, _) => name.to_owned(),
        (true, _) => format!("profile {name}"),
    };
    let mut found = HashMap::new();
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = section.trim() == wanted;
        } else if inside && let Some((key, value)) = line.split_once('=') {
            found.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_config_file_wins_then_the_variables_then_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(
            aws.join("credentials"),
            "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\
             [work]\naws_access_key_id = WORK\naws_secret_access_key = worksecret\n",
        )
        .unwrap();
        std::fs::write(
            aws.join("config"),
            "[profile work]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:3900/\n",
        )
        .unwrap();
        let home = dir.path().to_str().unwrap();
        let access = resolve(
            &Configured::default(),
            env(&[("HOME", home), ("AWS_PROFILE", "work")]),
        );
        assert_eq!(access.key_id.as_deref(), Some("WORK"));
        assert_eq!(access.region, "eu-west-3");
        assert_eq!(access.endpoint.as_deref(), Some("http://127.0.0.1:3900"));
        assert!(access.path_style);
        assert!(!format!("{access:?}").contains("worksecret"));

        let access = resolve(
            &Configured::default(),
            env(&[
                ("HOME", home),
                ("AWS_ACCESS_KEY_ID", "ENV"),
                ("AWS_SECRET_ACCESS_KEY", "envsecret"),
                ("AWS_SESSION_TOKEN", "tok"),
            ]),
        );
        assert_eq!(access.key_id.as_deref(), Some("ENV"));
        assert_eq!(access.session_token.as_deref(), Some("tok"));
        assert_eq!(access.region, "us-east-1");
        assert!(!access.path_style);
        assert_eq!(access.endpoint_url(), "https://s3.us-east-1.amazonaws.com");

        let configured = Configured {
            endpoint: Some("http://127.0.0.1:9000".to_owned()),
            region: Some("garage".to_owned()),
            path_style: Some(false),
            access_key_id: Some("CFG".to_owned()),
            secret_access_key: Some("cfgsecret".to_owned()),
        };
        let access = resolve(&configured, env(&[("AWS_ACCESS_KEY_ID", "ENV")]));
        assert_eq!(access.key_id.as_deref(), Some("CFG"));
        assert_eq!(access.region, "garage");
        assert!(!access.path_style);
    }
}
