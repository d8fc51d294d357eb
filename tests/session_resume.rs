//! Resumed bucketed sessions through the whole envelope in memory
//! (`protocol-spec/09-buckets.md` section 9.12): a session that keeps a checkpoint records
//! each bucket as it finishes; a second attempt whose sides offer the buckets they kept runs
//! only the others, under a fresh session id, and gives the result of one uninterrupted
//! session. DH-PSI and VOLE-PSI, intersection and mutual mode, interrupted at several points
//! on either side.
#![allow(clippy::unwrap_used)]

mod session_support;

use std::collections::{BTreeMap, BTreeSet};

use blindmatch::audit::Event;
use blindmatch::error::{CheckpointError, CheckpointProblem, Error};
use blindmatch::protocol::bucket::{bucket_of, BucketLearned};
use blindmatch::protocol::dh::DhOutput;
use blindmatch::protocol::ItemSet;
use blindmatch::session::{
    terms_digest, BodyOutput, ProtocolChoice, ResumePoint, SessionMode, SessionOutcome,
    RESUMED_TERMS,
};
use session_support::*;

/// 5,000 items of A's, 4,000 of B's, 900 shared: `B = 5` buckets of 2^10 on A's count.
fn sets() -> (ItemSet, ItemSet) {
    let shared: Vec<String> = (0..900).map(|i| format!("MSCU{i:07}")).collect();
    let mut a: Vec<String> = (0..4100).map(|i| format!("A{i:06}")).collect();
    let mut b: Vec<String> = (0..3100).map(|i| format!("B{i:06}")).collect();
    a.extend(shared.iter().cloned());
    b.extend(shared.iter().cloned());
    (ItemSet::new(&a), ItemSet::new(&b))
}

fn pair(mode: SessionMode, protocol: ProtocolChoice) -> Pair {
    let mut p = Pair::new(mode, protocol);
    p.max_bucket_log2 = 10;
    p.checkpoint = true;
    p
}

fn dh(o: &SessionOutcome) -> &DhOutput {
    match o.output() {
        BodyOutput::Dh(d) | BodyOutput::Vole(d) => d,
        other => panic!("not a DH-PSI or VOLE-PSI output: {other:?}"),
    }
}

/// What a side learned: its matched items and their input positions.
fn learned(o: &SessionOutcome) -> Option<BTreeSet<(Vec<u8>, Vec<usize>)>> {
    dh(o).matches().map(|m| {
        m.iter()
            .map(|r| (r.item().to_vec(), r.input_indices().collect()))
            .collect()
    })
}

/// Every bucket a recorder's checkpoint recorded, by bucket.
fn recorded(r: &Recorder) -> BTreeMap<u32, BucketLearned> {
    let mut out = BTreeMap::new();
    for e in r.checkpoints.lock().unwrap().iter() {
        for f in &e.finished {
            assert!(
                out.insert(f.bucket, f.learned.clone()).is_none(),
                "recorded once"
            );
        }
    }
    out
}

/// The point a checkpoint of `first` would give after its side kept buckets `0..kept`.
fn point(r: &Recorder, first: &SessionOutcome, kept: u32) -> ResumePoint {
    let all = recorded(r);
    ResumePoint {
        dir: "in-memory".into(),
        logical_session: first.session_id(),
        terms_digest: terms_digest(first.terms()),
        done: (0..kept).map(|b| all[&b].clone()).collect(),
    }
}

