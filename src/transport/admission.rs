//! Admission (`protocol-spec/04-transport-and-handshake.md` section 4.3.4): after the
//! handshake each side runs its local checks (the policy's session rules and the query budget)
//! and tells the peer the verdict, `Admitted` or `Refused` naming the policy rule, then waits
//! for the peer's verdict. No element is sent unless both sides admitted the session, and a
//! refusal is reported on both sides with the rule that refused it.
//!
//! The rule name is the only thing a refusal tells the peer: it is a key of the policy both
//! sides loaded (the digests are equal), so it reveals nothing the peer does not already know
//! except which rule our side applied. The details (counts, budget use) stay in our own log.

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::framing::{write_frame, Frame, FrameKind};
use super::timeouts::{read_frame_timed, Timeouts};
use crate::error::{Error, Result};

/// Longest rule name a `Refused` frame may carry.
pub const MAX_RULE_LEN: usize = 64;

/// What the peer is told of our verdict: the rule of a [`Error::PolicyRefused`]; `None` for
/// any other error (sent as a plain `Abort`).
fn refused_rule(e: &Error) -> Option<&str> {
    match e {
        Error::LegacyPolicyRefused { rule, .. }
            if !rule.is_empty()
                && rule.len() <= MAX_RULE_LEN
                && rule.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            Some(rule)
        }
        _ => None,
    }
}

/// Sends our verdict and, if we admitted, reads the peer's.
///
/// # Errors
/// Our own refusal (`ours`), after telling the peer; [`Error::PolicyRefused`] with the peer's
/// rule if the peer refused; [`Error::PeerMisbehaved`] if the peer aborts, closes or sends
/// anything else; [`Error::Timeout`] or [`Error::Io`] from the connection.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ours: Result<()>,
    t: &Timeouts,
) -> Result<()> {
    if let Err(e) = ours {
        let frame = match refused_rule(&e) {
            Some(rule) => Frame::new(FrameKind::Refused, rule.as_bytes().to_vec()),
            None => Frame::new(FrameKind::Abort, Vec::new()),
        };
        let _ = write_frame(stream, &frame).await;
        let _ = tokio::time::timeout(t.frame, stream.shutdown()).await;
        return Err(e);
    }
    write_frame(stream, &Frame::new(FrameKind::Admitted, Vec::new())).await?;
    match read_frame_timed(stream, MAX_RULE_LEN + 1, t).await? {
        Some(f) if f.kind == FrameKind::Admitted && f.payload.is_empty() => Ok(()),
        Some(f) if f.kind == FrameKind::Refused => {
            let rule = String::from_utf8(f.payload)
                .ok()
                .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                .ok_or_else(|| {
                    Error::LegacyPeerMisbehaved(
                        "the peer refused with a malformed rule name".into(),
                    )
                })?;
            Err(Error::LegacyPolicyRefused {
                rule,
                detail: "the peer refused the session under the agreed policy before any \
                         element was sent (its audit log has the details)"
                    .into(),
            })
        }
        Some(f) if f.kind == FrameKind::Abort => Err(Error::LegacyPeerMisbehaved(
            "the peer ended the session before any element was sent (its log says why)".into(),
        )),
        Some(f) => Err(Error::LegacyPeerMisbehaved(format!(
            "expected the peer's admission verdict, got a {:?} frame",
            f.kind
        ))),
        None => Err(Error::LegacyPeerMisbehaved(
            "the peer closed the connection before admitting the session".into(),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pair(a: Result<()>, b: Result<()>) -> (Result<()>, Result<()>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (mut x, mut y) = tokio::io::duplex(1 << 12);
            let t = Timeouts::default().with_read_secs(5);
            tokio::join!(exchange(&mut x, a, &t), exchange(&mut y, b, &t))
        })
    }

    fn refuse(rule: &str) -> Result<()> {
        Err(Error::LegacyPolicyRefused {
            rule: rule.into(),
            detail: "secret detail".into(),
        })
    }

    #[test]
    fn both_admit() {
        let (a, b) = pair(Ok(()), Ok(()));
        assert!(a.is_ok() && b.is_ok());
    }

    #[test]
    fn a_refusal_names_the_rule_on_both_sides_but_not_the_detail() {
        let (a, b) = pair(refuse("max_sessions_per_peer_per_day"), Ok(()));
        assert!(a.unwrap_err().to_string().contains("secret detail"));
        let b = b.unwrap_err();
        assert!(
            matches!(&b, Error::LegacyPolicyRefused { rule, .. } if rule == "max_sessions_per_peer_per_day"),
            "{b}"
        );
        assert!(!b.to_string().contains("secret"), "{b}");
    }

    #[test]
    fn other_errors_are_a_plain_abort() {
        let (_, b) = pair(Err(Error::LegacyConfig("disk full".into())), Ok(()));
        let b = b.unwrap_err().to_string();
        assert!(
            b.contains("ended the session") && !b.contains("disk"),
            "{b}"
        );
    }
}
