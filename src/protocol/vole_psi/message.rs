//! The messages of a VOLE-PSI session and their encoding (`protocol-spec/08-vole-psi.md`
//! section 8.8).
//!
//! ```text
//! message = type (1 byte) || body
//! type    = 0x01 ReceiverSetup  R1: the OKVS sizes and the VOLE's first message (receiver)
//!         | 0x02 SenderSetup    S1: the VOLE's first message (sender)
//!         | 0x03 Noise          R2: the noisy VOLE (receiver)
//!         | 0x04 Trees          S2: the punctured PRFs and their corrections (sender)
//!         | 0x05 Mask           a chunk of R3, A' = P + A (receiver)
//!         | 0x06 Tags           a chunk of S3, the sender's tags (sender)
//!         | 0x07 Matched        a chunk of R4, the bitmap of matched tags (receiver, mutual)
//! body    = the step's bytes                               (types 0x01 to 0x04)
//!         | count (4 bytes, big-endian) || count entries   (types 0x05 to 0x07)
//! ```

use crate::error::{Malformed, PeerMisbehaved, Result};
use crate::protocol::WireMessage;

/// Which message of the exchange, in the order they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `R1`.
    ReceiverSetup,
    /// `S1`.
    SenderSetup,
    /// `R2`.
    Noise,
    /// `S2`.
    Trees,
    /// A chunk of `R3`.
    Mask,
    /// A chunk of `S3`.
    Tags,
    /// A chunk of `R4`.
    Matched,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::ReceiverSetup,
        Kind::SenderSetup,
        Kind::Noise,
        Kind::Trees,
        Kind::Mask,
        Kind::Tags,
        Kind::Matched,
    ];

    /// The type byte: 1 to 7 in the order above.
    fn code(self) -> u8 {
        Kind::ALL
            .iter()
            .position(|k| *k == self)
            .map_or(0, |i| i as u8 + 1)
    }

    /// The message's name (errors, progress phases).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::ReceiverSetup => "ReceiverSetup",
            Kind::SenderSetup => "SenderSetup",
            Kind::Noise => "Noise",
            Kind::Trees => "Trees",
            Kind::Mask => "Mask",
            Kind::Tags => "Tags",
            Kind::Matched => "Matched",
        }
    }

    /// True for the messages cut into chunks of counted entries.
    pub(crate) fn is_chunked(self) -> bool {
        matches!(self, Kind::Mask | Kind::Tags | Kind::Matched)
    }
}

/// One message: its kind, the number of entries of a chunk (1 for the setup messages) and
/// its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VoleMessage {
    pub(crate) kind: Kind,
    pub(crate) count: u32,
    pub(crate) bytes: Vec<u8>,
}

impl VoleMessage {
    /// A setup message (`R1`, `S1`, `R2`, `S2`).
    pub(crate) fn setup(kind: Kind, bytes: Vec<u8>) -> Self {
        VoleMessage {
            kind,
            count: 1,
            bytes,
        }
    }
}

impl WireMessage for VoleMessage {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.bytes.len());
        out.push(self.kind.code());
        if self.kind.is_chunked() {
            out.extend_from_slice(&self.count.to_be_bytes());
        }
        out.extend_from_slice(&self.bytes);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let malformed = |problem: Malformed| -> Result<Self> {
            Err(PeerMisbehaved::MalformedMessage {
                message: "VOLE-PSI message",
                problem,
            }
            .into())
        };
        let Some((&code, rest)) = bytes.split_first() else {
            return malformed(Malformed::Truncated);
        };
        let Some(kind) = Kind::ALL.into_iter().find(|k| k.code() == code) else {
            return malformed(Malformed::UnknownType(code));
        };
        if !kind.is_chunked() {
            return Ok(VoleMessage::setup(kind, rest.to_vec()));
        }
        let Some((count, entries)) = rest.split_first_chunk::<4>() else {
            return malformed(Malformed::Truncated);
        };
        Ok(VoleMessage {
            kind,
            count: u32::from_be_bytes(*count),
            bytes: entries.to_vec(),
        })
    }

    fn progress(&self) -> (&'static str, u64) {
        (self.kind.name(), u64::from(self.count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn messages_round_trip_and_bad_bytes_are_refused() {
        for kind in Kind::ALL {
            let m = VoleMessage {
                kind,
                count: if kind.is_chunked() { 3 } else { 1 },
                bytes: vec![7; 48],
            };
            assert_eq!(VoleMessage::decode(&m.encode()).expect("decodes"), m);
        }
        for bad in [&[][..], &[0x08, 1, 2][..], &[0x05, 0, 0][..], &[0x00][..]] {
            assert!(
                matches!(
                    VoleMessage::decode(bad),
                    Err(Error::PeerMisbehaved(
                        PeerMisbehaved::MalformedMessage { .. }
                    ))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            VoleMessage::setup(Kind::Trees, vec![1, 2]).encode(),
            [0x04, 1, 2]
        );
        assert_eq!(
            VoleMessage {
                kind: Kind::Tags,
                count: 2,
                bytes: vec![9, 9]
            }
            .encode(),
            [0x06, 0, 0, 0, 2, 9, 9]
        );
    }
}
