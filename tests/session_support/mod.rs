//! Two envelopes with recording performers, for the in-memory envelope tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use blindmatch::audit::{Event, SessionReceipt};
use blindmatch::error::{Error, PolicyRule, Result};
use blindmatch::identity::Fingerprint;
use blindmatch::protocol::{ItemSet, Role};
use blindmatch::session::memory::{run_pair, FrameLog};
use blindmatch::session::{
    BodyInput, Channel, CheckpointEntry, Completion, Effect, Envelope, NoProgress, PeerIdentity,
    Progress, ProtocolChoice, ResumePoint, SenderSource, SessionConfig, SessionMode,
    SessionOutcome, Shard,
};
use blindmatch::transport::framing::{Frame, FrameKind};
use blindmatch::transport::machine::{Action, Input, Machine, Perform};
use ed25519_dalek::SigningKey;

pub const NOW: i64 = 1_800_000_000;

/// One side's performer: admits (or refuses), records every log event, signs with its key.
pub struct Recorder {
    pub key: SigningKey,
    pub events: Mutex<Vec<Event>>,
    pub refusal: Mutex<Option<PolicyRule>>,
    pub admitted: Mutex<usize>,
    pub output_fails: Mutex<bool>,
    /// Every checkpoint entry, in order.
    pub checkpoints: Mutex<Vec<CheckpointEntry>>,
}

impl Recorder {
    pub fn new(seed: u8) -> Self {
        Recorder {
            key: SigningKey::from_bytes(&[seed; 32]),
            events: Mutex::new(Vec::new()),
            refusal: Mutex::new(None),
            admitted: Mutex::new(0),
            output_fails: Mutex::new(false),
            checkpoints: Mutex::new(Vec::new()),
        }
    }

    pub fn refuse(&self, rule: PolicyRule) {
        *self.refusal.lock().unwrap() = Some(rule);
    }

    pub fn fail_output(&self) {
        *self.output_fails.lock().unwrap() = true;
    }

    pub fn admissions(&self) -> usize {
        *self.admitted.lock().unwrap()
    }

    /// The kinds of the logged events, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|e| match e {
                Event::SessionStarted { .. } => "session_started",
                Event::SessionEnded { .. } => "session_ended",
                Event::SessionAborted { .. } => "session_aborted",
                Event::SessionRefused { .. } => "session_refused",
                Event::PeerReceipt { .. } => "peer_receipt",
                Event::HandshakeRefused { .. } => "handshake_refused",
                Event::CertificateRefused { .. } => "certificate_refused",
                Event::LogRecovered { .. } => "log_recovered",
                other => panic!("this test does not know {other:?}"),
            })
            .collect()
    }

    pub fn identity(&self, fp: u8) -> PeerIdentity {
        PeerIdentity {
            fingerprint: Fingerprint([fp; 32]),
            name: format!("Agency {fp}"),
            key: self.key.verifying_key(),
        }
    }
}

impl Perform<Effect, Completion> for Recorder {
    fn perform(&self, effect: Effect) -> Completion {
        match effect {
            Effect::Admit(_) => {
                *self.admitted.lock().unwrap() += 1;
                match *self.refusal.lock().unwrap() {
                    Some(rule) => Completion::Admission(Err(Error::refused(rule, "test"))),
                    None => Completion::Admission(Ok(())),
                }
            }
            Effect::Log(e) => {
                self.events.lock().unwrap().push(e);
                Completion::Logged(Ok(()))
            }
            Effect::SignReceipt(mut body) => {
                body.time = NOW;
                Completion::Signed(SessionReceipt::sign(&body, &self.key))
            }
            Effect::WriteOutput { .. } => {
                if *self.output_fails.lock().unwrap() {
                    Completion::Written(Err(Error::io(
                        "writing the output",
                        std::io::Error::other("disk full"),
                    )))
                } else {
                    Completion::Written(Ok(None))
                }
            }
            Effect::Checkpoint(entry) => {
                self.checkpoints.lock().unwrap().push(entry);
                Completion::Checkpointed(Ok(()))
            }
            _ => unreachable!(),
        }
    }
}

