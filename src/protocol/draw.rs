//! Specified random draws: every random value a protocol draws, defined byte for byte over
//! the RNG's byte stream (`protocol-spec/01-suite.md` section 1.6), so that a test vector's
//! every value can be rebuilt from its seed by an implementation that has never seen this code.
//!
//! Every draw reads the RNG only through [`rand_core::Rng::fill_bytes`] and consumes an
//! exactly defined number of bytes, in order. Over an RNG whose `fill_bytes` calls concatenate
//! (each call returns the next bytes of one stream, as the vector RNG
//! [`crate::protocol::vector_rng::VectorRng`] does), the values drawn are therefore a function
//! of that stream alone, whatever the batching below. Production passes the operating
//! system's RNG (or a CSPRNG seeded from it), where only uniformity matters.
//!
//! | draw | reads | value |
//! |---|---|---|
//! | [`bytes`] | exactly `out.len()` bytes | those bytes |
//! | [`array`] | exactly `N` bytes | those bytes |
//! | [`byte_strings`] | exactly `count * N` bytes | `count` successive [`array`] draws |
//! | [`scalar`] | 64 bytes, again while the result is zero | `Scalar::from_bytes_mod_order_wide` of them (little-endian, reduced mod `l`) |
//! | [`scalars`] | as `count` successive [`scalar`] draws | those scalars |
//! | [`index_below`]`(n)` | 8 bytes, again while rejected | `x mod n` for the first little-endian `x < 2^64 - (2^64 mod n)` |
//! | [`shuffle`] | one [`index_below`] per position, last position first | Fisher–Yates |
//!
//! [`index_below`] is a discard (rejection) method in the sense of NIST SP 800-90A Rev. 1,
//! Appendix A.5.1 ("The Simple Discard Method"), applied to 64-bit draws over `[0, q * n)`
//! with `q = floor(2^64 / n)`: that range holds exactly `q` copies of `[0, n)`, so `x mod n`
//! is uniform. [`shuffle`] is the Fisher–Yates shuffle in Durstenfeld's form (R. Durstenfeld,
//! "Algorithm 235: Random permutation", CACM 7(7), 1964; D. E. Knuth, *The Art of Computer
//! Programming*, vol. 2, 3rd ed., section 3.4.2, Algorithm P): for `i` from `len - 1` down
//! to 1, `j = index_below(i + 1)`, swap positions `i` and `j`.
//!
//! Who uses what:
//! - DH-PSI (`crate::protocol::dh`), per party: [`scalar`] (the session key), then
//!   [`byte_strings`]`::<32>` (padding dummies), then [`shuffle`] (the order of sending); the
//!   responder in cardinality mode then draws a 32-byte reply seed with [`array`]; once every
//!   element arrived it shuffles its reply with [`shuffle`] over the [`SeedStream`] of that
//!   seed, so that nothing the size of the peer's announced set is held before it arrives.
//! - An OPRF-PSI receiver can draw its per-item blinds with [`scalars`], its padding dummies
//!   with [`byte_strings`]`::<32>` and its order with [`shuffle`]; a sender its padding tags
//!   with [`byte_strings`]`::<16>` (unless served from an index, which stores them) and dummy
//!   ciphertexts of `n` bytes with [`bytes`].
//! - A precomputed index (`crate::index`, spec 7.8.4), at creation: [`scalar`] (the key),
//!   [`array`]`::<16>` (the epoch id), [`array`]`::<16>` (the Argon2id salt), [`array`]`::<12>`
//!   (the wrapping nonce), then [`byte_strings`]`::<16>` (the stored padding values).
//!
//! The batched draws ([`byte_strings`], [`scalars`], [`shuffle`]) read the RNG in large
//! calls (fast over the OS RNG) but never read a byte that the same draw made one value at a
//! time would not read: a refill asks for at most as many blocks as values remain, and each
//! value consumes at least one block. Buffers that held key or blind material are zeroized.

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroize;

/// A byte stream expanded from a secret 32-byte seed:
/// `SHAKE256(lp8(tag) || seed)`, read sequentially (SHAKE256 as an extendable-output PRG,
/// FIPS 202). Used where a draw must happen after its randomness was drawn.
pub(crate) struct SeedStream(sha3::Shake256Reader);

