//! Session keys: uniformly random non-zero scalars, fresh for every session, zeroized on drop,
//! never serialized.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::protocol::draw;

/// A party's secret exponent for one session.
///
/// It also keeps `k / 2 mod l`, so a batch of `k * P` can be encoded with dalek's
/// `double_and_compress_batch` (`encode(k * P) = double_and_compress((k / 2) * P)`), which is
/// several times cheaper than compressing each point.
///
/// There is deliberately no way to serialize a `SessionKey` or to read its scalar.
pub struct SessionKey {
    scalar: Scalar,
    half: Scalar,
}

impl SessionKey {
    /// Draws a fresh key: the specified scalar draw (`protocol-spec/01-suite.md` 1.6: 64 bytes
    /// of `rng`, little-endian, reduced mod `l`, drawn again on zero). Pass the OS RNG
    /// (`rand::rngs::SysRng` through `rand_core::UnwrapErr`) outside tests.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_nonzero(draw::scalar(rng))
    }

    /// A key with a given scalar: for the RFC 9497 suites, whose keys are derived, and for test
    /// vectors. Returns `None` for zero, which is never a key.
    pub fn from_scalar(scalar: Scalar) -> Option<Self> {
        (scalar != Scalar::ZERO).then(|| Self::from_nonzero(scalar))
    }

    fn from_nonzero(scalar: Scalar) -> Self {
        let half = scalar * Scalar::from(2u8).invert();
        Self { scalar, half }
    }

    /// `k * P` (constant time in `k`).
    pub fn mul(&self, point: &RistrettoPoint) -> RistrettoPoint {
        self.scalar * point
    }

    /// `(k / 2) * P`, to be encoded with `double_and_compress_batch`.
    pub(crate) fn mul_half(&self, point: &RistrettoPoint) -> RistrettoPoint {
        self.half * point
    }

    /// The scalar, for the OPRF key of a precomputed index, which is stored wrapped at rest
    /// (`crate::index`). Nothing else reads it.
    pub(crate) fn scalar(&self) -> &Scalar {
        &self.scalar
    }
}

impl Zeroize for SessionKey {
    fn zeroize(&mut self) {
        self.scalar.zeroize();
        self.half.zeroize();
    }
}

impl Drop for SessionKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for SessionKey {}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<secret>)")
    }
}
