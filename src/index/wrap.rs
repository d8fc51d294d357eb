//! The index's OPRF key, encrypted at rest under the key-encryption key of [`super::kdf`]
//! (`protocol-spec/07-oprf-psi.md` section 7.8.1):
//!
//! ```text
//! key.wrapped = nonce (12 random bytes) || ChaCha20-Poly1305(KEK, nonce, SerializeScalar(skS), aad)
//! aad         = FORMAT (24 bytes, ASCII) || suite code (1) || epoch id (16)
//!               || I2OSP(created, 8) || I2OSP(not_after, 8)
//! ```
//!
//! The AAD binds the key to its format, suite and epoch: an epoch whose dates were altered
//! in `index.json` (to serve an expired key longer) no longer unwraps.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::epoch::KeyEpoch;
use crate::error::{ConfigReason, Error, Result};
use crate::oprf::{OprfKey, Suite};
use crate::protocol::draw;

/// Format identifier of an index directory, also bound into the wrapped key.
pub const FORMAT: &str = "blindmatch-oprf-index-v3";

/// Length of `key.wrapped`: nonce, scalar, Poly1305 tag.
pub const WRAPPED_LEN: usize = 12 + 32 + 16;

/// The 57 bytes that bind the wrapped key (and the seal key, `super::seal`) to the format,
/// the suite and the epoch.
pub(crate) fn aad(suite: Suite, epoch: &KeyEpoch) -> Vec<u8> {
    let mut a = FORMAT.as_bytes().to_vec();
    a.push(suite.code());
    a.extend_from_slice(&epoch.aad_bytes());
    a
}

/// Wraps `key` under `kek`: draws the nonce (`bytes(12)`), returns the 60 bytes of
/// `key.wrapped`.
///
/// # Errors
/// [`Error::Internal`] if encryption fails.
pub fn wrap<R: CryptoRng + ?Sized>(
    key: &OprfKey,
    suite: Suite,
    epoch: &KeyEpoch,
    kek: &[u8; 32],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let nonce = draw::array::<12, R>(rng);
    let secret = key.to_bytes();
    let ct = ChaCha20Poly1305::new(Key::from_slice(kek))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &secret[..],
                aad: &aad(suite, epoch),
            },
        )
        .map_err(|_| Error::internal("wrapping the index key failed"))?;
    Ok([nonce.as_slice(), &ct].concat())
}

/// Unwraps a key wrapped by [`wrap`].
///
/// # Errors
/// [`Error::Config`] with [`ConfigReason::Index`] if the passphrase is wrong, or the wrapped
/// key or the epoch or suite in `index.json` was altered.
pub fn unwrap(wrapped: &[u8], suite: Suite, epoch: &KeyEpoch, kek: &[u8; 32]) -> Result<OprfKey> {
    let wrong = || {
        Error::config(
            ConfigReason::Index,
            "cannot decrypt the index key: wrong passphrase file, or key.wrapped or the epoch \
             in index.json was altered",
        )
    };
    if wrapped.len() != WRAPPED_LEN {
        return Err(wrong());
    }
    let secret = Zeroizing::new(
        ChaCha20Poly1305::new(Key::from_slice(kek))
            .decrypt(
                Nonce::from_slice(&wrapped[..12]),
                Payload {
                    msg: &wrapped[12..],
                    aad: &aad(suite, epoch),
                },
            )
            .map_err(|_| wrong())?,
    );
    let bytes: [u8; 32] = secret[..].try_into().map_err(|_| wrong())?;
    let scalar: Option<Scalar> = Scalar::from_canonical_bytes(bytes).into();
    scalar.and_then(OprfKey::from_scalar).ok_or_else(wrong)
}
