//! The initiator's states (`protocol-spec/03-dh-psi.md`, "Initiator").
//!
//! ```text
//! InitiatorBlinding ──next_chunk──▶ … ──▶ InitiatorAwaitingReblinded ──handle(Reblinded)──▶ …
//!   ──▶ InitiatorAwaitingPeerSet ──handle(Blinded)──▶ … ──▶ DhOutput
//! ```
//! Each step consumes the state and returns the next one, with the message to send if any.

use rand_core::CryptoRng;

use crate::error::{Error, Result};
use crate::group::{batch, WireElement};
use crate::protocol::dh::element_set::ElementSet;
use crate::protocol::dh::message::DhMessage;
use crate::protocol::dh::output::{DhOutput, Learned};
use crate::protocol::dh::own_set::OwnSet;
use crate::protocol::dh::params::DhParams;
use crate::protocol::dh::tally::Tally;
use crate::protocol::{ItemSet, Mode, Role};

/// Step 1: the initiator sends its blinded set, one chunk per call.
pub struct InitiatorBlinding {
    params: DhParams,
    own: OwnSet,
}

/// Step 2: the initiator receives its own set back, re-blinded by the responder.
pub struct InitiatorAwaitingReblinded {
    params: DhParams,
    own: OwnSet,
    tally: Tally,
    own_doubly: Vec<WireElement>,
}

/// Step 3: the initiator receives the responder's blinded set and re-blinds it (returning it
/// in mutual mode).
pub struct InitiatorAwaitingPeerSet {
    params: DhParams,
    own: OwnSet,
    tally: Tally,
    own_doubly: Vec<WireElement>,
    /// The responder's set re-blinded by us, as received (tested against at the end).
    peer_doubly: Vec<WireElement>,
}

/// After [`InitiatorBlinding::next_chunk`].
pub enum InitiatorAfterChunk {
    /// More chunks to send.
    Blinding(InitiatorBlinding),
    /// The whole set is sent.
    AwaitingReblinded(InitiatorAwaitingReblinded),
}

/// After [`InitiatorAwaitingReblinded::handle`].
pub enum InitiatorAfterReblinded {
    /// More re-blinded chunks are due.
    AwaitingReblinded(InitiatorAwaitingReblinded),
    /// All arrived; the responder's set comes next.
    AwaitingPeerSet(InitiatorAwaitingPeerSet),
}

/// After [`InitiatorAwaitingPeerSet::handle`].
// A state moves once per chunk of thousands of elements: boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum InitiatorAfterPeerSet {
    /// More of the responder's set is due.
    AwaitingPeerSet(InitiatorAwaitingPeerSet),
    /// The session is over.
    Done(DhOutput),
}

impl InitiatorBlinding {
    /// Starts a session: draws the key, pads and shuffles the set.
    ///
    /// # Errors
    /// [`Error::Config`] for parameters out of range; [`Error::Input`] when `items` has more
    /// distinct items than `params.initiator_count`.
    pub fn new<R: CryptoRng + ?Sized>(
        params: DhParams,
        items: ItemSet,
        rng: &mut R,
    ) -> Result<Self> {
        params.validate()?;
        let own = OwnSet::new(items, params.initiator_count, rng)?;
        Ok(InitiatorBlinding { params, own })
    }

    /// Produces the next chunk of the blinded set (spec: "Round 1").
    pub fn next_chunk(mut self) -> (InitiatorAfterChunk, DhMessage) {
        // `new` and the transition below guarantee a chunk is due.
        let chunk = self
            .own
            .next_blinded_chunk(&self.params)
            .unwrap_or_default();
        let msg = DhMessage::Blinded(chunk);
        if self.own.all_sent(&self.params) {
            let tally = Tally::new(
                "the initiator's re-blinded set",
                self.own.count(),
                &self.params,
            );
            let next = InitiatorAwaitingReblinded {
                own_doubly: Vec::with_capacity(self.own.count()),
                params: self.params,
                own: self.own,
                tally,
            };
            (InitiatorAfterChunk::AwaitingReblinded(next), msg)
        } else {
            (InitiatorAfterChunk::Blinding(self), msg)
        }
    }
}

