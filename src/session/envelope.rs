//! The session envelope as a sans-I/O state machine (`protocol-spec/04-transport-and-handshake.md`
//! sections 4.3 to 4.7, `06-policy-and-audit.md` section 7).
//!
//! ```text
//! AwaitHello ─Hello─▶ AwaitConfirm ─Confirm─▶ Admitting ─(Admit)─▶ AwaitVerdict ─Admitted─▶
//!   Starting ─(Log started)─▶ Running ─body done: send Done─▶ AwaitDone ─Done─▶
//!   Signing ─(Sign)─▶ AwaitReceipt ─Receipt─▶ LoggingReceipt ─(Log receipt)─▶ close ─▶
//!   Writing ─(Write output)─▶ LoggingEnd ─(Log ended)─▶ Completed
//! ```
//! Each step consumes a frame or a completion and produces actions: frames to send, effects
//! to perform (in parentheses above), closing the connection. Any error goes through
//! [`Envelope::fail`], the one place that sends `Abort` (exactly once, and never in answer to
//! the peer's own `Abort`), logs `session_aborted` when `session_started` was logged, or, for
//! a refusal at admission, sends `Refused` naming the rule and logs `session_refused`.
//!
//! A step stopped because the peer left ([`CancelReason::PeerLeft`]: the network driver saw
//! the peer's `Abort`, or the end of the connection, while the step ran) is not a failure of
//! ours: the envelope waits in [`State::PeerLeft`] for that input, which ends the session with
//! the peer's error exactly as if the step had finished first.

use std::collections::VecDeque;
use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::audit::{
    AbortStage, Event, HandshakeRecord, Learned, Outcome, ReceiptBody, ResumeRecord, SessionInfo,
    SessionReceipt, SessionTerms, ShardRecord,
};
use crate::error::{
    CancelReason, CheckpointProblem, ConfigReason, Error, PeerMisbehaved, PolicyRefusal,
    PolicyRule, RefusedBy, Result, SessionPhase,
};
use crate::identity::Fingerprint;
use crate::oprf::Suite;
use crate::protocol::bucket::BucketStart;
use crate::protocol::{Interrupt, Role, MAX_SET_SIZE};
use crate::transport::framing::{Frame, FrameKind};
use crate::transport::machine::{Action, Input, Machine, Stage};

use super::agreement::{agree, terms_digest, Terms};
use super::body::{frame_too_large, too_many_items, Body, BodyInput, BodyOutput};
use super::choice::{ProtocolChoice, SessionMode};
use super::effect::{AdmissionRequest, Completion, Effect, OutputRecord};
use super::hello::{canonical_key_kinds, Hello};
use super::outcome::{learned, SessionOutcome};
use super::peer::PeerIdentity;
use super::progress::{Direction, Progress};
use super::receipt::{check_peer_receipt, our_body};
use super::resume::{CheckpointBegin, CheckpointEntry, ResumePoint};
use super::shard::Shard;
use super::transcript::{session_id, transcript_hash};
use super::verdict;

/// Answers queued for sending beyond which the envelope stops taking input (section 4.5).
pub const MAX_BACKLOG: usize = 8;

/// The `mismatches` code of a `handshake_refused` entry for a resumption whose agreed terms
/// differ from those its checkpoint recorded (`protocol-spec/06-policy-and-audit.md` section 6).
pub const RESUMED_TERMS: &str = "resumed_terms";

/// What one side brings to a session, besides its items.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our role.
    pub role: Role,
    /// What the parties learn.
    pub mode: SessionMode,
    /// The protocol we ask for.
    pub protocol: ProtocolChoice,
    /// The OPRF suite we use if OPRF-PSI runs.
    pub oprf_suite: Suite,
    /// Entries per message (must equal the peer's).
    pub chunk_size: u32,
    /// `β`, log2 of the largest bucket we take part in
    /// ([`crate::protocol::bucket::BUCKET_LOG2_RANGE`], by default
    /// [`crate::protocol::bucket::DEFAULT_BUCKET_LOG2`]): the smaller of ours and the peer's
    /// is agreed, and a DH-PSI or VOLE-PSI session with more than `2^β` items on a side runs
    /// in buckets (`protocol-spec/09-buckets.md`), each sub-session holding about `2^β`.
    pub max_bucket_log2: u8,
    /// The share of a logical session we run (must equal the peer's; [`Shard::WHOLE`] for an
    /// ordinary session, `protocol-spec/09-buckets.md` section 9.11). Our items and
    /// `own_count` are then the shard's ([`crate::agency::Agency::prepare`] selects them).
    pub shard: Shard,
    /// Digest of the policy we loaded (must equal the peer's).
    pub policy_digest: [u8; 32],
    /// Elements we announce and send: our distinct items, or a padding bound.
    pub own_count: u64,
    /// The identifier kinds of our keys, one entry per key (see [`Hello::key_kinds`]).
    pub key_kinds: Vec<String>,
    /// Our certificate's fingerprint.
    pub own_fingerprint: Fingerprint,
    /// Our agency's name, for the log.
    pub own_agency: String,
    /// Our policy's name, for the log ([`crate::audit::SessionTerms`]).
    pub policy_name: String,
    /// Our policy's `output_retention_days`, for the log.
    pub output_retention_days: u64,
    /// Record the session in a checkpoint as it goes ([`Effect::Checkpoint`]), when it runs
    /// in buckets: which logical session it is, then every bucket as it finishes
    /// (`protocol-spec/09-buckets.md` section 9.12). An unbucketed session records nothing.
    pub checkpoint: bool,
    /// What our checkpoint holds of an earlier attempt at a logical session: our hello offers
    /// to resume it, and if the peer offers the same, only the buckets neither kept run.
    pub resume: Option<ResumePoint>,
}

