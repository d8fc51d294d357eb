//! The responder's states (`protocol-spec/03-dh-psi.md`, "Responder").
//!
//! ```text
//! ResponderAwaitingPeerSet ──handle(Blinded)──▶ … ──▶ ResponderBlinding ──next_chunk──▶ …
//!   ──▶ DhOutput                                   (intersection, cardinality)
//!   ──▶ ResponderAwaitingReblinded ──handle(Reblinded)──▶ … ──▶ DhOutput   (mutual)
//! ```

use rand_core::CryptoRng;

use crate::error::Result;
use crate::group::{batch, WireElement};
use crate::protocol::dh::element_set::ElementSet;
use crate::protocol::dh::initiator::{reject_identity, shift, unexpected};
use crate::protocol::dh::message::DhMessage;
use crate::protocol::dh::output::{DhOutput, Learned};
use crate::protocol::dh::own_set::OwnSet;
use crate::protocol::dh::params::DhParams;
use crate::protocol::dh::tally::Tally;
use crate::protocol::{draw, ItemSet, Mode, Role};

/// Step 1: the responder receives the initiator's blinded set and returns it re-blinded.
pub struct ResponderAwaitingPeerSet {
    params: DhParams,
    own: OwnSet,
    tally: Tally,
    /// Mutual mode: the initiator's doubly-blinded set, to compare against.
    /// Cardinality mode: the re-blinded set, held back to be shuffled.
    kept: Vec<WireElement>,
    /// Cardinality mode: the seed of the reply's order, drawn with the key; the order is
    /// shuffled from it once every element arrived, so nothing the size of the announced set
    /// is held before the elements do.
    reply_seed: Option<[u8; 32]>,
}

/// Step 2: the responder sends its blinded set, one chunk per call.
pub struct ResponderBlinding {
    params: DhParams,
    own: OwnSet,
    peer_doubly: ElementSet,
}

/// Step 3 (mutual mode): the responder receives its own set back, re-blinded.
pub struct ResponderAwaitingReblinded {
    params: DhParams,
    own: OwnSet,
    tally: Tally,
    peer_doubly: ElementSet,
    matched: Vec<usize>,
}

/// After [`ResponderAwaitingPeerSet::handle`].
pub enum ResponderAfterPeerSet {
    /// More of the initiator's set is due.
    AwaitingPeerSet(ResponderAwaitingPeerSet),
    /// All of it arrived; the responder sends its own set next.
    Blinding(ResponderBlinding),
}

/// After [`ResponderBlinding::next_chunk`].
pub enum ResponderAfterChunk {
    /// More chunks to send.
    Blinding(ResponderBlinding),
    /// Mutual mode: the whole set is sent and comes back re-blinded.
    AwaitingReblinded(ResponderAwaitingReblinded),
    /// The session is over for the responder.
    Done(DhOutput),
}

/// After [`ResponderAwaitingReblinded::handle`].
// A state moves once per chunk of thousands of elements: boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ResponderAfterReblinded {
    /// More re-blinded chunks are due.
    AwaitingReblinded(ResponderAwaitingReblinded),
    /// The session is over.
    Done(DhOutput),
}

impl ResponderAwaitingPeerSet {
    /// Starts a session: draws the key, pads and shuffles the set, and in cardinality mode
    /// draws a 32-byte reply seed (`protocol-spec/03-dh-psi.md` 3.3: the reply order is a
    /// `draw::shuffle` of the positions `0 .. initiator_count` over the seed's
    /// `SHAKE256(lp8(DH_PSI_REPLY_ORDER) || seed)` stream, once every element arrived).
    ///
    /// # Errors
    /// [`crate::Error::Config`] for parameters out of range; [`crate::Error::Input`] when
    /// `items` has more distinct items than `params.responder_count`.
    pub fn new<R: CryptoRng + ?Sized>(
        params: DhParams,
        items: ItemSet,
        rng: &mut R,
    ) -> Result<Self> {
        params.validate()?;
        let own = OwnSet::new(items, params.responder_count, rng)?;
        let reply_seed = params
            .mode
            .responder_shuffles_reply()
            .then(|| draw::array::<32, R>(rng));
        let tally = Tally::new(
            "the initiator's blinded set",
            params.initiator_count,
            &params,
        );
        // Grows with the elements that arrive, never with the announced count.
        let kept = Vec::new();
        Ok(ResponderAwaitingPeerSet {
            params,
            own,
            tally,
            kept,
            reply_seed,
        })
    }

