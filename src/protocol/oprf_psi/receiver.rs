//! The receiver (`protocol-spec/07-oprf-psi.md` sections 7.5 and 7.11), as consuming typed
//! states behind one [`SansIo`] session:
//!
//! ```text
//! AwaitingParams ──handle(Params)──▶ Querying ──poll: Blinded / handle(Evaluated)──▶ …
//!   ──▶ AwaitingTags ──handle(Tags)──▶ … ──▶ ReceiverOutput
//! ```
//!
//! Real items and padding cost the same and are indistinguishable to the sender in content
//! and in timing: the receiver pads its set with random 32-byte strings, shuffles real and
//! padding entries together, blinds, decodes and finalizes every entry alike, and derives a tag
//! for each; only the tags of real items are looked up.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::label;
use super::message::{OprfPsiMessage, SenderParams, TagChunk};
use super::output::{OprfMatch, ReceiverOutput};
use super::params::OprfPsiParams;
use super::tags;
use crate::error::{Error, PeerMisbehaved, PolicyRule, Result};
use crate::group::WireElement;
use crate::oprf::client::{self, Blinded};
use crate::oprf::OprfOutput;
use crate::protocol::{draw, ItemSet, SansIo};

/// What the receiver accepts in the sender's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiverSetup {
    /// The session is labeled (the agreed mode is `labeled`).
    pub labeled: bool,
    /// The payload columns the receiver's policy lets the sender reveal; `None` accepts any
    /// (in-memory sessions without a policy).
    pub allowed_columns: Option<BTreeSet<String>>,
    /// The payload length the receiver's policy fixes for labeled sessions; `None` accepts
    /// the length the sender announces.
    pub payload_len: Option<usize>,
}

/// The receiver's entries in the order they are sent: real items and padding, shuffled.
struct Entries {
    items: ItemSet,
    /// Sent position -> distinct item `n` when `n < items.len()`, else padding
    /// `n - items.len()`.
    slots: Vec<u32>,
    padding: Vec<[u8; 32]>,
    blinds: Zeroizing<Vec<Scalar>>,
}

impl Entries {
    fn bytes(&self, slot: u32) -> &[u8] {
        let n = slot as usize;
        match n.checked_sub(self.items.len()) {
            None => &self.items.items()[n],
            Some(d) => &self.padding[d],
        }
    }

    fn chunk(&self, params: &OprfPsiParams, i: usize) -> std::ops::Range<usize> {
        let start = i * params.chunk_size;
        start..start + params.chunk_len(params.receiver_count, i)
    }
}

/// Waiting for the sender's parameters.
pub struct AwaitingParams {
    params: OprfPsiParams,
    setup: ReceiverSetup,
    entries: Entries,
}

/// Sending `Blinded` chunks and finalizing the `Evaluated` answers, in order.
pub struct Querying {
    params: OprfPsiParams,
    entries: Entries,
    /// The blind state of each chunk sent and not yet answered, oldest first.
    pending: std::collections::VecDeque<Blinded>,
    sent: usize,
    evaluated: usize,
    lookup: HashMap<u128, Vec<usize>>,
    /// Labeled mode: the OPRF output of each real item, for its label key.
    outputs: Vec<Option<OprfOutput>>,
    columns: Vec<String>,
}

/// Every `Evaluated` arrived: the sender's tags come next.
pub struct AwaitingTags {
    params: OprfPsiParams,
    items: ItemSet,
    lookup: HashMap<u128, Vec<usize>>,
    outputs: Vec<Option<OprfOutput>>,
    received: usize,
    peer_received: usize,
    prev: u128,
    matches: BTreeMap<usize, Option<Vec<u8>>>,
    label_failures: usize,
    columns: Vec<String>,
}

/// After [`Querying::on_evaluated`].
// Moved once per chunk or effect, never stored in bulk: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AfterEvaluated {
    /// More answers are due.
    Querying(Querying),
    /// Every answer arrived.
    AwaitingTags(AwaitingTags),
}

/// After [`AwaitingTags::on_tags`].
// Moved once per chunk, never stored in bulk: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AfterTags {
    /// More tags are due.
    AwaitingTags(AwaitingTags),
    /// The session is over.
    Done(ReceiverOutput),
}

