//! Running `probe`: what a destination answers before anything is sent
//! (its protocol, the credentials, an SFTP host's key and tools, an S3
//! bucket), in one report for people or one JSON line.

use crate::cli::ProbeArgs;
use crate::cli::settings::Config;
use crate::error;
use crate::format::human_bytes;
use crate::journal::job::Protocol;
use crate::upload;
use crate::upload::ProtocolChoice;

use super::print_json_line;

/// `ferry probe`: 0 when the destination answers and takes the credentials, 1 otherwise.
pub fn probe(config: &Config, args: &ProbeArgs) -> anyhow::Result<u8> {
    let text = args
        .destination
        .as_ref()
        .or(args.to.as_ref())
        .expect("clap requires one");
    let destination = config.destination(text, args.protocol.unwrap_or(ProtocolChoice::Auto))?;
    let name = config.named(text).map(|(name, _)| name);
    // --ca-cert and the timeouts; the headers are the destination's own.
    let settings = config.credential_settings(&args.credentials, |_| false)?;
    if destination.protocol == Protocol::Bits {
        let headers = config.request_headers(&args.credentials, name)?;
        let report = upload::ping_bits(&destination.url, &headers, &settings)?;
        if config.json() {
            print_json_line(&report)?;
        } else {
            crate::report::stream::out_line(&report.url)?;
            let answer = match (report.ack, &report.error) {
                (true, None) => "a BITS Ack".to_owned(),
                (true, Some(error)) => format!("a BITS Ack with {error}"),
                (false, _) => "not a BITS Ack".to_owned(),
            };
            crate::report::stream::out_line(&format!(
                "  Ping:           HTTP {}, {answer}, credentials {}",
                report.status, report.credentials
            ))?;
        }
        let answered = report.ack && report.error.is_none() && report.status < 300;
        return Ok(if answered {
            error::SUCCESS
        } else {
            error::RUNTIME_ERROR
        });
    }
    if destination.protocol == Protocol::S3 {
        return probe_s3(config, text, &destination.url, &settings);
    }
    if destination.protocol == Protocol::Sftp {
        return probe_sftp(config, &destination.url, &settings);
    }
    if destination.protocol == Protocol::Local {
        let folder = std::path::Path::new(&destination.url);
        // A folder not made yet is made by the sync, under the nearest one
        // that exists: that one must take files.
        let existing = folder
            .ancestors()
            .find(|dir| dir.exists())
            .unwrap_or(folder);
        let writable = existing.is_dir() && tempfile::tempfile_in(existing).is_ok();
        let state = match (existing == folder, writable) {
            (true, true) => "writable".to_owned(),
            (true, false) => "not writable".to_owned(),
            (false, true) => format!(
                "not there yet; a sync creates it under {}, which is writable",
                existing.display()
            ),
            (false, false) => format!(
                "not there, and {} (where a sync would create it) is not a writable folder",
                existing.display()
            ),
        };
        if config.json() {
            print_json_line(&serde_json::json!({
                "url": destination.url, "auto_picks": "local", "writable": writable,
                "exists": existing == folder
            }))?;
        } else {
            crate::report::stream::out_line(&format!(
                "{}: a local folder, {state}",
                destination.url
            ))?;
        }
        return Ok(if writable {
            error::SUCCESS
        } else {
            error::RUNTIME_ERROR
        });
    }
    let report = upload::describe(
        &destination.url,
        &config.request_headers(&args.credentials, name)?,
        &settings,
    )?;
    if config.json() {
        print_json_line(&report)?;
    } else {
        let or_none = |items: Vec<String>| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let size = |limit: Option<u64>| limit.map_or("none announced".to_owned(), human_bytes);
        crate::report::stream::out_line(&report.url)?;
        crate::report::stream::out_line(&format!(
            "  OPTIONS:        HTTP {}, credentials {}",
            report.status, report.credentials
        ))?;
        let picks = match report.auto_picks {
            Some(protocol) => format!("{protocol:?}").to_lowercase(),
            None => "cannot tell until the server accepts the credentials".to_owned(),
        };
        crate::report::stream::out_line(&format!("  auto picks:     {picks}"))?;
        crate::report::stream::out_line(&format!(
            "  IETF interop:   {}",
            or_none(
                report
                    .ietf_interop_versions
                    .iter()
                    .map(u8::to_string)
                    .collect()
            )
        ))?;
        crate::report::stream::out_line(&format!(
            "  tus versions:   {}",
            or_none(report.tus_versions.clone())
        ))?;
        crate::report::stream::out_line(&format!(
            "  tus extensions: {}",
            or_none(report.tus_extensions.clone())
        ))?;
        crate::report::stream::out_line(&format!(
            "  tus checksums:  {}",
            or_none(report.tus_checksum_algorithms.clone())
        ))?;
        crate::report::stream::out_line(&format!("  max size:       {}", size(report.max_size)))?;
        crate::report::stream::out_line(&format!(
            "  max append:     {}",
            size(report.max_append_size)
        ))?;
    }
    match report.credentials {
        "refused" => anyhow::bail!(
            "{}: the server refused the credentials (HTTP {}); {}",
            report.url,
            report.status,
            crate::upload::http::CREDENTIALS_HINT
        ),
        "needed, none sent" => anyhow::bail!(
            "{}: the server wants credentials (HTTP {}) and none were sent; give them with -H, --token-file or FERRY_TOKEN",
            report.url,
            report.status
        ),
        _ => {}
    }
    Ok(error::SUCCESS)
}

