//! The signed receipts at the end of a session (`protocol-spec/04-transport-and-handshake.md`
//! section 4.4.1): what ours says, and the checks on the peer's.
//!
//! The binding to the peer's identity: an agency's certificate holds its Ed25519 identity key
//! (`blindmatch identity new`), the TLS handshake proved the peer holds that key, and the
//! certificate was pinned (or chained to a configured CA). A receipt is accepted only when its
//! signer is exactly that key, so no separate key is sent or trusted.

use ed25519_dalek::VerifyingKey;

use crate::audit::{Checkpoint, ReceiptBody, ReceiptOutcome, ReceiptTerms, SessionReceipt};
use crate::error::{PeerMisbehaved, ReceiptProblem, Result};
use crate::identity::Fingerprint;
use crate::protocol::Role;

use super::agreement::{Terms, MAX_CLOCK_SKEW};
use super::choice::Protocol;

/// The terms a receipt states for `terms` between us (`own`) and the peer (`peer`).
pub fn receipt_terms(terms: &Terms, own: Fingerprint, peer: Fingerprint) -> ReceiptTerms {
    let (initiator, responder) = match terms.role {
        Role::Initiator => (own, peer),
        Role::Responder => (peer, own),
    };
    ReceiptTerms {
        protocol: terms.protocol,
        mode: terms.mode,
        suite: (terms.protocol == Protocol::Oprf).then_some(terms.oprf_suite),
        policy_digest: terms.policy_digest,
        initiator,
        responder,
    }
}

/// Our receipt's body for a completed session between `own` and `peer`, signed at `time`. Its
/// checkpoint is empty: the agency fills in its log's when it signs
/// ([`crate::audit::AuditLog::checkpoint`]).
pub fn our_body(
    terms: &Terms,
    parties: (Fingerprint, Fingerprint),
    session_id: [u8; 32],
    transcript: [u8; 32],
    time: i64,
) -> ReceiptBody {
    ReceiptBody {
        session_id,
        transcript_hash: transcript,
        role: terms.role,
        terms: receipt_terms(terms, parties.0, parties.1),
        initiator_count: terms.initiator_count,
        responder_count: terms.responder_count,
        outcome: ReceiptOutcome::Completed,
        time,
        checkpoint: Checkpoint {
            size: 0,
            head: [0; 32],
        },
    }
}

fn bad(problem: ReceiptProblem) -> crate::Error {
    PeerMisbehaved::BadReceipt(problem).into()
}

