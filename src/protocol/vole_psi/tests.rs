//! VOLE-PSI sessions against a plaintext intersection, and peers that break the exchange.

use std::collections::BTreeSet;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::message::{Kind, VoleMessage};
use super::*;
use crate::error::{CancelReason, Error, PeerMisbehaved, Result};
use crate::protocol::dh::{DhOutput, DhParams, Learned};
use crate::protocol::memory::{pump, run_concurrently, Transcript};
use crate::protocol::{Interrupt, ItemSet, Mode, Role, SansIo, WireMessage};

fn items(range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
    range.map(|i| format!("MSCU{i:07}").into_bytes()).collect()
}

fn pair(
    mode: Mode,
    ours: &[Vec<u8>],
    theirs: &[Vec<u8>],
    pad: (usize, usize),
    chunk: usize,
) -> (VolePsiSession, VolePsiSession) {
    let (a, b) = (ItemSet::new(ours.iter()), ItemSet::new(theirs.iter()));
    let mut params = DhParams::new(mode, [3; 32], a.len() + pad.0, b.len() + pad.1);
    params.chunk_size = chunk;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let r = VolePsiSession::new(
        Role::Initiator,
        params.clone(),
        a,
        &mut rng,
        Interrupt::new(),
    )
    .expect("receiver");
    let s = VolePsiSession::new(Role::Responder, params, b, &mut rng, Interrupt::new())
        .expect("sender");
    (r, s)
}

fn matched(out: &DhOutput) -> Option<BTreeSet<Vec<u8>>> {
    match &out.learned {
        Learned::Matches(m) => Some(m.iter().map(|m| m.item().to_vec()).collect()),
        _ => None,
    }
}

/// Runs a session in `mode` and checks both sides against the plaintext intersection.
fn check(mode: Mode, ours: &[Vec<u8>], theirs: &[Vec<u8>], pad: (usize, usize), chunk: usize) {
    let (mut r, mut s) = pair(mode, ours, theirs, pad, chunk);
    run_concurrently(&mut r, &mut s).expect("session");
    let (r, s) = (r.into_output().expect("r"), s.into_output().expect("s"));
    let theirs_set: BTreeSet<Vec<u8>> = theirs.iter().cloned().collect();
    let expected: BTreeSet<Vec<u8>> = ours
        .iter()
        .filter(|i| theirs_set.contains(*i))
        .cloned()
        .collect();
    assert_eq!(
        matched(&r),
        Some(expected.clone()),
        "the receiver's matches"
    );
    let sender_learned = (mode == Mode::Mutual).then_some(expected);
    assert_eq!(matched(&s), sender_learned, "the sender's matches");
    assert_eq!((r.own_sent, r.peer_sent), (s.peer_sent, s.own_sent));
}

#[test]
fn sessions_give_the_plaintext_intersection() {
    for mode in [Mode::Intersection, Mode::Mutual] {
        // Some shared, sizes not powers of two, chunks that do not divide them.
        check(mode, &items(0..300), &items(200..777), (0, 0), 100);
        // None shared; all shared.
        check(mode, &items(0..50), &items(50..90), (0, 0), 16);
        check(mode, &items(0..129), &items(0..129), (0, 0), 4096);
        // One element each; very unequal sizes.
        check(mode, &items(5..6), &items(5..6), (0, 0), 1);
        check(mode, &items(0..3), &items(0..5000), (0, 0), 1000);
        check(mode, &items(0..5000), &items(4998..5001), (0, 0), 1000);
        // Padding on both sides.
        check(mode, &items(0..40), &items(30..60), (25, 3), 7);
    }
}

#[test]
fn empty_sets_exchange_nothing_and_match_nothing() {
    for mode in [Mode::Intersection, Mode::Mutual] {
        for (ours, theirs) in [(items(0..0), items(0..10)), (items(0..10), items(0..0))] {
            let (mut r, mut s) = pair(mode, &ours, &theirs, (0, 0), 16);
            let mut t = Transcript::default();
            pump(&mut r, &mut s, Some(&mut t)).expect("session");
            assert!(t.messages.is_empty());
            check(mode, &ours, &theirs, (0, 0), 16);
        }
    }
}

