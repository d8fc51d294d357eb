//! Bucketed sessions against a plaintext intersection, buckets empty on one side, a skewed
//! input, and a peer that names the wrong bucket.

use std::collections::HashSet;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::*;
use crate::error::{BucketProblem, CancelReason, Error, InputError, InputReason, PeerMisbehaved};
use crate::protocol::dh::{DhOutput, DhParams, DhSession, Learned};
use crate::protocol::memory::{pump, run_concurrently, run_dh_psi_with, Transcript};
use crate::protocol::vole_psi::VolePsiSession;
use crate::protocol::{Interrupt, ItemSet, Matches, Mode, Role, SansIo, WireMessage};

const SID: [u8; 32] = [0x5a; 32];

/// Items `MSCU<i>` for `i` in `range`, each repeated at every `repeat`-th position.
fn items(range: std::ops::Range<u32>, repeat: u32) -> ItemSet {
    let mut all: Vec<String> = range.clone().map(|i| format!("MSCU{i:07}")).collect();
    if repeat > 0 {
        all.extend(
            range
                .step_by(repeat as usize)
                .map(|i| format!("MSCU{i:07}")),
        );
    }
    ItemSet::new(all)
}

fn params(mode: Mode, a: &ItemSet, b: &ItemSet, chunk: usize) -> DhParams {
    let mut p = DhParams::new(mode, SID, a.len(), b.len());
    p.chunk_size = chunk;
    p
}

fn pair<S: SubSession>(
    params: &DhParams,
    buckets: u32,
    a: &ItemSet,
    b: &ItemSet,
) -> (BucketedSession<S>, BucketedSession<S>) {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let p = params.clone();
    let i = BucketedSession::new(
        Role::Initiator,
        p.clone(),
        buckets,
        a.clone(),
        BucketStart::fresh(SID),
        &mut rng,
        Interrupt::new(),
    );
    let r = BucketedSession::new(
        Role::Responder,
        p,
        buckets,
        b.clone(),
        BucketStart::fresh(SID),
        &mut rng,
        Interrupt::new(),
    );
    (i.expect("initiator"), r.expect("responder"))
}

fn run<S: SubSession + Send>(
    params: &DhParams,
    buckets: u32,
    a: &ItemSet,
    b: &ItemSet,
) -> (DhOutput, DhOutput)
where
    S::Message: Send,
{
    let (mut i, mut r) = pair::<S>(params, buckets, a, b);
    assert_eq!(i.buckets(), buckets);
    run_concurrently(&mut i, &mut r).expect("session");
    (i.into_output().expect("i"), r.into_output().expect("r"))
}

/// `own`'s items that `peer` has, at every input position: the plaintext result.
fn plaintext(own: &ItemSet, peer: &ItemSet) -> Matches {
    let theirs: HashSet<&[u8]> = peer.items().iter().collect();
    let found = (0..own.len())
        .filter(|&i| theirs.contains(&own.items()[i]))
        .collect();
    Matches::new(own, found)
}

/// Runs `S` over `buckets` buckets and checks both sides against the plaintext result.
fn check<S: SubSession + Send>(mode: Mode, buckets: u32, a: &ItemSet, b: &ItemSet, chunk: usize)
where
    S::Message: Send,
{
    let p = params(mode, a, b, chunk);
    let (i, r) = run::<S>(&p, buckets, a, b);
    let what = format!("{mode:?}, {buckets} buckets, {} x {}", a.len(), b.len());
    let ours = plaintext(a, b);
    match mode {
        Mode::Cardinality => assert_eq!(i.learned, Learned::Cardinality(ours.len()), "{what}"),
        _ => assert_eq!(i.learned, Learned::Matches(ours), "{what}"),
    }
    match mode {
        Mode::Mutual => assert_eq!(r.learned, Learned::Matches(plaintext(b, a)), "{what}"),
        _ => assert_eq!(r.learned, Learned::Nothing, "{what}"),
    }
    let (l_i, l_r) = (
        bucket_bound(a.len(), buckets),
        bucket_bound(b.len(), buckets),
    );
    let n = buckets as usize;
    assert_eq!((i.own_sent, i.peer_sent), (n * l_i, n * l_r), "{what}");
    assert_eq!((r.own_sent, r.peer_sent), (n * l_r, n * l_i), "{what}");
    assert_eq!((i.own_unique, r.own_unique), (a.len(), b.len()));
    assert_eq!(
        (i.duplicates, r.duplicates),
        (a.duplicates(), b.duplicates())
    );
    assert_eq!(
        (i.role, r.role, i.mode),
        (Role::Initiator, Role::Responder, mode)
    );
}

