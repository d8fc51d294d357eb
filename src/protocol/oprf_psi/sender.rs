//! The sender: evaluates the receiver's blinded items, then sends its own set as sorted,
//! truncated, Rice-coded tags, with a ciphertext per tag in labeled mode
//! (`protocol-spec/07-oprf-psi.md` section 5).

use std::collections::VecDeque;
use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, Rng, SeedableRng};
use rayon::prelude::*;

use super::label;
use super::message::{OprfPsiMessage, TagChunk};
use super::output::SenderOutput;
use super::params::OprfPsiParams;
use super::prepared::PreparedSender;
use super::tags;
use crate::error::{Error, Result};
use crate::group::WireElement;
use crate::protocol::SansIo;

/// The sender's session. Messages in: `Blinded` chunks. Messages out: one `Evaluated` per
/// `Blinded`, then, once every `Blinded` chunk is answered, its `Tags` chunks.
pub struct OprfSender {
    params: OprfPsiParams,
    set: Arc<PreparedSender>,
    queue: VecDeque<Vec<WireElement>>,
    received: usize,
    evaluated: usize,
    dummies: Vec<u128>,
    real_pos: usize,
    dummy_pos: usize,
    tags_sent: usize,
    prev: u128,
    rng: ChaCha20Rng,
    failed: bool,
}

impl std::fmt::Debug for OprfSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OprfSender({:?})", self.set)
    }
}

/// One entry of the sender's outgoing stream.
enum Entry {
    Real(usize),
    Dummy,
}

impl OprfSender {
    /// A sender session over a prepared set (the same set may serve many sessions).
    ///
    /// # Errors
    /// [`Error::Config`] for parameters out of range, a suite other than the set's, or
    /// labeled mode over an unlabeled set; [`Error::Input`] if the set has more items than
    /// `params.sender_count` or a payload longer than `params.payload_len`.
    pub fn new<R: CryptoRng + ?Sized>(
        params: OprfPsiParams,
        set: Arc<PreparedSender>,
        rng: &mut R,
    ) -> Result<Self> {
        params.validate()?;
        if params.suite != set.suite() {
            return Err(Error::LegacyConfig(format!(
                "the session uses suite {} but the prepared set was computed with {}",
                params.suite,
                set.suite()
            )));
        }
        if set.len() > params.sender_count {
            return Err(Error::LegacyInput(format!(
                "{} distinct items exceed the agreed sender count of {}",
                set.len(),
                params.sender_count
            )));
        }
        if let Some(len) = params.payload_len {
            if !set.is_labeled() {
                return Err(Error::LegacyConfig(
                    "labeled mode needs a set prepared with payloads".into(),
                ));
            }
            if set.max_payload_len() > len {
                return Err(Error::LegacyInput(format!(
                    "a payload of {} bytes exceeds the session's payload length of {len}",
                    set.max_payload_len()
                )));
            }
        }
        let bits = params.tag_bits();
        let mut dummies: Vec<u128> = (set.len()..params.sender_count)
            .map(|_| {
                let full = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
                tags::truncate(full, bits)
            })
            .collect();
        dummies.sort_unstable();
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Ok(OprfSender {
            params,
            set,
            queue: VecDeque::new(),
            received: 0,
            evaluated: 0,
            dummies,
            real_pos: 0,
            dummy_pos: 0,
            tags_sent: 0,
            prev: 0,
            rng: ChaCha20Rng::from_seed(seed),
            failed: false,
        })
    }

    fn blinded_chunks(&self) -> usize {
        self.params.chunk_count(self.params.receiver_count)
    }

    fn next(&mut self) -> Result<Option<OprfPsiMessage>> {
        if let Some(blinded) = self.queue.pop_front() {
            let evaluated = self.set.key().blind_evaluate(&blinded)?;
            self.evaluated += 1;
            return Ok(Some(OprfPsiMessage::Evaluated(evaluated)));
        }
        if self.evaluated < self.blinded_chunks()
            || self.tags_sent == self.params.chunk_count(self.params.sender_count)
        {
            return Ok(None);
        }
        self.next_tags().map(Some)
    }

    fn next_tags(&mut self) -> Result<OprfPsiMessage> {
        let len = self
            .params
            .chunk_len(self.params.sender_count, self.tags_sent);
        let bits = self.params.tag_bits();
        let all = self.set.tags();
        let mut values = Vec::with_capacity(len);
        let mut entries = Vec::with_capacity(len);
        for _ in 0..len {
            let real = all.get(self.real_pos).map(|t| tags::truncate(*t, bits));
            let dummy = self.dummies.get(self.dummy_pos).copied();
            match (real, dummy) {
                (Some(r), Some(d)) if d < r => {
                    values.push(d);
                    entries.push(Entry::Dummy);
                    self.dummy_pos += 1;
                }
                (Some(r), _) => {
                    values.push(r);
                    entries.push(Entry::Real(self.real_pos));
                    self.real_pos += 1;
                }
                (None, Some(d)) => {
                    values.push(d);
                    entries.push(Entry::Dummy);
                    self.dummy_pos += 1;
                }
                (None, None) => {
                    return Err(Error::LegacyInput(
                        "the sender's stream ran out early".into(),
                    ))
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
                        Entry::Dummy => Ok(random[i * ct_len..(i + 1) * ct_len].to_vec()),
                    })
                    .collect::<Result<_>>()?;
                cts.concat()
            }
            _ => Vec::new(),
        };
        self.tags_sent += 1;
        Ok(OprfPsiMessage::Tags(TagChunk {
            count: len,
            code,
            ciphertexts,
        }))
    }

    fn on_blinded(&mut self, elements: Vec<WireElement>) -> Result<()> {
        let i = self.received;
        if i >= self.blinded_chunks() {
            return Err(Error::LegacyPeerMisbehaved(
                "more Blinded messages than agreed".into(),
            ));
        }
        let len = self.params.chunk_len(self.params.receiver_count, i);
        if elements.len() != len {
            return Err(Error::LegacyPeerMisbehaved(format!(
                "Blinded message {i} carries {} elements, expected {len}",
                elements.len()
            )));
        }
        self.queue.push_back(elements);
        self.received += 1;
        Ok(())
    }
}

impl SansIo for OprfSender {
    type Message = OprfPsiMessage;
    type Output = SenderOutput;

    fn poll_outgoing(&mut self) -> Result<Option<OprfPsiMessage>> {
        if self.failed {
            return Err(Error::LegacyPeerMisbehaved("the session has failed".into()));
        }
        let r = self.next();
        self.failed = r.is_err();
        r
    }

    fn handle(&mut self, msg: OprfPsiMessage) -> Result<()> {
        if self.failed {
            return Err(Error::LegacyPeerMisbehaved("the session has failed".into()));
        }
        let r = match msg {
            OprfPsiMessage::Blinded(e) => self.on_blinded(e),
            other => Err(Error::LegacyPeerMisbehaved(format!(
                "the sender got a {} message",
                other.name()
            ))),
        };
        self.failed = r.is_err();
        r
    }

    fn is_finished(&self) -> bool {
        !self.failed
            && self.evaluated == self.blinded_chunks()
            && self.tags_sent == self.params.chunk_count(self.params.sender_count)
    }

    fn into_output(self) -> Result<SenderOutput> {
        if !self.is_finished() {
            return Err(Error::LegacyPeerMisbehaved(
                "the session ended before it finished".into(),
            ));
        }
        Ok(SenderOutput {
            own_unique: self.set.len(),
            own_sent: self.params.sender_count,
            peer_sent: self.params.receiver_count,
        })
    }
}
