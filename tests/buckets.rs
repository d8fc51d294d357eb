//! Bucketed sessions (`protocol-spec/09-buckets.md`) of DH-PSI and VOLE-PSI against a
//! plaintext intersection, through the in-memory driver's entry point, with the input
//! positions computed independently of the library.

use std::collections::{BTreeMap, BTreeSet};

use blindmatch::error::{ConfigError, ConfigReason};
use blindmatch::protocol::bucket::{bucket_bound, bucket_of, BucketMessage, MAX_BUCKETS};
use blindmatch::protocol::dh::{DhMessage, DhOutput, Learned};
use blindmatch::protocol::memory::{run_bucketed, run_dh_psi, BucketedProtocol};
use blindmatch::protocol::{ItemSet, Mode, WireMessage};
use blindmatch::Error;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

type Positions = BTreeMap<Vec<u8>, Vec<usize>>;

/// Every input position of each value of `xs` that `other` holds.
fn expected(xs: &[Vec<u8>], other: &[Vec<u8>]) -> Positions {
    let other: BTreeSet<&Vec<u8>> = other.iter().collect();
    let mut m = Positions::new();
    for (i, x) in xs.iter().enumerate() {
        if other.contains(x) {
            m.entry(x.clone()).or_default().push(i);
        }
    }
    m
}

fn learned(out: &DhOutput) -> Option<Positions> {
    match &out.learned {
        Learned::Matches(m) => Some(
            m.iter()
                .map(|m| (m.item().to_vec(), m.input_indices().collect()))
                .collect(),
        ),
        _ => None,
    }
}

/// Two random lists over a small alphabet, so that they share items and repeat some.
fn lists(seed: u64, n_a: usize, n_b: usize) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut draw = |n: usize| -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| format!("CSQU{:07}", rng.random_range(0..(n_a + n_b) as u32)).into_bytes())
            .collect()
    };
    (draw(n_a), draw(n_b))
}

fn check(protocol: BucketedProtocol, mode: Mode, buckets: u32, a: &[Vec<u8>], b: &[Vec<u8>]) {
    let (set_a, set_b) = (ItemSet::new(a), ItemSet::new(b));
    let (n_a, n_b) = (set_a.len(), set_b.len());
    let (i, r) = run_bucketed(protocol, mode, set_a, set_b, Some(buckets)).expect("session");
    let what = format!("{protocol:?} {mode:?}, {buckets} buckets");
    let shared = expected(a, b);
    match mode {
        Mode::Cardinality => assert_eq!(i.match_count(), Some(shared.len()), "{what}"),
        _ => assert_eq!(learned(&i), Some(shared), "{what}"),
    }
    let theirs = (mode == Mode::Mutual).then(|| expected(b, a));
    assert_eq!(learned(&r), theirs, "{what}");
    let k = buckets as usize;
    assert_eq!(i.peer_sent, k * bucket_bound(n_b, buckets), "{what}");
    assert_eq!(r.peer_sent, k * bucket_bound(n_a, buckets), "{what}");
    assert!(i.peer_sent >= n_b && r.peer_sent >= n_a);
}

#[test]
fn dh_psi_in_buckets_matches_the_plaintext_intersection() {
    for (seed, buckets) in [(1, 2), (2, 5), (3, 9)] {
        let (a, b) = lists(seed, 250, 173);
        for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
            check(BucketedProtocol::Dh, mode, buckets, &a, &b);
        }
    }
}

#[test]
fn vole_psi_in_buckets_matches_the_plaintext_intersection() {
    let (a, b) = lists(4, 230, 120);
    for mode in [Mode::Intersection, Mode::Mutual] {
        check(BucketedProtocol::Vole, mode, 3, &a, &b);
    }
    // More buckets than the small side has items: buckets empty on that side.
    let (a, b) = lists(5, 60, 3);
    for mode in [Mode::Intersection, Mode::Mutual] {
        check(BucketedProtocol::Vole, mode, 6, &a, &b);
    }
}

#[test]
fn the_default_bucket_count_of_small_sets_is_one_and_equals_the_unbucketed_session() {
    let (a, b) = lists(6, 300, 200);
    for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
        let (i, r) = run_bucketed(
            BucketedProtocol::Dh,
            mode,
            ItemSet::new(&a),
            ItemSet::new(&b),
            None,
        )
        .expect("bucketed");
        let plain = run_dh_psi(mode, ItemSet::new(&a), ItemSet::new(&b), None).expect("plain");
        assert_eq!((i, r), plain, "{mode:?}");
    }
}

#[test]
fn a_bucket_count_out_of_range_and_vole_cardinality_are_refused() {
    let (a, b) = lists(7, 10, 10);
    let e = run_bucketed(
        BucketedProtocol::Dh,
        Mode::Mutual,
        ItemSet::new(&a),
        ItemSet::new(&b),
        Some(0),
    )
    .expect_err("no buckets");
    assert!(
        matches!(
            e,
            Error::Config(ConfigError {
                reason: ConfigReason::Parameter,
                ..
            })
        ),
        "{e:?}"
    );
    let e = run_bucketed(
        BucketedProtocol::Vole,
        Mode::Cardinality,
        ItemSet::new(&a),
        ItemSet::new(&b),
        Some(2),
    )
    .expect_err("VOLE-PSI has no cardinality mode");
    assert!(matches!(e, Error::Internal(_)), "{e:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Small alphabets make overlaps, repeats and empty buckets frequent.
    #[test]
    fn random_sets_in_random_buckets_match_the_plaintext_intersection(
        a in proptest::collection::vec(proptest::collection::vec(0u8..5, 0..4), 0..40),
        b in proptest::collection::vec(proptest::collection::vec(0u8..5, 0..4), 0..40),
        buckets in 1u32..7,
    ) {
        for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
            check(BucketedProtocol::Dh, mode, buckets, &a, &b);
        }
    }

    #[test]
    fn the_bound_pads_every_bucket_and_never_exceeds_the_set(
        n in 0usize..3_000_000,
        buckets in 1u32..300,
    ) {
        let l = bucket_bound(n, buckets);
        prop_assert!(l <= n);
        prop_assert!(l as u64 * u64::from(buckets) >= n as u64);
        prop_assert!(bucket_bound(n + 1, buckets) >= l, "monotone in n");
        // Not monotone in B: crossing a power of two lowers k, so L(100, 128) = 25 < L(100, 129).
    }

    #[test]
    fn items_fall_into_a_bucket_in_range(
        sid in proptest::array::uniform32(any::<u8>()),
        item in proptest::collection::vec(any::<u8>(), 0..64),
        buckets in 1u32..=MAX_BUCKETS,
    ) {
        prop_assert!(bucket_of(&sid, &item, buckets) < buckets);
        prop_assert_eq!(bucket_of(&sid, &item, 1), 0);
    }

    #[test]
    fn bucketed_messages_never_panic_and_round_trip(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        if let Ok(m) = BucketMessage::<DhMessage>::decode(&bytes) {
            prop_assert_eq!(m.encode(), bytes);
        }
    }
}