    /// Takes a chunk of the initiator's blinded set and answers with it re-blinded, in the
    /// order received; in cardinality mode all answers come with the last chunk, shuffled
    /// (spec: "Round 2").
    ///
    /// # Errors
    /// [`crate::Error::PeerMisbehaved`] for a message of the wrong type or size;
    /// [`crate::error::PeerMisbehaved::InvalidElement`] for an element that does not decode or is the
    /// identity.
    pub fn handle(mut self, msg: DhMessage) -> Result<(ResponderAfterPeerSet, Vec<DhMessage>)> {
        let DhMessage::Blinded(elements) = msg else {
            return Err(unexpected(&msg, DhMessage::BLINDED));
        };
        let offset = self.tally.elements();
        self.tally.accept(elements.len())?;
        let doubly = batch::reblind(self.own.key(), &elements).map_err(|e| shift(e, offset))?;
        let mut replies = Vec::new();
        match self.params.mode {
            Mode::Intersection => replies.push(DhMessage::Reblinded(doubly)),
            Mode::Mutual => {
                self.kept.extend_from_slice(&doubly);
                replies.push(DhMessage::Reblinded(doubly));
            }
            Mode::Cardinality => self.kept.extend_from_slice(&doubly),
        }
        if !self.tally.is_complete() {
            return Ok((ResponderAfterPeerSet::AwaitingPeerSet(self), replies));
        }
        let mut kept = std::mem::take(&mut self.kept);
        if self.params.mode.responder_shuffles_reply() {
            // `validate` bounds the count by MAX_SET_SIZE, far below 2^32.
            let mut order: Vec<u32> = (0..kept.len() as u32).collect();
            if let Some(seed) = self.reply_seed.take() {
                let mut stream = draw::SeedStream::new(crate::dst::DH_PSI_REPLY_ORDER, &seed);
                draw::shuffle(&mut stream, &mut order);
            }
            let lengths: Vec<usize> = self.params.chunk_lengths(order.len()).collect();
            let mut rest = order.as_slice();
            for len in lengths {
                let (chunk, tail) = rest.split_at(len);
                let chunk = chunk.iter().map(|&i| kept[i as usize]).collect();
                replies.push(DhMessage::Reblinded(chunk));
                rest = tail;
            }
            kept.clear();
        }
        let next = ResponderBlinding {
            params: self.params,
            own: self.own,
            peer_doubly: ElementSet::new(kept),
        };
        Ok((ResponderAfterPeerSet::Blinding(next), replies))
    }
}

impl ResponderBlinding {
    /// Produces the next chunk of the responder's blinded set (spec: "Round 2").
    pub fn next_chunk(mut self) -> (ResponderAfterChunk, DhMessage) {
        let chunk = self
            .own
            .next_blinded_chunk(&self.params)
            .unwrap_or_default();
        let msg = DhMessage::Blinded(chunk);
        if !self.own.all_sent(&self.params) {
            return (ResponderAfterChunk::Blinding(self), msg);
        }
        if self.params.mode.responder_learns() {
            let tally = Tally::new(
                "the responder's re-blinded set",
                self.own.count(),
                &self.params,
            );
            let next = ResponderAwaitingReblinded {
                params: self.params,
                own: self.own,
                tally,
                peer_doubly: self.peer_doubly,
                matched: Vec::new(),
            };
            return (ResponderAfterChunk::AwaitingReblinded(next), msg);
        }
        let output = output(&self.params, &self.own, Learned::Nothing);
        (ResponderAfterChunk::Done(output), msg)
    }
}

impl ResponderAwaitingReblinded {
    /// Takes a chunk of the responder's own set re-blinded by the initiator (mutual mode,
    /// spec: "Round 3").
    ///
    /// # Errors
    /// [`crate::Error::PeerMisbehaved`] for a message of the wrong type or size, or an
    /// identity element.
    pub fn handle(mut self, msg: DhMessage) -> Result<ResponderAfterReblinded> {
        let DhMessage::Reblinded(elements) = msg else {
            return Err(unexpected(&msg, DhMessage::REBLINDED));
        };
        let offset = self.tally.elements();
        self.tally.accept(elements.len())?;
        reject_identity(&elements, offset)?;
        for (i, e) in elements.iter().enumerate() {
            if let Some(n) = self.own.match_at(offset + i, e, &self.peer_doubly) {
                self.matched.push(n);
            }
        }
        if !self.tally.is_complete() {
            return Ok(ResponderAfterReblinded::AwaitingReblinded(self));
        }
        let partial = output(&self.params, &self.own, Learned::Nothing);
        let matches = self.own.into_matches(self.matched);
        Ok(ResponderAfterReblinded::Done(DhOutput {
            learned: Learned::Matches(matches),
            ..partial
        }))
    }
}

fn output(params: &DhParams, own: &OwnSet, learned: Learned) -> DhOutput {
    DhOutput {
        role: Role::Responder,
        mode: params.mode,
        own_unique: own.items().len(),
        own_sent: params.responder_count,
        peer_sent: params.initiator_count,
        duplicates: own.items().duplicates(),
        learned,
    }
}
