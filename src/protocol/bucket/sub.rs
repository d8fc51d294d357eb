//! The protocols a bucketed session can run in its buckets: DH-PSI (all three modes) and
//! VOLE-PSI (`intersection`, `mutual`), whose sessions take the same parameters
//! ([`DhParams`]) and give the same output ([`DhOutput`]).

use rand_chacha::ChaCha20Rng;

use crate::error::Result;
use crate::protocol::dh::{DhOutput, DhParams, DhSession};
use crate::protocol::vole_psi::VolePsiSession;
use crate::protocol::{Interrupt, ItemSet, Role, SansIo};

/// Which protocol runs in every bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketedProtocol {
    /// DH-PSI (`protocol-spec/03-dh-psi.md`).
    Dh,
    /// VOLE-PSI (`protocol-spec/08-vole-psi.md`).
    Vole,
}

/// A sub-protocol session: opened for one bucket with that bucket's parameters and items.
pub(crate) trait SubSession: SansIo<Output = DhOutput> + Sized {
    /// Whether the two parties of one sub-session take turns: at any time at most one of them
    /// has messages to send (VOLE-PSI: each message answers the last one). This one property
    /// sets both of a bucketed session's flow rules (spec 9.7):
    ///
    /// - **Which bucket sends.** Buckets of in-turn sub-sessions overlap freely. Otherwise
    ///   (DH-PSI, whose parties stream their sets at once) a bucket younger than the oldest
    ///   open one sends only answers, never its own set: two buckets streaming their own sets
    ///   in opposite directions fill both directions, each side's answers wait behind its own
    ///   elements, and under a driver's flow control neither takes input any more.
    /// - **When to read.** A bucketed session of in-turn sub-sessions reports as its backlog
    ///   only the oldest open bucket's ([`crate::protocol::SansIo::backlog`]): the side whose
    ///   oldest bucket has nothing to send keeps taking input, however much a younger bucket
    ///   has queued (its mask, say), so the oldest bucket always moves. A younger bucket's
    ///   queue stays bounded by its own protocol, whose every message answers one of the
    ///   peer's. Otherwise every open bucket's queue counts.
    const IN_TURN: bool;

    /// Starts the session of one of `buckets` buckets; its long steps, if it has any, stop
    /// once `stop` is raised.
    ///
    /// # Errors
    /// As the protocol's own constructor.
    fn open(
        role: Role,
        params: DhParams,
        items: ItemSet,
        rng: &mut ChaCha20Rng,
        stop: &Interrupt,
        buckets: usize,
    ) -> Result<Self>;
}

impl SubSession for DhSession {
    const IN_TURN: bool = false;

    /// DH-PSI's steps are one chunk each: the driver's check between steps is enough; it has
    /// no false matches, so the number of buckets changes nothing.
    fn open(
        role: Role,
        params: DhParams,
        items: ItemSet,
        rng: &mut ChaCha20Rng,
        _stop: &Interrupt,
        _buckets: usize,
    ) -> Result<Self> {
        DhSession::new(role, params, items, rng)
    }
}

impl SubSession for VolePsiSession {
    /// VOLE-PSI's messages are requests and their answers, a few at a time each way.
    const IN_TURN: bool = true;

    fn open(
        role: Role,
        params: DhParams,
        items: ItemSet,
        rng: &mut ChaCha20Rng,
        stop: &Interrupt,
        buckets: usize,
    ) -> Result<Self> {
        VolePsiSession::in_buckets(role, params, items, rng, stop.clone(), buckets)
    }
}
