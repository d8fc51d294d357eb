//! The four OPRF-PSI messages and their encoding (`protocol-spec/07-oprf-psi.md` sections 7.5
//! and 7.11).
//!
//! ```text
//! Params    = 0x10 || labeled (1: 0 or 1) || payload_len (2, BE; 0 when not labeled)
//!                  || column_count (1) || column_count * (len (1) || UTF-8 name)
//!                                                                          sender -> receiver
//! Blinded   = 0x11 || count (4, BE) || count * 32-byte elements          receiver -> sender
//! Evaluated = 0x12 || count (4, BE) || count * 32-byte elements          sender -> receiver
//! Tags      = 0x13 || count (4, BE) || code_len (4, BE) || code (code_len bytes)
//!                  || count * ciphertext_len bytes (labeled mode; else nothing)
//! ```

use crate::error::{Malformed, PeerMisbehaved, Result};
use crate::group::{WireElement, ELEMENT_LEN};
use crate::protocol::oprf_psi::params::{MAX_CHUNK_SIZE, MAX_PAYLOAD_LEN};
use crate::protocol::WireMessage;

const TYPE_PARAMS: u8 = 0x10;
const TYPE_BLINDED: u8 = 0x11;
const TYPE_EVALUATED: u8 = 0x12;
const TYPE_TAGS: u8 = 0x13;

/// Most payload columns a sender may announce.
pub const MAX_COLUMNS: usize = 64;

/// Longest payload column name, in bytes.
pub const MAX_COLUMN_LEN: usize = 255;

/// The sender's first message: what its tags carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderParams {
    /// Labeled mode: every payload is padded to this many bytes (at most 4096).
    pub payload_len: Option<usize>,
    /// The names of the payload's columns (labeled mode), which the receiver checks against
    /// its policy's `revealable_columns` before sending anything.
    pub columns: Vec<String>,
}

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
#[non_exhaustive]
pub enum OprfPsiMessage {
    /// The sender's parameters: the first message of a session.
    Params(SenderParams),
    /// A chunk of the receiver's blinded items (RFC 9497 `blindedElement`s).
    Blinded(Vec<WireElement>),
    /// The sender's `BlindEvaluate` of a `Blinded` chunk, in the same order.
    Evaluated(Vec<WireElement>),
    /// A chunk of the sender's own set as tags.
    Tags(TagChunk),
}

impl OprfPsiMessage {
    /// The name of [`OprfPsiMessage::Params`] messages.
    pub const PARAMS: &'static str = "Params";
    /// The name of [`OprfPsiMessage::Blinded`] messages (errors, progress phases).
    pub const BLINDED: &'static str = "Blinded";
    /// The name of [`OprfPsiMessage::Evaluated`] messages.
    pub const EVALUATED: &'static str = "Evaluated";
    /// The name of [`OprfPsiMessage::Tags`] messages.
    pub const TAGS: &'static str = "Tags";

    /// `"Blinded"`, `"Evaluated"` or `"Tags"`, for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            OprfPsiMessage::Params(_) => Self::PARAMS,
            OprfPsiMessage::Blinded(_) => Self::BLINDED,
            OprfPsiMessage::Evaluated(_) => Self::EVALUATED,
            OprfPsiMessage::Tags(_) => Self::TAGS,
        }
    }
}

fn malformed<T>(problem: Malformed) -> Result<T> {
    Err(PeerMisbehaved::MalformedMessage {
        message: "OPRF-PSI message",
        problem,
    }
    .into())
}

fn encode_params(p: &SenderParams) -> Vec<u8> {
    let mut out = vec![TYPE_PARAMS, u8::from(p.payload_len.is_some())];
    let len = p.payload_len.unwrap_or(0).min(MAX_PAYLOAD_LEN) as u16;
    out.extend_from_slice(&len.to_be_bytes());
    let cols: Vec<&[u8]> = p
        .columns
        .iter()
        .take(MAX_COLUMNS)
        .map(|c| &c.as_bytes()[..c.len().min(MAX_COLUMN_LEN)])
        .collect();
    out.push(cols.len() as u8);
    for c in cols {
        out.push(c.len() as u8);
        out.extend_from_slice(c);
    }
    out
}

