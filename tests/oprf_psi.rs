//! OPRF-PSI end to end in memory: against the plaintext intersection on random data, empty
//! sets, one side of size 1, duplicates, padding, labeled mode (payloads decrypt only for
//! real matches; tampered ciphertexts, wrong keys and non-members fail closed), and peers
//! that break the protocol.

use std::collections::BTreeSet;
use std::sync::Arc;

use blindmatch::error::{Error, PeerMisbehaved};
use blindmatch::oprf::{OprfKey, Suite};
use blindmatch::protocol::oprf_psi::{
    label_key, open_label, run_in_memory, run_in_memory_with, OprfPsiMessage, OprfPsiParams,
    OprfReceiver, OprfSender, PreparedSender,
};
use blindmatch::protocol::oprf_psi::{ReceiverSetup, SenderParams};
use blindmatch::protocol::{ItemSet, SansIo, WireMessage};

fn setup(params: &OprfPsiParams) -> ReceiverSetup {
    ReceiverSetup {
        labeled: params.payload_len.is_some(),
        allowed_columns: None,
        payload_len: None,
    }
}
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

/// `n` random 8-byte items, of which the first `shared` are also returned in `common`.
fn random_sets(
    r: &mut ChaCha20Rng,
    n_r: usize,
    n_s: usize,
    shared: usize,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut item = || {
        let mut b = vec![0u8; 8];
        r.fill_bytes(&mut b);
        b
    };
    let common: Vec<Vec<u8>> = (0..shared).map(|_| item()).collect();
    let mut a = common.clone();
    a.extend((shared..n_r).map(|_| item()));
    let mut b = common;
    b.extend((shared..n_s).map(|_| item()));
    (a, b)
}

fn plaintext_intersection(a: &[Vec<u8>], b: &[Vec<u8>]) -> BTreeSet<Vec<u8>> {
    let b: BTreeSet<_> = b.iter().cloned().collect();
    a.iter().filter(|x| b.contains(*x)).cloned().collect()
}

fn matched(out: &blindmatch::protocol::oprf_psi::ReceiverOutput) -> BTreeSet<Vec<u8>> {
    out.matches.iter().map(|m| m.item.clone()).collect()
}

#[test]
fn random_sets_match_the_plaintext_intersection_in_both_suites() {
    let mut r = rng(1);
    for suite in Suite::ALL {
        for (n_r, n_s, shared) in [(50, 3000, 20), (700, 700, 0), (300, 5000, 300), (1, 10, 1)] {
            let (a, b) = random_sets(&mut r, n_r, n_s, shared);
            let (ro, so) =
                run_in_memory(suite, ItemSet::new(&a), ItemSet::new(&b), None, None).expect("run");
            assert_eq!(
                matched(&ro),
                plaintext_intersection(&a, &b),
                "{suite} {n_r}x{n_s}"
            );
            assert_eq!(ro.matches.len(), shared);
            assert_eq!(ro.peer_sent, n_s);
            assert_eq!(so.peer_sent, n_r);
            assert!(ro.matches.iter().all(|m| m.payload.is_none()));
        }
    }
}

#[test]
fn small_chunks_and_padding() {
    let mut r = rng(2);
    let (a, b) = random_sets(&mut r, 37, 150, 11);
    let key = OprfKey::random(&mut r);
    let suite = Suite::Ristretto255Shake256;
    let set = Arc::new(PreparedSender::new(suite, key, &ItemSet::new(&b), None).expect("set"));
    let mut params = OprfPsiParams::new(suite, [9; 32], 64, 1000);
    params.chunk_size = 7;
    let ((ro, so), t) =
        run_in_memory_with(params.clone(), ItemSet::new(&a), set.clone(), &mut r, true)
            .expect("run");
    assert_eq!(matched(&ro), plaintext_intersection(&a, &b));
    assert_eq!(
        (ro.own_sent, ro.peer_sent, so.peer_sent, so.own_unique),
        (64, 1000, 64, 150)
    );
    // 64 blinded in 10 chunks, 10 evaluated, 1000 tags in 143 chunks.
    // The sender's parameters, 64 blinded in 10 chunks, 10 evaluated, 1000 tags in 143.
    assert_eq!(t.messages.len(), 1 + 10 + 10 + 143);
    // A receiver set larger than agreed is refused.
    let (big, _) = random_sets(&mut r, 65, 0, 0);
    assert!(OprfReceiver::new(params.clone(), setup(&params), ItemSet::new(&big), &mut r).is_err());
    params.sender_count = 149;
    assert!(OprfSender::new(params, set, vec![], &mut r).is_err());
}

