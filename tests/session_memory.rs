//! The whole session envelope in memory, both sides, for every protocol and mode: the frames
//! the network would carry, with each side's effects performed by a recording performer.
//! Admission refusals, aborts, receipts and the order of audit entries are checked on both
//! sides; errors are matched by their typed variants.
#![allow(clippy::unwrap_used)]

mod session_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use blindmatch::audit::Event;
use blindmatch::error::{
    CancelReason, Error, Mismatch, PeerMisbehaved, PolicyRule, RefusedBy, SessionPhase,
};
use blindmatch::protocol::oprf_psi::PreparedSender;
use blindmatch::protocol::{ItemSet, Role};
use blindmatch::session::memory::run_pair;
use blindmatch::session::{BodyOutput, ProtocolChoice, SenderSource, SessionMode};
use blindmatch::transport::framing::FrameKind;
use blindmatch::transport::machine::Machine;
use session_support::*;

fn items(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:05}")).collect()
}

fn shared_sets() -> (ItemSet, ItemSet, usize) {
    let mut a = items("A", 40);
    let mut b = items("B", 60);
    let common = items("C", 13);
    a.extend(common.iter().cloned());
    b.extend(common.iter().cloned());
    (ItemSet::new(&a), ItemSet::new(&b), common.len())
}

#[test]
fn every_dh_mode_completes_with_receipts_and_ordered_logs() {
    for mode in [
        SessionMode::Intersection,
        SessionMode::Mutual,
        SessionMode::Cardinality,
    ] {
        let (a, b, shared) = shared_sets();
        let pair = Pair::new(mode, ProtocolChoice::Dh);
        let (ra, rb, frames) = pair.run(a, b);
        let (oa, ob) = (ra.unwrap(), rb.unwrap());
        match (&oa.output(), mode) {
            (BodyOutput::Dh(o), SessionMode::Cardinality) => {
                assert_eq!(o.match_count(), Some(shared))
            }
            (BodyOutput::Dh(o), _) => assert_eq!(o.matches().unwrap().len(), shared),
            other => panic!("{other:?}"),
        }
        match (&ob.output(), mode) {
            (BodyOutput::Dh(o), SessionMode::Mutual) => {
                assert_eq!(o.matches().unwrap().len(), shared)
            }
            (BodyOutput::Dh(o), _) => assert_eq!(o.match_count(), None),
            other => panic!("{other:?}"),
        }
        assert_eq!(oa.session_id(), ob.session_id());
        assert_eq!(oa.peer_receipt().session_id, oa.session_id());
        for side in [&pair.a, &pair.b] {
            assert_eq!(
                side.kinds(),
                ["session_started", "peer_receipt", "session_ended"],
                "{mode}"
            );
        }
        // Frame order per direction: Hello, Confirm, Admitted, Protocol*, Done, Receipt.
        for role in [Role::Initiator, Role::Responder] {
            let kinds = kinds_from(&frames, role);
            assert_eq!(
                &kinds[..3],
                [FrameKind::Hello, FrameKind::Confirm, FrameKind::Admitted]
            );
            assert_eq!(
                &kinds[kinds.len() - 2..],
                [FrameKind::Done, FrameKind::Receipt]
            );
            assert!(kinds[3..kinds.len() - 2]
                .iter()
                .all(|k| *k == FrameKind::Protocol));
        }
    }
}

#[test]
fn oprf_intersection_and_labeled_complete() {
    let (a, b, shared) = shared_sets();
    let pair = Pair::new(SessionMode::Intersection, ProtocolChoice::Oprf);
    let (ra, rb, _) = pair.run(a, b);
    match ra.unwrap().output() {
        BodyOutput::Receiver(o) => assert_eq!(o.matches.len(), shared),
        other => panic!("{other:?}"),
    }
    assert!(matches!(rb.unwrap().output(), BodyOutput::Sender(_)));

    let (a, b, shared) = shared_sets();
    let payloads: Vec<Vec<u8>> = (0..b.input_len())
        .map(|i| format!("{{\"voyage\":\"V{i}\"}}").into_bytes())
        .collect();
    let mut pair = Pair::new(SessionMode::Labeled, ProtocolChoice::Auto);
    pair.allowed = BTreeSet::from(["voyage".to_string()]);
    pair.sender = Some(SenderSource::Fresh {
        payloads: Some(Arc::new(payloads)),
        columns: vec!["voyage".into()],
    });
    let (ra, rb, _) = pair.run(a, b);
    match ra.unwrap().output() {
        BodyOutput::Receiver(o) => {
            assert_eq!(o.matches.len(), shared);
            assert_eq!(o.columns, ["voyage"]);
            assert!(o.matches.iter().all(|m| m.payload.is_some()));
        }
        other => panic!("{other:?}"),
    }
    rb.unwrap();
    for side in [&pair.a, &pair.b] {
        assert_eq!(
            side.kinds(),
            ["session_started", "peer_receipt", "session_ended"]
        );
    }
}

