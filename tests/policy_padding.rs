//! Padding under the policy's bound hides the true set sizes: two sessions with different true
//! sizes under one bound produce transcripts of identical length and element count.

use blindmatch::error::PolicyRule;
use blindmatch::policy::{Policy, SessionRequest};
use blindmatch::protocol::dh::DhParams;
use blindmatch::protocol::memory::run_dh_psi_with;
use blindmatch::protocol::{ItemSet, Mode};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const POLICY: &str = r#"
version = 2
name = "padding test"
modes = ["intersection", "mutual", "cardinality"]
identifier_kinds = ["imo_ship"]
min_set_size = 1
max_set_size = 1000
padding_bound = 64
revealable_columns = []
max_sessions_per_peer_per_day = 10
max_elements_per_peer = 1000
cardinality_before_reveal = false
output_retention_days = 1
"#;

fn items(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("IMO{prefix}{i:05}")).collect()
}

/// Runs one mutual session where `shared` items are common; returns message lengths in order
/// and both outputs' element counts.
fn session(
    policy: &Policy,
    a_n: usize,
    b_n: usize,
    shared: usize,
) -> (Vec<(String, usize)>, usize, usize, usize) {
    let mut a = items("1", a_n);
    let mut b = items("2", b_n);
    for i in 0..shared {
        a[i] = format!("IMO9{i:06}");
        b[i] = format!("IMO9{i:06}");
    }
    for n in [a_n, b_n] {
        policy
            .check_session(&SessionRequest {
                mode: "mutual".into(),
                own_count: n as u64,
                peer_count: policy.padding_bound(),
                kinds: vec!["imo_ship".into()],
                peer_fingerprint: "peer".into(),
                revealed_columns: vec![],
                prior_cardinality_run: false,
            })
            .expect("allowed by the policy");
    }
    let a_sent = policy.padded_count(a_n as u64) as usize;
    let b_sent = policy.padded_count(b_n as u64) as usize;
    let params = DhParams::new(Mode::Mutual, [7; 32], a_sent, b_sent);
    let mut rng = ChaCha20Rng::from_seed([a_n as u8; 32]);
    let ((ia, rb), transcript) =
        run_dh_psi_with(params, ItemSet::new(&a), ItemSet::new(&b), &mut rng, true).expect("runs");
    assert_eq!(
        ia.match_count(),
        Some(shared),
        "padding must not create or hide matches"
    );
    assert_eq!(rb.match_count(), Some(shared));
    let lens = transcript
        .messages
        .iter()
        .map(|(who, m)| (format!("{who:?}"), m.len()))
        .collect();
    (lens, ia.own_sent, ia.peer_sent, rb.peer_sent)
}

#[test]
fn different_true_sizes_give_identical_transcript_shapes_under_one_bound() {
    let policy = Policy::parse(POLICY, "p").expect("policy");
    let small = session(&policy, 5, 11, 2);
    let large = session(&policy, 60, 33, 9);
    assert_eq!(small.1, 64);
    assert_eq!(small.2, 64);
    assert_eq!(small.3, 64);
    assert_eq!(small, (large.0.clone(), 64, 64, 64));
    let total: usize = small.0.iter().map(|(_, l)| l).sum();
    assert_eq!(total, large.0.iter().map(|(_, l)| l).sum::<usize>());
}

#[test]
fn without_padding_the_transcript_reveals_the_sizes() {
    // The control: the same comparison without a bound must differ, or the test above proves
    // nothing.
    let text = POLICY.replace("padding_bound = 64\n", "");
    let policy = Policy::parse(&text, "p").expect("policy");
    let small = session(&policy, 5, 11, 2);
    let large = session(&policy, 60, 33, 9);
    assert_ne!(small.0, large.0);
}

#[test]
fn a_set_larger_than_the_bound_is_refused() {
    let policy = Policy::parse(POLICY, "p").expect("policy");
    let r = policy.check_session(&SessionRequest {
        mode: "mutual".into(),
        own_count: 65,
        peer_count: Some(64),
        kinds: vec!["imo_ship".into()],
        peer_fingerprint: "peer".into(),
        revealed_columns: vec![],
        prior_cardinality_run: false,
    });
    let rule = match &r {
        Err(blindmatch::Error::PolicyRefused(r)) => Some(r.rule),
        _ => None,
    };
    assert_eq!(rule, Some(PolicyRule::PaddingBound), "{r:?}");
}