impl InitiatorAwaitingReblinded {
    /// Takes a chunk of the initiator's own set re-blinded by the responder (spec: "Round 2").
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] for a message of the wrong type or size, or an identity
    /// element.
    pub fn handle(mut self, msg: DhMessage) -> Result<InitiatorAfterReblinded> {
        let DhMessage::Reblinded(elements) = msg else {
            return Err(unexpected(&msg, DhMessage::REBLINDED));
        };
        self.tally.accept(elements.len())?;
        reject_identity(&elements, self.tally.elements() - elements.len())?;
        self.own_doubly.extend_from_slice(&elements);
        if !self.tally.is_complete() {
            return Ok(InitiatorAfterReblinded::AwaitingReblinded(self));
        }
        let tally = Tally::new(
            "the responder's blinded set",
            self.params.responder_count,
            &self.params,
        );
        Ok(InitiatorAfterReblinded::AwaitingPeerSet(
            InitiatorAwaitingPeerSet {
                peer_doubly: Vec::with_capacity(self.params.responder_count),
                params: self.params,
                own: self.own,
                tally,
                own_doubly: self.own_doubly,
            },
        ))
    }
}

impl InitiatorAwaitingPeerSet {
    /// Takes a chunk of the responder's blinded set, re-blinds it, and in mutual mode returns
    /// it (spec: "Round 3").
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] for a message of the wrong type or size;
    /// [`Error::LegacyInvalidElement`] for an element that does not decode or is the identity.
    pub fn handle(mut self, msg: DhMessage) -> Result<(InitiatorAfterPeerSet, Option<DhMessage>)> {
        let DhMessage::Blinded(elements) = msg else {
            return Err(unexpected(&msg, DhMessage::BLINDED));
        };
        let offset = self.tally.elements();
        self.tally.accept(elements.len())?;
        let doubly = batch::reblind(self.own.key(), &elements).map_err(|e| shift(e, offset))?;
        self.peer_doubly.extend_from_slice(&doubly);
        let reply = (self.params.mode == Mode::Mutual).then_some(DhMessage::Reblinded(doubly));
        if !self.tally.is_complete() {
            return Ok((InitiatorAfterPeerSet::AwaitingPeerSet(self), reply));
        }
        Ok((InitiatorAfterPeerSet::Done(self.finish()), reply))
    }

    fn finish(self) -> DhOutput {
        let items = self.own.items();
        let (own_unique, duplicates) = (items.len(), items.duplicates());
        let peer_doubly = ElementSet::new(self.peer_doubly);
        let learned = match self.params.mode {
            Mode::Cardinality => Learned::Cardinality(
                self.own_doubly
                    .iter()
                    .filter(|e| peer_doubly.contains(e))
                    .count(),
            ),
            Mode::Intersection | Mode::Mutual => {
                let matched = self
                    .own_doubly
                    .iter()
                    .enumerate()
                    .filter_map(|(pos, e)| self.own.match_at(pos, e, &peer_doubly))
                    .collect();
                Learned::Matches(self.own.into_matches(matched))
            }
        };
        DhOutput {
            role: Role::Initiator,
            mode: self.params.mode,
            own_unique,
            own_sent: self.params.initiator_count,
            peer_sent: self.params.responder_count,
            duplicates,
            learned,
        }
    }
}

/// The error for a message of the wrong type in a state.
pub(crate) fn unexpected(msg: &DhMessage, expected: &str) -> Error {
    Error::LegacyPeerMisbehaved(format!(
        "received a {} message where a {expected} message was due",
        msg.name()
    ))
}

/// Re-bases an element error's position from the message onto the whole set.
pub(crate) fn shift(e: Error, offset: usize) -> Error {
    match e {
        Error::LegacyInvalidElement { index, reason } => Error::LegacyInvalidElement {
            index: offset + index,
            reason,
        },
        other => other,
    }
}

/// Re-blinded elements are compared as bytes and never decoded; the identity (all-zero
/// encoding) is still refused, as the protocol never produces it.
pub(crate) fn reject_identity(elements: &[WireElement], offset: usize) -> Result<()> {
    match elements.iter().position(|e| e.0 == [0u8; 32]) {
        Some(i) => Err(Error::LegacyInvalidElement {
            index: offset + i,
            reason: crate::ElementError::Identity,
        }),
        None => Ok(()),
    }
}
