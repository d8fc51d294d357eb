//! The receiver: blinds its items, finalizes the sender's evaluations into tags, and looks
//! them up in the sender's tag stream (`protocol-spec/07-oprf-psi.md` section 5).

use std::collections::{BTreeMap, HashMap};

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use rand_core::CryptoRng;

use super::label;
use super::message::OprfPsiMessage;
use super::output::{OprfMatch, ReceiverOutput};
use super::params::OprfPsiParams;
use super::tags;
use crate::error::{Error, Result};
use crate::group::WireElement;
use crate::oprf::client::{self, Blinded};
use crate::oprf::OprfOutput;
use crate::protocol::{ItemSet, SansIo};

/// The receiver's session. Messages out: `Blinded` chunks. Messages in: one `Evaluated`
/// per `Blinded`, in order, then the sender's `Tags` chunks.
pub struct OprfReceiver {
    params: OprfPsiParams,
    items: ItemSet,
    blinds: Vec<Scalar>,
    dummies: Vec<WireElement>,
    states: Vec<Option<Blinded>>,
    sent: usize,
    evaluated: usize,
    outputs: Vec<Option<OprfOutput>>,
    lookup: HashMap<u128, Vec<usize>>,
    tags_received: usize,
    peer_received: usize,
    prev: u128,
    matches: BTreeMap<usize, Option<Vec<u8>>>,
    label_failures: usize,
    failed: bool,
}

impl std::fmt::Debug for OprfReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OprfReceiver({} items)", self.items.len())
    }
}

impl Drop for OprfReceiver {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.blinds.zeroize();
    }
}

impl OprfReceiver {
    /// A receiver session over `items`; draws its blinds and padding from `rng`.
    ///
    /// # Errors
    /// [`Error::Config`] for parameters out of range; [`Error::Input`] if the receiver has
    /// more distinct items than `params.receiver_count`.
    pub fn new<R: CryptoRng + ?Sized>(
        params: OprfPsiParams,
        items: ItemSet,
        rng: &mut R,
    ) -> Result<Self> {
        params.validate()?;
        if items.len() > params.receiver_count {
            return Err(Error::LegacyInput(format!(
                "{} distinct items exceed the agreed receiver count of {}",
                items.len(),
                params.receiver_count
            )));
        }
        let blinds = (0..items.len())
            .map(|_| loop {
                let s = Scalar::random(rng);
                if s != Scalar::ZERO {
                    break s;
                }
            })
            .collect();
        // Padding: uniformly random group elements, distributed as blinded items are.
        let dummies = (items.len()..params.receiver_count)
            .map(|_| WireElement::encode(&RistrettoPoint::random(rng)))
            .collect();
        let chunks = params.chunk_count(params.receiver_count);
        Ok(OprfReceiver {
            outputs: vec![None; items.len()],
            states: (0..chunks).map(|_| None).collect(),
            params,
            items,
            blinds,
            dummies,
            sent: 0,
            evaluated: 0,
            lookup: HashMap::new(),
            tags_received: 0,
            peer_received: 0,
            prev: 0,
            matches: BTreeMap::new(),
            label_failures: 0,
            failed: false,
        })
    }

    fn real_range(&self, chunk: usize) -> std::ops::Range<usize> {
        let start = (chunk * self.params.chunk_size).min(self.items.len());
        let end = ((chunk + 1) * self.params.chunk_size).min(self.items.len());
        start..end
    }

    fn next_blinded(&mut self) -> Result<Option<OprfPsiMessage>> {
        let chunks = self.params.chunk_count(self.params.receiver_count);
        if self.sent == chunks {
            return Ok(None);
        }
        let i = self.sent;
        let real = self.real_range(i);
        let (state, mut elements) = client::blind_with(
            self.params.suite,
            &self.items.items().slice(real.clone()),
            self.blinds[real.clone()].to_vec(),
        )?;
        let len = self.params.chunk_len(self.params.receiver_count, i);
        let dummy_start = (i * self.params.chunk_size).max(self.items.len()) - self.items.len();
        elements
            .extend_from_slice(&self.dummies[dummy_start..dummy_start + (len - elements.len())]);
        self.states[i] = Some(state);
        self.sent += 1;
        Ok(Some(OprfPsiMessage::Blinded(elements)))
    }

