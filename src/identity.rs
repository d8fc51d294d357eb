//! Agency identities: an Ed25519 key and a self-signed X.509 certificate.
//!
//! `blindmatch identity new` creates a directory (mode 0700) holding `identity.key` (PKCS#8
//! PEM, mode 0600) and `identity.crt` (PEM). Loading refuses a key other users may read or
//! write, and a directory they may write (`crate::file_mode`). The peer pins the certificate's SHA-256 [`Fingerprint`]. The same
//! key authenticates the TLS connection and signs audit entries and session receipts.

use std::fmt;
use std::path::Path;
#[cfg(any(test, feature = "identity-create"))]
use std::path::PathBuf;
use std::str::FromStr;

use ed25519_dalek::pkcs8::DecodePrivateKey;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

#[cfg(any(test, feature = "identity-create"))]
use crate::error::InputReason;
use crate::error::{ConfigReason, Error, PeerMisbehaved, ReceiptProblem, Result};

/// File name of the private key inside an identity directory.
pub const KEY_FILE: &str = "identity.key";
/// File name of the certificate inside an identity directory.
pub const CERT_FILE: &str = "identity.crt";

/// The SHA-256 digest of a certificate's DER encoding, as peers pin it.
///
/// Displayed as 64 lowercase hex digits; parsed with or without `:` separators, any case,
/// optionally prefixed by `sha256:`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Compares in constant time (fingerprints are public, but this costs nothing).
    pub fn ct_eq(&self, other: &Fingerprint) -> bool {
        use subtle::ConstantTimeEq;
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let t = t
            .strip_prefix("sha256:")
            .or_else(|| t.strip_prefix("SHA256:"))
            .unwrap_or(t);
        let cleaned: String = t.chars().filter(|c| *c != ':').collect();
        let mut out = [0u8; 32];
        hex::decode_to_slice(&cleaned, &mut out).map_err(|_| {
            Error::config(
                ConfigReason::Peers,
                format!(
                    "`{s}` is not a certificate fingerprint: expected 64 hex digits (SHA-256), \
                     as printed by `blindmatch identity new` or `blindmatch identity show`"
                ),
            )
        })?;
        Ok(Fingerprint(out))
    }
}

/// A loaded agency identity: what TLS needs and the signing key for audit entries.
///
/// Only [`Identity::load`] and [`Identity::from_pem`] make one, after checking that the key is
/// the certificate's; the private key never leaves the library (TLS and the audit log use it
/// inside), so a caller reads only the public parts.
pub struct Identity {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    fingerprint: Fingerprint,
    /// The Ed25519 key of the certificate (zeroized on drop by ed25519-dalek).
    signing_key: ed25519_dalek::SigningKey,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// What `Identity::create` wrote.
#[cfg(any(test, feature = "identity-create"))]
#[derive(Debug, Clone)]
pub struct Created {
    /// Path of the key file.
    pub key_path: PathBuf,
    /// Path of the certificate file.
    pub cert_path: PathBuf,
    /// Fingerprint of the new certificate.
    pub fingerprint: Fingerprint,
}

impl Identity {
    /// Creates a new identity in `dir` (created with mode 0700 if missing, whatever the
    /// umask): an Ed25519 key (mode 0600) and a self-signed certificate whose subject common
    /// name is `name`.
    ///
    /// # Errors
    /// [`Error::FileMode`] if `dir` exists and the group or others may write it;
    /// [`Error::Config`] with [`ConfigReason::Identity`] if a key or certificate already exists
    /// there and `force` is false; [`Error::Input`] with [`InputReason::Argument`] if `name` is
    /// empty; [`Error::Internal`] if key or certificate generation fails; [`Error::Io`] if the
    /// files cannot be written.
    #[cfg(any(test, feature = "identity-create"))]
    pub fn create(dir: &Path, name: &str, force: bool) -> Result<Created> {
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        if !force {
            for p in [&key_path, &cert_path] {
                if p.exists() {
                    return Err(Error::Config(
                        crate::error::ConfigError::new(
                            ConfigReason::Identity,
                            format!(
                                "{} already exists; refusing to overwrite an identity (replacing \
                                 it changes the fingerprint peers have pinned)",
                                p.display()
                            ),
                        )
                        .about(crate::error::Setting::Overwrite),
                    ));
                }
            }
        }
        if name.trim().is_empty() {
            return Err(Error::Input(
                crate::error::InputError::new(
                    InputReason::Argument,
                    "the identity name is empty: an agency name such as \"Customs Agency A\" \
                     is needed",
                )
                .about(crate::error::Setting::IdentityName),
            ));
        }
        crate::file_mode::create_private_dir(dir)?;
        crate::file_mode::check(dir)?;
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map_err(|e| Error::internal(format!("generating an Ed25519 key: {e}")))?;
        let mut params = rcgen::CertificateParams::new(vec!["blindmatch-peer".to_string()])
            .map_err(|e| Error::internal(format!("certificate parameters: {e}")))?;
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CommonName, name);
        params.distinguished_name = dn;
        let now = std::time::SystemTime::now();
        params.not_before = (now - std::time::Duration::from_secs(3600)).into();
        params.not_after = (now + std::time::Duration::from_secs(5 * 365 * 24 * 3600)).into();
        let cert = params
            .self_signed(&key_pair)
            .map_err(|e| Error::internal(format!("self-signing the certificate: {e}")))?;
        write_private(&key_path, key_pair.serialize_pem().as_bytes())?;
        write_atomic(&cert_path, cert.pem().as_bytes(), false)?;
        Ok(Created {
            key_path,
            cert_path,
            fingerprint: Fingerprint::of_der(cert.der()),
        })
    }

