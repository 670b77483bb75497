//! Credentials: the headers a run sends (`-H`, the token), which header
//! names count as secrets, and the final answer as the journal records it,
//! with anything that could be a credential redacted. One rule decides what
//! is secret, for recording, for sending to another origin and for the
//! config file's literal-secret check.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::journal::job::Response;

/// The headers a request to `url` may carry when the destination is
/// `endpoint`: all of them toward the destination's own origin (scheme,
/// host and port), none that is secret toward any other, whatever a
/// `Location` pointed at (as curl and browsers do).
pub fn headers_for(headers: &HeaderMap, endpoint: &str, url: &str) -> HeaderMap {
    let origin = |text: &str| {
        let url = reqwest::Url::parse(text).ok()?;
        Some((
            url.scheme().to_owned(),
            url.host_str()?.to_ascii_lowercase(),
            url.port_or_known_default(),
        ))
    };
    let same = origin(endpoint).is_some() && origin(endpoint) == origin(url);
    if same {
        return headers.clone();
    }
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        if !value.is_sensitive() && !is_secret_header(name.as_str()) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

/// Header names whose values are never recorded, sent to another origin or
/// shown: one rule, the README's (anything named auth, cookie, token,
/// secret, password, key, credential, signature or session).
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "auth",
        "cookie",
        "token",
        "secret",
        "password",
        "passwd",
        "key",
        "credential",
        "signature",
        "session",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// Headers whose values are URLs, which a store may sign.
const URL_HEADERS: [&str; 3] = ["location", "content-location", "link"];

/// A URL that carries credentials in its query (a presigned S3 URL, an
/// Azure SAS, a token parameter).
fn holds_signature(url: &str) -> bool {
    let Some((_, query)) = url.split_once('?') else {
        return false;
    };
    query.split('&').any(|pair| {
        let name = pair
            .split('=')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        ["signature", "credential", "token", "sig", "key"]
            .iter()
            .any(|word| name.contains(word))
    })
}

/// The final answer as recorded in the journal: status and headers, with
/// anything that could be a credential replaced by `[redacted]` (a signed
/// URL keeps its path, not its query).
pub fn recorded(status: u16, headers: &HeaderMap) -> Response {
    let headers = headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            let value = if is_secret_header(name.as_str()) {
                "[redacted]".to_owned()
            } else if URL_HEADERS.contains(&name.as_str()) && holds_signature(&text) {
                let path = text.split('?').next().unwrap_or_default();
                format!("{path}?[redacted]")
            } else {
                text.into_owned()
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    Response { status, headers }
}

/// Headers from `-H 'Name: value'` and the token, checked once.
pub fn request_headers(
    given: &[String],
    token: Option<&str>,
) -> Result<HeaderMap, crate::error::UsageError> {
    let mut headers = HeaderMap::new();
    for text in given {
        let shown = crate::wire::typed_header_name(text);
        let (name, value) = text.split_once(':').ok_or_else(|| {
            crate::error::UsageError(format!(
                "--header {shown:?}…: expected 'Name: value' (the value is not shown)"
            ))
        })?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            crate::error::UsageError(format!(
                "--header {shown:?}…: not a header name before the colon (the rest is not shown)"
            ))
        })?;
        let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
            crate::error::UsageError(format!(
                "--header {name}: the value has characters a header cannot carry"
            ))
        })?;
        value.set_sensitive(is_secret_header(name.as_str()));
        headers.append(name, value);
    }
    if let Some(token) = token {
        let mut value =
            HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
                crate::error::UsageError(
                    "FERRY_TOKEN has characters a header cannot carry".to_owned(),
                )
            })?;
        value.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Ok(headers)
}

/// A variable from the process environment; unset and blank are alike.
pub fn variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// `text`, a URL as typed, with the password of its `user:password@`
/// shown as `***`; `None` when it holds none. Read from the text itself,
/// so that a URL too broken to parse is not shown with its password either.
pub fn url_password_hidden(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, host) = authority.rsplit_once('@')?;
    let (user, _password) = userinfo.split_once(':')?;
    let path = &rest[authority.len()..];
    Some(format!("{scheme}://{user}:***@{host}{path}"))
}

