//! Who may connect: a peer is accepted only if its certificate matches a pinned SHA-256
//! fingerprint, or chains to a configured CA. Anything else is refused during the TLS handshake,
//! before any protocol byte, with an error that names the fingerprint seen.
//!
//! One [`PeerVerifier`] serves both sides: it is rustls' `ServerCertVerifier` for the initiator
//! and `ClientCertVerifier` (client certificate mandatory) for the responder. Handshake
//! signatures are checked with the ring provider's algorithms, TLS 1.3 only.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

use crate::error::{ConfigReason, Error, Result};
use crate::identity::Fingerprint;

/// How the peer is authenticated.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PeerAuth {
    /// Accepted certificate fingerprints (SHA-256 of the DER).
    pub pinned: Vec<Fingerprint>,
    /// CA certificates (DER) a peer certificate may chain to instead.
    pub ca: Vec<CertificateDer<'static>>,
}

impl PeerAuth {
    /// Accept exactly the certificate with this fingerprint.
    pub fn pinned(fp: Fingerprint) -> Self {
        PeerAuth {
            pinned: vec![fp],
            ca: Vec::new(),
        }
    }

    /// Accept any of these certificates (none: accept no pinned certificate, only CAs).
    pub fn pinned_to_any(fingerprints: Vec<Fingerprint>) -> Self {
        PeerAuth {
            pinned: fingerprints,
            ca: Vec::new(),
        }
    }
}

/// Why the verifier refused a certificate (carried inside rustls' error).
#[derive(Debug)]
pub struct Refused(pub String, pub Fingerprint);

impl Refused {
    /// The fingerprint of the certificate refused.
    pub fn fingerprint(&self) -> Fingerprint {
        self.1
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The rustls verifier for both roles.
#[derive(Debug)]
pub struct PeerVerifier {
    pinned: Vec<Fingerprint>,
    server_ca: Option<Arc<WebPkiServerVerifier>>,
    client_ca: Option<Arc<dyn ClientCertVerifier>>,
    algs: WebPkiSupportedAlgorithms,
}

impl PeerVerifier {
    /// Builds the verifier.
    ///
    /// # Errors
    /// [`Error::Config`] if neither a pin nor a CA is given, or a CA certificate is unusable.
    pub fn new(auth: &PeerAuth) -> Result<Arc<Self>> {
        if auth.pinned.is_empty() && auth.ca.is_empty() {
            return Err(Error::config(
                ConfigReason::Peers,
                "no peer to trust: pin the peer's certificate fingerprint (printed by its \
                 `identity new`) or configure a CA",
            ));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (server_ca, client_ca) = if auth.ca.is_empty() {
            (None, None)
        } else {
            let mut roots = RootCertStore::empty();
            for c in &auth.ca {
                roots.add(c.clone()).map_err(|e| {
                    Error::config(ConfigReason::Peers, format!("unusable CA certificate: {e}"))
                })?;
            }
            let roots = Arc::new(roots);
            let s = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                .build()
                .map_err(|e| Error::config(ConfigReason::Peers, format!("CA verifier: {e}")))?;
            let c = WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| Error::config(ConfigReason::Peers, format!("CA verifier: {e}")))?;
            (Some(s), Some(c))
        };
        Ok(Arc::new(PeerVerifier {
            pinned: auth.pinned.clone(),
            server_ca,
            client_ca,
            algs: provider.signature_verification_algorithms,
        }))
    }

    fn is_pinned(&self, end_entity: &CertificateDer<'_>) -> bool {
        let seen = Fingerprint::of_der(end_entity);
        self.pinned.iter().any(|p| p.ct_eq(&seen))
    }

    fn refusal(
        &self,
        end_entity: &CertificateDer<'_>,
        ca_error: Option<rustls::Error>,
    ) -> rustls::Error {
        let seen = Fingerprint::of_der(end_entity);
        let ca = match ca_error {
            Some(e) => format!(" and does not chain to a configured CA ({e})"),
            None => String::new(),
        };
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
            Arc::new(Refused(
                format!(
                    "peer certificate refused: its SHA-256 fingerprint {seen} is not pinned{ca}"
                ),
                seen,
            )),
        )))
    }
}

impl ServerCertVerifier for PeerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if self.is_pinned(end_entity) {
            return Ok(ServerCertVerified::assertion());
        }
        let ca_error = match &self.server_ca {
            Some(v) => match v.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(ok) => return Ok(ok),
                Err(e) => Some(e),
            },
            None => None,
        };
        Err(self.refusal(end_entity, ca_error))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

impl ClientCertVerifier for PeerVerifier {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        if self.is_pinned(end_entity) {
            return Ok(ClientCertVerified::assertion());
        }
        let ca_error = match &self.client_ca {
            Some(v) => match v.verify_client_cert(end_entity, intermediates, now) {
                Ok(ok) => return Ok(ok),
                Err(e) => Some(e),
            },
            None => None,
        };
        Err(self.refusal(end_entity, ca_error))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls12NotOffered,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ca_and_leaf() -> (
        CertificateDer<'static>,
        CertificateDer<'static>,
        CertificateDer<'static>,
    ) {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let leaf_params =
            rcgen::CertificateParams::new(vec!["blindmatch-peer".to_string()]).unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let other_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let other = rcgen::CertificateParams::new(vec!["blindmatch-peer".to_string()])
            .unwrap()
            .self_signed(&other_key)
            .unwrap();
        (
            ca_cert.der().clone(),
            leaf.der().clone(),
            other.der().clone(),
        )
    }

    #[test]
    fn pinned_or_ca_accepted_anything_else_refused_naming_the_fingerprint() {
        let (ca, leaf, other) = ca_and_leaf();
        let now = UnixTime::now();
        let name = super::super::tls::server_name();

        let by_ca = PeerVerifier::new(&PeerAuth {
            pinned: vec![],
            ca: vec![ca],
        })
        .unwrap();
        assert!(by_ca.verify_client_cert(&leaf, &[], now).is_ok());
        assert!(by_ca
            .verify_server_cert(&leaf, &[], &name, &[], now)
            .is_ok());
        let err = by_ca.verify_client_cert(&other, &[], now).unwrap_err();
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
        // The refusal names the fingerprint seen, for the operator.
        assert!(
            err.to_string()
                .contains(&Fingerprint::of_der(&other).to_string()),
            "{err}"
        );

        let pinned = PeerVerifier::new(&PeerAuth::pinned(Fingerprint::of_der(&other))).unwrap();
        assert!(pinned.verify_client_cert(&other, &[], now).is_ok());
        assert!(pinned
            .verify_server_cert(&other, &[], &name, &[], now)
            .is_ok());
        let err = pinned
            .verify_server_cert(&leaf, &[], &name, &[], now)
            .unwrap_err();
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
        assert!(
            err.to_string()
                .contains(&Fingerprint::of_der(&leaf).to_string()),
            "{err}"
        );

        assert!(matches!(
            PeerVerifier::new(&PeerAuth::default()),
            Err(Error::Config(c)) if c.reason == ConfigReason::Peers
        ));
    }
}