#[test]
fn empty_sets_and_size_one() {
    for (a, b) in [
        (vec![], vec![]),
        (vec![], vec![b"x".to_vec()]),
        (vec![b"x".to_vec()], vec![]),
        (vec![b"x".to_vec()], vec![b"x".to_vec()]),
        (vec![b"x".to_vec()], vec![b"y".to_vec()]),
    ] {
        let (ro, so) = run_in_memory(
            Suite::default(),
            ItemSet::new(&a),
            ItemSet::new(&b),
            None,
            None,
        )
        .expect("run");
        assert_eq!(matched(&ro), plaintext_intersection(&a, &b));
        assert_eq!(so.peer_sent, a.len());
    }
}

#[test]
fn duplicates_are_reported_with_every_input_position() {
    let a = ["A", "B", "A", "C", "A"];
    let b = ["A", "A", "C", "D"];
    let (ro, so) = run_in_memory(
        Suite::default(),
        ItemSet::new(a),
        ItemSet::new(b),
        None,
        None,
    )
    .expect("run");
    assert_eq!(ro.duplicates, 2);
    assert_eq!(ro.matches.len(), 2);
    assert_eq!(ro.matches[0].item, b"A");
    assert_eq!(ro.matches[0].input_indices, vec![0, 2, 4]);
    assert_eq!(ro.matches[1].item, b"C");
    assert_eq!(ro.matches[1].input_indices, vec![3]);
    assert_eq!((so.own_unique, so.peer_sent), (3, 3));
}

#[test]
fn labeled_payloads_decrypt_only_for_real_matches() {
    let mut r = rng(3);
    let (a, b) = random_sets(&mut r, 40, 200, 15);
    let payloads: Vec<Vec<u8>> = (0..b.len())
        .map(|i| format!("record {i}").into_bytes())
        .collect();
    let (ro, _) = run_in_memory(
        Suite::default(),
        ItemSet::new(&a),
        ItemSet::new(&b),
        Some(&payloads),
        Some((64, 256)),
    )
    .expect("run");
    assert_eq!(matched(&ro), plaintext_intersection(&a, &b));
    assert_eq!(ro.label_failures, 0);
    for m in &ro.matches {
        let i = b.iter().position(|x| *x == m.item).expect("a real match");
        assert_eq!(m.payload.as_deref(), Some(payloads[i].as_slice()));
    }
}

