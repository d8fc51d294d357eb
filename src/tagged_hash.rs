//! The input every tagged hash of the protocol hashes: `I2OSP(len(tag), 4) || tag || parts[0]
//! || parts[1] || ...` (`protocol-spec/01-suite.md` 1.4), with SHA3-256, SHA-256 or SHAKE256
//! over it. One place for VOLE-PSI (spec 8), the bucket assignment (9.2) and the shards (9.11).

use sha3::digest::{ExtendableOutput, Update};

/// `I2OSP(len(tag), 4) || tag || parts[0] || parts[1] || ...`, the input of every tagged hash.
fn tagged<H: Update>(mut h: H, tag: &[u8], parts: &[&[u8]]) -> H {
    h.update(&(tag.len() as u32).to_be_bytes());
    h.update(tag);
    for part in parts {
        h.update(part);
    }
    h
}

/// SHA3-256 of [`tagged`]`(tag, parts)`.
pub(crate) fn sha3_tagged(tag: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    sha3_tagged_with(tag, |update| parts.iter().for_each(|p| update(p)))
}

/// SHA3-256 of [`tagged`]`(tag, parts)` with the parts handed to `update` by `feed` one after
/// another (a whole item set's worth, never gathered in memory).
pub(crate) fn sha3_tagged_with(tag: &[u8], feed: impl FnOnce(&mut dyn FnMut(&[u8]))) -> [u8; 32] {
    use sha3::Digest;
    let mut h = tagged(sha3::Sha3_256::default(), tag, &[]);
    feed(&mut |part| Digest::update(&mut h, part));
    h.finalize().into()
}

/// SHA-256 of [`tagged`]`(tag, parts)`.
pub(crate) fn sha256_tagged(tag: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    tagged(sha2::Sha256::new(), tag, parts).finalize().into()
}

/// The SHAKE256 stream of [`tagged`]`(tag, parts)`, read from its first byte.
pub(crate) fn shake_tagged(tag: &[u8], parts: &[&[u8]]) -> sha3::Shake256Reader {
    tagged(sha3::Shake256::default(), tag, parts).finalize_xof()
}
