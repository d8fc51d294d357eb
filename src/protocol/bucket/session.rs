//! [`BucketedSession`]: one logical session run as `B` sub-sessions of the same protocol, at
//! most [`WINDOW`] of them open at a time (`protocol-spec/09-buckets.md` sections 9.5 to 9.7).
//!
//! A side opens buckets `0, 1, ...` in order: the first [`WINDOW`] at the start, and the next
//! each time one of its open buckets finishes (has sent and received everything), at once,
//! whether a message in or a message out finished it. A message is accepted only for an open
//! bucket: an honest peer opens bucket `b` only after `b - WINDOW + 1` of its buckets finished,
//! each of which it could finish only after we sent it everything for that bucket and it sent
//! us everything before its first message of `b`, so by then those buckets have finished here
//! too, and `b` is open.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::CryptoRng;

use crate::error::{BucketProblem, Error, PeerMisbehaved, Result};
use crate::protocol::dh::{DhOutput, DhParams};
use crate::protocol::{draw, Interrupt, ItemSet, Role, SansIo};

use super::assign::{bucket_of, sub_session_id, Layout};
use super::bound::{bucket_bound, check_bucket, MAX_BUCKETS};
use super::merge::Merged;
use super::message::BucketMessage;
use super::resume::{BucketLearned, BucketStart, FinishedBucket};
use super::sub::SubSession;

/// How many buckets a side keeps open at once: while one bucket's last messages are in
/// flight, the next one computes. Part of the protocol: a peer refuses a message for a
/// bucket beyond it.
pub const WINDOW: usize = 2;

/// A bucketed session for one party, driven through [`SansIo`] like the protocol it runs.
/// Memory holds the open buckets' sub-sessions (at most [`WINDOW`]), 4 bytes per item for the
/// assignment, and the matches so far.
pub(crate) struct BucketedSession<S> {
    role: Role,
    /// The logical session's parameters: its mode, session id, announced counts, chunk size.
    params: DhParams,
    buckets: u32,
    /// `(L(n_I, B), L(n_R, B))`.
    bounds: (usize, usize),
    items: ItemSet,
    layout: Layout,
    /// The open buckets, ascending, each with its sub-session.
    open: VecDeque<(u32, S)>,
    /// The next bucket to open.
    next: u32,
    rng: ChaCha20Rng,
    /// Handed to every bucket's sub-session.
    stop: Interrupt,
    merged: Merged,
    /// The buckets finished since the last [`BucketedSession::take_finished`], when the
    /// start asked to record them.
    finished: Option<Vec<FinishedBucket>>,
    failed: bool,
}

