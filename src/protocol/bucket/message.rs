//! A bucketed session's messages (`protocol-spec/09-buckets.md` section 9.6): the message
//! of one bucket's sub-session, prefixed with the bucket's index.
//!
//! ```text
//! message = I2OSP(b, 4) || inner message (the sub-protocol's own encoding)
//! ```

use crate::error::{Malformed, PeerMisbehaved, Result};
use crate::protocol::WireMessage;

/// One sub-session's message, with its bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketMessage<M> {
    /// The bucket whose sub-session sent it.
    pub bucket: u32,
    /// The sub-session's message.
    pub inner: M,
}

impl<M: WireMessage> WireMessage for BucketMessage<M> {
    fn encode(&self) -> Vec<u8> {
        let inner = self.inner.encode();
        let mut out = Vec::with_capacity(4 + inner.len());
        out.extend_from_slice(&self.bucket.to_be_bytes());
        out.extend_from_slice(&inner);
        out
    }

    /// Checks the format only: whether the bucket is one that accepts a message now is the
    /// session's check.
    fn decode(bytes: &[u8]) -> Result<Self> {
        let Some((bucket, inner)) = bytes.split_first_chunk::<4>() else {
            return Err(PeerMisbehaved::MalformedMessage {
                message: "bucketed message",
                problem: Malformed::Truncated,
            }
            .into());
        };
        Ok(BucketMessage {
            bucket: u32::from_be_bytes(*bucket),
            inner: M::decode(inner)?,
        })
    }

    fn progress(&self) -> (&'static str, u64) {
        self.inner.progress()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::group::WireElement;
    use crate::protocol::dh::DhMessage;

    #[test]
    fn round_trips_and_refuses_bad_bytes() {
        let m = BucketMessage {
            bucket: 0x0102_0304,
            inner: DhMessage::Blinded(vec![WireElement([9; 32])]),
        };
        let bytes = m.encode();
        assert_eq!(&bytes[..5], &[1, 2, 3, 4, 0x01]);
        assert_eq!(
            BucketMessage::<DhMessage>::decode(&bytes).expect("decodes"),
            m
        );
        assert_eq!(m.progress(), ("Blinded", 1));
        for bad in [
            &[][..],
            &[0, 0, 1][..],
            &[0, 0, 0, 1][..],
            &[0, 0, 0, 1, 9, 0, 0, 0, 0][..],
        ] {
            assert!(
                matches!(
                    BucketMessage::<DhMessage>::decode(bad),
                    Err(Error::PeerMisbehaved(
                        PeerMisbehaved::MalformedMessage { .. }
                    ))
                ),
                "{bad:?}"
            );
        }
    }
}
