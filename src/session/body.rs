//! The protocol body of a session: the sans-I/O session of the protocol the handshake picked,
//! built from the agreed terms once both sides admitted the session, fed the payloads of the
//! peer's `Protocol` frames and polled for ours (`protocol-spec/04-transport-and-handshake.md`
//! section 4.4, `03-dh-psi.md`, `07-oprf-psi.md` section 7.11, `08-vole-psi.md` section 8.8).
//! A DH-PSI or VOLE-PSI session above the agreed bucket size runs as a bucketed session
//! (`09-buckets.md`): the same protocol in `B` sub-sessions, its messages prefixed with their
//! bucket.

use std::collections::BTreeSet;
use std::sync::Arc;

use rand_core::CryptoRng;

use crate::error::{ConfigReason, Error, InputReason, PeerMisbehaved, Result};
use crate::index::KeyEpoch;
use crate::oprf::OprfKey;
use crate::protocol::bucket::{bucket_bound, BucketStart, BucketedSession, FinishedBucket};
use crate::protocol::dh::{DhMessage, DhOutput, DhParams, DhSession};
use crate::protocol::oprf_psi::{
    OprfPsiMessage, OprfPsiParams, OprfReceiver, OprfSender, PreparedSender, ReceiverOutput,
    ReceiverSetup, SenderOutput,
};
use crate::protocol::vole_psi::{self, VolePsiSession};
use crate::protocol::{Interrupt, ItemSet, Role, SansIo, WireMessage};
use crate::transport::framing::MAX_FRAME_LEN;

use super::agreement::Terms;
use super::choice::{Protocol, SessionMode};
use super::progress::{Direction, Phase};

/// Where a responder's OPRF-PSI set comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SenderSource {
    /// A precomputed index (`blindmatch index`): every session uses its key, which the policy
    /// must allow (`allow_key_reuse`), and its stored padding; no session is served past the
    /// key's epoch (`protocol-spec/07-oprf-psi.md` section 7.8.2).
    Index {
        /// The evaluated set, with its stored padding.
        set: Arc<PreparedSender>,
        /// Payload column names (a labeled index).
        columns: Vec<String>,
        /// The key's epoch ([`crate::index::Index::key_epoch`]).
        epoch: KeyEpoch,
    },
    /// The session's own items under a fresh random key, with one payload per input item in
    /// labeled mode.
    Fresh {
        /// Payloads, aligned with the input items.
        payloads: Option<Arc<Vec<Vec<u8>>>>,
        /// Payload column names.
        columns: Vec<String>,
    },
}

impl SenderSource {
    /// The payload column names.
    pub fn columns(&self) -> &[String] {
        match self {
            SenderSource::Index { columns, .. } | SenderSource::Fresh { columns, .. } => columns,
        }
    }

    /// True when the sender carries payloads (labeled mode is possible).
    pub fn is_labeled(&self) -> bool {
        match self {
            SenderSource::Index { set, .. } => set.is_labeled(),
            SenderSource::Fresh { payloads, .. } => payloads.is_some(),
        }
    }
}

/// What one side brings to the body.
#[derive(Debug, Clone, Default)]
pub struct BodyInput {
    /// Our items (for a responder serving an index: none).
    pub items: ItemSet,
    /// The responder's OPRF-PSI material; `None`: its items under a fresh key, no payloads.
    pub sender: Option<SenderSource>,
    /// The payload columns our policy lets a labeled session reveal to us (the receiver).
    pub allowed_columns: BTreeSet<String>,
    /// The policy's fixed payload length of labeled sessions: the sender pads every payload
    /// to it and the receiver refuses any other; `None`: the longest payload of the set.
    pub payload_len: Option<usize>,
}

impl BodyInput {
    /// The index key epoch (hex id) a served index answers under, for the per-key
    /// evaluation cap; `None` for a fresh key per session.
    pub fn key_epoch(&self) -> Option<String> {
        match &self.sender {
            Some(SenderSource::Index { epoch, .. }) => Some(epoch.id_hex()),
            _ => None,
        }
    }

