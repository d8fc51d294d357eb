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
            .ok_or_else(|| Error::internal("tags to encode are not sorted"))?;
        let mut q = delta >> rice_bits;
        while q > 0 {
            let run = q.min(56) as u32;
            w.put(u64::MAX, run);
            q -= u128::from(run);
        }
        w.put(0, 1);
        let mut k = rice_bits;
        while k > 0 {
            let take = k.min(56);
            k -= take;
            w.put((delta >> k) as u64, take);
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
    let bad = |why: &'static str| -> Error {
        crate::error::PeerMisbehaved::MalformedMessage {
            message: "tag code",
            problem: crate::error::Malformed::Field(why),
        }
        .into()
    };
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
        let low = r.read(rice_bits).ok_or_else(|| bad("truncated"))?;
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

/// Appends bits most significant first; fewer than 8 bits wait in `acc`.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl BitWriter {
    /// Appends the low `k` bits of `v` (`k <= 56`).
    fn put(&mut self, v: u64, k: u32) {
        let mask = if k == 64 { u64::MAX } else { (1u64 << k) - 1 };
        self.acc = (self.acc << k) | (v & mask);
        self.pending += k;
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
        self.acc &= (1u64 << self.pending) - 1;
    }

    fn finish(mut self) -> Vec<u8> {
        if self.pending > 0 {
            self.bytes.push((self.acc << (8 - self.pending)) as u8);
        }
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

    /// The next `k <= 128` bits as an integer, most significant first.
    fn read(&mut self, k: u32) -> Option<u128> {
        if self.pos + k as usize > self.bytes.len() * 8 {
            return None;
        }
        let mut v: u128 = 0;
        let mut k = k;
        while k > 0 {
            let byte = self.bytes[self.pos / 8];
            let avail = 8 - (self.pos % 8) as u32;
            let take = avail.min(k);
            let bits = (u32::from(byte) >> (avail - take)) & ((1u32 << take) - 1);
            v = (v << take) | u128::from(bits);
            self.pos += take as usize;
            k -= take;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(mut tags in proptest::collection::vec(0u128..(1 << 70), 0..200), r in 58u32..69) {
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
    fn known_encoding() {
        // r = 3: 5 = q 0, low 101; 9 - 5 = 4 = q 0, low 100; 30 - 9 = 21 = q 2, low 101.
        let mut p = 0;
        let bytes = encode(&[5, 9, 30], 3, &mut p).expect("sorted");
        assert_eq!(bytes, vec![0b0101_0100, 0b1101_0100]);
        let mut q = 0;
        assert_eq!(
            decode(&bytes, 3, 8, 3, &mut q).expect("valid"),
            vec![5, 9, 30]
        );
        // Wide values and long runs of ones.
        let tags = [0u128, (1 << 103) + 12345, (1 << 104) - 1];
        let mut p = 0;
        let bytes = encode(&tags, 100, &mut p).expect("sorted");
        let mut q = 0;
        assert_eq!(
            decode(&bytes, 3, 104, 100, &mut q).expect("valid"),
            tags.to_vec()
        );
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
