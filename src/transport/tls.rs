//! rustls configurations: TLS 1.3 only, ring provider, mutual authentication with the agency
//! identity on both sides and [`PeerVerifier`] deciding who the peer may be.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};

use super::verifier::{PeerAuth, PeerVerifier};
use crate::error::{ConfigReason, Error, Result, TlsReason};
use crate::identity::Identity;

/// The name the initiator asks for (the certificates of `identity new` carry it as a SAN).
pub const PEER_NAME: &str = "blindmatch-peer";

/// The server name used in the client hello.
pub fn server_name() -> ServerName<'static> {
    ServerName::DnsName(rustls::pki_types::DnsName::try_from(PEER_NAME).expect("valid DNS name"))
}

/// The initiator's (client's) configuration.
///
/// # Errors
/// [`Error::Config`] if the identity or the peer authentication is unusable.
pub fn client_config(identity: &Identity, auth: &PeerAuth) -> Result<Arc<ClientConfig>> {
    let verifier = PeerVerifier::new(auth)?;
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| Error::config(ConfigReason::Tls, format!("TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(vec![identity.cert().clone()], identity.private_key())
            .map_err(|e| Error::config(ConfigReason::Tls, format!("TLS client identity: {e}")))?;
    Ok(Arc::new(config))
}

/// The responder's (server's) configuration; a client certificate is mandatory.
///
/// # Errors
/// [`Error::Config`] if the identity or the peer authentication is unusable.
pub fn server_config(identity: &Identity, auth: &PeerAuth) -> Result<Arc<ServerConfig>> {
    let verifier = PeerVerifier::new(auth)?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| Error::config(ConfigReason::Tls, format!("TLS: {e}")))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![identity.cert().clone()], identity.private_key())
            .map_err(|e| Error::config(ConfigReason::Tls, format!("TLS server identity: {e}")))?;
    Ok(Arc::new(config))
}

/// The peer's end-entity certificate (DER) on an established connection.
pub fn peer_certificate<D>(
    conn: &rustls::ConnectionCommon<D>,
) -> Option<rustls::pki_types::CertificateDer<'static>> {
    conn.peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.clone().into_owned())
}

/// Maps a TLS-level I/O error into [`Error::Tls`], keeping rustls' explanation (which names
/// the refused fingerprint when our verifier refused the peer).
pub fn tls_error(what: &str, e: std::io::Error) -> Error {
    use rustls::AlertDescription as A;
    let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return Error::tls(TlsReason::Handshake, format!("{what}: {e}"));
    };
    let reason = match inner {
        rustls::Error::InvalidCertificate(_) => TlsReason::PeerRefused,
        rustls::Error::NoCertificatesPresented => TlsReason::NoPeerCertificate,
        rustls::Error::AlertReceived(
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateRequired
            | A::AccessDenied,
        ) => TlsReason::RefusedByPeer,
        _ => TlsReason::Handshake,
    };
    let mut err = crate::error::TlsError::new(reason, format!("{what}: {inner}"));
    if let rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) = inner {
        err.refused_fingerprint = other
            .0
            .downcast_ref::<super::verifier::Refused>()
            .map(|r| r.fingerprint().to_string());
    }
    Error::Tls(err)
}