    /// Our distinct items (a served index's size).
    pub fn own_unique(&self) -> usize {
        match &self.sender {
            Some(SenderSource::Index { set, .. }) => set.len(),
            _ => self.items.len(),
        }
    }
}

/// What the body gave this side.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BodyOutput {
    /// A DH-PSI session.
    Dh(DhOutput),
    /// An OPRF-PSI receiver's matches (and payloads, with the sender's column names).
    Receiver(ReceiverOutput),
    /// An OPRF-PSI sender: it learned the receiver's (padded) set size.
    Sender(SenderOutput),
    /// A VOLE-PSI session, either role: its output has DH-PSI's shape (its own matches, or
    /// nothing for the sender outside mutual mode).
    Vole(DhOutput),
}

impl BodyOutput {
    /// The protocol that ran.
    pub fn protocol(&self) -> Protocol {
        match self {
            BodyOutput::Dh(_) => Protocol::Dh,
            BodyOutput::Vole(_) => Protocol::Vole,
            BodyOutput::Receiver(_) | BodyOutput::Sender(_) => Protocol::Oprf,
        }
    }
}

/// The running body.
pub(crate) enum Body {
    Dh(DhSession),
    Receiver(OprfReceiver),
    Sender(OprfSender),
    Vole(Box<VolePsiSession>),
    /// DH-PSI in buckets (`intersection` or `mutual`).
    BucketedDh(Box<BucketedSession<DhSession>>),
    /// VOLE-PSI in buckets.
    BucketedVole(Box<BucketedSession<VolePsiSession>>),
}

/// The terms one bucket's sub-session runs under: each side's count is its bucket bound
/// `L(n, B)` (spec 9.3, 9.5).
fn bucket_terms(terms: &Terms, buckets: u32) -> Terms {
    let bound = |n: u64| bucket_bound(count(n), buckets) as u64;
    Terms {
        initiator_count: bound(terms.initiator_count),
        responder_count: bound(terms.responder_count),
        ..terms.clone()
    }
}

/// Every phase of a bucket, over all `buckets` buckets.
fn times(phases: Vec<Phase>, buckets: u32) -> Vec<Phase> {
    phases
        .into_iter()
        .map(|mut p| {
            p.total *= u64::from(buckets);
            p
        })
        .collect()
}