fn resumes_as_if_uninterrupted(mode: SessionMode, protocol: ProtocolChoice) {
    let (a, b) = sets();
    let first = pair(mode, protocol);
    let (ra, rb, _) = first.run(a.clone(), b.clone());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let buckets = ra.terms().buckets();
    assert_eq!(buckets, 5);
    // Every bucket recorded once on each side, after a first entry naming the session.
    for (r, o) in [(&first.a, &ra), (&first.b, &rb)] {
        assert_eq!(recorded(r).len(), buckets as usize);
        let entries = r.checkpoints.lock().unwrap();
        let begin = entries[0]
            .begin
            .as_ref()
            .expect("a first entry names the session");
        assert_eq!(begin.logical_session, o.session_id());
        assert_eq!(begin.buckets_done, 0);
        assert!(entries[1..].iter().all(|e| e.begin.is_none()));
    }
    // Interrupted with A holding `ka` buckets and B `kb`: the second attempt takes
    // min(ka, kb) from the checkpoints and runs the rest.
    for (ka, kb) in [(0, 0), (2, 3), (4, 1), (5, 5), (5, 4)] {
        let mut again = pair(mode, protocol);
        again.a_resume = Some(point(&first.a, &ra, ka));
        again.b_resume = Some(point(&first.b, &rb, kb));
        let (sa, sb, _) = again.run(a.clone(), b.clone());
        let (sa, sb) = (sa.unwrap(), sb.unwrap());
        let what = format!("{protocol:?} {mode:?}, kept {ka} and {kb}");
        assert_ne!(
            sa.session_id(),
            ra.session_id(),
            "{what}: a fresh session id"
        );
        let taken = ka.min(kb);
        let resumed = sa.terms().resume.expect("resumed");
        assert_eq!(
            (resumed.logical_session, resumed.buckets_done),
            (ra.session_id(), taken),
            "{what}"
        );
        assert_eq!(learned(&sa), learned(&ra), "{what}: A's result");
        assert_eq!(learned(&sb), learned(&rb), "{what}: B's result");
        // Only the buckets it ran are recorded, and the first entry says how many it took.
        let ran: Vec<u32> = recorded(&again.a).keys().copied().collect();
        assert_eq!(ran, (taken..buckets).collect::<Vec<_>>(), "{what}");
        let entries = again.a.checkpoints.lock().unwrap();
        let begin = entries[0].begin.as_ref().unwrap();
        assert_eq!(
            (begin.logical_session, begin.buckets_done),
            (ra.session_id(), taken)
        );
        // The log says which logical session this attempt resumed, from where.
        let events = again.a.events.lock().unwrap();
        let Some(Event::SessionStarted { terms: Some(t), .. }) = events.first() else {
            panic!("{what}: no session_started");
        };
        let r = t.resumes.as_ref().expect("a resumption is logged");
        assert_eq!(
            (r.session.as_str(), r.buckets_done, t.checkpoint),
            (hex::encode(ra.session_id()).as_str(), taken, true)
        );
    }
}

#[test]
fn dh_psi_resumes_in_both_modes() {
    for mode in [SessionMode::Intersection, SessionMode::Mutual] {
        resumes_as_if_uninterrupted(mode, ProtocolChoice::Dh);
    }
}

#[test]
fn vole_psi_resumes_in_both_modes() {
    for mode in [SessionMode::Intersection, SessionMode::Mutual] {
        resumes_as_if_uninterrupted(mode, ProtocolChoice::Vole);
    }
}

/// The buckets taken over are not run again: what the checkpoint says they gave is what the
/// result holds (here a match a checkpoint was altered to claim), and the buckets that do run
/// come from this attempt.
#[test]
fn the_buckets_taken_over_come_from_the_checkpoint() {
    let (a, b) = sets();
    let first = pair(SessionMode::Intersection, ProtocolChoice::Dh);
    let (ra, rb, _) = first.run(a.clone(), b.clone());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut pa = point(&first.a, &ra, 2);
    let BucketLearned::Matches(m) = &mut pa.done[1] else {
        panic!("the initiator learns matches");
    };
    // An item of A's in bucket 1 (under the logical session's assignment) that matched
    // nothing.
    let found = learned(&ra).unwrap();
    let unmatched = (0..a.len() as u32)
        .find(|&i| {
            let x = &a.items()[i as usize];
            bucket_of(&ra.session_id(), x, 5) == 1 && !found.iter().any(|(y, _)| y == x)
        })
        .unwrap();
    m.push(unmatched);
    m.sort_unstable();
    let mut again = pair(SessionMode::Intersection, ProtocolChoice::Dh);
    again.a_resume = Some(pa);
    again.b_resume = Some(point(&first.b, &rb, 2));
    let (sa, _, _) = again.run(a.clone(), b.clone());
    let sa = sa.unwrap();
    let got = learned(&sa).unwrap();
    assert_eq!(got.len(), learned(&ra).unwrap().len() + 1);
    assert!(got.iter().any(|(x, _)| x == &a.items()[unmatched as usize]));
    // An item of another bucket is refused before anything is sent.
    let mut pa = point(&first.a, &ra, 2);
    let other = (0..a.len() as u32)
        .find(|&i| bucket_of(&ra.session_id(), &a.items()[i as usize], 5) == 3)
        .unwrap();
    pa.done[1] = BucketLearned::Matches(vec![other]);
    let mut again = pair(SessionMode::Intersection, ProtocolChoice::Dh);
    again.a_resume = Some(pa);
    again.b_resume = Some(point(&first.b, &rb, 2));
    let (sa, _, log) = again.run(a, b);
    assert!(matches!(sa, Err(Error::Config(_))), "{sa:?}");
    assert!(log
        .iter()
        .all(|(_, f)| f.kind != blindmatch::transport::framing::FrameKind::Protocol));
}