    /// Loads the identity in `dir` (`identity.key` and `identity.crt`, PEM).
    ///
    /// # Errors
    /// [`Error::FileMode`] if the group or others may read or write `identity.key`, or write
    /// `dir` (as `sshd` refuses an unprotected key: `chmod 600 identity.key`, `chmod 700 dir`);
    /// [`Error::Config`] with [`ConfigReason::Identity`] if a file is missing, unreadable or
    /// malformed, or the key is not the certificate's Ed25519 key.
    pub fn load(dir: &Path) -> Result<Identity> {
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        let key_pem = zeroize::Zeroizing::new(crate::file_mode::read_secret(&key_path, |e| {
            Error::config(
                ConfigReason::Identity,
                format!(
                    "cannot read {}: {e} (an identity directory holds {KEY_FILE} and \
                     {CERT_FILE}; the command line creates one with `blindmatch identity new`)",
                    key_path.display()
                ),
            )
        })?);
        crate::file_mode::check(dir)?;
        let cert_pem = std::fs::read(&cert_path).map_err(|e| {
            Error::config(
                ConfigReason::Identity,
                format!("cannot read {}: {e}", cert_path.display()),
            )
        })?;
        Identity::from_pem(&cert_pem, &key_pem).map_err(|e| match e {
            Error::Config(c) => Error::config(
                c.reason,
                format!(
                    "{} / {}: {}",
                    cert_path.display(),
                    key_path.display(),
                    c.detail
                ),
            ),
            other => other,
        })
    }

