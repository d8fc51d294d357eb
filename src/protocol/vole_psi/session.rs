//! [`VolePsiSession`]: either role's typed states behind one [`SansIo`] interface, so the
//! session envelope drives a VOLE-PSI body without knowing its role.

use rand_core::CryptoRng;

use crate::error::{Error, PeerMisbehaved, Result};
use crate::protocol::dh::{DhOutput, DhParams};
use crate::protocol::{Interrupt, ItemSet, Role, SansIo};

use super::context::{Context, Step};
use super::message::VoleMessage;
use super::receiver::{self, ReceiverAwaits};
use super::sender::{self, SenderAwaits};

enum State {
    Receiver(ReceiverAwaits),
    Sender(SenderAwaits),
    Done(DhOutput),
    Failed,
}

/// A VOLE-PSI session for one party: the initiator is the receiver, the responder the
/// sender. A step runs when the peer's message that completes its input arrives, and queues
/// the answer for [`SansIo::poll_outgoing`].
pub(crate) struct VolePsiSession {
    cx: Context,
    state: State,
}

impl VolePsiSession {
    /// Starts a session for `role` (the receiver queues its first message). Its long steps
    /// (the punctured PRFs, the code, the OKVS, the tags) check `stop` between batches of a
    /// few milliseconds' work and fail with [`Error::Cancelled`] once it is raised.
    ///
    /// # Errors
    /// [`Error::Config`] for parameters out of range; [`Error::Input`] when `items` has more
    /// distinct items than our agreed count.
    pub(crate) fn new<R: CryptoRng + ?Sized>(
        role: Role,
        params: DhParams,
        items: ItemSet,
        rng: &mut R,
        stop: Interrupt,
    ) -> Result<Self> {
        Self::in_buckets(role, params, items, rng, stop, 1)
    }

    /// As [`VolePsiSession::new`], for one bucket of a bucketed session of `buckets` buckets
    /// (spec 9): the tags are longer by `ceil(log2 buckets)` bits or so (spec 8.7's `ℓ`), so
    /// that a false match stays below `2^-40` for the whole session, not for each bucket.
    ///
    /// # Errors
    /// As [`VolePsiSession::new`].
    pub(crate) fn in_buckets<R: CryptoRng + ?Sized>(
        role: Role,
        params: DhParams,
        items: ItemSet,
        rng: &mut R,
        stop: Interrupt,
        buckets: usize,
    ) -> Result<Self> {
        let mut cx = Context::new(role, params, items, rng, stop, buckets)?;
        let state = match role {
            Role::Initiator => Self::next(receiver::start(&mut cx)?, State::Receiver),
            Role::Responder => Self::next(sender::start(&mut cx)?, State::Sender),
        };
        Ok(VolePsiSession { cx, state })
    }

    fn next<S>(step: Step<S>, running: fn(S) -> State) -> State {
        match step {
            Step::Running(s) => running(s),
            Step::Done(out) => State::Done(out),
        }
    }

    fn step(&mut self, msg: VoleMessage) -> Result<()> {
        self.state = match std::mem::replace(&mut self.state, State::Failed) {
            State::Receiver(s) => {
                Self::next(receiver::step(s, msg, &mut self.cx)?, State::Receiver)
            }
            State::Sender(s) => Self::next(sender::step(s, msg, &mut self.cx)?, State::Sender),
            State::Done(_) => {
                return Err(PeerMisbehaved::TooMuchData {
                    what: "the peer's VOLE-PSI messages",
                }
                .into())
            }
            State::Failed => return Err(failed()),
        };
        Ok(())
    }
}

fn failed() -> Error {
    Error::internal("a VOLE-PSI session was used after it failed")
}

impl SansIo for VolePsiSession {
    type Message = VoleMessage;
    type Output = DhOutput;

    fn poll_outgoing(&mut self) -> Result<Option<VoleMessage>> {
        if matches!(self.state, State::Failed) {
            return Err(failed());
        }
        Ok(self.cx.outbox.pop_front())
    }

    fn handle(&mut self, msg: VoleMessage) -> Result<()> {
        let r = self.step(msg);
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_)) && self.cx.outbox.is_empty()
    }

    fn backlog(&self) -> usize {
        self.cx.outbox.len()
    }

    fn into_output(self) -> Result<DhOutput> {
        match self.state {
            State::Done(out) if self.cx.outbox.is_empty() => Ok(out),
            State::Failed => Err(failed()),
            _ => Err(PeerMisbehaved::EarlyDone.into()),
        }
    }
}
