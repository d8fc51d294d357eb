//! DH-PSI in all three modes against a plaintext intersection, on random and adversarial
//! inputs, through the in-memory driver (the same state machines the network runs).

use std::collections::{BTreeMap, BTreeSet};

use blindmatch::protocol::dh::{DhOutput, DhParams, Learned};
use blindmatch::protocol::memory::{run_dh_psi, run_dh_psi_with};
use blindmatch::protocol::{ItemSet, Mode, Role};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// Input positions of each matched value.
type Positions = BTreeMap<Vec<u8>, Vec<usize>>;

/// What each party should learn: (initiator's matched input positions by value, responder's).
fn expected(a: &[Vec<u8>], b: &[Vec<u8>]) -> (Positions, Positions) {
    let in_b: BTreeSet<&Vec<u8>> = b.iter().collect();
    let in_a: BTreeSet<&Vec<u8>> = a.iter().collect();
    let positions = |xs: &[Vec<u8>], other: &BTreeSet<&Vec<u8>>| {
        let mut m: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
        for (i, x) in xs.iter().enumerate() {
            if other.contains(x) {
                m.entry(x.clone()).or_default().push(i);
            }
        }
        m
    };
    (positions(a, &in_b), positions(b, &in_a))
}

fn learned_map(out: &DhOutput) -> BTreeMap<Vec<u8>, Vec<usize>> {
    match &out.learned {
        Learned::Matches(m) => m
            .iter()
            .map(|m| (m.item().to_vec(), m.input_indices().collect()))
            .collect(),
        other => panic!("expected matches, got {other:?}"),
    }
}

/// Runs every mode on `a` x `b` (optionally padded and with a small chunk size) and checks
/// each party learned exactly what its mode allows.
fn check_all_modes(
    a: &[Vec<u8>],
    b: &[Vec<u8>],
    padding: Option<(usize, usize)>,
    chunk: Option<usize>,
) {
    let (want_a, want_b) = expected(a, b);
    for mode in Mode::ALL {
        let (ia, ib) = (ItemSet::new(a), ItemSet::new(b));
        let (ua, ub) = (ia.len(), ib.len());
        let (init, resp) = match chunk {
            None => run_dh_psi(mode, ia, ib, padding).expect("session runs"),
            Some(chunk_size) => {
                let (na, nb) = padding.unwrap_or((ua, ub));
                let mut params = DhParams::new(mode, [7; 32], na, nb);
                params.chunk_size = chunk_size;
                let mut rng = ChaCha20Rng::seed_from_u64(9);
                run_dh_psi_with(params, ia, ib, &mut rng, false)
                    .expect("session runs")
                    .0
            }
        };
        let (sent_a, sent_b) = padding.unwrap_or((ua, ub));
        assert_eq!((init.role, resp.role), (Role::Initiator, Role::Responder));
        assert_eq!(
            (init.own_unique, init.own_sent, init.peer_sent),
            (ua, sent_a, sent_b),
            "{mode}"
        );
        assert_eq!(
            (resp.own_unique, resp.own_sent, resp.peer_sent),
            (ub, sent_b, sent_a),
            "{mode}"
        );
        assert_eq!(init.duplicates, a.len() - ua);
        match mode {
            Mode::Intersection => {
                assert_eq!(learned_map(&init), want_a, "{mode}: initiator");
                assert_eq!(
                    resp.learned,
                    Learned::Nothing,
                    "{mode}: responder learns nothing"
                );
            }
            Mode::Mutual => {
                assert_eq!(learned_map(&init), want_a, "{mode}: initiator");
                assert_eq!(learned_map(&resp), want_b, "{mode}: responder");
            }
            Mode::Cardinality => {
                assert_eq!(
                    init.learned,
                    Learned::Cardinality(want_a.len()),
                    "{mode}: initiator"
                );
                assert_eq!(
                    resp.learned,
                    Learned::Nothing,
                    "{mode}: responder learns nothing"
                );
            }
            other => panic!("this test does not know {other:?}"),
        }
    }
}

fn strs(xs: &[&str]) -> Vec<Vec<u8>> {
    xs.iter().map(|s| s.as_bytes().to_vec()).collect()
}

#[test]
fn empty_sets() {
    check_all_modes(&[], &[], None, None);
    check_all_modes(&strs(&["a"]), &[], None, None);
    check_all_modes(&[], &strs(&["a"]), None, None);
}

#[test]
fn one_element() {
    check_all_modes(&strs(&["MSCU1234566"]), &strs(&["MSCU1234566"]), None, None);
    check_all_modes(&strs(&["MSCU1234566"]), &strs(&["MAEU1234560"]), None, None);
}

#[test]
fn all_shared_and_none_shared() {
    let a: Vec<Vec<u8>> = (0..300).map(|i| format!("imo:{i}").into_bytes()).collect();
    let mut b = a.clone();
    b.reverse();
    check_all_modes(&a, &b, None, None);
    let c: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("other:{i}").into_bytes())
        .collect();
    check_all_modes(&a, &c, None, None);
}