#[test]
fn duplicates_are_matched_at_every_input_position() {
    let ours = vec![b"A".to_vec(), b"B".to_vec(), b"A".to_vec()];
    let (mut r, mut s) = pair(Mode::Intersection, &ours, &[b"A".to_vec()], (0, 0), 16);
    run_concurrently(&mut r, &mut s).expect("session");
    let out = r.into_output().expect("r");
    assert_eq!(out.duplicates, 1);
    let Learned::Matches(m) = out.learned else {
        panic!("the receiver learns matches")
    };
    assert_eq!(m.len(), 1);
    assert_eq!(
        m.get(0)
            .expect("a match")
            .input_indices()
            .collect::<Vec<_>>(),
        [0, 2]
    );
}

#[test]
fn more_items_than_announced_is_an_input_error() {
    let params = DhParams::new(Mode::Intersection, [3; 32], 2, 5);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    for role in [Role::Initiator, Role::Responder] {
        let set = ItemSet::new(items(0..6).iter());
        assert!(matches!(
            VolePsiSession::new(role, params.clone(), set, &mut rng, Interrupt::new()),
            Err(Error::Input(e)) if e.reason == crate::error::InputReason::SetSize
        ));
    }
    let cardinality = DhParams::new(Mode::Cardinality, [3; 32], 2, 5);
    assert!(matches!(
        VolePsiSession::new(
            Role::Initiator,
            cardinality,
            ItemSet::default(),
            &mut rng,
            Interrupt::new()
        ),
        Err(Error::Internal(_))
    ));
}

/// The messages of an honest session in mutual mode, in order, as `(sender, bytes)`.
fn honest_transcript() -> Vec<(Role, Vec<u8>)> {
    let (mut r, mut s) = pair(Mode::Mutual, &items(0..40), &items(20..70), (0, 0), 16);
    let mut t = Transcript::default();
    pump(&mut r, &mut s, Some(&mut t)).expect("session");
    t.messages
}