/// An initiator (a) and a responder (b) and what each brings.
pub struct Pair {
    pub a: Recorder,
    pub b: Recorder,
    pub mode: SessionMode,
    pub protocol: ProtocolChoice,
    pub sender: Option<SenderSource>,
    pub allowed: BTreeSet<String>,
    pub b_mode: Option<SessionMode>,
    pub b_policy: Option<[u8; 32]>,
    pub b_kinds: Option<Vec<String>>,
    pub b_exporter: Option<[u8; 32]>,
    pub a_count: Option<u64>,
    pub b_count: Option<u64>,
    /// Both sides' `max_bucket` (log2): small values make small sets run in buckets.
    pub max_bucket_log2: u8,
    /// Both sides' shard, unless `b_shard` gives the responder's.
    pub shard: Shard,
    pub b_shard: Option<Shard>,
    /// Where the initiator's progress goes (nowhere by default).
    pub a_progress: Arc<dyn Progress>,
    /// Both sides keep a checkpoint (their recorders take the entries).
    pub checkpoint: bool,
    /// What each side's checkpoint offers to resume.
    pub a_resume: Option<ResumePoint>,
    pub b_resume: Option<ResumePoint>,
}

impl Pair {
    pub fn new(mode: SessionMode, protocol: ProtocolChoice) -> Self {
        Pair {
            a: Recorder::new(1),
            b: Recorder::new(2),
            mode,
            protocol,
            sender: None,
            allowed: BTreeSet::new(),
            b_mode: None,
            b_policy: None,
            b_kinds: None,
            b_exporter: None,
            a_count: None,
            b_count: None,
            max_bucket_log2: blindmatch::protocol::bucket::DEFAULT_BUCKET_LOG2,
            shard: Shard::WHOLE,
            b_shard: None,
            a_progress: Arc::new(NoProgress),
            checkpoint: false,
            a_resume: None,
            b_resume: None,
        }
    }

    pub fn config(&self, role: Role, items: &ItemSet) -> SessionConfig {
        let b = role == Role::Responder;
        SessionConfig {
            role,
            mode: if b {
                self.b_mode.unwrap_or(self.mode)
            } else {
                self.mode
            },
            protocol: self.protocol,
            oprf_suite: Default::default(),
            chunk_size: 16,
            max_bucket_log2: self.max_bucket_log2,
            shard: match (b, self.b_shard) {
                (true, Some(s)) => s,
                _ => self.shard,
            },
            policy_digest: if b {
                self.b_policy.unwrap_or([7; 32])
            } else {
                [7; 32]
            },
            own_count: match (role, self.a_count, self.b_count) {
                (Role::Initiator, Some(n), _) | (Role::Responder, _, Some(n)) => n,
                _ => items.len() as u64,
            },
            key_kinds: if b {
                self.b_kinds.clone().unwrap_or(vec!["imo_ship".into()])
            } else {
                vec!["imo_ship".into()]
            },
            own_fingerprint: Fingerprint([if b { 0xbb } else { 0xaa }; 32]),
            own_agency: if b { "B".into() } else { "A".into() },
            policy_name: "test".into(),
            output_retention_days: 30,
            checkpoint: self.checkpoint,
            resume: if b {
                self.b_resume.clone()
            } else {
                self.a_resume.clone()
            },
        }
    }

