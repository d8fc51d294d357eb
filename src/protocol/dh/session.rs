//! [`DhSession`]: either role's typed states behind one [`SansIo`] interface, so a transport
//! can drive a session without knowing its role or mode.

use std::collections::VecDeque;

use rand_core::CryptoRng;

use crate::error::{Error, PeerMisbehaved, Result};
use crate::protocol::dh::initiator::*;
use crate::protocol::dh::message::DhMessage;
use crate::protocol::dh::output::DhOutput;
use crate::protocol::dh::params::DhParams;
use crate::protocol::dh::responder::*;
use crate::protocol::{ItemSet, Mode, Role, SansIo};

enum State {
    InitiatorBlinding(InitiatorBlinding),
    InitiatorAwaitingReblinded(InitiatorAwaitingReblinded),
    InitiatorAwaitingPeerSet(InitiatorAwaitingPeerSet),
    ResponderAwaitingPeerSet(ResponderAwaitingPeerSet),
    ResponderBlinding(ResponderBlinding),
    ResponderAwaitingReblinded(ResponderAwaitingReblinded),
    Done(DhOutput),
    Failed,
}

/// A DH-PSI session for one party, driven through [`SansIo`].
///
/// Messages that arrive while the party is still sending its own blinded set are queued (up
/// to the number of elements the peer may still send, so memory stays bounded by the agreed
/// sizes) and handled once the set is out.
pub struct DhSession {
    state: State,
    outbox: VecDeque<DhMessage>,
    inbox: VecDeque<DhMessage>,
    /// Elements and messages the peer may still legitimately send that we have not queued.
    inbox_room: (usize, usize),
}

impl DhSession {
    /// Starts a session for `role`.
    ///
    /// # Errors
    /// [`Error::Config`] for parameters out of range; [`Error::Input`] when `items` has more
    /// distinct items than this role's agreed count.
    pub fn new<R: CryptoRng + ?Sized>(
        role: Role,
        params: DhParams,
        items: ItemSet,
        rng: &mut R,
    ) -> Result<Self> {
        let room = |n: usize| (n, params.chunk_lengths(n).count());
        let (state, inbox_room) = match role {
            Role::Initiator => {
                let (e1, m1) = room(params.initiator_count);
                let (e2, m2) = room(params.responder_count);
                let s = InitiatorBlinding::new(params, items, rng)?;
                (State::InitiatorBlinding(s), (e1 + e2, m1 + m2))
            }
            Role::Responder => {
                let r = if params.mode == Mode::Mutual {
                    room(params.responder_count)
                } else {
                    (0, 0)
                };
                let s = ResponderAwaitingPeerSet::new(params, items, rng)?;
                (State::ResponderAwaitingPeerSet(s), r)
            }
        };
        Ok(DhSession {
            state,
            outbox: VecDeque::new(),
            inbox: VecDeque::new(),
            inbox_room,
        })
    }

    /// True while the party still sends its own blinded set.
    fn is_blinding(&self) -> bool {
        matches!(
            self.state,
            State::InitiatorBlinding(_) | State::ResponderBlinding(_)
        )
    }