/// Checks the peer's receipt: well formed, signed (`verify_strict`) by `peer_key` (the Ed25519
/// key of its certificate), for the same session, transcript, terms (mode, protocol, suite,
/// policy, both fingerprints) and element counts as `ours`, by the other role, with outcome
/// `completed`, signed within [`MAX_CLOCK_SKEW`] seconds of our own receipt, and carrying a
/// checkpoint of the peer's log validly signed (version 3: a version 2 receipt, which has
/// none, is [`ReceiptProblem::Malformed`] from a live peer).
///
/// # Errors
/// [`PeerMisbehaved::BadReceipt`] naming the first check that failed.
pub fn check_peer_receipt(
    bytes: &[u8],
    peer_key: &VerifyingKey,
    ours: &ReceiptBody,
) -> Result<SessionReceipt> {
    let receipt = SessionReceipt::decode(bytes).map_err(|_| bad(ReceiptProblem::Malformed))?;
    if receipt.checkpoint.is_none() {
        return Err(bad(ReceiptProblem::Malformed));
    }
    if receipt.signer != *peer_key {
        return Err(bad(ReceiptProblem::WrongSigner));
    }
    receipt
        .verify(peer_key)
        .map_err(|_| bad(ReceiptProblem::BadSignature))?;
    if receipt.session_id != ours.session_id {
        return Err(bad(ReceiptProblem::WrongSession));
    }
    if receipt.transcript_hash != ours.transcript_hash {
        return Err(bad(ReceiptProblem::WrongTranscript));
    }
    if receipt.role == ours.role {
        return Err(bad(ReceiptProblem::WrongRole));
    }
    if receipt.terms != ours.terms {
        return Err(bad(ReceiptProblem::WrongTerms));
    }
    if (receipt.initiator_count, receipt.responder_count)
        != (ours.initiator_count, ours.responder_count)
    {
        return Err(bad(ReceiptProblem::WrongCounts));
    }
    if receipt.outcome != ReceiptOutcome::Completed {
        return Err(bad(ReceiptProblem::Aborted));
    }
    if receipt.time.saturating_sub(ours.time).saturating_abs() > MAX_CLOCK_SKEW {
        return Err(bad(ReceiptProblem::ClockSkew));
    }
    Ok(receipt)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::session::SessionMode;
    use ed25519_dalek::SigningKey;

    fn keys() -> (SigningKey, SigningKey) {
        (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        )
    }

    fn ours() -> ReceiptBody {
        ReceiptBody {
            session_id: [1; 32],
            transcript_hash: [2; 32],
            role: Role::Initiator,
            terms: ReceiptTerms {
                protocol: Protocol::Dh,
                mode: SessionMode::Mutual,
                suite: None,
                policy_digest: [3; 32],
                initiator: Fingerprint([0xaa; 32]),
                responder: Fingerprint([0xbb; 32]),
            },
            initiator_count: 10,
            responder_count: 20,
            outcome: ReceiptOutcome::Completed,
            time: 1_790_000_000,
            checkpoint: Checkpoint {
                size: 4,
                head: [5; 32],
            },
        }
    }

    fn theirs() -> ReceiptBody {
        ReceiptBody {
            role: Role::Responder,
            ..ours()
        }
    }

    fn problem(r: Result<SessionReceipt>) -> ReceiptProblem {
        match r {
            Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(p))) => p,
            other => panic!("expected a bad receipt, got {other:?}"),
        }
    }

    #[test]
    fn a_matching_receipt_is_accepted() {
        let (_, peer) = keys();
        let r = SessionReceipt::sign(&theirs(), &peer);
        let got = check_peer_receipt(&r.encode(), &peer.verifying_key(), &ours()).unwrap();
        assert_eq!(got, r);
    }

    #[test]
    fn every_mismatch_is_named() {
        let (us, peer) = keys();
        let pk = peer.verifying_key();
        let good = SessionReceipt::sign(&theirs(), &peer).encode();
        for i in [
            5, 40, 99, 100, 101, 110, 120, 150, 190, 210, 220, 225, 240, 270, 330, 390,
        ] {
            let mut t = good.clone();
            t[i] ^= 1;
            assert!(check_peer_receipt(&t, &pk, &ours()).is_err(), "byte {i}");
        }
        let forged = SessionReceipt::sign(&theirs(), &us).encode();
        assert_eq!(
            problem(check_peer_receipt(&forged, &pk, &ours())),
            ReceiptProblem::WrongSigner
        );
        let cases = [
            (
                ReceiptBody {
                    session_id: [9; 32],
                    ..theirs()
                },
                ReceiptProblem::WrongSession,
            ),
            (
                ReceiptBody {
                    transcript_hash: [9; 32],
                    ..theirs()
                },
                ReceiptProblem::WrongTranscript,
            ),
            (ours(), ReceiptProblem::WrongRole),
            (
                ReceiptBody {
                    terms: ReceiptTerms {
                        mode: SessionMode::Intersection,
                        ..theirs().terms
                    },
                    ..theirs()
                },
                ReceiptProblem::WrongTerms,
            ),
            (
                ReceiptBody {
                    terms: ReceiptTerms {
                        policy_digest: [4; 32],
                        ..theirs().terms
                    },
                    ..theirs()
                },
                ReceiptProblem::WrongTerms,
            ),
            (
                ReceiptBody {
                    terms: ReceiptTerms {
                        responder: Fingerprint([0xcc; 32]),
                        ..theirs().terms
                    },
                    ..theirs()
                },
                ReceiptProblem::WrongTerms,
            ),
            (
                ReceiptBody {
                    responder_count: 21,
                    ..theirs()
                },
                ReceiptProblem::WrongCounts,
            ),
            (
                ReceiptBody {
                    outcome: ReceiptOutcome::Aborted,
                    ..theirs()
                },
                ReceiptProblem::Aborted,
            ),
            (
                ReceiptBody {
                    time: ours().time + MAX_CLOCK_SKEW + 1,
                    ..theirs()
                },
                ReceiptProblem::ClockSkew,
            ),
        ];
        for (body, expected) in cases {
            let r = SessionReceipt::sign(&body, &peer).encode();
            assert_eq!(problem(check_peer_receipt(&r, &pk, &ours())), expected);
        }
        assert_eq!(
            problem(check_peer_receipt(&good[..100], &pk, &ours())),
            ReceiptProblem::Malformed
        );
    }
}