    pub fn envelopes(&self, a: ItemSet, b: ItemSet) -> (Envelope, Envelope) {
        let ea = Envelope::new(
            self.config(Role::Initiator, &a),
            BodyInput {
                items: a,
                sender: None,
                allowed_columns: self.allowed.clone(),
                payload_len: None,
            },
            Channel {
                exporter: [5; 32],
                peer: self.b.identity(0xbb),
            },
            NOW,
            [1; 32],
            self.a_progress.clone(),
        )
        .unwrap();
        let eb = Envelope::new(
            self.config(Role::Responder, &b),
            BodyInput {
                items: b,
                sender: self.sender.clone(),
                allowed_columns: BTreeSet::new(),
                payload_len: None,
            },
            Channel {
                exporter: self.b_exporter.unwrap_or([5; 32]),
                peer: self.a.identity(0xaa),
            },
            NOW,
            [2; 32],
            Arc::new(NoProgress),
        )
        .unwrap();
        (ea, eb)
    }

    pub fn run(
        &self,
        a: ItemSet,
        b: ItemSet,
    ) -> (Result<SessionOutcome>, Result<SessionOutcome>, FrameLog) {
        let (ea, eb) = self.envelopes(a, b);
        run_pair(ea, &self.a, Role::Initiator, eb, &self.b)
    }

    /// Runs the pair in turn, letting `tamper` change every frame in flight.
    pub fn run_with_tamper(
        &self,
        a: ItemSet,
        b: ItemSet,
        tamper: impl FnMut(Role, &mut Frame),
    ) -> (Result<SessionOutcome>, Result<SessionOutcome>, FrameLog) {
        let (ea, eb) = self.envelopes(a, b);
        self.run_envelopes_with_tamper(ea, eb, tamper)
    }

    /// As [`Pair::run_with_tamper`], with envelopes made by [`Pair::envelopes`] (a test may
    /// keep their interrupts, to raise them as a driver would).
    pub fn run_envelopes_with_tamper(
        &self,
        mut ea: Envelope,
        mut eb: Envelope,
        mut tamper: impl FnMut(Role, &mut Frame),
    ) -> (Result<SessionOutcome>, Result<SessionOutcome>, FrameLog) {
        let mut log = FrameLog::new();
        let mut to_a: Vec<Frame> = Vec::new();
        let mut to_b: Vec<Frame> = Vec::new();
        for _ in 0..100_000 {
            let ma = step(
                &mut ea,
                &self.a,
                Role::Initiator,
                &mut to_b,
                &mut to_a,
                &mut tamper,
                &mut log,
            );
            let mb = step(
                &mut eb,
                &self.b,
                Role::Responder,
                &mut to_a,
                &mut to_b,
                &mut tamper,
                &mut log,
            );
            if ea.is_finished() && eb.is_finished() {
                break;
            }
            if !ma && !mb {
                for m in [&mut ea, &mut eb] {
                    if !m.is_finished() {
                        m.handle(Input::Closed);
                    }
                }
            }
        }
        (ea.into_output(), eb.into_output(), log)
    }
}

fn step(
    m: &mut Envelope,
    p: &Recorder,
    role: Role,
    out: &mut Vec<Frame>,
    inbox: &mut Vec<Frame>,
    tamper: &mut impl FnMut(Role, &mut Frame),
    log: &mut FrameLog,
) -> bool {
    let mut moved = false;
    loop {
        while let Some(action) = m.poll() {
            moved = true;
            match action {
                Action::Send(mut f) => {
                    tamper(role, &mut f);
                    log.push((role, f.clone()));
                    out.push(f);
                }
                Action::Perform(e) => m.complete(p.perform(e)),
                Action::Close => {}
                other => panic!("this test does not know {other:?}"),
            }
        }
        if m.wants_input() && !inbox.is_empty() {
            m.handle(Input::Frame(inbox.remove(0)));
            moved = true;
            continue;
        }
        return moved;
    }
}

/// The kinds of the frames `role` sent, in order.
pub fn kinds_from(frames: &FrameLog, role: Role) -> Vec<FrameKind> {
    frames
        .iter()
        .filter(|(r, _)| *r == role)
        .map(|(_, f)| f.kind)
        .collect()
}
