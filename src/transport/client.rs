//! The initiator's side of a connection: TCP connect and the TLS handshake, under deadlines.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::connection::{exporter, Connected};
use super::timeouts::{deadline, Timeouts};
use super::tls::{peer_certificate, server_name, tls_error};
use crate::error::{Deadline, Error, Result, TlsReason};

/// A client-side TLS stream.
pub type ClientStream = tokio_rustls::client::TlsStream<TcpStream>;

/// Connects to `addr` and completes TLS 1.3 with mutual authentication.
///
/// # Errors
/// [`Error::Timeout`] past the connect or TLS deadline, [`Error::Io`] if the TCP connection
/// fails, [`Error::Tls`] if TLS fails or the peer's certificate is refused (the message names
/// the fingerprint seen).
pub async fn connect(
    addr: &str,
    config: Arc<rustls::ClientConfig>,
    t: &Timeouts,
) -> Result<Connected<ClientStream>> {
    let tcp = deadline(t.connect, Deadline::Connect, async {
        TcpStream::connect(addr)
            .await
            .map_err(|e| Error::io(format!("connecting to {addr}"), e))
    })
    .await?;
    let _ = tcp.set_nodelay(true);
    let stream = deadline(t.tls_handshake, Deadline::TlsHandshake, async {
        TlsConnector::from(config)
            .connect(server_name(), tcp)
            .await
            .map_err(|e| tls_error(&format!("TLS with {addr}"), e))
    })
    .await?;
    let conn = stream.get_ref().1;
    let cert = peer_certificate(conn).ok_or_else(|| {
        Error::tls(
            TlsReason::NoPeerCertificate,
            "the peer presented no certificate",
        )
    })?;
    let exporter = exporter(conn)?;
    Ok(Connected::authenticated(stream, exporter, cert))
}