#[test]
fn duplicates_are_removed_and_reported_with_all_positions() {
    let a = strs(&["x", "y", "x", "z", "x", "w"]);
    let b = strs(&["x", "x", "z", "q"]);
    check_all_modes(&a, &b, None, None);
    let (init, _) =
        run_dh_psi(Mode::Intersection, ItemSet::new(&a), ItemSet::new(&b), None).expect("runs");
    assert_eq!(init.duplicates, 2);
    let m = init.matches().expect("matches");
    assert_eq!(m.get(0).expect("a match").item(), b"x");
    assert_eq!(
        m.get(0)
            .expect("a match")
            .input_indices()
            .collect::<Vec<_>>(),
        [0, 2, 4]
    );
}

#[test]
fn empty_and_binary_items() {
    let a = vec![vec![], vec![0u8; 40], vec![0xff, 0x00]];
    let b = vec![vec![], vec![0xff, 0x00], vec![1]];
    check_all_modes(&a, &b, None, None);
}

#[test]
fn many_chunks_with_small_chunk_size_and_padding() {
    let a: Vec<Vec<u8>> = (0..50).map(|i| format!("{i}").into_bytes()).collect();
    let b: Vec<Vec<u8>> = (25..90).map(|i| format!("{i}").into_bytes()).collect();
    check_all_modes(&a, &b, None, Some(7));
    check_all_modes(&a, &b, Some((64, 100)), Some(7));
    check_all_modes(&a, &b, Some((50, 65)), Some(65)); // exact fit, one chunk each
    check_all_modes(&[], &b, Some((10, 65)), Some(3)); // only dummies on one side
}

#[test]
fn padding_hides_the_true_size() {
    let small: Vec<Vec<u8>> = (0..10).map(|i| format!("s{i}").into_bytes()).collect();
    let large: Vec<Vec<u8>> = (0..90).map(|i| format!("l{i}").into_bytes()).collect();
    let peer: Vec<Vec<u8>> = (0..40).map(|i| format!("l{i}").into_bytes()).collect();
    let run = |own: &[Vec<u8>]| {
        let mut params = DhParams::new(Mode::Mutual, [1; 32], 100, 50);
        params.chunk_size = 16;
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        run_dh_psi_with(
            params,
            ItemSet::new(own),
            ItemSet::new(&peer),
            &mut rng,
            true,
        )
        .expect("runs")
    };
    let ((small_out, _), small_t) = run(&small);
    let ((large_out, _), large_t) = run(&large);
    assert_eq!(small_out.match_count(), Some(0));
    assert_eq!(large_out.match_count(), Some(40));
    let shape = |t: &blindmatch::protocol::memory::Transcript| {
        t.messages
            .iter()
            .map(|(who, m)| (*who, m.len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        shape(&small_t),
        shape(&large_t),
        "same message sequence and sizes"
    );
    assert_eq!(small_t.bytes(), large_t.bytes());
    assert_ne!(small_t.messages, large_t.messages, "but different contents");
}

#[test]
fn more_items_than_the_agreed_count_is_an_input_error() {
    let a = strs(&["a", "b", "c"]);
    let err = match run_dh_psi(
        Mode::Mutual,
        ItemSet::new(&a),
        ItemSet::new(&a),
        Some((2, 3)),
    ) {
        Ok(_) => panic!("3 items against an agreed count of 2 must be refused"),
        Err(e) => e,
    };
    assert!(
        matches!(
            &err,
            blindmatch::Error::Input(e) if e.reason == blindmatch::error::InputReason::SetSize
        ),
        "{err}"
    );
}

#[test]
fn two_to_the_sixteen_items() {
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let n = 1 << 16;
    let a: Vec<Vec<u8>> = (0..n).map(|_| rng.random::<[u8; 12]>().to_vec()).collect();
    let mut b: Vec<Vec<u8>> = (0..n).map(|_| rng.random::<[u8; 12]>().to_vec()).collect();
    for i in (0..n).step_by(5) {
        b[i] = a[(i * 7) % n].clone();
    }
    let (want_a, want_b) = expected(&a, &b);
    let (init, resp) =
        run_dh_psi(Mode::Mutual, ItemSet::new(&a), ItemSet::new(&b), None).expect("runs");
    assert_eq!(learned_map(&init), want_a);
    assert_eq!(learned_map(&resp), want_b);
    assert!(want_a.len() > n / 6, "the test set has a real intersection");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_sets_match_the_plaintext_intersection(
        a in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..3), 0..40),
        b in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..3), 0..40),
        chunk in 1usize..9,
    ) {
        // Small alphabets make overlaps and duplicates frequent.
        check_all_modes(&a, &b, None, Some(chunk));
    }
}
