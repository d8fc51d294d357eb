//! Resuming a bucketed session after a crash or a broken connection
//! (`protocol-spec/09-buckets.md` section 9.12).
//!
//! A side that keeps a checkpoint records, as the body starts, which logical session it runs
//! and under which terms ([`CheckpointBegin`]), then every bucket as it finishes
//! ([`crate::protocol::bucket::FinishedBucket`]). A later attempt at the same logical
//! session reads that back into a [`ResumePoint`], names the logical session and how many
//! buckets it finished in its hello ([`Resumption`]), and, when the peer names the same
//! logical session, runs only the buckets from the smaller of the two counts on, each under
//! the new attempt's fresh session id, with the items assigned to buckets as before (the
//! assignment is keyed by the logical session's id). The result is the one an uninterrupted
//! session gives: the buckets from before come from the checkpoint, the others from this
//! attempt.

use std::path::PathBuf;

use crate::protocol::bucket::{BucketLearned, FinishedBucket};
use crate::protocol::Role;

/// A hello's claim to resume a logical session, or the resumption both agreed on
/// ([`crate::session::Terms::resume`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resumption {
    /// The logical session: the session id of its first attempt, which keys the bucket
    /// assignment of every attempt.
    pub logical_session: [u8; 32],
    /// In a hello: the buckets `0..n` the sender finished and kept. In the terms: the
    /// smaller of the two hellos' counts, the first bucket this attempt runs.
    pub buckets_done: u32,
}

/// What a checkpoint holds of an earlier attempt, for [`crate::session::SessionConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumePoint {
    /// The checkpoint's directory (for error messages).
    pub dir: PathBuf,
    /// The logical session.
    pub logical_session: [u8; 32],
    /// [`crate::session::terms_digest`] of the terms the checkpointed attempts ran under: a resumption runs
    /// under the same or not at all.
    pub terms_digest: [u8; 32],
    /// What buckets `0, 1, ...` gave, for as many as finished one after another from 0.
    pub done: Vec<BucketLearned>,
}

impl ResumePoint {
    /// The claim our hello makes.
    pub fn offer(&self) -> Resumption {
        Resumption {
            logical_session: self.logical_session,
            buckets_done: self.done.len() as u32,
        }
    }
}

/// What a checkpoint records as the body starts: the logical session, this attempt, and the
/// terms it runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointBegin {
    /// Our role.
    pub role: Role,
    /// The logical session's id.
    pub logical_session: [u8; 32],
    /// This attempt's session id.
    pub session_id: [u8; 32],
    /// This attempt's transcript hash.
    pub transcript: [u8; 32],
    /// [`crate::session::terms_digest`] of the agreed terms.
    pub terms_digest: [u8; 32],
    /// The number of buckets.
    pub buckets: u32,
    /// The buckets this attempt takes from the checkpoint instead of running them: `0..n`.
    pub buckets_done: u32,
}

/// What the envelope asks a checkpoint to record ([`crate::session::Effect::Checkpoint`]),
/// in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointEntry {
    /// The body started: from here on the checkpoint is this logical session's, and it keeps
    /// only the buckets this attempt took from it (`0..buckets_done`).
    pub begin: Option<CheckpointBegin>,
    /// These buckets finished, in the order they finished.
    pub finished: Vec<FinishedBucket>,
}