fn decode_params(bytes: &[u8]) -> Result<SenderParams> {
    let bad = |field: &'static str| malformed(Malformed::Field(field));
    let Some((head, mut rest)) = bytes.split_first_chunk::<5>() else {
        return malformed(Malformed::Truncated);
    };
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    let payload_len = match head[1] {
        0 if len == 0 => None,
        1 if len <= MAX_PAYLOAD_LEN => Some(len),
        1 => {
            return malformed(Malformed::TooLarge {
                got: len as u64,
                max: MAX_PAYLOAD_LEN as u64,
            })
        }
        _ => return bad("labeled"),
    };
    let count = head[4] as usize;
    if count > MAX_COLUMNS || (payload_len.is_none() && count > 0) {
        return bad("column_count");
    }
    let mut columns = Vec::with_capacity(count);
    for _ in 0..count {
        let Some((n, r)) = rest.split_first() else {
            return malformed(Malformed::Truncated);
        };
        let n = *n as usize;
        if r.len() < n {
            return malformed(Malformed::Truncated);
        }
        let Ok(name) = std::str::from_utf8(&r[..n]) else {
            return bad("column");
        };
        columns.push(name.to_string());
        rest = &r[n..];
    }
    if !rest.is_empty() {
        return malformed(Malformed::TrailingBytes);
    }
    Ok(SenderParams {
        payload_len,
        columns,
    })
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

impl WireMessage for OprfPsiMessage {
    fn progress(&self) -> (&'static str, u64) {
        let items = match self {
            OprfPsiMessage::Params(_) => 0,
            OprfPsiMessage::Blinded(e) | OprfPsiMessage::Evaluated(e) => e.len(),
            OprfPsiMessage::Tags(t) => t.count,
        };
        (self.name(), items as u64)
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            OprfPsiMessage::Params(p) => encode_params(p),
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
        if bytes.first() == Some(&TYPE_PARAMS) {
            return decode_params(bytes).map(OprfPsiMessage::Params);
        }
        if bytes.len() < 5 {
            return malformed(Malformed::Truncated);
        }
        let count = be32(&bytes[1..5]);
        if count > MAX_CHUNK_SIZE {
            return malformed(Malformed::TooLarge {
                got: count as u64,
                max: MAX_CHUNK_SIZE as u64,
            });
        }
        match bytes[0] {
            TYPE_BLINDED | TYPE_EVALUATED => {
                let body = &bytes[5..];
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
                Ok(if bytes[0] == TYPE_BLINDED {
                    OprfPsiMessage::Blinded(elements)
                } else {
                    OprfPsiMessage::Evaluated(elements)
                })
            }
            TYPE_TAGS => {
                if bytes.len() < 9 {
                    return malformed(Malformed::Truncated);
                }
                let code_len = be32(&bytes[5..9]);
                // 128-bit tags with quotients bounded by the sender count: far below this.
                if code_len > count * 64 + 8 || bytes.len() < 9 + code_len {
                    return malformed(Malformed::Field("code_len"));
                }
                let ciphertexts = &bytes[9 + code_len..];
                if ciphertexts.len() > count * (MAX_PAYLOAD_LEN + 18) {
                    return malformed(Malformed::Field("ciphertexts"));
                }
                Ok(OprfPsiMessage::Tags(TagChunk {
                    count,
                    code: bytes[9..9 + code_len].to_vec(),
                    ciphertexts: ciphertexts.to_vec(),
                }))
            }
            other => malformed(Malformed::UnknownType(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn params_round_trip() {
        for m in [
            SenderParams {
                payload_len: None,
                columns: vec![],
            },
            SenderParams {
                payload_len: Some(4096),
                columns: vec!["vessel".into(), "voyage".into()],
            },
        ] {
            let msg = OprfPsiMessage::Params(m);
            let enc = msg.encode();
            assert_eq!(OprfPsiMessage::decode(&enc).ok(), Some(msg));
            for cut in 1..enc.len() {
                assert!(OprfPsiMessage::decode(&enc[..cut]).is_err(), "cut {cut}");
            }
        }
        assert!(OprfPsiMessage::decode(&[TYPE_PARAMS, 1, 0x10, 0x01, 0]).is_err());
        assert!(OprfPsiMessage::decode(&[TYPE_PARAMS, 0, 0, 0, 1, 1, b'a']).is_err());
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(m) = OprfPsiMessage::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }
    }
}