/// What the TLS connection established.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The connection's TLS exporter value (RFC 8446 section 7.5).
    pub exporter: [u8; 32],
    /// The authenticated peer.
    pub peer: PeerIdentity,
}

struct Handshake {
    ours: Hello,
    our_bytes: Vec<u8>,
}

struct Agreed {
    terms: Terms,
    session_id: [u8; 32],
    /// The logical session's id: `session_id` for a first attempt, the first attempt's for a
    /// resumed one (it keys the bucket assignment, spec 9.12).
    logical_session: [u8; 32],
    transcript: [u8; 32],
    /// What the transcript hash was computed from, for the log.
    record: HandshakeRecord,
}

enum State {
    AwaitHello(Handshake),
    AwaitConfirm(Agreed),
    Admitting(Agreed),
    AwaitVerdict(Agreed),
    Starting(Agreed),
    Running(Agreed, Body),
    AwaitDone(Agreed, BodyOutput),
    Signing(Agreed, BodyOutput, ReceiptBody),
    AwaitReceipt(Agreed, BodyOutput, ReceiptBody),
    LoggingReceipt(Agreed, BodyOutput, SessionReceipt),
    Writing(Agreed, Arc<BodyOutput>, SessionReceipt),
    LoggingEnd(Box<SessionOutcome>),
    Completed(Box<SessionOutcome>),
    Failed(Error),
    /// A step in this phase was stopped because the peer left
    /// ([`CancelReason::PeerLeft`]): the peer's `Abort`, the end of the stream or the
    /// transport's failure is queued and ends the session; the peer's other frames are
    /// dropped.
    PeerLeft(SessionPhase),
    /// Transient, while a step owns the state.
    Empty,
}

impl State {
    fn phase(&self) -> SessionPhase {
        match self {
            State::AwaitHello(_) | State::AwaitConfirm(_) => SessionPhase::Handshake,
            State::Admitting(_) | State::AwaitVerdict(_) | State::Starting(_) => {
                SessionPhase::Admission
            }
            State::Running(..) | State::AwaitDone(..) => SessionPhase::Body,
            State::PeerLeft(phase) => *phase,
            _ => SessionPhase::Receipts,
        }
    }
}

/// The effect whose completion is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Admission,
    Log,
    Signature,
    Output,
    Checkpoint,
}

/// One side's session envelope: handshake, admission, body, receipts, output, audit entries.
/// The library runs it over a connection ([`crate::agency::Agency::run`]), or with
/// [`super::memory::run_pair`] in memory.
pub struct Envelope {
    config: SessionConfig,
    channel: Channel,
    state: State,
    actions: VecDeque<Action<Effect>>,
    due: Option<Due>,
    input: Option<BodyInput>,
    own_unique: u64,
    /// The index key epoch a served index answers under, for the log.
    key_epoch: Option<String>,
    /// The part of the session the current step began in.
    phase: SessionPhase,
    /// Set once `session_started` is logged, cleared by the end entry: an error in between
    /// logs `session_aborted` for this session.
    started: Option<SessionInfo>,
    /// How far the session got since `session_started`, for a `session_aborted` entry.
    stage: Option<AbortStage>,
    /// What each side learned, once our part of the body is complete (for an abort after it).
    body_learned: Option<(Learned, Learned)>,
    /// Labeled mode, as the sender: the payload columns we reveal (for the log).
    revealed_columns: Vec<String>,
    /// The body's progress was started and not finished.
    progressing: bool,
    /// Buckets reported finished to [`Progress::bucket_finished`] so far.
    buckets_reported: u32,
    /// A bucketed body: the logical session's buckets finished so far, for an abort entry.
    buckets_finished: Option<u32>,
    /// An `Abort` (or `Refused`) was queued, or the peer aborted: send no other.
    abort_sent: bool,
    closed: bool,
    received: u64,
    interrupt: Interrupt,
    progress: Arc<dyn Progress>,
    rng: ChaCha20Rng,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("role", &self.config.role)
            .field("phase", &self.state.phase())
            .finish_non_exhaustive()
    }
}

