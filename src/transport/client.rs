//! The initiator's side of a connection: TCP connect and the TLS handshake, under deadlines.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::handshake::{exporter, HASH_LEN};
use super::timeouts::{deadline, Timeouts};
use super::tls::{peer_certificate, server_name, tls_error};
use crate::error::{Error, Result};
use crate::identity::Fingerprint;

/// An authenticated connection, ready for the session handshake.
#[derive(Debug)]
pub struct Connected<S> {
    /// The TLS stream.
    pub stream: S,
    /// The TLS exporter value (RFC 8446 section 7.5) bound into the transcript.
    pub exporter: [u8; HASH_LEN],
    /// The fingerprint of the peer's certificate (already checked by the verifier).
    pub peer_fingerprint: Fingerprint,
    /// The peer's end-entity certificate (DER): its Ed25519 key verifies the peer's session
    /// receipt, its subject names the peer agency in the audit log.
    pub peer_cert: rustls::pki_types::CertificateDer<'static>,
}

/// Connects to `addr` and completes TLS 1.3 with mutual authentication.
///
/// # Errors
/// [`Error::Timeout`] past the connect or handshake deadline, [`Error::Io`] if the TCP
/// connection fails, [`Error::Tls`] if TLS fails or the peer's certificate is refused (the
/// message names the fingerprint seen).
pub async fn connect(
    addr: &str,
    config: Arc<rustls::ClientConfig>,
    t: &Timeouts,
) -> Result<Connected<tokio_rustls::client::TlsStream<TcpStream>>> {
    let tcp = deadline(t.connect, &format!("connecting to {addr}"), async {
        TcpStream::connect(addr)
            .await
            .map_err(|e| Error::io(format!("connecting to {addr}"), e))
    })
    .await?;
    let _ = tcp.set_nodelay(true);
    let stream = deadline(t.handshake, "the TLS handshake", async {
        TlsConnector::from(config)
            .connect(server_name(), tcp)
            .await
            .map_err(|e| tls_error(&format!("TLS with {addr}"), e))
    })
    .await?;
    let conn = stream.get_ref().1;
    let (peer, peer_cert) = peer_certificate(conn)
        .ok_or_else(|| Error::LegacyTls("the peer presented no certificate".into()))?;
    Ok(Connected {
        exporter: exporter(conn)?,
        peer_fingerprint: peer,
        peer_cert,
        stream,
    })
}