/// Replays the honest transcript to a fresh party of `role`, with message `at` (counted among
/// the messages it receives) replaced by `bad`, and returns the first error.
fn tamper(role: Role, at: usize, bad: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Error {
    let (r, s) = pair(Mode::Mutual, &items(0..40), &items(20..70), (0, 0), 16);
    let mut victim = match role {
        Role::Initiator => r,
        Role::Responder => s,
    };
    let incoming: Vec<Vec<u8>> = honest_transcript()
        .into_iter()
        .filter(|(from, _)| *from != role)
        .map(|(_, m)| m)
        .collect();
    for (i, bytes) in incoming.iter().enumerate() {
        while victim.poll_outgoing().expect("poll").is_some() {}
        let bytes = if i == at {
            match bad(bytes) {
                Some(b) => b,
                None => continue,
            }
        } else {
            bytes.clone()
        };
        let step = VoleMessage::decode(&bytes).and_then(|m| victim.handle(m));
        if let Err(e) = step {
            assert!(
                victim.poll_outgoing().is_err(),
                "a failed session stays failed"
            );
            return e;
        }
    }
    panic!("the tampered transcript was accepted")
}

#[test]
fn a_misbehaving_peer_is_refused_with_a_typed_error() {
    use PeerMisbehaved::*;
    for role in [Role::Initiator, Role::Responder] {
        // The first message truncated by a byte, or with a byte too many.
        let e = tamper(role, 0, |m| Some(m[..m.len() - 1].to_vec()));
        assert!(
            matches!(
                e,
                Error::PeerMisbehaved(WrongCount { .. } | MalformedMessage { .. })
            ),
            "{role:?}: {e}"
        );
        let e = tamper(role, 0, |m| Some([m, &[0]].concat()));
        assert!(
            matches!(
                e,
                Error::PeerMisbehaved(WrongCount { .. } | MalformedMessage { .. })
            ),
            "{role:?}: {e}"
        );
        // The first message replayed in place of the second.
        let first = honest_transcript()
            .into_iter()
            .find(|(from, _)| *from != role)
            .map(|(_, m)| m)
            .expect("a first message");
        let e = tamper(role, 1, |_| Some(first.clone()));
        assert!(
            matches!(e, Error::PeerMisbehaved(UnexpectedMessage { .. })),
            "{role:?}: {e}"
        );
        // A chunk with a count other than the one due, and one chunk dropped.
        let e = tamper(role, 2, |m| {
            let mut m = m.to_vec();
            m[4] = m[4].wrapping_sub(1);
            Some(m)
        });
        assert!(
            matches!(e, Error::PeerMisbehaved(WrongCount { .. })),
            "{role:?}: {e}"
        );
    }
    // The receiver's bitmap (its last message: 50 tags, 7 bytes) with a bit past the last tag.
    let last = honest_transcript()
        .iter()
        .filter(|(from, _)| *from == Role::Initiator)
        .count()
        - 1;
    let e = tamper(Role::Responder, last, |m| {
        assert_eq!(m[0], 0x07, "the bitmap");
        let mut m = m.to_vec();
        *m.last_mut().expect("a byte") |= 0x80;
        Some(m)
    });
    assert!(
        matches!(e, Error::PeerMisbehaved(MalformedMessage { .. })),
        "{e}"
    );
}

#[test]
fn a_message_after_the_last_is_refused() {
    let (mut r, mut s) = pair(Mode::Intersection, &items(0..10), &items(5..15), (0, 0), 16);
    run_concurrently(&mut r, &mut s).expect("session");
    let extra = VoleMessage::setup(Kind::Noise, vec![0; 8]);
    assert!(matches!(
        s.handle(extra),
        Err(Error::PeerMisbehaved(PeerMisbehaved::TooMuchData { .. }))
    ));
}

#[test]
fn sixty_five_thousand_items_per_side() {
    let ours = items(0..1 << 16);
    let theirs = items((1 << 15)..(3 << 15));
    check(Mode::Intersection, &ours, &theirs, (0, 0), 4096);
}

/// Replays the honest transcript to a fresh party of `role` whose interrupt is raised just
/// before the message `at` (counted among those it receives), and returns that step's result.
fn interrupted_before(role: Role, at: usize) -> Result<()> {
    let (a, b) = (
        ItemSet::new(items(0..40).iter()),
        ItemSet::new(items(20..70).iter()),
    );
    let mut params = DhParams::new(Mode::Mutual, [3; 32], a.len(), b.len());
    params.chunk_size = 16;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let stop = Interrupt::new();
    let r = VolePsiSession::new(Role::Initiator, params.clone(), a, &mut rng, stop.clone());
    let s = VolePsiSession::new(Role::Responder, params, b, &mut rng, stop.clone());
    let mut victim = match role {
        Role::Initiator => r.expect("receiver"),
        Role::Responder => s.expect("sender"),
    };
    let incoming: Vec<Vec<u8>> = honest_transcript()
        .into_iter()
        .filter(|(from, _)| *from != role)
        .map(|(_, m)| m)
        .collect();
    for (i, bytes) in incoming.iter().enumerate() {
        while victim.poll_outgoing().expect("poll").is_some() {}
        if i == at {
            stop.raise(CancelReason::Interrupted);
        }
        let step = VoleMessage::decode(bytes).and_then(|m| victim.handle(m));
        if i == at {
            return step;
        }
        step.expect("an honest message");
    }
    panic!("the transcript has no message {at} for {role:?}")
}

/// The steps that run long (the sender's on the noise and on the last chunk of the mask, the
/// receiver's on the trees and on the last chunk of the tags) see a raised interrupt
/// themselves: the session is not only stopped between steps by its driver.
#[test]
fn long_steps_stop_once_the_interrupt_is_raised() {
    let transcript = honest_transcript();
    for (role, last_kind) in [(Role::Responder, 0x05u8), (Role::Initiator, 0x06)] {
        let incoming: Vec<&Vec<u8>> = transcript
            .iter()
            .filter(|(from, _)| *from != role)
            .map(|(_, m)| m)
            .collect();
        let last_chunk = incoming
            .iter()
            .rposition(|m| m[0] == last_kind)
            .expect("the chunked message");
        // Message 1 is the noise (to the sender) or the trees (to the receiver).
        for at in [1, last_chunk] {
            assert!(
                matches!(
                    interrupted_before(role, at),
                    Err(Error::Cancelled(CancelReason::Interrupted))
                ),
                "{role:?}, message {at}"
            );
        }
        // A chunk that completes nothing does no long work and is taken.
        assert!(interrupted_before(role, last_chunk - 1).is_ok(), "{role:?}");
    }
}