fn unexpected(expected: &'static str, got: FrameKind) -> Error {
    PeerMisbehaved::UnexpectedFrame {
        expected,
        got: got.name(),
    }
    .into()
}

impl Envelope {
    /// A session envelope for one side. `now` is our clock (Unix seconds), sent in the hello;
    /// `seed` seeds the session's randomness (the hello nonce, keys, padding, shuffles): draw
    /// it from the operating system ([`Envelope::os_seed`]).
    ///
    /// # Errors
    /// [`Error::Input`] when our items outnumber the count we announce;
    /// [`Error::Config`] for a chunk size, count or key kinds out of range.
    pub fn new(
        config: SessionConfig,
        input: BodyInput,
        channel: Channel,
        now: i64,
        seed: [u8; 32],
        progress: Arc<dyn Progress>,
    ) -> Result<Envelope> {
        let own_unique = input.own_unique() as u64;
        let key_epoch = input.key_epoch();
        if own_unique > config.own_count {
            return Err(too_many_items(own_unique as usize, config.own_count));
        }
        if config.own_count > MAX_SET_SIZE as u64 {
            return Err(Error::config(
                ConfigReason::Parameter,
                format!(
                    "a set of {} elements exceeds the engine's limit of {MAX_SET_SIZE}",
                    config.own_count
                ),
            ));
        }
        let max_chunk = crate::protocol::dh::MAX_CHUNK_SIZE as u32;
        if config.chunk_size == 0 || config.chunk_size > max_chunk {
            return Err(Error::config(
                ConfigReason::Parameter,
                format!(
                    "chunk size {} is outside 1..={max_chunk}",
                    config.chunk_size
                ),
            ));
        }
        let range = crate::protocol::bucket::BUCKET_LOG2_RANGE;
        if !range.contains(&config.max_bucket_log2) {
            return Err(Error::config(
                ConfigReason::Parameter,
                format!(
                    "a bucket of 2^{} items is outside 2^{}..=2^{}",
                    config.max_bucket_log2,
                    range.start(),
                    range.end()
                ),
            ));
        }
        if config.shard.is_sharded() && !config.mode.shardable() {
            return Err(Error::config(
                ConfigReason::Conflict,
                format!(
                    "mode `{}` cannot be sharded: shards run intersection or mutual mode (a \
                     cardinality shard would reveal its count, a labeled one needs its sender's \
                     whole set)",
                    config.mode.as_str()
                ),
            ));
        }
        let key_kinds = canonical_key_kinds(&config.key_kinds)?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut nonce = [0u8; 32];
        rng.fill_bytes(&mut nonce);
        let ours = Hello {
            role: config.role,
            protocol: config.protocol,
            mode: config.mode,
            oprf_suite: config.oprf_suite,
            chunk_size: config.chunk_size,
            max_bucket_log2: config.max_bucket_log2,
            shard: config.shard,
            resume: config.resume.as_ref().map(ResumePoint::offer),
            policy_digest: config.policy_digest,
            set_size: config.own_count,
            own_fingerprint: config.own_fingerprint,
            peer_fingerprint: channel.peer.fingerprint,
            time: now,
            key_kinds,
            nonce,
        };
        let our_bytes = ours.encode();
        let mut actions = VecDeque::new();
        if config.role == Role::Responder {
            // The responder speaks first (section 4.1).
            actions.push_back(Action::Send(Frame::new(
                FrameKind::Hello,
                our_bytes.clone(),
            )));
        }
        Ok(Envelope {
            config,
            channel,
            state: State::AwaitHello(Handshake { ours, our_bytes }),
            actions,
            due: None,
            input: Some(input),
            own_unique,
            key_epoch,
            phase: SessionPhase::Handshake,
            started: None,
            stage: None,
            body_learned: None,
            revealed_columns: Vec::new(),
            progressing: false,
            buckets_reported: 0,
            buckets_finished: None,
            abort_sent: false,
            closed: false,
            received: 0,
            interrupt: Interrupt::new(),
            progress,
            rng,
        })
    }

    /// 32 bytes from the operating system's CSPRNG, to seed a session.
    pub fn os_seed() -> [u8; 32] {
        let mut seed = [0u8; 32];
        rand_core::UnwrapErr(rand::rngs::SysRng).fill_bytes(&mut seed);
        seed
    }

