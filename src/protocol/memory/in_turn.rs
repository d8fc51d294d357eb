//! Driving two sessions in turn on the calling thread: deterministic, so a recorded
//! transcript always lists the messages in the same order (the test vectors rely on it).

use crate::error::{Error, Result};
use crate::protocol::memory::Transcript;
use crate::protocol::{Role, SansIo, WireMessage};

/// Passes messages between two sessions until both are finished, through their encodings:
/// everything `a` has to send, then everything `b` has, and again. `a` is recorded as the
/// [`Role::Initiator`] (for the OPRF protocol, the receiver).
///
/// # Errors
/// The first error of either session, or [`Error::PeerMisbehaved`] when neither can make
/// progress before both are finished.
pub fn pump<A, B>(a: &mut A, b: &mut B, mut transcript: Option<&mut Transcript>) -> Result<()>
where
    A: SansIo,
    B: SansIo<Message = A::Message>,
{
    loop {
        let mut progressed = false;
        while let Some(msg) = a.poll_outgoing()? {
            let bytes = msg.encode();
            b.handle(A::Message::decode(&bytes)?)?;
            if let Some(t) = transcript.as_deref_mut() {
                t.messages.push((Role::Initiator, bytes));
            }
            progressed = true;
        }
        while let Some(msg) = b.poll_outgoing()? {
            let bytes = msg.encode();
            a.handle(A::Message::decode(&bytes)?)?;
            if let Some(t) = transcript.as_deref_mut() {
                t.messages.push((Role::Responder, bytes));
            }
            progressed = true;
        }
        if a.is_finished() && b.is_finished() {
            return Ok(());
        }
        if !progressed {
            return Err(stalled());
        }
    }
}

/// The error for a session in which neither party can make progress.
pub(super) fn stalled() -> Error {
    Error::internal("the session stalled: neither party has anything to send")
}
