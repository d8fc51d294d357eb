//! The receipt exchange at the end of a session (`protocol-spec/04-transport-and-handshake.md`
//! section 4.4.1): after both `Done`, each side sends its signed [`SessionReceipt`] in a
//! `Receipt` frame and checks the peer's against what it saw itself and against the Ed25519
//! key of the peer's TLS certificate.
//!
//! The binding to the peer's identity: an agency's certificate holds its Ed25519 identity key
//! (`blindmatch identity new`), the TLS handshake proved the peer holds that key, and the peer's
//! certificate was pinned (or chained to a configured CA). A receipt is accepted only when its
//! signer is exactly that key, so no separate key is sent or trusted.

use tokio::io::{AsyncRead, AsyncWrite};

use super::framing::{write_frame, Frame, FrameKind};
use super::timeouts::{read_frame_timed, Timeouts};
use crate::audit::{ReceiptBody, ReceiptOutcome, ReceiptRole, SessionReceipt, RECEIPT_LEN};
use crate::error::{Error, Result};
use crate::identity::cert_identity_key;

/// Checks the peer's receipt: well formed, signed (`verify_strict`) by the Ed25519 key of the
/// peer's certificate `peer_cert` (DER), for the same session, transcript and element counts
/// as `ours`, by the other role, with outcome `completed`.
///
/// # Errors
/// [`Error::PeerMisbehaved`] saying what does not match.
pub fn check_peer_receipt(
    bytes: &[u8],
    peer_cert: &[u8],
    ours: &ReceiptBody,
) -> Result<SessionReceipt> {
    let receipt = SessionReceipt::decode(bytes)?;
    let key = cert_identity_key(peer_cert)?;
    receipt.verify(&key)?;
    let bad = |what: &str| {
        Error::LegacyPeerMisbehaved(format!(
            "the peer's session receipt does not match this session: {what}"
        ))
    };
    if receipt.session_id != ours.session_id {
        return Err(bad("session id"));
    }
    if receipt.transcript_hash != ours.transcript_hash {
        return Err(bad("transcript hash"));
    }
    if receipt.role == ours.role {
        return Err(bad("it claims our role"));
    }
    if (receipt.initiator_count, receipt.responder_count)
        != (ours.initiator_count, ours.responder_count)
    {
        return Err(bad(&format!(
            "element counts {}/{}, we saw {}/{}",
            receipt.initiator_count,
            receipt.responder_count,
            ours.initiator_count,
            ours.responder_count
        )));
    }
    if receipt.outcome != ReceiptOutcome::Completed {
        return Err(bad("it reports an aborted session"));
    }
    Ok(receipt)
}

/// Sends our receipt and reads and checks the peer's ([`check_peer_receipt`]).
///
/// # Errors
/// As [`check_peer_receipt`]; [`Error::PeerMisbehaved`] if the peer sends another frame,
/// aborts or closes; [`Error::Timeout`] or [`Error::Io`] from the connection.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ours: &SessionReceipt,
    body: &ReceiptBody,
    peer_cert: &[u8],
    t: &Timeouts,
) -> Result<SessionReceipt> {
    write_frame(stream, &Frame::new(FrameKind::Receipt, ours.encode())).await?;
    match read_frame_timed(stream, RECEIPT_LEN + 1, t).await? {
        Some(f) if f.kind == FrameKind::Receipt => check_peer_receipt(&f.payload, peer_cert, body),
        Some(f) if f.kind == FrameKind::Abort => Err(Error::LegacyPeerMisbehaved(
            "the peer ended the session instead of sending its receipt (its log says why)".into(),
        )),
        Some(f) => Err(Error::LegacyPeerMisbehaved(format!(
            "expected the peer's Receipt frame, got {:?}",
            f.kind
        ))),
        None => Err(Error::LegacyPeerMisbehaved(
            "the peer closed the connection before sending its session receipt".into(),
        )),
    }
}

/// The receipt body of one side.
pub(crate) fn body(
    session_id: [u8; 32],
    transcript_hash: [u8; 32],
    role: ReceiptRole,
    initiator_count: u64,
    responder_count: u64,
    time: i64,
) -> ReceiptBody {
    ReceiptBody {
        session_id,
        transcript_hash,
        role,
        initiator_count,
        responder_count,
        outcome: ReceiptOutcome::Completed,
        time,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    fn ids() -> (tempfile::TempDir, Identity, Identity) {
        let dir = tempfile::tempdir().unwrap();
        Identity::create(&dir.path().join("a"), "A", false).unwrap();
        Identity::create(&dir.path().join("b"), "B", false).unwrap();
        let a = Identity::load(&dir.path().join("a")).unwrap();
        let b = Identity::load(&dir.path().join("b")).unwrap();
        (dir, a, b)
    }

    fn ours() -> ReceiptBody {
        body(
            [1; 32],
            [2; 32],
            ReceiptRole::Initiator,
            10,
            20,
            1_790_000_000,
        )
    }

    fn theirs() -> ReceiptBody {
        ReceiptBody {
            role: ReceiptRole::Responder,
            ..ours()
        }
    }

    #[test]
    fn a_matching_receipt_from_the_peer_is_accepted() {
        let (_d, _a, b) = ids();
        let r = SessionReceipt::sign(&theirs(), &b.signing_key);
        let got = check_peer_receipt(&r.encode(), &b.cert, &ours()).unwrap();
        assert_eq!(got, r);
    }

    #[test]
    fn tampered_or_mismatched_receipts_are_rejected() {
        let (_d, a, b) = ids();
        let good = SessionReceipt::sign(&theirs(), &b.signing_key).encode();
        // Any flipped bit of the body or the signature.
        for i in [5, 40, 100, 110, 120, 150, 187] {
            let mut t = good.clone();
            t[i] ^= 1;
            assert!(
                check_peer_receipt(&t, &b.cert, &ours()).is_err(),
                "byte {i}"
            );
        }
        // Signed by someone else (here: ourselves), though otherwise right.
        let forged = SessionReceipt::sign(&theirs(), &a.signing_key).encode();
        let err = check_peer_receipt(&forged, &b.cert, &ours()).unwrap_err();
        assert!(err.to_string().contains("expected the peer's key"), "{err}");
        // Validly signed by the peer but for something else.
        let cases: [(ReceiptBody, &str); 5] = [
            (
                ReceiptBody {
                    session_id: [9; 32],
                    ..theirs()
                },
                "session id",
            ),
            (
                ReceiptBody {
                    transcript_hash: [9; 32],
                    ..theirs()
                },
                "transcript",
            ),
            (ours(), "our role"),
            (
                ReceiptBody {
                    responder_count: 21,
                    ..theirs()
                },
                "element counts",
            ),
            (
                ReceiptBody {
                    outcome: ReceiptOutcome::Aborted,
                    ..theirs()
                },
                "aborted",
            ),
        ];
        for (body, what) in cases {
            let r = SessionReceipt::sign(&body, &b.signing_key).encode();
            let err = check_peer_receipt(&r, &b.cert, &ours()).unwrap_err();
            assert!(err.to_string().contains(what), "{what}: {err}");
        }
        assert!(check_peer_receipt(&good[..100], &b.cert, &ours()).is_err());
    }
}