#[test]
fn a_column_the_receiver_may_not_see_aborts_before_any_element() {
    let (a, b, _) = shared_sets();
    let payloads: Vec<Vec<u8>> = (0..b.input_len()).map(|_| b"{}".to_vec()).collect();
    let mut pair = Pair::new(SessionMode::Labeled, ProtocolChoice::Oprf);
    pair.allowed = BTreeSet::from(["voyage".to_string()]);
    pair.sender = Some(SenderSource::Fresh {
        payloads: Some(Arc::new(payloads)),
        columns: vec!["owner".into()],
    });
    let (ra, rb, frames) = pair.run(a, b);
    assert!(matches!(
        ra,
        Err(Error::PolicyRefused(r)) if r.rule == PolicyRule::RevealableColumns
    ));
    assert!(matches!(rb, Err(Error::PeerAborted(SessionPhase::Body))));
    // The receiver sent no element: only the handshake, its verdict and the Abort.
    let sent = kinds_from(&frames, Role::Initiator);
    assert_eq!(
        sent,
        [
            FrameKind::Hello,
            FrameKind::Confirm,
            FrameKind::Admitted,
            FrameKind::Abort
        ]
    );
    assert_eq!(pair.a.kinds(), ["session_started", "session_aborted"]);
    assert_eq!(pair.b.kinds(), ["session_started", "session_aborted"]);
}

#[test]
fn a_refusal_names_the_rule_on_both_sides_and_no_element_moves() {
    for refusing in [Role::Initiator, Role::Responder] {
        let (a, b, _) = shared_sets();
        let pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
        let side = if refusing == Role::Initiator {
            &pair.a
        } else {
            &pair.b
        };
        side.refuse(PolicyRule::MaxSessionsPerPeerPerDay);
        let (ra, rb, frames) = pair.run(a, b);
        for (r, role) in [(ra, Role::Initiator), (rb, Role::Responder)] {
            match r {
                Err(Error::PolicyRefused(p)) => {
                    assert_eq!(p.rule, PolicyRule::MaxSessionsPerPeerPerDay);
                    let by = if role == refusing {
                        RefusedBy::Us
                    } else {
                        RefusedBy::Peer
                    };
                    assert_eq!(p.by, by);
                }
                other => panic!("{role:?}: {other:?}"),
            }
        }
        assert!(frames.iter().all(|(_, f)| f.kind != FrameKind::Protocol));
        assert_eq!(pair.a.kinds(), ["session_refused"]);
        assert_eq!(pair.b.kinds(), ["session_refused"]);
    }
}