    fn on_evaluated(&mut self, evaluated: Vec<WireElement>) -> Result<()> {
        let i = self.evaluated;
        if i >= self.sent {
            return Err(Error::LegacyPeerMisbehaved(
                "an Evaluated message arrived before its Blinded message was sent".into(),
            ));
        }
        let len = self.params.chunk_len(self.params.receiver_count, i);
        if evaluated.len() != len {
            return Err(Error::LegacyPeerMisbehaved(format!(
                "Evaluated message {i} carries {} elements, expected {len}",
                evaluated.len()
            )));
        }
        let real = self.real_range(i);
        let state = self.states[i]
            .take()
            .ok_or_else(|| Error::LegacyPeerMisbehaved("Evaluated message replayed".into()))?;
        let outputs = state.finalize(
            &self.items.items().slice(real.clone()),
            &evaluated[..real.len()],
        )?;
        // Dummy positions are not decoded: their evaluations are never used.
        let bits = self.params.tag_bits();
        for (u, out) in real.zip(outputs) {
            let t = tags::truncate(tags::full_tag(&out), bits);
            self.lookup.entry(t).or_default().push(u);
            self.outputs[u] = Some(out);
        }
        self.evaluated += 1;
        Ok(())
    }

    fn on_tags(&mut self, chunk: super::message::TagChunk) -> Result<()> {
        let chunks = self.params.chunk_count(self.params.receiver_count);
        if self.evaluated < chunks {
            return Err(Error::LegacyPeerMisbehaved(
                "a Tags message arrived before every Evaluated message".into(),
            ));
        }
        let i = self.tags_received;
        if i >= self.params.chunk_count(self.params.sender_count) {
            return Err(Error::LegacyPeerMisbehaved(
                "more Tags messages than agreed".into(),
            ));
        }
        let len = self.params.chunk_len(self.params.sender_count, i);
        let ct_len = self.params.ciphertext_len();
        if chunk.count != len || chunk.ciphertexts.len() != len * ct_len {
            return Err(Error::LegacyPeerMisbehaved(format!(
                "Tags message {i} carries {} tags and {} ciphertext bytes, expected {len} and {}",
                chunk.count,
                chunk.ciphertexts.len(),
                len * ct_len
            )));
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
                let Some(out) = &self.outputs[u] else {
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
        self.tags_received += 1;
        Ok(())
    }
}

impl SansIo for OprfReceiver {
    type Message = OprfPsiMessage;
    type Output = ReceiverOutput;

    fn poll_outgoing(&mut self) -> Result<Option<OprfPsiMessage>> {
        if self.failed {
            return Err(Error::LegacyPeerMisbehaved("the session has failed".into()));
        }
        let r = self.next_blinded();
        self.failed = r.is_err();
        r
    }

    fn handle(&mut self, msg: OprfPsiMessage) -> Result<()> {
        if self.failed {
            return Err(Error::LegacyPeerMisbehaved("the session has failed".into()));
        }
        let r = match msg {
            OprfPsiMessage::Evaluated(e) => self.on_evaluated(e),
            OprfPsiMessage::Tags(t) => self.on_tags(t),
            OprfPsiMessage::Blinded(_) => Err(Error::LegacyPeerMisbehaved(
                "the receiver got a Blinded message".into(),
            )),
        };
        self.failed = r.is_err();
        r
    }

    fn is_finished(&self) -> bool {
        !self.failed && self.tags_received == self.params.chunk_count(self.params.sender_count)
    }

    fn into_output(mut self) -> Result<ReceiverOutput> {
        if !self.is_finished() {
            return Err(Error::LegacyPeerMisbehaved(
                "the session ended before it finished".into(),
            ));
        }
        let matches = std::mem::take(&mut self.matches);
        let mut matches: Vec<OprfMatch> = matches
            .into_iter()
            .map(|(u, payload)| OprfMatch {
                item: self.items.items()[u].to_vec(),
                input_indices: self.items.input_indices(u),
                payload,
            })
            .collect();
        matches.sort_by_key(|m| m.input_indices[0]);
        Ok(ReceiverOutput {
            own_unique: self.items.len(),
            own_sent: self.params.receiver_count,
            peer_sent: self.peer_received,
            duplicates: self.items.duplicates(),
            matches,
            label_failures: self.label_failures,
        })
    }
}