fn count(n: u64) -> usize {
    // Terms are checked against the engine's limit before the body starts.
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The DH-PSI phases as `role` sees them: the responder always re-blinds the initiator's set;
/// the initiator re-blinds the responder's set only in mutual mode.
fn dh_phases(terms: &Terms) -> Vec<Phase> {
    use Direction::{Received, Sent};
    let (own, peer) = (terms.own_count(), terms.peer_count());
    let ours_out = Phase::new(Sent, DhMessage::BLINDED, "our set, hashed and blinded", own);
    let ours_back = Phase::new(
        Received,
        DhMessage::REBLINDED,
        "our set, re-blinded by the peer",
        own,
    );
    let theirs_in = Phase::new(Received, DhMessage::BLINDED, "the peer's blinded set", peer);
    let theirs_back = Phase::new(
        Sent,
        DhMessage::REBLINDED,
        "the peer's set, re-blinded",
        peer,
    );
    match (terms.role, terms.mode) {
        (Role::Initiator, SessionMode::Mutual) => {
            vec![ours_out, ours_back, theirs_in, theirs_back]
        }
        (Role::Initiator, _) => vec![ours_out, ours_back, theirs_in],
        (Role::Responder, SessionMode::Mutual) => {
            vec![theirs_in, theirs_back, ours_out, ours_back]
        }
        (Role::Responder, _) => vec![theirs_in, theirs_back, ours_out],
    }
}

fn oprf_phases(terms: &Terms) -> Vec<Phase> {
    use Direction::{Received, Sent};
    let (r, s) = (terms.initiator_count, terms.responder_count);
    match terms.role {
        Role::Initiator => vec![
            Phase::new(Sent, OprfPsiMessage::BLINDED, "our items, blinded", r),
            Phase::new(
                Received,
                OprfPsiMessage::EVALUATED,
                "our items, evaluated by the sender",
                r,
            ),
            Phase::new(
                Received,
                OprfPsiMessage::TAGS,
                "the sender's set, as tags",
                s,
            ),
        ],
        Role::Responder => vec![
            Phase::new(
                Received,
                OprfPsiMessage::BLINDED,
                "the receiver's blinded items",
                r,
            ),
            Phase::new(
                Sent,
                OprfPsiMessage::EVALUATED,
                "the receiver's items, evaluated",
                r,
            ),
            Phase::new(Sent, OprfPsiMessage::TAGS, "our set, as tags", s),
        ],
    }
}

/// The VOLE-PSI phases: the receiver's mask, the sender's tags and in mutual mode the
/// receiver's bitmap of matched tags (spec 8.8; the four setup messages are not counted).
fn vole_phases(terms: &Terms) -> Vec<Phase> {
    use Direction::{Received, Sent};
    let (r, s) = (terms.initiator_count, terms.responder_count);
    let mask = vole_psi::mask_entries(count(r)) as u64;
    let (ours, theirs) = match terms.role {
        Role::Initiator => (Sent, Received),
        Role::Responder => (Received, Sent),
    };
    let mut phases = vec![
        Phase::new(
            ours,
            vole_psi::Kind::Mask.name(),
            "the receiver's masked OKVS",
            mask,
        ),
        Phase::new(theirs, vole_psi::Kind::Tags.name(), "the sender's tags", s),
    ];
    if terms.mode == SessionMode::Mutual {
        let bitmap = s.div_ceil(8);
        let what = "the matched tags, as a bitmap";
        phases.push(Phase::new(
            ours,
            vole_psi::Kind::Matched.name(),
            what,
            bitmap,
        ));
    }
    phases
}

/// The OPRF-PSI parameters of section 7.3 from the terms (initiator = receiver).
fn oprf_params(
    terms: &Terms,
    session_id: [u8; 32],
    payload_len: Option<usize>,
) -> Result<OprfPsiParams> {
    let mut p = OprfPsiParams::new(
        terms.oprf_suite,
        session_id,
        count(terms.initiator_count),
        count(terms.responder_count),
    );
    p.chunk_size = terms.chunk_size;
    p.payload_len = payload_len;
    p.validate()?;
    let worst = 1 + 9 + p.chunk_size * (14 + p.ciphertext_len()) + 1024;
    if worst > MAX_FRAME_LEN {
        return Err(Error::config(
            ConfigReason::Parameter,
            format!(
                "labeled payloads of {} bytes do not fit frames of {} entries: use a chunk size \
                 of {} or less",
                payload_len.unwrap_or(0),
                p.chunk_size,
                (MAX_FRAME_LEN - 1034) / (14 + p.ciphertext_len())
            ),
        ));
    }
    Ok(p)
}

/// The responder's evaluated set for an OPRF-PSI session, and its payload columns.
fn sender_set(
    terms: &Terms,
    input: BodyInput,
    interrupt: &Interrupt,
) -> Result<(Arc<PreparedSender>, Vec<String>)> {
    match input.sender {
        Some(SenderSource::Index { set, columns, .. }) => Ok((set, columns)),
        source => {
            let (payloads, columns) = match source {
                Some(SenderSource::Fresh { payloads, columns }) => (payloads, columns),
                _ => (None, Vec::new()),
            };
            let key = OprfKey::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng));
            let set = PreparedSender::new_interruptible(
                terms.oprf_suite,
                key,
                &input.items,
                payloads.as_deref().map(Vec::as_slice),
                interrupt,
            )?;
            Ok((Arc::new(set), columns))
        }
    }
}

