//! The Expand-Convolute code's dual encoding, which compresses silent VOLE's sparse noise
//! into a pseudorandom vector (`protocol-spec/08-vole-psi.md` section 8.5.1).
//!
//! Raghuraman, Rindal and Tanguy, "Expand-Convolute Codes for Pseudorandom Correlation
//! Generators from LPN" (CRYPTO 2023, ePrint 2023/882), with the shape libOTe uses for its
//! `ExConv7x24` code: rate 1/2, an accumulator of 24 random taps applied twice, and an expander
//! of row weight 7, 4 of them regular (one in each quarter) and 3 uniform. For a noise vector
//! `e` of `n` entries and a message of `k ≤ n/2`, the output is
//! `y = e[..k] + B · C(e[k..])`, where `C` is the convolution (in place, in order) and `B` the
//! expander. Its randomness is public (AES in counter mode under a key derived from a tag and
//! the message size), the same for both parties.
//!
//! The taps are 0 or 1, but the accumulator's last tap of each position multiplies by the
//! constant [`MIX`] of GF(2^128), as libOTe's `ExConvCode::accOne` does through
//! `CoeffCtxGF128::mulConst`: with only binary coefficients, bit `j` of every output would depend
//! on bit `j` of the noise alone, and an attacker could solve 128 binary LPN instances of noise
//! weight about 64 each (the "splitting attack" libOTe's `CoeffCtx.h` describes) instead of one
//! over GF(2^128). The code stays GF(2^128)-linear: `E(u + v·Δ) = E(u) + E(v)·Δ`.

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;

use super::gf128::Gf128;
use crate::dst;
use crate::error::Result;
use crate::protocol::Interrupt;

/// Random taps of the accumulator after each position.
pub(crate) const ACCUMULATOR_TAPS: usize = 24;
/// The constant the accumulator's last tap multiplies by: `4234123421` (the value libOTe
/// uses, here in this crate's representation of GF(2^128)); any element outside GF(2) mixes
/// the bits.
pub(crate) const MIX: Gf128 = Gf128(4_234_123_421);

/// Row weight of the expander.
pub(crate) const EXPANDER_WEIGHT: usize = 7;
/// Of which regular: one position in each of this many equal parts.
pub(crate) const EXPANDER_REGULAR: usize = 4;

/// The AES key of the code's public random streams: the first 16 bytes of
/// `SHA3-256(I2OSP(len(tag), 4) || tag || I2OSP(k, 8))` with tag [`dst::VOLE_EXCONV_CODE`].
fn code_cipher(message: usize) -> Aes128 {
    let digest = super::sha3_tagged(dst::VOLE_EXCONV_CODE, &[&(message as u64).to_be_bytes()]);
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    Aes128::new(&Array::from(key))
}

/// Blocks of a stream made at once (64 KiB).
const STREAM_CHUNK: usize = 4096;

/// The stream of `domain`, `AES-128_K(I2OSP_LE(domain · 2^64 + n, 16))` for `n = 0, 1, ...`,
/// written into `out` from block `first` on: counter mode, so any stretch of it can be made on
/// its own, in batches of blocks (`encrypt_blocks`, which pipelines AES-NI).
fn stream_into(cipher: &Aes128, domain: u64, first: u64, out: &mut [u8]) {
    let mut blocks: Vec<Array<u8, aes::cipher::consts::U16>> = Vec::with_capacity(STREAM_CHUNK);
    for (c, chunk) in out.chunks_mut(16 * STREAM_CHUNK).enumerate() {
        let base = first + (c * STREAM_CHUNK) as u64;
        blocks.clear();
        blocks.extend((0..chunk.len().div_ceil(16) as u64).map(|n| {
            Array::from(((u128::from(domain) << 64) | u128::from(base + n)).to_le_bytes())
        }));
        cipher.encrypt_blocks(&mut blocks);
        for (dst, b) in chunk.chunks_mut(16).zip(&blocks) {
            dst.copy_from_slice(&b[..dst.len()]);
        }
    }
}

/// `floor(u · bound / 2^64)` for the 8 bytes at `bytes[8 · at ..]` read as a little-endian `u`
/// (public randomness: the bias, below `bound / 2^64`, is immaterial).
fn below(bytes: &[u8], at: usize, bound: usize) -> usize {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[8 * at..8 * at + 8]);
    ((u128::from(u64::from_le_bytes(b)) * bound as u128) >> 64) as usize
}

