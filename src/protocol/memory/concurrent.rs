//! Driving two sessions at once, each on its own thread, as two agencies' machines run them:
//! while one party waits for the last task of a batch, or shuffles, sorts and matches, the
//! other party's batch keeps the cores busy. Both threads submit their batches to rayon's
//! global pool.
//!
//! The threads meet at a [`Link`]: a queue of encoded messages for each side under one lock,
//! which also tells when neither side can make progress (a stall), so a broken exchange ends
//! in an error instead of two threads waiting for each other forever.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};
use crate::protocol::memory::in_turn::stalled;
use crate::protocol::{SansIo, WireMessage};

/// Runs `a` on the calling thread and `b` on a second one, passing messages through their
/// encodings, until both are finished. The order in which the two parties' messages
/// interleave depends on the scheduler; each party's own messages keep their order.
///
/// # Errors
/// The first error of either session (`a`'s first when both fail), or
/// [`Error::PeerMisbehaved`] when neither can make progress before both are finished.
pub fn run_concurrently<A, B>(a: &mut A, b: &mut B) -> Result<()>
where
    A: SansIo,
    B: SansIo<Message = A::Message> + Send,
{
    let link = Link::default();
    let (from_a, from_b) = std::thread::scope(|scope| {
        let b_thread = scope.spawn(|| drive(b, Side::B, &link));
        let from_a = drive(a, Side::A, &link);
        let from_b = b_thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (from_a, from_b)
    });
    match (from_a, from_b) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(Stop::Failed(e)), _) | (_, Err(Stop::Failed(e))) => Err(e),
        // A side stops because of the other only once that one has failed (matched above).
        (Err(Stop::PeerStopped), _) | (_, Err(Stop::PeerStopped)) => Err(stalled()),
    }
}

/// Why one side stopped before finishing.
enum Stop {
    /// Its session failed, or the exchange stalled while it waited.
    Failed(Error),
    /// The other side failed or left, so nothing more will arrive.
    PeerStopped,
}

#[derive(Clone, Copy)]
enum Side {
    A = 0,
    B = 1,
}

impl Side {
    fn index(self) -> usize {
        self as usize
    }

