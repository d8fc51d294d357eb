//! Bucketed sessions through the whole envelope in memory (`protocol-spec/09-buckets.md`):
//! both sides announce small buckets (`max_bucket` of 2^10), so sets of a few thousand items
//! run DH-PSI and VOLE-PSI in several buckets; the results equal a plaintext intersection,
//! every bucket's messages carry its index, `cardinality` is never bucketed, and a message for
//! a bucket that does not exist aborts both sides with typed reasons.
#![allow(clippy::unwrap_used)]

mod session_support;

use std::collections::BTreeSet;

use blindmatch::error::{
    BucketProblem, ConfigError, ConfigReason, Error, Mismatch, PeerMisbehaved, SessionPhase,
};
use blindmatch::protocol::dh::DhOutput;
use blindmatch::protocol::{ItemSet, Role};
use blindmatch::session::{
    BodyInput, BodyOutput, Channel, Envelope, NoProgress, Protocol, ProtocolChoice, SessionMode,
    Shard,
};
use blindmatch::transport::framing::FrameKind;
use session_support::*;

/// 3,000 items of A's own and 2,500 of B's, 700 shared (in A's input twice each, to check
/// the positions survive the buckets): 3,700 distinct items on A's side, so `B = 4` buckets of
/// 2^10.
fn sets() -> (ItemSet, ItemSet, BTreeSet<Vec<u8>>) {
    let shared: Vec<String> = (0..700).map(|i| format!("MSCU{i:07}")).collect();
    let mut a: Vec<String> = (0..3000).map(|i| format!("A{i:06}")).collect();
    let mut b: Vec<String> = (0..2500).map(|i| format!("B{i:06}")).collect();
    a.extend(shared.iter().cloned());
    a.extend(shared.iter().cloned());
    b.extend(shared.iter().cloned());
    let want = shared.into_iter().map(String::into_bytes).collect();
    (ItemSet::new(&a), ItemSet::new(&b), want)
}

fn small_buckets(mode: SessionMode, protocol: ProtocolChoice) -> Pair {
    let mut pair = Pair::new(mode, protocol);
    pair.max_bucket_log2 = 10;
    pair
}

fn matched(o: &DhOutput) -> BTreeSet<Vec<u8>> {
    o.matches()
        .unwrap()
        .iter()
        .map(|m| m.item().to_vec())
        .collect()
}

fn dh_output(o: &BodyOutput) -> &DhOutput {
    match o {
        BodyOutput::Dh(o) | BodyOutput::Vole(o) => o,
        other => panic!("not a DH-PSI or VOLE-PSI output: {other:?}"),
    }
}

#[test]
fn dh_and_vole_psi_in_buckets_give_the_plaintext_intersection() {
    for (protocol, ran) in [
        (ProtocolChoice::Dh, Protocol::Dh),
        (ProtocolChoice::Vole, Protocol::Vole),
    ] {
        for mode in [SessionMode::Intersection, SessionMode::Mutual] {
            let (a, b, want) = sets();
            let pair = small_buckets(mode, protocol);
            let (ra, rb, frames) = pair.run(a, b);
            let (oa, ob) = (ra.unwrap(), rb.unwrap());
            assert_eq!(oa.terms().protocol, ran);
            assert_eq!((oa.terms().bucket_log2, oa.terms().buckets()), (10, 4));
            let ours = dh_output(oa.output());
            assert_eq!(matched(ours), want, "{ran:?} {mode}");
            // Both copies of every shared item in A's input are reported.
            assert!(ours
                .matches()
                .unwrap()
                .iter()
                .all(|m| m.input_indices().count() == 2));
            let theirs = dh_output(ob.output());
            if mode == SessionMode::Mutual {
                assert_eq!(matched(theirs), want, "{ran:?}");
            } else {
                assert_eq!(theirs.match_count(), None, "{ran:?}");
            }
            // Each side sent B · L(n, B) elements, L from spec 9.3.
            let l = |n| blindmatch::protocol::bucket::bucket_bound(n, 4) as u64;
            assert_eq!(ours.own_sent as u64, 4 * l(3700), "{ran:?}");
            assert_eq!(ours.peer_sent as u64, 4 * l(3200), "{ran:?}");
            for side in [&pair.a, &pair.b] {
                assert_eq!(
                    side.kinds(),
                    ["session_started", "peer_receipt", "session_ended"]
                );
            }
            // Every protocol frame starts with its bucket, and every bucket is used.
            let buckets: BTreeSet<u32> = frames
                .iter()
                .filter(|(_, f)| f.kind == FrameKind::Protocol)
                .map(|(_, f)| u32::from_be_bytes(f.payload[..4].try_into().unwrap()))
                .collect();
            assert_eq!(buckets, (0..4).collect(), "{ran:?} {mode}");
        }
    }
}

#[test]
fn cardinality_is_never_bucketed() {
    let (a, b, want) = sets();
    let pair = small_buckets(SessionMode::Cardinality, ProtocolChoice::Dh);
    let (ra, rb, frames) = pair.run(a, b);
    let (oa, _) = (ra.unwrap(), rb.unwrap());
    assert_eq!(oa.terms().buckets(), 1);
    assert_eq!(dh_output(oa.output()).match_count(), Some(want.len()));
    // DH-PSI's own messages, unprefixed: the first byte is the message type (spec 3.4).
    assert!(frames
        .iter()
        .filter(|(_, f)| f.kind == FrameKind::Protocol)
        .all(|(_, f)| f.payload[0] != 0));
}