#[test]
fn dh_psi_buckets_give_the_plaintext_intersection() {
    for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
        // Sizes that are not multiples of B, repeats in the input, chunks smaller than a bucket.
        check::<DhSession>(mode, 3, &items(0..301, 7), &items(250..411, 5), 32);
        check::<DhSession>(mode, 7, &items(0..100, 0), &items(0..100, 0), 4096);
        check::<DhSession>(mode, 5, &items(0..60, 0), &items(60..99, 0), 9);
        check::<DhSession>(mode, 2, &items(0..1, 0), &items(0..1, 0), 1);
    }
}

#[test]
fn vole_psi_buckets_give_the_plaintext_intersection() {
    for mode in [Mode::Intersection, Mode::Mutual] {
        check::<VolePsiSession>(mode, 3, &items(0..301, 7), &items(250..411, 5), 64);
        check::<VolePsiSession>(mode, 2, &items(0..40, 0), &items(40..70, 0), 4096);
    }
}

#[test]
fn one_bucket_is_the_unbucketed_session() {
    let (a, b) = (items(0..200, 3), items(150..260, 0));
    for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
        let p = params(mode, &a, &b, 64);
        let bucketed = run::<DhSession>(&p, 1, &a, &b);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (plain, _) =
            run_dh_psi_with(p.clone(), a.clone(), b.clone(), &mut rng, false).expect("plain");
        assert_eq!(bucketed, plain, "{mode:?}");
    }
    for mode in [Mode::Intersection, Mode::Mutual] {
        let p = params(mode, &a, &b, 64);
        let bucketed = run::<VolePsiSession>(&p, 1, &a, &b);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut i = VolePsiSession::new(
            Role::Initiator,
            p.clone(),
            a.clone(),
            &mut rng,
            Interrupt::new(),
        )
        .expect("initiator");
        let mut r = VolePsiSession::new(Role::Responder, p, b.clone(), &mut rng, Interrupt::new())
            .expect("responder");
        run_concurrently(&mut i, &mut r).expect("plain");
        let plain = (i.into_output().expect("i"), r.into_output().expect("r"));
        assert_eq!(bucketed, plain, "{mode:?}");
    }
}

#[test]
fn a_bucket_empty_on_one_side_and_an_empty_side() {
    let (a, b) = (items(0..120, 0), items(100..102, 0));
    let p = params(Mode::Mutual, &a, &b, 16);
    let (i, r) = pair::<DhSession>(&p, 8, &a, &b);
    let empty_on_one_side = (0..8).any(|c| (i.bucket_len(c) == 0) != (r.bucket_len(c) == 0));
    assert!(
        empty_on_one_side,
        "some bucket holds items on one side only"
    );
    for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
        check::<DhSession>(mode, 8, &a, &b, 16);
        check::<DhSession>(mode, 4, &a, &ItemSet::default(), 16);
        check::<DhSession>(mode, 4, &ItemSet::default(), &b, 16);
    }
    for mode in [Mode::Intersection, Mode::Mutual] {
        check::<VolePsiSession>(mode, 8, &a, &b, 16);
        check::<VolePsiSession>(mode, 4, &a, &ItemSet::default(), 16);
    }
}

