//! A peer that breaks the DH-PSI protocol is caught before any work is done on its message:
//! wrong counts, wrong message types, invalid elements, messages after the end. Decoders never
//! panic on arbitrary bytes.

use blindmatch::error::PeerMisbehaved;
use blindmatch::group::WireElement;
use blindmatch::protocol::dh::{DhMessage, DhParams, DhSession};
use blindmatch::protocol::{ItemSet, Mode, Role, SansIo, WireMessage};
use blindmatch::{ElementError, Error};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn session(role: Role, mode: Mode, n_init: usize, n_resp: usize) -> DhSession {
    let mut params = DhParams::new(mode, [3; 32], n_init, n_resp);
    params.chunk_size = 4;
    let n = if role == Role::Initiator {
        n_init
    } else {
        n_resp
    };
    let items = ItemSet::new((0..n).map(|i| format!("item{i}")));
    DhSession::new(role, params, items, &mut ChaCha20Rng::seed_from_u64(1)).expect("session")
}

/// Valid blinded elements from a throwaway session, so only the property under test is wrong.
fn valid_elements(n: usize) -> Vec<WireElement> {
    let mut s = session(Role::Initiator, Mode::Intersection, n.max(1), 1);
    let mut out = Vec::new();
    while out.len() < n {
        match s.poll_outgoing().expect("poll") {
            Some(m) => out.extend_from_slice(m.elements()),
            None => break,
        }
    }
    out.truncate(n);
    out
}

fn expect_peer_fault(r: blindmatch::Result<()>, what: &str) -> Error {
    let e = r.expect_err(what);
    assert!(e.is_peer_fault(), "{what}: expected a peer fault, got {e}");
    e
}

#[test]
fn responder_rejects_a_chunk_of_the_wrong_size() {
    let mut r = session(Role::Responder, Mode::Mutual, 10, 10);
    let e = expect_peer_fault(
        r.handle(DhMessage::Blinded(valid_elements(5))),
        "5 where 4 are due",
    );
    assert!(
        matches!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::WrongCount {
                got: 5,
                expected: 4,
                ..
            })
        ),
        "{e}"
    );
    // A failed session stays failed.
    assert!(r.handle(DhMessage::Blinded(valid_elements(4))).is_err());
    assert!(r.poll_outgoing().is_err());
}

#[test]
fn responder_rejects_more_elements_than_agreed() {
    let mut r = session(Role::Responder, Mode::Intersection, 4, 3);
    r.handle(DhMessage::Blinded(valid_elements(4)))
        .expect("the agreed 4");
    while r.poll_outgoing().expect("poll").is_some() {}
    assert!(r.is_finished());
    let e = expect_peer_fault(
        r.handle(DhMessage::Blinded(valid_elements(1))),
        "one too many",
    );
    assert!(
        matches!(e, Error::PeerMisbehaved(PeerMisbehaved::TooMuchData { .. })),
        "{e}"
    );
}

#[test]
fn fewer_elements_than_agreed_leave_the_session_unfinished() {
    let mut r = session(Role::Responder, Mode::Intersection, 8, 3);
    r.handle(DhMessage::Blinded(valid_elements(4)))
        .expect("first chunk");
    assert!(!r.is_finished());
    assert!(
        matches!(
            r.into_output(),
            Err(Error::PeerMisbehaved(PeerMisbehaved::EarlyDone))
        ),
        "no output from a truncated session"
    );
}

#[test]
fn wrong_message_type_is_rejected() {
    let mut r = session(Role::Responder, Mode::Mutual, 4, 4);
    let e = expect_peer_fault(
        r.handle(DhMessage::Reblinded(valid_elements(4))),
        "Reblinded first",
    );
    assert!(
        matches!(
            e,
            Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
                expected: "Blinded",
                got: "Reblinded"
            })
        ),
        "{e}"
    );
}

#[test]
fn identity_and_non_canonical_elements_are_rejected_with_their_position() {
    for (bad, reason) in [
        ([0u8; 32], ElementError::Identity),
        ([0xff; 32], ElementError::NonCanonical),
    ] {
        let mut r = session(Role::Responder, Mode::Intersection, 8, 3);
        r.handle(DhMessage::Blinded(valid_elements(4)))
            .expect("first chunk");
        let mut chunk = valid_elements(4);
        chunk[2] = WireElement(bad);
        match r.handle(DhMessage::Blinded(chunk)) {
            Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidElement { index, reason: got })) => {
                assert_eq!((index, got), (6, reason), "position within the whole set")
            }
            other => panic!("expected an invalid element, got {other:?}"),
        }
    }
}

#[test]
fn initiator_rejects_identity_in_reblinded_set_and_excess_while_blinding() {
    let mut i = session(Role::Initiator, Mode::Intersection, 4, 4);
    // While still blinding, early messages are queued, but never beyond the agreed counts.
    expect_peer_fault(
        i.handle(DhMessage::Reblinded(valid_elements(9))),
        "more than may come",
    );

    let mut i = session(Role::Initiator, Mode::Intersection, 4, 4);
    while i.poll_outgoing().expect("poll").is_some() {}
    let mut back = valid_elements(4);
    back[1] = WireElement([0; 32]);
    match i.handle(DhMessage::Reblinded(back)) {
        Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidElement {
            index: 1,
            reason: ElementError::Identity,
        })) => {}
        other => panic!("expected the identity to be refused, got {other:?}"),
    }
}

#[test]
fn responder_outside_mutual_mode_accepts_nothing_while_blinding() {
    let mut r = session(Role::Responder, Mode::Intersection, 4, 8);
    r.handle(DhMessage::Blinded(valid_elements(4)))
        .expect("initiator's set");
    assert!(r.poll_outgoing().expect("reply").is_some());
    expect_peer_fault(
        r.handle(DhMessage::Reblinded(valid_elements(4))),
        "nothing is due",
    );
}

#[test]
fn malformed_messages_are_rejected() {
    for bytes in [
        vec![],
        vec![1, 0, 0],
        vec![9, 0, 0, 0, 0],
        vec![1, 0, 0, 0, 1],
        vec![1, 0, 0, 0, 1].into_iter().chain([0u8; 33]).collect(),
        vec![1, 0xff, 0xff, 0xff, 0xff],
    ] {
        let e = DhMessage::decode(&bytes).expect_err("malformed");
        assert!(e.is_peer_fault(), "{e}");
    }
}

proptest! {
    #[test]
    fn message_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(m) = DhMessage::decode(&bytes) {
            prop_assert_eq!(m.encode(), bytes);
        }
    }

    #[test]
    fn message_round_trip(raw in proptest::collection::vec(any::<[u8; 32]>(), 0..20), reblinded: bool) {
        let elements: Vec<WireElement> = raw.into_iter().map(WireElement).collect();
        let m = if reblinded { DhMessage::Reblinded(elements) } else { DhMessage::Blinded(elements) };
        prop_assert_eq!(DhMessage::decode(&m.encode()).expect("round trip"), m);
    }
}
