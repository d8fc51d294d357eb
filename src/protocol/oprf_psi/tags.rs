//! Tags and their compact encoding (`protocol-spec/07-oprf-psi.md` sections 4 and 5).
//!
//! The full tag of an item is the first 16 bytes of `SHAKE256(OPRF_PSI_TAG || output)`,
//! read as a big-endian integer; a session sends its top `b = tag_bits` bits. Sorting is
//! preserved by truncation, so a sender keeps its full tags sorted once and for all.
//!
//! A chunk of sorted `b`-bit tags is Rice coded: each tag minus the previous one (the first
//! of the session minus 0; chunks continue from the previous chunk's last tag) is written
//! as its quotient by `2^r` in unary (`q` one bits then a zero bit) followed by its low `r`
//! bits, most significant first; bits fill bytes from the most significant bit; the last
//! byte is padded with zero bits.

use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake256;

use crate::dst;
use crate::error::{Error, Result};
use crate::oprf::OprfOutput;

/// The full 128-bit tag of an OPRF output.
pub fn full_tag(output: &OprfOutput) -> u128 {
    let mut h = Shake256::default();
    h.update(dst::OPRF_PSI_TAG);
    h.update(output);
    let mut t = [0u8; 16];
    h.finalize_xof().read(&mut t);
    u128::from_be_bytes(t)
}

/// The top `bits` bits of a full tag (`1 <= bits <= 128`).
pub fn truncate(full: u128, bits: u32) -> u128 {
    if bits >= 128 {
        full
    } else {
        full >> (128 - bits)
    }
}

/// Rice-codes sorted tags, continuing from `prev` (updated to the last tag).
///
/// # Errors
/// [`Error::Input`] if the tags are not sorted (a bug of the caller).
pub fn encode(tags: &[u128], rice_bits: u32, prev: &mut u128) -> Result<Vec<u8>> {
    let mut w = BitWriter::default();
    for &t in tags {
        let delta = t
            .checked_sub(*prev)
            .ok_or_else(|| Error::Input("tags to encode are not sorted".into()))?;
        let q = delta >> rice_bits;
        for _ in 0..q {
            w.push(true);
        }
        w.push(false);
        for i in (0..rice_bits).rev() {
            w.push((delta >> i) & 1 == 1);
        }
        *prev = t;
    }
    Ok(w.finish())
}

/// Decodes exactly `count` tags of `tag_bits` bits from `bytes`, continuing from `prev`.
/// Bounded: a quotient above `2^(tag_bits - rice_bits)` or a tag of more than `tag_bits`
/// bits is refused before it is used.
///
/// # Errors
/// [`Error::PeerMisbehaved`] if the bytes run out, hold bits past the last tag (other than
/// zero padding in the last byte), or decode to a tag out of range.
pub fn decode(
    bytes: &[u8],
    count: usize,
    tag_bits: u32,
    rice_bits: u32,
    prev: &mut u128,
) -> Result<Vec<u128>> {
    let bad = |why: &str| Error::PeerMisbehaved(format!("malformed tag encoding: {why}"));
    let max_q: u128 = 1u128 << (tag_bits - rice_bits).min(127);
    let limit: u128 = if tag_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << tag_bits) - 1
    };
    let mut r = BitReader { bytes, pos: 0 };
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut q: u128 = 0;
        loop {
            match r.next() {
                Some(true) => {
                    q += 1;
                    if q > max_q {
                        return Err(bad("quotient out of range"));
                    }
                }
                Some(false) => break,
                None => return Err(bad("truncated")),
            }
        }
        let mut low: u128 = 0;
        for _ in 0..rice_bits {
            let bit = r.next().ok_or_else(|| bad("truncated"))?;
            low = (low << 1) | u128::from(bit);
        }
        let delta = (q << rice_bits) | low;
        let t = prev
            .checked_add(delta)
            .filter(|t| *t <= limit)
            .ok_or_else(|| bad("tag out of range"))?;
        out.push(t);
        *prev = t;
    }
    if r.pos.div_ceil(8) != bytes.len()
        || (!r.pos.is_multiple_of(8) && bytes[r.pos / 8] << (r.pos % 8) != 0)
    {
        return Err(bad("trailing bits"));
    }
    Ok(out)
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u32,
}

impl BitWriter {
    fn push(&mut self, bit: bool) {
        if self.used.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit {
            if let Some(last) = self.bytes.last_mut() {
                *last |= 0x80 >> (self.used % 8);
            }
        }
        self.used = (self.used + 1) % 8;
    }

    fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn next(&mut self) -> Option<bool> {
        let byte = self.bytes.get(self.pos / 8)?;
        let bit = byte & (0x80 >> (self.pos % 8)) != 0;
        self.pos += 1;
        Some(bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(mut tags in proptest::collection::vec(0u128..(1 << 70), 0..200), r in 62u32..69) {
            tags.sort_unstable();
            let mut p = 0;
            let bytes = encode(&tags, r, &mut p).expect("sorted");
            let mut q = 0;
            prop_assert_eq!(decode(&bytes, tags.len(), 70, r, &mut q).expect("valid"), tags);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64), n in 0usize..20) {
            let mut p = 0;
            let _ = decode(&bytes, n, 60, 50, &mut p);
        }
    }

    #[test]
    fn trailing_garbage_and_truncation_are_refused() {
        let tags = [5u128, 9, 1 << 30];
        let mut p = 0;
        let mut bytes = encode(&tags, 28, &mut p).expect("sorted");
        let mut q = 0;
        assert!(decode(&bytes[..bytes.len() - 1], 3, 40, 28, &mut q).is_err());
        bytes.push(0);
        let mut q = 0;
        assert!(decode(&bytes, 3, 40, 28, &mut q).is_err());
    }
}
