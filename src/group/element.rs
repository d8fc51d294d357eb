//! Wire elements: 32-byte ristretto255 encodings (RFC 9496 section 4.3.2).
//!
//! A [`WireElement`] is only bytes, like dalek's `CompressedRistretto`: it may hold anything a
//! peer sent. [`WireElement::decode`] is the only way to a group element and rejects
//! non-canonical encodings and the identity. It never panics, whatever the 32 bytes.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::traits::IsIdentity;

use crate::error::ElementError;

/// Length of an encoded element.
pub const ELEMENT_LEN: usize = 32;

/// The encoding of a ristretto255 element as it travels on the wire.
///
/// Encodings are unique (RFC 9496), so two doubly-blinded values are equal exactly when their
/// bytes are: comparisons never decode.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WireElement(pub [u8; ELEMENT_LEN]);

impl WireElement {
    /// Encodes a point (one `compress`; batches use [`super::batch`]).
    pub fn encode(point: &RistrettoPoint) -> Self {
        WireElement(point.compress().to_bytes())
    }

    /// Decodes and validates: canonical encoding, not the identity.
    ///
    /// # Errors
    /// [`ElementError::NonCanonical`] or [`ElementError::Identity`].
    pub fn decode(&self) -> Result<RistrettoPoint, ElementError> {
        let point = CompressedRistretto(self.0)
            .decompress()
            .ok_or(ElementError::NonCanonical)?;
        if point.is_identity() {
            return Err(ElementError::Identity);
        }
        Ok(point)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; ELEMENT_LEN] {
        &self.0
    }
}

impl From<CompressedRistretto> for WireElement {
    fn from(c: CompressedRistretto) -> Self {
        WireElement(c.to_bytes())
    }
}

impl std::fmt::Debug for WireElement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WireElement({})", hex::encode(self.0))
    }
}
