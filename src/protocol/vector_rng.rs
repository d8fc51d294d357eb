//! The RNG of the published test vectors: a byte stream the spec defines exactly
//! (`protocol-spec/01-suite.md` section 1.6.2), so every value a vector session draws can be
//! rebuilt from its seed label.
//!
//! ```text
//! stream(label) = SHAKE256( lp8(TEST_VECTOR_SEED) || label ), read sequentially
//! lp8(x)        = u8(len(x)) || x
//! ```
//!
//! `fill_bytes(out)` returns the next `out.len()` bytes of the stream; `next_u32` and
//! `next_u64` are the next 4 and 8 bytes read as little-endian integers. Calls concatenate:
//! however a reader splits its reads, it gets the same bytes.
//!
//! **Never use it outside test vectors**: its seed is public, so everything it draws is
//! public. It implements [`rand_core::CryptoRng`] only so that the protocol's constructors,
//! which take a `CryptoRng`, can be driven by it.

use std::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Shake256, Shake256Reader};

use crate::dst::TEST_VECTOR_SEED;

/// `SHAKE256(lp8(TEST_VECTOR_SEED) || label)` read as a stream of random bytes.
pub struct VectorRng {
    reader: Shake256Reader,
}

impl VectorRng {
    /// The stream of `label`.
    pub fn new(label: &[u8]) -> Self {
        const SEED_LEN: u8 = {
            assert!(TEST_VECTOR_SEED.len() <= 255);
            TEST_VECTOR_SEED.len() as u8
        };
        let mut h = Shake256::default();
        h.update(&[SEED_LEN]);
        h.update(TEST_VECTOR_SEED);
        h.update(label);
        VectorRng {
            reader: h.finalize_xof(),
        }
    }
}

impl std::fmt::Debug for VectorRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VectorRng")
    }
}

impl TryRng for VectorRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.reader.read(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.reader.read(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.reader.read(dst);
        Ok(())
    }
}

impl TryCryptoRng for VectorRng {}

#[cfg(test)]
mod tests {
    use rand_core::Rng;

    use super::*;

    #[test]
    fn the_stream_is_shake256_of_the_length_prefixed_seed_and_the_label() {
        let mut expected = [0u8; 100];
        let mut h = Shake256::default();
        h.update(b"\x1eblindmatch-v1-test-vector-seed");
        h.update(b"dh-psi/intersection");
        h.finalize_xof().read(&mut expected);

        // However the reads are split, they are the stream in order.
        let mut rng = VectorRng::new(b"dh-psi/intersection");
        let mut got = [0u8; 100];
        rng.fill_bytes(&mut got[..3]);
        rng.fill_bytes(&mut got[3..67]);
        let word = rng.next_u32();
        got[67..71].copy_from_slice(&word.to_le_bytes());
        let word = rng.next_u64();
        got[71..79].copy_from_slice(&word.to_le_bytes());
        rng.fill_bytes(&mut got[79..]);
        assert_eq!(got, expected);

        let mut other = [0u8; 100];
        VectorRng::new(b"dh-psi/mutual").fill_bytes(&mut other);
        assert_ne!(other, expected);
    }
}