    /// The part of the session we are in.
    pub fn phase(&self) -> SessionPhase {
        self.state.phase()
    }

    fn send(&mut self, kind: FrameKind, payload: Vec<u8>) {
        self.actions
            .push_back(Action::Send(Frame::new(kind, payload)));
    }

    fn perform(&mut self, due: Due, effect: Effect) {
        self.due = Some(due);
        self.actions.push_back(Action::Perform(effect));
    }

    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.actions.push_back(Action::Close);
        }
    }

    fn info(&self, a: &Agreed) -> SessionInfo {
        SessionInfo {
            session_id: hex::encode(a.session_id),
            transcript_hash: hex::encode(a.transcript),
            role: a.terms.role.as_str().to_owned(),
            mode: a.terms.mode.as_str().to_owned(),
            own_agency: self.config.own_agency.clone(),
            peer_agency: self.channel.peer.name.clone(),
            peer_fingerprint: self.channel.peer.fingerprint.to_string(),
            policy_digest: hex::encode(a.terms.policy_digest),
            own_unique: None,
            local_own_unique: Some(self.own_unique),
            own_sent: a.terms.own_count(),
            peer_sent: a.terms.peer_count(),
            key_epoch: self.key_epoch.clone(),
        }
    }

    fn terms(&self, a: &Agreed) -> SessionTerms {
        let revealed_columns = match (&self.input, a.terms.mode) {
            (
                Some(BodyInput {
                    sender: Some(s), ..
                }),
                SessionMode::Labeled,
            ) => s.columns().to_vec(),
            _ => Vec::new(),
        };
        SessionTerms {
            protocol: a.terms.protocol.as_str().to_owned(),
            policy_name: self.config.policy_name.clone(),
            output_retention_days: self.config.output_retention_days,
            revealed_columns,
            buckets: Some(a.terms.buckets()).filter(|&b| b > 1),
            shard: a.terms.shard.is_sharded().then(|| ShardRecord {
                index: a.terms.shard.index(),
                count: a.terms.shard.count(),
                logical_session: hex::encode(a.terms.shard.key()),
            }),
            checkpoint: self.checkpointing(&a.terms),
            resumes: a.terms.resume.map(|r| ResumeRecord {
                session: hex::encode(r.logical_session),
                buckets_done: r.buckets_done,
            }),
        }
    }

    /// Whether this session records a checkpoint: we keep one and it runs in buckets (an
    /// unbucketed session has nothing to record, spec 9.12).
    fn checkpointing(&self, terms: &Terms) -> bool {
        self.config.checkpoint && terms.buckets() > 1
    }

    /// Asks the checkpoint to record the buckets that finished in the last step, if we keep
    /// one and any did.
    fn checkpoint_buckets(&mut self, body: &mut Body) {
        if !self.config.checkpoint {
            return;
        }
        let finished = body.take_finished();
        if !finished.is_empty() {
            let entry = CheckpointEntry {
                begin: None,
                finished,
            };
            self.perform(Due::Checkpoint, Effect::Checkpoint(entry));
        }
    }

    /// Tells [`Progress::bucket_finished`] of each bucket that finished since the last call.
    fn report_buckets(&mut self, body: &Body) {
        if let Some((finished, total)) = body.bucket_progress() {
            self.buckets_finished = Some(finished);
            while self.buckets_reported < finished {
                self.buckets_reported += 1;
                self.progress.bucket_finished(self.buckets_reported, total);
            }
        }
    }

    fn refused_event(&self, refusal: &PolicyRefusal) -> Event {
        Event::SessionRefused {
            peer_fingerprint: self.channel.peer.fingerprint.to_string(),
            mode: self.config.mode.as_str().to_owned(),
            rule: refusal.rule.as_str().to_owned(),
            detail: refusal.detail.clone(),
        }
    }

    /// Ends the session with `err`: the one place that sends `Abort` or `Refused` and logs
    /// the refusal or the abort. A step stopped because the peer left does not end it: the
    /// peer's own input, queued behind, does.
    /// Tells the peer by `Abort` that we refuse the handshake, and logs why.
    fn refuse_handshake(&mut self, mismatches: Vec<String>, detail: String) {
        if !self.abort_sent && !self.closed {
            self.abort_sent = true;
            self.actions
                .push_back(Action::Send(Frame::empty(FrameKind::Abort)));
        }
        let event = Event::HandshakeRefused {
            peer_fingerprint: self.channel.peer.fingerprint.to_string(),
            mode: self.config.mode.as_str().to_owned(),
            mismatches,
            detail,
        };
        self.actions.push_back(Action::Perform(Effect::Log(event)));
    }

    fn fail(&mut self, err: Error) {
        if matches!(self.state, State::Completed(_) | State::Failed(_)) {
            return;
        }
        let phase = match self.state {
            State::Empty => self.phase,
            ref s => s.phase(),
        };
        if let Error::Cancelled(CancelReason::PeerLeft) = err {
            // Not our failure: no `Abort`, no entry yet. The input that made the driver stop
            // the step comes next and ends the session with the peer's error.
            self.state = State::PeerLeft(phase);
            return;
        }
        if std::mem::take(&mut self.progressing) {
            self.progress.finish();
        }
        self.interrupt.raise(CancelReason::Dropped);
        self.due = None;
        let peer_left = matches!(
            err,
            Error::PeerAborted(_) | Error::PeerMisbehaved(PeerMisbehaved::ClosedEarly(_))
        );
        match (&err, phase) {
            (Error::Incompatible(i), SessionPhase::Handshake) => {
                // We refuse the handshake: logged, and the peer told by `Abort` (section 4.3.2).
                let mismatches = i.mismatches.iter().map(|m| m.code().to_owned()).collect();
                self.refuse_handshake(mismatches, i.to_string());
            }
            (Error::Checkpoint(c), SessionPhase::Handshake)
                if c.problem == CheckpointProblem::TermsChanged =>
            {
                // We refuse to resume under other terms: a refused handshake too (no element
                // was sent).
                let detail = format!(
                    "the terms agreed now (protocol, mode, counts, policy, keys, bucket size or \
                     shard) differ from those the checkpoint in {} recorded",
                    c.dir.display()
                );
                self.refuse_handshake(vec![RESUMED_TERMS.to_owned()], detail);
            }
            (Error::PolicyRefused(r), SessionPhase::Admission) => {
                if r.by == RefusedBy::Us && !self.abort_sent {
                    self.abort_sent = true;
                    self.actions
                        .push_back(Action::Send(verdict::frame(Err(r.rule))));
                }
                let event = self.refused_event(r);
                self.actions.push_back(Action::Perform(Effect::Log(event)));
            }
            _ => {
                if !peer_left && !self.abort_sent && !self.closed {
                    self.abort_sent = true;
                    self.actions
                        .push_back(Action::Send(Frame::empty(FrameKind::Abort)));
                }
                if let Some(session) = self.started.take() {
                    let (reason, code) = (err.to_string(), Some(err.code()));
                    let (own_learned, peer_learned) = self.body_learned.unzip();
                    self.actions
                        .push_back(Action::Perform(Effect::Log(Event::SessionAborted {
                            session,
                            reason,
                            code,
                            stage: self.stage,
                            own_learned,
                            peer_learned,
                            buckets_finished: self.buckets_finished,
                        })));
                }
            }
        }
        if !self.closed {
            self.closed = true;
            self.actions.push_back(Action::Close);
        }
        self.state = State::Failed(err);
    }

    fn on_frame(&mut self, frame: Frame) -> Result<()> {
        let phase = self.state.phase();
        self.phase = phase;
        if frame.kind == FrameKind::Abort {
            self.abort_sent = true;
            return Err(Error::PeerAborted(phase));
        }
        let state = std::mem::replace(&mut self.state, State::Empty);
        self.state = match (state, frame.kind) {
            (State::AwaitHello(h), FrameKind::Hello) => self.on_hello(h, &frame.payload)?,
            (State::AwaitHello(_), k) => return Err(unexpected("the peer's Hello", k)),
            (State::AwaitConfirm(a), FrameKind::Confirm) => self.on_confirm(a, &frame.payload)?,
            (State::AwaitConfirm(_), k) => return Err(unexpected("the peer's Confirm", k)),
            (State::AwaitVerdict(a), FrameKind::Admitted | FrameKind::Refused) => {
                match verdict::parse(&frame)? {
                    Ok(()) => {
                        let session = self.info(&a);
                        let terms = self.terms(&a);
                        self.revealed_columns = terms.revealed_columns.clone();
                        self.perform(
                            Due::Log,
                            Effect::Log(Event::SessionStarted {
                                session: session.clone(),
                                handshake: Some(a.record.clone()),
                                terms: Some(terms),
                            }),
                        );
                        self.started = Some(session);
                        State::Starting(a)
                    }
                    Err(refusal) => {
                        self.state = State::AwaitVerdict(a);
                        return Err(refusal.into());
                    }
                }
            }
            (State::AwaitVerdict(_), k) => {
                return Err(unexpected("the peer's admission verdict", k))
            }
            (State::Running(a, mut body), FrameKind::Protocol) => {
                self.state = State::Empty;
                let max = Body::max_frame(&a.terms);
                if frame.payload.len() + 1 > max {
                    return Err(frame_too_large(frame.payload.len() + 1, max));
                }
                self.received += frame.wire_len() as u64;
                if self.received > Body::max_received(&a.terms) {
                    return Err(PeerMisbehaved::TooMuchData {
                        what: "the peer's protocol frames",
                    }
                    .into());
                }
                self.interrupt.check()?;
                let (message, items) = body.handle(&frame.payload)?;
                self.progress.advance(Direction::Received, message, items);
                self.checkpoint_buckets(&mut body);
                self.report_buckets(&body);
                self.after_body_step(a, body)?
            }
            (State::Running(..), FrameKind::Done) => return Err(PeerMisbehaved::EarlyDone.into()),
            (State::Running(..), k) => return Err(unexpected("a Protocol or Done frame", k)),
            (State::AwaitDone(a, output), FrameKind::Done) => {
                let parties = (self.config.own_fingerprint, self.channel.peer.fingerprint);
                let body = our_body(&a.terms, parties, a.session_id, a.transcript, 0);
                self.perform(Due::Signature, Effect::SignReceipt(body.clone()));
                State::Signing(a, output, body)
            }
            (State::AwaitDone(..), k) => return Err(unexpected("the peer's Done", k)),
            (State::AwaitReceipt(a, output, ours), FrameKind::Receipt) => {
                let receipt = check_peer_receipt(&frame.payload, &self.channel.peer.key, &ours)?;
                // The peer signed that it completed: it holds all the mode reveals to it.
                self.stage = Some(AbortStage::AfterReceipts);
                self.perform(Due::Log, Effect::Log(Event::peer_receipt(&receipt)));
                State::LoggingReceipt(a, output, receipt)
            }
            (State::AwaitReceipt(..), k) => return Err(unexpected("the peer's Receipt", k)),
            // After both receipts the peer has nothing more to say.
            (s @ (State::Writing(..) | State::LoggingEnd(_) | State::Completed(_)), _) => s,
            // What the peer sent before its `Abort` needs no work.
            (s @ State::PeerLeft(_), _) => s,
            (State::Failed(e), _) => State::Failed(e),
            (s, k) => {
                self.state = s;
                return Err(Error::internal(format!(
                    "a {} frame arrived while an effect was due",
                    k.name()
                )));
            }
        };
        Ok(())
    }

    fn on_hello(&mut self, h: Handshake, payload: &[u8]) -> Result<State> {
        if h.ours.role == Role::Initiator {
            // Always answer, so the responder can name a mismatch too.
            self.send(FrameKind::Hello, h.our_bytes.clone());
        }
        let theirs = Hello::decode(payload)?;
        let terms = agree(&h.ours, &theirs)?;
        let (initiator, responder) = match h.ours.role {
            Role::Initiator => (&h.our_bytes[..], payload),
            Role::Responder => (payload, &h.our_bytes[..]),
        };
        let transcript = transcript_hash(&self.channel.exporter, initiator, responder);
        let record = HandshakeRecord {
            exporter: hex::encode(self.channel.exporter),
            initiator_hello: hex::encode(initiator),
            responder_hello: hex::encode(responder),
        };
        let session_id = session_id(&transcript);
        let logical_session = match (terms.resume, &self.config.resume) {
            (Some(r), Some(point)) => {
                if terms_digest(&terms) != point.terms_digest {
                    return Err(Error::checkpoint(
                        CheckpointProblem::TermsChanged,
                        point.dir.clone(),
                    ));
                }
                r.logical_session
            }
            (Some(_), None) => {
                return Err(Error::internal(
                    "the terms resume a session our hello did not offer",
                ))
            }
            (None, _) => session_id,
        };
        self.send(FrameKind::Confirm, transcript.to_vec());
        Ok(State::AwaitConfirm(Agreed {
            session_id,
            logical_session,
            terms,
            transcript,
            record,
        }))
    }

    fn on_confirm(&mut self, a: Agreed, payload: &[u8]) -> Result<State> {
        let equal: bool = subtle::ConstantTimeEq::ct_eq(payload, &a.transcript[..]).into();
        if !equal {
            return Err(PeerMisbehaved::TranscriptMismatch.into());
        }
        // The engine's own limit comes before the policy's, and before any allocation.
        let peer = a.terms.peer_count();
        if peer > MAX_SET_SIZE as u64 {
            self.state = State::Admitting(a);
            return Err(Error::refused(
                PolicyRule::MaxSetSize,
                format!(
                    "the peer announced {peer} elements, more than the engine's limit of \
                     {MAX_SET_SIZE}"
                ),
            ));
        }
        self.perform(
            Due::Admission,
            Effect::Admit(AdmissionRequest {
                terms: a.terms.clone(),
                own_unique: self.own_unique,
                peer: self.channel.peer.clone(),
            }),
        );
        Ok(State::Admitting(a))
    }

    /// After a body step: once the body is finished, send `Done`.
    fn after_body_step(&mut self, a: Agreed, body: Body) -> Result<State> {
        if !body.is_finished() {
            return Ok(State::Running(a, body));
        }
        self.progressing = false;
        self.progress.finish();
        let output = body.into_output()?;
        self.stage = Some(AbortStage::BodyDone);
        self.body_learned = Some(learned(&output));
        self.send(FrameKind::Done, Vec::new());
        Ok(State::AwaitDone(a, output))
    }

    fn on_completion(&mut self, c: Completion) -> Result<()> {
        let due = self.due.take();
        self.phase = self.state.phase();
        let state = std::mem::replace(&mut self.state, State::Empty);
        self.state = match (state, c) {
            (State::Admitting(a), Completion::Admission(verdict)) => {
                if let Err(e) = verdict {
                    self.state = State::Admitting(a);
                    return Err(e);
                }
                self.send(FrameKind::Admitted, Vec::new());
                State::AwaitVerdict(a)
            }
            (State::Starting(a), Completion::Logged(r)) => {
                if let Err(e) = r {
                    // Not logged: there is nothing to abort in the log.
                    self.started = None;
                    return Err(e);
                }
                let input = self.input.take().unwrap_or_default();
                // The body begins with its start (which can take seconds: hashing the items,
                // evaluating a sender's set): an error from here on is one of the body's,
                // and a peer's `Abort` during the start ends the session as one after it.
                self.phase = SessionPhase::Body;
                self.stage = Some(AbortStage::Body);
                let point = self.config.resume.take();
                let done = match (a.terms.resume, point) {
                    (Some(r), Some(p)) => {
                        p.done.into_iter().take(r.buckets_done as usize).collect()
                    }
                    _ => Vec::new(),
                };
                let checkpointing = self.checkpointing(&a.terms);
                let start = BucketStart {
                    assignment_key: a.logical_session,
                    done,
                    record: checkpointing,
                };
                let (mut body, phases) = Body::start(
                    &a.terms,
                    a.session_id,
                    input,
                    start,
                    &self.interrupt,
                    &mut self.rng,
                )?;
                self.progress.start(a.terms.role, &phases);
                self.progressing = true;
                if let (Some(r), Some((_, total))) = (a.terms.resume, body.bucket_progress()) {
                    if r.buckets_done > 0 {
                        self.progress.buckets_resumed(r.buckets_done, total);
                        self.buckets_reported = r.buckets_done;
                    }
                }
                if checkpointing {
                    let begin = CheckpointBegin {
                        role: a.terms.role,
                        logical_session: a.logical_session,
                        session_id: a.session_id,
                        transcript: a.transcript,
                        terms_digest: terms_digest(&a.terms),
                        buckets: a.terms.buckets(),
                        buckets_done: a.terms.resume.map_or(0, |r| r.buckets_done),
                    };
                    let entry = CheckpointEntry {
                        begin: Some(begin),
                        finished: body.take_finished(),
                    };
                    self.perform(Due::Checkpoint, Effect::Checkpoint(entry));
                }
                self.report_buckets(&body);
                self.after_body_step(a, body)?
            }
            (State::Signing(a, output, mut body), Completion::Signed(receipt)) => {
                body.time = receipt.time;
                self.send(FrameKind::Receipt, receipt.encode());
                State::AwaitReceipt(a, output, body)
            }
            (State::LoggingReceipt(a, output, receipt), Completion::Logged(r)) => {
                r?;
                self.close();
                let output = Arc::new(output);
                self.perform(
                    Due::Output,
                    Effect::WriteOutput {
                        output: output.clone(),
                        session_id: a.session_id,
                    },
                );
                State::Writing(a, output, receipt)
            }
            (State::Writing(a, output, receipt), Completion::Written(r)) => {
                let record: Option<OutputRecord> = match r {
                    Ok(rec) => rec,
                    Err(e) => {
                        self.state = State::Writing(a, output, receipt);
                        return Err(e);
                    }
                };
                let (own_learned, peer_learned) = learned(&output);
                let revealed_columns = match &*output {
                    BodyOutput::Receiver(o) => o.columns.clone(),
                    _ => self.revealed_columns.clone(),
                };
                let session = self.started.take().unwrap_or_else(|| self.info(&a));
                self.perform(
                    Due::Log,
                    Effect::Log(Event::SessionEnded {
                        session,
                        outcome: Outcome {
                            own_learned,
                            peer_learned,
                            output_file: record.as_ref().map(|r| r.location.clone()),
                            output_sha3_256: None,
                            output_commitment: record.as_ref().and_then(|r| r.commitment.clone()),
                        },
                        revealed_columns,
                    }),
                );
                let output = Arc::try_unwrap(output).unwrap_or_else(|o| (*o).clone());
                State::LoggingEnd(Box::new(SessionOutcome {
                    session_id: a.session_id,
                    transcript: a.transcript,
                    terms: a.terms,
                    peer: self.channel.peer.clone(),
                    own_unique: self.own_unique,
                    output,
                    peer_receipt: receipt,
                    output_record: record,
                }))
            }
            (State::LoggingEnd(outcome), Completion::Logged(r)) => {
                if let Err(e) = r {
                    // The session is over on both sides; only our end entry is missing.
                    self.state = State::Failed(e);
                    return Ok(());
                }
                State::Completed(outcome)
            }
            // Entries queued by `fail` complete here; the session error matters more than a
            // failure to log it.
            (State::Failed(e), _) => State::Failed(e),
            // A checkpoint entry is recorded wherever the body left the session (a bucket
            // that finished last may have moved it to `AwaitDone`).
            (s, Completion::Checkpointed(r)) => {
                if let Err(e) = r {
                    self.state = s;
                    return Err(e);
                }
                s
            }
            (s, c) => {
                self.state = s;
                return Err(Error::internal(format!(
                    "completion {c:?} arrived while {due:?} was due"
                )));
            }
        };
        Ok(())
    }

    fn poll_body(&mut self) -> Result<()> {
        let State::Running(..) = self.state else {
            return Ok(());
        };
        self.phase = SessionPhase::Body;
        let State::Running(a, mut body) = std::mem::replace(&mut self.state, State::Empty) else {
            return Ok(());
        };
        self.interrupt.check()?;
        match body.poll()? {
            Some((bytes, message, items)) => {
                // A bucket this message finishes is recorded first: the record never waits
                // behind the message for room to send (spec 9.7, 9.12.2).
                self.checkpoint_buckets(&mut body);
                self.send(FrameKind::Protocol, bytes);
                self.progress.advance(Direction::Sent, message, items);
                self.report_buckets(&body);
                self.state = self.after_body_step(a, body)?;
            }
            None => self.state = State::Running(a, body),
        }
        Ok(())
    }
}

