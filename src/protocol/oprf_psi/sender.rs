//! The sender (`protocol-spec/07-oprf-psi.md` sections 7.5 and 7.11), as consuming typed
//! states behind one [`SansIo`] session:
//!
//! ```text
//! Announcing ──poll: Params──▶ Evaluating ──handle(Blinded) / poll: Evaluated──▶ …
//!   ──▶ SendingTags ──poll: Tags──▶ … ──▶ SenderOutput
//! ```
//!
//! The sender's tags are its items' truncated tags, merged in ascending order with padding tags
//! drawn uniformly, Rice coded, with an AEAD ciphertext per tag in labeled mode.

use std::collections::VecDeque;
use std::sync::Arc;

use rand_core::{CryptoRng, Rng};
use rayon::prelude::*;

use super::label;
use super::message::{OprfPsiMessage, SenderParams, TagChunk};
use super::output::SenderOutput;
use super::params::OprfPsiParams;
use super::prepared::PreparedSender;
use super::tags;
use crate::error::{ConfigReason, Error, InputReason, PeerMisbehaved, Result};
use crate::group::WireElement;
use crate::protocol::draw::{self, SeedStream};
use crate::protocol::SansIo;

/// The sender's first step: its parameters are to be announced.
pub struct Announcing {
    params: OprfPsiParams,
    set: Arc<PreparedSender>,
    columns: Vec<String>,
    padding: Vec<u128>,
    rng: SeedStream,
}

/// Answering each `Blinded` chunk with its `Evaluated` chunk, in order.
pub struct Evaluating {
    tags: TagStream,
    queue: VecDeque<Vec<WireElement>>,
    received: usize,
    evaluated: usize,
}

/// Every `Blinded` chunk was answered: the tags go out.
pub struct SendingTags {
    tags: TagStream,
    sent: usize,
}

/// The sender's set and padding as a sorted stream of truncated tags.
struct TagStream {
    params: OprfPsiParams,
    set: Arc<PreparedSender>,
    padding: Vec<u128>,
    real_pos: usize,
    padding_pos: usize,
    prev: u128,
    rng: SeedStream,
}

enum Entry {
    Real(usize),
    Padding,
}

impl Announcing {
    /// A sender session over a prepared set (one set may serve many sessions). Draws, in this
    /// order: the padding tags (16 bytes each, read as a big-endian integer, truncated to the
    /// tag length) unless the set stores its padding (a precomputed index, whose first
    /// `sender_count - len` stored values are used instead, section 7.8.3), then a 32-byte
    /// seed whose stream `SHAKE256(lp8(OPRF_PSI_PADDING) || seed)` gives, read in order, the
    /// padding ciphertexts of the labeled mode.
    ///
    /// # Errors
    /// [`crate::Error::Config`] for parameters out of range, a suite other than the set's, or
    /// labeled mode over an unlabeled set, or (with [`ConfigReason::IndexPadding`]) fewer
    /// stored padding values than the session needs; [`crate::Error::Input`] if the set has
    /// more items than `params.sender_count` or a payload longer than `params.payload_len`.
    pub fn new<R: CryptoRng + ?Sized>(
        params: OprfPsiParams,
        set: Arc<PreparedSender>,
        columns: Vec<String>,
        rng: &mut R,
    ) -> Result<Self> {
        params.validate()?;
        if params.suite != set.suite() {
            return Err(Error::config(
                ConfigReason::Conflict,
                format!(
                    "the session uses suite {} but the prepared set was computed with {}",
                    params.suite,
                    set.suite()
                ),
            ));
        }
        if set.len() > params.sender_count {
            return Err(Error::input(
                InputReason::SetSize,
                format!(
                    "{} distinct items exceed the agreed sender count of {}",
                    set.len(),
                    params.sender_count
                ),
            ));
        }
        if let Some(len) = params.payload_len {
            if !set.is_labeled() {
                return Err(Error::config(
                    ConfigReason::Conflict,
                    "labeled mode needs a set prepared with payloads",
                ));
            }
            if set.max_payload_len() > len {
                return Err(Error::input(
                    InputReason::Payload,
                    format!(
                        "a payload of {} bytes exceeds the session's payload length of {len}",
                        set.max_payload_len()
                    ),
                ));
            }
        }
        set.check_padding(params.sender_count)?;
        let bits = params.tag_bits();
        let need = params.sender_count - set.len();
        let mut padding: Vec<u128> = match set.stored_padding() {
            // A precomputed index: the first `need` stored values, the same in every session.
            Some(stored) => stored[..need]
                .iter()
                .map(|v| tags::truncate(*v, bits))
                .collect(),
            None => draw::byte_strings::<16, R>(rng, need)
                .into_iter()
                .map(|b| tags::truncate(u128::from_be_bytes(b), bits))
                .collect(),
        };
        padding.sort_unstable();
        let seed = draw::array::<32, R>(rng);
        let columns = if params.payload_len.is_some() {
            columns
        } else {
            Vec::new()
        };
        Ok(Announcing {
            params,
            set,
            columns,
            padding,
            rng: SeedStream::new(crate::dst::OPRF_PSI_PADDING, &seed),
        })
    }

