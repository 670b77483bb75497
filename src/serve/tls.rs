//! TLS for `ferry serve` (`--tls-cert`, `--tls-key`), through rustls.
//!
//! The certificate chain and key are PEM files, read at start and again on
//! SIGHUP (as a renewed Let's Encrypt certificate arrives): each new
//! connection takes the configuration current when it is accepted, so
//! uploads in flight keep theirs and are never dropped. A reload that fails
//! keeps the old configuration and says why. ALPN offers HTTP/2 and
//! HTTP/1.1; plain connections (loopback, or TLS ended by a proxy) stay
//! HTTP/1.1.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Where the certificate chain and its key are.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The configuration new connections take; replaced on reload.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
}

fn read_config(files: &TlsFiles) -> anyhow::Result<ServerConfig> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let named =
        |path: &Path, error: &dyn std::fmt::Display| anyhow::anyhow!("{}: {error}", path.display());
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|error| named(&files.cert, &error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| named(&files.cert, &error))?;
    if chain.is_empty() {
        anyhow::bail!("{}: no PEM certificate in it", files.cert.display());
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|error| named(&files.key, &error))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| {
            anyhow::anyhow!(
                "{} and {} do not make a certificate and its key: {error}",
                files.cert.display(),
                files.key.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

impl Tls {
    pub fn load(files: TlsFiles) -> anyhow::Result<Tls> {
        let config = read_config(&files)?;
        Ok(Tls {
            files,
            current: RwLock::new(Arc::new(config)),
        })
    }

    /// The acceptor for a connection accepted now.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = self.current.read().unwrap_or_else(|p| p.into_inner());
        tokio_rustls::TlsAcceptor::from(config.clone())
    }

    /// Reads the files again; on failure the old configuration stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let config = read_config(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        Ok(())
    }
}

/// An HTTP/2 stream's flow-control window.
const H2_WINDOW: u32 = 4 << 20;
/// The largest HTTP/2 frame a client may send.
const H2_FRAME: u32 = 1 << 20;

/// Serves one accepted connection: plain HTTP/1.1, or TLS with HTTP/2 or
/// HTTP/1.1 by ALPN. A handshake or a request head that does not arrive
/// within `timeout` ends it.
pub async fn serve_connection<S>(
    stream: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    service: S,
    timeout: std::time::Duration,
) where
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = super::reply::HttpResponse,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let Some(acceptor) = acceptor else {
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeout)
            .serve_connection(TokioIo::new(stream), service)
            .await;
        return;
    };
    let Ok(Ok(stream)) = tokio::time::timeout(timeout, acceptor.accept(stream)).await else {
        return;
    };
    // The protocol is the one ALPN agreed on, never sniffed from bytes that
    // may never come: HTTP/1.1 then waits at most `timeout` for each request
    // head, the first included; HTTP/2 pings a silent peer and drops it.
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        // hyper's default windows (64 KiB per stream) let a client send a
        // few frames per round trip: an upload ran at a tenth of HTTP/1.1's
        // speed. Fixed larger windows keep the link full; what a connection
        // can have in flight unread stays bounded (4 × H2_WINDOW).
        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .initial_stream_window_size(H2_WINDOW)
            .initial_connection_window_size(4 * H2_WINDOW)
            .max_frame_size(H2_FRAME)
            .keep_alive_interval(Some(timeout))
            .keep_alive_timeout(timeout)
            .serve_connection(TokioIo::new(stream), service)
            .await;
    } else {
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeout)
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }
}