/// Runs a labeled session by hand so ciphertexts can be tampered with and tried under keys
/// of non-members.
#[test]
fn labeled_mode_fails_closed() {
    let mut r = rng(4);
    let suite = Suite::default();
    let a = vec![b"member".to_vec(), b"non-member".to_vec()];
    let b = vec![b"member".to_vec(), b"other".to_vec()];
    let payloads = vec![b"secret-1".to_vec(), b"secret-2".to_vec()];
    let key = OprfKey::random(&mut r);
    let outputs = key
        .evaluate(suite, &[b"non-member".to_vec(), b"member".to_vec()])
        .expect("eval");
    let set =
        Arc::new(PreparedSender::new(suite, key, &ItemSet::new(&b), Some(&payloads)).expect("set"));
    let mut params = OprfPsiParams::new(suite, [5; 32], 2, 2);
    params.payload_len = Some(16);
    let ct_len = params.ciphertext_len();

    for tamper in [false, true] {
        let mut rx = OprfReceiver::new(params.clone(), setup(&params), ItemSet::new(&a), &mut r)
            .expect("rx");
        let mut tx = OprfSender::new(params.clone(), set.clone(), vec![], &mut r).expect("tx");
        let announced = tx.poll_outgoing().expect("poll").expect("Params");
        rx.handle(announced).expect("params");
        let blinded = rx.poll_outgoing().expect("poll").expect("Blinded");
        tx.handle(blinded).expect("handle");
        let evaluated = tx.poll_outgoing().expect("poll").expect("Evaluated");
        rx.handle(evaluated).expect("handle");
        let OprfPsiMessage::Tags(mut tags) = tx.poll_outgoing().expect("poll").expect("Tags")
        else {
            panic!("expected Tags")
        };
        // Non-member: its own label key opens neither ciphertext.
        let wrong = label_key(&outputs[0]);
        for ct in tags.ciphertexts.chunks(ct_len) {
            assert_eq!(open_label(&wrong, &params.session_id, ct), None);
        }
        // The member's key opens exactly one.
        let right = label_key(&outputs[1]);
        let opened = tags
            .ciphertexts
            .chunks(ct_len)
            .filter_map(|ct| open_label(&right, &params.session_id, ct))
            .collect::<Vec<_>>();
        assert_eq!(opened, vec![b"secret-1".to_vec()]);
        if tamper {
            for byte in tags.ciphertexts.iter_mut() {
                *byte ^= 0x01;
            }
        }
        rx.handle(OprfPsiMessage::Tags(tags)).expect("handle");
        let out = rx.into_output().expect("output");
        if tamper {
            assert!(out.matches.is_empty());
            assert_eq!(out.label_failures, 1);
        } else {
            assert_eq!(out.matches.len(), 1);
            assert_eq!(out.matches[0].payload.as_deref(), Some(&b"secret-1"[..]));
        }
    }
}

#[test]
fn misbehaving_peers_are_refused_before_any_work() {
    let mut r = rng(5);
    let suite = Suite::default();
    let set = Arc::new(
        PreparedSender::new(
            suite,
            OprfKey::random(&mut r),
            &ItemSet::new(["a", "b"]),
            None,
        )
        .expect("set"),
    );
    let params = OprfPsiParams::new(suite, [1; 32], 2, 2);
    // Wrong count of blinded elements.
    let mut tx = OprfSender::new(params.clone(), set.clone(), vec![], &mut r).expect("tx");
    let mut rx = OprfReceiver::new(
        params.clone(),
        setup(&params),
        ItemSet::new(["a", "c"]),
        &mut r,
    )
    .expect("rx");
    rx.handle(tx.poll_outgoing().expect("poll").expect("Params"))
        .expect("params");
    let Some(OprfPsiMessage::Blinded(mut e)) = rx.poll_outgoing().expect("poll") else {
        panic!("expected Blinded")
    };
    e.pop();
    assert!(matches!(
        tx.handle(OprfPsiMessage::Blinded(e.clone())),
        Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount {
            got: 1,
            expected: 2,
            ..
        }))
    ));
    assert!(tx.poll_outgoing().is_err(), "a failed session stays failed");
    // Identity element: refused as an invalid element.
    let mut tx = OprfSender::new(params.clone(), set.clone(), vec![], &mut r).expect("tx");
    tx.poll_outgoing().expect("poll").expect("Params");
    e.push(blindmatch::group::WireElement([0; 32]));
    tx.handle(OprfPsiMessage::Blinded(e))
        .expect("counts are fine");
    assert!(tx.poll_outgoing().is_err());
    // Tags before the parameters; a Blinded message to the receiver.
    let mut rx =
        OprfReceiver::new(params.clone(), setup(&params), ItemSet::new(["a"]), &mut r).expect("rx");
    let tags = OprfPsiMessage::decode(&[0x13, 0, 0, 0, 2, 0, 0, 0, 0]).expect("well-formed");
    assert!(matches!(
        rx.handle(tags),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnexpectedMessage {
            expected: "Params",
            got: "Tags"
        }))
    ));
    let mut rx =
        OprfReceiver::new(params.clone(), setup(&params), ItemSet::new(["a"]), &mut r).expect("rx");
    assert!(matches!(
        rx.handle(OprfPsiMessage::Blinded(vec![])),
        Err(Error::PeerMisbehaved(
            PeerMisbehaved::UnexpectedMessage { .. }
        ))
    ));
    // Parameters that contradict the agreed mode.
    let mut rx =
        OprfReceiver::new(params.clone(), setup(&params), ItemSet::new(["a"]), &mut r).expect("rx");
    let labeled = OprfPsiMessage::Params(SenderParams {
        payload_len: Some(8),
        columns: vec![],
    });
    assert!(matches!(
        rx.handle(labeled),
        Err(Error::PeerMisbehaved(PeerMisbehaved::ParamsContradictMode))
    ));
}