    /// The `Params` message, and the state that answers the receiver's chunks.
    pub fn announce(self) -> (Evaluating, OprfPsiMessage) {
        let msg = OprfPsiMessage::Params(SenderParams {
            payload_len: self.params.payload_len,
            columns: self.columns,
        });
        let tags = TagStream {
            params: self.params,
            set: self.set,
            padding: self.padding,
            real_pos: 0,
            padding_pos: 0,
            prev: 0,
            rng: self.rng,
        };
        (
            Evaluating {
                tags,
                queue: VecDeque::new(),
                received: 0,
                evaluated: 0,
            },
            msg,
        )
    }
}

/// After [`Evaluating::next_evaluated`].
// Moved once per chunk or effect, never stored in bulk: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AfterEvaluating {
    /// Still answering (or waiting for) `Blinded` chunks.
    Evaluating(Evaluating),
    /// Every chunk is answered.
    SendingTags(SendingTags),
}

impl Evaluating {
    fn chunks(&self) -> usize {
        self.tags
            .params
            .chunk_count(self.tags.params.receiver_count)
    }

    /// Queues a `Blinded` chunk after checking its size.
    ///
    /// # Errors
    /// [`PeerMisbehaved::TooMuchData`] past the agreed chunks; [`PeerMisbehaved::WrongCount`].
    pub fn on_blinded(&mut self, elements: Vec<WireElement>) -> Result<()> {
        let i = self.received;
        if i >= self.chunks() {
            return Err(PeerMisbehaved::TooMuchData {
                what: "the receiver's Blinded messages",
            }
            .into());
        }
        let len = self
            .tags
            .params
            .chunk_len(self.tags.params.receiver_count, i);
        if elements.len() != len {
            return Err(PeerMisbehaved::WrongCount {
                what: "a Blinded message",
                got: elements.len() as u64,
                expected: len as u64,
            }
            .into());
        }
        self.queue.push_back(elements);
        self.received += 1;
        Ok(())
    }

    /// Answers the oldest queued chunk, or moves on to the tags once all are answered.
    ///
    /// # Errors
    /// [`PeerMisbehaved::InvalidElement`] for an element that does not decode or is the
    /// identity.
    pub fn next_evaluated(mut self) -> Result<(AfterEvaluating, Option<OprfPsiMessage>)> {
        if let Some(blinded) = self.queue.pop_front() {
            let offset = self.evaluated * self.tags.params.chunk_size;
            let evaluated = self
                .tags
                .set
                .key()
                .blind_evaluate(&blinded)
                .map_err(|e| match e {
                    Error::PeerMisbehaved(PeerMisbehaved::InvalidElement { index, reason }) => {
                        PeerMisbehaved::InvalidElement {
                            index: offset + index,
                            reason,
                        }
                        .into()
                    }
                    other => other,
                })?;
            self.evaluated += 1;
            return Ok((
                AfterEvaluating::Evaluating(self),
                Some(OprfPsiMessage::Evaluated(evaluated)),
            ));
        }
        if self.evaluated < self.chunks() {
            return Ok((AfterEvaluating::Evaluating(self), None));
        }
        Ok((
            AfterEvaluating::SendingTags(SendingTags {
                tags: self.tags,
                sent: 0,
            }),
            None,
        ))
    }
}

/// After [`SendingTags::next_tags`].
// Moved once per chunk, never stored in bulk: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AfterTags {
    /// More chunks to send.
    SendingTags(SendingTags),
    /// The session is over.
    Done(SenderOutput),
}

impl SendingTags {
    /// The next chunk of tags.
    ///
    /// # Errors
    /// [`Error::Internal`] if the stream runs out early (a bug).
    pub fn next_tags(mut self) -> Result<(AfterTags, OprfPsiMessage)> {
        let p = &self.tags.params;
        let len = p.chunk_len(p.sender_count, self.sent);
        let msg = self.tags.chunk(len)?;
        self.sent += 1;
        if self.sent < self.tags.params.chunk_count(self.tags.params.sender_count) {
            return Ok((AfterTags::SendingTags(self), msg));
        }
        let p = &self.tags.params;
        Ok((
            AfterTags::Done(SenderOutput {
                own_unique: self.tags.set.len(),
                own_sent: p.sender_count,
                peer_sent: p.receiver_count,
            }),
            msg,
        ))
    }
}

