//! The admission verdicts (`protocol-spec/04-transport-and-handshake.md` section 4.3.4):
//! `Admitted` (empty) or `Refused` carrying the name of the policy rule that refused.
//!
//! The rule name is the only thing a refusal tells the peer: a key of the policy both sides
//! loaded (the digests are equal), so it reveals nothing the peer does not already know except
//! which rule our side applied. The details stay in our own log.

use crate::error::{Malformed, PeerMisbehaved, PolicyRefusal, PolicyRule, Result};
use crate::transport::framing::{Frame, FrameKind};

/// Our verdict as a frame.
pub fn frame(verdict: std::result::Result<(), PolicyRule>) -> Frame {
    match verdict {
        Ok(()) => Frame::empty(FrameKind::Admitted),
        Err(rule) => Frame::new(FrameKind::Refused, rule.as_str().as_bytes().to_vec()),
    }
}

/// The peer's verdict from a frame of kind `Admitted` or `Refused`.
///
/// # Errors
/// [`PeerMisbehaved::MalformedMessage`] for a non-empty `Admitted`,
/// [`PeerMisbehaved::UnknownRule`] for a `Refused` naming no rule.
pub fn parse(frame: &Frame) -> Result<std::result::Result<(), PolicyRefusal>> {
    match frame.kind {
        FrameKind::Admitted if frame.payload.is_empty() => Ok(Ok(())),
        FrameKind::Refused => {
            let rule = std::str::from_utf8(&frame.payload)
                .ok()
                .and_then(|r| r.parse::<PolicyRule>().ok())
                .ok_or(PeerMisbehaved::UnknownRule)?;
            Ok(Err(PolicyRefusal::by_peer(rule)))
        }
        _ => Err(PeerMisbehaved::MalformedMessage {
            message: "admission verdict",
            problem: Malformed::TrailingBytes,
        }
        .into()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::{Error, RefusedBy};

    #[test]
    fn verdicts_round_trip() {
        assert_eq!(parse(&frame(Ok(()))).unwrap(), Ok(()));
        for rule in PolicyRule::ALL {
            let r = parse(&frame(Err(rule))).unwrap().unwrap_err();
            assert_eq!((r.rule, r.by), (rule, RefusedBy::Peer));
        }
        let bad = Frame::new(FrameKind::Refused, b"not_a_rule".to_vec());
        assert!(matches!(
            parse(&bad),
            Err(Error::PeerMisbehaved(PeerMisbehaved::UnknownRule))
        ));
        let long = Frame::new(FrameKind::Admitted, vec![1]);
        assert!(parse(&long).is_err());
    }
}