impl<S: SubSession> BucketedSession<S> {
    /// Starts a session for `role` over `buckets` buckets: assigns our items to buckets
    /// under `start`'s key, checks each fits its bound, takes the buckets `start` says are
    /// done, and opens the next [`WINDOW`] buckets. Every bucket's sub-session stops its long
    /// steps once `stop` is raised.
    ///
    /// # Errors
    /// [`Error::Config`] for parameters out of range (or `buckets` outside
    /// `1..=`[`MAX_BUCKETS`], more buckets done than there are, a done bucket naming an item
    /// we do not have, of another bucket, or out of order); [`Error::Input`] with [`crate::error::InputReason::SetSize`]
    /// when `items` has more distinct items than our announced count, and with
    /// [`crate::error::InputReason::BucketOverflow`] when a bucket holds more than its bound;
    /// [`Error::Cancelled`] once `stop` is raised: the assignment checks it every 16 384
    /// items, and each bucket's opening before it gathers the bucket's items.
    pub(crate) fn new<R: CryptoRng + ?Sized>(
        role: Role,
        params: DhParams,
        buckets: u32,
        items: ItemSet,
        start: BucketStart,
        rng: &mut R,
        stop: Interrupt,
    ) -> Result<Self> {
        params.validate()?;
        if buckets == 0 || buckets > MAX_BUCKETS {
            return Err(Error::config(
                crate::error::ConfigReason::Parameter,
                format!("{buckets} buckets is outside 1..={MAX_BUCKETS}"),
            ));
        }
        let own_count = match role {
            Role::Initiator => params.initiator_count,
            Role::Responder => params.responder_count,
        };
        items.check_fits(own_count)?;
        let bounds = (
            bucket_bound(params.initiator_count, buckets),
            bucket_bound(params.responder_count, buckets),
        );
        if start.done.len() > buckets as usize {
            return Err(Error::config(
                crate::error::ConfigReason::Parameter,
                format!(
                    "{} buckets are done of a session of {buckets}",
                    start.done.len()
                ),
            ));
        }
        // Each item a bucket done earlier found must be ours, of that bucket, and named once
        // in ascending order, as the bucket's own output gives them.
        let packed = items.items();
        let foreign = |(b, l): (usize, &BucketLearned)| match l {
            BucketLearned::Matches(m) => {
                m.windows(2).any(|w| w[0] >= w[1])
                    || m.iter().any(|&i| {
                        (i as usize) >= packed.len()
                            || bucket_of(&start.assignment_key, &packed[i as usize], buckets)
                                != b as u32
                    })
            }
            _ => false,
        };
        if start.done.iter().enumerate().any(foreign) {
            return Err(Error::config(
                crate::error::ConfigReason::Parameter,
                "a bucket done earlier names an item that is not ours, not of that bucket, or \
                 not in ascending order",
            ));
        }
        let layout = Layout::new(&start.assignment_key, &items, buckets, &stop)?;
        let (largest, count) = layout.largest();
        let own_bound = match role {
            Role::Initiator => bounds.0,
            Role::Responder => bounds.1,
        };
        check_bucket(largest, count, own_bound)?;
        let mut session = BucketedSession {
            role,
            params,
            buckets,
            bounds,
            items,
            layout,
            open: VecDeque::with_capacity(WINDOW),
            next: start.done.len() as u32,
            rng: ChaCha20Rng::from_seed(draw::array::<32, R>(rng)),
            stop,
            merged: Merged::new(),
            finished: start.record.then(Vec::new),
            failed: false,
        };
        for learned in &start.done {
            session.merged.seed(learned)?;
        }
        session.refill()?;
        Ok(session)
    }

    /// Opens buckets until [`WINDOW`] are open or none is left; a bucket finished as soon as
    /// it opens (VOLE-PSI with an empty side sends nothing) is merged at once.
    ///
    /// # Errors
    /// [`Error::Cancelled`] once `stop` is raised, checked before each bucket opens (gathering
    /// its items runs over a bucket's share of the set, its sub-session's start may be long).
    fn refill(&mut self) -> Result<()> {
        while self.open.len() < WINDOW && self.next < self.buckets {
            self.stop.check()?;
            let bucket = self.next;
            self.next += 1;
            let mut params = self.params.clone();
            params.session_id = sub_session_id(&self.params.session_id, bucket);
            (params.initiator_count, params.responder_count) = self.bounds;
            let items = self.layout.items(&self.items, bucket);
            let buckets = self.buckets as usize;
            let session = S::open(self.role, params, items, &mut self.rng, &self.stop, buckets)?;
            if session.is_finished() {
                self.retire(bucket, session)?;
            } else {
                self.open.push_back((bucket, session));
            }
        }
        Ok(())
    }

    /// Retires the open bucket at `pos` if it finished, and opens the next.
    fn settle(&mut self, pos: usize) -> Result<()> {
        if !self.open[pos].1.is_finished() {
            return Ok(());
        }
        let Some((bucket, session)) = self.open.remove(pos) else {
            return Err(Error::internal("a bucket vanished"));
        };
        self.retire(bucket, session)?;
        self.refill()
    }

    /// Merges a finished bucket's output, and keeps it for a checkpoint if asked to.
    fn retire(&mut self, bucket: u32, session: S) -> Result<()> {
        let learned = self
            .merged
            .add(bucket, session.into_output()?, &self.layout)?;
        if let Some(finished) = &mut self.finished {
            finished.push(FinishedBucket { bucket, learned });
        }
        Ok(())
    }