impl Machine for Envelope {
    type Effect = Effect;
    type Completion = Completion;
    type Output = SessionOutcome;

    fn handle(&mut self, input: Input) {
        let r = match input {
            Input::Frame(f) => self.on_frame(f),
            Input::Closed => match self.state {
                State::Writing(..)
                | State::LoggingEnd(_)
                | State::Completed(_)
                | State::Failed(_) => Ok(()),
                _ => Err(PeerMisbehaved::ClosedEarly(self.state.phase()).into()),
            },
            Input::Failed(Error::Io { source, .. })
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::BrokenPipe
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                // The peer went away while we were sending.
                Err(PeerMisbehaved::ClosedEarly(self.state.phase()).into())
            }
            Input::Failed(e) => Err(e),
        };
        if let Err(e) = r {
            self.fail(e);
        }
    }

    fn complete(&mut self, completion: Completion) {
        if let Err(e) = self.on_completion(completion) {
            self.fail(e);
        }
    }

    fn cancel(&mut self, reason: CancelReason) {
        self.interrupt.raise(reason);
        self.fail(Error::Cancelled(reason));
    }

    fn poll(&mut self) -> Option<Action<Effect>> {
        if self.actions.is_empty() && self.due.is_none() {
            if let Err(e) = self.poll_body() {
                self.fail(e);
            }
        }
        self.actions.pop_front()
    }

    fn wants_input(&self) -> bool {
        if self.due.is_some() || !self.actions.is_empty() {
            return false;
        }
        match &self.state {
            State::Running(_, body) => body.backlog() < MAX_BACKLOG,
            State::Completed(_) | State::Failed(_) => false,
            _ => true,
        }
    }

    fn stage(&self) -> Stage {
        match self.state.phase() {
            SessionPhase::Handshake | SessionPhase::Admission => Stage::Handshake,
            _ => Stage::Session,
        }
    }

    fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }

    fn is_finished(&self) -> bool {
        matches!(self.state, State::Completed(_) | State::Failed(_))
            && self.actions.is_empty()
            && self.due.is_none()
    }

    fn into_output(self) -> Result<SessionOutcome> {
        match self.state {
            State::Completed(outcome) => Ok(*outcome),
            State::Failed(e) => Err(e),
            _ => Err(Error::internal("the session was stopped before it ended")),
        }
    }
}
