//! Progress of a session, as events for whoever shows it: the library draws nothing. The
//! command line implements [`Progress`] with terminal bars; a service may log or ignore it.
//!
//! A session has phases, each one type of protocol message going one way (for DH-PSI as the
//! initiator: our set blinded and sent, our set coming back re-blinded, the peer's set
//! arriving, and in mutual mode the peer's set re-blinded and returned). Each phase counts the
//! items its messages carry against the total the handshake agreed. A bucketed session also
//! reports each bucket as it finishes ([`Progress::bucket_finished`]), from which a caller
//! can tell how far the session is and estimate the rest.

/// Which way a phase's messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// Messages we send.
    Sent,
    /// Messages we receive (counted once handled).
    Received,
}

/// One phase of a session: the messages of one type going one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// Which way.
    pub direction: Direction,
    /// The message type (`Blinded`, `Reblinded`, `Evaluated`, `Tags`).
    pub message: &'static str,
    /// What the phase is, in words (`"our set, hashed and blinded"`).
    pub what: &'static str,
    /// Items the phase carries in the whole session.
    pub total: u64,
}

impl Phase {
    /// A phase of `total` items of `message` messages going `direction`.
    pub fn new(
        direction: Direction,
        message: &'static str,
        what: &'static str,
        total: u64,
    ) -> Self {
        Phase {
            direction,
            message,
            what,
            total,
        }
    }
}

/// Receives a session's progress. Called from the thread doing the session's work: keep it
/// cheap.
pub trait Progress: Send + Sync {
    /// The body starts; these are its phases.
    fn start(&self, role: crate::protocol::Role, phases: &[Phase]);
    /// `items` carried by a `message` message went `direction`.
    fn advance(&self, direction: Direction, message: &'static str, items: u64);
    /// The body ended (successfully or not).
    fn finish(&self);
    /// In a bucketed session (`protocol-spec/09-buckets.md`), `finished` of the `total`
    /// buckets have finished: called once each time one more finishes (a bucket with nothing
    /// to exchange finishes as it opens). Nothing is called for an unbucketed session.
    fn bucket_finished(&self, finished: u32, total: u32) {
        let _ = (finished, total);
    }
    /// A resumed session (`protocol-spec/09-buckets.md` section 9.12) took buckets
    /// `0..done` of the `total` from its checkpoint: they count as finished, but took none
    /// of this attempt's time. Called once, before any [`Progress::bucket_finished`].
    fn buckets_resumed(&self, done: u32, total: u32) {
        let _ = (done, total);
    }
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: crate::protocol::Role, _: &[Phase]) {}
    fn advance(&self, _: Direction, _: &'static str, _: u64) {}
    fn finish(&self) {}
}