    fn peer(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// One side's loop: send everything it has, finish or wait for the next message, handle it.
fn drive<S: SansIo>(party: &mut S, side: Side, link: &Link) -> std::result::Result<(), Stop> {
    let _leaving = Leaving { link, side };
    loop {
        while let Some(msg) = party.poll_outgoing().map_err(Stop::Failed)? {
            link.send(side.peer(), msg.encode())?;
        }
        if party.is_finished() {
            link.finish(side);
            return Ok(());
        }
        let bytes = link.receive(side)?;
        let msg = S::Message::decode(&bytes).map_err(Stop::Failed)?;
        party.handle(msg).map_err(Stop::Failed)?;
    }
}

/// What the two threads share.
#[derive(Default)]
struct Link {
    state: Mutex<LinkState>,
    changed: Condvar,
}

#[derive(Default)]
struct LinkState {
    /// Encoded messages waiting to be handled by each side, oldest first. Unbounded, but a
    /// session never sends more than the agreed counts, which a receiving session would queue
    /// anyway while it is still sending.
    queues: [VecDeque<Vec<u8>>; 2],
    /// Whether each side is waiting for a message.
    waiting: [bool; 2],
    /// Whether each side has finished.
    finished: [bool; 2],
    /// Set when a side stops without finishing: the other stops too.
    aborted: bool,
}

impl Link {
    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, to: Side, bytes: Vec<u8>) -> std::result::Result<(), Stop> {
        let mut state = self.lock();
        if state.aborted {
            return Err(Stop::PeerStopped);
        }
        state.queues[to.index()].push_back(bytes);
        self.changed.notify_all();
        Ok(())
    }

    fn finish(&self, side: Side) {
        self.lock().finished[side.index()] = true;
        self.changed.notify_all();
    }

    /// The next message for `side`, waiting for it if need be. Both sides waiting with
    /// nothing queued for either, or waiting for a side that has finished, is a stall: a
    /// side waits only after sending everything it had, so nothing would ever arrive.
    fn receive(&self, side: Side) -> std::result::Result<Vec<u8>, Stop> {
        let (me, peer) = (side.index(), side.peer().index());
        let mut state = self.lock();
        loop {
            if let Some(bytes) = state.queues[me].pop_front() {
                return Ok(bytes);
            }
            if state.aborted {
                return Err(Stop::PeerStopped);
            }
            if state.finished[peer] || (state.waiting[peer] && state.queues[peer].is_empty()) {
                state.aborted = true;
                self.changed.notify_all();
                return Err(Stop::Failed(stalled()));
            }
            state.waiting[me] = true;
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting[me] = false;
        }
    }
}

/// Marks the exchange aborted when a side leaves without finishing (an error or a panic),
/// so the other side never waits for it.
struct Leaving<'a> {
    link: &'a Link,
    side: Side,
}

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        let mut state = self.link.lock();
        if !state.finished[self.side.index()] {
            state.aborted = true;
        }
        drop(state);
        self.link.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::error::PeerMisbehaved;
    use crate::protocol::dh::{DhParams, DhSession};
    use crate::protocol::memory::pump;
    use crate::protocol::{ItemSet, Mode, Role};

    fn items(range: std::ops::Range<u32>) -> ItemSet {
        ItemSet::new(range.map(|i| format!("item-{i}")))
    }

    fn session(role: Role, params: &DhParams, items: ItemSet, seed: u64) -> DhSession {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        DhSession::new(role, params.clone(), items, &mut rng).expect("valid parameters")
    }

    #[test]
    fn gives_what_running_in_turn_gives() {
        for mode in [Mode::Intersection, Mode::Mutual, Mode::Cardinality] {
            let mut params = DhParams::new(mode, [3; 32], 300, 200);
            params.chunk_size = 64;
            let run = |concurrently: bool| {
                let mut a = session(Role::Initiator, &params, items(0..300), 1);
                let mut b = session(Role::Responder, &params, items(250..450), 2);
                if concurrently {
                    run_concurrently(&mut a, &mut b).expect("runs");
                } else {
                    pump(&mut a, &mut b, None).expect("runs");
                }
                (a.into_output().expect("a"), b.into_output().expect("b"))
            };
            let (in_turn, at_once) = (run(false), run(true));
            assert_eq!(at_once, in_turn, "{mode:?}");
            if mode != Mode::Cardinality {
                assert_eq!(at_once.0.match_count(), Some(50), "{mode:?}");
            }
        }
    }

    #[test]
    fn a_stall_is_an_error_not_a_hang() {
        // Two responders: each waits for the other's set, and neither sends anything.
        let params = DhParams::new(Mode::Mutual, [3; 32], 10, 10);
        let mut a = session(Role::Responder, &params, items(0..10), 1);
        let mut b = session(Role::Responder, &params, items(0..10), 2);
        let err = run_concurrently(&mut a, &mut b).expect_err("nobody sends");
        assert!(matches!(err, Error::Internal(_)), "{err}");
    }

    #[test]
    fn a_failing_side_stops_the_other_with_its_error() {
        // The responder expects 20 elements where the initiator sends 10: the responder
        // refuses the first message, and the initiator, waiting for an answer, stops too.
        let sent = DhParams::new(Mode::Mutual, [3; 32], 10, 10);
        let expected = DhParams::new(Mode::Mutual, [3; 32], 20, 10);
        let mut a = session(Role::Initiator, &sent, items(0..10), 1);
        let mut b = session(Role::Responder, &expected, items(0..10), 2);
        let err = run_concurrently(&mut a, &mut b).expect_err("the counts disagree");
        assert!(
            matches!(
                err,
                Error::PeerMisbehaved(PeerMisbehaved::WrongCount {
                    got: 10,
                    expected: 20,
                    ..
                })
            ),
            "the refusal itself: {err}"
        );
    }
}
