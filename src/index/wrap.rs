//! The index's OPRF key, encrypted at rest under a key-encryption key derived from a
//! passphrase file (`protocol-spec/07-oprf-psi.md` section 8).
//!
//! `KEK = SHAKE256(INDEX_KEY_WRAP || salt || passphrase)[0..32]`, with a random 16-byte salt
//! per index; the wrapped key is `nonce (12 random bytes) || ChaCha20-Poly1305(KEK, nonce,
//! scalar (32 bytes, little-endian), aad = FORMAT || suite code)`.
//!
//! There is no password stretching: the passphrase file must hold at least 32 bytes, and
//! should be random (for example `head -c 32 /dev/urandom | base64`), not a memorable phrase.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake256;
use zeroize::Zeroizing;

use crate::dst;
use crate::error::{ConfigReason, Error, Result};
use crate::oprf::{OprfKey, Suite};

/// Shortest passphrase accepted, in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 32;

/// Format identifier of an index directory, also bound into the wrapped key.
pub const FORMAT: &str = "blindmatch-oprf-index-v1";

fn kek(salt: &[u8; 16], passphrase: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    if passphrase.len() < MIN_PASSPHRASE_LEN {
        return Err(Error::config(
            ConfigReason::Index,
            format!(
                "the passphrase file holds {} bytes; it needs at least {MIN_PASSPHRASE_LEN} \
                 random bytes (create one with `head -c 32 /dev/urandom | base64 > FILE`)",
                passphrase.len()
            ),
        ));
    }
    let mut h = Shake256::default();
    h.update(dst::INDEX_KEY_WRAP);
    h.update(salt);
    h.update(passphrase);
    let mut k = Zeroizing::new([0u8; 32]);
    h.finalize_xof().read(&mut k[..]);
    Ok(k)
}

fn aad(suite: Suite) -> Vec<u8> {
    let mut a = FORMAT.as_bytes().to_vec();
    a.push(suite.code());
    a
}

/// Wraps `key`: returns the 12-byte nonce followed by the 48-byte ciphertext.
///
/// # Errors
/// [`Error::Config`] with [`ConfigReason::Index`] if the passphrase is too short;
/// [`Error::Internal`] if encryption fails.
pub fn wrap<R: CryptoRng + ?Sized>(
    key: &OprfKey,
    suite: Suite,
    salt: &[u8; 16],
    passphrase: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let kek = kek(salt, passphrase)?;
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let secret = key.to_bytes();
    let ct = ChaCha20Poly1305::new(Key::from_slice(&kek[..]))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &secret[..],
                aad: &aad(suite),
            },
        )
        .map_err(|_| Error::internal("wrapping the index key failed"))?;
    Ok([nonce.as_slice(), &ct].concat())
}

/// Unwraps a key wrapped by [`wrap`].
///
/// # Errors
/// [`Error::Config`] with [`ConfigReason::Index`] if the passphrase is wrong or too short, or
/// the wrapped key was altered.
pub fn unwrap(wrapped: &[u8], suite: Suite, salt: &[u8; 16], passphrase: &[u8]) -> Result<OprfKey> {
    let kek = kek(salt, passphrase)?;
    let wrong = || {
        Error::config(
            ConfigReason::Index,
            "cannot decrypt the index key: wrong passphrase file, or key.wrapped was altered",
        )
    };
    if wrapped.len() != 12 + 32 + 16 {
        return Err(wrong());
    }
    let secret = Zeroizing::new(
        ChaCha20Poly1305::new(Key::from_slice(&kek[..]))
            .decrypt(
                Nonce::from_slice(&wrapped[..12]),
                Payload {
                    msg: &wrapped[12..],
                    aad: &aad(suite),
                },
            )
            .map_err(|_| wrong())?,
    );
    let bytes: [u8; 32] = secret[..].try_into().map_err(|_| wrong())?;
    let scalar: Option<Scalar> = Scalar::from_canonical_bytes(bytes).into();
    scalar.and_then(OprfKey::from_scalar).ok_or_else(wrong)
}
