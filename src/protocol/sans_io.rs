//! The interface between a protocol session and whatever carries its messages.
//!
//! Protocol code does no I/O: a session takes messages and produces messages. The transport
//! (`crate::transport`) drives a session over TLS; [`super::memory`] drives two sessions
//! against each other in one process, for tests and benchmarks. Both run the very same code.

use crate::error::Result;

/// A protocol message that can be written to and read from a frame.
pub trait WireMessage: Sized {
    /// The message's bytes.
    fn encode(&self) -> Vec<u8>;

    /// Parses a message. Checks only the format (type, lengths); the session checks the
    /// content against what it expects before doing any work.
    ///
    /// # Errors
    /// [`crate::Error::PeerMisbehaved`] when the bytes are not a well-formed message.
    fn decode(bytes: &[u8]) -> Result<Self>;

    /// For progress reporting: the message's type (each type is one phase of a session) and
    /// the number of items it carries.
    fn progress(&self) -> (&'static str, u64);
}

/// A protocol session as a state machine driven from outside.
///
/// A driver calls [`SansIo::poll_outgoing`] until it returns `None` and sends what it gets,
/// then waits for a message from the peer and passes it to [`SansIo::handle`], until
/// [`SansIo::is_finished`]; then [`SansIo::into_output`]. A session accepts messages at any
/// time (it queues those that arrive early, within the agreed counts), so a driver may read
/// eagerly while it writes, as it must to avoid a deadlock on full buffers.
pub trait SansIo {
    /// The messages of this protocol.
    type Message: WireMessage;
    /// What the session produces for its own party.
    type Output;

    /// The next message to send, if one is ready. May do heavy work (a batch of group
    /// operations for one chunk): call it from a context that may block.
    ///
    /// # Errors
    /// A failed session stays failed: every later call returns an error.
    fn poll_outgoing(&mut self) -> Result<Option<Self::Message>>;

    /// A message from the peer. Its type and element count are checked against what the
    /// session expects before any work is done on it.
    ///
    /// # Errors
    /// [`crate::Error::PeerMisbehaved`] or [`crate::Error::LegacyInvalidElement`] when the message
    /// breaks the protocol; the session is then failed.
    fn handle(&mut self, msg: Self::Message) -> Result<()>;

    /// True once the session has sent and received everything.
    fn is_finished(&self) -> bool;

    /// The session's result.
    ///
    /// # Errors
    /// When the session failed or is not finished.
    fn into_output(self) -> Result<Self::Output>;
}