/// One pass of the convolution over `x` (length `m`), in place and in order: for each `i`,
/// with the 24 bits of the next 3 stream bytes (bit `r` is bit `r mod 8`, least significant
/// first, of byte `r / 8`), `x[(i + 1 + r) mod m] += x[i]` for each set bit `r`, then
/// `x[(i + 25) mod m] = (x[(i + 25) mod m] + x[i]) · MIX`.
///
/// The taps are public, but they are applied with masks rather than branches (a branch on a
/// random bit is mispredicted half the time); positions whose window does not wrap use no
/// modulo.
///
/// `stop` is checked once a buffer (16,384 positions), so that a cancelled session does not
/// wait for the pass over a large vector.
fn accumulate(x: &mut [Gf128], cipher: &Aes128, domain: u64, stop: &Interrupt) -> Result<()> {
    let m = x.len();
    // Positions whose taps one buffer holds: a multiple of 16, so that every buffer starts on
    // a block boundary (position i's taps are bytes 3i .. 3i + 3).
    const PER_BUFFER: usize = 16 * 1024;
    let mut taps = vec![0u8; 3 * PER_BUFFER];
    let per_chunk = PER_BUFFER;
    let mut i = 0;
    while i < m {
        stop.check()?;
        let count = per_chunk.min(m - i);
        // Position i's taps start at byte 3i, a multiple of 16 bytes at every buffer start.
        let bytes = &mut taps[..3 * count];
        stream_into(cipher, domain, (3 * i / 16) as u64, bytes);
        for (j, t) in bytes.chunks_exact(3).enumerate() {
            let p = i + j;
            let bits = u32::from(t[0]) | (u32::from(t[1]) << 8) | (u32::from(t[2]) << 16);
            let xi = x[p].0;
            if p + 1 + ACCUMULATOR_TAPS < m {
                let window = &mut x[p + 1..p + 2 + ACCUMULATOR_TAPS];
                for (r, y) in window[..ACCUMULATOR_TAPS].iter_mut().enumerate() {
                    y.0 ^= xi & u128::from((bits >> r) & 1).wrapping_neg();
                }
                let last = &mut window[ACCUMULATOR_TAPS];
                *last = (*last + Gf128(xi)).mul_mix();
            } else {
                for r in 0..ACCUMULATOR_TAPS {
                    x[(p + 1 + r) % m].0 ^= xi & u128::from((bits >> r) & 1).wrapping_neg();
                }
                let last = (p + 1 + ACCUMULATOR_TAPS) % m;
                x[last] = (x[last] + Gf128(xi)).mul_mix();
            }
        }
        i += count;
    }
    Ok(())
}

/// Outputs the expander handles per task (even, so that every task's uniform draws start on a
/// block boundary: output `r` uses bytes `24r .. 24r + 24` of domain 3 and `32r .. 32r + 32` of
/// domain 2).
const EXPANDER_CHUNK: usize = 2048;

/// The dual encoding of `e` (length `n ≥ 2k`, `k ≥ 1`): `k` values.
///
/// # Errors
/// [`crate::Error::Cancelled`] once `stop` is raised (checked between batches).
///
/// # Panics
/// Never for `n ≥ 2k` and `k ≥ 1`, which every caller in this crate ensures (an internal
/// assertion otherwise).
pub(crate) fn dual_encode(e: &[Gf128], k: usize, stop: &Interrupt) -> Result<Vec<Gf128>> {
    let mut out = dual_encode_all(&[e], k, stop)?;
    Ok(out.pop().unwrap_or_default())
}