    /// One transition on an incoming message.
    fn step(&mut self, msg: DhMessage) -> Result<()> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        self.state = match state {
            State::InitiatorAwaitingReblinded(s) => match s.handle(msg)? {
                InitiatorAfterReblinded::AwaitingReblinded(s) => {
                    State::InitiatorAwaitingReblinded(s)
                }
                InitiatorAfterReblinded::AwaitingPeerSet(s) => State::InitiatorAwaitingPeerSet(s),
            },
            State::InitiatorAwaitingPeerSet(s) => {
                let (next, reply) = s.handle(msg)?;
                self.outbox.extend(reply);
                match next {
                    InitiatorAfterPeerSet::AwaitingPeerSet(s) => State::InitiatorAwaitingPeerSet(s),
                    InitiatorAfterPeerSet::Done(out) => State::Done(out),
                }
            }
            State::ResponderAwaitingPeerSet(s) => {
                let (next, replies) = s.handle(msg)?;
                self.outbox.extend(replies);
                match next {
                    ResponderAfterPeerSet::AwaitingPeerSet(s) => State::ResponderAwaitingPeerSet(s),
                    ResponderAfterPeerSet::Blinding(s) => State::ResponderBlinding(s),
                }
            }
            State::ResponderAwaitingReblinded(s) => match s.handle(msg)? {
                ResponderAfterReblinded::AwaitingReblinded(s) => {
                    State::ResponderAwaitingReblinded(s)
                }
                ResponderAfterReblinded::Done(out) => State::Done(out),
            },
            State::Done(_) => {
                return Err(PeerMisbehaved::TooMuchData {
                    what: "the peer's DH-PSI messages",
                }
                .into())
            }
            State::Failed => return Err(failed()),
            State::InitiatorBlinding(_) | State::ResponderBlinding(_) => {
                unreachable!("messages are queued while blinding")
            }
        };
        Ok(())
    }

    /// Handles queued messages once the party is no longer blinding.
    fn drain_inbox(&mut self) -> Result<()> {
        while !self.is_blinding() {
            let Some(msg) = self.inbox.pop_front() else {
                break;
            };
            self.step(msg)?;
        }
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<DhMessage>> {
        if let Some(msg) = self.outbox.pop_front() {
            return Ok(Some(msg));
        }
        let state = std::mem::replace(&mut self.state, State::Failed);
        let msg = match state {
            State::InitiatorBlinding(s) => {
                let (next, msg) = s.next_chunk();
                self.state = match next {
                    InitiatorAfterChunk::Blinding(s) => State::InitiatorBlinding(s),
                    InitiatorAfterChunk::AwaitingReblinded(s) => {
                        State::InitiatorAwaitingReblinded(s)
                    }
                };
                msg
            }
            State::ResponderBlinding(s) => {
                let (next, msg) = s.next_chunk();
                self.state = match next {
                    ResponderAfterChunk::Blinding(s) => State::ResponderBlinding(s),
                    ResponderAfterChunk::AwaitingReblinded(s) => {
                        State::ResponderAwaitingReblinded(s)
                    }
                    ResponderAfterChunk::Done(out) => State::Done(out),
                };
                msg
            }
            State::Failed => return Err(failed()),
            other => {
                self.state = other;
                return Ok(None);
            }
        };
        self.drain_inbox()?;
        Ok(Some(msg))
    }

    fn receive(&mut self, msg: DhMessage) -> Result<()> {
        if matches!(self.state, State::Failed) {
            return Err(failed());
        }
        if !self.is_blinding() {
            return self.step(msg);
        }
        let n = msg.elements().len();
        let (elements, messages) = self.inbox_room;
        if n > elements || messages == 0 {
            return Err(PeerMisbehaved::TooMuchData {
                what: "the peer's DH-PSI messages",
            }
            .into());
        }
        self.inbox_room = (elements - n, messages - 1);
        self.inbox.push_back(msg);
        Ok(())
    }
}

fn failed() -> Error {
    Error::internal("a DH-PSI session was used after it failed")
}

impl SansIo for DhSession {
    type Message = DhMessage;
    type Output = DhOutput;

    fn poll_outgoing(&mut self) -> Result<Option<DhMessage>> {
        let r = self.poll();
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn handle(&mut self, msg: DhMessage) -> Result<()> {
        let r = self.receive(msg);
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_)) && self.outbox.is_empty() && self.inbox.is_empty()
    }

    fn backlog(&self) -> usize {
        self.outbox.len()
    }

    fn into_output(self) -> Result<DhOutput> {
        match self.state {
            State::Done(out) if self.outbox.is_empty() => Ok(out),
            State::Failed => Err(failed()),
            _ => Err(PeerMisbehaved::EarlyDone.into()),
        }
    }
}