impl TagStream {
    fn chunk(&mut self, len: usize) -> Result<OprfPsiMessage> {
        let bits = self.params.tag_bits();
        let all = self.set.tags();
        let mut values = Vec::with_capacity(len);
        let mut entries = Vec::with_capacity(len);
        for _ in 0..len {
            let real = all.get(self.real_pos).map(|t| tags::truncate(*t, bits));
            let pad = self.padding.get(self.padding_pos).copied();
            match (real, pad) {
                (Some(r), Some(d)) if d < r => {
                    values.push(d);
                    entries.push(Entry::Padding);
                    self.padding_pos += 1;
                }
                (Some(r), _) => {
                    values.push(r);
                    entries.push(Entry::Real(self.real_pos));
                    self.real_pos += 1;
                }
                (None, Some(d)) => {
                    values.push(d);
                    entries.push(Entry::Padding);
                    self.padding_pos += 1;
                }
                (None, None) => {
                    return Err(Error::internal("the sender's tag stream ran out early"))
                }
            }
        }
        let code = tags::encode(&values, self.params.rice_bits(), &mut self.prev)?;
        let ciphertexts = match (self.params.payload_len, self.set.labels()) {
            (Some(payload_len), Some(labels)) => {
                let ct_len = self.params.ciphertext_len();
                let mut random = vec![0u8; len * ct_len];
                self.rng.fill_bytes(&mut random);
                let sid = self.params.session_id;
                let cts: Vec<Vec<u8>> = entries
                    .par_iter()
                    .enumerate()
                    .map(|(i, e)| match e {
                        Entry::Real(r) => {
                            label::seal(&labels.keys[*r], &sid, &labels.payloads[*r], payload_len)
                        }
                        Entry::Padding => Ok(random[i * ct_len..(i + 1) * ct_len].to_vec()),
                    })
                    .collect::<Result<_>>()?;
                cts.concat()
            }
            _ => Vec::new(),
        };
        Ok(OprfPsiMessage::Tags(TagChunk {
            count: len,
            code,
            ciphertexts,
        }))
    }
}

enum State {
    Announcing(Announcing),
    Evaluating(Evaluating),
    SendingTags(SendingTags),
    Done(SenderOutput),
    Failed,
}

/// The sender's session: its typed states behind [`SansIo`]. Messages out: `Params`, one
/// `Evaluated` per `Blinded`, then its `Tags` chunks. Messages in: `Blinded` chunks.
pub struct OprfSender {
    state: State,
}

impl std::fmt::Debug for OprfSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OprfSender")
    }
}

fn failed() -> Error {
    Error::internal("an OPRF-PSI sender was used after it failed")
}

impl OprfSender {
    /// A sender session (see [`Announcing::new`]); `columns` are the payload column names
    /// announced in labeled mode.
    ///
    /// # Errors
    /// As [`Announcing::new`].
    pub fn new<R: CryptoRng + ?Sized>(
        params: OprfPsiParams,
        set: Arc<PreparedSender>,
        columns: Vec<String>,
        rng: &mut R,
    ) -> Result<Self> {
        Ok(OprfSender {
            state: State::Announcing(Announcing::new(params, set, columns, rng)?),
        })
    }

    fn poll(&mut self) -> Result<Option<OprfPsiMessage>> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let (next, msg) = match state {
            State::Announcing(s) => {
                let (s, msg) = s.announce();
                (State::Evaluating(s), Some(msg))
            }
            State::Evaluating(s) => match s.next_evaluated()? {
                (AfterEvaluating::Evaluating(s), msg) => (State::Evaluating(s), msg),
                (AfterEvaluating::SendingTags(s), _) => {
                    let (next, msg) = s.next_tags()?;
                    (tags_state(next), Some(msg))
                }
            },
            State::SendingTags(s) => {
                let (next, msg) = s.next_tags()?;
                (tags_state(next), Some(msg))
            }
            State::Done(out) => (State::Done(out), None),
            State::Failed => return Err(failed()),
        };
        self.state = next;
        Ok(msg)
    }

    fn receive(&mut self, msg: OprfPsiMessage) -> Result<()> {
        match (&mut self.state, msg) {
            (State::Evaluating(s), OprfPsiMessage::Blinded(e)) => s.on_blinded(e),
            (State::Failed, _) => Err(failed()),
            (State::SendingTags(_) | State::Done(_), OprfPsiMessage::Blinded(_)) => {
                Err(PeerMisbehaved::TooMuchData {
                    what: "the receiver's Blinded messages",
                }
                .into())
            }
            (_, m) => Err(PeerMisbehaved::UnexpectedMessage {
                expected: OprfPsiMessage::BLINDED,
                got: m.name(),
            }
            .into()),
        }
    }
}

fn tags_state(next: AfterTags) -> State {
    match next {
        AfterTags::SendingTags(s) => State::SendingTags(s),
        AfterTags::Done(out) => State::Done(out),
    }
}

impl SansIo for OprfSender {
    type Message = OprfPsiMessage;
    type Output = SenderOutput;

    fn poll_outgoing(&mut self) -> Result<Option<OprfPsiMessage>> {
        let r = self.poll();
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn handle(&mut self, msg: OprfPsiMessage) -> Result<()> {
        let r = self.receive(msg);
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    fn backlog(&self) -> usize {
        match &self.state {
            State::Evaluating(s) => s.queue.len(),
            _ => 0,
        }
    }

    fn into_output(self) -> Result<SenderOutput> {
        match self.state {
            State::Done(out) => Ok(out),
            State::Failed => Err(failed()),
            _ => Err(PeerMisbehaved::EarlyDone.into()),
        }
    }
}
