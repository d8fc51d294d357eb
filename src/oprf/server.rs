//! The server side of RFC 9497 OPRF mode: the key (`DeriveKeyPair` or random), `BlindEvaluate`
//! over a batch, and the server's own full evaluation `Evaluate(skS, input)` over a batch.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use rayon::prelude::*;
use zeroize::Zeroizing;

use super::suite::{OprfOutput, Suite};
use crate::error::{Error, Result};
use crate::group::batch::{self, BATCH};
use crate::group::{SessionKey, WireElement};

/// The largest OPRF input RFC 9497 allows (its length is encoded in two bytes).
pub const MAX_INPUT_LEN: usize = u16::MAX as usize;

/// A server's OPRF private key `skS`: a non-zero scalar, zeroized on drop.
///
/// There is no public way to read it; [`crate::index`] stores it encrypted.
#[derive(Debug)]
pub struct OprfKey {
    key: SessionKey,
}

impl OprfKey {
    /// A fresh uniformly random non-zero key (RFC 9497 `RandomScalar`), drawn as a session key
    /// is ([`SessionKey::random`]: the scalar draw of `protocol-spec/01-suite.md` 1.6).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        OprfKey {
            key: SessionKey::random(rng),
        }
    }

    /// RFC 9497 section 3.2.1 `DeriveKeyPair(seed, info)` (the private half).
    ///
    /// # Errors
    /// [`Error::Input`] if `info` is longer than 65535 bytes, or (with probability about
    /// 2^-2000) if 256 counters all give zero, the RFC's `DeriveKeyPairError`.
    pub fn derive(suite: Suite, seed: &[u8; 32], info: &[u8]) -> Result<Self> {
        let info_len = u16::try_from(info.len())
            .map_err(|_| Error::LegacyInput("OPRF key info longer than 65535 bytes".into()))?
            .to_be_bytes();
        let dst = suite.derive_key_pair_dst();
        for counter in 0..=255u8 {
            let sk = suite.hash_to_scalar(&[seed, &info_len, info, &[counter]], &dst);
            if let Some(key) = SessionKey::from_scalar(sk) {
                return Ok(OprfKey { key });
            }
        }
        Err(Error::LegacyInput(
            "DeriveKeyPairError: no non-zero scalar".into(),
        ))
    }

    /// The key with a given scalar (for keys stored at rest). `None` for zero.
    pub(crate) fn from_scalar(scalar: Scalar) -> Option<Self> {
        SessionKey::from_scalar(scalar).map(|key| OprfKey { key })
    }

    /// The scalar's 32-byte little-endian encoding, for wrapping at rest only.
    pub(crate) fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.scalar().to_bytes())
    }

    /// The public key `pkS = skS * G`, serialized (RFC 9497 `DeriveKeyPair`'s second half).
    pub fn public_key(&self) -> WireElement {
        WireElement::encode(
            &self
                .key
                .mul(&curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT),
        )
    }

    /// RFC 9497 section 3.3.1 `BlindEvaluate` over a batch: `encode(skS * decode(e))`,
    /// parallel and chunked ([`batch::reblind`]).
    ///
    /// # Errors
    /// [`Error::LegacyInvalidElement`] for the first element that is not canonical or is the
    /// identity (RFC 9497 `DeserializeError`); nothing is evaluated then.
    pub fn blind_evaluate(&self, blinded: &[WireElement]) -> Result<Vec<WireElement>> {
        batch::reblind(&self.key, blinded)
    }

    /// The server's own evaluation of its inputs, `Finalize(x, 1, BlindEvaluate(skS,
    /// HashToGroup(x)))` (RFC 9497 section 3.3.1 `Evaluate` without the blind), over a
    /// batch: hash-to-group, multiply, batched encoding and the suite's hash, in parallel.
    ///
    /// # Errors
    /// [`Error::Input`] if an input is longer than 65535 bytes or hashes to the identity
    /// (RFC 9497 `InvalidInputError`).
    pub fn evaluate<I: AsRef<[u8]> + Sync>(
        &self,
        suite: Suite,
        inputs: &[I],
    ) -> Result<Vec<OprfOutput>> {
        check_lengths(inputs)?;
        let dst = suite.hash_to_group_dst();
        let mut out = vec![[0u8; 64]; inputs.len()];
        out.par_chunks_mut(BATCH)
            .zip(inputs.par_chunks(BATCH))
            .try_for_each(|(out, inputs)| {
                let halves = inputs
                    .iter()
                    .map(|x| {
                        let p = suite.hash_to_group(&[x.as_ref()], &dst);
                        non_identity(p).map(|p| self.key.mul_half(&p))
                    })
                    .collect::<Result<Vec<RistrettoPoint>>>()?;
                let encoded = RistrettoPoint::double_and_compress_batch(&halves);
                for ((o, x), n) in out.iter_mut().zip(inputs).zip(encoded) {
                    *o = suite.finalize_hash(x.as_ref(), n.as_bytes());
                }
                Ok::<(), Error>(())
            })?;
        Ok(out)
    }
}

/// RFC 9497 inputs are at most 65535 bytes.
pub(crate) fn check_lengths<I: AsRef<[u8]>>(inputs: &[I]) -> Result<()> {
    match inputs.iter().position(|x| x.as_ref().len() > MAX_INPUT_LEN) {
        Some(i) => Err(Error::LegacyInput(format!(
            "OPRF input {i} is longer than {MAX_INPUT_LEN} bytes; shorten the identifier"
        ))),
        None => Ok(()),
    }
}

/// RFC 9497 `InvalidInputError` when `HashToGroup` gives the identity.
pub(crate) fn non_identity(p: RistrettoPoint) -> Result<RistrettoPoint> {
    use curve25519_dalek::traits::IsIdentity;
    if p.is_identity() {
        Err(Error::LegacyInput(
            "an OPRF input hashes to the identity element (InvalidInputError)".into(),
        ))
    } else {
        Ok(p)
    }
}
