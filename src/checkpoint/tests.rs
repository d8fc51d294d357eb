//! The checkpoint directory: a first attempt records, a resumption reads it back under the
//! same role, items and peer, and anything else is refused with its typed reason.

use super::*;
use crate::error::CheckpointError;
use crate::protocol::bucket::FinishedBucket;
use crate::session::CheckpointBegin;

fn items() -> ItemSet {
    ItemSet::new((0..50).map(|i| format!("IMO{i:07}")))
}

fn begin(logical: u8, done: u32) -> CheckpointEntry {
    CheckpointEntry {
        begin: Some(CheckpointBegin {
            role: Role::Initiator,
            logical_session: [logical; 32],
            session_id: [logical + u8::try_from(done).expect("small"); 32],
            transcript: [0x77; 32],
            terms_digest: [0x55; 32],
            buckets: 4,
            buckets_done: done,
        }),
        finished: Vec::new(),
    }
}

fn finished(buckets: &[u32]) -> CheckpointEntry {
    CheckpointEntry {
        begin: None,
        finished: buckets
            .iter()
            .map(|&b| FinishedBucket {
                bucket: b,
                learned: BucketLearned::Matches(vec![b, b + 10]),
            })
            .collect(),
    }
}

fn problem(r: Result<Checkpoint>) -> CheckpointProblem {
    match r {
        Err(Error::Checkpoint(CheckpointError { problem, .. })) => problem,
        other => panic!("not a checkpoint error: {other:?}"),
    }
}

const PEER: Fingerprint = Fingerprint([0xab; 32]);

/// A first attempt that finished buckets 0, 1 and 3 (2 was lost).
fn interrupted(dir: &Path) {
    let c = Checkpoint::open(dir, false, Role::Initiator, &items()).expect("a first attempt");
    assert!(c.resume_point().is_none());
    c.bind_peer(PEER).expect("any peer");
    c.record(&begin(1, 0)).expect("begin");
    c.record(&finished(&[1, 0])).expect("two buckets");
    c.record(&finished(&[3])).expect("a third");
}

#[test]
fn a_resumption_reads_back_the_buckets_done_from_zero() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ckpt");
    interrupted(&dir);
    assert_eq!(
        Checkpoint::status(&dir).expect("readable"),
        Some(Status {
            buckets_done: 2,
            buckets: 4
        })
    );
    let c = Checkpoint::open(&dir, true, Role::Initiator, &items()).expect("resumable");
    let point = c.resume_point().expect("a point");
    assert_eq!(point.logical_session, [1; 32]);
    assert_eq!(point.terms_digest, [0x55; 32]);
    assert_eq!(
        point.done,
        [
            BucketLearned::Matches(vec![0, 10]),
            BucketLearned::Matches(vec![1, 11])
        ]
    );
    assert_eq!(point.offer().buckets_done, 2);
    c.bind_peer(PEER).expect("the same peer");
    // The second attempt takes bucket 0 only (the peer had only that one): bucket 1 and the
    // stray bucket 3 are dropped, and its own buckets are appended.
    c.record(&begin(1, 1)).expect("begin");
    c.record(&finished(&[2])).expect("bucket 2");
    let s = read_session(&dir).expect("read").expect("there");
    assert_eq!(s.attempts.len(), 2);
    assert_eq!(s.attempts[1].buckets_done, 1);
    let recorded = read_buckets(&dir).expect("read");
    assert_eq!(recorded.keys().copied().collect::<Vec<_>>(), [0, 2]);
    c.finish().expect("finish");
    assert_eq!(Checkpoint::status(&dir).expect("empty"), None);
    assert!(dir.is_dir(), "the directory stays");
}

#[test]
fn another_use_of_the_directory_is_refused_with_its_reason() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ckpt");
    interrupted(&dir);
    assert_eq!(
        problem(Checkpoint::open(&dir, false, Role::Initiator, &items())),
        CheckpointProblem::Unfinished {
            buckets_done: 2,
            buckets: 4
        }
    );
    assert_eq!(
        problem(Checkpoint::open(&dir, true, Role::Responder, &items())),
        CheckpointProblem::RoleChanged
    );
    let fewer = ItemSet::new((0..49).map(|i| format!("IMO{i:07}")));
    assert_eq!(
        problem(Checkpoint::open(&dir, true, Role::Initiator, &fewer)),
        CheckpointProblem::ItemsChanged
    );
    let c = Checkpoint::open(&dir, true, Role::Initiator, &items()).expect("resumable");
    assert!(matches!(
        c.bind_peer(Fingerprint([0xcd; 32])),
        Err(Error::Checkpoint(CheckpointError {
            problem: CheckpointProblem::PeerChanged,
            ..
        }))
    ));
    // One session at a time.
    assert_eq!(
        problem(Checkpoint::open(&dir, true, Role::Initiator, &items())),
        CheckpointProblem::InUse
    );
    drop(c);
    std::fs::write(dir.join(SESSION_FILE), b"{\"format\": 1}").expect("write");
    assert!(matches!(
        problem(Checkpoint::open(&dir, true, Role::Initiator, &items())),
        CheckpointProblem::Unreadable {
            file: SESSION_FILE,
            ..
        }
    ));
}

#[test]
fn resuming_an_empty_directory_is_a_first_attempt() {
    let tmp = tempfile::tempdir().expect("tmp");
    let c = Checkpoint::open(tmp.path(), true, Role::Responder, &items()).expect("empty");
    assert!(c.resume_point().is_none());
    assert!(matches!(c.record(&finished(&[0])), Err(Error::Internal(_))));
}

#[cfg(unix)]
#[test]
fn the_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("new");
    interrupted(&dir);
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join(SESSION_FILE)), 0o600);
    assert_eq!(mode(&dir.join(BUCKETS_FILE)), 0o600);
}

#[test]
fn the_items_digest_is_the_specs() {
    use sha3::{Digest, Sha3_256};
    let set = ItemSet::new(["b", "aa"]);
    let mut input = Vec::new();
    input.extend_from_slice(&30u32.to_be_bytes());
    input.extend_from_slice(b"blindmatch-v1-checkpoint-items");
    input.extend_from_slice(&2u64.to_be_bytes());
    for x in set.items().iter() {
        input.extend_from_slice(&(x.len() as u64).to_be_bytes());
        input.extend_from_slice(x);
    }
    let want: [u8; 32] = Sha3_256::digest(&input).into();
    assert_eq!(items_digest(&set), want);
}