/// `count` items that all fall into bucket `bucket` of `buckets` under [`SID`]: a skewed
/// input, which only someone who knew the session id in advance could build.
fn crafted(bucket: u32, buckets: u32, count: usize) -> Vec<String> {
    (0u32..)
        .map(|i| format!("IMO{i:07}"))
        .filter(|x| bucket_of(&SID, x.as_bytes(), buckets) == bucket)
        .take(count)
        .collect()
}

#[test]
fn a_skewed_input_runs_up_to_the_bound_and_fails_above_it() {
    let (n, buckets) = (1000, 16);
    let bound = bucket_bound(n, buckets);
    assert_eq!(bound, 136);
    let skewed = crafted(3, buckets, bound + 1);
    // Exactly the bound in one bucket: the session runs and finds every shared item.
    let a = ItemSet::new(&skewed[..bound]);
    let b = ItemSet::new(skewed.iter().step_by(2).chain(&crafted(9, buckets, 20)));
    let mut p = params(Mode::Mutual, &a, &b, 50);
    (p.initiator_count, p.responder_count) = (n, n);
    let (mut i, mut r) = pair::<DhSession>(&p, buckets, &a, &b);
    assert_eq!(i.bucket_len(3), bound);
    run_concurrently(&mut i, &mut r).expect("session");
    let (i, r) = (i.into_output().expect("i"), r.into_output().expect("r"));
    assert_eq!(i.learned, Learned::Matches(plaintext(&a, &b)));
    assert_eq!(r.learned, Learned::Matches(plaintext(&b, &a)));
    assert_eq!(i.peer_sent, 16 * 136);
    // One more: refused at setup, before any message.
    let over = ItemSet::new(&skewed);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let e = BucketedSession::<DhSession>::new(
        Role::Initiator,
        p,
        buckets,
        over,
        BucketStart::fresh(SID),
        &mut rng,
        Interrupt::new(),
    )
    .err()
    .expect("an overflowing bucket");
    assert!(
        matches!(
            e,
            Error::Input(InputError {
                reason: InputReason::BucketOverflow,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn more_items_than_announced_or_bad_bucket_counts_are_refused() {
    let a = items(0..10, 0);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let p = DhParams::new(Mode::Intersection, SID, 9, 9);
    let e = BucketedSession::<DhSession>::new(
        Role::Initiator,
        p.clone(),
        2,
        a.clone(),
        BucketStart::fresh(SID),
        &mut rng,
        Interrupt::new(),
    )
    .err()
    .expect("too many");
    assert!(matches!(
        e,
        Error::Input(InputError {
            reason: InputReason::SetSize,
            ..
        })
    ));
    for buckets in [0, MAX_BUCKETS + 1] {
        let e = BucketedSession::<DhSession>::new(
            Role::Responder,
            p.clone(),
            buckets,
            a.clone(),
            BucketStart::fresh(SID),
            &mut rng,
            Interrupt::new(),
        );
        assert!(matches!(e, Err(Error::Config(_))), "{buckets}");
    }
}

/// The error of a session fed `bytes`.
fn fed<S: SansIo>(s: &mut S, bytes: &[u8]) -> Error {
    let msg = S::Message::decode(bytes).expect("well formed");
    s.handle(msg).expect_err("refused")
}

fn wrong_bucket(e: &Error) -> Option<(u32, BucketProblem)> {
    match e {
        Error::PeerMisbehaved(PeerMisbehaved::WrongBucket { bucket, problem }) => {
            Some((*bucket, *problem))
        }
        _ => None,
    }
}

fn with_bucket(bytes: &[u8], bucket: u32) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[..4].copy_from_slice(&bucket.to_be_bytes());
    out
}

#[test]
fn a_message_for_a_wrong_bucket_is_refused() {
    let (a, b) = (items(0..50, 0), items(25..80, 0));
    let p = params(Mode::Mutual, &a, &b, 8);
    // The initiator's first message, renamed to a bucket out of range or not open yet.
    let (mut i, _) = pair::<DhSession>(&p, 5, &a, &b);
    assert_eq!(i.open_buckets(), [0, 1]);
    let first = i
        .poll_outgoing()
        .expect("poll")
        .expect("a message")
        .encode();
    assert_eq!(first[..4], [0, 0, 0, 0]);
    for (bucket, problem) in [
        (5, BucketProblem::OutOfRange { buckets: 5 }),
        (u32::MAX, BucketProblem::OutOfRange { buckets: 5 }),
        (2, BucketProblem::NotOpen),
        (4, BucketProblem::NotOpen),
    ] {
        let (_, mut r) = pair::<DhSession>(&p, 5, &a, &b);
        let e = fed(&mut r, &with_bucket(&first, bucket));
        assert_eq!(wrong_bucket(&e), Some((bucket, problem)), "{e:?}");
        // A failed session stays failed.
        assert!(r
            .handle(DhBucketMessage::decode(&first).expect("decodes"))
            .is_err());
        assert!(r.poll_outgoing().is_err() && !r.is_finished());
    }
    // The same message in its own bucket is accepted.
    let (_, mut r) = pair::<DhSession>(&p, 5, &a, &b);
    r.handle(DhBucketMessage::decode(&first).expect("decodes"))
        .expect("bucket 0 is open");
}

type DhBucketMessage = BucketMessage<crate::protocol::dh::DhMessage>;

#[test]
fn a_message_for_a_finished_bucket_is_refused() {
    let (a, b) = (items(0..50, 0), items(25..80, 0));
    let p = params(Mode::Intersection, &a, &b, 8);
    let (mut i, mut r) = pair::<DhSession>(&p, 4, &a, &b);
    let mut transcript = Transcript::default();
    pump(&mut i, &mut r, Some(&mut transcript)).expect("session");
    let from_responder: Vec<&Vec<u8>> = transcript
        .messages
        .iter()
        .filter(|(who, _)| *who == Role::Responder)
        .map(|(_, m)| m)
        .collect();
    // Bucket 0's first message from the responder, replayed once the bucket is finished.
    let replay = from_responder
        .iter()
        .find(|m| m[..4] == [0, 0, 0, 0])
        .expect("bucket 0 sent");
    let e = fed(&mut i, replay);
    assert_eq!(
        wrong_bucket(&e),
        Some((0, BucketProblem::Finished)),
        "{e:?}"
    );
    // Finished in the middle of a session: run until the initiator retired bucket 0.
    let (mut i, mut r) = pair::<DhSession>(&p, 4, &a, &b);
    let replayed = 'run: loop {
        while let Some(m) = i.poll_outgoing().expect("i") {
            r.handle(m).expect("r");
        }
        while let Some(m) = r.poll_outgoing().expect("r") {
            let bytes = m.encode();
            i.handle(m).expect("i");
            if !i.open_buckets().contains(&0) && !i.is_finished() {
                let e = fed(&mut i, &with_bucket(&bytes, 0));
                assert_eq!(wrong_bucket(&e), Some((0, BucketProblem::Finished)));
                break 'run true;
            }
        }
        assert!(!i.is_finished(), "bucket 0 finished before the session");
    };
    assert!(replayed);
}

/// How many messages a younger bucket sent while an older one was open, in a session run in
/// turn, checking that at most two buckets are open and in order.
fn overlapping_messages<S: SubSession>() -> usize {
    let (a, b) = (items(0..90, 0), items(45..140, 0));
    let p = params(Mode::Mutual, &a, &b, 16);
    let (mut i, mut r) = pair::<S>(&p, 6, &a, &b);
    let (mut most, mut overlapped) = (0, 0);
    let mut check = |s: &BucketedSession<S>, bucket: u32| {
        let open = s.open_buckets();
        assert!(open.len() <= WINDOW && open.windows(2).all(|w| w[0] < w[1]));
        assert!(open.contains(&bucket) || open.is_empty() || bucket < open[0]);
        // A later bucket sends while an earlier one still waits for its last messages.
        overlapped += usize::from(open.first().is_some_and(|&first| first < bucket));
        most = most.max(bucket);
    };
    while !(i.is_finished() && r.is_finished()) {
        let mut progressed = false;
        while let Some(m) = i.poll_outgoing().expect("poll") {
            check(&i, m.bucket);
            r.handle(m).expect("handle");
            progressed = true;
        }
        while let Some(m) = r.poll_outgoing().expect("poll") {
            check(&r, m.bucket);
            i.handle(m).expect("handle");
            progressed = true;
        }
        assert!(progressed, "stalled");
    }
    assert_eq!(most, 5);
    overlapped
}

#[test]
fn at_most_two_buckets_are_open_and_in_order() {
    // VOLE-PSI pipelines its buckets; DH-PSI's younger bucket only answers, which a run in
    // turn never needs (each side answers everything before the other moves).
    assert!(
        overlapping_messages::<VolePsiSession>() > 0,
        "the window pipelines the buckets"
    );
    assert_eq!(overlapping_messages::<DhSession>(), 0);
}

/// The sender, bucket and length of every message of a session run in turn.
fn shape<S: SubSession>(
    p: &DhParams,
    buckets: u32,
    a: &ItemSet,
    b: &ItemSet,
) -> Vec<(Role, u32, usize)> {
    let (mut i, mut r) = pair::<S>(p, buckets, a, b);
    let mut transcript = Transcript::default();
    pump(&mut i, &mut r, Some(&mut transcript)).expect("session");
    transcript
        .messages
        .iter()
        .map(|(who, m)| (*who, u32::from_be_bytes([m[0], m[1], m[2], m[3]]), m.len()))
        .collect()
}

/// The peer sees the same messages however our items fall into buckets: all in one bucket
/// (as many as its bound allows) or spread over all of them.
#[test]
fn the_traffic_does_not_depend_on_how_items_fall_into_buckets() {
    let (n, buckets) = (600, 4);
    let bound = bucket_bound(n, buckets);
    let skewed = ItemSet::new(crafted(0, buckets, bound));
    let spread = items(0..bound as u32, 0);
    let (i, _) = pair::<DhSession>(
        &DhParams::new(Mode::Mutual, SID, n, 300),
        buckets,
        &spread,
        &items(0..300, 0),
    );
    assert!(
        (0..buckets).all(|c| i.bucket_len(c) > 0),
        "spread over every bucket"
    );
    let peer = items(0..300, 0);
    for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
        let mut p = DhParams::new(mode, SID, n, 300);
        p.chunk_size = 40;
        let s = shape::<DhSession>(&p, buckets, &skewed, &peer);
        assert_eq!(
            s,
            shape::<DhSession>(&p, buckets, &spread, &peer),
            "{mode:?}"
        );
        assert!((0..buckets).all(|c| s.iter().any(|m| m.1 == c)));
    }
    for mode in [Mode::Intersection, Mode::Mutual] {
        let p = DhParams::new(mode, SID, n, 300);
        let s = shape::<VolePsiSession>(&p, buckets, &skewed, &peer);
        assert_eq!(
            s,
            shape::<VolePsiSession>(&p, buckets, &spread, &peer),
            "{mode:?}"
        );
    }
}

/// A bucket's VOLE-PSI tags count the buckets (spec 8.7's `ℓ` with `B`), so that false
/// matches stay below `2^-40` for the whole session: here one byte longer than one unbucketed
/// run of the bucket's size would send.
#[test]
fn a_buckets_vole_tags_are_long_enough_for_all_the_buckets() {
    let (n, buckets) = (600, 4);
    let (a, b) = (items(0..n as u32, 0), items(300..300 + n as u32, 0));
    let p = DhParams::new(Mode::Intersection, SID, n, n);
    let bound = bucket_bound(n, buckets);
    let expected = crate::vole::psi::tag_len(bound, bound, buckets as usize);
    assert!(expected > crate::vole::psi::tag_len(bound, bound, 1));
    let (mut i, mut r) = pair::<VolePsiSession>(&p, buckets, &a, &b);
    let mut transcript = Transcript::default();
    pump(&mut i, &mut r, Some(&mut transcript)).expect("session");
    let mut seen = HashSet::new();
    for (who, m) in &transcript.messages {
        // The bucket (4 bytes), the message type (Tags: 0x06), the chunk's count, the tags.
        if *who != Role::Responder || m[4] != 0x06 {
            continue;
        }
        let count = u32::from_be_bytes([m[5], m[6], m[7], m[8]]) as usize;
        assert_eq!(m.len() - 9, count * expected, "a chunk of {count} tags");
        seen.insert(u32::from_be_bytes([m[0], m[1], m[2], m[3]]));
    }
    assert_eq!(seen.len(), buckets as usize, "every bucket sent tags");
    let out = i.into_output().expect("initiator");
    assert_eq!(out.learned, Learned::Matches(plaintext(&a, &b)));
}

/// A raised interrupt stops the assignment of the items to buckets (checked every 16 384
/// items, spec 8.8.4): `new` fails with `Cancelled` and its reason, for either protocol and
/// role, before any bucket opens.
#[test]
fn a_raised_interrupt_cancels_the_bucket_assignment() {
    fn open<S: SubSession>(role: Role, set: &ItemSet, stop: Interrupt) -> Result<(), Error> {
        let p = DhParams::new(Mode::Intersection, SID, set.len(), set.len());
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let start = BucketStart::fresh(SID);
        BucketedSession::<S>::new(role, p, 4, set.clone(), start, &mut rng, stop).map(|_| ())
    }
    // More than one batch of 16 384 items, so the check between batches runs too.
    let set = items(0..40_000, 0);
    for role in [Role::Initiator, Role::Responder] {
        assert!(open::<DhSession>(role, &set, Interrupt::new()).is_ok());
        for reason in [CancelReason::Interrupted, CancelReason::Dropped] {
            let stop = Interrupt::new();
            stop.raise(reason);
            let dh = open::<DhSession>(role, &set, stop.clone());
            assert!(
                matches!(dh, Err(Error::Cancelled(r)) if r == reason),
                "DH-PSI {role:?}: {dh:?}"
            );
            let vole = open::<VolePsiSession>(role, &set, stop);
            assert!(
                matches!(vole, Err(Error::Cancelled(r)) if r == reason),
                "VOLE-PSI {role:?}: {vole:?}"
            );
        }
    }
}

/// What a start says buckets done earlier gave must be ours, of that bucket, in order: a
/// checkpoint altered to name another bucket's item, an item twice or an item we lack is
/// refused before anything runs.
#[test]
fn buckets_done_earlier_must_name_our_items_of_that_bucket_in_order() {
    let a = items(0..3000, 0);
    let p = params(Mode::Intersection, &a, &a, 64);
    let open = |done: Vec<BucketLearned>| {
        let start = BucketStart {
            assignment_key: SID,
            done,
            record: false,
        };
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        BucketedSession::<DhSession>::new(
            Role::Initiator,
            p.clone(),
            4,
            a.clone(),
            start,
            &mut rng,
            Interrupt::new(),
        )
        .err()
    };
    let of = |b: u32| {
        (0..a.len() as u32)
            .filter(|&i| bucket_of(&SID, &a.items()[i as usize], 4) == b)
            .take(2)
            .collect::<Vec<_>>()
    };
    let (zero, one) = (of(0), of(1));
    assert!(open(vec![BucketLearned::Matches(zero.clone())]).is_none());
    for bad in [
        vec![BucketLearned::Matches(vec![one[0]])],
        vec![BucketLearned::Matches(vec![zero[1], zero[0]])],
        vec![BucketLearned::Matches(vec![zero[0], zero[0]])],
        vec![BucketLearned::Matches(vec![a.len() as u32])],
        vec![BucketLearned::Nothing; 5],
    ] {
        assert!(
            matches!(open(bad.clone()), Some(Error::Config(_))),
            "{bad:?}"
        );
    }
}

/// The network driver's flow control, in miniature: each direction holds at most `room`
/// messages in flight (the writer's queue, the sockets, the peer's receive queue), a side
/// produces a message only while its direction has room, and takes one only while fewer than
/// `max_backlog` of its own answers wait (`MAX_BACKLOG`). Returns whether both finished, or
/// `false` when neither could move.
fn run_with_flow_control<S: SubSession>(
    a: &mut BucketedSession<S>,
    b: &mut BucketedSession<S>,
    room: usize,
    max_backlog: usize,
) -> bool {
    use std::collections::VecDeque;
    /// One side's turn: send while there is room, take while its answers allow.
    fn turn<S: SubSession>(
        me: &mut BucketedSession<S>,
        inbox: &mut VecDeque<BucketMessage<S::Message>>,
        outbox: &mut VecDeque<BucketMessage<S::Message>>,
        (room, max_backlog): (usize, usize),
    ) -> bool {
        let mut moved = false;
        while outbox.len() < room {
            match me.poll_outgoing().expect("poll") {
                Some(m) => {
                    outbox.push_back(m);
                    moved = true;
                }
                None => break,
            }
        }
        while me.backlog() < max_backlog {
            let Some(m) = inbox.pop_front() else { break };
            me.handle(m).expect("handle");
            moved = true;
        }
        moved
    }
    let mut to_b = VecDeque::new();
    let mut to_a = VecDeque::new();
    loop {
        let limits = (room, max_backlog);
        let moved_a = turn(a, &mut to_a, &mut to_b, limits);
        let moved_b = turn(b, &mut to_b, &mut to_a, limits);
        let moved = moved_a || moved_b;
        if a.is_finished() && b.is_finished() {
            return true;
        }
        if !moved {
            return false;
        }
    }
}

/// Two DH-PSI buckets open at once must not both stream their own sets while the other side
/// does: with little room in flight, each side's answers would wait behind its own unprompted
/// elements until neither takes input (the stall of BENCHMARKS section 11, at 2^20 a bucket
/// over the network). A younger bucket only answers until the older ones finished (spec 9.7).
/// VOLE-PSI pipelines its buckets; a younger bucket's queued mask no longer stops its side
/// from taking the older bucket's tags (it reports only the oldest bucket's backlog), so it
/// too completes with 4 messages in flight (it stalled so before: both sides held a bucket's
/// long message queued, neither took input).
#[test]
fn bucketed_sessions_progress_under_the_drivers_flow_control() {
    let a = items(0..3000, 0);
    let b = items(1500..4500, 0);
    for mode in [Mode::Mutual, Mode::Intersection] {
        let p = params(mode, &a, &b, 16);
        let (mut i, mut r) = pair::<DhSession>(&p, 4, &a, &b);
        assert!(
            run_with_flow_control(&mut i, &mut r, 4, 8),
            "DH-PSI {mode:?} stalled"
        );
        let out = i.into_output().expect("initiator");
        assert_eq!(out.learned, Learned::Matches(plaintext(&a, &b)));
        let (mut i, mut r) = pair::<VolePsiSession>(&p, 4, &a, &b);
        assert!(
            run_with_flow_control(&mut i, &mut r, 4, 8),
            "VOLE-PSI {mode:?} stalled"
        );
        assert_eq!(
            i.into_output().expect("initiator").learned,
            Learned::Matches(plaintext(&a, &b))
        );
    }
}
