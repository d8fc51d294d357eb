//! RFC 9380 `hash_to_ristretto255`: 64 uniform bytes from an expander, then the RFC 9496
//! element derivation (`RistrettoPoint::from_uniform_bytes`). `hash_from_bytes` is never used.

use curve25519_dalek::ristretto::RistrettoPoint;

use super::expand::{expand_message_xmd_sha512, expand_message_xof, Xof};

/// `hash_to_ristretto255` with `expand_message_xof(SHAKE256)` (the blindmatch suites).
/// `msg` parts are concatenated.
pub fn hash_to_ristretto255_xof(msg: &[&[u8]], dst: &[u8]) -> RistrettoPoint {
    let mut uniform = [0u8; 64];
    expand_message_xof(Xof::Shake256, msg, dst, &mut uniform);
    RistrettoPoint::from_uniform_bytes(&uniform)
}

/// `hash_to_ristretto255` with `expand_message_xmd(SHA-512)`, as RFC 9497's
/// `ristretto255-SHA512` suite defines `HashToGroup`.
pub fn hash_to_ristretto255_xmd(msg: &[&[u8]], dst: &[u8]) -> RistrettoPoint {
    let mut uniform = [0u8; 64];
    expand_message_xmd_sha512(msg, dst, &mut uniform);
    RistrettoPoint::from_uniform_bytes(&uniform)
}
