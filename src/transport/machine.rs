//! The interface between a sans-I/O machine and whatever carries its frames: the network
//! driver inside [`crate::agency::Agency::run`] or an in-memory pair (`crate::session::memory`).
//!
//! A machine takes [`Input`]s (frames, the end of the stream, a transport failure) and the
//! [`Machine::Completion`]s of the effects it asked for, and is polled for [`Action`]s: a frame
//! to send, an effect to perform (log an entry, ask for admission, sign a receipt, write the
//! output), or closing the connection. The driver performs effects on a thread that may block,
//! never on an async worker.
//!
//! The contract a driver keeps: after [`Machine::poll`] returns [`Action::Perform`], it calls
//! [`Machine::complete`] with that effect's result before any other call; it passes input only
//! while [`Machine::wants_input`] is true; it stops once [`Machine::is_finished`].

use crate::error::{CancelReason, Error, Result};
use crate::protocol::Interrupt;

use super::framing::Frame;

/// What arrived from the transport.
#[derive(Debug)]
#[non_exhaustive]
pub enum Input {
    /// A frame.
    Frame(Frame),
    /// A clean end of stream.
    Closed,
    /// The transport failed (a read deadline, a malformed frame, an I/O error).
    Failed(Error),
}

/// What the machine asks the driver to do next.
#[derive(Debug)]
#[non_exhaustive]
pub enum Action<E> {
    /// Send this frame.
    Send(Frame),
    /// Perform this effect and give the machine its completion.
    Perform(E),
    /// Close our direction of the connection (TLS close_notify) after the frames sent so far.
    Close,
}

/// Which read deadline applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// The handshake and admission: one deadline for all of it.
    Handshake,
    /// The rest: the idle and frame deadlines.
    Session,
}

/// A sans-I/O machine a driver can run over a connection.
pub trait Machine: Send + 'static {
    /// The effects it asks for, besides sending frames.
    type Effect: Send + 'static;
    /// Their results.
    type Completion: Send + 'static;
    /// What it produces.
    type Output: Send + 'static;

    /// Input from the transport.
    fn handle(&mut self, input: Input);

    /// The result of the effect last returned by [`Machine::poll`].
    fn complete(&mut self, completion: Self::Completion);

    /// Ends the session early (the machine aborts it in its own way).
    fn cancel(&mut self, reason: CancelReason);

    /// The next action, if any.
    fn poll(&mut self) -> Option<Action<Self::Effect>>;

    /// False while the machine cannot take input (it waits for a completion, or its queue of
    /// answers to send is full).
    fn wants_input(&self) -> bool;

    /// Which read deadline applies now.
    fn stage(&self) -> Stage;

    /// The flag that stops the machine's long computations (raised on cancel).
    fn interrupt(&self) -> Interrupt;

    /// True once the machine has nothing more to do.
    fn is_finished(&self) -> bool;

    /// The machine's result.
    ///
    /// # Errors
    /// The error the machine ended with.
    fn into_output(self) -> Result<Self::Output>;
}

/// Performs a machine's effects. Called from a thread that may block.
pub trait Perform<E, C>: Send + Sync + 'static {
    /// Performs `effect`.
    fn perform(&self, effect: E) -> C;
}