fn unexpected(expected: &'static str, got: &OprfPsiMessage) -> Error {
    PeerMisbehaved::UnexpectedMessage {
        expected,
        got: got.name(),
    }
    .into()
}

impl AwaitingParams {
    /// Draws, in this order: the padding strings (32 bytes each), the shuffle of all
    /// `receiver_count` entries, and one blind per entry in sending order.
    ///
    /// # Errors
    /// [`crate::Error::Config`] for parameters out of range; [`crate::Error::Input`] if the
    /// receiver has more distinct items than `params.receiver_count`.
    pub fn new<R: CryptoRng + ?Sized>(
        params: OprfPsiParams,
        setup: ReceiverSetup,
        items: ItemSet,
        rng: &mut R,
    ) -> Result<Self> {
        params.validate()?;
        items.check_fits(params.receiver_count)?;
        let padding = draw::byte_strings::<32, R>(rng, params.receiver_count - items.len());
        let mut slots: Vec<u32> = (0..params.receiver_count as u32).collect();
        draw::shuffle(rng, &mut slots);
        let blinds = Zeroizing::new(draw::scalars(rng, slots.len()));
        Ok(AwaitingParams {
            params,
            setup,
            entries: Entries {
                items,
                slots,
                padding,
                blinds,
            },
        })
    }

    /// Takes the sender's parameters (section 7.11): refuses a payload column outside the
    /// allowed ones before anything is sent.
    ///
    /// # Errors
    /// [`PeerMisbehaved::ParamsContradictMode`] if labeled-ness differs from the agreed mode;
    /// [`Error::PolicyRefused`] (rule `revealable_columns`) for a column not allowed;
    /// [`crate::Error::Config`] if the payload length does not fit the agreed chunk size.
    pub fn on_params(self, msg: SenderParams) -> Result<Querying> {
        let AwaitingParams {
            mut params,
            setup,
            entries,
        } = self;
        if msg.payload_len.is_some() != setup.labeled {
            return Err(PeerMisbehaved::ParamsContradictMode.into());
        }
        if let (Some(want), Some(got)) = (setup.payload_len, msg.payload_len) {
            if want != got {
                return Err(Error::refused(
                    PolicyRule::PayloadLen,
                    format!(
                        "the sender pads payloads to {got} bytes; the policy fixes {want}, so \
                         the length itself says nothing about the data"
                    ),
                ));
            }
        }
        if let Some(allowed) = &setup.allowed_columns {
            if let Some(c) = msg.columns.iter().find(|c| !allowed.contains(*c)) {
                return Err(Error::refused(
                    PolicyRule::RevealableColumns,
                    format!(
                        "the sender's payloads carry column `{c}`, which the policy does not \
                         allow to be revealed"
                    ),
                ));
            }
        }
        params.payload_len = msg.payload_len;
        params.validate()?;
        let labeled = params.payload_len.is_some();
        let outputs = if labeled {
            vec![None; entries.items.len()]
        } else {
            Vec::new()
        };
        Ok(Querying {
            params,
            entries,
            pending: Default::default(),
            sent: 0,
            evaluated: 0,
            lookup: HashMap::new(),
            outputs,
            columns: msg.columns,
        })
    }
}

impl Querying {
    fn chunks(&self) -> usize {
        self.params.chunk_count(self.params.receiver_count)
    }

    /// The next `Blinded` chunk, if one is still to be sent.
    ///
    /// # Errors
    /// [`crate::Error::Input`] if an item is longer than 65535 bytes or hashes to the
    /// identity.
    pub fn next_blinded(&mut self) -> Result<Option<OprfPsiMessage>> {
        if self.sent == self.chunks() {
            return Ok(None);
        }
        let range = self.entries.chunk(&self.params, self.sent);
        let inputs: Vec<&[u8]> = self.entries.slots[range.clone()]
            .iter()
            .map(|&s| self.entries.bytes(s))
            .collect();
        let (state, elements) = client::blind_with(
            self.params.suite,
            &inputs,
            self.entries.blinds[range].to_vec(),
        )?;
        self.pending.push_back(state);
        self.sent += 1;
        Ok(Some(OprfPsiMessage::Blinded(elements)))
    }

