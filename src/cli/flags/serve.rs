//! `ferry serve`'s flags: where files land, who may send them, the limits
//! and the backend it forwards to.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::builder::{BoolishValueParser, TypedValueParser};

use super::{parse_duration, parse_size};

/// The bounds `ferry serve` keeps that have no option, shown under its help.
pub const SERVE_LIMITS: &str = "\
Fixed limits:
  request head (and TLS handshake)  30 s, then the connection is closed
  a body silent for                 60 s is cut; what arrived is kept for resuming
  free disk space                   an upload that cannot fit is refused at creation (507)
  --forward backend                 10 s before the client gets 202; each request's
                                    deadline is 30 s of silence; 4 sent at once";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Folder that receives the files (partial uploads wait in its .ferry-uploads/)
    #[arg(long, value_name = "DIR", env = "FERRY_SERVE_DIR")]
    pub dir: PathBuf,

    /// Address to listen on; anything but loopback needs --token-file and TLS (--tls-cert, --tls-key)
    #[arg(
        long,
        value_name = "ADDR",
        env = "FERRY_SERVE_LISTEN",
        default_value = "127.0.0.1:8920"
    )]
    pub listen: std::net::SocketAddr,

    /// File holding the bearer token every request must carry
    #[arg(long, value_name = "FILE", env = "FERRY_SERVE_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// Refuse uploads larger than this (e.g. 64G; binary units); by default only free space limits them
    #[arg(long, value_name = "SIZE", env = "FERRY_SERVE_MAX_SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Refuse requests carrying more than this many bytes of one upload (no limit by default)
    #[arg(long, value_name = "SIZE", env = "FERRY_SERVE_MAX_APPEND_SIZE", value_parser = parse_size)]
    pub max_append_size: Option<u64>,

    /// Unfinished uploads held at once (tus, IETF, PUT bodies and BITS sessions); more get 503 until some finish or expire
    #[arg(long, value_name = "N", env = "FERRY_SERVE_MAX_UPLOADS", default_value_t = crate::serve::DEFAULT_MAX_UPLOADS, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_uploads: usize,

    /// Connections served at once; more wait in the listen backlog
    #[arg(long, value_name = "N", env = "FERRY_SERVE_MAX_CONNECTIONS", default_value_t = crate::serve::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_connections: usize,

    /// Delete unfinished uploads not written to for this long (e.g. 24h, 7d)
    #[arg(long, value_name = "DURATION", env = "FERRY_SERVE_EXPIRE_AFTER", default_value = "7d", value_parser = parse_duration)]
    pub expire_after: Duration,

    /// Pass each completed, verified upload on to this backend in one plain request (PUT URL/<path>; the URL may hold {path}, {name}, {sha256})
    #[arg(long, value_name = "URL", env = "FERRY_SERVE_FORWARD")]
    pub forward: Option<String>,

    /// Method of the forwarded request
    #[arg(
        long,
        value_enum,
        value_name = "METHOD",
        env = "FERRY_SERVE_FORWARD_METHOD",
        default_value = "put",
        requires = "forward"
    )]
    pub forward_method: crate::serve::forward::ForwardMethod,

    /// Header for the forwarded request, 'Name: value' with ${VAR} from the environment; never logged (repeatable; one per line in the variable)
    #[arg(
        long,
        value_name = "HEADER",
        env = "FERRY_SERVE_FORWARD_HEADER",
        value_delimiter = '\n',
        requires = "forward"
    )]
    pub forward_header: Vec<String>,

    /// Also trust the CA certificates in this PEM file for the --forward backend
    #[arg(
        long,
        value_name = "FILE",
        env = "FERRY_SERVE_FORWARD_CA_CERT",
        requires = "forward"
    )]
    pub forward_ca_cert: Option<PathBuf>,

    /// Keep files in --dir after the backend took them (by default they are removed after a 2xx)
    #[arg(long, env = "FERRY_SERVE_KEEP", value_parser = BoolishValueParser::new(), requires = "forward")]
    pub keep: bool,

    /// PEM certificate chain for HTTPS (with --tls-key; reread on SIGHUP)
    #[arg(
        long,
        value_name = "FILE",
        env = "FERRY_SERVE_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert
    #[arg(
        long,
        value_name = "FILE",
        env = "FERRY_SERVE_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Listen beyond loopback without TLS, because a proxy in front ends TLS
    #[arg(long, env = "FERRY_SERVE_INSECURE_HTTP", value_parser = BoolishValueParser::new())]
    pub insecure_http: bool,

    /// A host name this server answers to, besides IP addresses and localhost (repeatable)
    #[arg(
        long,
        value_name = "NAME",
        env = "FERRY_SERVE_ALLOW_HOST",
        value_delimiter = ','
    )]
    pub allow_host: Vec<String>,

    /// A web page origin allowed to upload from a browser, e.g. https://photos.example (repeatable)
    #[arg(
        long,
        value_name = "ORIGIN",
        env = "FERRY_SERVE_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origin: Vec<String>,
}