/// `ferry probe sftp://…`: 0 when the login is accepted and the folder is
/// writable, or can be made under one that is.
fn probe_sftp(config: &Config, url: &str, settings: &upload::Settings) -> anyhow::Result<u8> {
    use crate::report::stream::out_line;
    let report = upload::probe_sftp(url, settings)?;
    if config.json() {
        print_json_line(&report)?;
    } else {
        out_line(&report.url)?;
        out_line(&format!("  host key:       {}", report.host_key))?;
        out_line(&format!("  login:          {}", report.login))?;
        out_line(&format!("  folder:         {}", report.folder))?;
        let commands = match (report.commands, report.hash_tool) {
            (true, Some(tool)) => format!("yes; uploads are confirmed by the server's {tool}"),
            (true, None) => "yes, but no SHA-256 tool was found; uploads are confirmed by size".to_owned(),
            (false, _) => "no (files only); uploads are confirmed by size, and --delete-after and --move-to are refused".to_owned(),
        };
        if report.login == "accepted" {
            out_line(&format!("  commands:       {commands}"))?;
        }
        if let Some(error) = &report.error {
            out_line(&format!("  error:          {error}"))?;
        }
    }
    Ok(if report.ready() {
        error::SUCCESS
    } else {
        error::RUNTIME_ERROR
    })
}

/// `ferry probe s3://…`: 0 when the bucket exists and the keys may write to it.
fn probe_s3(
    config: &Config,
    text: &str,
    url: &str,
    settings: &upload::Settings,
) -> anyhow::Result<u8> {
    use crate::report::stream::out_line;
    let report = upload::probe_s3(url, &config.s3(text)?, settings)?;
    if config.json() {
        print_json_line(&report)?;
    } else {
        out_line(&report.url)?;
        out_line(&format!(
            "  endpoint:       {} (region {})",
            report.endpoint, report.region
        ))?;
        out_line(&format!("  credentials:    {}", report.credentials))?;
        let bucket = match (report.bucket_exists, report.writable) {
            (false, _) if report.credentials == "refused" => "not known (the keys were refused)",
            (false, _) => "missing",
            (true, true) => "exists, writable",
            (true, false) => "exists, not writable with these keys",
        };
        out_line(&format!("  bucket:         {bucket}"))?;
        if let Some(count) = report.unfinished_uploads {
            let oldest = report
                .oldest_unfinished_seconds
                .map_or(String::new(), |age| {
                    let age = std::time::Duration::from_secs(age);
                    format!(", the oldest {} old", humantime::format_duration(age))
                });
            let uploads = if count == 1 { "upload" } else { "uploads" };
            out_line(&format!(
                "  unfinished:     {count} multipart {uploads}{oldest}"
            ))?;
        }
    }
    Ok(if report.ready() {
        error::SUCCESS
    } else {
        error::RUNTIME_ERROR
    })
}
