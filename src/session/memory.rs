//! Two envelopes in one process, connected by in-memory queues: every frame the network
//! would carry, in the same order, with each side's effects performed by its own performer.
//! For tests of the whole envelope (admission, refusals, aborts, receipts, audit order)
//! without sockets. The parties run in turn on the calling thread, so a run is reproducible.

use std::collections::VecDeque;

use crate::error::Result;
use crate::protocol::Role;
use crate::transport::framing::Frame;
use crate::transport::machine::{Action, Input, Machine, Perform};

use super::effect::{Completion, Effect};
use super::envelope::Envelope;
use super::outcome::SessionOutcome;

/// Every frame that crossed, in order: `(sender's role, frame)`.
pub type FrameLog = Vec<(Role, Frame)>;

struct Side<'a> {
    machine: Envelope,
    performer: &'a dyn Perform<Effect, Completion>,
    role: Role,
    /// Frames the peer sent that this side has not taken yet.
    inbox: VecDeque<Frame>,
    /// The peer closed its direction after the frames in `inbox`.
    peer_closed: bool,
    closed_delivered: bool,
}

impl Side<'_> {
    /// Runs this side's actions; returns whether anything happened.
    fn act(
        &mut self,
        peer: &mut VecDeque<Frame>,
        peer_closed: &mut bool,
        log: &mut FrameLog,
    ) -> bool {
        let mut progressed = false;
        loop {
            if self.machine.is_finished() {
                *peer_closed = true;
            }
            while let Some(action) = self.machine.poll() {
                progressed = true;
                match action {
                    Action::Send(f) if !*peer_closed => {
                        log.push((self.role, f.clone()));
                        peer.push_back(f);
                    }
                    Action::Send(_) => {}
                    Action::Perform(e) => {
                        let c = self.performer.perform(e);
                        self.machine.complete(c);
                    }
                    Action::Close => *peer_closed = true,
                }
            }
            if self.machine.is_finished() {
                *peer_closed = true;
            }
            if !self.machine.wants_input() {
                return progressed;
            }
            if let Some(f) = self.inbox.pop_front() {
                self.machine.handle(Input::Frame(f));
                progressed = true;
                continue;
            }
            if self.peer_closed && !self.closed_delivered {
                self.closed_delivered = true;
                self.machine.handle(Input::Closed);
                progressed = true;
                continue;
            }
            return progressed;
        }
    }
}

/// Runs two envelopes (an initiator and a responder, in either order) to the end, each side's
/// effects performed by its performer. Returns both results and every frame that crossed.
pub fn run_pair(
    a: Envelope,
    performer_a: &dyn Perform<Effect, Completion>,
    role_a: Role,
    b: Envelope,
    performer_b: &dyn Perform<Effect, Completion>,
) -> (Result<SessionOutcome>, Result<SessionOutcome>, FrameLog) {
    let mut log = FrameLog::new();
    let mut sa = Side {
        machine: a,
        performer: performer_a,
        role: role_a,
        inbox: VecDeque::new(),
        peer_closed: false,
        closed_delivered: false,
    };
    let mut sb = Side {
        machine: b,
        performer: performer_b,
        role: role_a.peer(),
        inbox: VecDeque::new(),
        peer_closed: false,
        closed_delivered: false,
    };
    loop {
        let mut to_b = std::mem::take(&mut sb.inbox);
        let mut b_sees_close = sb.peer_closed;
        let pa = sa.act(&mut to_b, &mut b_sees_close, &mut log);
        sb.inbox = to_b;
        sb.peer_closed = b_sees_close;
        let mut to_a = std::mem::take(&mut sa.inbox);
        let mut a_sees_close = sa.peer_closed;
        let pb = sb.act(&mut to_a, &mut a_sees_close, &mut log);
        sa.inbox = to_a;
        sa.peer_closed = a_sees_close;
        if sa.machine.is_finished() && sb.machine.is_finished() {
            break;
        }
        if !pa && !pb {
            // Neither can move: whoever is waiting sees the other's side close.
            sa.peer_closed = true;
            sb.peer_closed = true;
            if sa.closed_delivered && sb.closed_delivered {
                break;
            }
        }
    }
    (sa.machine.into_output(), sb.machine.into_output(), log)
}