    /// Finalizes the answer to the oldest unanswered chunk: every element is decoded and
    /// validated, every entry gets its tag, and the tags of real items are kept for lookup.
    ///
    /// # Errors
    /// [`PeerMisbehaved::UnexpectedMessage`] for an answer to a chunk not yet sent;
    /// [`PeerMisbehaved::WrongCount`]; [`PeerMisbehaved::InvalidElement`] for an element that
    /// does not decode or is the identity.
    pub fn on_evaluated(mut self, evaluated: Vec<WireElement>) -> Result<AfterEvaluated> {
        let Some(state) = self.pending.pop_front() else {
            return Err(PeerMisbehaved::UnexpectedMessage {
                expected: OprfPsiMessage::BLINDED,
                got: OprfPsiMessage::EVALUATED,
            }
            .into());
        };
        let i = self.evaluated;
        let range = self.entries.chunk(&self.params, i);
        if evaluated.len() != range.len() {
            return Err(PeerMisbehaved::WrongCount {
                what: "an Evaluated message",
                got: evaluated.len() as u64,
                expected: range.len() as u64,
            }
            .into());
        }
        let slots = &self.entries.slots[range.clone()];
        let inputs: Vec<&[u8]> = slots.iter().map(|&s| self.entries.bytes(s)).collect();
        let outputs = state.finalize(&inputs, &evaluated).map_err(|e| match e {
            Error::PeerMisbehaved(PeerMisbehaved::InvalidElement { index, reason }) => {
                PeerMisbehaved::InvalidElement {
                    index: range.start + index,
                    reason,
                }
                .into()
            }
            other => other,
        })?;
        let bits = self.params.tag_bits();
        let real = self.entries.items.len();
        for (&slot, out) in slots.iter().zip(outputs) {
            // Every entry's tag is derived, so real and padding entries cost the same.
            let t = tags::truncate(tags::full_tag(&out), bits);
            let n = slot as usize;
            if n < real {
                self.lookup.entry(t).or_default().push(n);
                if let Some(o) = self.outputs.get_mut(n) {
                    *o = Some(out);
                }
            }
        }
        self.evaluated += 1;
        if self.evaluated < self.chunks() {
            return Ok(AfterEvaluated::Querying(self));
        }
        Ok(AfterEvaluated::AwaitingTags(AwaitingTags {
            params: self.params,
            items: self.entries.items,
            lookup: self.lookup,
            outputs: self.outputs,
            received: 0,
            peer_received: 0,
            prev: 0,
            matches: BTreeMap::new(),
            label_failures: 0,
            columns: self.columns,
        }))
    }
}

impl AwaitingTags {
    /// Takes a chunk of the sender's tags and looks up the receiver's own.
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] for a chunk of the wrong size;
    /// [`PeerMisbehaved::MalformedMessage`] for a tag code that does not decode.
    pub fn on_tags(mut self, chunk: TagChunk) -> Result<AfterTags> {
        let i = self.received;
        let len = self.params.chunk_len(self.params.sender_count, i);
        let ct_len = self.params.ciphertext_len();
        if chunk.count != len {
            return Err(PeerMisbehaved::WrongCount {
                what: "a Tags message",
                got: chunk.count as u64,
                expected: len as u64,
            }
            .into());
        }
        if chunk.ciphertexts.len() != len * ct_len {
            return Err(PeerMisbehaved::WrongCount {
                what: "the ciphertext bytes of a Tags message",
                got: chunk.ciphertexts.len() as u64,
                expected: (len * ct_len) as u64,
            }
            .into());
        }
        let values = tags::decode(
            &chunk.code,
            len,
            self.params.tag_bits(),
            self.params.rice_bits(),
            &mut self.prev,
        )?;
        for (pos, t) in values.iter().enumerate() {
            let Some(found) = self.lookup.get(t) else {
                continue;
            };
            for &u in found {
                if self.params.payload_len.is_none() {
                    self.matches.insert(u, None);
                    continue;
                }
                let Some(Some(out)) = self.outputs.get(u) else {
                    continue;
                };
                let key = label::label_key(out);
                let ct = &chunk.ciphertexts[pos * ct_len..(pos + 1) * ct_len];
                match label::open(&key, &self.params.session_id, ct) {
                    Some(payload) => {
                        self.matches.insert(u, Some(payload));
                    }
                    None => self.label_failures += 1,
                }
            }
        }
        self.peer_received += len;
        self.received += 1;
        if self.received < self.params.chunk_count(self.params.sender_count) {
            return Ok(AfterTags::AwaitingTags(self));
        }
        Ok(AfterTags::Done(self.finish()))
    }

    fn finish(self) -> ReceiverOutput {
        let items = &self.items;
        let mut matches: Vec<OprfMatch> = self
            .matches
            .into_iter()
            .map(|(u, payload)| OprfMatch {
                item: items.items()[u].to_vec(),
                input_indices: items.input_indices(u),
                payload,
            })
            .collect();
        matches.sort_by_key(|m| m.input_indices[0]);
        ReceiverOutput {
            own_unique: items.len(),
            own_sent: self.params.receiver_count,
            peer_sent: self.peer_received,
            duplicates: items.duplicates(),
            matches,
            columns: self.columns,
            label_failures: self.label_failures,
        }
    }
}

