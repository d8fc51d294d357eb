//! Bucketed sessions, sans I/O (`protocol-spec/09-buckets.md`): one logical DH-PSI or
//! VOLE-PSI session split into `B` sub-sessions of the same protocol, so that a side holds
//! the state of a few buckets at a time instead of the whole set's.
//!
//! 1. [`bucket_of`]: after the handshake both sides assign each item to a bucket with a hash
//!    keyed by the session id (fresh, and both sides' nonces are in it), or, in a resumed
//!    session, by the logical session's id ([`BucketStart`]).
//! 2. [`bucket_count`] and [`bucket_bound`]: both sides compute `B` from the two announced
//!    counts, and each side's bound `L(n, B)`: every bucket of that side is padded to `L`
//!    entries, so the peer learns `B · L(n, B)`, a function of the announced count only. A
//!    bucket above its bound ([`check_bucket`], probability at most `2^-40`) is refused at
//!    setup.
//! 3. `BucketedSession`: the sub-session of bucket `b` runs under its own session id
//!    ([`sub_session_id`]) with counts `L(n_I, B)` and `L(n_R, B)`; its messages travel as
//!    [`BucketMessage`]s; at most [`WINDOW`] buckets are open at once, so one bucket computes
//!    while the previous one's last messages are in flight.
//! 4. The output merges the buckets' matches back to the caller's input positions.
//! 5. A side that keeps a checkpoint takes each finished bucket's result
//!    ([`FinishedBucket`]) as it finishes; a resumed session starts after the buckets both
//!    sides had finished, with their results ([`BucketStart::done`]).
//!
//! The session envelope's body runs it when the terms give more than one bucket
//! ([`crate::session::Terms::buckets`]); the in-memory driver runs it with a chosen `B`
//! ([`crate::protocol::memory::run_bucketed`], hidden from the docs).

mod assign;
mod bound;
mod merge;
mod message;
mod resume;
mod session;
mod sub;

pub(crate) use assign::part_of;
pub use assign::{bucket_of, sub_session_id};
pub use bound::{
    bucket_bound, bucket_count, check_bucket, BUCKET_LOG2_RANGE, DEFAULT_BUCKET_LOG2, MAX_BUCKETS,
    TARGET_BUCKET_SIZE,
};
pub use message::BucketMessage;
pub use resume::{BucketLearned, BucketStart, FinishedBucket};
pub(crate) use session::BucketedSession;
pub use session::WINDOW;
pub use sub::BucketedProtocol;
pub(crate) use sub::SubSession;

#[cfg(test)]
mod tests;