impl SeedStream {
    /// The stream of `seed` under `tag` (a domain-separation tag of [`crate::dst`]).
    pub(crate) fn new(tag: &[u8], seed: &[u8; 32]) -> Self {
        use sha3::digest::{ExtendableOutput, Update};
        let mut h = sha3::Shake256::default();
        h.update(&[tag.len() as u8]);
        h.update(tag);
        h.update(seed);
        SeedStream(h.finalize_xof())
    }
}

impl rand_core::TryRng for SeedStream {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        sha3::digest::XofReader::read(&mut self.0, &mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        sha3::digest::XofReader::read(&mut self.0, &mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        sha3::digest::XofReader::read(&mut self.0, dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SeedStream {}

/// Blocks a batched draw reads per `fill_bytes` call, at most.
const BATCH: usize = 4096;

/// Fills `out` with exactly `out.len()` bytes of the stream.
pub(crate) fn bytes<R: CryptoRng + ?Sized>(rng: &mut R, out: &mut [u8]) {
    rng.fill_bytes(out);
}

/// The next `N` bytes of the stream.
#[allow(dead_code, reason = "for OPRF-PSI, see the module docs")]
pub(crate) fn array<const N: usize, R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; N] {
    let mut out = [0u8; N];
    bytes(rng, &mut out);
    out
}

/// `count` strings of `N` bytes: the next `count * N` bytes of the stream, in order (string
/// `i` is bytes `i * N .. (i + 1) * N`), read in one call.
pub(crate) fn byte_strings<const N: usize, R: CryptoRng + ?Sized>(
    rng: &mut R,
    count: usize,
) -> Vec<[u8; N]> {
    let mut out = vec![[0u8; N]; count];
    bytes(rng, out.as_flattened_mut());
    out
}

/// The scalar of one 64-byte block, or `None` for zero.
fn scalar_of(block: &[u8; 64]) -> Option<Scalar> {
    let s = Scalar::from_bytes_mod_order_wide(block);
    (s != Scalar::ZERO).then_some(s)
}

/// A uniformly random non-zero scalar: 64 bytes read as a little-endian integer and reduced
/// modulo `l` (`Scalar::from_bytes_mod_order_wide`), drawn again while the result is zero.
/// The bias of the reduction is below `2^-250`.
pub(crate) fn scalar<R: CryptoRng + ?Sized>(rng: &mut R) -> Scalar {
    let mut block = [0u8; 64];
    loop {
        bytes(rng, &mut block);
        if let Some(s) = scalar_of(&block) {
            block.zeroize();
            return s;
        }
    }
}

/// `count` successive [`scalar`] draws, reading the stream in batches.
#[allow(dead_code, reason = "for OPRF-PSI, see the module docs")]
pub(crate) fn scalars<R: CryptoRng + ?Sized>(rng: &mut R, count: usize) -> Vec<Scalar> {
    let mut out = Vec::with_capacity(count);
    let mut blocks = Blocks::<64, R>::new(rng);
    while out.len() < count {
        // Every scalar still due reads at least one block.
        let block = blocks.next(count - out.len());
        if let Some(s) = scalar_of(&block) {
            out.push(s);
        }
    }
    out
}

/// `x mod n` for the first 8-byte little-endian `x` of the stream below the largest multiple
/// of `n` that fits in 64 bits, `2^64 - (2^64 mod n)`: a uniform integer in `[0, n)`.
///
/// # Panics
/// If `n` is zero.
#[allow(dead_code, reason = "for OPRF-PSI, see the module docs")]
pub(crate) fn index_below<R: CryptoRng + ?Sized>(rng: &mut R, n: u64) -> u64 {
    let limit = Limit::new(n);
    loop {
        if let Some(i) = limit.accept(u64::from_le_bytes(array(rng))) {
            return i;
        }
    }
}

/// The rejection rule of [`index_below`] for one `n`.
struct Limit {
    n: u64,
    /// The largest accepted draw: `2^64 - (2^64 mod n) - 1`.
    max: u64,
}

impl Limit {
    fn new(n: u64) -> Self {
        assert!(n > 0, "index_below(0)");
        // 2^64 mod n, computed without 2^64.
        let rem = (u64::MAX % n + 1) % n;
        Limit {
            n,
            max: u64::MAX - rem,
        }
    }

    fn accept(&self, x: u64) -> Option<u64> {
        (x <= self.max).then_some(x % self.n)
    }
}

/// Shuffles `items` with the Fisher–Yates shuffle (Durstenfeld's form, Knuth's Algorithm P):
/// for `i` from `len - 1` down to 1, `j = index_below(i + 1)`, then positions `i` and `j` are
/// swapped. Reads exactly the bytes those `index_below` draws read, in that order.
///
/// # Panics
/// If `items` has more than `2^64` elements (never: a slice's length is a `usize`).
pub(crate) fn shuffle<T, R: CryptoRng + ?Sized>(rng: &mut R, items: &mut [T]) {
    let mut words = Blocks::<8, R>::new(rng);
    for i in (1..items.len()).rev() {
        let limit = Limit::new(i as u64 + 1);
        let j = loop {
            // Draws still due: this one and the i - 1 after it, each at least one word.
            if let Some(j) = limit.accept(u64::from_le_bytes(words.next(i))) {
                break j;
            }
        };
        items.swap(i, j as usize);
    }
}

/// Reads the stream in blocks of `N` bytes, many blocks per `fill_bytes` call, never more
/// blocks than the caller says it will still consume.
struct Blocks<'r, const N: usize, R: ?Sized> {
    rng: &'r mut R,
    buf: Vec<u8>,
    pos: usize,
}

impl<'r, const N: usize, R: CryptoRng + ?Sized> Blocks<'r, N, R> {
    fn new(rng: &'r mut R) -> Self {
        Blocks {
            rng,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// The next block of the stream. `due` is a lower bound on the blocks the caller will
    /// still take, this one included, so a refill of `min(due, BATCH)` blocks never reads
    /// past the last block the caller takes.
    fn next(&mut self, due: usize) -> [u8; N] {
        if self.pos == self.buf.len() {
            let blocks = due.clamp(1, BATCH);
            self.buf.zeroize();
            self.buf.resize(blocks * N, 0);
            bytes(self.rng, &mut self.buf);
            self.pos = 0;
        }
        let mut block = [0u8; N];
        block.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        block
    }
}

impl<const N: usize, R: ?Sized> Drop for Blocks<'_, N, R> {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use rand_core::{TryCryptoRng, TryRng};

    use super::*;
    use crate::protocol::vector_rng::VectorRng;

    /// An RNG that returns given bytes, then panics: shows exactly what a draw reads.
    struct Script {
        bytes: Vec<u8>,
        pos: usize,
    }

    impl Script {
        fn new(parts: &[&[u8]]) -> Self {
            Script {
                bytes: parts.concat(),
                pos: 0,
            }
        }
    }

    impl TryRng for Script {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            unreachable!("draws read through fill_bytes only")
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            unreachable!("draws read through fill_bytes only")
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            dst.copy_from_slice(&self.bytes[self.pos..self.pos + dst.len()]);
            self.pos += dst.len();
            Ok(())
        }
    }

    impl TryCryptoRng for Script {}

    /// The group order `l = 2^252 + 27742317777372353535851937790883648493`, little-endian,
    /// as a 64-byte block (it reduces to zero).
    fn l_block() -> [u8; 64] {
        let mut block = [0u8; 64];
        hex::decode_to_slice(
            "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
            &mut block[..32],
        )
        .expect("hex");
        block
    }

    #[test]
    fn scalar_reads_64_bytes_and_draws_again_on_zero() {
        let mut one = [0u8; 64];
        one[0] = 1;
        let mut rng = Script::new(&[&[0u8; 64], &l_block(), &one]);
        assert_eq!(scalar(&mut rng), Scalar::ONE);
        assert_eq!(rng.pos, 192, "two zero blocks skipped, one used");

        // 2^512 - 1 reduced: whatever it is, it is what from_bytes_mod_order_wide says.
        let mut rng = Script::new(&[&[0xff; 64]]);
        assert_eq!(
            scalar(&mut rng),
            Scalar::from_bytes_mod_order_wide(&[0xff; 64])
        );
    }

    #[test]
    fn scalars_are_successive_scalar_draws_and_read_no_further() {
        let mut a = VectorRng::new(b"draw/scalars");
        let mut b = VectorRng::new(b"draw/scalars");
        let batched = scalars(&mut a, 5000);
        let single: Vec<Scalar> = (0..5000).map(|_| scalar(&mut b)).collect();
        assert_eq!(batched, single);
        assert_eq!(array::<32, _>(&mut a), array::<32, _>(&mut b));
        // A zero block in the middle of a batch is skipped, not counted.
        let mut one = [0u8; 64];
        one[0] = 1;
        let mut rng = Script::new(&[&one, &[0u8; 64], &one]);
        assert_eq!(scalars(&mut rng, 2), vec![Scalar::ONE, Scalar::ONE]);
        assert_eq!(rng.pos, 192);
    }

    #[test]
    fn index_below_rejects_the_top_of_the_range() {
        // 2^64 mod 3 = 1: u64::MAX is the one rejected value.
        let mut rng = Script::new(&[&u64::MAX.to_le_bytes(), &5u64.to_le_bytes()]);
        assert_eq!(index_below(&mut rng, 3), 2);
        assert_eq!(rng.pos, 16);
        let mut rng = Script::new(&[&(u64::MAX - 1).to_le_bytes()]);
        assert_eq!(index_below(&mut rng, 3), (u64::MAX - 1) % 3);
        // A power of two rejects nothing.
        let mut rng = Script::new(&[&u64::MAX.to_le_bytes()]);
        assert_eq!(index_below(&mut rng, 8), 7);
        let mut rng = Script::new(&[&u64::MAX.to_le_bytes()]);
        assert_eq!(index_below(&mut rng, 1), 0);
        // n = 2^63 + 1: 2^64 mod n = 2^63 - 1, so draws from n * 1 = 2^63 + 1 up are rejected.
        let n = (1u64 << 63) + 1;
        let mut rng = Script::new(&[
            &(1u64 << 63).to_le_bytes(),
            &n.to_le_bytes(),
            &7u64.to_le_bytes(),
        ]);
        assert_eq!(index_below(&mut rng, n), 1 << 63);
        assert_eq!(index_below(&mut rng, n), 7);
        assert_eq!(rng.pos, 24);
    }

    #[test]
    fn shuffle_is_fisher_yates_from_the_last_position() {
        // Positions 3, 2, 1 draw j = 1 (of 4), 2 (of 3), 0 (of 2).
        let draws: Vec<[u8; 8]> = [1u64, 2, 0].map(u64::to_le_bytes).to_vec();
        let parts: Vec<&[u8]> = draws.iter().map(|d| d.as_slice()).collect();
        let mut rng = Script::new(&parts);
        let mut v = ['a', 'b', 'c', 'd'];
        shuffle(&mut rng, &mut v);
        // swap(3,1): a d c b; swap(2,2): a d c b; swap(1,0): d a c b.
        assert_eq!(v, ['d', 'a', 'c', 'b']);
        assert_eq!(rng.pos, 24);
        // Zero or one element draws nothing.
        let mut rng = Script::new(&[]);
        shuffle(&mut rng, &mut [0u8; 1]);
        shuffle::<u8, _>(&mut rng, &mut []);
        assert_eq!(rng.pos, 0);
    }

    #[test]
    fn batched_shuffle_reads_exactly_what_single_draws_read() {
        for len in [2usize, 3, 100, BATCH, BATCH + 1, 3 * BATCH + 7] {
            let mut a = VectorRng::new(b"draw/shuffle");
            let mut b = VectorRng::new(b"draw/shuffle");
            let mut batched: Vec<u32> = (0..len as u32).collect();
            shuffle(&mut a, &mut batched);
            let mut single: Vec<u32> = (0..len as u32).collect();
            for i in (1..len).rev() {
                let j = index_below(&mut b, i as u64 + 1) as usize;
                single.swap(i, j);
            }
            assert_eq!(batched, single, "len {len}");
            assert_eq!(array::<16, _>(&mut a), array::<16, _>(&mut b), "len {len}");
        }
    }

    #[test]
    fn byte_strings_are_the_next_bytes() {
        let mut a = VectorRng::new(b"draw/bytes");
        let mut b = VectorRng::new(b"draw/bytes");
        let strings = byte_strings::<32, _>(&mut a, 3);
        let mut flat = [0u8; 96];
        bytes(&mut b, &mut flat);
        assert_eq!(strings.concat(), flat.to_vec());
        assert!(byte_strings::<16, _>(&mut a, 0).is_empty());
        assert_eq!(array::<8, _>(&mut a), array::<8, _>(&mut b));
    }

    #[test]
    fn index_below_is_uniform() {
        let mut rng = VectorRng::new(b"draw/uniform");
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[index_below(&mut rng, 6) as usize] += 1;
        }
        // Expected 10000 each, standard deviation ~91: 500 is over 5 deviations.
        for c in counts {
            assert!((9500..=10500).contains(&c), "{counts:?}");
        }
    }
}
