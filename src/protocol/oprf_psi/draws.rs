//! The random draws of an OPRF-PSI session, each read from the RNG through `fill_bytes` in a
//! stated order (`protocol-spec/07-oprf-psi.md` section 7.5), so a vector generator with a
//! specified byte stream gives reproducible sessions.

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroize;

/// 32 uniformly random bytes.
pub(crate) fn bytes32<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; 32] {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    b
}

/// A uniformly random non-zero scalar: 64 bytes read as a little-endian integer and reduced
/// modulo `l`, drawn again if zero.
pub(crate) fn scalar<R: CryptoRng + ?Sized>(rng: &mut R) -> Scalar {
    loop {
        let mut wide = [0u8; 64];
        rng.fill_bytes(&mut wide);
        let s = Scalar::from_bytes_mod_order_wide(&wide);
        wide.zeroize();
        if s != Scalar::ZERO {
            return s;
        }
    }
}

/// A uniform integer in `[0, n)` for `n >= 1`: 8 bytes read as a little-endian `u64`, drawn
/// again while at or above the largest multiple of `n` (NIST SP 800-90A Rev. 1, appendix
/// A.5.1, the simple discard method, on the residue), then reduced modulo `n`.
pub(crate) fn index_below<R: CryptoRng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    debug_assert!(n >= 1);
    let zone = u64::MAX - (u64::MAX % n + 1) % n;
    loop {
        let mut b = [0u8; 8];
        rng.fill_bytes(&mut b);
        let x = u64::from_le_bytes(b);
        if x <= zone {
            return x % n;
        }
    }
}

/// Fisher–Yates (Durstenfeld) shuffle, Knuth TAOCP vol. 2 section 3.4.2 algorithm P: for
/// `i` from `len - 1` down to 1, swap entry `i` with entry `index_below(i + 1)`.
pub(crate) fn shuffle<T, R: CryptoRng + ?Sized>(rng: &mut R, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = index_below(rng, i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn index_below_is_in_range_and_covers_it() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            seen[index_below(&mut rng, 7) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
        assert_eq!(index_below(&mut rng, 1), 0);
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let mut v: Vec<u32> = (0..100).collect();
        shuffle(&mut rng, &mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
