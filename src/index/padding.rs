//! The padding tags an index stores (`protocol-spec/07-oprf-psi.md` section 7.8.3), so that
//! every session served from it sends the same padding: intersecting the tag sets of two
//! sessions then gives the padded size, not the true one.
//!
//! An index built with `--pad-to N` holds `max(N - items, 0)` full 16-byte padding values in
//! `padding.bin`, in the order drawn (each `bytes(16)` of `protocol-spec/01-suite.md`
//! section 1.6). A session of `n_s` tags uses the first `n_s - items` of them, truncated to its
//! tag length. Adding `j` items drops the last `j` values; removing `j` items draws `j` new
//! ones after the others, so the invariant `values = max(N - items, 0)` always holds.

use rand_core::CryptoRng;

use crate::protocol::draw;

/// `count` fresh padding values: `count` successive `bytes(16)` draws, each read as a
/// big-endian integer.
pub(crate) fn draw_values<R: CryptoRng + ?Sized>(rng: &mut R, count: usize) -> Vec<u128> {
    draw::byte_strings::<16, R>(rng, count)
        .into_iter()
        .map(u128::from_be_bytes)
        .collect()
}

/// Brings `values` to `target` entries: drops values from the end, or draws new ones after
/// the others.
pub(crate) fn resize<R: CryptoRng + ?Sized>(values: &mut Vec<u128>, target: usize, rng: &mut R) {
    if values.len() > target {
        values.truncate(target);
    } else {
        let more = draw_values(rng, target - values.len());
        values.extend(more);
    }
}

/// `padding.bin`: the values in order, 16 bytes each, big-endian.
pub(crate) fn encode(values: &[u128]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// Parses `padding.bin` of exactly `count` values; `None` if its length differs.
pub(crate) fn decode(bytes: &[u8], count: usize) -> Option<Vec<u128>> {
    if bytes.len() != count.checked_mul(16)? {
        return None;
    }
    Some(
        bytes
            .chunks_exact(16)
            .map(|c| {
                let mut b = [0u8; 16];
                b.copy_from_slice(c);
                u128::from_be_bytes(b)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::vector_rng::VectorRng;

    #[test]
    fn resizing_keeps_the_prefix_and_files_round_trip() {
        let mut rng = VectorRng::new(b"index/padding");
        let mut v = draw_values(&mut rng, 5);
        let first = v.clone();
        resize(&mut v, 3, &mut rng);
        assert_eq!(v, first[..3]);
        resize(&mut v, 6, &mut rng);
        assert_eq!(v[..3], first[..3]);
        assert_eq!(v.len(), 6);
        assert_eq!(decode(&encode(&v), 6), Some(v.clone()));
        assert_eq!(decode(&encode(&v), 5), None);
        assert_eq!(decode(&[0; 17], 1), None);
    }
}