#[test]
fn mismatched_hellos_list_every_field_on_both_sides() {
    let (a, b, _) = shared_sets();
    let mut pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
    pair.b_mode = Some(SessionMode::Cardinality);
    pair.b_policy = Some([9; 32]);
    pair.b_kinds = Some(vec!["raw".into()]);
    let (ra, rb, frames) = pair.run(a, b);
    for r in [ra, rb] {
        match r {
            Err(Error::Incompatible(i)) => {
                let codes: Vec<_> = i.mismatches.iter().map(Mismatch::code).collect();
                assert_eq!(codes, ["mode", "policy_digest", "key_kinds"]);
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(frames
        .iter()
        .all(|(_, f)| matches!(f.kind, FrameKind::Hello | FrameKind::Abort)));
    // Each side refused the handshake and logged it, naming every field, and no session.
    for (side, peer) in [(&pair.a, 0xbb), (&pair.b, 0xaa)] {
        assert_eq!(side.kinds(), ["handshake_refused"]);
        match &side.events.lock().unwrap()[0] {
            blindmatch::audit::Event::HandshakeRefused {
                peer_fingerprint,
                mismatches,
                ..
            } => {
                assert_eq!(mismatches, &["mode", "policy_digest", "key_kinds"]);
                assert_eq!(peer_fingerprint, &hex::encode([peer; 32]));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_served_index_cannot_run_dh_psi() {
    let (a, b, _) = shared_sets();
    let set = PreparedSender::new(
        Default::default(),
        blindmatch::oprf::OprfKey::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng)),
        &b,
        None,
    )
    .unwrap();
    let mut pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
    pair.sender = Some(SenderSource::Index {
        set: Arc::new(set),
        columns: vec![],
        epoch: blindmatch::index::KeyEpoch {
            id: [0; 16],
            created: 0,
            not_after: u64::MAX,
        },
    });
    let (ra, rb, _) = pair.run(a, b);
    assert!(matches!(rb, Err(Error::Config(_))), "{rb:?}");
    assert!(matches!(ra, Err(Error::PeerAborted(_))), "{ra:?}");
}

#[test]
fn the_engine_limit_refuses_an_announced_size_before_admission() {
    use blindmatch::session::transcript::transcript_hash;
    use blindmatch::session::Hello;
    use blindmatch::transport::framing::Frame;
    use blindmatch::transport::machine::{Action, Input, Machine};

    let (a, b, _) = shared_sets();
    let pair = Pair::new(SessionMode::Intersection, ProtocolChoice::Dh);
    let (_, mut responder) = pair.envelopes(a, b);
    let Some(Action::Send(hello)) = responder.poll() else {
        panic!("the responder speaks first")
    };
    let theirs = Hello::decode(&hello.payload).unwrap();
    // A hand-made initiator announcing one element more than the engine's limit.
    let ours = Hello {
        role: Role::Initiator,
        set_size: blindmatch::protocol::MAX_SET_SIZE as u64 + 1,
        own_fingerprint: theirs.peer_fingerprint,
        peer_fingerprint: theirs.own_fingerprint,
        nonce: [3; 32],
        ..theirs.clone()
    };
    let bytes = ours.encode();
    responder.handle(Input::Frame(Frame::new(FrameKind::Hello, bytes.clone())));
    let Some(Action::Send(confirm)) = responder.poll() else {
        panic!("the responder confirms")
    };
    assert_eq!(confirm.kind, FrameKind::Confirm);
    let transcript = transcript_hash(&[5; 32], &bytes, &hello.payload);
    responder.handle(Input::Frame(Frame::new(
        FrameKind::Confirm,
        transcript.to_vec(),
    )));
    let mut sent = Vec::new();
    while let Some(action) = responder.poll() {
        match action {
            Action::Send(f) => sent.push(f),
            Action::Perform(e) => {
                use blindmatch::transport::machine::Perform;
                responder.complete(pair.b.perform(e))
            }
            Action::Close => {}
            other => panic!("this test does not know {other:?}"),
        }
    }
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, FrameKind::Refused);
    assert_eq!(sent[0].payload, b"max_set_size");
    assert!(matches!(
        responder.into_output(),
        Err(Error::PolicyRefused(r)) if r.rule == PolicyRule::MaxSetSize && r.by == RefusedBy::Us
    ));
    assert_eq!(pair.b.admissions(), 0, "the policy was never asked");
    assert_eq!(pair.b.kinds(), ["session_refused"]);
}

#[test]
fn a_failing_output_logs_an_abort_after_the_receipts() {
    let (a, b, _) = shared_sets();
    let pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
    pair.a.fail_output();
    let (ra, rb, _) = pair.run(a, b);
    assert!(matches!(ra, Err(Error::Io { .. })), "{ra:?}");
    rb.unwrap();
    assert_eq!(
        pair.a.kinds(),
        ["session_started", "peer_receipt", "session_aborted"]
    );
    // The abort says how far the session got and what each side had learned by then.
    let events = pair.a.events.lock().unwrap();
    let ended_b = pair.b.events.lock().unwrap();
    let b_learned = ended_b.iter().find_map(|e| match e {
        blindmatch::audit::Event::SessionEnded { outcome, .. } => Some(outcome.own_learned),
        _ => None,
    });
    match &events[2] {
        blindmatch::audit::Event::SessionAborted {
            stage,
            own_learned,
            peer_learned,
            ..
        } => {
            assert_eq!(*stage, Some(blindmatch::audit::AbortStage::AfterReceipts));
            assert!(matches!(
                own_learned,
                Some(blindmatch::audit::Learned::Matches(_))
            ));
            assert_eq!(
                *peer_learned, b_learned,
                "mutual: the peer learned what we did"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_in_the_body_aborts_both_sides_with_typed_reasons() {
    let (a, b, _) = shared_sets();
    let pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
    let (ra, rb, _) = pair.run_with_tamper(a, b, |role, f| {
        if role == Role::Initiator && f.kind == FrameKind::Protocol {
            f.payload[10] ^= 0xff;
        }
    });
    assert!(
        matches!(
            rb,
            Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidElement { .. }))
        ),
        "{rb:?}"
    );
    assert!(
        matches!(ra, Err(Error::PeerAborted(SessionPhase::Body))),
        "{ra:?}"
    );
    assert_eq!(pair.a.kinds(), ["session_started", "session_aborted"]);
    assert_eq!(pair.b.kinds(), ["session_started", "session_aborted"]);
}

#[test]
fn a_relayed_handshake_fails_the_confirmation() {
    let (a, b, _) = shared_sets();
    let mut pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
    pair.b_exporter = Some([0x42; 32]);
    let (ra, rb, _) = pair.run(a, b);
    for r in [&ra, &rb] {
        assert!(
            matches!(
                r,
                Err(Error::PeerMisbehaved(PeerMisbehaved::TranscriptMismatch))
                    | Err(Error::PeerAborted(SessionPhase::Handshake))
            ),
            "{r:?}"
        );
    }
    assert!(
        matches!(
            ra,
            Err(Error::PeerMisbehaved(PeerMisbehaved::TranscriptMismatch))
        ) || matches!(
            rb,
            Err(Error::PeerMisbehaved(PeerMisbehaved::TranscriptMismatch))
        )
    );
}

#[test]
fn run_pair_is_used_with_either_side_first() {
    // The responder's envelope may be passed first; the frames are the same.
    let (a, b, shared) = shared_sets();
    let pair = Pair::new(SessionMode::Intersection, ProtocolChoice::Dh);
    let (ea, eb) = pair.envelopes(a, b);
    let (rb, ra, _) = run_pair(eb, &pair.b, Role::Responder, ea, &pair.a);
    match ra.unwrap().output() {
        BodyOutput::Dh(o) => assert_eq!(o.matches().unwrap().len(), shared),
        other => panic!("{other:?}"),
    }
    rb.unwrap();
}

#[test]
fn vole_psi_completes_in_intersection_and_mutual_modes() {
    for mode in [SessionMode::Intersection, SessionMode::Mutual] {
        let (a, b, shared) = shared_sets();
        let pair = Pair::new(mode, ProtocolChoice::Vole);
        let (ra, rb, frames) = pair.run(a, b);
        let (oa, ob) = (ra.unwrap(), rb.unwrap());
        assert_eq!(oa.terms().protocol, blindmatch::session::Protocol::Vole);
        match oa.output() {
            BodyOutput::Vole(o) => assert_eq!(o.matches().unwrap().len(), shared),
            other => panic!("{other:?}"),
        }
        match (ob.output(), mode) {
            (BodyOutput::Vole(o), SessionMode::Mutual) => {
                assert_eq!(o.matches().unwrap().len(), shared)
            }
            (BodyOutput::Vole(o), _) => assert_eq!(o.match_count(), None),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            oa.peer_receipt().terms.protocol,
            blindmatch::session::Protocol::Vole
        );
        for side in [&pair.a, &pair.b] {
            assert_eq!(
                side.kinds(),
                ["session_started", "peer_receipt", "session_ended"],
                "{mode}"
            );
        }
        // The initiator speaks first in the body, and only it sends in mutual mode's last step.
        let body: Vec<Role> = frames
            .iter()
            .filter(|(_, f)| f.kind == FrameKind::Protocol)
            .map(|(r, _)| *r)
            .collect();
        assert_eq!(body.first(), Some(&Role::Initiator));
        let last = if mode == SessionMode::Mutual {
            Role::Initiator
        } else {
            Role::Responder
        };
        assert_eq!(body.last(), Some(&last), "{mode}");
    }
}

#[test]
fn vole_psi_is_refused_for_cardinality_and_labeled_on_both_sides() {
    for mode in [SessionMode::Cardinality, SessionMode::Labeled] {
        let (a, b, _) = shared_sets();
        let pair = Pair::new(mode, ProtocolChoice::Vole);
        let (ra, rb, frames) = pair.run(a, b);
        for r in [ra, rb] {
            match r {
                Err(Error::Incompatible(i)) => {
                    let codes: Vec<_> = i.mismatches.iter().map(Mismatch::code).collect();
                    assert_eq!(codes, ["mode_not_in_protocol"], "{mode}");
                }
                other => panic!("{mode}: {other:?}"),
            }
        }
        assert!(frames.iter().all(|(_, f)| f.kind != FrameKind::Protocol));
    }
}

#[test]
fn garbage_in_a_vole_body_aborts_both_sides_with_typed_reasons() {
    let (a, b, _) = shared_sets();
    let pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Vole);
    // The receiver's first message claims an OKVS of zero sparse columns.
    let (ra, rb, _) = pair.run_with_tamper(a, b, |role, f| {
        if role == Role::Initiator && f.kind == FrameKind::Protocol && f.payload[0] == 0x01 {
            f.payload[1..9].fill(0);
        }
    });
    assert!(
        matches!(
            rb,
            Err(Error::PeerMisbehaved(
                PeerMisbehaved::MalformedMessage { .. }
            ))
        ),
        "{rb:?}"
    );
    assert!(
        matches!(ra, Err(Error::PeerAborted(SessionPhase::Body))),
        "{ra:?}"
    );
    assert_eq!(pair.a.kinds(), ["session_started", "session_aborted"]);
    assert_eq!(pair.b.kinds(), ["session_started", "session_aborted"]);
}

/// One run in which the initiator is interrupted (its step sees the interrupt raised, as on
/// Ctrl-C) when it sends its first protocol frame; if `driver_stops_b`, the responder's
/// interrupt is raised with [`CancelReason::PeerLeft`] at the same moment, as the network
/// driver does when the initiator's `Abort` arrives during the responder's step. Returns the
/// results, the frames and the responder's log.
fn initiator_interrupted(
    protocol: ProtocolChoice,
    driver_stops_b: bool,
) -> (
    blindmatch::error::Result<blindmatch::session::SessionOutcome>,
    blindmatch::error::Result<blindmatch::session::SessionOutcome>,
    blindmatch::session::memory::FrameLog,
    Vec<Event>,
) {
    let (a, b, _) = shared_sets();
    let pair = Pair::new(SessionMode::Mutual, protocol);
    let (ea, eb) = pair.envelopes(a, b);
    let (a_stop, b_stop) = (ea.interrupt(), eb.interrupt());
    let (ra, rb, frames) = pair.run_envelopes_with_tamper(ea, eb, |role, f| {
        if role == Role::Initiator && f.kind == FrameKind::Protocol {
            a_stop.raise(CancelReason::Interrupted);
            if driver_stops_b {
                b_stop.raise(CancelReason::PeerLeft);
            }
        }
    });
    let events = pair.b.events.lock().unwrap().clone();
    (ra, rb, frames, events)
}

#[test]
fn a_step_stopped_because_the_peer_left_ends_with_the_peers_abort_as_before() {
    for protocol in [ProtocolChoice::Dh, ProtocolChoice::Vole] {
        let (ra, rb, frames, stopped_log) = initiator_interrupted(protocol, true);
        assert!(
            matches!(ra, Err(Error::Cancelled(CancelReason::Interrupted))),
            "{protocol:?}: {ra:?}"
        );
        // The peer's error, not a cancellation of ours, and no Abort of our own.
        assert!(
            matches!(rb, Err(Error::PeerAborted(SessionPhase::Body))),
            "{protocol:?}: {rb:?}"
        );
        assert!(!kinds_from(&frames, Role::Responder).contains(&FrameKind::Abort));
        assert_eq!(
            kinds_from(&frames, Role::Initiator).last(),
            Some(&FrameKind::Abort)
        );
        // Logged exactly as when the responder reads the Abort after its step.
        let (_, rb, _, unstopped_log) = initiator_interrupted(protocol, false);
        assert!(matches!(rb, Err(Error::PeerAborted(SessionPhase::Body))));
        assert_eq!(stopped_log, unstopped_log, "{protocol:?}");
        assert!(
            matches!(
                stopped_log.as_slice(),
                [Event::SessionStarted { .. }, Event::SessionAborted { code: Some(c), .. }]
                    if *c == Error::PeerAborted(SessionPhase::Body).code()
            ),
            "{protocol:?}: {stopped_log:?}"
        );
    }
}

#[test]
fn a_step_stopped_because_the_connection_ended_ends_with_closed_early() {
    let (a, b, _) = shared_sets();
    let pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Vole);
    let (ea, eb) = pair.envelopes(a, b);
    let b_stop = eb.interrupt();
    // The connection ends during the responder's step: its driver stops the step, and no
    // Abort follows, only the end of the stream.
    let (ra, rb, frames) = pair.run_envelopes_with_tamper(ea, eb, |role, f| {
        if role == Role::Initiator && f.kind == FrameKind::Protocol {
            b_stop.raise(CancelReason::PeerLeft);
        }
    });
    assert!(
        matches!(
            rb,
            Err(Error::PeerMisbehaved(PeerMisbehaved::ClosedEarly(
                SessionPhase::Body
            )))
        ),
        "{rb:?}"
    );
    assert!(!kinds_from(&frames, Role::Responder).contains(&FrameKind::Abort));
    assert!(ra.is_err());
    assert_eq!(pair.b.kinds(), ["session_started", "session_aborted"]);
}