#[test]
fn tags_cost_about_40_plus_log2_nr_bits_per_sender_item() {
    let mut r = rng(6);
    let (a, b) = random_sets(&mut r, 1024, 16384, 0);
    let suite = Suite::default();
    let set = Arc::new(
        PreparedSender::new(suite, OprfKey::random(&mut r), &ItemSet::new(&b), None).expect("set"),
    );
    let params = OprfPsiParams::new(suite, [3; 32], 1024, 16384);
    let (_, t) =
        run_in_memory_with(params.clone(), ItemSet::new(&a), set, &mut r, true).expect("run");
    let tag_bytes: usize = t
        .messages
        .iter()
        .filter(|(_, m)| m[0] == 0x13)
        .map(|(_, m)| m.len())
        .sum();
    let per_item = tag_bytes as f64 / 16384.0;
    // tag_bits = 40 + 10 + 14 = 64, Rice parameter 64 - 15 = 49: about 49 + 1 + 2 bits.
    assert_eq!(params.tag_bits(), 64);
    assert!(
        per_item < 6.6 && per_item > 6.0,
        "{per_item} bytes per sender item"
    );
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any small sets (with repeats, shared items, padding, tiny chunks): the receiver
        /// learns exactly the plaintext intersection, with every input position.
        #[test]
        fn any_small_sets_give_the_plaintext_intersection(
            a in proptest::collection::vec(0u8..40, 0..25),
            b in proptest::collection::vec(0u8..40, 0..25),
            pad_r in 0usize..5,
            pad_s in 0usize..5,
            chunk in 1usize..6,
        ) {
            let a: Vec<Vec<u8>> = a.into_iter().map(|x| vec![x]).collect();
            let b: Vec<Vec<u8>> = b.into_iter().map(|x| vec![x]).collect();
            let (ra, rb) = (ItemSet::new(&a), ItemSet::new(&b));
            let mut r = rng(7);
            let suite = Suite::default();
            let set = Arc::new(PreparedSender::new(suite, OprfKey::random(&mut r), &rb, None).expect("set"));
            let mut params = OprfPsiParams::new(suite, [2; 32], ra.len() + pad_r, rb.len() + pad_s);
            params.chunk_size = chunk;
            let ((out, so), _) = run_in_memory_with(params, ra.clone(), set, &mut r, false).expect("run");
            prop_assert_eq!(matched(&out), plaintext_intersection(&a, &b));
            for m in &out.matches {
                let positions: Vec<usize> =
                    a.iter().enumerate().filter(|(_, x)| **x == m.item).map(|(i, _)| i).collect();
                prop_assert_eq!(&m.input_indices, &positions);
            }
            prop_assert_eq!(so.peer_sent, ra.len() + pad_r);
            prop_assert_eq!(out.peer_sent, rb.len() + pad_s);
        }
    }
}
