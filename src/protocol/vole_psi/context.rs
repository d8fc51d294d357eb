//! What both roles' steps share: the session's parameters, items, generator and outgoing
//! queue ([`Context`]), what a step leads to ([`Step`]), and the output and errors of both.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::CryptoRng;

use crate::error::{Error, PeerMisbehaved, Result};
use crate::protocol::dh::{DhOutput, DhParams, Learned};
use crate::protocol::{draw, Interrupt, ItemSet, Matches, Mode, Role};

use super::message::{Kind, VoleMessage};

/// A role's state after a step: still running, or done with its output.
pub(crate) enum Step<S> {
    Running(S),
    Done(DhOutput),
}

/// Everything a step reads or adds to besides its typed state.
pub(crate) struct Context {
    pub(crate) role: Role,
    pub(crate) params: DhParams,
    pub(crate) items: ItemSet,
    pub(crate) rng: ChaCha20Rng,
    pub(crate) outbox: VecDeque<VoleMessage>,
    /// Raised to stop the long steps between batches (Ctrl-C, a dropped session).
    pub(crate) stop: Interrupt,
    /// How many VOLE-PSI runs share the session's false-match bound: the buckets of a
    /// bucketed session (spec 9), 1 otherwise.
    pub(crate) sessions: usize,
}

impl Context {
    /// Checks the parameters (DH-PSI's limits, and a mode VOLE-PSI has) for one of `sessions`
    /// runs sharing the false-match bound, and seeds the
    /// session's own generator from `rng`: the steps that draw run when the peer's messages
    /// arrive, long after the caller's generator was lent.
    ///
    /// # Errors
    /// [`Error::Config`] for parameters out of range.
    pub(crate) fn new<R: CryptoRng + ?Sized>(
        role: Role,
        params: DhParams,
        items: ItemSet,
        rng: &mut R,
        stop: Interrupt,
        sessions: usize,
    ) -> Result<Self> {
        params.validate()?;
        if params.mode == Mode::Cardinality {
            return Err(Error::internal("VOLE-PSI has no cardinality mode"));
        }
        Ok(Context {
            role,
            params,
            items,
            rng: ChaCha20Rng::from_seed(draw::array::<32, R>(rng)),
            outbox: VecDeque::new(),
            stop,
            sessions: sessions.max(1),
        })
    }

    /// Our announced count.
    pub(crate) fn own_count(&self) -> usize {
        match self.role {
            Role::Initiator => self.params.initiator_count,
            Role::Responder => self.params.responder_count,
        }
    }

    /// True when an announced count is zero: no message is exchanged.
    pub(crate) fn is_empty(&self) -> bool {
        self.params.initiator_count == 0 || self.params.responder_count == 0
    }

    /// Our items as the PSI takes them, padded with 32-byte random dummies
    /// (`draw::byte_strings`) up to our announced count.
    ///
    /// # Errors
    /// [`crate::error::InputReason::SetSize`] when there are more distinct items.
    pub(crate) fn padded(&mut self) -> Result<Vec<Vec<u8>>> {
        let count = self.own_count();
        self.items.check_fits(count)?;
        let mut out: Vec<Vec<u8>> = self.items.items().iter().map(<[u8]>::to_vec).collect();
        out.extend(
            draw::byte_strings::<32, _>(&mut self.rng, count - self.items.len())
                .into_iter()
                .map(Vec::from),
        );
        Ok(out)
    }

    /// What the session gives this party (DH-PSI's shape): `matched` are positions in the
    /// padded list (dummies are left out here), `None` when this party learns nothing.
    pub(crate) fn output(&self, matched: Option<Vec<usize>>) -> DhOutput {
        let real = self.items.len();
        let (own_sent, peer_sent) = match self.role {
            Role::Initiator => (self.params.initiator_count, self.params.responder_count),
            Role::Responder => (self.params.responder_count, self.params.initiator_count),
        };
        DhOutput {
            role: self.role,
            mode: self.params.mode,
            own_unique: real,
            own_sent,
            peer_sent,
            duplicates: self.items.duplicates(),
            learned: match matched {
                Some(m) => Learned::Matches(Matches::new(
                    &self.items,
                    m.into_iter().filter(|&i| i < real).collect(),
                )),
                None => Learned::Nothing,
            },
        }
    }
}

/// A message of the wrong kind for the state.
pub(crate) fn unexpected(expected: Kind, got: Kind) -> Error {
    PeerMisbehaved::UnexpectedMessage {
        expected: expected.name(),
        got: got.name(),
    }
    .into()
}
