//! Browsers are not clients: who may talk to `ferry serve` from a web page.
//!
//! Any page a user opens can send a "simple" cross-site `POST` to
//! 127.0.0.1 (no preflight for `Content-Type: text/plain`), and a page on a
//! rebinding DNS name can even read the answers. Two checks, before
//! anything else, close both doors:
//! - the `Host` must be one this server answers to: an IP literal (a
//!   rebinding attack needs a DNS name), `localhost`, or a name the
//!   operator gave with `--allow-host`;
//! - a request whose `Origin` is another site's, or whose `Sec-Fetch-Site`
//!   says `cross-site` or `same-site`, is refused, unless the operator
//!   allowed that origin with `--cors-origin` (a web uploader of their
//!   own), which then also gets the CORS answers a browser needs.
//!
//! ferry, curl, tus-js-client in Node and other programs send neither
//! header, so they are not affected.

use std::net::IpAddr;

use hyper::StatusCode;
use hyper::header::HeaderMap;

use super::reply::Reply;
use crate::wire;

/// What the browser checks concluded about a request.
pub enum Caller {
    /// Not a cross-site browser request.
    Plain,
    /// A browser page on an origin the operator allowed.
    Allowed(String),
}

/// Headers a web uploader needs to read from the answers.
const EXPOSED: &str = "Location, Upload-Offset, Upload-Length, Upload-Complete, Upload-Limit, \
     Upload-Draft-Interop-Version, Upload-Metadata, Upload-Expires, Tus-Resumable, Tus-Version, \
     Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, Ferry-Path, Ferry-Forward, Repr-Digest";

/// The host name of a `Host` value, without its port.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Checks a request's `Host` (`authority` for HTTP/2) and origin headers.
pub fn check(
    allowed_hosts: &[String],
    cors_origins: &[String],
    authority: Option<&str>,
    headers: &HeaderMap,
) -> Result<Caller, Reply> {
    let host = wire::text(headers, "Host").or(authority);
    if let Some(host) = host {
        let name = host_name(host);
        let answered = name.parse::<IpAddr>().is_ok()
            || name.eq_ignore_ascii_case("localhost")
            || allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(name));
        if !answered {
            return Err(Reply::error(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this server does not answer to the host name {name:?} (the operator can allow it with --allow-host)"
                ),
            ));
        }
    }
    let origin = wire::text(headers, "Origin");
    if let Some(origin) = origin
        && cors_origins.iter().any(|allowed| allowed == origin)
    {
        return Ok(Caller::Allowed(origin.to_owned()));
    }
    let same_origin = |origin: &str| {
        host.is_some_and(|host| {
            [format!("http://{host}"), format!("https://{host}")]
                .iter()
                .any(|own| own.eq_ignore_ascii_case(origin))
        })
    };
    let cross_site = match origin {
        Some(origin) => !same_origin(origin),
        None => matches!(
            wire::text(headers, "Sec-Fetch-Site"),
            Some("cross-site" | "same-site")
        ),
    };
    match cross_site {
        true => Err(Reply::error(
            StatusCode::FORBIDDEN,
            format!(
                "a web page on another site may not use this server (Origin {}; the operator can allow an origin with --cors-origin)",
                origin.unwrap_or("not sent")
            ),
        )),
        false => Ok(Caller::Plain),
    }
}

/// The answer to a CORS preflight from an allowed origin.
pub fn preflight(origin: &str, headers: &HeaderMap) -> Reply {
    let asked = wire::text(headers, "Access-Control-Request-Headers").unwrap_or("");
    with_cors(Reply::new(StatusCode::NO_CONTENT), origin)
        .header(
            "Access-Control-Allow-Methods",
            "OPTIONS, HEAD, POST, PUT, PATCH, DELETE",
        )
        .header("Access-Control-Allow-Headers", asked)
        .header("Access-Control-Max-Age", 600)
}

/// A reply as an allowed origin may read it.
pub fn with_cors(reply: Reply, origin: &str) -> Reply {
    reply
        .header("Access-Control-Allow-Origin", origin)
        .header("Access-Control-Expose-Headers", EXPOSED)
        .header("Vary", "Origin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port_and_brackets() {
        assert_eq!(host_name("127.0.0.1:8920"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8920"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("photos.example:443"), "photos.example");
    }
}