    /// An identity from its certificate and PKCS#8 Ed25519 private key, both PEM, as a secrets
    /// store hands them out (no directory needed).
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Identity`] if either is malformed or the key is
    /// not the certificate's Ed25519 key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Identity> {
        let bad = |what: String| Error::config(ConfigReason::Identity, what);
        let cert = CertificateDer::from_pem_slice(cert_pem)
            .map_err(|e| bad(format!("not a PEM certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| bad(format!("not a PEM private key: {e}")))?;
        let key_text = std::str::from_utf8(key_pem)
            .map_err(|_| bad("the private key PEM is not text".to_owned()))?;
        let signing_key = ed25519_dalek::SigningKey::from_pkcs8_pem(key_text)
            .map_err(|e| bad(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        let public = cert_public_key(&cert)
            .ok_or_else(|| bad("the certificate does not hold an Ed25519 key".to_owned()))?;
        if public != signing_key.verifying_key().to_bytes() {
            return Err(bad(
                "the private key is not the key of the certificate".to_owned()
            ));
        }
        let fingerprint = Fingerprint::of_der(&cert);
        Ok(Identity {
            cert,
            key,
            fingerprint,
            signing_key,
        })
    }

    /// A copy of the private key for a rustls configuration.
    pub(crate) fn private_key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// The certificate, DER.
    pub fn cert(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The SHA-256 fingerprint of [`Identity::cert`], which peers pin.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The certificate's Ed25519 public key: the key that verifies this agency's audit log
    /// and session receipts.
    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The signing key (audit entries, receipts), for the library only.
    pub(crate) fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.signing_key
    }
}

/// The SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 section 4): the fixed DER prefix
/// before the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The Ed25519 public key of a certificate, read from its parsed SubjectPublicKeyInfo
/// (rustls-webpki parses the certificate, the same parse TLS used to check the peer's
/// handshake signature), which must be exactly the RFC 8410 Ed25519 encoding.
fn cert_public_key(cert: &[u8]) -> Option<[u8; 32]> {
    let der = CertificateDer::from(cert);
    let parsed = webpki::EndEntityCert::try_from(&der).ok()?;
    let spki = parsed.subject_public_key_info();
    let key = spki.strip_prefix(&ED25519_SPKI_PREFIX[..])?;
    key.try_into().ok()
}

/// The Ed25519 identity key bound to a certificate: its subject public key. The same key
/// authenticated the TLS connection, so a signature under it (a session receipt) comes from
/// the party on the other end of the connection.
///
/// # Errors
/// [`Error::PeerMisbehaved`] with [`PeerMisbehaved::BadReceipt`] of
/// [`ReceiptProblem::WrongSigner`] if the certificate does not parse or its key is not a valid
/// Ed25519 key: nothing the peer signs can then be signed by its certificate's key.
pub fn cert_identity_key(cert: &[u8]) -> Result<ed25519_dalek::VerifyingKey> {
    let wrong_signer = || Error::from(PeerMisbehaved::BadReceipt(ReceiptProblem::WrongSigner));
    let bytes = cert_public_key(cert).ok_or_else(wrong_signer)?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| wrong_signer())
}

/// The subject common name of a certificate (the agency name given to `identity new`), if it
/// has one: for display and the audit log, never for authentication.
pub fn cert_common_name(cert: &[u8]) -> Option<String> {
    let der = CertificateDer::from(cert);
    let parsed = webpki::EndEntityCert::try_from(&der).ok()?;
    let mut name = Der(parsed.subject());
    // Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY } (contents only here).
    while let Some((0x31, mut rdn)) = name.tlv() {
        while let Some((0x30, mut atv)) = rdn.tlv() {
            let oid = atv.tlv();
            let value = atv.tlv();
            if let (Some((0x06, oid)), Some((0x0c | 0x13 | 0x16, value))) = (oid, value) {
                if oid.0 == [0x55, 0x04, 0x03] {
                    return String::from_utf8(value.0.to_vec()).ok();
                }
            }
        }
    }
    None
}

/// A minimal DER reader over already-parsed certificate fields: one tag-length-value at a
/// time, lengths in short form or long form of up to 4 bytes.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    fn tlv(&mut self) -> Option<(u8, Der<'a>)> {
        let (&tag, rest) = self.0.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            first as usize
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return None;
        }
        let (value, rest) = rest.split_at(len);
        self.0 = rest;
        Some((tag, Der(value)))
    }
}

#[cfg(any(test, feature = "identity-create"))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes, true)
}

/// Writes to a temporary file in the same directory, then renames (mode 0600 when `private`).
#[cfg(any(test, feature = "identity-create"))]
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io(format!("creating a file in {}", dir.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if private { 0o600 } else { 0o644 };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(format!("setting the mode of {}", path.display()), e))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e.error))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ConfigError;

    fn is_config(e: &Error, want: ConfigReason) -> bool {
        matches!(e, Error::Config(ConfigError { reason, .. }) if *reason == want)
    }

    #[test]
    fn an_identity_loads_from_pem_bytes_and_a_foreign_key_is_refused() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        Identity::create(a.path(), "Agency A", false).unwrap();
        Identity::create(b.path(), "Agency B", false).unwrap();
        let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
        let from_bytes =
            Identity::from_pem(&read(a.path(), CERT_FILE), &read(a.path(), KEY_FILE)).unwrap();
        let loaded = Identity::load(a.path()).unwrap();
        assert_eq!(from_bytes.fingerprint, loaded.fingerprint);
        assert_eq!(
            from_bytes.signing_key.verifying_key(),
            loaded.signing_key.verifying_key()
        );
        let mixed = Identity::from_pem(&read(a.path(), CERT_FILE), &read(b.path(), KEY_FILE));
        assert!(is_config(&mixed.unwrap_err(), ConfigReason::Identity));
        let garbage = Identity::from_pem(b"not pem", &read(a.path(), KEY_FILE));
        assert!(is_config(&garbage.unwrap_err(), ConfigReason::Identity));
    }

    #[test]
    fn create_load_and_refuse_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let created = Identity::create(dir.path(), "Customs Agency A", false).unwrap();
        let id = Identity::load(dir.path()).unwrap();
        assert_eq!(id.fingerprint, created.fingerprint);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&created.key_path)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let err = Identity::create(dir.path(), "Customs Agency A", false).unwrap_err();
        assert!(is_config(&err, ConfigReason::Identity), "{err:?}");
        assert!(matches!(
            Identity::create(&dir.path().join("new"), " ", false),
            Err(Error::Input(crate::error::InputError {
                reason: InputReason::Argument,
                ..
            }))
        ));
        assert_eq!(
            Identity::load(dir.path()).unwrap().fingerprint,
            created.fingerprint
        );
        let again = Identity::create(dir.path(), "Customs Agency A", true).unwrap();
        assert_ne!(again.fingerprint, created.fingerprint);
        // The signing key is the certificate's key.
        let id = Identity::load(dir.path()).unwrap();
        assert_eq!(
            Some(id.signing_key.verifying_key().to_bytes()),
            cert_public_key(&id.cert)
        );
        assert_eq!(
            cert_identity_key(&id.cert).unwrap(),
            id.signing_key.verifying_key()
        );
        assert_eq!(
            cert_common_name(&id.cert).as_deref(),
            Some("Customs Agency A")
        );
        assert!(matches!(
            cert_identity_key(b"not a certificate"),
            Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(
                ReceiptProblem::WrongSigner
            )))
        ));
        assert_eq!(cert_common_name(b"junk"), None);
    }

    #[test]
    fn mismatched_key_and_cert_refused() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        Identity::create(a.path(), "A", false).unwrap();
        Identity::create(b.path(), "B", false).unwrap();
        std::fs::copy(b.path().join(KEY_FILE), a.path().join(KEY_FILE)).unwrap();
        let err = Identity::load(a.path()).unwrap_err();
        assert!(is_config(&err, ConfigReason::Identity), "{err:?}");
        // A missing identity too.
        let none = tempfile::tempdir().unwrap();
        let err = Identity::load(none.path()).unwrap_err();
        assert!(is_config(&err, ConfigReason::Identity), "{err:?}");
    }

    #[test]
    fn fingerprint_parsing() {
        let f = Fingerprint([0xab; 32]);
        let s = f.to_string();
        assert_eq!(s.parse::<Fingerprint>().unwrap(), f);
        let colons: Vec<String> = f.0.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(colons.join(":").parse::<Fingerprint>().unwrap(), f);
        assert_eq!(format!("sha256:{s}").parse::<Fingerprint>().unwrap(), f);
        let bad = "abcd".parse::<Fingerprint>().unwrap_err();
        assert!(is_config(&bad, ConfigReason::Peers), "{bad:?}");
        let bad = s.replace('a', "g").parse::<Fingerprint>().unwrap_err();
        assert!(is_config(&bad, ConfigReason::Peers), "{bad:?}");
    }
}
