//! Reading an agency's public key for `audit verify --key`, and the key a log is pinned to
//! when it sits in an identity directory.

use std::path::Path;

use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::error::{ConfigReason, Error, Result};

/// Parses `--key`: 64 hex characters (an Ed25519 public key) or an identity directory holding
/// `identity.key` (PKCS#8 PEM), whose public key is derived, or only `identity.crt`, whose
/// Ed25519 key is read.
///
/// # Errors
/// [`Error::Config`] with [`ConfigReason::Identity`] if the value is neither, or the key file
/// is not an Ed25519 PKCS#8 key; [`Error::Io`] if the key file cannot be read.
pub fn parse_public_key(value: &str) -> Result<VerifyingKey> {
    if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(value, &mut bytes).map_err(|e| {
            Error::config(ConfigReason::Identity, format!("public key {value}: {e}"))
        })?;
        return VerifyingKey::from_bytes(&bytes).map_err(|_| {
            Error::config(
                ConfigReason::Identity,
                format!("{value} is not a valid Ed25519 public key"),
            )
        });
    }
    let dir = Path::new(value);
    // The public certificate first: an auditor may hold only it, and reading it needs no
    // secret.
    if let Some(k) = certificate_key(dir)? {
        return Ok(k);
    }
    let file = dir.join("identity.key");
    if !file.is_file() {
        return Err(Error::Config(
            crate::error::ConfigError::new(
                ConfigReason::Identity,
                format!(
                    "audit key {value}: neither 64 hex characters nor an identity directory \
                     with identity.key or identity.crt"
                ),
            )
            .about(crate::error::Setting::AuditKey),
        ));
    }
    // A secret: refused, like every secret-bearing file, when others may read it.
    let pem = zeroize::Zeroizing::new(crate::file_mode::read_secret(&file, |e| {
        Error::io(format!("reading {}", file.display()), e)
    })?);
    let pem = std::str::from_utf8(&pem).map_err(|_| {
        Error::config(
            ConfigReason::Identity,
            format!(
                "{}: not an Ed25519 PKCS#8 PEM key (not text)",
                file.display()
            ),
        )
    })?;
    let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| {
        Error::config(
            ConfigReason::Identity,
            format!("{}: not an Ed25519 PKCS#8 PEM key ({e})", file.display()),
        )
    })?;
    Ok(key.verifying_key())
}

/// The identity key of the identity directory a log sits in: the Ed25519 key of
/// `identity.crt` (public, so an auditor who may not read `identity.key` still pins it), or
/// of `identity.key` when there is no certificate; `None` when the log's directory holds
/// neither.
///
/// # Errors
/// [`Error::Config`] with [`ConfigReason::Identity`] if the certificate or key is there but
/// malformed; [`Error::Io`] if it cannot be read.
pub fn identity_key_of_log(log: &Path) -> Result<Option<VerifyingKey>> {
    let dir = log
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(k) = certificate_key(dir)? {
        return Ok(Some(k));
    }
    if dir.join(crate::identity::KEY_FILE).is_file() {
        return parse_public_key(&dir.to_string_lossy()).map(Some);
    }
    Ok(None)
}

/// The Ed25519 key of `dir/identity.crt`, if there is one.
fn certificate_key(dir: &Path) -> Result<Option<VerifyingKey>> {
    let cert = dir.join(crate::identity::CERT_FILE);
    if !cert.is_file() {
        return Ok(None);
    }
    let pem =
        std::fs::read(&cert).map_err(|e| Error::io(format!("reading {}", cert.display()), e))?;
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(&pem).map_err(|e| {
        Error::config(
            ConfigReason::Identity,
            format!("{}: not a PEM certificate ({e})", cert.display()),
        )
    })?;
    crate::identity::cert_identity_key(&der)
        .map(Some)
        .map_err(|_| {
            Error::config(
                ConfigReason::Identity,
                format!("{}: the certificate holds no Ed25519 key", cert.display()),
            )
        })
}
