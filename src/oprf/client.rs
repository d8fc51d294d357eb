//! The client side of RFC 9497 OPRF mode over a batch: `Blind` then `Finalize`.
//!
//! [`Blinded`] holds the blinds (zeroized on drop) and is consumed by [`Blinded::finalize`],
//! so a set of blinds is used for exactly one evaluation.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use rayon::prelude::*;
use zeroize::Zeroizing;

use super::server::{check_lengths, non_identity};
use super::suite::{OprfOutput, Suite};
use crate::error::{Error, Result};
use crate::group::batch::BATCH;
use crate::group::WireElement;

/// The client's state after `Blind`: one secret blind per input, in input order.
pub struct Blinded {
    suite: Suite,
    blinds: Zeroizing<Vec<Scalar>>,
}

impl std::fmt::Debug for Blinded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blinded({}, {} blinds)", self.suite, self.blinds.len())
    }
}

/// RFC 9497 section 3.3.1 `Blind` over a batch with fresh random blinds: returns the state
/// to finalize with and `blindedElement_i = encode(blind_i * HashToGroup(input_i))`.
///
/// # Errors
/// [`Error::Input`] if an input is longer than 65535 bytes or hashes to the identity.
pub fn blind<I: AsRef<[u8]> + Sync, R: CryptoRng + ?Sized>(
    suite: Suite,
    inputs: &[I],
    rng: &mut R,
) -> Result<(Blinded, Vec<WireElement>)> {
    let blinds: Vec<Scalar> = (0..inputs.len())
        .map(|_| loop {
            let s = Scalar::random(rng);
            if s != Scalar::ZERO {
                break s;
            }
        })
        .collect();
    blind_with(suite, inputs, blinds)
}

/// `Blind` with given blinds: for the RFC 9497 test vectors and the committed vector
/// generator. Use [`blind`] otherwise.
///
/// # Errors
/// As [`blind`], and [`Error::Input`] if the counts differ or a blind is zero.
pub fn blind_with<I: AsRef<[u8]> + Sync>(
    suite: Suite,
    inputs: &[I],
    blinds: Vec<Scalar>,
) -> Result<(Blinded, Vec<WireElement>)> {
    let blinds = Zeroizing::new(blinds);
    if blinds.len() != inputs.len() || blinds.contains(&Scalar::ZERO) {
        return Err(Error::LegacyInput(
            "one non-zero blind per OPRF input is required".into(),
        ));
    }
    check_lengths(inputs)?;
    let dst = suite.hash_to_group_dst();
    let half = Scalar::from(2u8).invert();
    let mut out = vec![WireElement([0; 32]); inputs.len()];
    out.par_chunks_mut(BATCH)
        .zip(inputs.par_chunks(BATCH).zip(blinds.par_chunks(BATCH)))
        .try_for_each(|(out, (inputs, blinds))| {
            let halves = inputs
                .iter()
                .zip(blinds)
                .map(|(x, r)| {
                    let p = non_identity(suite.hash_to_group(&[x.as_ref()], &dst))?;
                    Ok((r * half) * p)
                })
                .collect::<Result<Vec<RistrettoPoint>>>()?;
            encode_doubled(&halves, out);
            Ok::<(), Error>(())
        })?;
    Ok((Blinded { suite, blinds }, out))
}

impl Blinded {
    /// The number of blinded inputs.
    pub fn len(&self) -> usize {
        self.blinds.len()
    }

    /// True when there are no inputs.
    pub fn is_empty(&self) -> bool {
        self.blinds.is_empty()
    }

    /// RFC 9497 section 3.3.1 `Finalize` over the batch: `N_i = blind_i^-1 * decode(Z_i)`,
    /// output `Hash(len(x) || x || len(N) || encode(N) || "Finalize")`. The blinds are
    /// inverted with one batched inversion; `N` is encoded with the batched encoding.
    /// `inputs` must be the inputs given to [`blind`], in the same order.
    ///
    /// # Errors
    /// [`Error::Input`] if the counts differ; [`Error::LegacyInvalidElement`] for the first
    /// evaluated element that is not canonical or is the identity (a peer's fault).
    pub fn finalize<I: AsRef<[u8]> + Sync>(
        self,
        inputs: &[I],
        evaluated: &[WireElement],
    ) -> Result<Vec<OprfOutput>> {
        if inputs.len() != self.blinds.len() {
            return Err(Error::LegacyInput(
                "Finalize needs the inputs that were blinded".into(),
            ));
        }
        if evaluated.len() != self.blinds.len() {
            return Err(Error::LegacyPeerMisbehaved(format!(
                "{} evaluated elements for {} blinded ones",
                evaluated.len(),
                self.blinds.len()
            )));
        }
        let suite = self.suite;
        let half = Scalar::from(2u8).invert();
        let mut inverses = Zeroizing::new(self.blinds.to_vec());
        let mut out = vec![[0u8; 64]; inputs.len()];
        out.par_chunks_mut(BATCH)
            .zip(inverses.par_chunks_mut(BATCH))
            .zip(inputs.par_chunks(BATCH).zip(evaluated.par_chunks(BATCH)))
            .enumerate()
            .try_for_each(|(chunk, ((out, inverses), (inputs, evaluated)))| {
                Scalar::invert_batch_alloc(inverses);
                let halves = inverses
                    .iter()
                    .zip(evaluated)
                    .enumerate()
                    .map(|(i, (inv, z))| {
                        z.decode().map(|z| (inv * half) * z).map_err(|reason| {
                            Error::LegacyInvalidElement {
                                index: chunk * BATCH + i,
                                reason,
                            }
                        })
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

fn encode_doubled(halves: &[RistrettoPoint], out: &mut [WireElement]) {
    for (o, c) in out
        .iter_mut()
        .zip(RistrettoPoint::double_and_compress_batch(halves))
    {
        *o = c.into();
    }
}
