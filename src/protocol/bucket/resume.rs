//! Where a bucketed session starts, and what each finished bucket gave
//! (`protocol-spec/09-buckets.md` section 9.12): a resumed session keys the assignment with
//! the logical session's id, so every item falls where it fell in the interrupted attempt,
//! and takes the buckets both sides had finished from the checkpoint instead of running them
//! again.

/// What one finished bucket gave this side, in the caller's distinct item numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketLearned {
    /// Nothing (the responder of an `intersection` session).
    Nothing,
    /// How many items the bucket shared (`cardinality`, which sessions never bucket; the
    /// in-memory driver may).
    Count(u64),
    /// The caller's distinct item numbers that the bucket found in the intersection,
    /// ascending.
    Matches(Vec<u32>),
}

/// A bucket that finished, and what it gave: the record a checkpoint keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedBucket {
    /// The bucket's number.
    pub bucket: u32,
    /// What it gave.
    pub learned: BucketLearned,
}

/// Where a bucketed session starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketStart {
    /// The key of the assignment (section 9.2): the logical session's id, which is the
    /// session id of its first attempt.
    pub assignment_key: [u8; 32],
    /// What buckets `0..done.len()` gave in an earlier attempt (section 9.12); they do not
    /// run again, and the next bucket to run is `done.len()`.
    pub done: Vec<BucketLearned>,
    /// Whether each bucket that finishes is kept as a [`FinishedBucket`] for the caller to
    /// take (for a checkpoint).
    pub record: bool,
}

impl BucketStart {
    /// A first attempt: the assignment keyed by `session_id`, every bucket to run, nothing
    /// recorded.
    pub fn fresh(session_id: [u8; 32]) -> Self {
        BucketStart {
            assignment_key: session_id,
            done: Vec::new(),
            record: false,
        }
    }
}
