//! [`PeerIdentity`]: who the peer is, as this connection's TLS handshake established it.

use ed25519_dalek::VerifyingKey;

use crate::error::Result;
use crate::identity::{cert_common_name, cert_identity_key, Fingerprint};

/// The peer of a session: the certificate it presented in this connection (already pinned or
/// chained to a configured CA by the transport) and what the session takes from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// SHA-256 of its end-entity certificate (DER).
    pub fingerprint: Fingerprint,
    /// The agency's name: the certificate's common name (empty if it has none).
    pub name: String,
    /// The Ed25519 identity key of the certificate, which must sign the peer's receipt.
    pub key: VerifyingKey,
}

impl PeerIdentity {
    /// The identity in a certificate (DER).
    ///
    /// # Errors
    /// [`crate::Error::PeerMisbehaved`] if the certificate holds no Ed25519 key.
    pub fn from_cert(der: &[u8]) -> Result<Self> {
        Ok(PeerIdentity {
            fingerprint: Fingerprint::of_der(der),
            name: cert_common_name(der).unwrap_or_default(),
            key: cert_identity_key(der)?,
        })
    }
}