#[test]
fn a_message_for_a_bucket_that_does_not_exist_aborts_both_sides() {
    for protocol in [ProtocolChoice::Dh, ProtocolChoice::Vole] {
        let (a, b, _) = sets();
        let pair = small_buckets(SessionMode::Intersection, protocol);
        let mut done = false;
        let (ra, rb, _) = pair.run_with_tamper(a, b, |role, f| {
            if !done && role == Role::Initiator && f.kind == FrameKind::Protocol {
                f.payload[..4].copy_from_slice(&4u32.to_be_bytes());
                done = true;
            }
        });
        assert!(
            matches!(
                rb,
                Err(Error::PeerMisbehaved(PeerMisbehaved::WrongBucket {
                    bucket: 4,
                    problem: BucketProblem::OutOfRange { buckets: 4 },
                }))
            ),
            "{protocol:?}: {rb:?}"
        );
        assert!(
            matches!(ra, Err(Error::PeerAborted(SessionPhase::Body))),
            "{protocol:?}: {ra:?}"
        );
        assert_eq!(pair.b.kinds(), ["session_started", "session_aborted"]);
    }
}

/// Both sides must run the same shard of the same logical session (section 9.11): another
/// shard, another count or another name is an incompatibility both sides report, before any
/// element; the same shard runs, and its terms and log carry it.
#[test]
fn the_sides_must_name_the_same_shard() {
    let (a, b, _) = sets();
    let ours = Shard::new(1, 3, "ops-2026-12").unwrap();
    for theirs in [
        Shard::new(2, 3, "ops-2026-12").unwrap(),
        Shard::new(1, 4, "ops-2026-12").unwrap(),
        Shard::new(1, 3, "ops-2026-11").unwrap(),
        Shard::WHOLE,
    ] {
        let mut pair = Pair::new(SessionMode::Intersection, ProtocolChoice::Dh);
        pair.shard = ours;
        pair.b_shard = Some(theirs);
        let (ra, rb, frames) = pair.run(a.clone(), b.clone());
        for r in [ra, rb] {
            match r {
                Err(Error::Incompatible(i)) => assert!(
                    i.mismatches
                        .iter()
                        .any(|m| matches!(m, Mismatch::Shard { .. })),
                    "{theirs:?}: {i:?}"
                ),
                other => panic!("{theirs:?}: {other:?}"),
            }
        }
        assert!(!frames.iter().any(|(_, f)| f.kind == FrameKind::Protocol));
    }
    let mut pair = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
    pair.shard = ours;
    let (ra, _, _) = pair.run(a, b);
    let oa = ra.unwrap();
    assert_eq!(oa.terms().shard, ours);
    let started = pair.a.events.lock().unwrap().iter().find_map(|e| match e {
        blindmatch::audit::Event::SessionStarted { terms, .. } => terms.clone(),
        _ => None,
    });
    let record = started.and_then(|t| t.shard).unwrap();
    assert_eq!((record.index, record.count), (1, 3));
    assert_eq!(record.logical_session, hex::encode(ours.key()));
}

/// `cardinality` and `labeled` are never sharded: a shard's count would be revealed, and a
/// labeled sender needs its whole set. The envelope refuses the configuration.
#[test]
fn cardinality_and_labeled_sessions_are_not_sharded() {
    let (a, _, _) = sets();
    for mode in [SessionMode::Cardinality, SessionMode::Labeled] {
        let mut pair = Pair::new(mode, ProtocolChoice::Auto);
        pair.shard = Shard::new(0, 2, "ops").unwrap();
        let e = Envelope::new(
            pair.config(Role::Initiator, &a),
            BodyInput {
                items: a.clone(),
                sender: None,
                allowed_columns: BTreeSet::new(),
                payload_len: None,
            },
            Channel {
                exporter: [5; 32],
                peer: pair.b.identity(0xbb),
            },
            NOW,
            [1; 32],
            std::sync::Arc::new(NoProgress),
        )
        .map(|_| ())
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config(ConfigError {
                    reason: ConfigReason::Conflict,
                    ..
                })
            ),
            "{mode}: {e:?}"
        );
    }
}

/// Records what a session reports of its buckets.
#[derive(Default)]
struct BucketLog(std::sync::Mutex<Vec<(u32, u32)>>);

impl blindmatch::session::Progress for BucketLog {
    fn start(&self, _: Role, _: &[blindmatch::session::Phase]) {}
    fn advance(&self, _: blindmatch::session::Direction, _: &'static str, _: u64) {}
    fn finish(&self) {}
    fn bucket_finished(&self, finished: u32, total: u32) {
        self.0.lock().unwrap().push((finished, total));
    }
}

/// A bucketed session reports each bucket once as it finishes, in order, up to all of them;
/// an unbucketed one reports none.
#[test]
fn each_finished_bucket_is_reported_once() {
    for (log2, reported) in [(10u8, 4u32), (20, 0)] {
        let (a, b, _) = sets();
        let log = std::sync::Arc::new(BucketLog::default());
        let mut pair = small_buckets(SessionMode::Intersection, ProtocolChoice::Vole);
        pair.max_bucket_log2 = log2;
        pair.a_progress = log.clone();
        let (ra, rb, _) = pair.run(a, b);
        assert_eq!(ra.unwrap().terms().buckets(), reported.max(1));
        rb.unwrap();
        let want: Vec<(u32, u32)> = (1..=reported).map(|k| (k, reported)).collect();
        assert_eq!(*log.0.lock().unwrap(), want, "max_bucket 2^{log2}");
    }
}
