//! RFC 9380 section 5.3: `expand_message_xof` and `expand_message_xmd`.
//!
//! `expand_message_xof` with SHAKE256 is the expander of every blindmatch suite;
//! `expand_message_xmd` with SHA-512 exists only for the RFC 9497 `ristretto255-SHA512` OPRF
//! suite, which the RFC defines with it.

use sha2::{Digest, Sha512};
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Shake128, Shake256};

/// Prefix used to shorten a DST longer than 255 bytes (RFC 9380 section 5.3.3).
const OVERSIZE_DST_PREFIX: &[u8] = b"H2C-OVERSIZE-DST-";

/// Which extendable-output function `expand_message_xof` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Xof {
    /// SHAKE128 (k = 128): only for the RFC 9380 test vectors.
    Shake128,
    /// SHAKE256 (k = 256): the blindmatch suites.
    Shake256,
}

impl Xof {
    fn read(self, parts: &[&[u8]], out: &mut [u8]) {
        match self {
            Xof::Shake128 => {
                let mut h = Shake128::default();
                parts.iter().for_each(|p| h.update(p));
                h.finalize_xof().read(out);
            }
            Xof::Shake256 => {
                let mut h = Shake256::default();
                parts.iter().for_each(|p| h.update(p));
                h.finalize_xof().read(out);
            }
        }
    }

    /// ceil(2k / 8): the length an oversize DST is hashed down to.
    fn short_dst_len(self) -> usize {
        match self {
            Xof::Shake128 => 32,
            Xof::Shake256 => 64,
        }
    }
}

/// `expand_message_xof(msg, DST, len_in_bytes)` of RFC 9380 section 5.3.2, with `msg` given
/// as parts that are concatenated (so callers need not allocate `prefix || item`).
///
/// # Panics
/// If `out.len()` exceeds 65535: every caller in the crate asks for 64 bytes or fewer.
pub fn expand_message_xof(xof: Xof, msg: &[&[u8]], dst: &[u8], out: &mut [u8]) {
    assert!(out.len() <= u16::MAX as usize, "len_in_bytes > 65535");
    let mut short = [0u8; 64];
    let dst = if dst.len() > 255 {
        let short = &mut short[..xof.short_dst_len()];
        xof.read(&[OVERSIZE_DST_PREFIX, dst], short);
        &short[..]
    } else {
        dst
    };
    let len = (out.len() as u16).to_be_bytes();
    let dst_len = [dst.len() as u8];
    let mut parts: Vec<&[u8]> = Vec::with_capacity(msg.len() + 3);
    parts.extend_from_slice(msg);
    parts.extend_from_slice(&[&len, dst, &dst_len]);
    xof.read(&parts, out);
}

/// `expand_message_xmd(msg, DST, len_in_bytes)` of RFC 9380 section 5.3.1 with SHA-512.
///
/// # Panics
/// If `out.len()` exceeds 255 * 64 bytes: every caller in the crate asks for 64 bytes.
pub fn expand_message_xmd_sha512(msg: &[&[u8]], dst: &[u8], out: &mut [u8]) {
    const B_IN_BYTES: usize = 64; // SHA-512 output
    const S_IN_BYTES: usize = 128; // SHA-512 block
    let ell = out.len().div_ceil(B_IN_BYTES);
    assert!(
        ell <= 255 && out.len() <= u16::MAX as usize,
        "len_in_bytes too large"
    );
    let short;
    let dst: &[u8] = if dst.len() > 255 {
        short = Sha512::new()
            .chain_update(OVERSIZE_DST_PREFIX)
            .chain_update(dst)
            .finalize();
        &short[..]
    } else {
        dst
    };
    let dst_len = [dst.len() as u8];
    let len = (out.len() as u16).to_be_bytes();

    let mut h = Sha512::new().chain_update([0u8; S_IN_BYTES]);
    for part in msg {
        Digest::update(&mut h, part);
    }
    let b0 = h
        .chain_update(len)
        .chain_update([0u8])
        .chain_update(dst)
        .chain_update(dst_len)
        .finalize();
    let mut bi = Sha512::new()
        .chain_update(b0)
        .chain_update([1u8])
        .chain_update(dst)
        .chain_update(dst_len)
        .finalize();
    for (i, chunk) in out.chunks_mut(B_IN_BYTES).enumerate() {
        if i > 0 {
            let mut xored = [0u8; B_IN_BYTES];
            for (x, (a, b)) in xored.iter_mut().zip(b0.iter().zip(bi.iter())) {
                *x = a ^ b;
            }
            bi = Sha512::new()
                .chain_update(xored)
                .chain_update([(i + 1) as u8])
                .chain_update(dst)
                .chain_update(dst_len)
                .finalize();
        }
        chunk.copy_from_slice(&bi[..chunk.len()]);
    }
}