/// A side that offers no resumption (or one of another logical session) makes the session
/// start over: every bucket runs, under a new logical session.
#[test]
fn without_the_same_offer_on_both_sides_the_session_starts_over() {
    let (a, b) = sets();
    let first = pair(SessionMode::Mutual, ProtocolChoice::Vole);
    let (ra, rb, _) = first.run(a.clone(), b.clone());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut other = point(&first.b, &rb, 3);
    other.logical_session[0] ^= 1;
    for b_offer in [None, Some(other)] {
        let mut again = pair(SessionMode::Mutual, ProtocolChoice::Vole);
        again.a_resume = Some(point(&first.a, &ra, 3));
        again.b_resume = b_offer;
        let (sa, sb, _) = again.run(a.clone(), b.clone());
        let (sa, sb) = (sa.unwrap(), sb.unwrap());
        assert_eq!(sa.terms().resume, None);
        assert_eq!(recorded(&again.a).len(), 5, "every bucket ran");
        let begin = again.a.checkpoints.lock().unwrap()[0]
            .begin
            .clone()
            .unwrap();
        assert_eq!(begin.logical_session, sa.session_id());
        assert_eq!(learned(&sa), learned(&ra));
        assert_eq!(learned(&sb), learned(&rb));
    }
}

/// Both sides resume the same logical session, but the terms changed (here B announces
/// another count): both refuse before any element, with `TermsChanged`.
#[test]
fn a_resumption_under_other_terms_is_refused_on_both_sides() {
    let (a, b) = sets();
    let first = pair(SessionMode::Intersection, ProtocolChoice::Dh);
    let (ra, rb, _) = first.run(a.clone(), b.clone());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut again = pair(SessionMode::Intersection, ProtocolChoice::Dh);
    again.a_resume = Some(point(&first.a, &ra, 2));
    again.b_resume = Some(point(&first.b, &rb, 2));
    again.b_count = Some(b.len() as u64 + 1);
    let (sa, sb, log) = again.run(a, b);
    for r in [sa, sb] {
        assert!(
            matches!(
                r,
                Err(Error::Checkpoint(CheckpointError {
                    problem: CheckpointProblem::TermsChanged,
                    ..
                }))
            ),
            "{r:?}"
        );
    }
    // Each side's log says why: a refused handshake, and no session started.
    for side in [&again.a, &again.b] {
        let events = side.events.lock().unwrap();
        assert!(
            matches!(
                events.as_slice(),
                [Event::HandshakeRefused { mismatches, .. }]
                    if mismatches.as_slice() == [RESUMED_TERMS]
            ),
            "{events:?}"
        );
    }
    assert!(log
        .iter()
        .all(|(_, f)| f.kind != blindmatch::transport::framing::FrameKind::Protocol));
}

/// Records what a session reports of its buckets.
#[derive(Default)]
struct Buckets(std::sync::Mutex<Vec<(&'static str, u32, u32)>>);

impl blindmatch::session::Progress for Buckets {
    fn start(&self, _: blindmatch::protocol::Role, _: &[blindmatch::session::Phase]) {}
    fn advance(&self, _: blindmatch::session::Direction, _: &'static str, _: u64) {}
    fn finish(&self) {}
    fn bucket_finished(&self, finished: u32, total: u32) {
        self.0.lock().unwrap().push(("finished", finished, total));
    }
    fn buckets_resumed(&self, done: u32, total: u32) {
        self.0.lock().unwrap().push(("resumed", done, total));
    }
}

/// A resumed session reports the buckets it took over once, then each bucket it runs.
#[test]
fn progress_counts_the_buckets_taken_over_once() {
    let (a, b) = sets();
    let first = pair(SessionMode::Intersection, ProtocolChoice::Vole);
    let (ra, rb, _) = first.run(a.clone(), b.clone());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut again = pair(SessionMode::Intersection, ProtocolChoice::Vole);
    let seen = std::sync::Arc::new(Buckets::default());
    again.a_progress = seen.clone();
    again.a_resume = Some(point(&first.a, &ra, 3));
    again.b_resume = Some(point(&first.b, &rb, 3));
    let (sa, _, _) = again.run(a, b);
    sa.unwrap();
    assert_eq!(
        *seen.0.lock().unwrap(),
        [("resumed", 3, 5), ("finished", 4, 5), ("finished", 5, 5)]
    );
}

/// A session that is not bucketed has nothing to checkpoint: it records nothing, and its log
/// does not say it kept a checkpoint.
#[test]
fn an_unbucketed_session_records_nothing() {
    let (a, b) = sets();
    let mut p = Pair::new(SessionMode::Mutual, ProtocolChoice::Dh);
    p.checkpoint = true;
    let (ra, rb, _) = p.run(a, b);
    assert_eq!(ra.unwrap().terms().buckets(), 1);
    rb.unwrap();
    assert!(p.a.checkpoints.lock().unwrap().is_empty());
    let events = p.a.events.lock().unwrap();
    let Some(Event::SessionStarted { terms: Some(t), .. }) = events.first() else {
        panic!("no session_started");
    };
    assert!(!t.checkpoint);
}
