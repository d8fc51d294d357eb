//! The three OPRF-PSI messages and their encoding (`protocol-spec/07-oprf-psi.md` section 5).
//!
//! ```text
//! Blinded   = 0x11 || count (4, BE) || count * 32-byte elements          receiver -> sender
//! Evaluated = 0x12 || count (4, BE) || count * 32-byte elements          sender -> receiver
//! Tags      = 0x13 || count (4, BE) || code_len (4, BE) || code (code_len bytes)
//!                  || count * ciphertext_len bytes (labeled mode; else nothing)
//! ```

use crate::error::{Error, Result};
use crate::group::{WireElement, ELEMENT_LEN};
use crate::protocol::oprf_psi::params::{MAX_CHUNK_SIZE, MAX_PAYLOAD_LEN};
use crate::protocol::WireMessage;

const TYPE_BLINDED: u8 = 0x11;
const TYPE_EVALUATED: u8 = 0x12;
const TYPE_TAGS: u8 = 0x13;

/// A chunk of the sender's tags (and ciphertexts in labeled mode), sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChunk {
    /// Number of tags.
    pub count: usize,
    /// The Rice-coded tags (`tags` module).
    pub code: Vec<u8>,
    /// `count` ciphertexts of the session's ciphertext length, concatenated (labeled mode).
    pub ciphertexts: Vec<u8>,
}

/// An OPRF-PSI message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OprfPsiMessage {
    /// A chunk of the receiver's blinded items (RFC 9497 `blindedElement`s).
    Blinded(Vec<WireElement>),
    /// The sender's `BlindEvaluate` of a `Blinded` chunk, in the same order.
    Evaluated(Vec<WireElement>),
    /// A chunk of the sender's own set as tags.
    Tags(TagChunk),
}

impl OprfPsiMessage {
    /// The name of [`OprfPsiMessage::Blinded`] messages (errors, progress phases).
    pub const BLINDED: &'static str = "Blinded";
    /// The name of [`OprfPsiMessage::Evaluated`] messages.
    pub const EVALUATED: &'static str = "Evaluated";
    /// The name of [`OprfPsiMessage::Tags`] messages.
    pub const TAGS: &'static str = "Tags";

    /// `"Blinded"`, `"Evaluated"` or `"Tags"`, for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            OprfPsiMessage::Blinded(_) => Self::BLINDED,
            OprfPsiMessage::Evaluated(_) => Self::EVALUATED,
            OprfPsiMessage::Tags(_) => Self::TAGS,
        }
    }
}

fn malformed<T>(why: String) -> Result<T> {
    Err(Error::LegacyPeerMisbehaved(format!(
        "malformed OPRF-PSI message: {why}"
    )))
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

impl WireMessage for OprfPsiMessage {
    fn progress(&self) -> (&'static str, u64) {
        let items = match self {
            OprfPsiMessage::Blinded(e) | OprfPsiMessage::Evaluated(e) => e.len(),
            OprfPsiMessage::Tags(t) => t.count,
        };
        (self.name(), items as u64)
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            OprfPsiMessage::Blinded(e) | OprfPsiMessage::Evaluated(e) => {
                let tag = if matches!(self, OprfPsiMessage::Blinded(_)) {
                    TYPE_BLINDED
                } else {
                    TYPE_EVALUATED
                };
                let mut out = Vec::with_capacity(5 + e.len() * ELEMENT_LEN);
                out.push(tag);
                out.extend_from_slice(&(e.len() as u32).to_be_bytes());
                e.iter().for_each(|e| out.extend_from_slice(e.as_bytes()));
                out
            }
            OprfPsiMessage::Tags(t) => {
                let mut out = Vec::with_capacity(9 + t.code.len() + t.ciphertexts.len());
                out.push(TYPE_TAGS);
                out.extend_from_slice(&(t.count as u32).to_be_bytes());
                out.extend_from_slice(&(t.code.len() as u32).to_be_bytes());
                out.extend_from_slice(&t.code);
                out.extend_from_slice(&t.ciphertexts);
                out
            }
        }
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 5 {
            return malformed(format!("{} bytes is shorter than a header", bytes.len()));
        }
        let count = be32(&bytes[1..5]);
        if count > MAX_CHUNK_SIZE {
            return malformed(format!(
                "{count} entries exceed the maximum of {MAX_CHUNK_SIZE} per message"
            ));
        }
        match bytes[0] {
            TYPE_BLINDED | TYPE_EVALUATED => {
                let body = &bytes[5..];
                if body.len() != count * ELEMENT_LEN {
                    return malformed(format!(
                        "header announces {count} elements but {} bytes follow",
                        body.len()
                    ));
                }
                let elements = body
                    .chunks_exact(ELEMENT_LEN)
                    .map(|c| {
                        let mut e = [0u8; ELEMENT_LEN];
                        e.copy_from_slice(c);
                        WireElement(e)
                    })
                    .collect();
                Ok(if bytes[0] == TYPE_BLINDED {
                    OprfPsiMessage::Blinded(elements)
                } else {
                    OprfPsiMessage::Evaluated(elements)
                })
            }
            TYPE_TAGS => {
                if bytes.len() < 9 {
                    return malformed("Tags header is truncated".into());
                }
                let code_len = be32(&bytes[5..9]);
                // 128-bit tags with quotients bounded by the sender count: far below this.
                if code_len > count * 64 + 8 || bytes.len() < 9 + code_len {
                    return malformed(format!("tag code of {code_len} bytes is out of range"));
                }
                let ciphertexts = &bytes[9 + code_len..];
                if ciphertexts.len() > count * (MAX_PAYLOAD_LEN + 18) {
                    return malformed("too many ciphertext bytes".into());
                }
                Ok(OprfPsiMessage::Tags(TagChunk {
                    count,
                    code: bytes[9..9 + code_len].to_vec(),
                    ciphertexts: ciphertexts.to_vec(),
                }))
            }
            other => malformed(format!("unknown message type 0x{other:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(m) = OprfPsiMessage::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }
    }
}