/// An error when the destination URL `text` carries a secret, which would
/// be written to the journal and shown in every message: a password
/// (shown as `***`), or a query parameter named as a credential (the
/// query not shown).
pub fn refuse_secrets_in_url(text: &str) -> Result<(), String> {
    let lower = text.to_ascii_lowercase();
    if let Some(shown) = url_password_hidden(text) {
        let instead = match lower.starts_with("sftp://") {
            true => "ssh asks its agent or key files",
            false => {
                "send it as a header (-H 'Authorization: Basic …') or a token (FERRY_TOKEN, --token-file)"
            }
        };
        return Err(format!(
            "destination {shown:?}: a password in the URL is not accepted, as it would be written to the journal; {instead}"
        ));
    }
    let Some((bare, query)) = text.split_once('?') else {
        return Ok(());
    };
    let credential = |name: &str| {
        let name = name.to_ascii_lowercase();
        ["token", "signature", "secret", "password", "credential"]
            .iter()
            .any(|word| name.contains(word))
            || [
                "key",
                "apikey",
                "api_key",
                "access_key",
                "sig",
                "auth",
                "code",
            ]
            .contains(&name.as_str())
    };
    if query
        .split('&')
        .any(|pair| credential(pair.split('=').next().unwrap_or_default()))
    {
        return Err(format!(
            "destination \"{bare}?…\": a credential in the URL's query (a token, key or signature) is not accepted, as it would be written to the journal; send it as a header (-H) or a token (FERRY_TOKEN, --token-file)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_only_to_the_destinations_own_origin() {
        let headers = request_headers(
            &["X-Api-Key: k".to_owned(), "X-Trace: t".to_owned()],
            Some("s3cret"),
        )
        .unwrap();
        let endpoint = "http://127.0.0.1:8920/files/";
        let own = headers_for(&headers, endpoint, "http://127.0.0.1:8920/uploads/1");
        assert_eq!(own.len(), 3);
        for other in [
            "http://127.0.0.1:8921/uploads/1",
            "https://127.0.0.1:8920/uploads/1",
            "http://localhost:8920/uploads/1",
        ] {
            let sent = headers_for(&headers, endpoint, other);
            assert!(sent.get("authorization").is_none(), "{other}");
            assert!(sent.get("x-api-key").is_none(), "{other}");
            assert_eq!(sent["x-trace"], "t", "{other}");
        }
    }

    #[test]
    fn secrets_are_redacted_when_recorded() {
        let mut headers = HeaderMap::new();
        headers.insert("set-cookie", HeaderValue::from_static("session=abc"));
        headers.insert("x-auth-token", HeaderValue::from_static("t0k3n"));
        headers.insert("location", HeaderValue::from_static("/uploads/1"));
        let response = recorded(201, &headers);
        assert_eq!(response.headers["set-cookie"], "[redacted]");
        assert_eq!(response.headers["x-auth-token"], "[redacted]");
        assert_eq!(response.headers["location"], "/uploads/1");
    }

    #[test]
    fn one_rule_redacts_auth_key_and_signed_url_headers() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-auth-user", "alice"),
            ("x-upload-key", "k3y"),
            ("x-amz-server-side-encryption-customer-key", "c2VjcmV0"),
            ("x-session-id", "s3ss"),
            ("x-credential", "cr3d"),
            ("etag", "\"abc\""),
            ("content-type", "image/jpeg"),
        ] {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers.insert(
            "location",
            HeaderValue::from_static(
                "https://store.example/b/IMG.jpg?X-Amz-Credential=AK%2F1&X-Amz-Signature=abc",
            ),
        );
        let response = recorded(201, &headers);
        for name in [
            "x-auth-user",
            "x-upload-key",
            "x-amz-server-side-encryption-customer-key",
            "x-session-id",
            "x-credential",
        ] {
            assert_eq!(response.headers[name], "[redacted]", "{name}");
        }
        assert_eq!(response.headers["etag"], "\"abc\"");
        assert_eq!(response.headers["content-type"], "image/jpeg");
        assert_eq!(
            response.headers["location"],
            "https://store.example/b/IMG.jpg?[redacted]"
        );
        // A digest that happens to end in "sig=" is a digest, not a URL.
        let mut digest = HeaderMap::new();
        let value = "sha-256=:q2vbDWNuJMbZBpm1uGesig=:";
        digest.insert("repr-digest", HeaderValue::from_static(value));
        digest.insert("etag", HeaderValue::from_static("\"token=abc?sig=1\""));
        let kept = recorded(200, &digest);
        assert_eq!(kept.headers["repr-digest"], value);
        assert_eq!(kept.headers["etag"], "\"token=abc?sig=1\"");
        let journal = serde_json::to_string(&response).unwrap();
        for secret in ["alice", "k3y", "c2VjcmV0", "s3ss", "cr3d", "AK%2F1", "abc&"] {
            assert!(!journal.contains(secret), "{secret} in {journal}");
        }
    }

    #[test]
    fn bad_headers_are_usage_errors_that_hide_secrets() {
        for typed in [
            "Authorization Bearer s3cret",
            "Authorization Bearer user:s3cret",
            "Authorization=s3cret: x",
            "X-Custom s3cret",
        ] {
            let error = request_headers(&[typed.to_owned()], None).unwrap_err();
            assert!(!error.0.contains("s3cret"), "{}", error.0);
            assert!(!error.0.contains("user"), "{}", error.0);
            assert!(error.0.starts_with("--header \""), "{}", error.0);
        }
        let error = request_headers(&["Authorization=s3cret: x".to_owned()], None).unwrap_err();
        assert!(error.0.contains("not a header name"), "{}", error.0);
        let headers = request_headers(&["X-Api-Key: k".to_owned()], Some("t")).unwrap();
        assert!(headers["x-api-key"].is_sensitive());
        assert_eq!(headers["authorization"], "Bearer t");
    }

    #[test]
    fn a_password_in_a_url_is_hidden_even_when_the_url_is_broken() {
        assert_eq!(
            url_password_hidden("https://bob:hunter2@nas:8920/files/?a=b"),
            Some("https://bob:***@nas:8920/files/?a=b".to_owned())
        );
        assert_eq!(
            url_password_hidden("sftp://bob:p@ss:w@nas:bad/x"),
            Some("sftp://bob:***@nas:bad/x".to_owned())
        );
        assert_eq!(url_password_hidden("https://bob@nas/files/"), None);
        assert_eq!(url_password_hidden("https://nas/a:b@c"), None);
        assert_eq!(url_password_hidden("/home/bob:x@y"), None);
    }

    #[test]
    fn only_a_query_parameter_named_as_a_credential_is_refused() {
        for url in [
            "https://nas/files/?token=x",
            "https://nas/f/?X-Amz-Signature=y",
            "https://nas/?key=z",
        ] {
            assert!(refuse_secrets_in_url(url).is_err(), "{url}");
        }
        for url in [
            "https://nas/files/?design=a&keyword=b&sigma=c",
            "https://bob@nas/files/",
            "s3://bucket/x",
        ] {
            assert_eq!(refuse_secrets_in_url(url), Ok(()), "{url}");
        }
    }
}