    /// The buckets that finished since the last call, in the order they finished (empty
    /// unless the start asked to record them, [`BucketStart::record`]).
    pub(crate) fn take_finished(&mut self) -> Vec<FinishedBucket> {
        self.finished
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn poll(&mut self) -> Result<Option<BucketMessage<S::Message>>> {
        for pos in 0..self.open.len() {
            let (bucket, session) = &mut self.open[pos];
            // A younger DH-PSI bucket sends only answers (its backlog) while an older one is
            // open ([`SubSession::IN_TURN`]).
            if pos > 0 && !S::IN_TURN && session.backlog() == 0 {
                continue;
            }
            if let Some(inner) = session.poll_outgoing()? {
                let bucket = *bucket;
                self.settle(pos)?;
                return Ok(Some(BucketMessage { bucket, inner }));
            }
        }
        Ok(None)
    }

    fn receive(&mut self, msg: BucketMessage<S::Message>) -> Result<()> {
        let bucket = msg.bucket;
        let refuse = |problem| Err(PeerMisbehaved::WrongBucket { bucket, problem }.into());
        if bucket >= self.buckets {
            return refuse(BucketProblem::OutOfRange {
                buckets: self.buckets,
            });
        }
        let Some(pos) = self.open.iter().position(|(b, _)| *b == bucket) else {
            return refuse(if bucket < self.next {
                BucketProblem::Finished
            } else {
                BucketProblem::NotOpen
            });
        };
        self.open[pos].1.handle(msg.inner)?;
        self.settle(pos)
    }

    /// The number of buckets.
    pub(crate) fn buckets(&self) -> u32 {
        self.buckets
    }

    /// How many buckets have finished: those opened and no longer open.
    pub(crate) fn finished_buckets(&self) -> u32 {
        self.next - self.open.len() as u32
    }

    /// The buckets open now, ascending.
    #[cfg(test)]
    pub(crate) fn open_buckets(&self) -> Vec<u32> {
        self.open.iter().map(|(b, _)| *b).collect()
    }

    /// How many of our items fell into `bucket`.
    #[cfg(test)]
    pub(crate) fn bucket_len(&self, bucket: u32) -> usize {
        self.layout.count(bucket)
    }
}

fn failed() -> Error {
    Error::internal("a bucketed session was used after it failed")
}

impl<S: SubSession> SansIo for BucketedSession<S> {
    type Message = BucketMessage<S::Message>;
    type Output = DhOutput;

    fn poll_outgoing(&mut self) -> Result<Option<Self::Message>> {
        if self.failed {
            return Err(failed());
        }
        let r = self.poll();
        self.failed = r.is_err();
        r
    }

    fn handle(&mut self, msg: Self::Message) -> Result<()> {
        if self.failed {
            return Err(failed());
        }
        let r = self.receive(msg);
        self.failed = r.is_err();
        r
    }

    fn is_finished(&self) -> bool {
        !self.failed && self.open.is_empty() && self.next == self.buckets
    }

    /// Every open bucket's queued messages, or only the oldest's for sub-sessions whose
    /// parties take turns ([`SubSession::IN_TURN`]).
    fn backlog(&self) -> usize {
        if S::IN_TURN {
            return self.open.front().map_or(0, |(_, s)| s.backlog());
        }
        self.open.iter().map(|(_, s)| s.backlog()).sum()
    }

    fn into_output(self) -> Result<DhOutput> {
        if self.failed {
            return Err(failed());
        }
        if !self.is_finished() {
            return Err(PeerMisbehaved::EarlyDone.into());
        }
        let (own, peer) = match self.role {
            Role::Initiator => self.bounds,
            Role::Responder => (self.bounds.1, self.bounds.0),
        };
        self.merged.finish(
            (self.role, self.params.mode),
            &self.items,
            self.buckets,
            (own, peer),
        )
    }
}