enum State {
    AwaitingParams(AwaitingParams),
    Querying(Querying),
    AwaitingTags(AwaitingTags),
    Done(ReceiverOutput),
    Failed,
}

/// The receiver's session: its typed states behind [`SansIo`]. Messages in: `Params`, then
/// one `Evaluated` per `Blinded`, then the sender's `Tags`. Messages out: `Blinded` chunks.
pub struct OprfReceiver {
    state: State,
}

impl std::fmt::Debug for OprfReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OprfReceiver")
    }
}

impl OprfReceiver {
    /// A receiver session over `items` (see [`AwaitingParams::new`] for the draws).
    ///
    /// # Errors
    /// As [`AwaitingParams::new`].
    pub fn new<R: CryptoRng + ?Sized>(
        params: OprfPsiParams,
        setup: ReceiverSetup,
        items: ItemSet,
        rng: &mut R,
    ) -> Result<Self> {
        Ok(OprfReceiver {
            state: State::AwaitingParams(AwaitingParams::new(params, setup, items, rng)?),
        })
    }

    fn step(&mut self, msg: OprfPsiMessage) -> Result<()> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        self.state = match (state, msg) {
            (State::AwaitingParams(s), OprfPsiMessage::Params(p)) => {
                State::Querying(s.on_params(p)?)
            }
            (State::Querying(s), OprfPsiMessage::Evaluated(e)) => match s.on_evaluated(e)? {
                AfterEvaluated::Querying(s) => State::Querying(s),
                AfterEvaluated::AwaitingTags(s) => State::AwaitingTags(s),
            },
            (State::AwaitingTags(s), OprfPsiMessage::Tags(t)) => match s.on_tags(t)? {
                AfterTags::AwaitingTags(s) => State::AwaitingTags(s),
                AfterTags::Done(out) => State::Done(out),
            },
            (State::AwaitingParams(_), m) => return Err(unexpected(OprfPsiMessage::PARAMS, &m)),
            (State::Querying(_), m) => return Err(unexpected(OprfPsiMessage::EVALUATED, &m)),
            (State::AwaitingTags(_), m) => return Err(unexpected(OprfPsiMessage::TAGS, &m)),
            (State::Done(_), _) => {
                return Err(PeerMisbehaved::TooMuchData {
                    what: "the sender's messages",
                }
                .into())
            }
            (State::Failed, _) => return Err(failed()),
        };
        Ok(())
    }
}

fn failed() -> Error {
    Error::internal("an OPRF-PSI receiver was used after it failed")
}

impl SansIo for OprfReceiver {
    type Message = OprfPsiMessage;
    type Output = ReceiverOutput;

    fn poll_outgoing(&mut self) -> Result<Option<OprfPsiMessage>> {
        let r = match &mut self.state {
            State::Querying(s) => s.next_blinded(),
            State::Failed => Err(failed()),
            _ => Ok(None),
        };
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn handle(&mut self, msg: OprfPsiMessage) -> Result<()> {
        let r = self.step(msg);
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    fn into_output(self) -> Result<ReceiverOutput> {
        match self.state {
            State::Done(out) => Ok(out),
            State::Failed => Err(failed()),
            _ => Err(PeerMisbehaved::EarlyDone.into()),
        }
    }
}