impl Body {
    /// The body of the agreed protocol, and its phases for progress. A bucketed body starts
    /// as `start` says (its assignment key, the buckets done in an earlier attempt, whether
    /// finished buckets are kept for a checkpoint); an unbucketed one runs whole.
    pub(crate) fn start<R: CryptoRng + ?Sized>(
        terms: &Terms,
        session_id: [u8; 32],
        input: BodyInput,
        start: BucketStart,
        interrupt: &Interrupt,
        rng: &mut R,
    ) -> Result<(Body, Vec<Phase>)> {
        match (terms.protocol, terms.role) {
            (Protocol::Dh | Protocol::Vole, role) => {
                let title = terms.protocol.title();
                if matches!(input.sender, Some(SenderSource::Index { .. })) {
                    return Err(Error::config(
                        ConfigReason::Conflict,
                        format!(
                            "{title} was picked, but this side serves a precomputed index, \
                             which only OPRF-PSI can use"
                        ),
                    ));
                }
                let mode = terms
                    .mode
                    .dh()
                    .filter(|_| terms.mode.runs_over(terms.protocol));
                let mode = mode.ok_or_else(|| {
                    Error::internal(format!("the agreement picked {title} for a mode it lacks"))
                })?;
                let params = DhParams {
                    mode,
                    session_id,
                    initiator_count: count(terms.initiator_count),
                    responder_count: count(terms.responder_count),
                    chunk_size: terms.chunk_size,
                };
                params.validate()?;
                let buckets = terms.buckets();
                let stop = interrupt.clone();
                if buckets > 1 {
                    let per_bucket = bucket_terms(terms, buckets);
                    let items = input.items;
                    // A resumed body runs only the buckets not taken from the checkpoint.
                    let to_run = buckets.saturating_sub(start.done.len() as u32);
                    return Ok(if terms.protocol == Protocol::Vole {
                        let s =
                            BucketedSession::new(role, params, buckets, items, start, rng, stop)?;
                        let phases = times(vole_phases(&per_bucket), to_run);
                        (Body::BucketedVole(Box::new(s)), phases)
                    } else {
                        let s =
                            BucketedSession::new(role, params, buckets, items, start, rng, stop)?;
                        let phases = times(dh_phases(&per_bucket), to_run);
                        (Body::BucketedDh(Box::new(s)), phases)
                    });
                }
                if terms.protocol == Protocol::Vole {
                    let session = VolePsiSession::new(role, params, input.items, rng, stop)?;
                    return Ok((Body::Vole(Box::new(session)), vole_phases(terms)));
                }
                let session = DhSession::new(role, params, input.items, rng)?;
                Ok((Body::Dh(session), dh_phases(terms)))
            }
            (Protocol::Oprf, Role::Initiator) => {
                let labeled = terms.mode == SessionMode::Labeled;
                // payload_len comes with the sender's first message.
                let params = oprf_params(terms, session_id, None)?;
                let setup = ReceiverSetup {
                    labeled,
                    allowed_columns: Some(input.allowed_columns.clone()),
                    payload_len: input.payload_len,
                };
                let r = OprfReceiver::new(params, setup, input.items, rng)?;
                Ok((Body::Receiver(r), oprf_phases(terms)))
            }
            (Protocol::Oprf, Role::Responder) => {
                let labeled = terms.mode == SessionMode::Labeled;
                if labeled && !input.sender.as_ref().is_some_and(SenderSource::is_labeled) {
                    return Err(Error::config(
                        ConfigReason::Conflict,
                        "labeled mode needs payloads: serve with label columns, or from a \
                         labeled index",
                    ));
                }
                let fixed = input.payload_len;
                let (set, columns) = sender_set(terms, input, interrupt)?;
                let payload_len = labeled.then(|| fixed.unwrap_or_else(|| set.max_payload_len()));
                let params = oprf_params(terms, session_id, payload_len)?;
                let s = OprfSender::new(params, set, columns, rng)?;
                Ok((Body::Sender(s), oprf_phases(terms)))
            }
        }
    }