/// The dual encodings of several vectors of the same length under the same code: the
/// convolutions run in parallel (one vector each) and the expander reads its public random
/// indices once for all of them.
///
/// # Errors
/// As [`dual_encode`].
///
/// # Panics
/// As [`dual_encode`], and if the vectors' lengths differ.
pub(crate) fn dual_encode_all(
    es: &[&[Gf128]],
    k: usize,
    stop: &Interrupt,
) -> Result<Vec<Vec<Gf128>>> {
    use rayon::prelude::*;
    let n = es.first().map_or(0, |e| e.len());
    assert!(
        k >= 1 && n >= 2 * k && es.iter().all(|e| e.len() == n),
        "the code's shape"
    );
    let cipher = code_cipher(k);
    let suffixes: Vec<Vec<Gf128>> = es
        .par_iter()
        .map(|e| {
            let mut suffix = e[k..].to_vec();
            accumulate(&mut suffix, &cipher, 0, stop)?;
            accumulate(&mut suffix, &cipher, 1, stop)?;
            Ok(suffix)
        })
        .collect::<Result<_>>()?;
    let m = n - k;
    let step = m / EXPANDER_REGULAR;
    let mut outs: Vec<Vec<Gf128>> = es.iter().map(|e| e[..k].to_vec()).collect();
    // Output r of every vector, computed chunk by chunk in parallel.
    let chunks = k.div_ceil(EXPANDER_CHUNK);
    let sums: Vec<Vec<Gf128>> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            stop.check()?;
            let r0 = c * EXPANDER_CHUNK;
            let count = EXPANDER_CHUNK.min(k - r0);
            let mut regular = vec![0u8; 32 * count];
            let mut uniform = vec![0u8; 24 * count];
            stream_into(&cipher, 2, (2 * r0) as u64, &mut regular);
            stream_into(&cipher, 3, (3 * r0 / 2) as u64, &mut uniform);
            let mut idx = Vec::with_capacity(EXPANDER_WEIGHT * count);
            for r in 0..count {
                for j in 0..EXPANDER_REGULAR {
                    idx.push(below(&regular, EXPANDER_REGULAR * r + j, step) + j * step);
                }
                for j in 0..EXPANDER_WEIGHT - EXPANDER_REGULAR {
                    idx.push(below(
                        &uniform,
                        (EXPANDER_WEIGHT - EXPANDER_REGULAR) * r + j,
                        m,
                    ));
                }
            }
            let mut sum = Vec::with_capacity(suffixes.len() * count);
            for x in &suffixes {
                for taps in idx.chunks_exact(EXPANDER_WEIGHT) {
                    let mut y = Gf128::ZERO;
                    for &t in taps {
                        y += x[t];
                    }
                    sum.push(y);
                }
            }
            Ok(sum)
        })
        .collect::<Result<_>>()?;
    for (c, sum) in sums.iter().enumerate() {
        let r0 = c * EXPANDER_CHUNK;
        let count = EXPANDER_CHUNK.min(k - r0);
        for (v, out) in outs.iter_mut().enumerate() {
            for (y, s) in out[r0..r0 + count].iter_mut().zip(&sum[v * count..]) {
                *y += *s;
            }
        }
    }
    Ok(outs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> Interrupt {
        Interrupt::new()
    }
    use crate::vole::vectors;

    fn pseudo(n: usize, seed: u128) -> Vec<Gf128> {
        (0..n as u128)
            .map(|i| Gf128((i + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) ^ seed))
            .collect()
    }

    #[test]
    fn the_encoding_is_linear_over_gf128() {
        let (a, b) = (pseudo(200, 1), pseudo(200, 2));
        let delta = Gf128(0xabcdef);
        let sum: Vec<Gf128> = a.iter().zip(&b).map(|(x, y)| *x + *y * delta).collect();
        let (ea, eb, es) = (
            dual_encode(&a, 100, &never()).expect("encodes"),
            dual_encode(&b, 100, &never()).expect("encodes"),
            dual_encode(&sum, 100, &never()).expect("encodes"),
        );
        for i in 0..100 {
            assert_eq!(es[i], ea[i] + eb[i] * delta, "entry {i}");
        }
    }

    #[test]
    fn one_noise_entry_in_the_suffix_spreads_over_the_output() {
        // A weight-1 input in the part the code compresses touches many outputs.
        let mut e = vec![Gf128::ZERO; 2048];
        e[1500] = Gf128::ONE;
        let y = dual_encode(&e, 1024, &never()).expect("encodes");
        let touched = y.iter().filter(|v| **v != Gf128::ZERO).count();
        assert!(touched > 100, "only {touched} outputs depend on it");
        // The systematic part passes through.
        let mut e = vec![Gf128::ZERO; 2048];
        e[7] = Gf128(5);
        let y = dual_encode(&e, 1024, &never()).expect("encodes");
        assert_eq!(y[7], Gf128(5));
        assert_eq!(y.iter().filter(|v| **v != Gf128::ZERO).count(), 1);
    }

    #[test]
    fn noise_in_one_bit_spreads_over_every_bit_of_the_outputs() {
        // Without the mixing constant, a noise vector with only bit 0 set would give outputs
        // with only bit 0 set (the splitting attack).
        let mut e = vec![Gf128::ZERO; 4096];
        for i in [2100, 2500, 3000, 3900] {
            e[i] = Gf128::ONE;
        }
        let y = dual_encode(&e, 2048, &never()).expect("encodes");
        let high = y.iter().filter(|v| v.0 >> 1 != 0).count();
        assert!(
            high > 1000,
            "only {high} outputs have a bit other than bit 0"
        );
    }

    #[test]
    fn the_code_depends_on_the_message_size_and_is_deterministic() {
        let e = pseudo(64, 3);
        assert_eq!(
            dual_encode(&e, 32, &never()).expect("encodes"),
            dual_encode(&e, 32, &never()).expect("encodes")
        );
        assert_ne!(
            dual_encode(&e, 31, &never()).expect("encodes")[..31],
            dual_encode(&e, 32, &never()).expect("encodes")[..31]
        );
    }

    const VECTOR_PATH: &str = "protocol-spec/vectors/vole-exconv.json";

    /// The vector's input: `n = 40` entries of 16 bytes from the vector stream of
    /// `vole/exconv`, in order; `k = 17`.
    fn vector_input() -> Vec<Gf128> {
        let mut rng = crate::protocol::vector_rng::VectorRng::new(b"vole/exconv");
        (0..40)
            .map(|_| Gf128::from_le_bytes(crate::protocol::draw::array(&mut rng)))
            .collect()
    }

    #[test]
    fn the_committed_vector_is_what_the_library_produces() {
        let e = vector_input();
        let y = dual_encode(&e, 17, &never()).expect("encodes");
        let blocks = |v: &[Gf128]| {
            v.iter()
                .map(|x| vectors::hex(&x.to_le_bytes()))
                .collect::<Vec<_>>()
        };
        let produced = serde_json::json!({
            "description": "blindmatch Expand-Convolute dual encoding (protocol-spec/08-vole-psi.md 8.5.1): input e from the vector stream of vole/exconv, k = 17",
            "seed_label": "vole/exconv",
            "k": 17,
            "e": blocks(&e),
            "y": blocks(&y),
        });
        vectors::check_committed(VECTOR_PATH, &produced);
    }

    /// The vector's output rebuilt from spec 8.5.1 with the `aes` crate and SHA3, and this
    /// module's field multiplication (checked against a schoolbook reference in `gf128`).
    #[test]
    fn the_committed_vector_follows_from_the_spec() {
        let v = vectors::read(VECTOR_PATH);
        let block = |x: &serde_json::Value| {
            let b: [u8; 16] = hex::decode(x.as_str().expect("hex"))
                .expect("hex")
                .try_into()
                .expect("16 bytes");
            u128::from_le_bytes(b)
        };
        let e: Vec<u128> = v["e"].as_array().expect("e").iter().map(block).collect();
        let y = spec_encode(&e, 17);
        for (r, y) in y.iter().enumerate() {
            assert_eq!(block(&v["y"][r]), *y, "output {r} of 17");
        }
    }

    /// The dual encoding rebuilt from spec 8.5.1 (`super::super::spec_model`), independently
    /// of the library's code.
    fn spec_encode(e: &[u128], k: usize) -> Vec<u128> {
        crate::vole::spec_model::ex_conv(e, k)
    }

    #[test]
    fn large_and_batched_encodings_follow_the_spec() {
        // Sizes that cross the stream buffers (16384 positions) and the expander's chunks (2048
        // outputs), odd ones included.
        for (n, k) in [(40_003usize, 20_001usize), (36_000, 4_097), (20, 10)] {
            let a = pseudo(n, 5);
            let b = pseudo(n, 6);
            let want_a = spec_encode(&a.iter().map(|x| x.0).collect::<Vec<_>>(), k);
            let got = dual_encode_all(&[&a, &b], k, &never()).expect("encodes");
            assert_eq!(
                got[0].iter().map(|x| x.0).collect::<Vec<_>>(),
                want_a,
                "n {n}, k {k}"
            );
            assert_eq!(got[1], dual_encode(&b, k, &never()).expect("encodes"));
            assert_eq!(got[0], dual_encode(&a, k, &never()).expect("encodes"));
        }
    }

    #[test]
    fn a_raised_interrupt_stops_the_encoding() {
        let stop = Interrupt::new();
        stop.raise(crate::error::CancelReason::Interrupted);
        let e = pseudo(1 << 12, 5);
        assert!(matches!(
            dual_encode(&e, 1 << 11, &stop),
            Err(crate::Error::Cancelled(
                crate::error::CancelReason::Interrupted
            ))
        ));
    }
}
