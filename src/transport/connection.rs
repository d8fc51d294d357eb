//! [`Connected`]: a mutually authenticated TLS connection, ready for a session.
//!
//! Only [`super::client::connect`] and the accept loop of [`crate::agency::Agency::serve`]
//! build one, after TLS 1.3 with
//! the pinning verifier succeeded, so holding a `Connected` means the peer was authenticated.
//! Tests that need a connection without TLS use the explicitly named
//! [`Connected::dangerous_from_parts`]. Its fields are private, so code outside the crate
//! cannot assemble one:
//!
//! ```compile_fail
//! use blindmatch::transport::connection::Connected;
//! let fake = Connected {
//!     stream: (),
//!     exporter: [0u8; 32],
//!     peer_cert: rustls::pki_types::CertificateDer::from(vec![]),
//!     peer_fingerprint: blindmatch::identity::Fingerprint([0; 32]),
//! };
//! ```

use rustls::pki_types::CertificateDer;

use crate::dst;
use crate::error::{Error, Result, TlsReason};
use crate::identity::Fingerprint;

/// An authenticated connection.
#[derive(Debug)]
pub struct Connected<S> {
    stream: S,
    exporter: [u8; 32],
    peer_cert: CertificateDer<'static>,
    peer_fingerprint: Fingerprint,
}

impl<S> Connected<S> {
    /// Builds a connection from TLS state the caller vouches for.
    pub(crate) fn authenticated(
        stream: S,
        exporter: [u8; 32],
        peer_cert: CertificateDer<'static>,
    ) -> Self {
        Connected {
            peer_fingerprint: Fingerprint::of_der(&peer_cert),
            stream,
            exporter,
            peer_cert,
        }
    }

    /// A "connection" over any stream with a made-up exporter and peer certificate, skipping
    /// TLS and authentication entirely. For tests of misbehaving peers and in-process
    /// pipes only: nothing about the peer is verified.
    pub fn dangerous_from_parts(
        stream: S,
        exporter: [u8; 32],
        peer_cert: CertificateDer<'static>,
    ) -> Self {
        Connected::authenticated(stream, exporter, peer_cert)
    }

    /// The TLS exporter value bound into the session transcript (RFC 8446 section 7.5).
    pub fn exporter(&self) -> &[u8; 32] {
        &self.exporter
    }

    /// The peer's end-entity certificate (DER), already pinned or chained to a CA.
    pub fn peer_certificate(&self) -> &CertificateDer<'static> {
        &self.peer_cert
    }

    /// SHA-256 of the peer's certificate.
    pub fn peer_fingerprint(&self) -> Fingerprint {
        self.peer_fingerprint
    }

    /// The stream, for the driver.
    pub fn into_stream(self) -> S {
        self.stream
    }
}

/// The TLS exporter value of a connection (label `EXPORTER-blindmatch-v1-channel-binding`, no context, 32
/// bytes).
///
/// # Errors
/// [`Error::Tls`] if the connection cannot export (handshake not complete).
pub fn exporter<D>(conn: &rustls::ConnectionCommon<D>) -> Result<[u8; 32]> {
    conn.export_keying_material([0u8; 32], dst::TLS_EXPORTER_LABEL, None)
        .map_err(|e| Error::tls(TlsReason::Exporter, format!("TLS exporter: {e}")))
}