    /// The largest protocol frame the peer may send (section 4.2), with a bucketed
    /// message's 4-byte prefix (spec 9.6).
    pub(crate) fn max_frame(terms: &Terms) -> usize {
        let prefix = if terms.buckets() > 1 { 4 } else { 0 };
        match terms.protocol {
            Protocol::Dh => 1 + prefix + DhMessage::encoded_len(terms.chunk_size),
            Protocol::Oprf | Protocol::Vole => MAX_FRAME_LEN,
        }
    }

    /// Bytes of protocol frames the peer may send in the whole body (sections 4.2, 7.11,
    /// 8.8.3 and 9.6): a bound on what it can make us read. A bucketed session allows each
    /// bucket what its sub-session allows, plus the 4-byte prefix of each of its frames.
    pub(crate) fn max_received(terms: &Terms) -> u64 {
        let buckets = terms.buckets();
        if buckets == 1 {
            return Self::max_received_unbucketed(terms, 1);
        }
        let per_bucket = bucket_terms(terms, buckets);
        u64::from(buckets)
            * (Self::max_received_unbucketed(&per_bucket, buckets)
                + 4 * Self::max_frames(&per_bucket))
    }

    /// The most protocol frames an honest peer sends in an unbucketed body of DH-PSI or
    /// VOLE-PSI (one per chunk of each stream, one per setup message), generously.
    fn max_frames(terms: &Terms) -> u64 {
        let c = terms.chunk_size.max(1) as u64;
        let frames = |n: u64| n.div_ceil(c).max(1);
        let (n_i, n_r) = (terms.initiator_count, terms.responder_count);
        match terms.protocol {
            Protocol::Dh => 2 * (frames(n_i) + frames(n_r)),
            Protocol::Vole => 2 + frames(4 * n_i + 128) + frames(n_r) + frames(n_r.div_ceil(8)),
            Protocol::Oprf => 0,
        }
    }

    /// What the peer may send in one body of `terms`, one of `buckets` (VOLE-PSI's tags grow
    /// with the number of buckets, spec 8.7).
    fn max_received_unbucketed(terms: &Terms, buckets: u32) -> u64 {
        let c = terms.chunk_size.max(1) as u64;
        let frames = |n: u64| n.div_ceil(c).max(1);
        let (own, peer) = (terms.own_count(), terms.peer_count());
        match terms.protocol {
            Protocol::Dh => 32 * (own + peer) + 10 * (frames(own) + frames(peer)) + 1024,
            Protocol::Oprf => {
                let (n_r, n_s) = (terms.initiator_count, terms.responder_count);
                let elements = 32 * n_r + 10 * frames(n_r) + 1024 + 64 * 256 + 16;
                if terms.role == Role::Responder {
                    return elements;
                }
                // Tags: at most tag_bits + 1 bits each once Rice coded, plus the ciphertexts.
                let tag_bits = 40 + 64 + 64;
                let ct = (2 + crate::protocol::oprf_psi::MAX_PAYLOAD_LEN + 16) as u64;
                elements + n_s * (tag_bits / 8 + 1 + ct) + 16 * frames(n_s)
            }
            Protocol::Vole => vole_psi::max_received(
                terms.role,
                count(terms.initiator_count),
                count(terms.responder_count),
                buckets as usize,
                terms.chunk_size,
            ),
        }
    }

