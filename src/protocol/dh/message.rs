//! The two DH-PSI messages and their encoding (`protocol-spec/03-dh-psi.md`, "Messages").
//!
//! ```text
//! message = type (1 byte) || count (4 bytes, big-endian) || count * 32-byte elements
//! type    = 0x01 Blinded     the sender's own items, hashed and raised to its key
//!         | 0x02 Reblinded   the peer's Blinded elements, raised to the sender's key
//! ```

use crate::error::{Malformed, PeerMisbehaved, Result};
use crate::group::{WireElement, ELEMENT_LEN};
use crate::protocol::dh::params::MAX_CHUNK_SIZE;
use crate::protocol::WireMessage;

const TYPE_BLINDED: u8 = 0x01;
const TYPE_REBLINDED: u8 = 0x02;
const HEADER_LEN: usize = 5;

/// A DH-PSI message: one chunk of elements.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhMessage {
    /// A chunk of the sender's own set: `encode(k * H(session_id || item))`, shuffled.
    Blinded(Vec<WireElement>),
    /// A chunk of the receiver's own set raised to the sender's key: `encode(k' * decode(e))`
    /// for each element `e` of the receiver's `Blinded` messages, in the order received
    /// (shuffled in cardinality mode).
    Reblinded(Vec<WireElement>),
}

impl DhMessage {
    /// The name of [`DhMessage::Blinded`] messages (errors, progress phases).
    pub const BLINDED: &'static str = "Blinded";
    /// The name of [`DhMessage::Reblinded`] messages.
    pub const REBLINDED: &'static str = "Reblinded";

    /// The elements carried.
    pub fn elements(&self) -> &[WireElement] {
        match self {
            DhMessage::Blinded(e) | DhMessage::Reblinded(e) => e,
        }
    }

    /// `"Blinded"` or `"Reblinded"`, for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            DhMessage::Blinded(_) => Self::BLINDED,
            DhMessage::Reblinded(_) => Self::REBLINDED,
        }
    }

    /// The encoded length of a message carrying `count` elements.
    pub fn encoded_len(count: usize) -> usize {
        HEADER_LEN + count * ELEMENT_LEN
    }
}

impl WireMessage for DhMessage {
    fn progress(&self) -> (&'static str, u64) {
        (self.name(), self.elements().len() as u64)
    }

    fn encode(&self) -> Vec<u8> {
        let (tag, elements) = match self {
            DhMessage::Blinded(e) => (TYPE_BLINDED, e),
            DhMessage::Reblinded(e) => (TYPE_REBLINDED, e),
        };
        let mut out = Vec::with_capacity(Self::encoded_len(elements.len()));
        out.push(tag);
        out.extend_from_slice(&(elements.len() as u32).to_be_bytes());
        for e in elements {
            out.extend_from_slice(e.as_bytes());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let malformed = |problem: Malformed| -> Result<Self> {
            Err(PeerMisbehaved::MalformedMessage {
                message: "DH-PSI message",
                problem,
            }
            .into())
        };
        if bytes.len() < HEADER_LEN {
            return malformed(Malformed::Truncated);
        }
        let count = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
        if count > MAX_CHUNK_SIZE {
            return malformed(Malformed::TooLarge {
                got: count as u64,
                max: MAX_CHUNK_SIZE as u64,
            });
        }
        let body = &bytes[HEADER_LEN..];
        if body.len() != count * ELEMENT_LEN {
            return malformed(Malformed::LengthMismatch {
                announced: (count * ELEMENT_LEN) as u64,
                actual: body.len() as u64,
            });
        }
        let elements = body
            .chunks_exact(ELEMENT_LEN)
            .map(|c| {
                let mut e = [0u8; ELEMENT_LEN];
                e.copy_from_slice(c);
                WireElement(e)
            })
            .collect();
        match bytes[0] {
            TYPE_BLINDED => Ok(DhMessage::Blinded(elements)),
            TYPE_REBLINDED => Ok(DhMessage::Reblinded(elements)),
            other => malformed(Malformed::UnknownType(other)),
        }
    }
}