    /// The next message to send, encoded, with its type and item count.
    pub(crate) fn poll(&mut self) -> Result<Option<(Vec<u8>, &'static str, u64)>> {
        fn enc<M: WireMessage>(m: Option<M>) -> Option<(Vec<u8>, &'static str, u64)> {
            m.map(|m| {
                let (name, items) = m.progress();
                (m.encode(), name, items)
            })
        }
        Ok(match self {
            Body::Dh(s) => enc(s.poll_outgoing()?),
            Body::Receiver(s) => enc(s.poll_outgoing()?),
            Body::Sender(s) => enc(s.poll_outgoing()?),
            Body::Vole(s) => enc(s.poll_outgoing()?),
            Body::BucketedDh(s) => enc(s.poll_outgoing()?),
            Body::BucketedVole(s) => enc(s.poll_outgoing()?),
        })
    }

    /// The buckets that finished since the last call (a bucketed body that records them;
    /// otherwise none).
    pub(crate) fn take_finished(&mut self) -> Vec<FinishedBucket> {
        match self {
            Body::BucketedDh(s) => s.take_finished(),
            Body::BucketedVole(s) => s.take_finished(),
            _ => Vec::new(),
        }
    }

    /// `(finished, total)` buckets of a bucketed body; `None` for an unbucketed one.
    pub(crate) fn bucket_progress(&self) -> Option<(u32, u32)> {
        match self {
            Body::BucketedDh(s) => Some((s.finished_buckets(), s.buckets())),
            Body::BucketedVole(s) => Some((s.finished_buckets(), s.buckets())),
            _ => None,
        }
    }

    /// Handles the payload of a peer's `Protocol` frame; returns its type and item count.
    pub(crate) fn handle(&mut self, payload: &[u8]) -> Result<(&'static str, u64)> {
        fn feed<S: SansIo>(s: &mut S, payload: &[u8]) -> Result<(&'static str, u64)> {
            let msg = S::Message::decode(payload)?;
            let p = msg.progress();
            s.handle(msg)?;
            Ok(p)
        }
        match self {
            Body::Dh(s) => feed(s, payload),
            Body::Receiver(s) => feed(s, payload),
            Body::Sender(s) => feed(s, payload),
            Body::Vole(s) => feed(s.as_mut(), payload),
            Body::BucketedDh(s) => feed(s.as_mut(), payload),
            Body::BucketedVole(s) => feed(s.as_mut(), payload),
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        match self {
            Body::Dh(s) => s.is_finished(),
            Body::Receiver(s) => s.is_finished(),
            Body::Sender(s) => s.is_finished(),
            Body::Vole(s) => s.is_finished(),
            Body::BucketedDh(s) => s.is_finished(),
            Body::BucketedVole(s) => s.is_finished(),
        }
    }

    pub(crate) fn backlog(&self) -> usize {
        match self {
            Body::Dh(s) => s.backlog(),
            Body::Receiver(s) => s.backlog(),
            Body::Sender(s) => s.backlog(),
            Body::Vole(s) => s.backlog(),
            Body::BucketedDh(s) => s.backlog(),
            Body::BucketedVole(s) => s.backlog(),
        }
    }

    pub(crate) fn into_output(self) -> Result<BodyOutput> {
        Ok(match self {
            Body::Dh(s) => BodyOutput::Dh(s.into_output()?),
            Body::Receiver(s) => BodyOutput::Receiver(s.into_output()?),
            Body::Sender(s) => BodyOutput::Sender(s.into_output()?),
            Body::Vole(s) => BodyOutput::Vole(s.into_output()?),
            Body::BucketedDh(s) => BodyOutput::Dh(s.into_output()?),
            Body::BucketedVole(s) => BodyOutput::Vole(s.into_output()?),
        })
    }
}

/// A `Protocol` frame larger than the body allows (checked before decoding).
pub(crate) fn frame_too_large(len: usize, max: usize) -> Error {
    PeerMisbehaved::FrameTooLarge {
        len: len as u64,
        max: max as u64,
    }
    .into()
}

/// Our input has more distinct items than we announced (a bug of the caller's).
pub(crate) fn too_many_items(unique: usize, announced: u64) -> Error {
    Error::input(
        InputReason::SetSize,
        format!("{unique} distinct items do not fit the announced set size of {announced}"),
    )
}
